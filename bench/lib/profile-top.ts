/**
 * Prints the functions with the most self time (and, with --total, inclusive
 * time) in a .cpuprofile:  node bench/lib/profile-top.ts FILE [--total] [N]
 */
import { readFileSync } from 'node:fs';

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/lib/profile-top.ts FILE.cpuprofile [--total] [N]');
  process.exit(2);
}
const inclusive = rest.includes('--total');
const limit = Number(rest.find((a) => /^\d+$/.test(a)) ?? 30);
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
};
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const label = (n: Node): string =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
const totals = new Map<string, number>();
for (const [id, us] of self) {
  if (inclusive) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const key = label(byId.get(cur)!);
      if (seen.has(key)) continue;
      seen.add(key);
      totals.set(key, (totals.get(key) ?? 0) + us);
    }
  } else {
    const key = label(byId.get(id)!);
    totals.set(key, (totals.get(key) ?? 0) + us);
  }
}
const all = profile.endTime - profile.startTime;
console.log(`${file}: ${(all / 1000).toFixed(0)} ms sampled (${inclusive ? 'inclusive' : 'self'} time)`);
for (const [key, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
  console.log(`${(us / 1000).toFixed(1).padStart(9)} ms ${((us / all) * 100).toFixed(1).padStart(5)}%  ${key}`);
}
