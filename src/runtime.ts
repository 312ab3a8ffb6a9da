/**
 * Wiring: turn a Config into running Services (policy, warehouse, state store, auth, logs,
 * metrics). Embedded mode opens one PGlite under DPQ_DATA_DIR for both the demo warehouse and the
 * state store, loading the demo dataset on first start.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { systemClock, type Clock } from './clock.ts';
import { type Config, ConfigError, type TokenKey } from './config/index.ts';
import { createRandomSource } from './dp/index.ts';
import { createAuthenticator } from './http/auth.ts';
import { createTelemetry } from './telemetry.ts';
import { createLogger, type Logger } from './log.ts';
import { validateMetrics } from './metrics/check.ts';
import { loadPolicy } from './policy/load.ts';
import type { Policy } from './policy/schema.ts';
import type { Services } from './services.ts';
import { migrate } from './state/migrate.ts';
import { createPgStateStore } from './state/pg.ts';
import { createPgliteStateStore } from './state/pglite.ts';
import type { StateStore } from './state/store.ts';
import { type Warehouse, WarehouseError } from './warehouse/adapter.ts';
import { demoLoaded, loadDemo } from './warehouse/demo.ts';
import { createPgWarehouse } from './warehouse/pg.ts';
import { createPgliteWarehouse } from './warehouse/pglite.ts';
import { openPglite } from './postgres/pglite.ts';
import { ensureReaderRole, READER_ROLE } from './warehouse/reader-role.ts';

/**
 * The tokenization key: DPQ_TOKEN_KEY, or in embedded mode a key generated once and kept in
 * DPQ_DATA_DIR (so tokens stay stable across restarts). Required when a policy tokenizes.
 */
function resolveTokenKeys(config: Config, policy: Policy): readonly TokenKey[] | undefined {
  if (config.tokenKeys !== undefined) return config.tokenKeys;
  if (config.embedded) {
    const file = path.join(config.dataDir, 'token.key');
    if (!fs.existsSync(file)) {
      fs.mkdirSync(config.dataDir, { recursive: true });
      fs.writeFileSync(file, crypto.randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    }
    return [{ id: 'k0', key: Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex') }];
  }
  // Raw grants tokenize id columns they do not cover, so any access rule needs the key too.
  const tokenizes =
    policy.access.rules.length > 0 ||
    Object.values(policy.datasets).some((d) =>
      Object.values(d.tables).some((t) => Object.values(t.columns).some((c) => c.mask === 'tokenize' || c.mask === 'hash')),
    );
  if (tokenizes) throw new ConfigError('DPQ_TOKEN_KEY: required when a policy tokenizes or hashes values or grants raw access (32 bytes, hex or base64)');
  return undefined;
}

export interface Runtime extends Services {
  /** The HS256 secret in use (random per start when DPQ_JWT_SECRET is unset). */
  readonly jwtSecret: Uint8Array;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly policy?: Policy;
  /** Size of the demo dataset loaded into a fresh embedded warehouse (tests use smaller ones). */
  readonly demoPatients?: number;
}

/** Give the reader role its grants using a short-lived superuser-ish connection. */
async function setupPgReader(url: string, policy: Policy): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined); // a server going away fails the pending call instead
  try {
    await client.connect();
  } catch (err: unknown) {
    await client.end().catch(() => undefined);
    throw new WarehouseError(false, undefined, err); // start-up names DATABASE_URL and the host
  }
  try {
    return await ensureReaderRole(client, policy);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Refuse to start when reads cannot run as configured (e.g. the reader role cannot be assumed). */
async function probeReads(warehouse: Warehouse): Promise<void> {
  try {
    await warehouse.ping();
  } catch (err: unknown) {
    if (err instanceof WarehouseError && err.reached) {
      throw new ConfigError(`DATABASE_URL: a read as ${READER_ROLE} failed (SQLSTATE ${err.sqlState ?? 'unknown'}); the connecting user must be able to SET ROLE ${READER_ROLE}`);
    }
    throw err;
  }
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const loaded = options.policy === undefined ? loadPolicy(config.policyDir, config.env) : undefined;
  const policy = options.policy ?? loaded!.policy;
  await validateMetrics(policy, loaded?.origins);
  const tokenKeys = resolveTokenKeys(config, policy);
  const closers: (() => Promise<void>)[] = [];
  let warehouse: Warehouse;
  let state: StateStore;
  try {
    if (config.databaseUrl === undefined) {
      const db = await openPglite(config.dataDir);
      closers.push(async () => {
        if (!db.closed) await db.close();
      });
      if (!(await demoLoaded(db))) {
        logger.info('loading the demo dataset into the embedded warehouse');
        const counts = await loadDemo(db, { patients: options.demoPatients });
        logger.info('demo dataset loaded', counts);
      }
      const role = await ensureReaderRole(db, policy);
      warehouse = createPgliteWarehouse({ db, statementTimeoutMs: config.statementTimeoutMs, role, owned: false });
      state = config.stateUrl === undefined ? createPgliteStateStore(db) : createPgStateStore(config.stateUrl);
    } else {
      const role = await setupPgReader(config.databaseUrl, policy);
      if (role === undefined) logger.warn('could not set up the dpq_reader role: reads run as the connecting user');
      warehouse = createPgWarehouse({ url: config.databaseUrl, statementTimeoutMs: config.statementTimeoutMs, role });
      state = createPgStateStore(config.stateUrl ?? config.databaseUrl);
    }
    closers.unshift(() => warehouse.close(), () => state.close());
    await migrate(state);
    await probeReads(warehouse);
  } catch (err: unknown) {
    for (const close of closers) await close().catch(() => undefined);
    throw err;
  }
  if (config.noiseSeed !== undefined) logger.warn('DPQ_NOISE_SEED is set: noise is seeded and predictable, answers are not private');
  const jwtSecret = config.jwtSecret !== undefined ? new TextEncoder().encode(config.jwtSecret) : crypto.randomBytes(32);
  return {
    config,
    policy,
    warehouse,
    state,
    logger,
    tokenKey: tokenKeys?.[0]?.key,
    tokenKeys,
    rng: createRandomSource(config.noiseSeed),
    telemetry: createTelemetry(),
    clock: options.clock ?? systemClock,
    auth: createAuthenticator(policy, {
      secret: jwtSecret,
      secrets: config.jwtSecrets.length > 0 ? config.jwtSecrets.map((x) => new TextEncoder().encode(x)) : [jwtSecret],
      jwks: config.jwks,
      ...(config.jwtSecret === undefined ? { ephemeralSince: (options.clock ?? systemClock).now() } : {}),
    }),
    jwtSecret,
    async close() {
      for (const close of closers) await close().catch(() => undefined);
    },
  };
}
