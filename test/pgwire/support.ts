/**
 * Helpers for the wire-protocol tests: a service with the protocol open and one analyst per
 * client (so each client can spend its own budget), and runners for the machine's real clients —
 * psql, /usr/bin/python3 (psycopg 3, pandas + SQLAlchemy 1.4 + psycopg2) and java with the
 * PostgreSQL JDBC driver (a single-file source program, compiled at test time).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testPolicy } from '../access/support.ts';
import { startService, type TestService } from '../support/service.ts';

export const CLIENTS = ['psql', 'psycopg', 'pandas', 'jdbc', 'nodepg'] as const;
export type Client = (typeof CLIENTS)[number];

/** The demo policy with an analyst per client (senior analysts: quasi/none raw grants auto-approve) and a small budget. */
export function clientPolicy(): ReturnType<typeof testPolicy>['policy'] {
  const people = CLIENTS.map((c) => `  an_${c}: { roles: [analyst, senior-analyst] }`).join('\n');
  return testPolicy([
    ['people.yaml', 'root:  { roles: [admin] }', `root:  { roles: [admin] }\n${people}`],
    ['clinic.yaml', 'analyst: { epsilon: 10, delta: 1.0e-6 }', 'analyst: { epsilon: 3, delta: 1.0e-6 }'],
  ]).policy;
}

export function startPgService(backend: 'pg' | 'pglite' = 'pg', env: Record<string, string> = {}): Promise<TestService> {
  return startService(backend, { policy: clientPolicy(), pgwire: true, env });
}

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a client asynchronously (the service answers it from this very process). */
function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** psql with unaligned, tuples-only output and verbose errors (they show the SQLSTATE). */
export function psql(svc: TestService, user: string, token: string, commands: readonly string[], extra: Record<string, string> = {}): Promise<Run> {
  const args = ['-X', '-A', '-t', '-F', '|', '-v', 'VERBOSITY=verbose', '-h', '127.0.0.1', '-p', String(svc.pgPort), '-U', user, 'clinic'];
  for (const c of commands) args.push('-c', c);
  return run('psql', args, { PGPASSWORD: token, PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '30', ...extra });
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dpq-pgwire-clients-'));

/** Run a Python program with /usr/bin/python3; it gets the connection as JSON on argv[1] and prints JSON. */
export async function python(program: string, conn: Record<string, unknown>): Promise<unknown> {
  const file = path.join(tmp, `p${Math.random().toString(36).slice(2)}.py`);
  fs.writeFileSync(file, program);
  const r = await run('/usr/bin/python3', [file, JSON.stringify(conn)]);
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as unknown;
}

/** Run a Java single-file program with the PostgreSQL JDBC driver; args are passed as they are; prints JSON. */
export async function java(source: string, args: readonly string[]): Promise<unknown> {
  const dir = fs.mkdtempSync(path.join(tmp, 'java-'));
  const file = path.join(dir, 'PgwireClient.java');
  fs.writeFileSync(file, source);
  const r = await run('java', ['-cp', '/usr/share/java/postgresql.jar', file, ...args]);
  if (r.status !== 0) throw new Error(`java failed (${r.status}): ${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as unknown;
}
