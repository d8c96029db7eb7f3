/**
 * A newcomer's welcome carries the latest page of history (issue 16 made the host read it once per
 * change of the history and share it among brand-new identities, who have no direct messages yet).
 * What a person joining sees must still be the room as it is at that moment, and as their client
 * understands it: a message sent between two joins is in the second welcome, a channel's message only
 * for a client that knows channels, and nobody's direct messages for anyone else.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomServer } from '../../src/host/room-server.ts';
import type { HostFrame } from '../../src/shared/protocol.ts';
import { cleanup, RawPeer, startRoom } from '../helpers/room.ts';

afterEach(cleanup);

type Welcome = Extract<HostFrame, { type: 'welcome' }>;

async function join(server: RoomServer, name: string, features: string[]): Promise<{ raw: RawPeer; welcome: Welcome }> {
  const raw = new RawPeer(server);
  await raw.opened();
  raw.send({ type: 'hello', v: 1, name, code: '1234', features });
  return { raw, welcome: (await raw.frame('welcome')) as Welcome };
}

const texts = (welcome: Welcome): string[] => welcome.history.map((message) => message.text);

describe('what a newcomer sees on joining', () => {
  it('each newcomer sees the messages sent before they joined, including those sent since the previous newcomer', async () => {
    const server = await startRoom({ code: '1234' });
    const ann = await join(server, 'Ann', ['channels']);
    ann.raw.send({ type: 'send', clientId: 'c1', text: 'first' });
    await ann.raw.frame('ack');
    const bob = await join(server, 'Bob', ['channels']);
    expect(texts(bob.welcome)).toEqual(['first']);
    ann.raw.send({ type: 'send', clientId: 'c2', text: 'second' });
    await ann.raw.frame('ack', (frame) => frame.clientId === 'c2');
    const cy = await join(server, 'Cy', ['channels']);
    expect(texts(cy.welcome)).toEqual(['first', 'second']);
    // An edit is history changing too: the next newcomer sees the edited text.
    ann.raw.send({ type: 'edit', ref: 'e1', target: cy.welcome.history[1]!.seq, text: 'second, edited' });
    await ann.raw.frame('done');
    const dee = await join(server, 'Dee', ['channels']);
    expect(texts(dee.welcome)).toEqual(['first', 'second, edited']);
  });

  it("a channel's message is in the welcome of a newcomer who knows channels, not of an older client's", async () => {
    const server = await startRoom({ code: '1234' });
    const ann = await join(server, 'Ann', ['channels']);
    ann.raw.send({ type: 'channel', ref: 'ch', op: 'create', name: 'design' });
    const done = (await ann.raw.frame('done')) as Extract<HostFrame, { type: 'done' }>;
    ann.raw.send({ type: 'send', clientId: 'c1', text: 'in the room' });
    await ann.raw.frame('ack', (frame) => frame.clientId === 'c1');
    ann.raw.send({ type: 'send', clientId: 'c2', text: 'in design', channel: done.channel!.id });
    await ann.raw.frame('ack', (frame) => frame.clientId === 'c2');
    // Alternating, so whichever page was read first would be handed to the other kind of client.
    expect(texts((await join(server, 'Old', [])).welcome)).toEqual(['in the room']);
    expect(texts((await join(server, 'New', ['channels'])).welcome)).toEqual(['in the room', 'in design']);
    expect(texts((await join(server, 'Old two', [])).welcome)).toEqual(['in the room']);
  });

  it("a newcomer's welcome never holds someone else's direct messages", async () => {
    const server = await startRoom({ code: '1234' });
    const ann = await join(server, 'Ann', ['channels']);
    const bob = await join(server, 'Bob', ['channels']);
    ann.raw.send({ type: 'send', clientId: 'c1', text: 'for Bob only', to: bob.welcome.you.id });
    await ann.raw.frame('ack');
    // The page a newcomer is handed is the room's, whoever asked for it before.
    const eve = await join(server, 'Eve', ['channels']);
    expect(texts(eve.welcome)).toEqual([]);
  });
});
