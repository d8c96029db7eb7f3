/**
 * The desktop app's v1.5 commands (DesktopChat, no Electron), as two people with two apps: one
 * hosts, the other joins by the invite. The commands reach the host through the shared ChatFeed and
 * come back as events; a reloaded window (getState) finds the channels.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DesktopChat } from '../../src/main/desktop-chat.ts';
import { SettingsFile } from '../../src/main/settings.ts';
import type { ChatEvent } from '../../src/shared/chat-api.ts';
import type { ChatMessage, Update } from '../../src/shared/protocol.ts';
import { cleanup, tempDir } from '../helpers/room.ts';

const sessions: DesktopChat[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.shutdown();
  await cleanup();
});

function app() {
  const dir = tempDir();
  const events: ChatEvent[] = [];
  const session = new DesktopChat({
    settings: new SettingsFile(join(dir, 'settings.json')),
    roomsDir: join(dir, 'rooms'),
    emit: (event) => events.push(event),
    hostBind: '127.0.0.1',
    discovery: false,
  });
  sessions.push(session);
  const messages = (): ChatMessage[] => events.flatMap((e) => (e.type === 'messages' ? e.messages : []));
  const updates = (): Update[] => events.flatMap((e) => (e.type === 'updates' ? e.updates : []));
  return { session, events, messages, updates };
}

describe('conversations in the desktop app', () => {
  it('a channel, a reply with a mention, a reaction, an edit and a search go through the app’s commands', async () => {
    const hana = app();
    const hosted = await hana.session.host({ roomName: 'Design', name: 'Hana', port: 0, code: '1234' });
    if (!hosted.ok) throw new Error(hosted.error.message);
    const bob = app();
    expect(await bob.session.join({ address: hosted.value.invite!, name: 'Bob', code: '1234' })).toEqual({
      ok: true,
      value: null,
    });
    // The one hosting sits at the host's machine: she may manage every channel.
    const hanaState = await hana.session.getState();
    expect(hanaState.ok && hanaState.value.room).toMatchObject({ isHost: true, canCreateChannels: true });

    const made = await hana.session.createChannel({ name: 'mockups', topic: 'for Friday' });
    if (!made.ok) throw new Error(made.error.message);
    const channel = made.value.id;
    await expect
      .poll(async () => {
        const state = await bob.session.getState();
        return state.ok && state.value.room?.channels?.map((c) => c.name);
      })
      .toEqual(['general', 'mockups']);

    expect((await hana.session.send({ conversation: channel, text: 'first draft is up' })).ok).toBe(true);
    await expect.poll(() => bob.messages().map((m) => m.text)).toContain('first draft is up');
    const draft = bob.messages().find((m) => m.text === 'first draft is up')!;
    expect(draft.channel).toBe(channel);

    const hanaId = hanaState.ok ? hanaState.value.room!.you.id : '';
    const reply = await bob.session.send({
      conversation: channel,
      text: '@Hana looks good',
      replyTo: draft.seq,
      mentions: [hanaId],
    });
    expect(reply.ok).toBe(true);
    await expect.poll(() => hana.messages().map((m) => m.text)).toContain('@Hana looks good');
    const got = hana.messages().find((m) => m.text === '@Hana looks good')!;
    expect(got).toMatchObject({
      channel,
      mentions: [hanaId],
      replyTo: { seq: draft.seq, from: hanaId, text: 'first draft is up' },
    });

    expect(await hana.session.react({ seq: got.seq, emoji: '🙏', on: true })).toEqual({ ok: true, value: null });
    expect(await hana.session.edit({ seq: draft.seq, text: 'second draft is up' })).toEqual({ ok: true, value: null });
    await expect.poll(() => bob.updates().map((u) => u.kind)).toEqual(['channel', 'react', 'edit']);

    const found = await bob.session.search({ query: 'second draft' });
    expect(found.ok && found.value.hits.map((h) => h.message.seq)).toEqual([draft.seq]);
    expect(await bob.session.loadAround({ conversation: channel, seq: draft.seq })).toEqual({ ok: true, value: null });
    await expect.poll(() => bob.events.some((e) => e.type === 'history' && e.conversation === channel)).toBe(true);

    expect(await hana.session.archiveChannel({ id: channel, archived: true })).toMatchObject({
      ok: true,
      value: { archived: true },
    });
    await expect.poll(async () => (await bob.session.send({ conversation: channel, text: 'late' })).ok).toBe(false);
    expect(await bob.session.send({ conversation: channel, text: 'late' })).toMatchObject({
      ok: false,
      error: { code: 'BEACON_ERR_CHANNEL_ARCHIVED' },
    });
  });
});
