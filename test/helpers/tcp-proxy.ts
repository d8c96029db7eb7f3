import { createServer, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of a host, to cut the network between a client
 * and the host without touching either: `refuse` drops every connection and
 * refuses new ones, `freeze` keeps connections open but forwards nothing (a
 * silent host), `accept`/`thaw` undo them.
 */
export async function tcpProxy(targetPort: number) {
  const pairs = new Set<[Socket, Socket]>();
  let refusing = false;
  let frozen = false;
  const server = createServer((inbound) => {
    if (refusing) return inbound.destroy();
    const outbound = new (inbound.constructor as typeof Socket)();
    outbound.connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [inbound, outbound];
    pairs.add(pair);
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        if (!frozen) to.write(chunk);
      });
    forward(inbound, outbound);
    forward(outbound, inbound);
    const drop = () => {
      pairs.delete(pair);
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('close', drop).on('error', drop);
    outbound.on('close', drop).on('error', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const dropAll = () => {
    for (const [a, b] of pairs) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    refuse: () => {
      refusing = true;
      dropAll();
    },
    accept: () => {
      refusing = false;
    },
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      // Whatever was in flight is gone, as after a real outage: start over.
      dropAll();
    },
    close: () =>
      new Promise<void>((resolve) => {
        dropAll();
        server.close(() => resolve());
      }),
  };
}
