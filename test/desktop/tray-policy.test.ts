/** The decisions behind the tray, the close button and quitting while hosting (src/main/hosting-policy.ts). */
import { describe, expect, it } from 'vitest';
import {
  closeAction,
  closeChoice,
  CLOSE_DIALOG,
  othersInRoom,
  QUIT_DIALOG,
  quitNeedsConfirmation,
  trayMenu,
} from '../../src/main/hosting-policy.ts';

describe('closing the window', () => {
  it('closes as always when not hosting, or when quitting anyway', () => {
    for (const remembered of [undefined, 'keep', 'stop'] as const) {
      expect(closeAction({ hosting: false, quitting: false, remembered })).toBe('close');
      expect(closeAction({ hosting: true, quitting: true, remembered })).toBe('close');
    }
  });

  it('while hosting: asks the first time, then does what the person chose', () => {
    expect(closeAction({ hosting: true, quitting: false, remembered: undefined })).toBe('ask');
    expect(closeAction({ hosting: true, quitting: false, remembered: 'keep' })).toBe('hide');
    expect(closeAction({ hosting: true, quitting: false, remembered: 'stop' })).toBe('stop');
  });

  it('the dialog’s buttons map to the choices; Escape and the unexpected keep the room', () => {
    expect(CLOSE_DIALOG.buttons.map((_, i) => closeChoice(i))).toEqual(['keep', 'stop']);
    expect(closeChoice(CLOSE_DIALOG.cancelId)).toBe('keep');
    expect(closeChoice(7)).toBe('keep');
    expect(closeChoice(-1)).toBe('keep');
  });
});

describe('quitting', () => {
  it('asks only when hosting with someone else in the room', () => {
    expect(quitNeedsConfirmation({ hosting: false, othersInRoom: 3 })).toBe(false);
    expect(quitNeedsConfirmation({ hosting: true, othersInRoom: 0 })).toBe(false);
    expect(quitNeedsConfirmation({ hosting: true, othersInRoom: 1 })).toBe(true);
  });

  it('counts others without the host, never below none', () => {
    expect(othersInRoom(0)).toBe(0);
    expect(othersInRoom(1)).toBe(0);
    expect(othersInRoom(4)).toBe(3);
  });

  it('says how many it would cut off; Cancel is the default', () => {
    expect(QUIT_DIALOG.message(1)).toMatch(/^One person is/);
    expect(QUIT_DIALOG.message(3)).toMatch(/^3 people are/);
    expect(QUIT_DIALOG.buttons[QUIT_DIALOG.cancelId]).toBe('Cancel');
  });
});

describe('the tray menu', () => {
  it('shows the room and its members, then what can be done', () => {
    const items = trayMenu({ roomName: 'Ops', members: 1, invite: 'https://10.0.0.2:4747/#fp=ab' });
    expect(items.slice(0, 2)).toEqual([
      { kind: 'label', label: 'Ops' },
      { kind: 'label', label: '1 member' },
    ]);
    const actions = items.flatMap((item) => (item.kind === 'action' ? [[item.label, item.action, item.enabled]] : []));
    expect(actions).toEqual([
      ['Copy invite', 'copyInvite', true],
      ['Open Beacon', 'open', true],
      ['Open logs folder', 'openLogs', true],
      ['Stop hosting', 'stopHosting', true],
      ['Quit Beacon', 'quit', true],
    ]);
  });

  it('says “members” for more than one, and greys out Copy invite when there is none', () => {
    const items = trayMenu({ roomName: 'Ops', members: 5, invite: null });
    expect(items[1]).toEqual({ kind: 'label', label: '5 members' });
    expect(items.find((item) => item.kind === 'action' && item.action === 'copyInvite')).toMatchObject({
      enabled: false,
    });
  });
});
