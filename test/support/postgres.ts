/**
 * A throw-away PostgreSQL cluster from the machine's PostgreSQL binaries: `initdb` in a temp dir,
 * `pg_ctl start` on a free loopback port, removed on `stop()`. As root, the binaries run as the
 * `postgres` user (initdb refuses root). Used by the test root hooks and by `bench/run.ts`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Cluster {
  /** Superuser connection string (database `postgres`). */
  readonly url: string;
  readonly port: number;
  /** Connection string for another database of the cluster. */
  urlFor(database: string, user?: string): string;
  /** `pg_ctl -m immediate stop`, keeping the data: every connection drops at once, as in a crash. */
  crash(): void;
  /** Start the server again after `crash()`, on the same port. */
  restart(): void;
  stop(): Promise<void>;
}

const CANDIDATE_DIRS = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'];

export function findPgBin(tool: string): string | undefined {
  for (const dir of CANDIDATE_DIRS) {
    const p = path.join(dir, tool);
    if (fs.existsSync(p)) return p;
  }
  const which = spawnSync('which', [tool], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startPostgres(options: { settings?: Record<string, string> } = {}): Promise<Cluster> {
  const initdb = findPgBin('initdb');
  const pgCtl = findPgBin('pg_ctl');
  if (initdb === undefined || pgCtl === undefined) throw new Error('PostgreSQL binaries (initdb, pg_ctl) not found');
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpq-pg-'));
  const data = path.join(dir, 'data');
  const sock = path.join(dir, 'sock');
  fs.mkdirSync(sock);
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  const run = (cmd: string, args: string[]): void => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    const r = spawnSync(file, argv, { encoding: 'utf8', cwd: dir });
    if (r.status !== 0) throw new Error(`${path.basename(cmd)} failed: ${r.stderr || r.stdout}`);
  };
  run(initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: sock,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '300',
    shared_buffers: '256MB',
    log_min_messages: 'warning',
    shared_preload_libraries: 'pg_stat_statements',
    ...options.settings,
  };
  const opts = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(' ');
  let running = false;
  const start = (): void => {
    run(pgCtl, ['-D', data, '-o', opts, '-l', path.join(dir, 'log'), '-w', '-t', '120', 'start']);
    running = true;
  };
  const crash = (): void => {
    running = false;
    run(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
  };
  start();
  const urlFor = (database: string, user = 'postgres'): string => `postgresql://${user}@127.0.0.1:${port}/${database}`;
  let stopped = false;
  return {
    url: urlFor('postgres'),
    port,
    urlFor,
    crash,
    restart: start,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        if (running) crash();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
