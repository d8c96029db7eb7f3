/**
 * Beacon's benchmark suite. Loopback only; every load is bounded in count and
 * time, and every child process is killed when this process exits.
 *
 *   npm run bench                         every scenario at full size (≈ 30 min with 10,000 members and 10^7 stored messages)
 *   npm run bench -- --tiny               every scenario once at tiny sizes (CI: well under a minute)
 *   npm run bench -- --scenario fanout    one scenario: fanout | join | store | interface | files | search
 *   npm run bench -- --scenario search    search over 1,000,000 stored messages (and the migration that indexes them)
 *   npm run bench -- --scenario files     a 1 GiB file up and down, against a plain node:http stream copy
 *   npm run bench -- --scenario fanout --sizes 500 --servers beacon,naive-ws
 *   npm run bench -- --scenario fanout --scenario join --sizes 500 --servers beacon,beacon-tls,naive-ws   (the cost of TLS)
 *   npm run bench -- --scenario fanout --sizes 2000 --servers beacon --profile   (CPU profiles of the host's phases)
 *   npm run bench -- --scenario fanout --sizes 10000 --servers beacon,naive-ws,bun   (10,000 members in two member processes)
 *   npm run bench -- --scenario fanout --sizes 2000 --servers beacon,beacon-v15   (lean joins before/after: v1.5 hellos)
 *   BENCH_STORE_SIZES=10000,100000 npm run bench -- --scenario join   (welcome/resume at chosen store sizes; full: 10^4-10^7)
 *
 * Prints a table per scenario and writes JSON (and Markdown tables) to bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_DIR } from './lib/proc.ts';
import type { ScenarioOptions, ScenarioResult } from './lib/scenario.ts';
import { markdown, table } from './lib/stats.ts';
import { fanout } from './scenarios/fanout.ts';
import { files } from './scenarios/files.ts';
import { interfaceBench } from './scenarios/interface.ts';
import { joinResume } from './scenarios/join-resume.ts';
import { search } from './scenarios/search.ts';
import { store } from './scenarios/store.ts';

const SCENARIOS: Record<string, (options: ScenarioOptions) => Promise<ScenarioResult>> = {
  fanout,
  join: joinResume,
  store,
  interface: interfaceBench,
  files,
  search,
};

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', multiple: true },
    tiny: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    servers: { type: 'string' },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    `Usage: npm run bench -- [--tiny] [--scenario ${Object.keys(SCENARIOS).join('|')}]... [--sizes 100,500] [--servers beacon,beacon-v15,beacon-tls,naive-ws,socket.io,bun] [--profile]`,
  );
  process.exit(0);
}
const names = values.scenario?.length ? values.scenario : Object.keys(SCENARIOS);
for (const name of names) {
  if (!SCENARIOS[name]) {
    console.error(`Unknown scenario "${name}"; known: ${Object.keys(SCENARIOS).join(', ')}`);
    process.exit(2);
  }
}

// The whole run is bounded: a hung scenario cannot keep CI (or anyone) waiting.
const budgetMs = Number(process.env.BENCH_BUDGET_MS ?? (values.tiny ? 120_000 : 60 * 60_000));
setTimeout(() => {
  console.error(`\nbench: the run exceeded its ${budgetMs / 1000} s budget; stopping (children are killed).`);
  process.exit(2);
}, budgetMs).unref();

if (values.profile) {
  process.env.BENCH_PROFILE_DIR = join(BENCH_DIR, 'results', 'profiles');
  mkdirSync(process.env.BENCH_PROFILE_DIR, { recursive: true });
}

const machine = {
  nproc: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
};
const mode = values.tiny ? 'tiny' : 'full';
const started = new Date();
const stamp = started.toISOString().replace(/[:.]/g, '-');
const resultsDir = join(BENCH_DIR, 'results');
mkdirSync(resultsDir, { recursive: true });
console.log(`Beacon bench (${mode}) · ${machine.nproc} × ${machine.cpu} · Node ${machine.node}`);

const options: ScenarioOptions = {
  tiny: values.tiny,
  sizes: values.sizes?.split(',').map(Number),
  servers: values.servers?.split(','),
  log: (line) => console.log(line),
};

const results: ScenarioResult[] = [];
let failed = false;
for (const name of names) {
  console.log(`\n── ${name} ──`);
  const t0 = Date.now();
  try {
    const result = await SCENARIOS[name]!(options);
    results.push(result);
    for (const t of result.tables) console.log(table(t.title, t.header, t.rows));
    for (const note of result.notes) console.log(`note: ${note}`);
    writeFileSync(
      join(resultsDir, `${mode}-${name}-${stamp}.json`),
      `${JSON.stringify({ machine, mode, startedAt: started.toISOString(), ...result }, null, 2)}\n`,
    );
  } catch (error) {
    failed = true;
    console.error(`scenario ${name} FAILED: ${(error as Error).stack ?? error}`);
  }
  console.log(`(${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

const md = [
  `# Beacon bench (${mode}), ${started.toISOString()}`,
  '',
  `Machine: ${machine.nproc} × ${machine.cpu}, Node ${machine.node}, ${machine.platform}`,
  '',
  ...results.flatMap((r) => [
    `## ${r.scenario}`,
    '',
    ...r.tables.flatMap((t) => [`### ${t.title}`, '', markdown(t.header, t.rows), '']),
    ...r.notes.map((n) => `- ${n}`),
    '',
  ]),
].join('\n');
const summary = {
  machine,
  mode,
  startedAt: started.toISOString(),
  scenarios: results.map(({ data: _data, ...rest }) => rest),
};
const suffix = names.length === Object.keys(SCENARIOS).length ? mode : `${mode}-${names.join('-')}`;
writeFileSync(join(resultsDir, `latest-${suffix}.md`), `${md}\n`);
writeFileSync(join(resultsDir, `latest-${suffix}.json`), `${JSON.stringify(summary, null, 2)}\n`);
console.log(`\nResults: bench/results/latest-${suffix}.md, bench/results/${mode}-*-${stamp}.json`);
process.exit(failed ? 1 : 0);
