/**
 * `npx dpq keys new`: a fresh token key pair for DPQ_TOKEN_KEYS (`id:key`, 32 random bytes in hex),
 * or with `--jwt` a fresh HS256 secret for DPQ_JWT_SECRET. The value goes to stdout alone (for
 * scripts); how to roll it out goes to stderr.
 */
import crypto from 'node:crypto';

const ROTATION_HINT = `Roll it out in two steps, one replica at a time:
  1. list it last (known everywhere, not used yet): DPQ_TOKEN_KEYS=<current pairs>,<this pair>
  2. then first (new tokens use it):                 DPQ_TOKEN_KEYS=<this pair>,<current pairs>
Old tokens reveal while their key is listed; drop a key only when its tokens may stop revealing.`;

const JWT_HINT = `Roll it out in two steps, one replica at a time:
  1. DPQ_JWT_SECRET=<current>,<this secret>   (verified everywhere)
  2. DPQ_JWT_SECRET=<this secret>,<current>   (signs; tokens of the old one still verify)
Drop the old secret once the tokens it signed have expired.`;

/** A key id that sorts by creation day and does not repeat: k + yyyymmdd + 4 hex. */
export function newKeyId(now: Date = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  return `k${day}${crypto.randomBytes(2).toString('hex')}`;
}

export async function keysNew(args: string[]): Promise<number> {
  if (args.includes('--help')) {
    process.stdout.write('usage: dpq keys new [--jwt]\n  prints a new id:key pair for DPQ_TOKEN_KEYS, or with --jwt a new secret for DPQ_JWT_SECRET\n');
    return 0;
  }
  const unknown = args.filter((a) => a !== '--jwt');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]} (dpq keys new [--jwt])`);
  if (args.includes('--jwt')) {
    process.stdout.write(`${crypto.randomBytes(48).toString('base64url')}\n`);
    process.stderr.write(`${JWT_HINT}\n`);
  } else {
    process.stdout.write(`${newKeyId()}:${crypto.randomBytes(32).toString('hex')}\n`);
    process.stderr.write(`${ROTATION_HINT}\n`);
  }
  return 0;
}
