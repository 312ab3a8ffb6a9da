/**
 * Alerts (policy.md `alerts`, api.md Reviews, alerts and chat approvals): rules over what
 * principals do, evaluated from the state store so that they hold across replicas, and never in
 * the way of the action that raised them.
 *
 * Every committed audit entry (audit/record.ts `observeAudit`) is measured after its commit, in
 * the background: raw rows read (`rawRowsPerHour`, per principal), tokens revealed
 * (`revealsPerHour`, per principal), aggregate and raw SQL or budget refusals (`refusalsPerHour`,
 * per principal), ε charged by queries and metric releases (`epsilonPerDay`, per principal and
 * dataset), and raw queries or reveals outside the given hours (`rawOutside`, per principal). Each
 * measure adds to a counter row of the state store for its UTC hour or day, in one statement that
 * returns the new total; the increment that takes the total past the threshold raises the alert —
 * so exactly one replica raises it, once per window, however the actions are spread.
 * `rawOutside` raises at the first such access in an hour (threshold 0).
 *
 * An alert is a row of `dpq.alerts` (GET /v1/alerts) and an audit entry (`action: "alert"`) in the
 * same transaction, then a webhook notification and `dpq_alerts_total{rule}`. A failure to
 * evaluate is logged and counted in `dpq_alert_evaluation_failures_total`; the action it measured
 * has long been answered.
 */
import client from 'prom-client';
import { type CommittedEntry, auditedTransaction, observeAudit } from '../audit/record.ts';
import type { AuditEntryInput } from '../audit/entry.ts';
import { describeHours, withinHours } from '../policy/conditions.ts';
import type { AlertRule } from '../policy/schema.ts';
import type { Services } from '../services.ts';
import type { StateQuery } from '../state/store.ts';
import type { Notifier } from './notify.ts';

export type Measure = 'rawRowsPerHour' | 'revealsPerHour' | 'refusalsPerHour' | 'epsilonPerDay' | 'rawOutside';

interface Sample {
  readonly rule: AlertRule;
  readonly measure: Measure;
  readonly principal: string;
  /** '' when counted per principal only. */
  readonly dataset: string;
  readonly bucket: string;
  readonly amount: number;
  readonly threshold: number;
}

export interface Alert {
  readonly id: string;
  readonly at: string;
  readonly rule: string;
  readonly principal: string;
  readonly dataset: string | null;
  readonly observed: number;
  readonly threshold: number;
}

const hourOf = (at: Date): string => at.toISOString().slice(0, 13);
const dayOf = (at: Date): string => at.toISOString().slice(0, 10);
const RAW_USE = new Set(['access.raw_query', 'access.reveal']);

/** What one committed entry adds to each rule's measure. */
export function samplesOf(rules: readonly AlertRule[], c: CommittedEntry): Sample[] {
  const e: AuditEntryInput = c.entry;
  if (e.action === 'alert') return [];
  const out: Sample[] = [];
  const rows = e.rowCount ?? 0;
  const add = (rule: AlertRule, measure: Measure, amount: number, threshold: number, perDataset: boolean, bucket: string): void => {
    if (amount > 0) out.push({ rule, measure, principal: e.actor, dataset: perDataset ? (e.dataset ?? '') : '', bucket, amount, threshold });
  };
  for (const rule of rules) {
    const w = rule.when;
    if (w.rawRowsPerHour !== undefined && e.action === 'access.raw_query' && e.outcome === 'answered') add(rule, 'rawRowsPerHour', rows, w.rawRowsPerHour, false, hourOf(c.at));
    if (w.revealsPerHour !== undefined && e.action === 'access.reveal' && e.outcome === 'answered') add(rule, 'revealsPerHour', rows, w.revealsPerHour, false, hourOf(c.at));
    if (w.refusalsPerHour !== undefined && e.outcome === 'refused' && (e.action === 'query' || e.action === 'access.raw_query')) add(rule, 'refusalsPerHour', 1, w.refusalsPerHour, false, hourOf(c.at));
    if (w.epsilonPerDay !== undefined && (e.action === 'query' || e.action === 'metric.release') && e.outcome === 'ok') add(rule, 'epsilonPerDay', e.epsilon ?? 0, w.epsilonPerDay, true, dayOf(c.at));
    if (w.rawOutside !== undefined && RAW_USE.has(e.action) && e.outcome === 'answered' && !withinHours(w.rawOutside, c.at)) add(rule, 'rawOutside', 1, 0, false, hourOf(c.at));
  }
  return out;
}

async function bump(tx: StateQuery, s: Sample): Promise<number> {
  const r = await tx.query<{ value: number | string }>(
    `INSERT INTO dpq.alert_counters (rule, principal, dataset, bucket, value) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (rule, principal, dataset, bucket) DO UPDATE SET value = dpq.alert_counters.value + EXCLUDED.value
     RETURNING value`,
    [s.rule.name, s.principal, s.dataset, s.bucket, s.amount],
  );
  return Number(r.rows[0]!.value);
}

function alertEntry(a: Alert, s: Sample): AuditEntryInput {
  return {
    actor: 'dpq',
    action: 'alert',
    dataset: a.dataset,
    outcome: 'ok',
    details: {
      alert: a.id,
      rule: a.rule,
      measure: s.measure,
      principal: a.principal,
      observed: a.observed,
      threshold: a.threshold,
      window: s.bucket,
      ...(s.rule.when.rawOutside === undefined ? {} : { hours: describeHours(s.rule.when.rawOutside) }),
    },
  };
}

/** Count the samples; raise the alerts whose threshold they cross, audited in the same transaction. */
async function evaluate(services: Services, samples: readonly Sample[], at: Date): Promise<{ alert: Alert; sample: Sample }[]> {
  // One order for every replica's increments, so concurrent evaluations never deadlock.
  const sorted = [...samples].sort((a, b) => `${a.rule.name}|${a.principal}|${a.dataset}|${a.bucket}`.localeCompare(`${b.rule.name}|${b.principal}|${b.dataset}|${b.bucket}`));
  return auditedTransaction(services, async (tx, record) => {
    const raised: { alert: Alert; sample: Sample }[] = [];
    for (const s of sorted) {
      const total = await bump(tx, s);
      if (!(total - s.amount <= s.threshold && total > s.threshold)) continue;
      const row = await tx.query<{ seq: string | number }>(
        `INSERT INTO dpq.alerts (at, rule, principal, dataset, observed, threshold, bucket) VALUES ($1::timestamptz, $2, $3, $4, $5, $6, $7) RETURNING seq`,
        [at.toISOString(), s.rule.name, s.principal, s.dataset, total, s.threshold, s.bucket],
      );
      const alert: Alert = { id: `al_${row.rows[0]!.seq}`, at: at.toISOString(), rule: s.rule.name, principal: s.principal, dataset: s.dataset === '' ? null : s.dataset, observed: total, threshold: s.threshold };
      raised.push({ alert, sample: s });
    }
    await record(raised.map((r) => alertEntry(r.alert, r.sample)));
    return raised;
  });
}

export interface AlertEngine {
  /** Resolves once every evaluation started so far has finished (tests, shutdown). */
  idle(): Promise<void>;
}

function alertText(a: Alert, s: Sample): string {
  const where = a.dataset === null ? '' : ` on ${a.dataset}`;
  if (s.measure === 'rawOutside') return `dpq ALERT ${a.rule}: ${a.principal} used raw access outside ${describeHours(s.rule.when.rawOutside!)} (${a.observed} time(s) this hour)`;
  return `dpq ALERT ${a.rule}: ${a.principal}${where} — ${s.measure} ${a.observed} > ${a.threshold}`;
}

/** Watch the service's audit entries and raise the policy's alerts. */
export function startAlerts(services: Services, notifier: Notifier): AlertEngine {
  const registry = services.telemetry.registry;
  const raisedTotal = new client.Counter({ name: 'dpq_alerts_total', help: 'Alerts raised by the policy alert rules', labelNames: ['rule'], registers: [registry] });
  const failures = new client.Counter({ name: 'dpq_alert_evaluation_failures_total', help: 'Alert evaluations that failed (the actions were answered anyway)', registers: [registry] });
  const rules = services.policy.alerts;
  let chain: Promise<void> = Promise.resolve();
  if (rules.length > 0) {
    observeAudit(services, (committed) => {
      const samples = committed.flatMap((c) => samplesOf(rules, c));
      if (samples.length === 0) return;
      const at = committed.at(-1)!.at;
      // One evaluation after another per replica: the counters are shared through the state store anyway.
      chain = chain
        .then(async () => {
          const raised = await evaluate(services, samples, at);
          for (const { alert } of raised) raisedTotal.inc({ rule: alert.rule });
          notifier.send(raised.map(({ alert, sample }) => ({ kind: 'alert', body: { text: alertText(alert, sample), event: 'alert', ...alert }, logFields: { alert: alert.id, rule: alert.rule } })));
        })
        .catch((err: unknown) => {
          failures.inc();
          services.logger.warn('alert evaluation failed', { errorName: err instanceof Error ? err.name : typeof err });
        });
    });
  }
  return {
    async idle() {
      let seen: Promise<void> | undefined;
      while (seen !== chain) {
        seen = chain;
        await seen;
      }
    },
  };
}

/** `GET /v1/alerts`: alerts after a cursor (the seq of `al_<seq>`), oldest first. */
export async function listAlerts(db: StateQuery, after: number, limit: number): Promise<Alert[]> {
  const r = await db.query<{ seq: string | number; at_ms: string | number; rule: string; principal: string; dataset: string; observed: number | string; threshold: number | string }>(
    `SELECT seq, (extract(epoch FROM at) * 1000)::int8 AS at_ms, rule, principal, dataset, observed, threshold
       FROM dpq.alerts WHERE seq > $1 ORDER BY seq LIMIT $2`,
    [after, limit],
  );
  return r.rows.map((x) => ({
    id: `al_${x.seq}`,
    at: new Date(Number(x.at_ms)).toISOString(),
    rule: x.rule,
    principal: x.principal,
    dataset: x.dataset === '' ? null : x.dataset,
    observed: Number(x.observed),
    threshold: Number(x.threshold),
  }));
}
