import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CHANNEL } from '../../src/shared/protocol.ts';
import { cleanup, startRoom } from '../helpers/room.ts';
import { ask, member, messagesOf, page, say, updatesOf } from './conversations-peers.ts';

afterEach(cleanup);

describe('channels', () => {
  it('a member creates a channel; everyone who knows channels sees it at once and in the next welcome', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    expect(ann.welcome.channels?.map((c) => c.id)).toEqual([DEFAULT_CHANNEL]);
    expect(ann.welcome.channelCreators).toBe('everyone');
    expect(ann.welcome.features).toEqual(
      expect.arrayContaining(['channels', 'edits', 'reactions', 'replies', 'mentions']),
    );

    const done = await ask(ann.peer, { type: 'channel', op: 'create', name: '  release ', topic: "Friday's build" });
    expect(done.type).toBe('done');
    const channel = done.type === 'done' ? done.channel! : null;
    expect(channel).toMatchObject({ name: 'release', topic: "Friday's build", createdBy: ann.id, archived: false });
    expect(channel!.id).toMatch(/^c_[0-9a-z]{16}$/);
    await expect.poll(() => updatesOf(bob.peer).map((u) => u.kind)).toEqual(['channel']);
    expect(updatesOf(bob.peer)[0]).toMatchObject({
      kind: 'channel',
      by: ann.id,
      seq: done.type === 'done' ? done.seq : -1,
      channel,
    });

    const cat = await member(server, 'Cat');
    expect(cat.welcome.channels?.map((c) => c.name)).toEqual(['general', 'release']);
  });

  it('a name that only looks different (case, Cyrillic, fullwidth, invisible) is taken', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    expect((await ask(ann.peer, { type: 'channel', op: 'create', name: 'release' })).type).toBe('done');
    for (const name of ['Release', 'RELEASE', 'rеlеаsе' /* Cyrillic е, а */, 'ｒｅｌｅａｓｅ', 'General']) {
      const refused = await ask(ann.peer, { type: 'channel', op: 'create', name });
      expect(refused, name).toMatchObject({ type: 'error', code: 'BEACON_ERR_CHANNEL_NAME_TAKEN' });
    }
    for (const name of ['rel\u200Bease', 're\u202Elease', '   ', 'x'.repeat(41)]) {
      const refused = await ask(ann.peer, { type: 'channel', op: 'create', name });
      expect(refused, JSON.stringify(name)).toMatchObject({ type: 'error', code: 'BEACON_ERR_MALFORMED' });
    }
  });

  it('only the creator or the host renames or archives a channel; nobody archives the default one', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const host = await member(server, 'Host', { elsewhere: false });
    const created = await ask(ann.peer, { type: 'channel', op: 'create', name: 'design' });
    const id = created.type === 'done' ? created.channel!.id : '';

    expect(await ask(bob.peer, { type: 'channel', op: 'update', id, name: 'mine now' })).toMatchObject({
      type: 'error',
      code: 'BEACON_ERR_NOT_ALLOWED',
    });
    expect(await ask(bob.peer, { type: 'channel', op: 'archive', id, archived: true })).toMatchObject({
      code: 'BEACON_ERR_NOT_ALLOWED',
    });
    expect(await ask(bob.peer, { type: 'channel', op: 'update', id: DEFAULT_CHANNEL, name: 'lobby' })).toMatchObject({
      code: 'BEACON_ERR_NOT_ALLOWED',
    });
    expect(await ask(bob.peer, { type: 'channel', op: 'update', id: 'c_0000000000000000', topic: 'x' })).toMatchObject({
      code: 'BEACON_ERR_NO_SUCH_CHANNEL',
    });

    const renamed = await ask(ann.peer, { type: 'channel', op: 'update', id, name: 'Design', topic: 'pixels' });
    expect(renamed).toMatchObject({ type: 'done', channel: { id, name: 'Design', topic: 'pixels' } });
    const archived = await ask(host.peer, { type: 'channel', op: 'archive', id, archived: true });
    expect(archived).toMatchObject({ type: 'done', channel: { id, archived: true } });
    expect(await ask(host.peer, { type: 'channel', op: 'update', id: DEFAULT_CHANNEL, name: 'lobby' })).toMatchObject({
      type: 'done',
      channel: { id: DEFAULT_CHANNEL, name: 'lobby' },
    });
    expect(await ask(host.peer, { type: 'channel', op: 'archive', id: DEFAULT_CHANNEL, archived: true })).toMatchObject(
      {
        code: 'BEACON_ERR_NOT_ALLOWED',
      },
    );
    await expect
      .poll(() =>
        updatesOf(bob.peer).map((u) => (u.kind === 'channel' ? `${u.channel.name}:${u.channel.archived}` : u.kind)),
      )
      .toEqual(['design:false', 'Design:false', 'Design:true', 'lobby:false']);
  });

  it('an archived channel keeps its history and refuses new messages, replies, edits and reactions', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const created = await ask(ann.peer, { type: 'channel', op: 'create', name: 'old' });
    const id = created.type === 'done' ? created.channel!.id : '';
    const seq = await say(ann.peer, 'before the archive', { channel: id });
    await ask(ann.peer, { type: 'channel', op: 'archive', id, archived: true });
    await expect(say(ann.peer, 'after', { channel: id })).rejects.toThrow('BEACON_ERR_CHANNEL_ARCHIVED');
    await expect(say(ann.peer, 'a reply', { channel: id, replyTo: seq })).rejects.toThrow(
      'BEACON_ERR_CHANNEL_ARCHIVED',
    );
    expect(await ask(ann.peer, { type: 'edit', target: seq, text: 'changed' })).toMatchObject({
      code: 'BEACON_ERR_CHANNEL_ARCHIVED',
    });
    expect(await ask(ann.peer, { type: 'react', target: seq, emoji: '👍', on: true })).toMatchObject({
      code: 'BEACON_ERR_CHANNEL_ARCHIVED',
    });
    expect((await page(ann.peer, { conversation: id })).messages.map((m) => m.text)).toEqual(['before the archive']);
    // Its author may still take the words back.
    expect(await ask(ann.peer, { type: 'delete', target: seq })).toMatchObject({ type: 'done' });
    await ask(ann.peer, { type: 'channel', op: 'archive', id, archived: false });
    expect(await say(ann.peer, 'open again', { channel: id })).toBeGreaterThan(seq);
  });

  it('with --channels-by host only someone at the host machine creates channels; the cap holds', async () => {
    const server = await startRoom({ channelCreators: 'host', limits: { maxChannels: 2 } });
    const ann = await member(server, 'Ann');
    const host = await member(server, 'Host', { elsewhere: false });
    expect(ann.welcome.channelCreators).toBe('host');
    expect(await ask(ann.peer, { type: 'channel', op: 'create', name: 'mine' })).toMatchObject({
      code: 'BEACON_ERR_NOT_ALLOWED',
    });
    expect(await ask(host.peer, { type: 'channel', op: 'create', name: 'one' })).toMatchObject({ type: 'done' });
    expect(await ask(host.peer, { type: 'channel', op: 'create', name: 'two' })).toMatchObject({ type: 'done' });
    expect(await ask(host.peer, { type: 'channel', op: 'create', name: 'three' })).toMatchObject({
      code: 'BEACON_ERR_TOO_MANY_CHANNELS',
    });
  });

  it('one member alone cannot use up the room’s channels; the host still can make more', async () => {
    const server = await startRoom({ limits: { maxChannels: 5, maxChannelsPerMember: 2 } });
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const host = await member(server, 'Host', { elsewhere: false });
    expect(await ask(ann.peer, { type: 'channel', op: 'create', name: 'a1' })).toMatchObject({ type: 'done' });
    const second = await ask(ann.peer, { type: 'channel', op: 'create', name: 'a2' });
    expect(second).toMatchObject({ type: 'done' });
    // Archiving does not give the slot back: nothing deletes a channel.
    await ask(ann.peer, {
      type: 'channel',
      op: 'archive',
      id: second.type === 'done' ? second.channel!.id : '',
      archived: true,
    });
    expect(await ask(ann.peer, { type: 'channel', op: 'create', name: 'a3' })).toMatchObject({
      code: 'BEACON_ERR_TOO_MANY_CHANNELS',
    });
    expect(await ask(bob.peer, { type: 'channel', op: 'create', name: 'b1' })).toMatchObject({ type: 'done' });
    expect(await ask(host.peer, { type: 'channel', op: 'create', name: 'h1' })).toMatchObject({ type: 'done' });
    expect(await ask(host.peer, { type: 'channel', op: 'create', name: 'h2' })).toMatchObject({ type: 'done' });
  });

  it('a message and typing in a channel reach members who know channels, never a v1.4 client', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const old = await member(server, 'Old', { channels: false });
    expect(old.welcome.channels).toBeUndefined();
    const created = await ask(ann.peer, { type: 'channel', op: 'create', name: 'side' });
    const id = created.type === 'done' ? created.channel!.id : '';
    ann.peer.send({ type: 'typing', channel: id });
    const inChannel = await say(ann.peer, 'in the side channel', { channel: id });
    await ask(ann.peer, { type: 'react', target: inChannel, emoji: '🎉', on: true });
    await ask(ann.peer, { type: 'edit', target: inChannel, text: 'in the side channel (edited)' });
    ann.peer.send({ type: 'typing' });
    await say(ann.peer, 'in general');
    await expect.poll(() => messagesOf(old.peer).map((m) => m.text)).toEqual(['in general']);
    await expect.poll(() => messagesOf(bob.peer).map((m) => m.text)).toEqual(['in the side channel', 'in general']);
    expect(messagesOf(bob.peer)[0]!.channel).toBe(id);
    expect(messagesOf(bob.peer)[1]!.channel).toBeUndefined();
    expect(updatesOf(old.peer)).toEqual([]);
    expect(updatesOf(bob.peer).map((u) => u.kind)).toEqual(['channel', 'react', 'edit']);
    const typing = (peer: typeof bob.peer) => peer.frames.filter((f) => f.type === 'typing');
    expect(typing(old.peer)).toEqual([{ type: 'typing', from: ann.id, to: null }]);
    expect(typing(bob.peer)).toEqual([
      { type: 'typing', from: ann.id, to: null, channel: id },
      { type: 'typing', from: ann.id, to: null },
    ]);

    // Pages too: the old client's "everything" and its guess of the channel hold nothing of it.
    expect((await page(old.peer, {})).messages.map((m) => m.text)).toEqual(['in general']);
    expect((await page(old.peer, { conversation: id })).messages).toEqual([]);
    expect((await page(bob.peer, { conversation: id })).messages.map((m) => m.text)).toEqual([
      'in the side channel (edited)',
    ]);
    // Nor can it touch a message of a channel it cannot see, whatever seq it guesses.
    expect(await ask(old.peer, { type: 'react', target: inChannel, emoji: '👍', on: true })).toMatchObject({
      code: 'BEACON_ERR_NO_SUCH_MESSAGE',
    });
    const late = await member(server, 'Late', { channels: false });
    expect(late.welcome.history.map((m) => m.text)).toEqual(['in general']);
  });

  it('a send to a channel that does not exist, or with both a channel and a recipient, is refused with its clientId', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    await expect(say(ann.peer, 'x', { channel: 'c_0123456789abcdef' })).rejects.toThrow('BEACON_ERR_NO_SUCH_CHANNEL');
    await expect(say(ann.peer, 'x', { channel: 'room', to: bob.id })).rejects.toThrow('BEACON_ERR_MALFORMED');
    // "room" is the default channel, the same as no channel at all.
    await say(ann.peer, 'to general', { channel: 'room' });
    await expect.poll(() => messagesOf(bob.peer)).toEqual([expect.objectContaining({ text: 'to general' })]);
    expect(messagesOf(bob.peer)[0]!.channel).toBeUndefined();
  });
});
