/**
 * Baseline: Bun.serve's WebSocket pub/sub (uWebSockets inside), the
 * uWebSockets-class reference. Every socket subscribes to 'room'; a message is
 * published to the room except its sender (ws.publish). Run with the bun binary.
 */
import { serveControl } from '../servers/control.ts';

declare const Bun: any;

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(req: Request, srv: any) {
    if (srv.upgrade(req)) return undefined;
    return new Response('websocket only', { status: 400 });
  },
  websocket: {
    perMessageDeflate: false,
    open(ws: any) {
      ws.subscribe('room');
    },
    message(ws: any, message: string | Uint8Array) {
      ws.publish('room', message);
    },
  },
});
serveControl(server.port, () => server.stop(true));
