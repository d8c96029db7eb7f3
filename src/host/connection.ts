/**
 * A WebSocket connection as the host holds it, and the two ways the host
 * answers one: an error frame, or a refusal that ends it. The close code of a
 * refusal comes from the error table, never from the call site.
 */
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { closeCodeOf, type ErrorCode, errorMessage } from '../shared/errors.ts';
import { encode } from '../shared/protocol.ts';
import { isHostsOwnAddress } from './connection-gate.ts';
import type { MemberState } from './members.ts';
import type { Outlet, TickWriter } from './tick-writer.ts';

export interface Connection extends Outlet {
  address: string;
  socket: Socket;
  member: MemberState | null;
  /** Set by every pong or frame; cleared by every heartbeat ping. */
  alive: boolean;
  lastHeard: number;
  /** Terminated by the heartbeat for not answering. */
  silent: boolean;
  /** Closed by the member's own `leave`. */
  leaving: boolean;
  helloInProgress: boolean;
  helloTimer: ReturnType<typeof setTimeout> | null;
  malformed: number;
  /** Refused or replaced: closing, and no longer counted against its address. */
  refused: boolean;
  /**
   * v1.5: the client said `features: ["channels"]` in its hello. Without it the connection is sent
   * the default channel only, as a v1.4 host would have (no other channel's messages, updates,
   * typing or search hits).
   */
  channels: boolean;
  /**
   * v1.6: the members whose presence this connection asked for (`watch`), those in the room when it
   * asked; heard in a large room besides its own and its direct-conversation partners'.
   */
  watching: readonly string[];
  /** The connection comes from the host's own machine (exactly 127.0.0.1 or ::1): "the host" of §19.2. */
  fromHostMachine: boolean;
}

/** Watching nobody: one shared empty list, not one per connection. */
export const WATCHING_NOBODY: readonly string[] = Object.freeze([]);

export function newConnection(ws: WebSocket, socket: Socket): Connection {
  return {
    ws,
    socket,
    address: socket.remoteAddress ?? 'unknown',
    member: null,
    alive: true,
    lastHeard: Date.now(),
    silent: false,
    leaving: false,
    helloInProgress: false,
    helloTimer: null,
    malformed: 0,
    pending: [],
    pendingChars: 0,
    hasOwnFrames: false,
    // Owed no presence news until it joins (admission then sets what its welcome reflected): news must
    // never reach a connection that has not joined, not even with an error frame.
    presenceSeen: Number.POSITIVE_INFINITY,
    refused: false,
    channels: false,
    routedPresence: false,
    watching: WATCHING_NOBODY,
    fromHostMachine: isHostsOwnAddress(socket.remoteAddress ?? ''),
  };
}

export interface ErrorDetails {
  /** Said after the sentence, in brackets. */
  detail?: string;
  /** The clientId (or other id) of the frame this answers. */
  ref?: string;
  retryAfterMs?: number;
}

/** Error frames and refusals, through the writer so they keep their place among the connection's frames. */
export class Replies {
  readonly #writer: TickWriter;

  constructor(writer: TickWriter) {
    this.#writer = writer;
  }

  error(connection: Connection, code: ErrorCode, { detail, ref, retryAfterMs }: ErrorDetails = {}): void {
    const message = detail ? `${errorMessage(code)} (${detail})` : errorMessage(code);
    this.#writer.queue(
      connection,
      encode({
        type: 'error',
        code,
        message,
        ...(ref ? { ref } : {}),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      }),
    );
  }

  /** Tells the peer why (an error frame), then closes with the row's close code and the error code as the reason. */
  refuse(connection: Connection, code: ErrorCode, details: Omit<ErrorDetails, 'ref'> = {}): void {
    connection.refused = true;
    if (connection.ws.readyState !== WebSocket.OPEN) return;
    this.error(connection, code, details);
    this.#writer.flushNow(connection);
    connection.ws.close(closeCodeOf(code), code);
  }
}
