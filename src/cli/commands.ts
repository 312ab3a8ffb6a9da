/** The CLI's commands; each reads configuration through `config/` like the service does. */
import crypto from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../config/index.ts';
import { mintToken, sha256Hex } from '../http/auth.ts';
import { formatProblem, loadPolicy, PolicyError } from '../policy/load.ts';
import { verifyAudit } from '../audit/verify.ts';
import { openStateStore } from '../state/open.ts';
import { loadDemo } from '../warehouse/demo.ts';
import { accessReviewCommand } from './access-review.ts';
import { keysNew } from './keys.ts';
import { serve } from './serve.ts';

export type Command = (args: string[]) => Promise<number>;

const out = (s: string): void => void process.stdout.write(`${s}\n`);
const err = (s: string): void => void process.stderr.write(`${s}\n`);

export const commands: Record<string, Command> = {
  serve: async () => serve(),

  'policy check': async (args) => {
    const config = loadConfig();
    const dir = args[0] ?? config.policyDir;
    try {
      const loaded = loadPolicy(dir, config.env);
      for (const w of loaded.warnings) err(`warning: ${formatProblem(w)}`);
      const p = loaded.policy;
      out(
        `ok: ${loaded.files.length} file(s), ${Object.keys(p.datasets).length} dataset(s), ` +
          `${Object.keys(p.principals).length} principal(s), ${Object.keys(p.roles).length} role(s), ` +
          `${Object.keys(p.metrics).length} metric(s), ${p.alerts.length} alert rule(s)`,
      );
      return 0;
    } catch (e: unknown) {
      if (!(e instanceof PolicyError)) throw e;
      for (const p of e.problems) err(formatProblem(p));
      return 1;
    }
  },

  token: async (args) => {
    const config = loadConfig();
    const subject = args[0];
    if (subject === undefined) throw new Error('name a principal: dpq token <principal>');
    if (config.jwtSecret === undefined) throw new Error('DPQ_JWT_SECRET is not set');
    const { policy } = loadPolicy(config.policyDir, config.env);
    if (!Object.hasOwn(policy.principals, subject)) throw new Error(`unknown principal "${subject}"`);
    out(await mintToken(new TextEncoder().encode(config.jwtSecret), subject));
    return 0;
  },

  apikey: async (args) => {
    const subject = args[0] ?? 'dashboard';
    const key = `dpq_${crypto.randomBytes(24).toString('base64url')}`;
    out(`API key (give it to the service account; it is not stored anywhere): ${key}`);
    out(`policy line:  ${subject}: { roles: [dashboard], apiKeySha256: "${sha256Hex(key)}" }`);
    return 0;
  },

  'demo load': async () => {
    const config = loadConfig();
    if (config.databaseUrl === undefined) throw new Error('DATABASE_URL is not set (the embedded warehouse loads the demo itself)');
    const client = new pg.Client({ connectionString: config.databaseUrl });
    await client.connect();
    try {
      const counts = await loadDemo(client);
      out(`loaded ${counts.patients} patients and ${counts.visits} visits`);
    } finally {
      await client.end();
    }
    return 0;
  },
};

commands['audit verify'] = async (args) => {
  const config = loadConfig();
  const [checkpoint] = args;
  const m = checkpoint === undefined ? null : /^(\d+):([0-9a-f]{64})$/.exec(checkpoint);
  if (checkpoint !== undefined && m === null) throw new Error('a checkpoint is written <seq>:<sha256 hex>');
  const store = await openStateStore(config);
  try {
    const result = await verifyAudit(store, m === null ? undefined : { seq: Number(m[1]), hash: m[2]! });
    out(JSON.stringify(result));
    return result.ok ? 0 : 1;
  } finally {
    await store.close();
  }
};

commands['keys new'] = keysNew;
commands['access review'] = accessReviewCommand;
