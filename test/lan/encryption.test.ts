/**
 * Beacon on a real (virtual) LAN: a host, a member and a third machine, each
 * in its own network namespace on one switch (test/helpers/netns.ts). Needs
 * root and iproute2, tcpdump, nftables; skipped with the reason otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { capture, createLan, type Lan, lanUnavailable, type Machine, nodeIn, type Program } from '../helpers/netns.ts';
import { foundOnWire, tcpStreams, tlsRecords } from '../helpers/wire.ts';

const PORT = 4747;
const CODE = '73915062';

let lan: Lan<'host' | 'member' | 'eve'>;
let host: Machine;
let member: Machine;
let eve: Machine;
const folders: string[] = [];
const programs: Program[] = [];

function dataFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-lan-'));
  folders.push(dir);
  return dir;
}

function start(machine: Machine, script: string, args: string[]): Program {
  const program = nodeIn(machine, script, args);
  programs.push(program);
  return program;
}

/** The headless host on the host machine; resolves once it has printed how to join. */
async function startHost(data: string, extra: string[] = []): Promise<Program> {
  const program = start(host, 'src/cli/host.ts', [
    ...['--bind', host.address, '--port', String(PORT), '--code', CODE, '--data', data, '--name', 'Finance'],
    ...extra,
  ]);
  await program.line(/^In a browser:/);
  return program;
}

/** What the host tells people to join with: its invite line, or else the first address it lists. */
function joinAddress(program: Program): string {
  const invite = program.stdout.find((line) => /^Invite: /.test(line));
  if (invite) return invite.replace(/^Invite: /, '').trim();
  return program.stdout[program.stdout.findIndex((line) => / Join at:$/.test(line)) + 1]!.trim();
}

type MemberEvent = { welcome?: { id: string; token: string; lastSeq: number; resumed: boolean } };

/** A member (RoomClient in its own process) on the member machine; resolves at its welcome. */
async function startMember(url: string, name: string, resume?: string) {
  const program = start(member, 'test/fixtures/lan-member.ts', [
    url,
    name,
    CODE,
    ...(resume ? ['--resume', resume] : []),
  ]);
  const line = await program.line(/^\{"welcome"/);
  return { program, welcome: (JSON.parse(line) as MemberEvent).welcome! };
}

describe.skipIf(lanUnavailable !== null)(
  `on a LAN of three machines${lanUnavailable ? ` (${lanUnavailable})` : ''}`,
  () => {
    beforeAll(async () => {
      lan = await createLan(['host', 'member', 'eve'], { hub: true });
      ({ host, member, eve } = lan.machines);
    });
    afterEach(async () => {
      await Promise.all(programs.splice(0).map((program) => program.stop(2_000)));
      for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
    });
    afterAll(async () => {
      await lan?.destroy();
    });

    /**
     * Two members join with the code and chat; one drops and comes back with its
     * resume token; a third machine records every packet it can see.
     */
    async function chatWhileEveListens(hostArgs: string[]) {
      const listening = await capture(eve.ns, 'eth0', `tcp port ${PORT}`);
      const url = joinAddress(await startHost(dataFolder(), hostArgs));
      const ann = await startMember(url, 'Ann');
      const bob = start(member, 'src/cli/join.ts', [url, '--name', 'Bob', '--code', CODE]);
      await bob.line(/^\* joined/, 'stderr');
      const texts = ['Quarterly numbers are in the blue folder', 'Payroll goes out on Thursday'];
      ann.program.child.stdin.write(`${texts[0]}\n`);
      await bob.line(new RegExp(`^Ann: ${texts[0]}$`));
      bob.child.stdin.end(`${texts[1]}\n`);
      await ann.program.line(new RegExp(texts[1]!));
      expect(await bob.exited()).toBe(0);
      // Ann's laptop lid closes (no goodbye) and she comes back as herself with her token.
      ann.program.child.kill('SIGKILL');
      await ann.program.exited();
      const back = await startMember(url, 'Ann', `${ann.welcome.token}:${ann.welcome.lastSeq}`);
      expect(back.welcome).toMatchObject({ id: ann.welcome.id, resumed: true });
      // Three connections (Ann, Bob, Ann again), each with bytes both ways, all in the capture.
      const hostSide = `${host.address}:${PORT}`;
      const talked = (pcap: Buffer) => {
        const streams = tcpStreams(pcap).filter((stream) => stream.bytes.length > 0);
        return (
          streams.filter((s) => s.to === hostSide).length >= 3 && streams.filter((s) => s.from === hostSide).length >= 3
        );
      };
      await listening.until(talked);
      const streams = tcpStreams(await listening.stop()).filter((stream) => stream.bytes.length > 0);
      return { streams, needles: [...new Set([...texts, CODE, ann.welcome.token, back.welcome.token])] };
    }

    it('a listener on the network reads everything from a host started with --insecure (the capture works)', async () => {
      // TODO(issue 11): add '--insecure' once the host takes it; today's host is plain ws:// already.
      const { streams, needles } = await chatWhileEveListens([]);
      // The third machine saw the host and the member talk, not traffic of its own.
      expect(streams.map((stream) => stream.to)).toContain(`${host.address}:${PORT}`);
      expect(
        streams.every((stream) => !stream.from.startsWith(eve.address) && !stream.to.startsWith(eve.address)),
      ).toBe(true);
      expect(foundOnWire(streams, needles)).toEqual(needles);
    });

    it('a listener on the network reads none of the messages, the join code or a resume token', async () => {
      const { streams, needles } = await chatWhileEveListens([]);
      expect(foundOnWire(streams, needles)).toEqual([]);
      // Not luck: every byte either way crossed inside TLS records.
      for (const stream of streams) expect(tlsRecords(stream.bytes), `${stream.from} > ${stream.to}`).not.toBeNull();
    });
  },
);
