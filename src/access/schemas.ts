/**
 * The request bodies and query strings of the JIT access endpoints (api.md), in zod; the types the
 * domain code takes are `z.infer` of these. Checks that need the policy (columns exist, duration
 * within the rule, ticket required) happen in `create.ts`.
 */
import { z } from 'zod';
import { justificationProblem } from './justification.ts';
import { KINDS, STATUSES } from './model.ts';

const datasetName = z.string().min(1).max(100);
/** A ticket id: `INC-4411`, `JIRA-12`, `#123`, `sec/2026/7`. */
const ticket = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9#][A-Za-z0-9._:/#-]{0,63}$/, 'must be a ticket id like INC-4411')
  .nullish()
  .transform((v) => v ?? undefined);
const justification = z.string().superRefine((text, ctx) => {
  const problem = justificationProblem(text);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});
/** Up to a week; the rule's `maxDuration` is the real limit. */
const durationMinutes = z.number().int().min(1).max(7 * 24 * 60).optional();

const rawBody = z.strictObject({
  kind: z.literal('raw'),
  dataset: datasetName,
  columns: z.array(z.string().min(1).max(200)).max(200).default([]),
  justification,
  ticket,
  durationMinutes,
  breakGlass: z.boolean().default(false),
  /** Extend this active raw grant of the caller (extend.ts): `durationMinutes` from approval, and more `columns`. */
  extends: z.string().regex(/^ar_[A-Za-z0-9_-]{16,64}$/, 'must be an access request id (ar_…)').optional(),
});

const budgetBody = z.strictObject({
  kind: z.literal('budget'),
  dataset: datasetName,
  epsilon: z.number().positive().finite(),
  delta: z.number().min(0).lt(1).default(0),
  justification,
  ticket,
  /** Accepted and ignored: a budget top-up does not expire. */
  durationMinutes,
  breakGlass: z.literal(false).default(false),
});

export const createBody = z.discriminatedUnion('kind', [rawBody, budgetBody]);
export type CreateBody = z.infer<typeof createBody>;

const note = z.string().trim().max(2000).optional();
/** Deny and revoke say why (api.md): the requester sees it in the API, the console and the notification. */
const reason = z.string({ error: 'a reason is required' }).trim().min(1, 'a reason is required').max(2000);
export const approveBody = z.strictObject({ comment: note });
export const denyBody = z.strictObject({ reason });
export const revokeBody = z.strictObject({ reason });
export const cancelBody = z.strictObject({ reason: note });

export const listQuery = z.strictObject({
  status: z.enum(STATUSES).optional(),
  kind: z.enum(KINDS).optional(),
  dataset: datasetName.optional(),
  mine: z.enum(['true', 'false']).optional().transform((v) => v === 'true'),
  overdue: z.enum(['true', 'false']).optional().transform((v) => v === 'true'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type ListQuery = z.infer<typeof listQuery>;

export const REQUEST_ID = /^ar_[A-Za-z0-9_-]{16,64}$/;
export const idParams = z.strictObject({ id: z.string().regex(REQUEST_ID, 'must be an access request id (ar_…)') });

export const rawQueryBody = z.strictObject({
  requestId: z.string().regex(REQUEST_ID, 'must be an access request id (ar_…)'),
  sql: z.string().min(1).max(20_000),
});

/** `tok_` + 32 hex (key k0), or `tok_<key id>_` + 32 hex (masking.ts). */
export const TOKEN = /^tok_(?:[a-z0-9]{1,24}_)?[0-9a-f]{32}$/;
export const revealBody = z.strictObject({
  requestId: z.string().regex(REQUEST_ID, 'must be an access request id (ar_…)'),
  tokens: z.array(z.string().regex(TOKEN, 'must be a token (tok_…)')).min(1).max(1000),
});
