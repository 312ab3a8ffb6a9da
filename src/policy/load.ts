/**
 * Load every `*.yaml` file of the policy folder, substitute `${NAME}` values from the environment,
 * merge the top-level sections, validate the whole, and return a deeply frozen Policy.
 *
 * Every problem names the file and the path inside it, as policy.md requires:
 * `policies/clinic.yaml: datasets.clinic.tables.visits.columns.cost.bounds: lower bound above upper bound`.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { policyFileSchema, policySchema, type Policy } from './schema.ts';
import { crossCheck } from './cross-check.ts';

export interface PolicyProblem {
  readonly file: string;
  readonly path: string;
  readonly message: string;
}

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  constructor(readonly problems: readonly PolicyProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

export interface LoadedPolicy {
  readonly policy: Policy;
  readonly warnings: readonly PolicyProblem[];
  readonly files: readonly string[];
  /** The file that defined each `section.key` (for problems found after loading). */
  readonly origins: Readonly<Record<string, string>>;
}

export function formatProblem(p: PolicyProblem): string {
  return p.path === '' ? `${p.file}: ${p.message}` : `${p.file}: ${p.path}: ${p.message}`;
}

const SECTIONS = ['datasets', 'principals', 'roles', 'access', 'metrics'] as const;
const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replace `${NAME}` (and `${NAME:-default}`) in every string value. An unset variable without a
 * default is a problem naming it.
 */
function substitute(value: unknown, env: Readonly<Record<string, string | undefined>>, at: string[], problems: string[][]): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR, (_whole, varName: string, fallback: string | undefined) => {
      const v = env[varName];
      if (v !== undefined) return v;
      if (fallback !== undefined) return fallback;
      problems.push([...at, `environment variable ${varName} is not set`]);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, env, [...at, String(i)], problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substitute(v, env, [...at, k], problems)]),
    );
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Load and validate the policy folder; throws PolicyError with every problem found. */
export function loadPolicy(dir: string, env: Readonly<Record<string, string | undefined>> = {}): LoadedPolicy {
  const problems: PolicyProblem[] = [];
  // Names inside the working directory are shown relative to it, others in full.
  const rel = (f: string): string => {
    const r = path.relative(process.cwd(), f);
    return r === '' || r.startsWith('..') || path.isAbsolute(r) ? path.resolve(f) : r;
  };
  let files: string[];
  try {
    files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
      .sort()
      .map((f) => path.join(dir, f));
  } catch {
    throw new PolicyError([{ file: rel(dir), path: '', message: 'the policy folder cannot be read' }]);
  }
  if (files.length === 0) {
    throw new PolicyError([{ file: rel(dir), path: '', message: 'the policy folder has no *.yaml file' }]);
  }

  const merged: Record<string, Record<string, unknown>> = {};
  const alerts: unknown[] = [];
  /** `section.key` → the file that defined it, to name the file of a later problem. */
  const origin = new Map<string, string>();

  for (const file of files) {
    const name = rel(file);
    const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'), { uniqueKeys: true });
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push({ file: name, path: '', message: e.message.split('\n')[0]! });
      continue;
    }
    const envProblems: string[][] = [];
    const raw = substitute(doc.toJS() ?? {}, env, [], envProblems);
    for (const p of envProblems) problems.push({ file: name, path: p.slice(0, -1).join('.'), message: p.at(-1)! });
    const shape = policyFileSchema.safeParse(raw);
    if (!shape.success) {
      for (const issue of shape.error.issues) problems.push(issueProblem(name, issue));
      continue;
    }
    // `alerts` is a list: the files' lists are concatenated (names must differ, validate.ts).
    for (const rule of shape.data.alerts ?? []) {
      origin.set(`alerts.${alerts.length}`, name);
      alerts.push(rule);
    }
    for (const section of SECTIONS) {
      const entries = shape.data[section];
      if (entries === undefined) continue;
      const target = (merged[section] ??= {});
      for (const [key, value] of Object.entries(entries)) {
        const where = `${section}.${key}`;
        const first = origin.get(where);
        if (first !== undefined) {
          problems.push({ file: name, path: where, message: `already defined in ${first}` });
          continue;
        }
        origin.set(where, name);
        target[key] = value;
      }
    }
  }
  if (problems.length > 0) throw new PolicyError(problems);

  const fileOf = (issuePath: readonly PropertyKey[]): string =>
    origin.get(`${String(issuePath[0])}.${String(issuePath[1])}`) ??
    [...origin.entries()].find(([k]) => k.startsWith(`${String(issuePath[0])}.`))?.[1] ??
    rel(files[0]!);

  const parsed = policySchema.safeParse({
    datasets: merged.datasets ?? {},
    principals: merged.principals ?? {},
    roles: merged.roles ?? {},
    ...(merged.access === undefined ? {} : { access: merged.access }),
    ...(merged.metrics === undefined ? {} : { metrics: merged.metrics }),
    alerts,
  });
  if (!parsed.success) {
    throw new PolicyError(parsed.error.issues.map((i) => issueProblem(fileOf(i.path), i)));
  }
  const checked = crossCheck(parsed.data);
  const located = (p: { path: readonly (string | number)[]; message: string }): PolicyProblem => ({
    file: fileOf(p.path),
    path: p.path.join('.'),
    message: p.message,
  });
  if (checked.errors.length > 0) throw new PolicyError(checked.errors.map(located));
  return Object.freeze({
    policy: deepFreeze(parsed.data),
    warnings: Object.freeze(checked.warnings.map(located)),
    files: Object.freeze(files.map(rel)),
    origins: Object.freeze(Object.fromEntries(origin)),
  });
}

function issueProblem(file: string, issue: z.core.$ZodIssue): PolicyProblem {
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return { file, path: issue.path.map(String).join('.'), message };
}
