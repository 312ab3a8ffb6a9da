/**
 * The policy schema of policy.md, in zod. The types of the whole policy are `z.infer` of these
 * schemas, so the shape is written once. Cross-references (a role naming an unknown dataset, a
 * join naming a column that is not a unit) are checked in `cross-check.ts` after the merge.
 */
import { z } from 'zod';
import { conditionsSchema, hoursSchema } from './conditions.ts';
import { parseDuration } from './duration.ts';

const name = z.string().regex(/^[a-z_][a-z0-9_-]*$/i, 'must be a name: letters, digits, _ and -');
/** SQL identifiers in policies are lower-case, so that unquoted SQL names resolve to them. */
const sqlName = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier');

export const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration like 90s, 30m, 4h or 7d` });
    return z.NEVER;
  }
  return ms;
});

const epsilon = z.number().positive().finite();
const delta = z.number().min(0).lt(1);

export const COLUMN_TYPES = ['id', 'integer', 'numeric', 'text', 'boolean', 'date', 'timestamp'] as const;
export const SENSITIVITIES = ['none', 'quasi', 'pii'] as const;
export const MECHANISMS = ['laplace', 'gaussian'] as const;
export const ACTIONS = ['query', 'request', 'approve', 'audit', 'metrics', 'admin'] as const;

export const maskSchema = z.union([
  z.enum(['redact', 'tokenize', 'hash']),
  z.strictObject({ partial: z.strictObject({ keepLast: z.number().int().min(0).max(64) }) }),
  z.strictObject({ generalize: z.strictObject({ keepFirst: z.number().int().min(0).max(64) }) }),
]);

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/, 'must be an ISO date');

export const columnSchema = z
  .strictObject({
    type: z.enum(COLUMN_TYPES),
    bounds: z.tuple([z.union([z.number().finite(), isoDate]), z.union([z.number().finite(), isoDate])]).optional(),
    granularity: z.number().positive().finite().optional(),
    values: z.array(z.union([z.string(), z.number().finite(), z.boolean()])).min(1).optional(),
    sensitivity: z.enum(SENSITIVITIES).default('none'),
    mask: maskSchema.optional(),
    aggregate: z.boolean().default(true),
    description: z.string().optional(),
  })
  .superRefine((col, ctx) => {
    const b = col.bounds;
    if (b !== undefined) {
      const numeric = col.type === 'integer' || col.type === 'numeric';
      const temporal = col.type === 'date' || col.type === 'timestamp';
      if (!numeric && !temporal) {
        ctx.addIssue({ code: 'custom', path: ['bounds'], message: `a ${col.type} column cannot have bounds` });
      } else if (numeric && (typeof b[0] !== 'number' || typeof b[1] !== 'number')) {
        ctx.addIssue({ code: 'custom', path: ['bounds'], message: 'bounds of a number column are numbers' });
      } else if (temporal && (typeof b[0] !== 'string' || typeof b[1] !== 'string')) {
        ctx.addIssue({ code: 'custom', path: ['bounds'], message: 'bounds of a date column are ISO dates' });
      } else if (numeric ? (b[0] as number) > (b[1] as number) : Date.parse(b[0] as string) > Date.parse(b[1] as string)) {
        ctx.addIssue({ code: 'custom', path: ['bounds'], message: 'lower bound above upper bound' });
      }
      if (col.type === 'numeric' && col.granularity === undefined) {
        ctx.addIssue({ code: 'custom', path: ['granularity'], message: 'a bounded numeric column needs a granularity' });
      }
    }
    if (col.granularity !== undefined && col.type !== 'numeric' && col.type !== 'integer') {
      ctx.addIssue({ code: 'custom', path: ['granularity'], message: `a ${col.type} column cannot have a granularity` });
    }
    if (col.type === 'integer' && col.granularity !== undefined && !Number.isInteger(col.granularity)) {
      ctx.addIssue({ code: 'custom', path: ['granularity'], message: 'the granularity of an integer column is a whole number' });
    }
    if (col.type === 'id' && col.values !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: 'an id column has no public domain' });
    }
    if (col.mask !== undefined && col.sensitivity === 'none') {
      ctx.addIssue({ code: 'custom', path: ['mask'], message: 'a mask needs sensitivity quasi or pii' });
    }
  })
  .transform((col) => ({
    ...col,
    // policy.md: "default 1 for integers; required for numeric"
    granularity: col.granularity ?? (col.type === 'integer' ? 1 : undefined),
    // A sensitive column without a mask is redacted: fail closed.
    mask: col.mask ?? (col.sensitivity === 'none' ? undefined : ('redact' as const)),
  }));

export const tableSchema = z
  .strictObject({
    unit: sqlName,
    maxRowsPerUnit: z.number().int().min(1).max(10_000),
    maxGroupsPerUnit: z.number().int().min(1).max(10_000).optional(),
    columns: z.record(sqlName, columnSchema),
    description: z.string().optional(),
  })
  .superRefine((t, ctx) => {
    const unit = t.columns[t.unit];
    if (unit === undefined) {
      ctx.addIssue({ code: 'custom', path: ['unit'], message: `unit column "${t.unit}" is not among the columns` });
    } else if (unit.type !== 'id') {
      ctx.addIssue({ code: 'custom', path: ['columns', t.unit, 'type'], message: 'the unit column must have type id' });
    }
  })
  .transform((t) => ({ ...t, maxGroupsPerUnit: t.maxGroupsPerUnit ?? t.maxRowsPerUnit }));

const budgetAmount = z.strictObject({ epsilon, delta: delta.default(0) });

export const datasetSchema = z
  .strictObject({
    description: z.string().optional(),
    schema: sqlName.default('public'),
    budget: z.strictObject({
      analyst: budgetAmount,
      total: budgetAmount.optional(),
      renew: z.enum(['never', 'daily', 'weekly', 'monthly']).default('never'),
      // the filter that admits releases against every limit of the dataset (privacy.md, Accounting)
      accounting: z.enum(['basic', 'zcdp']).default('basic'),
    }),
    defaults: z.strictObject({
      epsilon,
      delta: delta.default(0),
      mechanism: z.enum(MECHANISMS).default('laplace'),
    }),
    limits: z
      .strictObject({
        minEpsilon: epsilon.default(0.001),
        maxEpsilon: epsilon.default(10),
        maxDelta: delta.default(1e-5),
      })
      .default({ minEpsilon: 0.001, maxEpsilon: 10, maxDelta: 1e-5 }),
    cacheTtl: duration.default(86_400_000),
    joins: z.array(z.tuple([z.string(), z.string()])).default([]),
    tables: z.record(sqlName, tableSchema).refine((t) => Object.keys(t).length > 0, 'a dataset needs a table'),
  })
  .superRefine((d, ctx) => {
    if (d.budget.accounting === 'zcdp') {
      for (const scope of ['analyst', 'total'] as const) {
        if (d.budget[scope]?.delta === 0) {
          ctx.addIssue({ code: 'custom', path: ['budget', scope, 'delta'], message: 'accounting: zcdp needs a positive delta (the ρ budget is converted at δ/2)' });
        }
      }
    }
    if (d.limits.minEpsilon > d.limits.maxEpsilon) {
      ctx.addIssue({ code: 'custom', path: ['limits'], message: 'minEpsilon above maxEpsilon' });
    }
    if (d.defaults.epsilon < d.limits.minEpsilon || d.defaults.epsilon > d.limits.maxEpsilon) {
      ctx.addIssue({ code: 'custom', path: ['defaults', 'epsilon'], message: 'outside limits.minEpsilon..maxEpsilon' });
    }
    if (d.defaults.delta > d.limits.maxDelta) {
      ctx.addIssue({ code: 'custom', path: ['defaults', 'delta'], message: 'above limits.maxDelta' });
    }
    d.joins.forEach((pair, i) => {
      for (const [j, ref] of pair.entries()) {
        const [table, column, extra] = ref.split('.');
        const t = table === undefined ? undefined : d.tables[table];
        if (t === undefined || column === undefined || extra !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['joins', i, j], message: `"${ref}" is not table.column of this dataset` });
        } else if (t.unit !== column) {
          ctx.addIssue({ code: 'custom', path: ['joins', i, j], message: `"${ref}" is not the unit column of ${table}` });
        }
      }
    });
  });

export const principalSchema = z.strictObject({
  roles: z.array(name).min(1),
  apiKeySha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits').optional(),
  /** The principal's Slack user id, for chat approvals (access/slack.ts). */
  slackUserId: z.string().regex(/^[UW][A-Z0-9]{2,31}$/, 'must be a Slack user id like U024BE7LH').optional(),
  description: z.string().optional(),
});

export const roleSchema = z.strictObject({
  /** Omitted: every dataset. */
  datasets: z.array(name).optional(),
  may: z.array(z.enum(ACTIONS)).min(1),
});

const ruleSchema = z.strictObject({
  match: z.strictObject({
    kind: z.enum(['raw', 'budget']).optional(),
    sensitivity: z.array(z.enum(SENSITIVITIES)).min(1).optional(),
    datasets: z.array(name).optional(),
  }),
  approvals: z.number().int().min(1).max(10),
  approverRole: name,
  maxDuration: duration.optional(),
  maxEpsilon: epsilon.optional(),
  maxDelta: delta.optional(),
  autoApprove: z.strictObject({ roles: z.array(name).min(1), maxDuration: duration.optional() }).optional(),
  /** Where and when a grant from this rule works (conditions.ts), checked at every use. */
  conditions: conditionsSchema.optional(),
});

export const accessSchema = z.strictObject({
  pendingTtl: duration.default(86_400_000),
  requireTicket: z.boolean().default(false),
  raw: z
    .strictObject({
      maxRowsPerQuery: z.number().int().min(1).default(1000),
      maxQueriesPerGrant: z.number().int().min(1).default(100),
      maxRowsPerGrant: z.number().int().min(1).default(20000),
    })
    .default({ maxRowsPerQuery: 1000, maxQueriesPerGrant: 100, maxRowsPerGrant: 20000 }),
  rules: z.array(ruleSchema).default([]),
  breakGlass: z
    .strictObject({ roles: z.array(name).min(1), maxDuration: duration, reviewWithin: duration })
    .optional(),
  notify: z
    .strictObject({
      webhook: z
        .string()
        .optional()
        .transform((v) => (v === undefined || v === '' ? undefined : v))
        .refine((v) => v === undefined || /^https?:\/\//.test(v), 'must be an http(s) URL'),
    })
    .optional(),
});

export const metricSchema = z.strictObject({
  dataset: name,
  sql: z.string().min(1),
  description: z.string().optional(),
  epsilon,
  delta: delta.optional(),
  mechanism: z.enum(MECHANISMS).optional(),
  refresh: duration,
  budget: budgetAmount,
  readers: z.array(name).min(1),
});

const threshold = z.number({ error: 'must be a positive number' }).positive('must be a positive number').finite('must be a positive number');

/** One alert rule (policy.md `alerts`): a name and exactly one measure with its threshold. */
export const alertSchema = z.strictObject({
  name,
  description: z.string().optional(),
  when: z
    .strictObject({
      rawRowsPerHour: threshold.optional(),
      revealsPerHour: threshold.optional(),
      refusalsPerHour: threshold.optional(),
      epsilonPerDay: threshold.optional(),
      rawOutside: hoursSchema.optional(),
    })
    .superRefine((w, ctx) => {
      const given = Object.values(w).filter((v) => v !== undefined).length;
      if (given !== 1) ctx.addIssue({ code: 'custom', message: 'name exactly one of rawRowsPerHour, revealsPerHour, refusalsPerHour, epsilonPerDay, rawOutside' });
    }),
});

/** One policy file: every section optional; the merged whole is checked by `policySchema`. */
export const policyFileSchema = z.strictObject({
  datasets: z.record(name, z.unknown()).optional(),
  principals: z.record(name, z.unknown()).optional(),
  roles: z.record(name, z.unknown()).optional(),
  access: z.record(z.string(), z.unknown()).optional(),
  metrics: z.record(name, z.unknown()).optional(),
  alerts: z.array(z.unknown()).optional(),
});

export const policySchema = z.strictObject({
  datasets: z.record(name, datasetSchema),
  principals: z.record(name, principalSchema),
  roles: z.record(name, roleSchema),
  access: accessSchema.default(accessSchema.parse({})),
  metrics: z.record(name, metricSchema).default({}),
  alerts: z.array(alertSchema).default([]),
});

export type Policy = z.infer<typeof policySchema>;
export type Dataset = z.infer<typeof datasetSchema>;
export type Table = z.infer<typeof tableSchema>;
export type Column = z.infer<typeof columnSchema>;
export type ColumnType = (typeof COLUMN_TYPES)[number];
export type ColumnSensitivity = (typeof SENSITIVITIES)[number];
export type Mask = z.infer<typeof maskSchema>;
export type NoiseMechanism = (typeof MECHANISMS)[number];
export type Action = (typeof ACTIONS)[number];
export type Principal = z.infer<typeof principalSchema>;
export type Role = z.infer<typeof roleSchema>;
export type AccessPolicy = z.infer<typeof accessSchema>;
export type AccessRule = z.infer<typeof ruleSchema>;
export type Metric = z.infer<typeof metricSchema>;
export type AlertRule = z.infer<typeof alertSchema>;
