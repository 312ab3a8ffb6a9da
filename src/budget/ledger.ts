/**
 * The budget ledger: per (principal, dataset, period) accounts plus the dataset total ('*'), and
 * an immutable event row per release. `reserve` is the check-and-charge: inside the caller's
 * transaction it locks the account rows (principal and total, in a fixed order so concurrent
 * reservations cannot deadlock), composes the new totals, refuses when a limit would be passed,
 * and otherwise writes the new totals and the event. The dataset's accounting (filter.ts) decides
 * what "passed" means; both filters' totals are kept on every account. Every replica goes through the same row locks,
 * so concurrent requests on any number of replicas never overspend.
 */
import { epsilonToMicro, deltaToPico, microToEpsilon, picoToDelta, type PrivacyEvent } from '../dp/index.ts';
import type { StateQuery } from '../state/store.ts';
import { type Accounting, type UnitLimit, fits, spent } from './filter.ts';
import { addEvent, type LedgerTotals, type Spent } from './totals.ts';

export const TOTAL = '*';

export interface Limit {
  readonly epsilon: number;
  readonly delta: number;
}

export interface AccountKey {
  readonly principal: string;
  readonly dataset: string;
  readonly period: string;
}

export interface Amount {
  readonly limit: number;
  readonly spent: number;
  readonly remaining: number;
}

export interface BudgetStatus {
  readonly epsilon: Amount;
  readonly delta: Amount;
}

export interface Refusal {
  readonly scope: 'principal' | 'dataset';
  readonly required: { readonly epsilon: number; readonly delta: number };
  readonly remaining: { readonly epsilon: number; readonly delta: number };
}

export type ReserveResult =
  | { readonly ok: true; readonly status: BudgetStatus }
  | { readonly ok: false; readonly refusal: Refusal; readonly status: BudgetStatus };

interface AccountRow {
  principal: string;
  eps_micro: bigint;
  delta_pico: bigint;
  rho_pico: bigint;
  eps_extra_micro: bigint;
  delta_extra_pico: bigint;
  zrho_pico: bigint;
  zdelta_pico: bigint;
}

const COLUMNS = 'principal, eps_micro, delta_pico, rho_pico, eps_extra_micro, delta_extra_pico, zrho_pico, zdelta_pico';

function totalsOf(r: AccountRow | undefined): LedgerTotals {
  return {
    epsMicro: Number(r?.eps_micro ?? 0),
    deltaPico: Number(r?.delta_pico ?? 0),
    rhoPico: Number(r?.rho_pico ?? 0),
    zrhoPico: Number(r?.zrho_pico ?? 0),
    zdeltaPico: Number(r?.zdelta_pico ?? 0),
  };
}

function unitLimit(limit: Limit, row: AccountRow | undefined): UnitLimit {
  return {
    epsMicro: epsilonToMicro(limit.epsilon, 'down') + Number(row?.eps_extra_micro ?? 0),
    deltaPico: deltaToPico(limit.delta, 'down') + Number(row?.delta_extra_pico ?? 0),
  };
}

function status(limit: UnitLimit, used: Spent): BudgetStatus {
  const amount = (lim: number, sp: number, real: (u: number) => number): Amount => ({
    limit: real(lim),
    spent: real(sp),
    remaining: real(Math.max(0, lim - sp)),
  });
  return {
    epsilon: amount(limit.epsMicro, used.epsMicro, microToEpsilon),
    delta: amount(limit.deltaPico, used.deltaPico, picoToDelta),
  };
}

async function ensureAccounts(tx: StateQuery, key: AccountKey, principals: readonly string[]): Promise<void> {
  await tx.query(
    `INSERT INTO dpq.budget_accounts (principal, dataset, period) SELECT p, $2, $3 FROM unnest($1::text[]) AS p
     ON CONFLICT DO NOTHING`,
    [principals, key.dataset, key.period],
  );
}

/**
 * Write new totals for several principals of one account key and append the release's events, in
 * one statement (one round trip while the account rows are locked).
 */
async function writeTotals(
  tx: StateQuery,
  key: AccountKey,
  updates: readonly (readonly [string, LedgerTotals])[],
  entry: { readonly kind: 'query' | 'metric' | 'refund'; readonly events: readonly PrivacyEvent[]; readonly reference: string; readonly sign: 1 | -1 },
  at: Date,
): Promise<void> {
  const { events, sign } = entry;
  await tx.query(
    `WITH totals AS (
       UPDATE dpq.budget_accounts AS a SET eps_micro = v.e, delta_pico = v.d, rho_pico = v.r, zrho_pico = v.zr, zdelta_pico = v.zd,
         updated_at = $7
       FROM unnest($3::text[], $4::int8[], $5::int8[], $6::int8[], $15::int8[], $16::int8[]) AS v(p, e, d, r, zr, zd)
       WHERE a.principal = v.p AND a.dataset = $1 AND a.period = $2
     )
     INSERT INTO dpq.budget_events (at, principal, dataset, period, kind, mechanism, eps_micro, delta_pico, rho_pico, reference)
     SELECT $7, $8, $1, $2, $9, m, e, d, r, $14 FROM unnest($10::text[], $11::int8[], $12::int8[], $13::int8[]) AS v(m, e, d, r)`,
    [
      key.dataset,
      key.period,
      updates.map(([p]) => p),
      updates.map(([, t]) => t.epsMicro),
      updates.map(([, t]) => t.deltaPico),
      updates.map(([, t]) => t.rhoPico),
      at.toISOString(),
      key.principal,
      entry.kind,
      events.map((e) => e.mechanism),
      events.map((e) => sign * e.epsilon),
      events.map((e) => sign * e.delta),
      events.map((e) => sign * e.rho),
      entry.reference,
      updates.map(([, t]) => t.zrhoPico),
      updates.map(([, t]) => t.zdeltaPico),
    ],
  );
}

export interface ReserveInput {
  readonly key: AccountKey;
  readonly events: readonly PrivacyEvent[];
  /** The principal's limit on the dataset (policy), before approved top-ups. */
  readonly limit: Limit;
  /** The dataset total across principals, when the policy sets one. */
  readonly total: Limit | undefined;
  /** The dataset's filter (policy `budget.accounting`); basic when absent. */
  readonly accounting?: Accounting;
  readonly kind: 'query' | 'metric';
  readonly reference: string;
  readonly at: Date;
}

/** Lock the account rows of `principals` (in a fixed order), creating the missing ones. */
async function lockAccounts(tx: StateQuery, key: AccountKey, principals: readonly string[]): Promise<AccountRow[]> {
  const select = (): Promise<{ rows: AccountRow[] }> =>
    tx.query<AccountRow>(
      `SELECT ${COLUMNS} FROM dpq.budget_accounts WHERE dataset = $1 AND period = $2 AND principal = ANY($3::text[])
       ORDER BY principal FOR UPDATE`,
      [key.dataset, key.period, principals],
    );
  const first = (await select()).rows;
  if (first.length === principals.length) return first;
  await ensureAccounts(tx, key, principals);
  return (await select()).rows;
}

/** Check-and-charge, atomically within `tx`. */
export async function reserve(tx: StateQuery, input: ReserveInput): Promise<ReserveResult> {
  const { key } = input;
  const accounting = input.accounting ?? 'basic';
  const principals = input.total === undefined ? [key.principal] : [TOTAL, key.principal].sort();
  const rows = await lockAccounts(tx, key, principals);
  const own = rows.find((r) => r.principal === key.principal);
  const ownLimit = unitLimit(input.limit, own);
  const ownAfter = input.events.reduce((t, e) => addEvent(t, e), totalsOf(own));
  const ownSpentBefore = spent(accounting, ownLimit, totalsOf(own));
  const ownSpentAfter = spent(accounting, ownLimit, ownAfter);
  const required = {
    epsilon: microToEpsilon(Math.max(0, ownSpentAfter.epsMicro - ownSpentBefore.epsMicro)),
    delta: picoToDelta(Math.max(0, ownSpentAfter.deltaPico - ownSpentBefore.deltaPico)),
  };
  const before = status(ownLimit, ownSpentBefore);
  if (!fits(accounting, ownLimit, ownAfter)) {
    return { ok: false, refusal: { scope: 'principal', required, remaining: { epsilon: before.epsilon.remaining, delta: before.delta.remaining } }, status: before };
  }
  const updates: [string, LedgerTotals][] = [[key.principal, ownAfter]];
  if (input.total !== undefined) {
    const totalRow = rows.find((r) => r.principal === TOTAL);
    const totalLimit = unitLimit(input.total, undefined);
    const totalAfter = input.events.reduce((t, e) => addEvent(t, e), totalsOf(totalRow));
    if (!fits(accounting, totalLimit, totalAfter)) {
      const left = status(totalLimit, spent(accounting, totalLimit, totalsOf(totalRow)));
      return { ok: false, refusal: { scope: 'dataset', required, remaining: { epsilon: left.epsilon.remaining, delta: left.delta.remaining } }, status: before };
    }
    updates.push([TOTAL, totalAfter]);
  }
  await writeTotals(tx, key, updates, { kind: input.kind, events: input.events, reference: input.reference, sign: 1 }, input.at);
  return { ok: true, status: status(ownLimit, ownSpentAfter) };
}

/**
 * Give back a reservation whose release never reached the warehouse (connection refused): the
 * same events subtracted, recorded as a refund event. Never used once a statement was sent.
 */
export async function refund(tx: StateQuery, input: Omit<ReserveInput, 'limit'>): Promise<void> {
  const { key } = input;
  const principals = input.total === undefined ? [key.principal] : [TOTAL, key.principal].sort();
  const rows = await lockAccounts(tx, key, principals);
  await writeTotals(
    tx,
    key,
    rows.map((row) => [row.principal, input.events.reduce((t, e) => addEvent(t, e, -1), totalsOf(row))] as const),
    { kind: 'refund', events: input.events, reference: input.reference, sign: -1 },
    input.at,
  );
}

/** Add an approved budget request to a principal's limit for the period. */
export async function topUp(tx: StateQuery, key: AccountKey, amount: Limit, reference: string, at: Date): Promise<void> {
  await ensureAccounts(tx, key, [key.principal]);
  const eps = epsilonToMicro(amount.epsilon, 'down');
  const delta = deltaToPico(amount.delta, 'down');
  await tx.query(
    `UPDATE dpq.budget_accounts SET eps_extra_micro = eps_extra_micro + $4, delta_extra_pico = delta_extra_pico + $5, updated_at = $6
     WHERE principal = $1 AND dataset = $2 AND period = $3`,
    [key.principal, key.dataset, key.period, eps, delta, at.toISOString()],
  );
  await tx.query(
    `INSERT INTO dpq.budget_events (at, principal, dataset, period, kind, mechanism, eps_micro, delta_pico, rho_pico, reference)
     VALUES ($1, $2, $3, $4, 'topup', NULL, $5, $6, 0, $7)`,
    [at.toISOString(), key.principal, key.dataset, key.period, eps, delta, reference],
  );
}

async function readRow(db: StateQuery, key: AccountKey): Promise<AccountRow | undefined> {
  const { rows } = await db.query<AccountRow>(`SELECT ${COLUMNS} FROM dpq.budget_accounts WHERE principal = $1 AND dataset = $2 AND period = $3`, [
    key.principal,
    key.dataset,
    key.period,
  ]);
  return rows[0];
}

/** The current status of an account (no lock; for reporting). */
export async function readStatus(db: StateQuery, key: AccountKey, limit: Limit, accounting: Accounting = 'basic'): Promise<BudgetStatus> {
  const row = await readRow(db, key);
  const unit = unitLimit(limit, row);
  return status(unit, spent(accounting, unit, totalsOf(row)));
}

/** Would `events` be admitted by the account now (no lock; for estimates, never for the charge)? */
export async function wouldFit(db: StateQuery, key: AccountKey, limit: Limit, accounting: Accounting, events: readonly PrivacyEvent[]): Promise<boolean> {
  const row = await readRow(db, key);
  return fits(accounting, unitLimit(limit, row), events.reduce((t, e) => addEvent(t, e), totalsOf(row)));
}
