/**
 * One "edge" host of the prototype: a `ws` server whose members all sit in one
 * room. It models only the path a room message takes through a host: take the
 * sender's text, give it the room's next sequence number, wrap it as Beacon's
 * `message` frame and fan it out, one write per member per tick with the tick's
 * frames serialized once (as src/host/tick-writer.ts does). It leaves out
 * everything else: hello/welcome, validation, storage, acks, presence, limits.
 *
 * Two ways to run (argv[2]):
 * - `alone`: the sequence is a counter in this process and fan-out is local;
 *   one process holding every member, the way Beacon runs today.
 * - `shared`: the sequence is Redis `INCR room:seq`, and the frame goes out by
 *   `PUBLISH room` to every edge (this one included) subscribed to the channel;
 *   each edge delivers what Redis hands it to its own members. Redis is the only
 *   thing the edges share; they never talk to each other.
 *
 * argv[3]: the Redis port (shared only). BEACON_PROTO_DROP_PUBLISH=k skips this
 * edge's k-th publish once, BEACON_PROTO_DUPLICATE_PUBLISH=k sends it twice,
 * BEACON_PROTO_REORDER_PUBLISH=k sends it after the next one (what two edges
 * publishing their own INCR numbers can do): mutations that the member
 * process's exact accounting must catch.
 */
import { performance } from 'node:perf_hooks';
import { createClient } from 'redis';
import { WebSocketServer, type WebSocket } from 'ws';
import { serveControl } from '../servers/control.ts';

const mode = process.argv[2] === 'shared' ? 'shared' : 'alone';
const redisPort = Number(process.argv[3] ?? 0);
const dropAt = Number(process.env.BEACON_PROTO_DROP_PUBLISH ?? 0);
const duplicateAt = Number(process.env.BEACON_PROTO_DUPLICATE_PUBLISH ?? 0);
const reorderAt = Number(process.env.BEACON_PROTO_REORDER_PUBLISH ?? 0);

const CHANNEL = 'room';
const SEQ_KEY = 'room:seq';

const members = new Set<WebSocket>();
let localSeq = 0;
let published = 0;
let delivered = 0;
/** Time from a message's arrival until its sequence number was known, summed over messages (µs). */
let seqWaitUs = 0;
let seqCount = 0;

// ── fan-out: the tick's frames, serialized once, one write per member ──────────

let tick: Buffer[] = [];
let flushQueued = false;

function enqueue(frame: Buffer): void {
  tick.push(frame);
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(flush);
  }
}

function flush(): void {
  flushQueued = false;
  const frames = tick;
  tick = [];
  // Several frames in one tick travel as one JSON array, which Beacon's protocol allows.
  const bytes =
    frames.length === 1
      ? frames[0]!
      : Buffer.concat([
          Buffer.from('['),
          ...frames.flatMap((f, i) => (i ? [Buffer.from(','), f] : [f])),
          Buffer.from(']'),
        ]);
  for (const member of members) member.send(bytes, { binary: false });
  delivered += frames.length * members.size;
}

function frameOf(seq: number, text: string): Buffer {
  return Buffer.from(
    `{"type":"message","message":{"seq":${seq},"from":"m_benchsender0","to":null,"text":${JSON.stringify(text)},"ts":${Date.now()}}}`,
  );
}

// ── the room's sequence and the shared channel ────────────────────────────────

type Redis = ReturnType<typeof createClient>;
let commands: Redis | null = null;
let subscriber: Redis | null = null;

/** A failed command is this prototype's fault or Redis's: say so; the member process's accounting fails the run. */
const reportFailure = (error: Error): void => console.error(`edge: redis command failed: ${error.message}`);

async function connectRedis(): Promise<void> {
  // No reconnecting: pub/sub drops what a reconnecting subscriber misses, and the run
  // must fail on that (the member process counts every message) rather than limp on.
  commands = createClient({ socket: { host: '127.0.0.1', port: redisPort, reconnectStrategy: false } });
  // node-redis throws an 'error' event nobody listens to; say it and let the run's checks decide.
  commands.on('error', (error: Error) => console.error(`edge: redis: ${error.message}`));
  await commands.connect();
  // A subscribed connection can run nothing else, so the subscriber is a second one (node-redis's advice).
  subscriber = commands.duplicate();
  subscriber.on('error', (error: Error) => console.error(`edge: redis subscriber: ${error.message}`));
  await subscriber.connect();
  // bufferMode: the frame goes to the members as the bytes Redis handed over, never decoded.
  await subscriber.subscribe(CHANNEL, (payload) => enqueue(payload), true);
}

/** A publish held back by the reorder mutation, sent after the next one. */
let held: Buffer | null = null;

function publish(frame: Buffer): void {
  published++;
  if (published === dropAt) return;
  if (published === reorderAt) {
    held = frame;
    return;
  }
  // Not awaited: node-redis writes the commands of one tick together (auto-pipelining), in call order.
  commands!.publish(CHANNEL, frame).catch(reportFailure);
  if (held) {
    commands!.publish(CHANNEL, held).catch(reportFailure);
    held = null;
  }
  if (published === duplicateAt) commands!.publish(CHANNEL, frame).catch(reportFailure);
}

function onText(text: string): void {
  const arrived = performance.now();
  if (mode === 'alone') {
    localSeq++;
    seqWaitUs += (performance.now() - arrived) * 1000;
    seqCount++;
    enqueue(frameOf(localSeq, text));
    return;
  }
  // Replies come back in the order the INCRs were sent, so this edge publishes in sequence order.
  commands!
    .incr(SEQ_KEY)
    .then((seq) => {
      seqWaitUs += (performance.now() - arrived) * 1000;
      seqCount++;
      publish(frameOf(seq, text));
    })
    .catch(reportFailure);
}

if (mode === 'shared') await connectRedis();

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: false });
wss.on('connection', (ws) => {
  members.add(ws);
  ws.on('error', () => {});
  ws.on('close', () => members.delete(ws));
  ws.on('message', (data, isBinary) => {
    if (!isBinary) onText(String(data));
  });
});
wss.on('listening', () => {
  const address = wss.address();
  serveControl(
    typeof address === 'object' && address ? address.port : 0,
    () =>
      new Promise<void>((resolve) => {
        commands?.destroy();
        subscriber?.destroy();
        for (const member of members) member.terminate();
        wss.close(() => resolve());
      }),
    () => ({ members: members.size, published, delivered, seqWaitUs, seqCount }),
  );
});
