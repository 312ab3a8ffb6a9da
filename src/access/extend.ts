/**
 * Extending a raw grant (api.md, JIT access): `POST /v1/access-requests` with `"extends": "ar_…"`,
 * an active raw grant of the caller, a `durationMinutes` and optionally more `columns`.
 *
 * The extension is a request of its own, beside the grant: its `columns` are only the ones it
 * adds — what the approvers decide on — while the rule that routes it is the one the whole
 * resulting scope would need (one pii column among the added ones makes it a pii decision). Once
 * approved (or auto-approved), in the approving transaction and under the grant's row lock, the
 * grant itself runs on: `expiresAt` becomes the approval time plus the duration (never earlier
 * than it was), the columns are added, and the grant takes the new rule. Quotas and usage carry on.
 * There is no gap: the grant never stops being active on the way.
 */
import { auditedTransaction } from '../audit/record.ts';
import type { AuditEntryInput } from '../audit/entry.ts';
import { conflict, forbidden, invalidRequest, notFound } from '../errors.ts';
import { may } from '../policy/authorize.ts';
import type { AccessRule, ColumnSensitivity } from '../policy/schema.ts';
import { isUniqueViolation, type StateQuery } from '../state/store.ts';
import { requestEntry, SYSTEM_ACTOR } from './audit.ts';
import { type AccessContext, type Actor, announce } from './context.ts';
import { autoApproves, newRequestId, rawDuration } from './request-rules.ts';
import { settleExpired } from './expiry.ts';
import { type AccessRequest, effectiveStatus, isActiveGrant } from './model.ts';
import type { Notification } from './notify.ts';
import { view } from './read.ts';
import { getRequest, insertRequest, lockPendingExtension, lockRequest, updateRequest } from './repository.ts';
import { resolveColumns, routeRequest, scopeSensitivity } from './routing.ts';
import type { CreateBody } from './schemas.ts';

type ExtensionBody = Extract<CreateBody, { kind: 'raw' }> & { extends: string };

/** Why a grant cannot be extended now (409), or undefined. */
function notExtendable(grant: AccessRequest, now: Date): string | undefined {
  if (!isActiveGrant(grant, now)) return `the grant ${grant.id} is ${effectiveStatus(grant, now)}: only an active grant can be extended`;
  if (grant.breakGlass) return 'a break-glass grant cannot be extended; file a new request';
  return undefined;
}

/** The grant named by `extends`, checked: the caller's own (403), a raw grant itself (400), on the body's dataset. */
async function extendedGrant(ctx: AccessContext, actor: Actor, body: ExtensionBody): Promise<AccessRequest> {
  const grant = await getRequest(ctx.services.state, body.extends);
  if (grant === undefined) throw notFound(`no access request ${body.extends}`);
  if (grant.requester !== actor.principal.name) throw forbidden("only the grant's requester may extend it", { field: 'extends' });
  if (grant.kind !== 'raw' || grant.extends !== null) throw invalidRequest(`body.extends: ${grant.id} is not a raw grant of its own`, { field: 'extends' });
  if (grant.dataset !== body.dataset) throw invalidRequest(`body.dataset: the grant ${grant.id} is on ${grant.dataset}`, { field: 'dataset' });
  return grant;
}

/** The extension request as stored: beside the grant, with only the added columns. */
function newExtension(
  grant: AccessRequest,
  body: ExtensionBody,
  now: Date,
  f: { columns: string[]; sensitivity: ColumnSensitivity; ruleIndex: number; rule: AccessRule; durationMs: number; auto: boolean; pendingTtl: number },
): AccessRequest {
  return {
    ...grant,
    id: newRequestId(),
    status: f.auto ? 'approved' : 'pending',
    columns: f.columns,
    sensitivity: f.sensitivity,
    justification: body.justification.trim(),
    ticket: body.ticket ?? null,
    durationMs: f.durationMs,
    breakGlass: false,
    autoApproved: f.auto,
    ruleIndex: f.ruleIndex,
    approverRole: f.rule.approverRole,
    requiredApprovals: f.auto ? 0 : f.rule.approvals,
    createdAt: now,
    pendingUntil: new Date(now.getTime() + f.pendingTtl),
    approvedAt: f.auto ? now : null,
    expiresAt: null,
    decidedAt: f.auto ? now : null,
    decidedBy: null,
    reason: null,
    reviewDueAt: null,
    reviewedAt: null,
    reviewedBy: null,
    queriesUsed: 0,
    rowsUsed: 0,
    revealsUsed: 0,
    extends: grant.id,
  };
}

/** `POST /v1/access-requests` with `extends`. */
export async function createExtension(ctx: AccessContext, actor: Actor, body: ExtensionBody): Promise<Record<string, unknown>> {
  const { policy, clock } = ctx.services;
  const { principal } = actor;
  if (body.breakGlass) throw invalidRequest('body.breakGlass: an extension is never break-glass', { field: 'breakGlass' });
  if (!Object.hasOwn(policy.datasets, body.dataset)) throw notFound(`unknown dataset "${body.dataset}"`);
  if (!may(policy, principal, 'request', body.dataset)) throw forbidden(`this principal may not request access to ${body.dataset}`);
  await settleExpired(ctx);
  const grant = await extendedGrant(ctx, actor, body);
  const now = clock.now();
  const why = notExtendable(grant, now);
  if (why !== undefined) throw conflict(why, { status: effectiveStatus(grant, now) });

  const dataset = policy.datasets[body.dataset]!;
  const added = resolveColumns(dataset, body.columns).filter((c) => !grant.columns.includes(c.ref));
  const whole = resolveColumns(dataset, [...grant.columns, ...added.map((c) => c.ref)]);
  const sensitivity = scopeSensitivity(whole);
  const routed = routeRequest(policy, 'raw', body.dataset, sensitivity);
  if (routed === undefined) throw forbidden(`no access rule covers a raw request with ${sensitivity} columns on ${body.dataset}`);
  const { rule, index } = routed;
  if (policy.access.requireTicket && body.ticket === undefined) throw invalidRequest('body.ticket: the policy requires a ticket id', { field: 'ticket' });
  const durationMs = rawDuration(body.durationMinutes, rule.maxDuration, `access.rules[${index}]`);
  if (now.getTime() + durationMs <= grant.expiresAt!.getTime()) {
    throw invalidRequest(`body.durationMinutes: the grant already runs until ${grant.expiresAt!.toISOString()}; an extension must end later`, { field: 'durationMinutes' });
  }
  const auto = autoApproves(rule, principal, durationMs);
  const extension = newExtension(grant, body, now, { columns: added.map((c) => c.ref), sensitivity, ruleIndex: index, rule, durationMs, auto, pendingTtl: policy.access.pendingTtl });

  let stored: AccessRequest;
  try {
    stored = await auditedTransaction(ctx.services, async (tx, record) => {
      const locked = await lockRequest(tx, grant.id);
      const lockedWhy = locked === undefined ? 'the grant is gone' : notExtendable(locked, now);
      if (lockedWhy !== undefined) throw conflict(lockedWhy);
      const open = await lockPendingExtension(tx, grant.id);
      if (open !== undefined && effectiveStatus(open, now) === 'pending') throw conflict(`the grant already has a pending extension (${open.id})`, { openRequestId: open.id });
      await insertRequest(tx, extension);
      const entries: AuditEntryInput[] = [requestEntry('access.create', principal.name, extension, 'ok', actor.httpRequestId, { details: { extends: grant.id } })];
      let result = extension;
      if (auto) {
        const applied = await applyExtension(tx, extension, now, SYSTEM_ACTOR, actor.httpRequestId);
        entries.push(...applied.entries);
        result = applied.extension;
      }
      await record(entries);
      return result;
    });
  } catch (err: unknown) {
    if (isUniqueViolation(err)) throw conflict('the grant already has a pending extension');
    throw err;
  }
  const events: Notification[] = [{ event: 'created', actor: principal.name, request: stored }];
  if (auto) events.push({ event: 'approved', actor: SYSTEM_ACTOR, request: stored });
  announce(ctx, events);
  return view(ctx, stored, []);
}

/**
 * An extension is approved: under the grant's row lock, the grant runs on with the added columns
 * until the approval time plus the duration, under the extension's rule. A grant that is no longer
 * active cannot be extended (409: the approval is rolled back with it).
 */
export async function applyExtension(
  tx: StateQuery,
  ext: AccessRequest,
  now: Date,
  actor: string,
  httpRequestId: string,
): Promise<{ extension: AccessRequest; grant: AccessRequest; entries: AuditEntryInput[] }> {
  const grant = await lockRequest(tx, ext.extends!);
  const why = grant === undefined ? 'the grant is gone' : notExtendable(grant, now);
  if (why !== undefined) throw conflict(`cannot extend: ${why}`);
  const g = grant!;
  const until = new Date(Math.max(g.expiresAt!.getTime(), now.getTime() + ext.durationMs!));
  const columns = [...g.columns, ...ext.columns.filter((c) => !g.columns.includes(c))];
  const extended = await updateRequest(tx, g.id, { expiresAt: until, columns, sensitivity: ext.sensitivity, ruleIndex: ext.ruleIndex, approverRole: ext.approverRole });
  // The extension keeps no end of its own: it is no grant (never listed or expired as one); the grant's expiresAt is the end.
  const extension = (await getRequest(tx, ext.id))!;
  const entry = requestEntry('access.extend', actor, extended, 'ok', httpRequestId, {
    details: { extension: ext.id, addedColumns: [...ext.columns], previousExpiresAt: g.expiresAt!.toISOString() },
  });
  return { extension, grant: extended, entries: [entry] };
}
