/**
 * Baseline: a socket.io room broadcast (websocket transport only, no
 * compression): every socket joins 'room'; an 'm' event is re-emitted to the
 * room except its sender.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { serveControl } from '../servers/control.ts';

const http = createServer();
const io = new Server(http, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });
io.on('connection', (socket) => {
  void socket.join('room');
  socket.on('m', (data: unknown) => {
    socket.to('room').emit('m', data);
  });
});
http.listen(0, '127.0.0.1', () => {
  const address = http.address();
  serveControl(
    typeof address === 'object' && address ? address.port : 0,
    () => new Promise<void>((resolve) => io.close(() => resolve())),
  );
});
