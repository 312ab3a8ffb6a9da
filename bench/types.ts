/**
 * The contract of a benchmark file: `bench/<name>.bench.ts` exports a default function that gets
 * the run's PostgreSQL cluster and returns rows for the table. A row may name a reference row of the
 * same file (by `figure` within the same `scenario` group or by a full `scenario`/`figure` pair);
 * `bench/run.ts` computes the ratio value / reference value so comparisons are side by side, in one run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Cluster } from '../test/support/postgres.ts';

export interface BenchRow {
  readonly scenario: string;
  readonly figure: string;
  readonly value: number;
  readonly unit: string;
  /** The row this one is compared with: `{scenario, figure}`. */
  readonly reference?: { readonly scenario: string; readonly figure: string };
  /** The SQL this row ran, when it is a hand-written reference (kept in latest.json). */
  readonly sql?: string;
}

export interface BenchContext {
  readonly cluster: Cluster;
  /** How long the memory soak runs (`--soak=<seconds>`). */
  readonly soakSeconds: number;
  /** Progress messages go to stderr, so the table on stdout stays clean. */
  log(message: string): void;
}

export type Benchmark = (ctx: BenchContext) => Promise<BenchRow[]>;

/** Time an async function `n` times; returns per-call milliseconds, sorted ascending. */
export async function timeCalls(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out.sort((a, b) => a - b);
}

export function percentile(sortedMs: readonly number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  const i = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil(p * sortedMs.length) - 1));
  return sortedMs[i]!;
}

/** Run `clients` concurrent loops of `call` for `seconds`; calls that returned true, rate, sorted latencies (ms). */
export async function closedLoop(clients: number, seconds: number, call: (i: number) => Promise<boolean>): Promise<{ ok: number; rate: number; latencies: number[] }> {
  const latencies: number[] = [];
  let ok = 0;
  let next = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        if (await call(next++)) ok++;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { ok, rate: ok / ((performance.now() - start) / 1000), latencies: latencies.sort((a, b) => a - b) };
}

/** Resident memory of a process now and at its peak (Linux /proc), in MiB; undefined elsewhere. */
export function residentMemory(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** The demo policies with budgets too large to run out during a benchmark, in a temp folder. */
export function unlimitedBudgetPolicy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpq-bench-policy-'));
  for (const f of fs.readdirSync('policies')) {
    const text = fs.readFileSync(path.join('policies', f), 'utf8');
    fs.writeFileSync(
      path.join(dir, f),
      text.replace('analyst: { epsilon: 10, delta: 1.0e-6 }', 'analyst: { epsilon: 1.0e9, delta: 1.0e-6 }').replace('total:   { epsilon: 200, delta: 1.0e-5 }', 'total: { epsilon: 1.0e9, delta: 1.0e-5 }'),
    );
  }
  return dir;
}

/** A POST /v1/queries caller at ε = 0.1; true when answered. */
export function queryPoster(serverUrl: string, token: string): (sql: string) => Promise<boolean> {
  return async (sql) => {
    const r = await fetch(`${serverUrl}/v1/queries`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql, epsilon: 0.1 }),
    });
    await r.arrayBuffer();
    return r.status === 200;
  };
}
