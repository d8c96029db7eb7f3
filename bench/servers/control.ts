/**
 * The control line protocol every benchmark server speaks (Node and Bun alike):
 * it prints `{"ready":true,"port":N,"pid":P}` once listening, then answers JSON
 * lines on stdin (`{"id":1,"cmd":"stats"|"gc"|"stop"}`) with JSON lines on stdout.
 * It exits by itself when stdin closes (the runner died) or after `maxLifeMs`.
 */
import { createInterface } from 'node:readline';

declare const Bun: { gc(force: boolean): void } | undefined;

export function collectGarbage(): void {
  if (typeof Bun !== 'undefined') Bun.gc(true);
  else (globalThis as { gc?: () => void }).gc?.();
}

export function serveControl(
  port: number,
  stop: () => Promise<void> | void,
  extra: () => Record<string, unknown> = () => ({}),
  commands: Record<string, (request: Record<string, unknown>) => Promise<Record<string, unknown>>> = {},
  maxLifeMs = Number(process.env.BENCH_SERVER_MAX_LIFE_MS ?? 900_000),
): void {
  const out = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
  const quit = async (): Promise<void> => {
    try {
      await Promise.race([stop(), new Promise((resolve) => setTimeout(resolve, 3_000))]);
    } finally {
      process.exit(0);
    }
  };
  setTimeout(() => {
    process.stderr.write(`server: lived ${maxLifeMs} ms, exiting\n`);
    process.exit(3);
  }, maxLifeMs).unref();
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    let request: { id: number; cmd: string; [key: string]: unknown };
    try {
      request = JSON.parse(line);
    } catch {
      return;
    }
    if (request.cmd === 'gc') {
      collectGarbage();
      collectGarbage();
      out({ id: request.id, ok: true });
    } else if (request.cmd === 'stats') {
      const cpu = process.cpuUsage();
      out({ id: request.id, cpuUserUs: cpu.user, cpuSystemUs: cpu.system, rss: process.memoryUsage().rss, ...extra() });
    } else if (request.cmd === 'memory') {
      out({ id: request.id, ...process.memoryUsage() });
    } else if (commands[request.cmd]) {
      const id = request.id;
      commands[request.cmd]!(request).then(
        (reply) => out({ id, ...reply }),
        (error: Error) => out({ id, error: error.message }),
      );
    } else if (request.cmd === 'stop') {
      out({ id: request.id, ok: true });
      void quit();
    }
  });
  lines.on('close', () => void quit());
  out({ ready: true, port, pid: process.pid });
}
