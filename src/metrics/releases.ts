/**
 * Noisy metrics for dashboards: a metric's privacy cost grows with its releases, not its readers.
 *
 * A read serves the latest release until its `next_release_at`. The first read after that claims a
 * refresh lease on the metric's state row — in one state-store transaction that also charges the
 * metric's budget (and the dataset total) and audits the charge — computes one release, stores it
 * and gives the lease back. Every other read, on this replica or another, finds the lease taken:
 * it serves the previous release meanwhile, or, when there is none yet, waits for the new one.
 * So concurrent first reads cause exactly one release. A release that cannot be paid for is never
 * computed: the last one is served with `stale: true`. A lease left by a dead replica lapses after
 * the lease time (longer than any statement may run), and its spent budget stays spent.
 */
import crypto from 'node:crypto';
import { auditedTransaction } from '../audit/record.ts';
import { reserve } from '../budget/ledger.ts';
import { periodOf } from '../budget/period.ts';
import { DpqError, FIXED_MESSAGES, queryFailed } from '../errors.ts';
import type { Principal } from '../policy/authorize.ts';
import type { Metric } from '../policy/schema.ts';
import { executeRelease, noiseMark, type StoredRelease } from '../queries/execute.ts';
import { type PreparedQuery, prepareQuery } from '../queries/prepare.ts';
import type { Services } from '../services.ts';
import type { StateQuery } from '../state/store.ts';
import { WarehouseError } from '../warehouse/adapter.ts';
import { metricParams } from './check.ts';

/** A refresh lease lasts longer than any warehouse statement may run (statement_timeout + margin). */
export const leaseMs = (services: Services): number => Math.max(60_000, services.config.statementTimeoutMs + 30_000);
const WAIT_STEP_MS = 50;

export interface MetricRelease {
  readonly seq: number;
  readonly releasedAt: Date;
  readonly nextReleaseAt: Date;
  readonly body: string;
}

export interface ServedMetric {
  readonly release: MetricRelease;
  readonly stale: boolean;
}

interface ReleaseRow {
  seq: number;
  released_at: Date | string;
  next_release_at: Date | string;
  body: string;
}

const toRelease = (r: ReleaseRow): MetricRelease => ({
  seq: Number(r.seq),
  releasedAt: new Date(r.released_at),
  nextReleaseAt: new Date(r.next_release_at),
  body: r.body,
});

export async function latestRelease(db: StateQuery, metric: string): Promise<MetricRelease | undefined> {
  const r = await db.query<ReleaseRow>(
    'SELECT seq, released_at, next_release_at, body FROM dpq.metric_releases WHERE metric = $1 ORDER BY seq DESC LIMIT 1',
    [metric],
  );
  return r.rows[0] === undefined ? undefined : toRelease(r.rows[0]);
}

export async function releaseHistory(db: StateQuery, metric: string, limit: number): Promise<MetricRelease[]> {
  const r = await db.query<ReleaseRow>(
    'SELECT seq, released_at, next_release_at, body FROM dpq.metric_releases WHERE metric = $1 ORDER BY seq DESC LIMIT $2',
    [metric, limit],
  );
  return r.rows.map(toRelease);
}

/** The budget account of a metric: its own limit, charged alongside the dataset total. */
export const metricAccount = (name: string): string => `metric:${name}`;

type Claim =
  | { readonly kind: 'fresh'; readonly release: MetricRelease }
  | { readonly kind: 'busy' }
  | { readonly kind: 'exhausted' }
  | { readonly kind: 'claimed'; readonly leaseId: string; readonly releaseId: string; readonly prepared: PreparedQuery; readonly chargedBy: number };

/** Serve a metric to `principal` (who may read it): the current release, a new one, or a stale one. */
export async function readMetric(services: Services, principal: Principal, name: string, metric: Metric): Promise<ServedMetric> {
  const deadline = Date.now() + leaseMs(services);
  let prepared: PreparedQuery | undefined;
  for (;;) {
    const latest = await latestRelease(services.state, name);
    const now = services.clock.now();
    if (latest !== undefined && now < latest.nextReleaseAt) return { release: latest, stale: false };
    if (latest !== undefined && (await knownExhausted(services.state, name, limitKeyOf(services, metric, now)))) {
      services.telemetry.metricStale.inc({ metric: name });
      return { release: latest, stale: true };
    }
    // Prepared outside the claim's transaction (planning may read the warehouse catalog, and the
    // embedded store runs one transaction at a time), and once per read, not once per wait.
    prepared ??= await prepareQuery(services, metricParams(services.policy, name, metric), metric.sql);
    const claim = await claimRefresh(services, principal, name, metric, prepared, now);
    switch (claim.kind) {
      case 'fresh':
        return { release: claim.release, stale: false };
      case 'exhausted':
        if (latest === undefined) {
          throw new DpqError('BUDGET_EXHAUSTED', `the budget of metric ${name} is spent and it has no release`, { metric: name });
        }
        services.telemetry.metricStale.inc({ metric: name });
        return { release: latest, stale: true };
      case 'busy':
        if (latest !== undefined) return { release: latest, stale: false };
        if (Date.now() > deadline) throw new DpqError('UNAVAILABLE', FIXED_MESSAGES.UNAVAILABLE);
        await new Promise((r) => setTimeout(r, WAIT_STEP_MS));
        continue;
      case 'claimed':
        return { release: await computeRelease(services, principal, name, metric, claim), stale: false };
    }
  }
}

/** The limits and budget period a metric's budget was found spent under (a policy change or a new period clears the finding). */
function limitKeyOf(services: Services, metric: Metric, now: Date): string {
  const dataset = services.policy.datasets[metric.dataset]!;
  return JSON.stringify([metric.budget, dataset.budget.total ?? null, periodOf(dataset.budget.renew, now).key]);
}

async function knownExhausted(db: StateQuery, name: string, limitKey: string): Promise<boolean> {
  const r = await db.query<{ exhausted_for: string | null }>('SELECT exhausted_for FROM dpq.metric_state WHERE metric = $1', [name]);
  return r.rows[0]?.exhausted_for === limitKey;
}

async function claimRefresh(services: Services, principal: Principal, name: string, metric: Metric, prepared: PreparedQuery, now: Date): Promise<Claim> {
  const dataset = services.policy.datasets[metric.dataset]!;
  const limitKey = limitKeyOf(services, metric, now);
  return auditedTransaction(services, async (tx, record) => {
    await tx.query('INSERT INTO dpq.metric_state (metric) VALUES ($1) ON CONFLICT DO NOTHING', [name]);
    const state = (
      await tx.query<{ lease_until: Date | string | null; exhausted_for: string | null }>(
        'SELECT lease_until, exhausted_for FROM dpq.metric_state WHERE metric = $1 FOR UPDATE',
        [name],
      )
    ).rows[0]!;
    const latest = await latestRelease(tx, name);
    if (latest !== undefined && now < latest.nextReleaseAt) return { kind: 'fresh', release: latest };
    if (state.exhausted_for === limitKey) return { kind: 'exhausted' };
    if (state.lease_until !== null && new Date(state.lease_until) > now) return { kind: 'busy' };

    const releaseId = `m_${crypto.randomBytes(12).toString('base64url')}`;
    const r = await reserve(tx, {
      key: { principal: metricAccount(name), dataset: metric.dataset, period: periodOf(dataset.budget.renew, now).key },
      events: prepared.split.events,
      limit: metric.budget,
      total: dataset.budget.total,
      accounting: dataset.budget.accounting,
      kind: 'metric',
      reference: releaseId,
      at: now,
    });
    const base = {
      actor: principal.name,
      action: 'metric.release',
      dataset: metric.dataset,
      sqlFingerprint: prepared.shape,
      sqlRedacted: prepared.redacted,
    } as const;
    if (!r.ok) {
      await tx.query('UPDATE dpq.metric_state SET exhausted_for = $2 WHERE metric = $1', [name, limitKey]);
      await record([{ ...base, outcome: 'refused', code: 'BUDGET_EXHAUSTED', epsilon: 0, delta: 0, details: { metric: name, scope: r.refusal.scope } }]);
      return { kind: 'exhausted' };
    }
    const leaseId = crypto.randomBytes(12).toString('base64url');
    await tx.query('UPDATE dpq.metric_state SET lease_until = $2, lease_id = $3, exhausted_for = NULL WHERE metric = $1', [
      name,
      new Date(now.getTime() + leaseMs(services)).toISOString(),
      leaseId,
    ]);
    const charge = prepared.split.charge;
    // The charge's entry carries its ε and δ; the release's later entries carry 0 and name it.
    const [chargedBy] = await record([{ ...base, outcome: 'ok', epsilon: charge.epsilon, delta: charge.delta, details: { metric: name, stage: 'charged', releaseId, ...noiseMark(services) } }]);
    services.telemetry.epsilonSpent.inc({ dataset: metric.dataset }, charge.epsilon);
    return { kind: 'claimed', leaseId, releaseId, prepared, chargedBy: chargedBy! };
  });
}

async function computeRelease(
  services: Services,
  principal: Principal,
  name: string,
  metric: Metric,
  claim: Extract<Claim, { kind: 'claimed' }>,
): Promise<MetricRelease> {
  const base = { actor: principal.name, action: 'metric.release', dataset: metric.dataset } as const;
  const giveBack = 'UPDATE dpq.metric_state SET lease_until = NULL, lease_id = NULL WHERE metric = $1 AND lease_id = $2';
  let stored: StoredRelease;
  try {
    stored = await executeRelease(services, claim.prepared, claim.releaseId, services.clock.now());
  } catch (err: unknown) {
    await auditedTransaction(services, async (tx, record) => {
      await tx.query(giveBack, [name, claim.leaseId]);
      await record([{ ...base, outcome: 'failed', code: 'QUERY_FAILED', epsilon: 0, delta: 0, details: { metric: name, releaseId: claim.releaseId, chargedBy: claim.chargedBy, ...noiseMark(services) } }]);
    });
    // Every failure after the charge is the one fixed QUERY_FAILED (see queries/run.ts).
    if (!(err instanceof WarehouseError)) services.logger.error('a metric release failed after its charge', { metric: name, errorName: err instanceof Error ? err.name : typeof err });
    throw queryFailed();
  }
  const releasedAt = services.clock.now();
  const nextReleaseAt = new Date(releasedAt.getTime() + metric.refresh);
  const body = JSON.stringify(stored);
  // The seq is taken under the metric's row lock, so even a release whose lease lapsed (and was
  // claimed again elsewhere) is stored: its budget was spent either way.
  const seq = await auditedTransaction(services, async (tx, record) => {
    await tx.query('SELECT 1 FROM dpq.metric_state WHERE metric = $1 FOR UPDATE', [name]);
    const inserted = await tx.query<{ seq: number }>(
      `INSERT INTO dpq.metric_releases (metric, seq, id, released_at, next_release_at, body)
       SELECT $1, COALESCE(max(seq), 0) + 1, $2, $3, $4, $5 FROM dpq.metric_releases WHERE metric = $1
       RETURNING seq`,
      [name, claim.releaseId, releasedAt.toISOString(), nextReleaseAt.toISOString(), body],
    );
    await tx.query(giveBack, [name, claim.leaseId]);
    await record([
      { ...base, outcome: 'answered', epsilon: 0, delta: 0, rowCount: stored.rows.length, details: { metric: name, releaseId: claim.releaseId, chargedBy: claim.chargedBy, ...noiseMark(services) } },
    ]);
    return Number(inserted.rows[0]!.seq);
  });
  const release: MetricRelease = { seq, releasedAt, nextReleaseAt, body };
  services.telemetry.metricReleases.inc({ metric: name });
  return release;
}
