/**
 * A small LAN the test owns, in Linux network namespaces: one namespace holds a
 * bridge (the switch), and each machine is a namespace of its own with one
 * veth cable to it, an address 10.77.0.N/24 on its `eth0`, and loopback up.
 * Nothing is created in, routed to or captured from the root namespace, so the
 * computer's real interfaces never see this traffic.
 *
 * The switch can be a hub (`hub: true`: it forgets where every address is at
 * once, so it floods every frame to every port), which is what a shared Wi-Fi
 * looks like to a listener: the third machine sees the other two talk.
 *
 * `createNetwork` builds several such switches at once, each with its own
 * subnet and no router between them (two floors that cannot see each other).
 * Every machine's `eth0` has multicast on and a route for 224.0.0.0/4, so
 * multicast DNS (224.0.0.251:5353) goes out on the test's LAN and nowhere else.
 *
 * Every namespace is named `bcn-<pid>-<random>-…`, deleted by `lan.destroy()`, at
 * process exit, and by the next run if this process died without either.
 */
import { type ChildProcessWithoutNullStreams, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PREFIX = 'bcn';
const SUBNET = '10.77.0';
const REPO = resolve(import.meta.dirname, '../..');

/** Why these tests cannot run here, or null when they can (root, and `ip`/`tcpdump`/`nft` installed). */
export const lanUnavailable: string | null = (() => {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0)
    return 'network namespaces need root (CI runs as root; run `sudo npx vitest run test/lan`)';
  for (const tool of ['ip', 'tcpdump', 'nft']) {
    const found = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((dir) => existsSync(`${dir}/${tool}`));
    if (!found) return `\`${tool}\` is not installed (apt-get install iproute2 tcpdump nftables)`;
  }
  // Root in a container without CAP_SYS_ADMIN cannot make namespaces: say so instead of failing every test.
  const probe = `${PREFIX}-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
  } catch (error) {
    const said = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return `this machine does not let root make network namespaces (${said || String(error)})`;
  }
  return null;
})();

/** Node 24 from node_modules (the repo's own), whatever Node runs the tests. */
export const NODE = existsSync(resolve(REPO, 'node_modules/node/bin/node'))
  ? resolve(REPO, 'node_modules/node/bin/node')
  : process.execPath;

export interface Machine {
  /** The name the test gave it ("host", "member", "eve"). */
  name: string;
  /** Its network namespace. */
  ns: string;
  /** Its IPv4 address on the LAN. */
  address: string;
  /** Its Ethernet address. */
  mac: string;
  /** The switch its cable goes to (the name given to `createNetwork`; "sw" for `createLan`). */
  switchName: string;
}

export interface Lan<Name extends string = string> {
  machines: Record<Name, Machine>;
  /** The namespace of the switch; its bridge is `br0`, the cable to machine X is `to-X`. */
  switchNs: string;
  destroy(): Promise<void>;
}

const namespaces = new Set<string>();
const children = new Set<ChildProcessWithoutNullStreams>();

/**
 * Ends every process still inside the namespaces (a browser's helpers, a program
 * whose parent died), by pid, then deletes the namespaces.
 */
function deleteNamespacesNow(names: Iterable<string>): void {
  for (const ns of names) {
    try {
      const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // no such namespace, or the process has just gone
    }
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  deleteNamespacesNow(namespaces);
});

/** Deletes the namespaces of earlier runs whose process is gone (a crashed or killed test run). */
async function sweepStale(): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'list']);
  const stale = stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((ns) => {
      const pid = new RegExp(`^${PREFIX}-(\\d+)-`).exec(ns)?.[1];
      if (!pid || Number(pid) === process.pid) return false;
      try {
        process.kill(Number(pid), 0);
        return false;
      } catch {
        return true;
      }
    });
  deleteNamespacesNow(stale);
}

const ip = (...args: string[]) => run('ip', args);

/** Builds the LAN: machine i (from 0) gets 10.77.0.(i+1). Call `destroy()` in afterAll. */
export async function createLan<const Name extends string>(
  names: Name[],
  options: { hub?: boolean } = {},
): Promise<Lan<Name>> {
  const network = await createNetwork({ sw: { subnet: SUBNET, machines: names } }, options);
  return { machines: network.machines, switchNs: network.switches.sw, destroy: network.destroy };
}

/** One switch of a network: its subnet's first three octets ("10.78.0") and the machines cabled to it. */
export interface SwitchSpec<Name extends string = string> {
  subnet: string;
  machines: readonly Name[];
}

export interface Network<SwitchName extends string = string, Name extends string = string> {
  machines: Record<Name, Machine>;
  /** The namespace of each switch; its bridge is `br0`, the cable to machine X is `to-X`. */
  switches: Record<SwitchName, string>;
  destroy(): Promise<void>;
}

/**
 * Builds several switches, each a bridge in a namespace of its own with its
 * machines on one subnet (machine i of a switch gets SUBNET.(i+1)), and no
 * route between switches: a machine on one cannot reach, or hear the
 * multicast of, a machine on another. Call `destroy()` in afterAll.
 */
export async function createNetwork<const Spec extends Record<string, SwitchSpec>>(
  spec: Spec,
  options: { hub?: boolean } = {},
): Promise<Network<keyof Spec & string, Spec[keyof Spec]['machines'][number]>> {
  type Name = Spec[keyof Spec]['machines'][number];
  const all = Object.values(spec).flatMap((each) => [...each.machines]);
  const clash = all.find((name, index) => all.indexOf(name) !== index || name in spec);
  if (clash !== undefined) throw new Error(`createNetwork: the name "${clash}" is used twice`);
  await sweepStale();
  // The pid lets a later run tell a crashed run's leftovers from a live one's; the rest tells runs apart.
  const base = `${PREFIX}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const machines = {} as Record<Name, Machine>;
  const switches = {} as Record<keyof Spec & string, string>;
  const mine: string[] = [];
  const network: Network<keyof Spec & string, Name> = {
    machines,
    switches,
    destroy: async () => {
      await killLanChildren();
      deleteNamespacesNow(mine);
      for (const ns of mine) namespaces.delete(ns);
    },
  };
  const addNamespace = async (ns: string): Promise<void> => {
    await ip('netns', 'add', ns);
    namespaces.add(ns);
    mine.push(ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
  };
  try {
    for (const [switchName, { subnet, machines: names }] of Object.entries(spec)) {
      const switchNs = `${base}-${switchName}`;
      await addNamespace(switchNs);
      switches[switchName as keyof Spec & string] = switchNs;
      // ageing_time 0: the switch forgets every address at once and floods each frame to all ports (a hub).
      // mcast_snooping 0: multicast goes to every port, whether or not anyone has said it listens (no querier here).
      const ageing = options.hub ? ['ageing_time', '0'] : [];
      await ip(
        '-n',
        switchNs,
        'link',
        'add',
        'br0',
        'type',
        'bridge',
        'stp_state',
        '0',
        'mcast_snooping',
        '0',
        ...ageing,
      );
      await ip('-n', switchNs, 'link', 'set', 'br0', 'up');
      for (const [index, name] of names.entries()) {
        const ns = `${base}-${name}`;
        await addNamespace(ns);
        const address = `${subnet}.${index + 1}`;
        // Both ends are made inside our namespaces: the root namespace never holds them, even for a moment.
        await ip('-n', switchNs, 'link', 'add', `to-${name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
        await ip('-n', switchNs, 'link', 'set', `to-${name}`, 'master', 'br0', 'multicast', 'on', 'up');
        await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
        await ip('-n', ns, 'link', 'set', 'eth0', 'multicast', 'on', 'up');
        // No default route in a machine: without this, sending to 224.0.0.251 finds no way out (ENETUNREACH).
        await ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0');
        const { stdout } = await ip('-n', ns, '-j', 'link', 'show', 'eth0');
        const mac = (JSON.parse(stdout) as { address: string }[])[0]!.address;
        machines[name as Name] = { name, ns, address, mac, switchName };
      }
    }
  } catch (error) {
    await network.destroy();
    throw error;
  }
  return network;
}

/** A program running inside a machine, its output kept line by line. */
export interface Program {
  child: ChildProcessWithoutNullStreams;
  stdout: string[];
  stderr: string[];
  /** When each line was read (epoch ms, this process's clock), index for index with `stdout` and `stderr`. */
  times: { stdout: number[]; stderr: number[] };
  /**
   * Resolves with the first line matching `pattern` among those printed from line `after` on (0: all,
   * including those already printed); rejects at exit or timeout.
   */
  line(pattern: RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number, after?: number): Promise<string>;
  exited(): Promise<number | null>;
  /** SIGINT, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

/** Runs `command args` inside the machine's namespace, from the repo's folder (with `env` added to ours). */
export function runIn(machine: Machine, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Program {
  const child = spawn('ip', ['netns', 'exec', machine.ns, command, ...args], {
    cwd: REPO,
    stdio: 'pipe',
    env: { ...process.env, ...env },
  });
  children.add(child);
  const exit = new Promise<number | null>((done) =>
    child.on('exit', (code) => {
      children.delete(child);
      done(code);
    }),
  );
  const lines = { stdout: [] as string[], stderr: [] as string[] };
  const times = { stdout: [] as number[], stderr: [] as number[] };
  const waiters: { pattern: RegExp; stream: 'stdout' | 'stderr'; done: (line: string) => void }[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    createInterface({ input: child[stream] }).on('line', (line) => {
      lines[stream].push(line);
      times[stream].push(Date.now());
      for (const waiter of waiters.filter((w) => w.stream === stream && w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.done(line);
      }
    });
  }
  const program: Program = {
    child,
    ...lines,
    times,
    line: (pattern, stream = 'stdout', timeoutMs = 15_000, after = 0) => {
      const already = lines[stream].slice(after).find((line) => pattern.test(line));
      if (already !== undefined) return Promise.resolve(already);
      return new Promise((resolveLine, reject) => {
        const timer = setTimeout(() => fail('did not print it'), timeoutMs);
        // 'close' rather than 'exit': every line it printed has been read by then.
        const closed = (code: number | null): void => fail(`exited ${code} first`);
        // Whichever comes first, the other is forgotten (a test may wait for many lines of a long-lived program).
        const waiter = {
          pattern,
          stream,
          done: (line: string) => {
            clearTimeout(timer);
            child.off('close', closed);
            resolveLine(line);
          },
        };
        function fail(why: string): void {
          clearTimeout(timer);
          child.off('close', closed);
          if (waiters.includes(waiter)) waiters.splice(waiters.indexOf(waiter), 1);
          reject(
            new Error(
              `${command} ${args.join(' ')} in ${machine.name}: ${why} (${pattern} on ${stream}).\n` +
                `stdout:\n${lines.stdout.join('\n')}\nstderr:\n${lines.stderr.join('\n')}`,
            ),
          );
        }
        waiters.push(waiter);
        child.once('close', closed);
      });
    },
    exited: () => exit,
    stop: async (graceMs = 5_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exit;
        clearTimeout(timer);
      }
      return child.exitCode;
    },
  };
  return program;
}

/** Runs a TypeScript file of the repo with Node 24 inside the machine. */
export function nodeIn(machine: Machine, script: string, args: string[]): Program {
  return runIn(machine, NODE, [script, ...args]);
}

async function killLanChildren(): Promise<void> {
  const all = [...children];
  for (const child of all) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  await Promise.all(
    all.map((child) =>
      child.exitCode !== null || child.signalCode !== null ? null : new Promise((done) => child.once('exit', done)),
    ),
  );
}

/** A packet capture running inside a machine (tcpdump, promiscuous, whole packets). */
export interface Capture {
  /** Resolves once the pcap so far satisfies `test` (checked as packets arrive), e.g. "the last connection is in it". */
  until(test: (pcap: Buffer) => boolean, timeoutMs?: number): Promise<void>;
  /**
   * Resolves once everything `from` sent to `to` before this call is in the capture: it sends a
   * marker datagram (UDP port 9, discard) along the same path and waits for tcpdump to write it.
   */
  sync(from: Machine, to: Machine): Promise<void>;
  /** Stops tcpdump (it writes what it has) and returns the pcap file's bytes. */
  stop(): Promise<Buffer>;
}

const MARKER_PORT = 9;

/**
 * Starts tcpdump on `iface` in `ns` (null: the test's own) with a BPF `filter`; resolves once it says
 * it is listening, so nothing sent afterwards is missed. The pcap goes to
 * stdout (no file for tcpdump's dropped privileges or AppArmor to refuse).
 */
export async function capture(ns: string | null, iface: string, filter: string): Promise<Capture> {
  // --immediate-mode: each packet reaches tcpdump at once (not a block per second); -U: and is written at
  // once; -B: a 16 MiB kernel buffer, so a busy machine does not drop packets before tcpdump reads them.
  const tcpdump = [
    '-i',
    iface,
    '--immediate-mode',
    '-B',
    '16384',
    '-U',
    '-s',
    '0',
    '-w',
    '-',
    `(${filter}) or udp port ${MARKER_PORT}`,
  ];
  // ns null: the test's own namespace (to show that nothing of the test's LAN ever reaches it). No namespace of
  // ours holds it, so the next run's sweep could not find it: it dies with this process instead (the parent-death
  // signal, kept because -Z root stops tcpdump changing user, which would clear it).
  const child =
    ns === null
      ? spawn('setpriv', ['--pdeathsig', 'KILL', 'tcpdump', '-Z', 'root', ...tcpdump], { stdio: 'pipe' })
      : spawn('ip', ['netns', 'exec', ns, 'tcpdump', ...tcpdump], { stdio: 'pipe' });
  children.add(child);
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  let stderr = '';
  const closed = new Promise<void>((done) =>
    child.on('close', () => {
      children.delete(child);
      done();
    }),
  );
  await new Promise<void>((listening, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr}`)), 10_000);
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (/listening on/.test(stderr)) {
        clearTimeout(timer);
        listening();
      }
    });
    child.once('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${stderr}`)));
  });
  const until: Capture['until'] = (test, timeoutMs = 10_000) =>
    new Promise<void>((done, reject) => {
      const check = (): void => {
        if (!test(Buffer.concat(chunks))) return;
        clearTimeout(timer);
        child.stdout.off('data', check);
        done();
      };
      const timer = setTimeout(() => {
        child.stdout.off('data', check);
        reject(new Error(`the capture on ${iface} in ${ns} never showed what the test waited for`));
      }, timeoutMs);
      child.stdout.on('data', check);
      check();
    });
  return {
    until,
    sync: async (from, to) => {
      const marker = `beacon-capture-marker-${randomBytes(8).toString('hex')}`;
      await run('ip', [
        'netns',
        'exec',
        from.ns,
        'bash',
        '-c',
        `printf %s ${marker} > /dev/udp/${to.address}/${MARKER_PORT}`,
      ]);
      await until((pcap) => pcap.includes(marker));
    },
    stop: async () => {
      child.kill('SIGINT');
      await closed;
      return Buffer.concat(chunks);
    },
  };
}

/** Runs `nft -f -` inside a namespace with the given ruleset text (e.g. a NAT table that redirects a port). */
export async function nft(ns: string, ruleset: string): Promise<void> {
  await new Promise<void>((done, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => (code === 0 ? done() : reject(new Error(`nft in ${ns}: ${stderr}`))));
    child.stdin.end(ruleset);
  });
}

/**
 * Puts `middle` between `victim` and `target` for one TCP port, the way ARP
 * spoofing does on a real LAN: the victim's ARP cache says the target's
 * address is at the middle machine's Ethernet address, and the middle machine
 * takes those packets as its own (nftables redirect), so a program listening
 * there on `port` answers in the target's name. Resolves with the undo.
 */
export async function intercept(victim: Machine, target: Machine, middle: Machine, port: number) {
  const neigh = ['-n', victim.ns, 'neigh', 'replace', target.address, 'lladdr', middle.mac, 'dev', 'eth0'];
  await ip(...neigh, 'nud', 'permanent');
  await nft(
    middle.ns,
    `table ip beacon_test_mitm {
      chain prerouting {
        type nat hook prerouting priority dstnat;
        ip daddr ${target.address} tcp dport ${port} redirect to :${port}
      }
    }`,
  );
  return async (): Promise<void> => {
    await ip('-n', victim.ns, 'neigh', 'del', target.address, 'dev', 'eth0').catch(() => undefined);
    await nft(middle.ns, 'delete table ip beacon_test_mitm').catch(() => undefined);
  };
}
