/**
 * `POST /v1/tokens/reveal`: the clear values behind tokens, under an active raw grant of the
 * caller, and only for tokens of a column that grant covers on its dataset. Other tokens (another
 * column, another dataset, unknown — `hash` values are never in the vault) are listed as
 * unrevealed. Audited with counts and column names, never the tokens or their values.
 */
import { auditedTransaction } from '../audit/record.ts';
import type { AccessContext, Actor } from './context.ts';
import { tokenDomain, tokenKeyId } from './masking.ts';
import { activeGrantOf } from './raw-query.ts';
import { countReveals } from './repository.ts';
import { lookupTokens, open, type VaultEntry } from './vault.ts';

/** Why a token was not revealed (stable values). */
export type UnrevealedReason = 'unknown_token' | 'other_dataset' | 'column_not_granted' | 'no_token_key';

export interface RevealResponse {
  readonly requestId: string;
  readonly values: Readonly<Record<string, string>>;
  readonly unrevealed: readonly string[];
  /** For every unrevealed token: why, and what would reveal it. */
  readonly reasons: Readonly<Record<string, { readonly reason: UnrevealedReason; readonly message: string; readonly column?: string }>>;
}


function whyNot(entry: VaultEntry | undefined, grantDataset: string, hasKeys: boolean): RevealResponse['reasons'][string] {
  if (!hasKeys) return { reason: 'no_token_key', message: 'no tokenization key is configured (DPQ_TOKEN_KEY), so no token can be opened' };
  if (entry === undefined) return { reason: 'unknown_token', message: 'no raw query returned this token (a hash mask is never reversible)' };
  if (entry.dataset !== grantDataset) return { reason: 'other_dataset', message: `this token is from dataset ${entry.dataset}; this grant is on ${grantDataset}` };
  return {
    reason: 'column_not_granted',
    column: entry.columnRef,
    message: `this grant does not cover ${entry.columnRef}; request raw access with ${entry.columnRef} in clear to reveal it`,
  };
}

/** Open a vault entry with the key its token names; a token of a key no longer listed stays sealed. */
function openWithItsKey(ctx: AccessContext, token: string, sealed: string): string | undefined {
  const id = tokenKeyId(token);
  const keys = id === undefined ? undefined : ctx.keyring?.byId(id);
  return keys === undefined ? undefined : open(keys.vault, token, sealed);
}

export async function revealTokens(ctx: AccessContext, actor: Actor, requestId: string, tokens: readonly string[]): Promise<RevealResponse> {
  const grant = await activeGrantOf(ctx, actor, requestId, 'access.reveal');
  const wanted = [...new Set(tokens)];
  const found = await lookupTokens(ctx.services.state, wanted);
  const dataset = ctx.services.policy.datasets[grant.dataset]!;
  // A grant covering one column of a token domain covers the domain (the same people's ids).
  const covered = new Set(grant.columns.map((c) => tokenDomain(dataset, c)));
  const values: Record<string, string> = {};
  const unrevealed: string[] = [];
  const reasons: Record<string, RevealResponse['reasons'][string]> = {};
  const columns = new Set<string>();
  for (const token of wanted) {
    const entry = found.get(token);
    const value =
      entry !== undefined && entry.dataset === grant.dataset && covered.has(entry.columnRef) ? openWithItsKey(ctx, token, entry.sealed) : undefined;
    if (value === undefined) {
      unrevealed.push(token);
      reasons[token] = whyNot(entry, grant.dataset, ctx.keys !== undefined);
    } else {
      values[token] = value;
      columns.add(entry!.columnRef);
    }
  }
  const revealed = wanted.length - unrevealed.length;
  await auditedTransaction(ctx.services, async (tx, record) => {
    await countReveals(tx, grant.id, revealed);
    await record([
      {
        actor: actor.principal.name,
        action: 'access.reveal',
        dataset: grant.dataset,
        outcome: 'answered',
        requestId: grant.id,
        httpRequestId: actor.httpRequestId,
        rowCount: revealed,
        details: { tokens: wanted.length, revealed, unrevealed: unrevealed.length, columns: [...columns].sort() },
      },
    ]);
  });
  if (revealed > 0) ctx.metrics.reveals.inc({ dataset: grant.dataset }, revealed);
  return { requestId: grant.id, values, unrevealed, reasons };
}
