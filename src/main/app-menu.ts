/**
 * The application menu: Electron's standard menus (editing shortcuts, reload, window) with
 * "Open logs folder" under Help, where someone asked for a log will look.
 */
import { Menu, type MenuItemConstructorOptions } from 'electron';

export function setAppMenu(openLogsFolder: () => void): void {
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' } as const] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ label: 'Open logs folder', click: openLogsFolder }] },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
