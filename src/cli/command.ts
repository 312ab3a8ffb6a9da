/**
 * What a CLI command is: its name (one or two words), a one-line summary for the usage list, its
 * own usage text for `--help`, and `run`, which returns the exit code. Exit codes: 0 success,
 * 1 an error answer or failure (its code and message on stderr), 2 a usage error.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  /** The text `dpq <name> --help` prints (after "usage: dpq <name>"). */
  readonly usage: string;
  run(args: string[]): Promise<number>;
}

/** A mistake in how the command was called: printed with the command's usage, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const out = (s: string): void => void process.stdout.write(`${s}\n`);
export const err = (s: string): void => void process.stderr.write(`${s}\n`);

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with strict options; an unknown option or a missing value is a UsageError. */
export function parse<O extends Options>(args: string[], options: O, positionals: { min?: number; max?: number } = {}): { values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true; args: string[] }>>['values']; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e: unknown) {
    throw new UsageError(e instanceof Error ? e.message.replace(/\. To specify a positional argument.*$/s, '') : String(e));
  }
  const n = parsed.positionals.length;
  if (positionals.min !== undefined && n < positionals.min) throw new UsageError(`expected ${positionals.min} argument(s), got ${n}`);
  if (positionals.max !== undefined && n > positionals.max) throw new UsageError(`unexpected argument "${parsed.positionals[positionals.max]}"`);
  return { values: parsed.values, positionals: parsed.positionals };
}

/** A number option: finite, or a UsageError naming the option. */
export function numberOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${value}"`);
  return n;
}
