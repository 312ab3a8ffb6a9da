/**
 * `npx dpq <command>`: serve, policy check, token, apikey, demo load, audit verify.
 * Each command returns its exit code; output goes to stdout, problems to stderr.
 */
import { commands } from './commands.ts';

const USAGE = `usage: dpq <command>

  serve                    start the HTTP service (same as npm start)
  policy check [dir]       validate a policy folder (default: DPQ_POLICY_DIR or ./policies)
  token <principal>        mint a bearer JWT (needs DPQ_JWT_SECRET)
  apikey <principal>       print a new API key and the apiKeySha256 line for the policy
  demo load                (re)load the demo clinic dataset into DATABASE_URL
  audit verify             verify the audit log's hash chain
  access review            the access review of a running server (DPQ_URL, DPQ_TOKEN)
  keys new [--jwt]         print a new id:key pair for DPQ_TOKEN_KEYS (or a DPQ_JWT_SECRET)
`;

export async function main(argv: readonly string[]): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === 'help' || first === '--help') {
    process.stdout.write(USAGE);
    return 0;
  }
  // Two-word commands (`policy check`) before one-word ones (`serve`).
  const twoWords = `${first} ${second ?? ''}`;
  const key = Object.hasOwn(commands, twoWords) ? twoWords : first;
  const command = Object.hasOwn(commands, key) ? commands[key] : undefined;
  if (command === undefined) {
    process.stderr.write(`dpq: unknown command "${first}"\n${USAGE}`);
    return 2;
  }
  try {
    return await command(argv.slice(key.split(' ').length));
  } catch (err: unknown) {
    process.stderr.write(`dpq ${key}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
