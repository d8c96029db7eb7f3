/**
 * The tray (menu bar) icon while this app hosts a room: Electron's Tray and Menu, nothing decided
 * here. The menu's items and their order come from hosting-policy.ts; what each does, from index.ts.
 */
import { Menu, type MenuItemConstructorOptions, nativeImage, Tray } from 'electron';
import trayIcon from '../../build/tray.png?inline';
import trayIcon2x from '../../build/tray@2x.png?inline';
import { type HostedRoom, type TrayAction, trayMenu, trayTooltip } from './hosting-policy.ts';

export class HostingTray {
  readonly #actions: Record<TrayAction, () => void>;
  #tray: Tray | null = null;

  constructor(actions: Record<TrayAction, () => void>) {
    this.#actions = actions;
  }

  /** Shows the icon (once) with the room as it is now; called again whenever it changes. */
  show(room: HostedRoom): void {
    if (!this.#tray || this.#tray.isDestroyed()) {
      const icon = nativeImage.createFromDataURL(trayIcon);
      icon.addRepresentation({ scaleFactor: 2, dataURL: trayIcon2x });
      this.#tray = new Tray(icon);
      // Windows: a click on the icon opens the window (the menu is on the right button).
      this.#tray.on('click', () => this.#actions.open());
    }
    this.#tray.setToolTip(trayTooltip(room));
    const template = trayMenu(room).map((item): MenuItemConstructorOptions => {
      if (item.kind === 'separator') return { type: 'separator' };
      if (item.kind === 'label') return { label: item.label, enabled: false };
      return { label: item.label, enabled: item.enabled, click: () => this.#actions[item.action]() };
    });
    this.#tray.setContextMenu(Menu.buildFromTemplate(template));
  }

  hide(): void {
    this.#tray?.destroy();
    this.#tray = null;
  }
}
