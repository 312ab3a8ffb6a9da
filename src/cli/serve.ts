/** `dpq serve` / `npm start`: configuration → runtime → HTTP server, with tokens printed in demo mode. */
import net from 'node:net';
import { type Config, ConfigError, loadConfig } from '../config/index.ts';
import { mintToken } from '../http/auth.ts';
import { warmConsole } from '../http/console.ts';
import { datasetsFor } from '../policy/authorize.ts';
import { PolicyError } from '../policy/load.ts';
import { createRuntime, type Runtime } from '../runtime.ts';
import { listen, stopOnSignals } from '../server.ts';
import { StateUnavailableError } from '../state/store.ts';
import { WarehouseError } from '../warehouse/adapter.ts';
import { DataDirInUseError } from '../postgres/data-dir-lock.ts';

/** host:port of a connection string, without credentials, for messages. */
function where(url: string | undefined): string {
  if (url === undefined) return 'the embedded database';
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'the configured server';
  }
}

/** Fail before the (slow) first start when a port is taken. */
async function portFree(port: number, host: string): Promise<boolean> {
  if (port === 0) return true;
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** A start-up failure as one clear line naming the variable, or undefined when it is unexpected. */
function explain(e: unknown, config: Config | undefined): string | undefined {
  if (e instanceof ConfigError || e instanceof PolicyError || e instanceof DataDirInUseError) return e.message;
  if (e instanceof StateUnavailableError) {
    return `${config?.stateUrl === config?.databaseUrl ? 'DATABASE_URL' : 'DPQ_STATE_URL'}: the state store at ${where(config?.stateUrl)} cannot be reached`;
  }
  if (e instanceof WarehouseError && !e.reached) return `DATABASE_URL: the warehouse at ${where(config?.databaseUrl)} cannot be reached`;
  return undefined;
}

export async function serve(): Promise<number> {
  const started = Date.now();
  let config: Config | undefined;
  let runtime: Runtime;
  try {
    config = loadConfig();
    if (!(await portFree(config.port, config.host))) throw new ConfigError(`PORT: ${config.host}:${config.port} is in use; set PORT (or HOST) to another address`);
    if (config.pgPort !== 0 && !(await portFree(config.pgPort, config.host))) {
      throw new ConfigError(`DPQ_PG_PORT: ${config.host}:${config.pgPort} is in use; set DPQ_PG_PORT to another port (0 turns the wire protocol off)`);
    }
    runtime = await createRuntime(config);
  } catch (e: unknown) {
    const message = explain(e, config);
    if (message === undefined) throw e;
    process.stderr.write(`dpq: cannot start: ${message}\n`);
    return 1;
  }
  const running = await listen(runtime, runtime.config.port, runtime.config.host, { pgPort: runtime.config.pgPort === 0 ? undefined : runtime.config.pgPort });
  stopOnSignals(running, (m) => runtime.logger.info(m));
  warmConsole((err: unknown) => runtime.logger.error('the web console could not be built', { errorName: err instanceof Error ? err.message : typeof err }));
  const lines = [`dpq is listening on ${running.url} (ready in ${((Date.now() - started) / 1000).toFixed(1)} s); web console: ${running.url}/`];
  const pgHost = runtime.config.host.includes(':') ? `[${runtime.config.host}]` : runtime.config.host;
  if (running.pg !== undefined) lines.push(`PostgreSQL wire protocol on ${pgHost}:${running.pg.port} (psql, Python, JDBC, BI tools)`);
  if (runtime.rng.kind === 'seeded') {
    lines.push('', 'WARNING: DPQ_NOISE_SEED is set: the noise is seeded and predictable, answers are NOT private (tests and demos only).');
  }
  if (runtime.config.embedded) {
    const lasting = runtime.config.jwtSecret === undefined ? 'valid 12 h, until this process stops (set DPQ_JWT_SECRET to keep them)' : 'valid 12 h';
    lines.push('', `Embedded demo mode: PGlite with the demo clinic dataset. Bearer tokens (${lasting}):`);
    for (const name of Object.keys(runtime.policy.principals)) {
      const p = runtime.policy.principals[name]!;
      if (p.apiKeySha256 !== undefined) continue;
      lines.push(`  ${name.padEnd(6)} (${p.roles.join(', ')}): ${await mintToken(runtime.jwtSecret, name)}`);
    }
    lines.push('  dash   (dashboard): API key dpq_demo_dashboard_key');
    if (running.pg !== undefined) {
      lines.push('', 'Connect with psql (the password is the token, the database is the dataset):');
      for (const name of Object.keys(runtime.policy.principals)) {
        const p = runtime.policy.principals[name]!;
        const datasets = datasetsFor(runtime.policy, { name, roles: p.roles }, 'query');
        if (p.apiKeySha256 !== undefined || datasets.length === 0) continue;
        lines.push(`  psql "postgresql://${name}:${await mintToken(runtime.jwtSecret, name)}@${pgHost}:${running.pg.port}/${datasets[0]!}"`);
      }
    }
    lines.push('', `Try: curl -s ${running.url}/v1/datasets -H "Authorization: Bearer <alice's token>"`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return new Promise<number>(() => undefined); // runs until a signal stops it
}
