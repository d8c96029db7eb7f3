/**
 * ProfileState: what Beacon remembers about this person from one room to the
 * next (name, recent rooms, notification preferences) and what this window
 * can do (host, notify).
 */
import { describe, expect, it } from 'vitest';
import { ProfileState } from '../../src/renderer/src/state/profile.svelte.ts';
import { createFakeChatApi } from '../harness/fake-chat-api.ts';

const design = { address: '10.0.0.5:4747', roomName: 'Design', code: '1', name: 'Me', lastJoined: 5 };
const lab = { address: '10.0.0.6:4747', roomName: 'Lab', code: '2', name: 'Me', lastJoined: 9 };

describe('profile', () => {
  it('says what this window can do', () => {
    const desktop = new ProfileState(createFakeChatApi({ capabilities: { host: true, notifications: true } }));
    expect([desktop.canHost, desktop.canNotify]).toEqual([true, true]);
    const page = new ProfileState(createFakeChatApi({ capabilities: { host: false, notifications: false } }));
    expect([page.canHost, page.canNotify]).toEqual([false, false]);
  });

  it('takes name, rooms and preferences from the snapshot, and name and rooms again after leaving', () => {
    const profile = new ProfileState(createFakeChatApi());
    profile.loaded({
      displayName: 'Me',
      recentRooms: [design],
      preferences: { notifyDirect: false, notifyMentions: true },
    });
    expect(profile.displayName).toBe('Me');
    expect(profile.recentRooms).toEqual([design]);
    expect(profile.preferences).toEqual({ notifyDirect: false, notifyMentions: true });

    profile.backAtStart({ recentRooms: [lab, design], displayName: 'Me too' });
    expect(profile.recentRooms).toEqual([lab, design]);
    expect(profile.displayName).toBe('Me too');
    expect(profile.preferences).toEqual({ notifyDirect: false, notifyMentions: true });
  });

  it('changes one preference, keeps the other, and saves both', () => {
    const api = createFakeChatApi();
    const profile = new ProfileState(api);
    profile.setPreferences({ notifyMentions: false });
    expect(profile.preferences).toEqual({ notifyDirect: true, notifyMentions: false });
    profile.setPreferences({ notifyDirect: false });
    expect(api.callsTo('setPreferences')).toEqual([
      { notifyDirect: true, notifyMentions: false },
      { notifyDirect: false, notifyMentions: false },
    ]);
  });
});
