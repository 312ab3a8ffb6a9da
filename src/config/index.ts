/**
 * Configuration: the only module that reads `process.env`.
 *
 * The environment is parsed once with zod into a frozen `Config`; a bad value stops the start with
 * a message naming the variable. Everything else receives the `Config` (or a piece of it).
 */
import path from 'node:path';
import { z } from 'zod';

const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const pgUrl = optionalString.refine(
  (v) => v === undefined || /^postgres(ql)?:\/\//.test(v),
  'must be a postgres:// or postgresql:// connection string',
);

const tokenKey = optionalString.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const buf = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
  if (buf.length !== 32) {
    ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, written as 64 hex digits or base64' });
    return z.NEVER;
  }
  return buf;
});

const envSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATABASE_URL: pgUrl,
    DPQ_STATE_URL: pgUrl,
    DPQ_DATA_DIR: z.string().min(1).default('./.dpq'),
    DPQ_POLICY_DIR: z.string().min(1).default('./policies'),
    DPQ_JWT_SECRET: optionalString.refine(
      (v) => v === undefined || Buffer.byteLength(v) >= 32,
      'must be at least 32 bytes long',
    ),
    DPQ_JWKS_URL: optionalString.refine((v) => v === undefined || /^https?:\/\//.test(v), 'must be an http(s) URL'),
    DPQ_JWT_ISSUER: optionalString,
    DPQ_JWT_AUDIENCE: optionalString,
    DPQ_TOKEN_KEY: tokenKey,
    DPQ_NOISE_SEED: optionalString,
    DPQ_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
    DPQ_RATE_LIMIT: z.coerce.number().int().min(0).max(1_000_000).default(600),
    DPQ_BODY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    NODE_ENV: optionalString,
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  })
  .superRefine((env, ctx) => {
    if (env.DPQ_NOISE_SEED !== undefined && env.NODE_ENV === 'production') {
      ctx.addIssue({
        code: 'custom',
        path: ['DPQ_NOISE_SEED'],
        message: 'deterministic noise is refused when NODE_ENV=production',
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
  readonly jwtSecret: string | undefined;
  readonly jwks: { readonly url: string; readonly issuer: string; readonly audience: string } | undefined;
  readonly tokenKey: Buffer | undefined;
  readonly noiseSeed: string | undefined;
  readonly statementTimeoutMs: number;
  /** Requests per minute per principal and replica (0: no limit). */
  readonly rateLimitPerMinute: number;
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
    jwtSecret: e.DPQ_JWT_SECRET,
    jwks:
      e.DPQ_JWKS_URL === undefined
        ? undefined
        : Object.freeze({ url: e.DPQ_JWKS_URL, issuer: e.DPQ_JWT_ISSUER!, audience: e.DPQ_JWT_AUDIENCE! }),
    tokenKey: e.DPQ_TOKEN_KEY,
    noiseSeed: e.DPQ_NOISE_SEED,
    statementTimeoutMs: e.DPQ_STATEMENT_TIMEOUT_MS,
    rateLimitPerMinute: e.DPQ_RATE_LIMIT,
    bodyTimeoutMs: e.DPQ_BODY_TIMEOUT_MS,
    production: e.NODE_ENV === 'production',
    logLevel: e.LOG_LEVEL,
    embedded: databaseUrl === undefined,
    env: Object.freeze({ ...source }),
  });
}
