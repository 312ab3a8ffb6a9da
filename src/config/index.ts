/**
 * Configuration: the only module that reads `process.env`.
 *
 * The environment is parsed once with zod into a frozen `Config`; a bad value stops the start with
 * a message naming the variable. Everything else receives the `Config` (or a piece of it).
 */
import path from 'node:path';
import { z } from 'zod';
import { type Cidr, parseCidr } from '../policy/conditions.ts';

const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const pgUrl = optionalString.refine(
  (v) => v === undefined || /^postgres(ql)?:\/\//.test(v),
  'must be a postgres:// or postgresql:// connection string',
);

function keyBytes(v: string): Buffer | undefined {
  const buf = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
  return buf.length === 32 ? buf : undefined;
}

const tokenKey = optionalString.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const buf = keyBytes(v);
  if (buf === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, written as 64 hex digits or base64' });
    return z.NEVER;
  }
  return buf;
});

/** A token key with its id (`DPQ_TOKEN_KEYS`; `DPQ_TOKEN_KEY` alone is `k0`). */
export interface TokenKey {
  readonly id: string;
  readonly key: Buffer;
}
export const TOKEN_KEY_ID = /^[a-z0-9]{1,24}$/;

/** `id:key` pairs, comma-separated, newest first. */
const tokenKeys = optionalString.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const out: TokenKey[] = [];
  for (const [i, pair] of v.split(',').entries()) {
    const at = pair.indexOf(':');
    const id = pair.slice(0, Math.max(0, at)).trim();
    const key = at < 0 ? undefined : keyBytes(pair.slice(at + 1).trim());
    const problem = !TOKEN_KEY_ID.test(id)
      ? `pair ${i + 1}: write id:key, the id 1 to 24 lower-case letters or digits`
      : key === undefined
        ? `pair ${i + 1} (${id}): the key must be 32 bytes, written as 64 hex digits or base64`
        : out.some((k) => k.id === id)
          ? `key id ${id} is listed twice`
          : undefined;
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    out.push({ id, key: key! });
  }
  return out;
});

/** Comma-separated HS256 secrets: the first signs, every one verifies. */
const jwtSecrets = optionalString.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const list = v.split(',').map((x) => x.trim());
  if (list.some((x) => Buffer.byteLength(x) < 32)) {
    ctx.addIssue({ code: 'custom', message: list.length > 1 ? 'each comma-separated secret must be at least 32 bytes long' : 'must be at least 32 bytes long' });
    return z.NEVER;
  }
  return list;
});

/** Comma-separated address ranges (DPQ_TRUST_PROXY). */
const cidrList = optionalString.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const out: Cidr[] = [];
  for (const part of v.split(',')) {
    const c = parseCidr(part);
    if (c === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${part.trim()}" is not an address range like 10.0.0.0/8 or ::1/128` });
      return z.NEVER;
    }
    out.push(c);
  }
  return out;
});

const envSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATABASE_URL: pgUrl,
    DPQ_STATE_URL: pgUrl,
    DPQ_DATA_DIR: z.string().min(1).default('./.dpq'),
    DPQ_POLICY_DIR: z.string().min(1).default('./policies'),
    DPQ_JWT_SECRET: jwtSecrets,
    DPQ_JWKS_URL: optionalString.refine((v) => v === undefined || /^https?:\/\//.test(v), 'must be an http(s) URL'),
    DPQ_JWT_ISSUER: optionalString,
    DPQ_JWT_AUDIENCE: optionalString,
    DPQ_TOKEN_KEY: tokenKey,
    DPQ_TOKEN_KEYS: tokenKeys,
    DPQ_NOISE_SEED: optionalString,
    DPQ_ALLOW_SEEDED_NOISE: optionalString.refine((v) => v === undefined || v === '0' || v === '1', 'must be 1 or 0'),
    DPQ_TRUST_PROXY: cidrList,
    DPQ_PUBLIC_URL: optionalString.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), 'must be an http(s) URL'),
    DPQ_SLACK_SIGNING_SECRET: optionalString,
    DPQ_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
    DPQ_RATE_LIMIT: z.coerce.number().int().min(0).max(1_000_000).default(600),
    DPQ_PG_PORT: z.coerce.number().int().min(0).max(65535).default(5433),
    DPQ_PG_TLS_CERT: optionalString,
    DPQ_PG_TLS_KEY: optionalString,
    DPQ_PG_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(100_000).default(100),
    DPQ_PG_IDLE_TIMEOUT_MS: z.coerce.number().int().min(0).max(86_400_000).default(3_600_000),
    DPQ_BODY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    NODE_ENV: optionalString,
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  })
  .superRefine((env, ctx) => {
    if (env.DPQ_TOKEN_KEY !== undefined && env.DPQ_TOKEN_KEYS !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['DPQ_TOKEN_KEYS'], message: 'set DPQ_TOKEN_KEYS or DPQ_TOKEN_KEY, not both (DPQ_TOKEN_KEY alone is the key k0)' });
    }
    if (env.DPQ_NOISE_SEED !== undefined && env.NODE_ENV === 'production') {
      ctx.addIssue({
        code: 'custom',
        path: ['DPQ_NOISE_SEED'],
        message: 'deterministic noise is refused when NODE_ENV=production',
      });
    }
    if ((env.DPQ_PG_TLS_CERT === undefined) !== (env.DPQ_PG_TLS_KEY === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.DPQ_PG_TLS_CERT === undefined ? 'DPQ_PG_TLS_CERT' : 'DPQ_PG_TLS_KEY'],
        message: 'DPQ_PG_TLS_CERT and DPQ_PG_TLS_KEY go together',
      });
    }
    // Seeded noise is predictable: against a real warehouse it would let anyone who restarts the
    // service (or knows the seed) difference the noise away. Only the embedded demo, or an explicit
    // opt-in for test harnesses, may use it.
    if (env.DPQ_NOISE_SEED !== undefined && env.DATABASE_URL !== undefined && env.DPQ_ALLOW_SEEDED_NOISE !== '1') {
      ctx.addIssue({
        code: 'custom',
        path: ['DPQ_NOISE_SEED'],
        message: 'deterministic noise is refused on a real warehouse (DATABASE_URL is set); unset it, or also set DPQ_ALLOW_SEEDED_NOISE=1 for tests',
      });
    }
    if (env.DPQ_JWKS_URL !== undefined && (env.DPQ_JWT_ISSUER === undefined || env.DPQ_JWT_AUDIENCE === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['DPQ_JWKS_URL'],
        message: 'needs DPQ_JWT_ISSUER and DPQ_JWT_AUDIENCE as well',
      });
    }
  });

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Warehouse connection string; undefined means the embedded PGlite with the demo dataset. */
  readonly databaseUrl: string | undefined;
  /** State store connection string; undefined means the embedded PGlite. */
  readonly stateUrl: string | undefined;
  readonly dataDir: string;
  readonly policyDir: string;
  /** The HS256 secret that signs (the first of DPQ_JWT_SECRET). */
  readonly jwtSecret: string | undefined;
  /** Every HS256 secret that verifies, the signing one first. */
  readonly jwtSecrets: readonly string[];
  readonly jwks: { readonly url: string; readonly issuer: string; readonly audience: string } | undefined;
  /** The newest token key (the one new tokens use). */
  readonly tokenKey: Buffer | undefined;
  /** Every token key, newest first (DPQ_TOKEN_KEYS, or DPQ_TOKEN_KEY as k0). */
  readonly tokenKeys: readonly TokenKey[] | undefined;
  readonly noiseSeed: string | undefined;
  /** The address ranges of trusted reverse proxies: only their `X-Forwarded-For` is believed. */
  readonly trustProxy: readonly Cidr[] | undefined;
  /** The console's address for links in notifications (default http://HOST:PORT). */
  readonly publicUrl: string;
  /** Slack's signing secret: request notifications get Approve/Deny buttons, /v1/integrations/slack/actions accepts them. */
  readonly slackSigningSecret: string | undefined;
  readonly statementTimeoutMs: number;
  /** Requests per minute per principal and replica (0: no limit). */
  readonly rateLimitPerMinute: number;
  /** The PostgreSQL wire protocol's port on `host` (0: off), TLS files, session limits. */
  readonly pgPort: number;
  readonly pgTlsCert: string | undefined;
  readonly pgTlsKey: string | undefined;
  readonly pgMaxConnections: number;
  /** Idle sessions are closed after this long (0: never). */
  readonly pgIdleTimeoutMs: number;
  /** How long a declared request body may take to arrive before the request is refused. */
  readonly bodyTimeoutMs: number;
  readonly production: boolean;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** True when the warehouse is the embedded PGlite (demo mode). */
  readonly embedded: boolean;
  /** A frozen snapshot of the environment, for `${NAME}` substitution in policy files. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A configuration problem; the message names the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parse an environment (default: `process.env`) into a frozen Config, or throw ConfigError. */
export function loadConfig(source: Readonly<Record<string, string | undefined>> = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`${variable}: ${issue.message}`);
  }
  const e = parsed.data;
  const databaseUrl = e.DATABASE_URL;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    databaseUrl,
    stateUrl: e.DPQ_STATE_URL ?? databaseUrl,
    dataDir: path.resolve(e.DPQ_DATA_DIR),
    policyDir: path.resolve(e.DPQ_POLICY_DIR),
    jwtSecret: e.DPQ_JWT_SECRET?.[0],
    jwtSecrets: Object.freeze([...(e.DPQ_JWT_SECRET ?? [])]),
    jwks:
      e.DPQ_JWKS_URL === undefined
        ? undefined
        : Object.freeze({ url: e.DPQ_JWKS_URL, issuer: e.DPQ_JWT_ISSUER!, audience: e.DPQ_JWT_AUDIENCE! }),
    tokenKey: e.DPQ_TOKEN_KEYS?.[0]?.key ?? e.DPQ_TOKEN_KEY,
    tokenKeys: e.DPQ_TOKEN_KEYS ?? (e.DPQ_TOKEN_KEY === undefined ? undefined : [{ id: 'k0', key: e.DPQ_TOKEN_KEY }]),
    noiseSeed: e.DPQ_NOISE_SEED,
    trustProxy: e.DPQ_TRUST_PROXY,
    publicUrl: (e.DPQ_PUBLIC_URL ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`).replace(/\/+$/, ''),
    slackSigningSecret: e.DPQ_SLACK_SIGNING_SECRET,
    statementTimeoutMs: e.DPQ_STATEMENT_TIMEOUT_MS,
    rateLimitPerMinute: e.DPQ_RATE_LIMIT,
    pgPort: e.DPQ_PG_PORT,
    pgTlsCert: e.DPQ_PG_TLS_CERT,
    pgTlsKey: e.DPQ_PG_TLS_KEY,
    pgMaxConnections: e.DPQ_PG_MAX_CONNECTIONS,
    pgIdleTimeoutMs: e.DPQ_PG_IDLE_TIMEOUT_MS,
    bodyTimeoutMs: e.DPQ_BODY_TIMEOUT_MS,
    production: e.NODE_ENV === 'production',
    logLevel: e.LOG_LEVEL,
    embedded: databaseUrl === undefined,
    env: Object.freeze({ ...source }),
  });
}
