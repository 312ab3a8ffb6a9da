/**
 * The CLI's local commands (the service, policy, tokens, the demo data, the audit chain); each
 * reads configuration through `config/` like the service does. The client commands of a running
 * server are in client/; registry.ts lists them all.
 */
import crypto from 'node:crypto';
import { type CliCommand, err, out, UsageError } from './command.ts';

// The service's modules load only for the command that needs them, so that `--help` and the
// client commands start quickly.
const loadConfig = async (): Promise<import('../config/index.ts').Config> => (await import('../config/index.ts')).loadConfig();

type Command = (args: string[]) => Promise<number>;

const commands: Record<string, Command> = {
  serve: async () => (await import('./serve.ts')).serve(),

  'policy check': async (args) => {
    const { formatProblem, loadPolicy, PolicyError } = await import('../policy/load.ts');
    const config = await loadConfig();
    const dir = args[0] ?? config.policyDir;
    try {
      const loaded = loadPolicy(dir, config.env);
      for (const w of loaded.warnings) err(`warning: ${formatProblem(w)}`);
      const p = loaded.policy;
      out(
        `ok: ${loaded.files.length} file(s), ${Object.keys(p.datasets).length} dataset(s), ` +
          `${Object.keys(p.principals).length} principal(s), ${Object.keys(p.roles).length} role(s), ` +
          `${Object.keys(p.metrics).length} metric(s)`,
      );
      return 0;
    } catch (e: unknown) {
      if (!(e instanceof PolicyError)) throw e;
      for (const p of e.problems) err(formatProblem(p));
      return 1;
    }
  },

  token: async (args) => {
    const { mintToken } = await import('../http/auth.ts');
    const { loadPolicy } = await import('../policy/load.ts');
    const config = await loadConfig();
    const subject = args[0];
    if (subject === undefined) throw new Error('name a principal: dpq token <principal>');
    if (config.jwtSecret === undefined) throw new Error('DPQ_JWT_SECRET is not set (for the running embedded demo: npx dpq demo token <principal>)');
    const { policy } = loadPolicy(config.policyDir, config.env);
    if (!Object.hasOwn(policy.principals, subject)) throw new Error(`unknown principal "${subject}"`);
    out(await mintToken(new TextEncoder().encode(config.jwtSecret), subject));
    return 0;
  },

  apikey: async (args) => {
    const { sha256Hex } = await import('../http/auth.ts');
    const subject = args[0] ?? 'dashboard';
    const key = `dpq_${crypto.randomBytes(24).toString('base64url')}`;
    out(`API key (give it to the service account; it is not stored anywhere): ${key}`);
    out(`policy line:  ${subject}: { roles: [dashboard], apiKeySha256: "${sha256Hex(key)}" }`);
    return 0;
  },

  'demo load': async () => {
    const { default: pg } = await import('pg');
    const { loadDemo } = await import('../warehouse/demo.ts');
    const config = await loadConfig();
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
  if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
  const { verifyAudit } = await import('../audit/verify.ts');
  const { openStateStore } = await import('../state/open.ts');
  const config = await loadConfig();
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

/** A local command from the table above with its help text. */
function local(name: string, summary: string, usage: string, maxArgs: number): CliCommand {
  const run = commands[name]!;
  return {
    name,
    summary,
    usage,
    async run(args) {
      if (args.length > maxArgs) throw new UsageError(`unexpected argument "${args[maxArgs]}"`);
      return run(args);
    },
  };
}

export const LOCAL_COMMANDS: readonly CliCommand[] = [
  local('serve', 'start the HTTP service (same as npm start)', '\n\nConfiguration comes from the environment (see README: PORT, HOST, DATABASE_URL, DPQ_JWT_SECRET, …).', 0),
  local('policy check', 'validate a policy folder', '[dir]\n\nValidates dir (default: DPQ_POLICY_DIR or ./policies); prints each problem with its file and path.', 1),
  local('token', 'mint a bearer JWT for a principal (needs DPQ_JWT_SECRET)', '<principal>\n\nFor the embedded demo without DPQ_JWT_SECRET use npx dpq demo token <principal>.', 1),
  local('apikey', 'print a new API key and the apiKeySha256 line for the policy', '[principal]', 1),
  local('demo load', '(re)load the demo clinic dataset into DATABASE_URL', '', 0),
  local('audit verify', "verify the audit log's hash chain", '[<seq>:<sha256>]\n\nAgainst a checkpoint from the service log, if given. With the embedded store stop the server first, or use GET /v1/audit/verify.', 1),
];
