/**
 * What the shell does with the window, the tray and quitting while this app hosts a room: pure
 * decisions, tested in Node. index.ts asks them and hosting-tray.ts carries them out with Electron.
 */

/** The person's answer to "close the window while hosting?", kept in settings (undefined until they answer). */
export type CloseWhileHosting = 'keep' | 'stop';

/**
 * What closing the window does:
 * - `close`: as always (not hosting, or the app is quitting anyway);
 * - `hide`: the room goes on, the window goes to the tray;
 * - `ask`: the first time while hosting, the dialog decides (see closeChoice);
 * - `stop`: the person chose to stop hosting when the window closes.
 */
export type CloseAction = 'close' | 'hide' | 'ask' | 'stop';

export function closeAction(state: {
  hosting: boolean;
  quitting: boolean;
  remembered: CloseWhileHosting | undefined;
}): CloseAction {
  if (state.quitting || !state.hosting) return 'close';
  if (state.remembered === 'keep') return 'hide';
  if (state.remembered === 'stop') return 'stop';
  return 'ask';
}

/** The first-time dialog: its buttons in order, and the choice each one means. */
export const CLOSE_DIALOG = {
  title: 'Keep hosting?',
  buttons: ['Keep hosting in the tray', 'Stop hosting and close'] as const,
  choices: ['keep', 'stop'] as const,
  /** Escape or closing the dialog: the room stays (the cautious answer for everyone in it). */
  cancelId: 0,
  message: (roomName: string) => `“${roomName}” keeps running after the window closes.`,
  detail:
    'People in the room can go on talking. Beacon stays in the tray (menu bar): open it from there, stop hosting or quit. ' +
    'This choice is remembered.',
};

/** The dialog's answer as a setting; anything unexpected keeps the room. */
export function closeChoice(response: number): CloseWhileHosting {
  return CLOSE_DIALOG.choices[response] ?? 'keep';
}

/** Quitting asks first only when it would end the room for someone else. */
export function quitNeedsConfirmation(state: { hosting: boolean; othersInRoom: number }): boolean {
  return state.hosting && state.othersInRoom > 0;
}

export const QUIT_DIALOG = {
  title: 'Quit Beacon?',
  buttons: ['Quit and stop hosting', 'Cancel'] as const,
  quitId: 0,
  cancelId: 1,
  message: (others: number) =>
    `${others === 1 ? 'One person is' : `${others} people are`} in the room you host. Quitting ends it for them.`,
};

/** People in the room besides the host (whose own member is in the list while hosting). */
export function othersInRoom(members: number): number {
  return Math.max(0, members - 1);
}

/** What each tray menu item does, carried out by the adapter. */
export type TrayAction = 'copyInvite' | 'open' | 'openLogs' | 'stopHosting' | 'quit';

export type TrayItem =
  | { kind: 'label'; label: string }
  | { kind: 'separator' }
  | { kind: 'action'; label: string; action: TrayAction; enabled: boolean };

export interface HostedRoom {
  roomName: string;
  /** Everyone connected, the host included. */
  members: number;
  invite: string | null;
}

/** The tray's menu while hosting, top to bottom. */
export function trayMenu(room: HostedRoom): TrayItem[] {
  return [
    { kind: 'label', label: room.roomName },
    { kind: 'label', label: room.members === 1 ? '1 member' : `${room.members} members` },
    { kind: 'separator' },
    { kind: 'action', label: 'Copy invite', action: 'copyInvite', enabled: room.invite !== null },
    { kind: 'action', label: 'Open Beacon', action: 'open', enabled: true },
    { kind: 'action', label: 'Open logs folder', action: 'openLogs', enabled: true },
    { kind: 'separator' },
    { kind: 'action', label: 'Stop hosting', action: 'stopHosting', enabled: true },
    { kind: 'action', label: 'Quit Beacon', action: 'quit', enabled: true },
  ];
}

/** The tray icon's tooltip. */
export function trayTooltip(room: HostedRoom): string {
  return `Beacon: hosting “${room.roomName}” (${room.members === 1 ? '1 member' : `${room.members} members`})`;
}
