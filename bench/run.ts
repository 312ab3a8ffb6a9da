/**
 * `npm run bench`: start a throw-away PostgreSQL like the tests do, run every `bench/*.bench.ts`
 * (or those named on the command line), print one markdown table with ratios to the reference rows,
 * and write `bench/results/latest.json`. `--soak=<seconds>` sets the length of the memory soak of
 * queries.bench.ts (default 30; the 5-minute soak is `--soak=300`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startPostgres } from '../test/support/postgres.ts';
import type { Benchmark, BenchRow } from './types.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const soakArg = args.find((a) => a.startsWith('--soak='));
const soakSeconds = soakArg === undefined ? 30 : Number(soakArg.slice('--soak='.length));
if (!Number.isFinite(soakSeconds) || soakSeconds < 0) throw new Error(`--soak wants seconds, got ${soakArg}`);
const only = args.filter((a) => !a.startsWith('--'));
const files = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const cluster = await startPostgres();
const rows: BenchRow[] = [];
const started = new Date().toISOString();
try {
  for (const file of files) {
    process.stderr.write(`# ${file}\n`);
    const mod = (await import(pathToFileURL(path.join(here, file)).href)) as { default: Benchmark };
    rows.push(...(await mod.default({ cluster, soakSeconds, log: (m) => process.stderr.write(`  ${m}\n`) })));
  }
} finally {
  await cluster.stop();
}

const fmt = (v: number): string =>
  !Number.isFinite(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
const withRatio = rows.map((r) => {
  const ref = r.reference && rows.find((x) => x.scenario === r.reference!.scenario && x.figure === r.reference!.figure);
  return { ...r, ratio: ref ? r.value / ref.value : undefined };
});
const lines = [
  '| scenario | figure | value | unit | ratio to reference |',
  '|---|---|---:|---|---:|',
  ...withRatio.map(
    (r) =>
      `| ${r.scenario} | ${r.figure} | ${fmt(r.value)} | ${r.unit} | ${
        r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}× ${r.reference!.figure === r.figure ? r.reference!.scenario : r.reference!.figure}`
      } |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
fs.mkdirSync(path.join(here, 'results'), { recursive: true });
fs.writeFileSync(
  path.join(here, 'results', 'latest.json'),
  `${JSON.stringify({ started, node: process.version, rows: withRatio }, null, 2)}\n`,
);
