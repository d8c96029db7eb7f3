/**
 * Baseline: Bun.serve's WebSocket pub/sub (uWebSockets inside), the
 * uWebSockets-class reference. Every socket subscribes to 'room'; a message is
 * published to the room except its sender (ws.publish). Run with the bun binary.
 */
import { serveControl } from '../servers/control.ts';

/** The parts of Bun's API this baseline uses (the bun types are not installed). */
interface BunServerWebSocket {
  subscribe(topic: string): void;
  publish(topic: string, message: string | Uint8Array): number;
}

interface BunServer {
  readonly port: number;
  upgrade(req: Request): boolean;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}

interface BunServeOptions {
  hostname: string;
  port: number;
  fetch(req: Request, server: BunServer): Response | undefined | Promise<Response | undefined>;
  websocket: {
    perMessageDeflate: boolean;
    open(ws: BunServerWebSocket): void;
    message(ws: BunServerWebSocket, message: string | Uint8Array): void;
  };
}

declare const Bun: { serve(options: BunServeOptions): BunServer };

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(req, srv) {
    if (srv.upgrade(req)) return undefined;
    return new Response('websocket only', { status: 400 });
  },
  websocket: {
    perMessageDeflate: false,
    open(ws) {
      ws.subscribe('room');
    },
    message(ws, message) {
      ws.publish('room', message);
    },
  },
});
serveControl(server.port, () => server.stop(true));
