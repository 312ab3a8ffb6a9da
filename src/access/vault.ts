/**
 * The token vault: what makes a `tokenize` mask reversible (`POST /v1/tokens/reveal`).
 *
 * Why HMAC tokens plus a vault rather than deterministic encryption (AES-SIV) as the token itself:
 * a SIV token is as long as the value, so it leaks the value's length and grows with it; an HMAC
 * token is a fixed 128 bits that says nothing about the value. The price is a write per new value;
 * the vault keeps only ciphertext — AES-256-GCM under a key derived from DPQ_TOKEN_KEY, with the
 * token as associated data, so a sealed value cannot be moved under another token — and the
 * state store alone (a backup, a replica, an operator) cannot reveal anything.
 */
import crypto from 'node:crypto';
import type { StateQuery } from '../state/store.ts';
import type { MaskKeys, Tokenized } from './masking.ts';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export function seal(key: Buffer, token: string, text: string): string {
  const nonce = crypto.randomBytes(NONCE_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(token, 'utf8'));
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
}

/** The sealed text, or undefined when it does not authenticate under this key and token. */
export function open(key: Buffer, token: string, sealed: string): string | undefined {
  try {
    const raw = Buffer.from(sealed, 'base64');
    if (raw.length < NONCE_BYTES + TAG_BYTES) return undefined;
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(token, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/** Keep the tokens of a raw result (first writer wins; a token always seals the same value). */
export async function storeTokens(tx: StateQuery, keys: MaskKeys, dataset: string, tokens: Iterable<Tokenized>, at: Date): Promise<void> {
  const list = [...tokens];
  for (let i = 0; i < list.length; i += 1000) {
    const batch = list.slice(i, i + 1000);
    await tx.query(
      `INSERT INTO dpq.token_vault (token, dataset, column_ref, sealed, created_at)
       SELECT t, $2, c, s, $5::timestamptz FROM unnest($1::text[], $3::text[], $4::text[]) AS x(t, c, s)
       ON CONFLICT (token) DO NOTHING`,
      [batch.map((t) => t.token), dataset, batch.map((t) => t.columnRef), batch.map((t) => seal(keys.vault, t.token, t.text)), at.toISOString()],
    );
  }
}

export interface VaultEntry {
  readonly token: string;
  readonly dataset: string;
  readonly columnRef: string;
  readonly sealed: string;
}

export async function lookupTokens(db: StateQuery, tokens: readonly string[]): Promise<Map<string, VaultEntry>> {
  const r = await db.query<{ token: string; dataset: string; column_ref: string; sealed: string }>(
    'SELECT token, dataset, column_ref, sealed FROM dpq.token_vault WHERE token = ANY($1::text[])',
    [[...tokens]],
  );
  return new Map(r.rows.map((x) => [x.token, { token: x.token, dataset: x.dataset, columnRef: x.column_ref, sealed: x.sealed }]));
}
