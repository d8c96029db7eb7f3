/**
 * Raw peers for the v1.5 conversation tests: a client that says it understands channels (or, like
 * a v1.4 client, does not), and the answer to a request by its ref.
 */
import type { RoomServer } from '../../src/host/room-server.ts';
import type { ChatMessage, HostFrame, Update } from '../../src/shared/protocol.ts';
import { RawPeer } from '../helpers/room.ts';

export type Welcome = Extract<HostFrame, { type: 'welcome' }>;
export type Answer = Extract<HostFrame, { type: 'done' }> | Extract<HostFrame, { type: 'error' }>;

/** Another loopback address than the host's own 127.0.0.1: a member on another machine of the LAN. */
export const ELSEWHERE = '127.0.0.2';

export interface Joined {
  peer: RawPeer;
  welcome: Welcome;
  id: string;
}

/**
 * A member over a raw socket. `channels` (default true) says `features: ["channels"]`; `elsewhere`
 * connects from 127.0.0.2, not the host's own machine; `resume` comes back as an earlier identity.
 */
export async function member(
  server: RoomServer | number,
  name: string,
  options: { channels?: boolean; elsewhere?: boolean; resume?: { token: string; lastSeq: number } } = {},
): Promise<Joined> {
  const peer = new RawPeer(server, options.elsewhere === false ? {} : { localAddress: ELSEWHERE });
  await peer.opened();
  peer.send({
    type: 'hello',
    v: 1,
    name,
    code: '1234',
    ...((options.channels ?? true) ? { features: ['channels'] } : {}),
    ...(options.resume ? { resume: options.resume } : {}),
  });
  const welcome = await peer.frame('welcome');
  return { peer, welcome, id: welcome.you.id };
}

/** The host's answer (done or error) to the request with `ref`. */
export async function answer(peer: RawPeer, ref: string, timeoutMs = 10_000): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = peer.frames.find(
      (frame): frame is Answer => (frame.type === 'done' || frame.type === 'error') && frame.ref === ref,
    );
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no answer to ${ref} within ${timeoutMs} ms`);
    // Any next frame wakes the wait; the frame itself may be another one.
    await peer.frame('pong', () => false, 20).catch(() => {});
  }
}

let refs = 0;
/** Sends a request with a fresh ref and resolves with the host's answer. */
export async function ask(peer: RawPeer, frame: Record<string, unknown>): Promise<Answer> {
  const ref = `r${++refs}`;
  peer.send({ ...frame, ref });
  return answer(peer, ref);
}

/** Sends a message and resolves with its ack's seq (or throws the error the host answered). */
export async function say(peer: RawPeer, text: string, fields: Record<string, unknown> = {}): Promise<number> {
  const clientId = `c${++refs}`;
  peer.send({ type: 'send', clientId, text, ...fields });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ack = peer.frames.find((frame) => frame.type === 'ack' && frame.clientId === clientId);
    if (ack && ack.type === 'ack') return ack.seq;
    const error = peer.frames.find((frame) => frame.type === 'error' && frame.ref === clientId);
    if (error && error.type === 'error') throw new Error(error.code);
    if (Date.now() > deadline) throw new Error(`no ack for ${clientId}`);
    await peer.frame('pong', () => false, 20).catch(() => {});
  }
}

/** Every update this peer received live, in order. */
export const updatesOf = (peer: RawPeer): Update[] =>
  peer.frames.flatMap((frame) => (frame.type === 'update' ? [frame.update] : []));

/** Every message this peer received live, in order. */
export const messagesOf = (peer: RawPeer): ChatMessage[] =>
  peer.frames.flatMap((frame) => (frame.type === 'message' ? [frame.message] : []));

/** A history page asked for now (a fresh `history` request), as the host answers it. */
export async function page(
  peer: RawPeer,
  request: Record<string, unknown>,
): Promise<Extract<HostFrame, { type: 'history' }>> {
  const before = peer.frames.length;
  peer.send({ type: 'history', ...request });
  return peer.frame('history', (frame) => peer.frames.indexOf(frame) >= before);
}

/** A search asked for now, as the host answers it. */
export async function search(
  peer: RawPeer,
  request: Record<string, unknown>,
): Promise<Extract<HostFrame, { type: 'searchResults' }> | Extract<HostFrame, { type: 'error' }>> {
  const ref = `s${++refs}`;
  peer.send({ type: 'search', ref, ...request });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = peer.frames.find(
      (frame) => (frame.type === 'searchResults' || frame.type === 'error') && frame.ref === ref,
    );
    if (found && (found.type === 'searchResults' || found.type === 'error')) return found;
    if (Date.now() > deadline) throw new Error(`no answer to search ${ref}`);
    await peer.frame('pong', () => false, 20).catch(() => {});
  }
}
