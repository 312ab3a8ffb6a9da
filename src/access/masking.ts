/**
 * Masks for raw results (policy.md, `mask`): what a `quasi`/`pii` column the grant does not cover
 * — or an `id` column — looks like.
 *
 * - `redact`: null. The column is not even read from the warehouse (see sql/raw/).
 * - `tokenize`: `tok_` + the first 128 bits of HMAC-SHA256(k_token, dataset ‖ column ‖ value), hex,
 *   where the column is its token domain (`tokenDomain`: joined unit columns share one). Equal
 *   values give equal tokens in every query, so rows can be joined by token; reversible only
 *   through the token vault (vault.ts), under a grant that covers the column.
 * - `hash`: HMAC-SHA256(k_hash, dataset ‖ table.column ‖ value), hex. Keyed (no dictionary attack
 *   without the key), never stored, so never revealable.
 * - `partial {keepLast}`: every letter and digit but the last `keepLast` becomes `*`, separators
 *   stay: `123-45-6789` → `***-**-6789`.
 * - `generalize {keepFirst}`: the first `keepFirst` characters stay, the rest become `*`:
 *   `94110` → `941**`.
 * `partial` and `generalize` always hide at least one character, so a value shorter than what the
 * mask keeps is never shown whole. NULL stays NULL under every mask.
 *
 * Subkeys are derived from DPQ_TOKEN_KEY with HKDF-SHA256 and distinct labels, so a hash never
 * equals a token and the vault's encryption key is independent of both.
 */
import crypto from 'node:crypto';
import type { Mask } from '../policy/schema.ts';
import type { Cell } from '../warehouse/adapter.ts';

export { maskOf, tokenDomain } from '../policy/masks.ts';

export type MaskKind = 'redact' | 'tokenize' | 'hash' | 'partial' | 'generalize';

export interface MaskKeys {
  /** The key id (DPQ_TOKEN_KEYS); `k0` is DPQ_TOKEN_KEY alone. */
  readonly id: string;
  readonly token: Buffer;
  readonly hash: Buffer;
  readonly vault: Buffer;
}

/** The id of the key the tokens of the format before keyrings (`tok_` + 32 hex) belong to. */
export const LEGACY_KEY_ID = 'k0';

export function deriveMaskKeys(tokenKey: Buffer, id = LEGACY_KEY_ID): MaskKeys {
  const derive = (label: string): Buffer => Buffer.from(crypto.hkdfSync('sha256', tokenKey, Buffer.alloc(0), `dpq ${label} v1`, 32));
  return Object.freeze({ id, token: derive('tokenize'), hash: derive('hash'), vault: derive('token vault') });
}

/**
 * Every listed token key, newest first. New tokens and hashes use the newest; a token names its
 * key (`tok_<id>_…`, or no id for k0), and reveals while that key is listed.
 */
export interface MaskKeyring {
  readonly newest: MaskKeys;
  byId(id: string): MaskKeys | undefined;
}

export function deriveKeyring(keys: readonly { readonly id: string; readonly key: Buffer }[]): MaskKeyring | undefined {
  if (keys.length === 0) return undefined;
  const derived = new Map(keys.map((k) => [k.id, deriveMaskKeys(k.key, k.id)]));
  return Object.freeze({ newest: derived.get(keys[0]!.id)!, byId: (id: string) => derived.get(id) });
}

const TOKEN_SHAPE = /^tok_(?:([a-z0-9]{1,24})_)?[0-9a-f]{32}$/;

/** The key id a token was made with, or undefined when it is not a token. */
export function tokenKeyId(token: string): string | undefined {
  const m = TOKEN_SHAPE.exec(token);
  return m === null ? undefined : (m[1] ?? LEGACY_KEY_ID);
}

export function maskKind(mask: Mask): MaskKind {
  if (typeof mask === 'string') return mask;
  return 'partial' in mask ? 'partial' : 'generalize';
}

/** The text a value is tokenized, hashed and revealed as. */
export function cellText(cell: Exclude<Cell, null>): string {
  if (Array.isArray(cell)) return JSON.stringify(cell, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  if (typeof cell === 'boolean') return cell ? 'true' : 'false';
  return String(cell);
}

function mac(key: Buffer, dataset: string, columnRef: string, text: string): Buffer {
  // Length-prefixed fields: no two (dataset, column, value) triples share an input.
  const h = crypto.createHmac('sha256', key);
  for (const part of [dataset, columnRef, text]) {
    const b = Buffer.from(part, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    h.update(len).update(b);
  }
  return h.digest();
}

export function tokenOf(keys: MaskKeys, dataset: string, columnRef: string, text: string): string {
  const id = keys.id === LEGACY_KEY_ID ? '' : `${keys.id}_`;
  return `tok_${id}${mac(keys.token, dataset, columnRef, text).subarray(0, 16).toString('hex')}`;
}

export function hashOf(keys: MaskKeys, dataset: string, columnRef: string, text: string): string {
  return mac(keys.hash, dataset, columnRef, text).toString('hex');
}

const ALNUM = /[\p{L}\p{N}]/u;

export function partialMask(text: string, keepLast: number): string {
  const chars = [...text];
  const alnum = chars.filter((c) => ALNUM.test(c)).length;
  let keep = Math.min(keepLast, Math.max(0, alnum - 1));
  const out = [...chars];
  for (let i = out.length - 1; i >= 0; i--) {
    if (!ALNUM.test(out[i]!)) continue;
    if (keep > 0) keep--;
    else out[i] = '*';
  }
  return out.join('');
}

export function generalizeMask(text: string, keepFirst: number): string {
  const chars = [...text];
  const keep = Math.min(keepFirst, Math.max(0, chars.length - 1));
  return chars.map((c, i) => (i < keep ? c : '*')).join('');
}

/** A value that needs the vault: the token, and the text to seal under it. */
export interface Tokenized {
  readonly token: string;
  readonly columnRef: string;
  readonly text: string;
}

/**
 * Mask one cell. `tokenized` collects the tokens made, for the vault. `redact` columns are never
 * read, but a value that reaches here anyway is still dropped.
 */
export function applyMask(
  mask: Mask,
  cell: Cell,
  ctx: { readonly keys: MaskKeys | undefined; readonly dataset: string; readonly columnRef: string; readonly tokenized: Map<string, Tokenized> },
): string | null {
  if (cell === null) return null;
  const text = cellText(cell);
  const keys = (): MaskKeys => {
    if (ctx.keys === undefined) throw new Error('no tokenization key configured');
    return ctx.keys;
  };
  if (mask === 'redact') return null;
  if (mask === 'tokenize') {
    const token = tokenOf(keys(), ctx.dataset, ctx.columnRef, text);
    if (!ctx.tokenized.has(token)) ctx.tokenized.set(token, { token, columnRef: ctx.columnRef, text });
    return token;
  }
  if (mask === 'hash') return hashOf(keys(), ctx.dataset, ctx.columnRef, text);
  if ('partial' in mask) return partialMask(text, mask.partial.keepLast);
  return generalizeMask(text, mask.generalize.keepFirst);
}
