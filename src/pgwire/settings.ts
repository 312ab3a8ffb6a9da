/**
 * A session's settings: dpq's own (`dpq.epsilon`, `dpq.delta`, `dpq.mechanism`,
 * `dpq.confidence`, `dpq.accuracy_columns`, `dpq.raw_grant`), checked when they are SET, and the
 * ordinary PostgreSQL session parameters drivers set and read, which are kept and change nothing.
 */
import { DpqError, type ErrorDetails, invalidRequest } from '../errors.ts';
import { resolveParams } from '../queries/params.ts';
import type { Principal } from '../policy/authorize.ts';
import type { NoiseMechanism, Policy } from '../policy/schema.ts';

/** The catalog's PostgreSQL (catalog.ts); drivers pick their catalog queries by it. */
export const SERVER_VERSION = '18.6';
export const SERVER_VERSION_NUM = '180006';

export interface DpqSettings {
  epsilon?: number;
  delta?: number;
  mechanism?: NoiseMechanism;
  confidence?: number;
  accuracyColumns: boolean;
  rawGrant?: string;
}

/** Parameters reported with ParameterStatus at start-up and whenever they are SET. */
export const REPORTED = ['server_version', 'server_encoding', 'client_encoding', 'application_name', 'DateStyle', 'IntervalStyle', 'TimeZone', 'integer_datetimes', 'standard_conforming_strings', 'is_superuser', 'session_authorization', 'default_transaction_read_only', 'in_hot_standby', 'search_path'] as const;

function serverDefaults(user: string, schema: string): Map<string, string> {
  return new Map<string, string>([
    ['server_version', SERVER_VERSION],
    ['server_version_num', SERVER_VERSION_NUM],
    ['server_encoding', 'UTF8'],
    ['client_encoding', 'UTF8'],
    ['application_name', ''],
    ['datestyle', 'ISO, MDY'],
    ['intervalstyle', 'postgres'],
    ['timezone', 'UTC'],
    ['integer_datetimes', 'on'],
    ['standard_conforming_strings', 'on'],
    ['is_superuser', 'off'],
    ['session_authorization', user],
    ['default_transaction_read_only', 'on'],
    ['transaction_read_only', 'on'],
    ['in_hot_standby', 'off'],
    ['search_path', schema],
    ['transaction_isolation', 'read committed'],
    ['default_transaction_isolation', 'read committed'],
    ['extra_float_digits', '1'],
    ['max_identifier_length', '63'],
    ['lc_messages', 'C'],
    ['lc_monetary', 'C'],
    ['lc_numeric', 'C'],
    ['lc_time', 'C'],
    ['statement_timeout', '0'],
    ['bytea_output', 'hex'],
  ]);
}

const REPORTED_BY_LOWER = new Map(REPORTED.map((n) => [n.toLowerCase(), n]));
/** Parameters a client may not move: the encoding is UTF8, the answers are read-only. */
const FIXED = new Set(['server_version', 'server_version_num', 'server_encoding', 'client_encoding', 'integer_datetimes', 'is_superuser', 'session_authorization', 'in_hot_standby', 'transaction_read_only', 'default_transaction_read_only', 'max_identifier_length']);

const ON = /^(on|true|yes|1)$/i;
const OFF = /^(off|false|no|0)$/i;

export class SessionSettings {
  readonly dpq: DpqSettings = { accuracyColumns: false };
  readonly #values: Map<string, string>;
  readonly #policy: Policy;
  readonly #principal: Principal;
  readonly #dataset: string;

  constructor(policy: Policy, principal: Principal, dataset: string, startup: Readonly<Record<string, string>>) {
    this.#policy = policy;
    this.#principal = principal;
    this.#dataset = dataset;
    this.#values = serverDefaults(principal.name, policy.datasets[dataset]!.schema);
    for (const [k, v] of Object.entries(startup)) {
      const name = k.toLowerCase();
      if (name === 'user' || name === 'database' || name === 'options' || name === 'replication' || name.startsWith('_pq_')) continue;
      if (name.startsWith('dpq.')) continue; // dpq settings go through SET, where they are checked
      if (!FIXED.has(name)) this.#values.set(name, v);
    }
  }

  /** The ParameterStatus pairs for start-up. */
  reported(): [string, string][] {
    return REPORTED.map((n) => [n, this.#values.get(n.toLowerCase()) ?? '']);
  }

  /** SET name = value; returns the ParameterStatus to send, if any. Refusals are 22023. */
  set(name: string, value: string): [string, string] | undefined {
    if (name.startsWith('dpq.')) {
      this.#setDpq(name, value);
      return undefined;
    }
    if (FIXED.has(name)) {
      if (name === 'client_encoding' && /^(utf-?8|unicode)$/i.test(value)) return undefined;
      throw invalidRequest(`${name} cannot be changed on dpq`, { setting: name });
    }
    this.#values.set(name, value);
    const reported = REPORTED_BY_LOWER.get(name);
    return reported === undefined ? undefined : [reported, value];
  }

  reset(name: string): [string, string] | undefined {
    if (name.startsWith('dpq.')) {
      this.#resetDpq(name);
      return undefined;
    }
    const d = serverDefaults(this.#principal.name, this.#policy.datasets[this.#dataset]!.schema).get(name);
    if (d !== undefined) this.#values.set(name, d);
    else this.#values.delete(name);
    const reported = REPORTED_BY_LOWER.get(name);
    return reported === undefined ? undefined : [reported, d ?? ''];
  }

  resetAll(): void {
    for (const k of ['dpq.epsilon', 'dpq.delta', 'dpq.mechanism', 'dpq.confidence', 'dpq.accuracy_columns', 'dpq.raw_grant']) this.#resetDpq(k);
  }

  /** SHOW name; undefined when the parameter is unknown. */
  show(name: string): string | undefined {
    const d = this.dpq;
    const defaults = this.#policy.datasets[this.#dataset]!.defaults;
    switch (name) {
      case 'dpq.epsilon':
        return String(d.epsilon ?? defaults.epsilon);
      case 'dpq.delta':
        return String(d.delta ?? defaults.delta);
      case 'dpq.mechanism':
        return d.mechanism ?? defaults.mechanism;
      case 'dpq.confidence':
        return String(d.confidence ?? 0.95);
      case 'dpq.accuracy_columns':
        return d.accuracyColumns ? 'on' : 'off';
      case 'dpq.raw_grant':
        return d.rawGrant ?? '';
      default:
        return this.#values.get(name);
    }
  }

  /** Every parameter for SHOW ALL. */
  all(): [string, string][] {
    const names = ['dpq.epsilon', 'dpq.delta', 'dpq.mechanism', 'dpq.confidence', 'dpq.accuracy_columns', 'dpq.raw_grant', ...this.#values.keys()];
    return names.sort().map((n) => [n, this.show(n) ?? '']);
  }

  #setDpq(name: string, value: string): void {
    const v = value.trim();
    const num = (): number => {
      const n = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v) ? Number(v) : NaN;
      if (!Number.isFinite(n)) throw invalidRequest(`${name} must be a number`, { setting: name });
      return n;
    };
    const d = this.dpq;
    switch (name) {
      case 'dpq.epsilon':
        return this.#check({ ...d, epsilon: num() }, () => (d.epsilon = num()));
      case 'dpq.delta':
        return this.#check({ ...d, delta: num() }, () => (d.delta = num()));
      case 'dpq.mechanism':
        if (v !== 'laplace' && v !== 'gaussian') throw invalidRequest("dpq.mechanism must be 'laplace' or 'gaussian'", { setting: name });
        return this.#check({ ...d, mechanism: v }, () => (d.mechanism = v));
      case 'dpq.confidence': {
        const c = num();
        if (!(c > 0 && c < 1)) throw invalidRequest('dpq.confidence must be between 0 and 1', { setting: name });
        d.confidence = c;
        return;
      }
      case 'dpq.accuracy_columns':
        if (!ON.test(v) && !OFF.test(v)) throw invalidRequest('dpq.accuracy_columns must be on or off', { setting: name });
        d.accuracyColumns = ON.test(v);
        return;
      case 'dpq.raw_grant':
        if (!/^ar_[A-Za-z0-9_-]{1,100}$/.test(v)) throw invalidRequest("dpq.raw_grant must be the id of a raw grant, like 'ar_…'", { setting: name });
        d.rawGrant = v;
        return;
      default:
        throw invalidRequest(`unknown dpq setting ${name}`, { setting: name });
    }
  }

  /** Apply `commit` only when the resulting ε/δ/mechanism pass the dataset's limits. */
  #check(next: DpqSettings, commit: () => void): void {
    if (next.epsilon !== undefined && !(next.epsilon > 0)) throw invalidRequest('dpq.epsilon must be positive', { setting: 'dpq.epsilon' });
    if (next.delta !== undefined && !(next.delta >= 0 && next.delta < 1)) throw invalidRequest('dpq.delta must be in [0, 1)', { setting: 'dpq.delta' });
    try {
      resolveParams(this.#policy, this.#principal, { dataset: this.#dataset, epsilon: next.epsilon, delta: next.delta, mechanism: next.mechanism });
    } catch (err: unknown) {
      if (err instanceof DpqError) throw new DpqError('INVALID_REQUEST', err.message, err.details === undefined ? undefined : (err.detailRecord as ErrorDetails['INVALID_REQUEST']));
      throw err;
    }
    commit();
  }

  #resetDpq(name: string): void {
    const d = this.dpq;
    if (name === 'dpq.epsilon') delete d.epsilon;
    else if (name === 'dpq.delta') delete d.delta;
    else if (name === 'dpq.mechanism') delete d.mechanism;
    else if (name === 'dpq.confidence') delete d.confidence;
    else if (name === 'dpq.accuracy_columns') d.accuracyColumns = false;
    else if (name === 'dpq.raw_grant') delete d.rawGrant;
    else throw invalidRequest(`unknown dpq setting ${name}`, { setting: name });
  }
}
