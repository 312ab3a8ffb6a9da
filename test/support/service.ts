/**
 * Start a real dpq service for a test, on either backend:
 * - `pg`: a fresh database of the run's PostgreSQL cluster, copied from a template that holds the
 *   demo dataset (CREATE DATABASE … TEMPLATE is fast), used as warehouse and state store;
 * - `pglite`: the embedded warehouse in a fresh data dir, copied from a template dir with the demo.
 * Requests go over real HTTP on a loopback port. `spawnServer` runs the service as a separate
 * process (for multi-replica tests).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type Clock, ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config/index.ts';
import { mintToken } from '../../src/http/auth.ts';
import { createLogger } from '../../src/log.ts';
import type { Policy } from '../../src/policy/schema.ts';
import { createRuntime, type Runtime } from '../../src/runtime.ts';
import { listen, type RunningServer } from '../../src/server.ts';
import { loadDemo } from '../../src/warehouse/demo.ts';
import { openPglite } from '../../src/postgres/pglite.ts';
import { postgresCluster } from './cluster.ts';

export type Backend = 'pg' | 'pglite';

/** Every JSON response of `/v1` that a test service answered in this process (test/http/openapi.test.ts validates them). */
export interface RecordedResponse {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly body: unknown;
}
export const recordedResponses: RecordedResponse[] = [];
const MAX_RECORDED = 5000;

async function record(method: string, route: string, res: Response): Promise<void> {
  const path = route.split('?')[0]!;
  if (!path.startsWith('/v1/') || recordedResponses.length >= MAX_RECORDED) return;
  if (!(res.headers.get('content-type') ?? '').startsWith('application/json')) return;
  try {
    recordedResponses.push({ method: method.toLowerCase(), path, status: res.status, body: JSON.parse(await res.clone().text()) });
  } catch {
    // not JSON after all: nothing to validate
  }
}
export const BACKENDS: readonly Backend[] = ['pg', 'pglite'];
export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123';
/** Test demo size: big enough for skew and clamping, small enough to be quick. */
export const TEST_DEMO_PATIENTS = 2_000;
const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

let dbCounter = 0;
const templates = new Map<string, Promise<string>>();

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A PostgreSQL database of the run's cluster holding the demo dataset (fresh copy per call). */
export async function createDemoDatabase(patients = TEST_DEMO_PATIENTS): Promise<string> {
  const cluster = postgresCluster();
  const template = `dpq_demo_${patients}`;
  if (!templates.has(template)) {
    templates.set(
      template,
      (async () => {
        await withClient(cluster.url, (c) => c.query(`CREATE DATABASE ${template}`));
        await withClient(cluster.urlFor(template), (c) => loadDemo(c, { patients }));
        return template;
      })(),
    );
  }
  await templates.get(template);
  const name = `dpq_t${process.pid}_${++dbCounter}`;
  await withClient(cluster.url, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  return cluster.urlFor(name);
}

const pgliteTemplates = new Map<number, Promise<string>>();

/** A PGlite data dir holding the demo dataset (fresh copy per call). */
export async function createDemoDataDir(patients = TEST_DEMO_PATIENTS): Promise<string> {
  if (!pgliteTemplates.has(patients)) {
    pgliteTemplates.set(
      patients,
      (async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpq-pglite-template-'));
        const db = await openPglite(dir);
        await loadDemo(db, { patients });
        await db.close();
        return dir;
      })(),
    );
  }
  const template = await pgliteTemplates.get(patients)!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpq-pglite-'));
  fs.cpSync(template, dir, { recursive: true });
  return dir;
}

export interface TestService {
  readonly backend: Backend;
  readonly url: string;
  readonly runtime: Runtime;
  readonly clock: Clock;
  /** The environment the service was configured with (to start a second replica on it). */
  readonly env: Readonly<Record<string, string>>;
  /** The wire-protocol port (with `pgwire: true`). */
  readonly pgPort: number | undefined;
  token(principal: string): Promise<string>;
  request(method: string, route: string, init?: { token?: string; principal?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  readonly clock?: Clock;
  readonly policy?: Policy;
  readonly env?: Record<string, string>;
  readonly demoPatients?: number;
  /** Also open the PostgreSQL wire protocol (on a free port). */
  readonly pgwire?: boolean;
}

export async function startService(backend: Backend, options: ServiceOptions = {}): Promise<TestService> {
  const env: Record<string, string> = {
    DPQ_JWT_SECRET: TEST_JWT_SECRET,
    DPQ_POLICY_DIR: path.join(REPO, 'policies'),
    LOG_LEVEL: 'error',
    DPQ_TOKEN_KEY: '11'.repeat(32),
    // A seed against PostgreSQL must be allowed explicitly (config refuses it on a real warehouse).
    ...(options.env?.DPQ_NOISE_SEED === undefined ? {} : { DPQ_ALLOW_SEEDED_NOISE: '1' }),
    ...options.env,
  };
  let dataDir: string | undefined;
  if (backend === 'pg') env.DATABASE_URL ??= await createDemoDatabase(options.demoPatients);
  else env.DPQ_DATA_DIR = dataDir = await createDemoDataDir(options.demoPatients);
  const config = loadConfig(env);
  const clock = options.clock ?? new ManualClock(Date.now());
  const runtime = await createRuntime(config, {
    logger: createLogger('error', true),
    clock,
    ...(options.policy === undefined ? {} : { policy: options.policy }),
  });
  const running: RunningServer = await listen(runtime, 0, '127.0.0.1', options.pgwire === true ? { pgPort: 0 } : {});
  const secret = new TextEncoder().encode(TEST_JWT_SECRET);
  const tokens = new Map<string, string>();
  const token = async (p: string): Promise<string> => {
    if (!tokens.has(p)) tokens.set(p, await mintToken(secret, p));
    return tokens.get(p)!;
  };
  return {
    backend,
    url: running.url,
    runtime,
    clock,
    env,
    pgPort: running.pg?.port,
    token,
    async request(method, route, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      const bearer = init.token ?? (init.principal === undefined ? undefined : await token(init.principal));
      if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${running.url}${route}`, {
        method,
        headers,
        ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
      });
      await record(method, route, res);
      return res;
    },
    async stop() {
      await running.stop();
      if (dataDir !== undefined) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Run `dpq serve` as a separate process with `env`; resolves once it listens. */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [path.join(REPO, 'bin/dpq.js'), 'serve'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', DPQ_PG_PORT: '0', ...env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60_000);
    const check = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => reject(new Error(`server exited:\n${out}`)));
  });
  return {
    url,
    child,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
