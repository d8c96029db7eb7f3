import { describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../src/shared/chat-api.ts';
import { beaconLinkInArgv, InviteOpener } from '../../src/main/invite-link.ts';

const FP = '3f9a21c477b05e129c0daa431b7f6e20';
const LINK = `beacon://10.0.0.2:4747/#fp=${FP}&code=1234`;
const EVENT = { type: 'openInvite', address: `https://10.0.0.2:4747/#fp=${FP}`, code: '1234' };

function opener() {
  const events: ChatEvent[] = [];
  const logs: string[] = [];
  let focused = 0;
  const invites = new InviteOpener({
    emit: (event) => events.push(event),
    focus: () => focused++,
    log: (line) => logs.push(line),
  });
  return { invites, events, logs, focused: () => focused };
}

describe('the beacon: link on a command line', () => {
  it('is the one argument that starts with beacon:', () => {
    expect(beaconLinkInArgv(['/opt/Beacon/beacon', '--no-sandbox', LINK])).toBe(LINK);
    expect(beaconLinkInArgv(['/opt/Beacon/beacon', 'beacon'])).toBeNull();
    expect(beaconLinkInArgv([])).toBeNull();
  });

  it('two links at once are nobody’s normal doing: neither is taken', () => {
    expect(beaconLinkInArgv(['beacon', LINK, LINK.replace('1234', '9999')])).toBeNull();
  });
});

describe('InviteOpener', () => {
  it('a valid link goes to a listening page at once, and brings the window forward', () => {
    const { invites, events, focused } = opener();
    invites.pageReady();
    expect(invites.open(LINK)).toBe(true);
    expect(events).toEqual([EVENT]);
    expect(focused()).toBe(1);
  });

  it('a link before the page listens is held, then delivered once', () => {
    const { invites, events } = opener();
    invites.open(LINK);
    expect(events).toEqual([]);
    invites.pageReady();
    invites.pageReady();
    expect(events).toEqual([EVENT]);
  });

  it('a page reloading holds links again until it is back', () => {
    const { invites, events } = opener();
    invites.pageReady();
    invites.pageGone();
    invites.open(LINK);
    expect(events).toEqual([]);
    invites.pageReady();
    expect(events).toEqual([EVENT]);
  });

  it('an invalid link does nothing but a log line that does not repeat it', () => {
    const { invites, events, logs, focused } = opener();
    invites.pageReady();
    for (const bad of [`${LINK}&fp=${FP}`, 'javascript:alert(1)', `beacon://10.0.0.2:4747/?fp=${FP}&code=1234`, 42]) {
      expect(invites.open(bad)).toBe(false);
    }
    expect(events).toEqual([]);
    expect(focused()).toBe(0);
    expect(logs).toHaveLength(3);
    expect(logs.join('\n')).not.toMatch(/1234|10\.0\.0\.2|3f9a/);
  });
});
