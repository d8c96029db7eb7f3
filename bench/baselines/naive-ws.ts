/**
 * Baseline: the naive raw `ws` broadcast. One ws.send per recipient per
 * message, the received bytes relayed as they are: no validation, no storage,
 * no batching. The floor Beacon is measured against.
 */
import { WebSocketServer, WebSocket } from 'ws';
import { serveControl } from '../servers/control.ts';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: true });
wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    for (const client of wss.clients) {
      if (client !== ws && client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    }
  });
});
wss.on('listening', () => {
  const address = wss.address();
  serveControl(
    typeof address === 'object' && address ? address.port : 0,
    () => new Promise<void>((resolve) => wss.close(() => resolve())),
  );
});
