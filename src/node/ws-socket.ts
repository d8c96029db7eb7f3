import { WebSocket } from 'ws';
import { CONNECT_TIMEOUT_MS, type SocketFactory, type SocketLike } from '../shared/room-client.ts';

/** RoomClient's socket on Node, over `ws`, which (unlike a browser) reports why a connection failed. */
export const wsSocketFactory: SocketFactory = (url) => {
  // maxPayload: a host's frames are bounded by its page budgets (well under 8 MiB); a larger one is an attack.
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    handshakeTimeout: CONNECT_TIMEOUT_MS,
    maxPayload: 16 * 1024 * 1024,
  });
  const socket: SocketLike = {
    send: (data) => ws.send(data),
    close: (code, reason) => (ws.readyState === WebSocket.CONNECTING ? ws.terminate() : ws.close(code, reason)),
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
  };
  ws.on('open', () => socket.onopen?.());
  ws.on('message', (data, isBinary) => {
    if (!isBinary) socket.onmessage?.(data.toString());
  });
  ws.on('error', (error: NodeJS.ErrnoException) => socket.onerror?.(error.code));
  ws.on('close', (code, reason) => socket.onclose?.(code, reason.toString()));
  return socket;
};
