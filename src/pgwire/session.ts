/**
 * One wire-protocol session: start-up, authentication, then the simple and extended query
 * protocols (named and unnamed statements and portals), CancelRequest, Terminate and the idle
 * timeout. Messages are handled strictly in order; while one is handled the socket is paused, so
 * a client can never make the session buffer more than one message. A statement's error is an
 * ErrorResponse and the session stays usable (in the extended protocol, messages up to the next
 * Sync are skipped, as PostgreSQL does); a protocol violation ends the session with FATAL 08P01.
 */
import crypto from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';
import { withTransport } from '../audit/transport.ts';
import { DpqError, FIXED_MESSAGES } from '../errors.ts';
import { toDpqError } from '../http/error-handler.ts';
import { rateLimiterOf } from '../http/rate-limit.ts';
import type { Services } from '../services.ts';
import { parseSql } from '../sql/index.ts';
import { canEncodeBinary, encodeBinary } from './binary.ts';
import type { Catalog } from './catalog.ts';
import { errorFields, protocolViolation } from './errors.ts';
import { describeStatement, executeStatement, type SessionContext } from './executor.ts';
import type { PgMetrics } from './metrics.ts';
import { binaryParameter, parameterCount } from './params.ts';
import * as P from './protocol.ts';
import type { ResultSet } from './results.ts';
import { SessionSettings } from './settings.ts';
import { authenticate, checkStartup } from './startup.ts';
import { classify, type Statement, statementTexts } from './statements.ts';

export const AUTH_TIMEOUT_MS = 60_000;

export interface SessionDeps {
  readonly services: Services;
  readonly catalog: Catalog;
  readonly metrics: PgMetrics;
  readonly secureContext: tls.SecureContext | undefined;
  readonly idleTimeoutMs: number;
  /** Cancel keys of the open sessions of this listener. */
  readonly cancels: Map<number, { secret: number; cancel: () => void }>;
  readonly nextPid: () => number;
}

interface Prepared {
  readonly sql: string;
  readonly statements: readonly Statement[];
  readonly types: readonly number[];
  readonly parameters: number;
}

interface Portal {
  readonly statement: Prepared;
  readonly params: readonly (string | null)[];
  /** Bind's result format codes: none (all text), one for all columns, or one per column. */
  readonly resultFormats: readonly number[];
  result?: ResultSet;
  sent: number;
  noticed?: boolean;
}

class Cancelled extends Error {}

/** Each result column's format for a portal (0 text, 1 binary); a binary request dpq cannot encode is refused. */
function columnFormats(portal: Portal, result: ResultSet): number[] {
  const f = portal.resultFormats;
  const formats = result.columns.map((_, i) => (f.length === 0 ? 0 : f.length === 1 ? f[0]! : (f[i] ?? 0)));
  result.columns.forEach((c, i) => {
    if (formats[i] === 1 && !canEncodeBinary(c.oid)) throw new DpqError('SQL_NOT_ALLOWED', `column ${c.name} cannot be sent in binary format; ask for text`, { construct: 'binary result format' });
  });
  return formats;
}

const RATE_LIMITED_KINDS = new Set(['data', 'explain', 'catalog']);

/** Split a simple Query's SQL into classified statements; SQL that does not parse goes to the pipeline, which refuses it (and audits that). */
async function classifyAll(sql: string): Promise<Statement[]> {
  if (sql.trim() === '' || /^[\s;]*$/.test(sql)) return [];
  try {
    const parsed = await parseSql(sql);
    const texts = statementTexts(sql, parsed);
    return parsed.statements.map((s, i) => classify(texts[i]!, s.stmt!));
  } catch (err: unknown) {
    if (err instanceof DpqError && err.code === 'SQL_SYNTAX') return [{ kind: 'data', sql }];
    throw err;
  }
}

export class Session {
  readonly #deps: SessionDeps;
  #socket: net.Socket | tls.TLSSocket;
  readonly #framer = new P.Framer();
  #out: Buffer[] = [];
  #busy = false;
  #closed = false;
  #phase: 'startup' | 'auth' | 'ready' = 'startup';
  #secure = false;
  #startup: Readonly<Record<string, string>> = {};
  #ctx: SessionContext | undefined;
  #skipToSync = false;
  #transaction: 'I' | 'T' = 'I';
  readonly #statements = new Map<string, Prepared>();
  readonly #portals = new Map<string, Portal>();
  #pid = 0;
  #statementNo = 0;
  #cancel: (() => void) | undefined;
  readonly #authTimer: NodeJS.Timeout;
  readonly #onEnd: () => void;

  constructor(socket: net.Socket, deps: SessionDeps, onEnd: () => void) {
    this.#deps = deps;
    this.#socket = socket;
    this.#onEnd = onEnd;
    this.#listen(socket);
    socket.on('close', () => this.#finish());
    this.#authTimer = setTimeout(() => this.#fatal({ severity: 'FATAL', code: '08P01', message: 'authentication did not complete in time' }), AUTH_TIMEOUT_MS);
    this.#authTimer.unref();
  }

  #listen(s: net.Socket | tls.TLSSocket): void {
    s.on('data', (chunk: Buffer) => {
      this.#framer.push(chunk);
      void this.#pump();
    });
    s.on('error', () => this.#destroy());
    s.on('timeout', () => {
      if (!this.#busy && this.#phase === 'ready') this.#fatal({ severity: 'FATAL', code: '57P05', message: 'terminating connection due to idle-session timeout' });
    });
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#authTimer);
    this.#deps.cancels.delete(this.#pid);
    this.#cancel?.();
    this.#onEnd();
  }

  #destroy(): void {
    this.#socket.destroy();
    this.#finish();
  }

  #send(b: Buffer): void {
    this.#out.push(b);
  }

  #flush(): void {
    if (this.#out.length === 0 || this.#closed) return;
    const data = this.#out.length === 1 ? this.#out[0]! : Buffer.concat(this.#out);
    this.#out = [];
    this.#socket.write(data);
  }

  /** End the session with a FATAL ErrorResponse. */
  #fatal(f: P.ErrorFields): void {
    if (this.#closed) return;
    this.#send(P.backend.error(f));
    this.#flush();
    this.#socket.end();
    this.#socket.destroySoon?.();
    this.#finish();
  }

  async #pump(): Promise<void> {
    if (this.#busy || this.#closed) return;
    this.#busy = true;
    this.#socket.setTimeout(0);
    this.#socket.pause();
    try {
      for (;;) {
        let frame: P.Frame | undefined;
        try {
          frame = this.#framer.next();
        } catch (err: unknown) {
          if (!(err instanceof P.ProtocolError)) throw err;
          return this.#fatal(protocolViolation(err.message));
        }
        if (frame === undefined || this.#closed) break;
        await this.#handle(frame);
        if (this.#closed) return;
      }
      this.#flush();
    } catch (err: unknown) {
      if (err instanceof P.ProtocolError) return this.#fatal(protocolViolation(err.message));
      this.#deps.services.logger.error('pg session failed', { errorName: err instanceof Error ? err.name : typeof err });
      return this.#fatal({ severity: 'FATAL', code: 'XX000', message: FIXED_MESSAGES.INTERNAL });
    } finally {
      this.#busy = false;
      if (!this.#closed) {
        this.#socket.resume();
        if (this.#phase === 'ready' && this.#deps.idleTimeoutMs > 0) this.#socket.setTimeout(this.#deps.idleTimeoutMs);
      }
    }
  }

  async #handle(frame: P.Frame): Promise<void> {
    if (this.#phase === 'startup') return this.#onStartup(frame.body);
    if (this.#phase === 'auth') return this.#onPassword(frame);
    return this.#onMessage(frame);
  }

  // ---- start-up and authentication ----------------------------------------------------------

  async #onStartup(body: Buffer): Promise<void> {
    const packet = P.decodeStartup(body);
    if (packet.code === P.SSL_REQUEST) return this.#onSslRequest();
    if (packet.code === P.GSSENC_REQUEST) return this.#socket.write(P.backend.sslNo()) as unknown as void;
    if (packet.code === P.CANCEL_REQUEST) {
      const target = this.#deps.cancels.get(packet.cancel!.pid);
      if (target !== undefined && target.secret === packet.cancel!.secret) target.cancel();
      return this.#destroy();
    }
    const major = packet.code >>> 16;
    const minor = packet.code & 0xffff;
    if (major !== 3) {
      return this.#fatal({ severity: 'FATAL', code: '0A000', message: `unsupported frontend protocol ${major}.${minor}: dpq speaks 3.0` });
    }
    const refusal = checkStartup(packet.parameters, this.#secure, this.#socket.remoteAddress);
    if (refusal !== undefined) {
      this.#deps.metrics.sessions.inc({ outcome: 'refused' });
      return this.#fatal(refusal.fatal);
    }
    const unknownOptions = Object.keys(packet.parameters).filter((k) => k.startsWith('_pq_.'));
    if (minor > 0 || unknownOptions.length > 0) this.#send(P.backend.negotiateProtocolVersion(0, unknownOptions));
    this.#startup = packet.parameters;
    this.#phase = 'auth';
    this.#framer.typed = true;
    this.#framer.limit = P.MAX_AUTH_MESSAGE_BYTES;
    this.#send(P.backend.authenticationCleartext());
  }

  #onSslRequest(): void {
    if (this.#secure || this.#deps.secureContext === undefined) {
      this.#socket.write(P.backend.sslNo());
      return;
    }
    this.#socket.write(P.backend.sslYes());
    const plain = this.#socket as net.Socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('timeout');
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: this.#deps.secureContext });
    secure.on('close', () => this.#finish());
    this.#socket = secure;
    this.#secure = true;
    this.#listen(secure);
  }

  async #onPassword(frame: P.Frame): Promise<void> {
    if (frame.type !== 0x70) return this.#fatal(protocolViolation('expected a password message before anything else'));
    const outcome = await authenticate(this.#deps.services, this.#startup, P.decodeCString(frame.body));
    if ('fatal' in outcome) {
      this.#deps.metrics.sessions.inc({ outcome: 'refused' });
      return this.#fatal(outcome.fatal);
    }
    clearTimeout(this.#authTimer);
    const settings = new SessionSettings(this.#deps.services.policy, outcome.principal, outcome.dataset, this.#startup);
    this.#pid = this.#deps.nextPid();
    const secret = crypto.randomBytes(4).readInt32BE(0);
    this.#deps.cancels.set(this.#pid, { secret, cancel: () => this.#cancel?.() });
    this.#ctx = {
      services: this.#deps.services,
      catalog: this.#deps.catalog,
      principal: outcome.principal,
      dataset: outcome.dataset,
      settings,
      nextRequestId: () => `pg-${this.#pid}-${++this.#statementNo}`,
      sourceAddress: this.#socket.remoteAddress,
    };
    this.#deps.catalog.warm(outcome.dataset);
    this.#deps.metrics.sessions.inc({ outcome: 'authenticated' });
    this.#phase = 'ready';
    this.#framer.limit = P.MAX_MESSAGE_BYTES;
    this.#send(P.backend.authenticationOk());
    for (const [k, v] of settings.reported()) this.#send(P.backend.parameterStatus(k, v));
    this.#send(P.backend.backendKeyData(this.#pid, secret));
    this.#send(P.backend.readyForQuery('I'));
  }

  // ---- statements -------------------------------------------------------------------------

  /** Run one statement: audited as "pg", counted, logged, rate-limited like an HTTP request, cancellable. */
  async #run<T>(stmt: Statement, fn: () => Promise<T>): Promise<T> {
    const ctx = this.#ctx!;
    const kind = stmt.kind;
    const started = process.hrtime.bigint();
    let outcome = 'ok';
    try {
      if (RATE_LIMITED_KINDS.has(kind) || (kind === 'show' && stmt.name === 'dpq.budget')) {
        const limited = rateLimiterOf(ctx.services)(ctx.principal.name);
        if (limited !== undefined) throw limited;
      }
      const cancelled = new Promise<never>((_, reject) => (this.#cancel = () => reject(new Cancelled())));
      const work = withTransport('pg', fn);
      work.catch(() => undefined); // a cancelled statement still finishes (its cost stays spent)
      return await Promise.race([work, cancelled]);
    } catch (err: unknown) {
      outcome = err instanceof Cancelled ? 'cancelled' : toDpqError(err).status < 500 ? 'refused' : 'failed';
      throw err;
    } finally {
      this.#cancel = undefined;
      this.#deps.metrics.statements.inc({ kind, outcome });
      // One line per statement, like HTTP's access log: who, what kind, how it ended — never SQL.
      const level = RATE_LIMITED_KINDS.has(kind) ? 'info' : 'debug';
      ctx.services.logger.log(level, 'pg statement', { pid: this.#pid, principal: ctx.principal.name, kind, outcome, ms: Math.round(Number(process.hrtime.bigint() - started) / 1e6) });
    }
  }

  #sendError(err: unknown): void {
    if (err instanceof Cancelled) {
      this.#send(P.backend.error({ severity: 'ERROR', code: '57014', message: 'canceling statement due to user request' }));
      return;
    }
    const e = toDpqError(err);
    if (e.code === 'INTERNAL') this.#deps.services.logger.error('pg statement failed', { errorName: err instanceof Error ? err.name : typeof err });
    this.#send(P.backend.error(errorFields(e)));
  }

  #sendRows(result: ResultSet, from: number, maxRows: number, formats: readonly number[] = []): number {
    const end = maxRows > 0 ? Math.min(result.rows.length, from + maxRows) : result.rows.length;
    const binary = formats.includes(1) ? (i: number, text: string): Buffer | undefined => (formats[i] === 1 ? encodeBinary(result.columns[i]!.oid, text) : undefined) : undefined;
    for (let i = from; i < end; i++) this.#send(P.backend.dataRow(result.rows[i]!, binary));
    return end;
  }

  #sendNotices(result: ResultSet): void {
    for (const n of result.notices ?? []) this.#send(P.backend.notice({ severity: 'NOTICE', code: '00000', message: n }));
  }

  #track(stmt: Statement): void {
    if (stmt.kind !== 'noop' || stmt.transaction === undefined) return;
    this.#transaction = stmt.transaction === 'begin' ? 'T' : 'I';
  }

  async #execute(stmt: Statement, params: readonly (string | null)[]): Promise<ResultSet> {
    const outcome = await this.#run(stmt, () => executeStatement(this.#ctx!, stmt, params));
    for (const [k, v] of outcome.statuses) this.#send(P.backend.parameterStatus(k, v));
    if (stmt.kind === 'deallocate') {
      if (stmt.name === undefined) this.#statements.clear();
      else this.#statements.delete(stmt.name);
    }
    this.#track(stmt);
    return outcome.result;
  }

  async #simpleQuery(sql: string): Promise<void> {
    try {
      const statements = await classifyAll(sql);
      if (statements.length === 0) this.#send(P.backend.emptyQuery());
      for (const stmt of statements) {
        const result = await this.#execute(stmt, []);
        if (result.columns.length > 0) this.#send(P.backend.rowDescription(result.columns));
        this.#sendRows(result, 0, 0);
        this.#sendNotices(result);
        this.#send(P.backend.commandComplete(result.tag));
      }
    } catch (err: unknown) {
      this.#sendError(err);
    }
    this.#send(P.backend.readyForQuery(this.#transaction));
  }

  async #onMessage(frame: P.Frame): Promise<void> {
    const type = String.fromCharCode(frame.type);
    if (type === 'X') return this.#destroy();
    if (type === 'Q') return this.#simpleQuery(P.decodeCString(frame.body));
    if (type === 'S') {
      this.#skipToSync = false;
      this.#portals.delete('');
      this.#send(P.backend.readyForQuery(this.#transaction));
      return this.#flush();
    }
    if (type === 'H') return this.#flush();
    if (type === 'd' || type === 'c' || type === 'f') return; // copy data outside COPY: ignored, as PostgreSQL does
    if (!'PBDEC'.includes(type) || type === '') {
      if (type === 'F') {
        this.#sendError(new DpqError('SQL_NOT_ALLOWED', 'function calls are not supported', { construct: 'function call message' }));
        this.#skipToSync = true;
        return;
      }
      return this.#fatal(protocolViolation(`invalid frontend message type ${frame.type}`));
    }
    if (this.#skipToSync) return;
    try {
      await this.#extended(type, frame.body);
    } catch (err: unknown) {
      if (err instanceof P.ProtocolError) throw err;
      this.#sendError(err);
      this.#skipToSync = true;
    }
  }

  async #extended(type: string, body: Buffer): Promise<void> {
    switch (type) {
      case 'P':
        return this.#parse(P.decodeParse(body));
      case 'B':
        return this.#bind(P.decodeBind(body));
      case 'D':
        return this.#describe(P.decodeTarget(body));
      case 'E':
        return this.#executePortal(P.decodeExecute(body));
      case 'C': {
        const t = P.decodeTarget(body);
        if (t.kind === 'S') this.#statements.delete(t.name);
        else this.#portals.delete(t.name);
        this.#send(P.backend.closeComplete());
        return;
      }
    }
  }

  async #parse(m: P.ParseMessage): Promise<void> {
    if (m.name !== '' && this.#statements.has(m.name)) throw new DpqError('CONFLICT', `prepared statement "${m.name}" already exists`);
    const statements = await classifyAll(m.sql);
    if (statements.length > 1) throw new DpqError('SQL_SYNTAX', 'cannot insert multiple commands into a prepared statement', { position: 0 });
    const parameters = Math.max(m.types.length, await parameterCount(m.sql));
    this.#statements.set(m.name, { sql: m.sql, statements, types: m.types, parameters });
    this.#send(P.backend.parseComplete());
  }

  #bind(m: P.BindMessage): void {
    const statement = this.#statements.get(m.statement);
    if (statement === undefined) throw new DpqError('NOT_FOUND', `prepared statement "${m.statement}" does not exist`);
    if (m.values.length !== statement.parameters) {
      throw new DpqError('INVALID_REQUEST', `bind message supplies ${m.values.length} parameters, but prepared statement "${m.statement}" requires ${statement.parameters}`, { parameters: statement.parameters });
    }
    const params = m.values.map((v, i) => {
      if (v === null) return null;
      const format = m.paramFormats.length === 1 ? m.paramFormats[0] : (m.paramFormats[i] ?? 0);
      if (format === 0) return v.toString('utf8');
      const text = binaryParameter(statement.types[i] ?? 0, v);
      if (text === undefined) throw new DpqError('SQL_NOT_ALLOWED', `parameter $${i + 1} is in a binary format dpq does not read; send it as text`, { construct: 'binary parameter' });
      return text;
    });
    if (params.some((p) => p !== null && p.includes('\u0000'))) throw new DpqError('INVALID_REQUEST', 'a parameter contains a NUL character');
    this.#portals.set(m.portal, { statement, params, resultFormats: m.resultFormats, sent: 0 });
    this.#send(P.backend.bindComplete());
  }

  async #describe(t: { kind: 'S' | 'P'; name: string }): Promise<void> {
    if (t.kind === 'S') {
      const s = this.#statements.get(t.name);
      if (s === undefined) throw new DpqError('NOT_FOUND', `prepared statement "${t.name}" does not exist`);
      const stmt = s.statements[0];
      const d = stmt === undefined ? { parameters: [], columns: undefined } : await this.#run(stmt, () => describeStatement(this.#ctx!, stmt, s.parameters));
      const types = Array.from({ length: s.parameters }, (_, i) => s.types[i] || d.parameters[i] || 0);
      this.#send(P.backend.parameterDescription(types));
      this.#send(d.columns === undefined ? P.backend.noData() : P.backend.rowDescription(d.columns));
      return;
    }
    const portal = this.#portals.get(t.name);
    if (portal === undefined) throw new DpqError('NOT_FOUND', `portal "${t.name}" does not exist`);
    // A portal runs its statement when it is first described: drivers need the row description
    // before Execute, and only the answer gives it exactly.
    const result = await this.#result(portal);
    this.#send(result === undefined || result.columns.length === 0 ? P.backend.noData() : P.backend.rowDescription(result.columns, columnFormats(portal, result)));
  }

  async #result(portal: Portal): Promise<ResultSet | undefined> {
    const stmt = portal.statement.statements[0];
    if (stmt === undefined) return undefined;
    portal.result ??= await this.#execute(stmt, portal.params);
    return portal.result;
  }

  async #executePortal(m: { portal: string; maxRows: number }): Promise<void> {
    const portal = this.#portals.get(m.portal);
    if (portal === undefined) throw new DpqError('NOT_FOUND', `portal "${m.portal}" does not exist`);
    const result = await this.#result(portal);
    if (result === undefined) return this.#send(P.backend.emptyQuery());
    if (!portal.noticed) this.#sendNotices(result);
    portal.noticed = true;
    portal.sent = this.#sendRows(result, portal.sent, m.maxRows, columnFormats(portal, result));
    if (portal.sent < result.rows.length) return this.#send(P.backend.portalSuspended());
    this.#send(P.backend.commandComplete(result.tag));
  }
}
