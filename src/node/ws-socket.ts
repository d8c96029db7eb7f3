import { WebSocket } from 'ws';
import type { ConnectionSecurity } from '../shared/chat-api.ts';
import type { Fingerprint } from '../shared/fingerprint.ts';
import { CONNECT_TIMEOUT_MS, type SocketFactory, type SocketLike } from '../shared/room-client.ts';
import type { SocketOptions } from '../shared/room-socket.ts';
import { type ConnectError, pinnedConnection } from './pinned-tls.ts';

/** Status of an encrypted host's refusal of a ws:// upgrade (src/host/plain-entrance.ts). */
const ENCRYPTION_REQUIRED_STATUS = 426;

/**
 * RoomClient's socket on Node, over `ws`, which (unlike a browser) reports why a connection failed.
 *
 * For wss:// the TLS connection is made here, not by `ws`: the host's certificate is not checked
 * against any authority (every host's is self-signed) but against the pinned fingerprint, and only
 * once it matches is the socket handed to `ws`, so not one byte of the upgrade request, let alone
 * the join code, reaches a machine that is not the host. Without a pin it trusts on first use and
 * reports the fingerprint it saw.
 */
export const wsSocketFactory: SocketFactory = (url, options: SocketOptions = {}) => {
  const secure = url.startsWith('wss:');
  let presented: Fingerprint | null = null;
  // maxPayload: a host's frames are bounded by its page budgets (well under 8 MiB); a larger one is an attack.
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    handshakeTimeout: CONNECT_TIMEOUT_MS,
    maxPayload: 16 * 1024 * 1024,
    ...(secure
      ? {
          createConnection: pinnedConnection(options.pin?.fingerprint ?? null, (fingerprint) => {
            presented = fingerprint;
          }) as never,
        }
      : {}),
  });
  const socket: SocketLike = {
    send: (data) => ws.send(data),
    close: (code, reason) => (ws.readyState === WebSocket.CONNECTING ? ws.terminate() : ws.close(code, reason)),
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
  };
  ws.on('open', () => {
    socket.security = securityOf(presented, options);
    socket.onopen?.();
  });
  ws.on('message', (data, isBinary) => {
    if (!isBinary) socket.onmessage?.(data.toString());
  });
  ws.on('unexpected-response', (_req, res) => {
    // An encrypted host says why it refuses ws://; any other answer is no Beacon host's.
    socket.onerror?.(res.statusCode === ENCRYPTION_REQUIRED_STATUS ? 'BEACON_ERR_ENCRYPTION_REQUIRED' : undefined);
    ws.terminate();
  });
  ws.on('error', (error: ConnectError) => socket.onerror?.(error.code, error.fingerprints));
  ws.on('close', (code, reason) => socket.onclose?.(code, reason.toString()));
  return socket;
};

function securityOf(presented: Fingerprint | null, options: SocketOptions): ConnectionSecurity {
  if (presented === null) return { encrypted: false };
  return { encrypted: true, fingerprint: presented, trust: options.pin?.trust ?? 'first-use' };
}
