/**
 * `npx dpq <command>`: the local commands (serve, policy check, token, apikey, demo load, audit
 * verify) and the client of a running server (query, estimate, budget, history, request,
 * requests, approve, deny, revoke, demo token); registry.ts lists them.
 *
 * `--help` (or `-h`) anywhere prints a command's usage and exits 0 without doing anything;
 * `--version` prints the version. Exit codes: 0 success, 1 an error answer (its code and message
 * on stderr) or failure, 2 a usage error or an unknown command (with the usage).
 */
import { VERSION } from '../version.ts';
import { ApiError } from './client/http.ts';
import { type CliCommand, UsageError } from './command.ts';
import { CLIENT_COMMANDS, COMMANDS } from './registry.ts';

function list(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n');
}

export function usage(): string {
  const local = COMMANDS.filter((c) => !CLIENT_COMMANDS.includes(c));
  return `usage: dpq <command> [options]      (dpq <command> --help for its options)

${list(local)}

Client of a running server (DPQ_URL, default http://127.0.0.1:8080; DPQ_TOKEN, a bearer token):
${list(CLIENT_COMMANDS)}

  --version                print the version
`;
}

const commandUsage = (c: CliCommand): string => `usage: dpq ${c.name}${c.usage.startsWith('\n') || c.usage === '' ? '' : ' '}${c.usage}\n\n${c.summary}\n`;

/** The command named by the first one or two words, and the rest of the arguments. */
function find(argv: readonly string[]): { command: CliCommand; args: string[] } | undefined {
  const two = COMMANDS.find((c) => c.name === `${argv[0]} ${argv[1] ?? ''}`);
  if (two !== undefined) return { command: two, args: argv.slice(2) };
  const one = COMMANDS.find((c) => c.name === argv[0]);
  return one === undefined ? undefined : { command: one, args: argv.slice(1) };
}

export async function main(argv: readonly string[]): Promise<number> {
  // `dpq requests | head`: a reader that stops early ends the output, not in a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  const [first] = argv;
  if (first === '--version' || first === '-v') {
    process.stdout.write(`dpq ${VERSION}\n`);
    return 0;
  }
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    const topic = first === 'help' && argv.length > 1 ? find(argv.slice(1)) : undefined;
    process.stdout.write(topic === undefined ? usage() : commandUsage(topic.command));
    return 0;
  }
  const found = find(argv);
  if (found === undefined) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
    const help = argv.includes('--help') || argv.includes('-h');
    if (group.length > 0) {
      process[help ? 'stdout' : 'stderr'].write(`${help ? '' : `dpq ${first}: say which one\n`}usage:\n${list(group.map((c) => ({ ...c, name: `dpq ${c.name}` })))}\n`);
      return help ? 0 : 2;
    }
    process.stderr.write(`dpq: unknown command "${first}"\n${usage()}`);
    return 2;
  }
  const { command, args } = found;
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(commandUsage(command));
    return 0;
  }
  try {
    return await command.run(args);
  } catch (err: unknown) {
    if (err instanceof UsageError) {
      process.stderr.write(`dpq ${command.name}: ${err.message}\n${commandUsage(command)}`);
      return 2;
    }
    if (err instanceof ApiError) {
      process.stderr.write(`dpq ${command.name}: ${err.code}: ${err.message}\n${hintOf(err)}`);
      return 1;
    }
    process.stderr.write(`dpq ${command.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/** What an error answer's details add: the SQL hint, the budget figures, how to ask for more. */
function hintOf(err: ApiError): string {
  const d = err.details;
  const lines: string[] = [];
  if (typeof d.hint === 'string') lines.push(`hint: ${d.hint}`);
  if (typeof d.position === 'number') lines.push(`at: character ${d.position + 1} of the SQL`);
  if (err.code === 'BUDGET_EXHAUSTED') lines.push('ask for more: npx dpq request budget --epsilon <ε> --justification "…"  (or see details with --json)');
  if (typeof d.reason === 'string' && err.code === 'UNAUTHENTICATED') lines.push(`reason: ${d.reason}`);
  return lines.map((l) => `${l}\n`).join('');
}
