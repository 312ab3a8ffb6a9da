/**
 * The policy-derived catalog. What psql's `\dt`/`\d`, JDBC's DatabaseMetaData and SQLAlchemy's
 * inspection read (pg_catalog, information_schema) is answered by a real PostgreSQL catalog that
 * dpq builds from the policy: per dataset, an in-memory PGlite in a worker thread holding the
 * dataset's tables — empty, with their policy types and comments — and one unprivileged role.
 * The warehouse's catalog is never read. Client catalog queries run there read-only as that role,
 * one at a time, and a query that overruns CATALOG_TIMEOUT_MS
 * terminates the worker (a fresh one starts on the next query).
 *
 * pg-protocol's serializer writes the messages to it and its parser reads the answers.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type DatabaseError, serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';
import { DpqError } from '../errors.ts';
import type { ColumnType, Dataset, Policy } from '../policy/schema.ts';
import type { CatalogAnswer, CatalogJob } from './catalog-worker.ts';

export const CATALOG_TIMEOUT_MS = 10_000;
export const CATALOG_MAX_ROWS = 10_000;
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

export const PG_TYPE_OF: Readonly<Record<ColumnType, string>> = {
  id: 'bigint',
  integer: 'bigint',
  numeric: 'numeric',
  text: 'text',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamp',
};

export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** The DDL of a dataset's catalog: its tables, column comments and the principals' roles. */
export function catalogDdl(dataset: Dataset): string {
  const s = ident(dataset.schema);
  const out = [`CREATE SCHEMA IF NOT EXISTS ${s};`];
  for (const [name, table] of Object.entries(dataset.tables)) {
    const t = `${s}.${ident(name)}`;
    const cols = Object.entries(table.columns).map(([c, col]) => `${ident(c)} ${PG_TYPE_OF[col.type]}`);
    out.push(`CREATE TABLE ${t} (${cols.join(', ')});`);
    out.push(`COMMENT ON TABLE ${t} IS ${literal(`privacy unit: ${table.unit}; at most ${table.maxRowsPerUnit} rows per unit`)};`);
    for (const [c, col] of Object.entries(table.columns)) {
      const notes = [
        col.sensitivity === 'none' ? undefined : `sensitivity ${col.sensitivity}`,
        col.bounds === undefined ? undefined : `bounds [${col.bounds.join(', ')}]`,
        col.values === undefined ? undefined : `public values ${col.values.join(', ')}`,
        col.mask === undefined ? undefined : 'masked in raw queries',
        col.aggregate === false ? 'not aggregated' : undefined,
        c === table.unit ? 'privacy unit' : undefined,
      ].filter((n) => n !== undefined);
      if (notes.length > 0) out.push(`COMMENT ON COLUMN ${t}.${ident(c)} IS ${literal(notes.join('; '))};`);
    }
  }
  return out.join('\n');
}

/** The one role catalog queries run as: it may read the catalog and nothing else (no principal's name is listed). */
export const CATALOG_ROLE = 'dpq_catalog';

function roleDdl(dataset: Dataset): string {
  const s = ident(dataset.schema);
  return `CREATE ROLE ${CATALOG_ROLE} NOLOGIN; GRANT USAGE ON SCHEMA ${s} TO ${CATALOG_ROLE}; GRANT SELECT ON ALL TABLES IN SCHEMA ${s} TO ${CATALOG_ROLE};`;
}

export interface CatalogColumn {
  readonly name: string;
  readonly oid: number;
}

export interface CatalogResult {
  readonly columns: readonly CatalogColumn[];
  readonly rows: readonly (readonly (string | null)[])[];
  readonly tag: string;
  /** The statement's parameter types (Describe of a statement). */
  readonly parameters: readonly number[];
}

interface Pending {
  readonly job: CatalogJob;
  readonly resolve: (a: CatalogAnswer) => void;
  readonly reject: (e: unknown) => void;
}

/** One dataset's worker: jobs run one at a time; an overrun or a crash replaces the worker. */
class CatalogWorker {
  readonly #ddl: string;
  #worker: Promise<Worker> | undefined;
  /** The thread itself, from its creation on (so that close need not wait for it to be ready). */
  #thread: Worker | undefined;
  #queue: Pending[] = [];
  #busy = false;
  #nextId = 0;

  constructor(ddl: string) {
    this.#ddl = ddl;
  }

  warm(): void {
    this.#start().catch(() => undefined);
  }

  #start(): Promise<Worker> {
    this.#worker ??= new Promise<Worker>((resolve, reject) => {
      // tsx's ESM entry (the CommonJS one would be resolved under a CommonJS loader).
      const tsx = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
      const entry = new URL('./catalog-worker.ts', import.meta.url).href;
      const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
      const w = new Worker(boot, { eval: true, workerData: { ddl: this.#ddl } });
      this.#thread = w;
      w.unref();
      const fail = (err: unknown): void => {
        this.#worker = undefined;
        reject(err);
      };
      w.once('error', fail);
      w.once('exit', () => fail(new Error('catalog worker exited')));
      w.once('message', (m: unknown) => (m === 'ready' ? resolve(w) : fail(new Error('catalog worker did not start'))));
    });
    return this.#worker;
  }

  run(preamble: string, messages: Buffer): Promise<CatalogAnswer> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ job: { id: ++this.#nextId, preamble, messages }, resolve, reject });
      void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let p = this.#queue.shift(); p !== undefined; p = this.#queue.shift()) {
        try {
          p.resolve(await this.#one(await this.#start(), p.job));
        } catch (err: unknown) {
          p.reject(err);
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  #one(w: Worker, job: CatalogJob): Promise<CatalogAnswer> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('exit', onExit);
      };
      const onMessage = (a: CatalogAnswer): void => {
        if (a.id !== job.id) return;
        done();
        resolve(a);
      };
      const onExit = (): void => {
        done();
        this.#worker = undefined;
        reject(new DpqError('UNAVAILABLE', 'the policy catalog restarted; try again'));
      };
      const timer = setTimeout(() => {
        done();
        this.#worker = undefined;
        void w.terminate();
        reject(new DpqError('INVALID_REQUEST', `the catalog query took longer than ${CATALOG_TIMEOUT_MS / 1000} s`));
      }, CATALOG_TIMEOUT_MS);
      w.on('message', onMessage);
      w.once('exit', onExit);
      w.postMessage(job);
    });
  }

  async close(): Promise<void> {
    const thread = this.#thread;
    this.#worker = undefined;
    this.#thread = undefined;
    if (thread !== undefined) await thread.terminate();
  }
}

function parseMessages(bytes: Uint8Array): BackendMessage[] {
  if (bytes.length > MAX_ANSWER_BYTES) throw new DpqError('INVALID_REQUEST', 'the catalog answer is too large');
  const out: BackendMessage[] = [];
  new Parser().parse(Buffer.from(bytes), (m) => out.push(m));
  return out;
}

function catalogError(e: DatabaseError): DpqError {
  // The SQLSTATE only: PostgreSQL's message text never reaches a client.
  if (e.code === '42501') return new DpqError('FORBIDDEN', 'the policy catalog does not show this to this principal', { sqlState: e.code });
  return new DpqError('SQL_NOT_ALLOWED', "this catalog query does not run on dpq's policy catalog", { construct: 'catalog query', sqlState: e.code ?? null });
}

function resultOf(messages: readonly BackendMessage[]): CatalogResult {
  let columns: CatalogColumn[] = [];
  const rows: (string | null)[][] = [];
  let tag = 'SELECT 0';
  let parameters: number[] = [];
  for (const m of messages) {
    const any = m as unknown as Record<string, unknown>;
    switch (m.name) {
      case 'error':
        throw catalogError(m as DatabaseError);
      case 'rowDescription':
        columns = (any.fields as { name: string; dataTypeID: number }[]).map((f) => ({ name: f.name, oid: f.dataTypeID }));
        break;
      case 'parameterDescription':
        parameters = any.dataTypeIDs as number[];
        break;
      case 'dataRow':
        rows.push(any.fields as (string | null)[]);
        break;
      case 'commandComplete':
        tag = String(any.text);
        break;
      case 'portalSuspended':
        tag = `SELECT ${rows.length}`;
        break;
      default:
        break;
    }
  }
  return { columns, rows, tag, parameters };
}

export interface Catalog {
  /** Start the dataset's worker in the background (a session authenticated for it). */
  warm(dataset: string): void;
  /** Run a catalog SELECT (as CATALOG_ROLE); `params` as text. */
  query(dataset: string, sql: string, params: readonly (string | null)[]): Promise<CatalogResult>;
  /** The parameter and result types of a catalog SELECT, without running it. */
  describe(dataset: string, sql: string): Promise<CatalogResult>;
  close(): Promise<void>;
}

export function createCatalog(policy: Policy): Catalog {
  const workers = new Map<string, CatalogWorker>();
  const workerOf = (name: string): CatalogWorker => {
    let w = workers.get(name);
    if (w === undefined) {
      const dataset = policy.datasets[name]!;
      w = new CatalogWorker(`${catalogDdl(dataset)}\n${roleDdl(dataset)}`);
      workers.set(name, w);
    }
    return w;
  };
  const preamble = (name: string): string =>
    `SET LOCAL ROLE ${CATALOG_ROLE}; SET LOCAL search_path TO ${ident(policy.datasets[name]!.schema)}; SET LOCAL statement_timeout = ${CATALOG_TIMEOUT_MS};`;
  const run = async (dataset: string, messages: Buffer): Promise<CatalogResult> => {
    const answer = await workerOf(dataset).run(preamble(dataset), messages);
    resultOf(parseMessages(answer.preamble)); // throws when the role or schema is missing
    return resultOf(parseMessages(answer.answer));
  };
  return {
    warm: (dataset) => workerOf(dataset).warm(),
    query: (dataset, sql, params) =>
      run(
        dataset,
        Buffer.concat([
          serialize.parse({ text: sql, types: [] }),
          serialize.bind({ values: [...params] }),
          serialize.describe({ type: 'P' }),
          serialize.execute({ rows: CATALOG_MAX_ROWS }),
          serialize.sync(),
        ]),
      ),
    describe: (dataset, sql) =>
      run(dataset, Buffer.concat([serialize.parse({ text: sql, types: [] }), serialize.describe({ type: 'S' }), serialize.sync()])),
    async close() {
      await Promise.all([...workers.values()].map((w) => w.close()));
      workers.clear();
    },
  };
}
