/**
 * The wire protocol against bad input and at its edges, with raw sockets (frontend messages built
 * with pg-protocol's serializer): each bad input gets an ErrorResponse or a closed connection,
 * never a crash, a stalled HTTP side or a leaked session slot. Also: TLS, the cleartext-password
 * rule off loopback, the connection limit, CancelRequest, settings checked at SET, the audit's
 * transport and the Prometheus counters.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { Parser } from 'pg-protocol/dist/parser.js';
import { auditEntries, expectCall, type Json } from '../access/support.ts';
import type { TestService } from '../support/service.ts';
import { listenPg } from '../../src/pgwire/server.ts';
import { startPgService } from './support.ts';

/** The error a promise rejects with (an empty object when it resolves). */
const failure = (p: Promise<unknown>): Promise<Json> => p.then(() => ({}) as Json, (e: unknown) => e as Json);

interface Wire {
  send(b: Buffer): void;
  /** Messages until one named `until` (or the connection closes); `closed` tells which. */
  read(until: string): Promise<{ messages: Json[]; closed: boolean }>;
  close(): void;
}

async function wire(port: number, host = '127.0.0.1'): Promise<Wire> {
  const socket = net.connect(port, host);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const messages: Json[] = [];
  let closed = false;
  let wake = (): void => undefined;
  const parser = new Parser();
  socket.on('data', (d: Buffer) => {
    parser.parse(d, (m) => messages.push(m as unknown as Json));
    wake();
  });
  socket.on('close', () => {
    closed = true;
    wake();
  });
  socket.on('error', () => undefined);
  return {
    send: (b) => void socket.write(b),
    async read(until) {
      for (;;) {
        const i = messages.findIndex((m) => m.name === until);
        if (i !== -1) return { messages: messages.splice(0, i + 1), closed };
        if (closed) return { messages: messages.splice(0), closed };
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    close: () => socket.destroy(),
  };
}

const errorOf = (messages: Json[]): Json | undefined => messages.find((m) => m.name === 'error');
const startup = (user: string): Buffer => serialize.startup({ user, database: 'clinic' });
const raw = (code: number, body: Buffer = Buffer.alloc(0)): Buffer => {
  const b = Buffer.alloc(8 + body.length);
  b.writeUInt32BE(8 + body.length, 0);
  b.writeUInt32BE(code, 4);
  body.copy(b, 8);
  return b;
};

describe('pgwire: protocol edges and bad input', function () {
  this.timeout(240_000);
  let svc: TestService;
  let token: string;
  before(async () => {
    svc = await startPgService('pglite');
    token = await svc.token('an_nodepg');
  });
  after(async () => svc?.stop());

  const login = async (): Promise<Wire> => {
    const w = await wire(svc.pgPort!);
    w.send(startup('an_nodepg'));
    await w.read('authenticationCleartextPassword');
    w.send(serialize.password(token));
    const { messages } = await w.read('readyForQuery');
    expect(messages.map((m) => m.name)).to.include('backendKeyData');
    return w;
  };
  const open = async (): Promise<number> => Number((await (await svc.request('GET', '/metrics')).text()).match(/^dpq_pg_sessions_open (\d+)/m)?.[1]);

  it('garbage, a 2 GB start-up length, protocol 2 and 4, a message before authentication, a 1 MB password: an error or a closed connection', async () => {
    const cases: { name: string; bytes: Buffer; code?: string }[] = [
      { name: 'garbage', bytes: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), code: '08P01' },
      { name: '2 GB length', bytes: Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 3, 0, 0]), code: '08P01' },
      { name: 'length below 4', bytes: Buffer.from([0, 0, 0, 1]), code: '08P01' },
      { name: 'protocol 2', bytes: raw(2 << 16), code: '0A000' },
      { name: 'protocol 4', bytes: raw(4 << 16), code: '0A000' },
    ];
    for (const c of cases) {
      const w = await wire(svc.pgPort!);
      w.send(c.bytes);
      const { messages, closed } = await w.read('never');
      expect(closed, c.name).to.equal(true);
      expect(errorOf(messages)?.code, c.name).to.equal(c.code);
    }
    // A query before the password.
    const early = await wire(svc.pgPort!);
    early.send(startup('an_nodepg'));
    await early.read('authenticationCleartextPassword');
    early.send(serialize.query('SELECT COUNT(*) FROM visits'));
    const e1 = await early.read('never');
    expect(e1.closed).to.equal(true);
    expect(errorOf(e1.messages)?.code).to.equal('08P01');
    // A 1 MB password.
    const big = await wire(svc.pgPort!);
    big.send(startup('an_nodepg'));
    await big.read('authenticationCleartextPassword');
    big.send(serialize.password('x'.repeat(1024 * 1024)));
    const e2 = await big.read('never');
    expect(e2.closed).to.equal(true);
    expect(errorOf(e2.messages)?.code).to.equal('08P01');
    // Bad credentials, an unknown dataset.
    const bad = await failure(new pg.Client({ host: '127.0.0.1', port: svc.pgPort, user: 'an_nodepg', password: 'nope', database: 'clinic' }).connect());
    expect(bad.code).to.equal('28P01');
    const other = await failure(new pg.Client({ host: '127.0.0.1', port: svc.pgPort, user: 'an_nodepg', password: token, database: 'nowhere' }).connect());
    expect(other.code).to.equal('3D000');
    expect((await svc.request('GET', '/healthz')).status).to.equal(200);
  });

  it('an unknown message type ends the session; a Bind with the wrong parameter count is an error and the session goes on', async () => {
    const w = await login();
    w.send(serialize.parse({ text: 'SELECT COUNT(*) FROM visits WHERE cost > $1', types: [] }));
    w.send(serialize.bind({ values: [] }));
    w.send(serialize.sync());
    const r = await w.read('readyForQuery');
    expect(errorOf(r.messages)?.code).to.equal('22023');
    expect(errorOf(r.messages)?.message).to.match(/supplies 0 parameters, but prepared statement "" requires 1/);
    w.send(serialize.query('SELECT current_user'));
    const ok = await w.read('readyForQuery');
    expect(ok.messages.find((m) => m.name === 'dataRow')?.fields).to.deep.equal(['an_nodepg']);
    w.send(Buffer.from([0x7a, 0, 0, 0, 4])); // 'z': no such message
    const end = await w.read('never');
    expect(end.closed).to.equal(true);
    expect(errorOf(end.messages)?.code).to.equal('08P01');
  });

  it('bound parameters are literals, refused with the code of the same SQL over HTTP; settings checked at SET; audited as pg', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: svc.pgPort, user: 'an_nodepg', password: token, database: 'clinic' });
    await c.connect();
    try {
      const injected = await c.query('SELECT COUNT(*) FROM visits WHERE region = $1', ["north' OR 1=1 --"]);
      expect(injected.rows).to.have.length(1); // a string that matches nothing, not SQL
      const http = await svc.request('POST', '/v1/queries', { principal: 'an_nodepg', body: { sql: "SELECT COUNT(*) FROM visits WHERE cost > 'abc'" } });
      const viaHttp = ((await http.json()) as Json).error.code as string;
      const viaPg = await failure(c.query('SELECT COUNT(*) FROM visits WHERE cost > $1', ['abc']));
      expect(viaHttp).to.equal('SQL_NOT_ALLOWED');
      expect(viaPg.code).to.equal('0A000');
      expect(JSON.parse(viaPg.detail as string).code).to.equal(viaHttp);
      // A bad setting is refused at the SET.
      const set = await failure(c.query('SET dpq.epsilon = 50'));
      expect(set.code).to.equal('22023');
      expect((await c.query('SHOW dpq.epsilon')).rows).to.deep.equal([{ 'dpq.epsilon': '0.5' }]);
      await c.query('SET dpq.accuracy_columns = on');
      const acc = await c.query('SELECT COUNT(*) AS n FROM visits');
      expect(acc.fields.map((f) => f.name)).to.deep.equal(['n', 'n_ci_low', 'n_ci_high']);
      const [row] = acc.rows as { n: string; n_ci_low: number; n_ci_high: number }[];
      expect(row!.n_ci_low).to.be.below(Number(row!.n)).and.equal(Number(row!.n) - (row!.n_ci_high - Number(row!.n)));
      const budget = await c.query('SHOW dpq.budget');
      expect(budget.rows[0]).to.include({ dataset: 'clinic', epsilon_limit: 3 });
    } finally {
      await c.end();
    }
    const mine = (await auditEntries(svc)).filter((e) => e.actor === 'an_nodepg' && e.action === 'query');
    expect(mine.length).to.be.greaterThan(2);
    for (const e of mine.filter((x) => x.httpRequestId?.startsWith('pg-'))) expect(e.details?.transport).to.equal('pg');
    expect(mine.filter((x) => x.details?.transport === 'pg').length).to.be.greaterThan(2);
    expect(mine.find((x) => x.outcome === 'refused' && x.details?.transport === 'pg')).to.not.equal(undefined);
  });

  it('2,000 connections opened and dropped at every stage leave no slot taken and HTTP answering', async () => {
    // Bounded to 2,000 (not 10,000) to keep the suite quick; each one is dropped mid-start-up,
    // mid-authentication or after it.
    const before = await open();
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const s = net.connect(svc.pgPort!, '127.0.0.1');
          s.on('error', () => undefined);
          await new Promise<void>((resolve) => s.once('connect', () => resolve()).once('error', () => resolve()));
          if (i % 3 === 1) s.write(startup('an_nodepg').subarray(0, 6));
          if (i % 3 === 2) s.write(startup('an_nodepg'));
          s.destroy();
        }),
      );
    }
    expect((await svc.request('GET', '/healthz')).status).to.equal(200);
    // The closes arrive asynchronously: wait for the count to settle (bounded), then compare.
    for (let i = 0; i < 600 && (await open()) !== before; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await open()).to.equal(before);
    const c = new pg.Client({ host: '127.0.0.1', port: svc.pgPort, user: 'an_nodepg', password: token, database: 'clinic' });
    await c.connect();
    expect((await c.query('SELECT 1 AS one')).rows).to.deep.equal([{ one: 1 }]);
    await c.end();
  });

  it('CancelRequest with the wrong key changes nothing; counters by outcome are on /metrics', async () => {
    const w = await login();
    const x = await wire(svc.pgPort!);
    x.send(raw(80877102, Buffer.from([0, 0, 0, 1, 0, 0, 0, 2])));
    expect((await x.read('never')).closed).to.equal(true);
    w.send(serialize.query('SELECT current_database()'));
    const r = await w.read('readyForQuery');
    expect(r.messages.find((m) => m.name === 'dataRow')?.fields).to.deep.equal(['clinic']);
    w.close();
    const metrics = await (await svc.request('GET', '/metrics')).text();
    expect(metrics).to.match(/dpq_pg_sessions_total\{outcome="authenticated"\} [1-9]/).and.match(/dpq_pg_sessions_total\{outcome="refused"\} [1-9]/);
    expect(metrics).to.match(/dpq_pg_statements_total\{kind="data",outcome="ok"\} [1-9]/).and.match(/dpq_pg_statements_total\{kind="data",outcome="refused"\} [1-9]/);
  });
});

describe('pgwire: connection limit, TLS and cleartext off loopback', function () {
  this.timeout(240_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpq-pg-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const external = Object.values(os.networkInterfaces()).flat().find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
  let svc: TestService;
  before(async () => {
    svc = await startPgService('pglite', { DPQ_PG_TLS_CERT: cert, DPQ_PG_TLS_KEY: key, DPQ_PG_MAX_CONNECTIONS: '3' });
  });
  after(async () => svc?.stop());

  it('accepts TLS (sslmode=require) and answers FATAL 53300 past DPQ_PG_MAX_CONNECTIONS, freeing the slots on close', async () => {
    const token = await svc.token('an_nodepg');
    const clients = Array.from({ length: 3 }, () => new pg.Client({ host: '127.0.0.1', port: svc.pgPort, user: 'an_nodepg', password: token, database: 'clinic', ssl: { rejectUnauthorized: false } }));
    for (const c of clients) await c.connect();
    const tlsOn = await clients[0]!.query('SELECT current_user AS u');
    expect(tlsOn.rows).to.deep.equal([{ u: 'an_nodepg' }]);
    const fourth = await failure(new pg.Client({ host: '127.0.0.1', port: svc.pgPort, user: 'an_nodepg', password: token, database: 'clinic' }).connect());
    expect(fourth.code).to.equal('53300');
    for (const c of clients) await c.end();
    const again = new pg.Client({ host: '127.0.0.1', port: svc.pgPort, user: 'an_nodepg', password: token, database: 'clinic' });
    for (let i = 0; i < 100; i++) {
      const err = await again.connect().then(() => undefined, (e: unknown) => e as Json);
      if (err === undefined) break;
      expect(err.code).to.equal('53300'); // the slots are freed as the closes arrive
    }
    expect((await again.query('SELECT 1 AS one')).rows).to.deep.equal([{ one: 1 }]);
    await again.end();
  });

  it('refuses a cleartext password from a non-loopback address without TLS (28000), and takes it over TLS', async () => {
    expect(external, 'a non-loopback IPv4 address on this machine').to.be.a('string');
    const pgs = await listenPg(svc.runtime, 0, external!);
    try {
      const token = await svc.token('an_nodepg');
      const plain = await failure(new pg.Client({ host: external, port: pgs.port, user: 'an_nodepg', password: token, database: 'clinic', ssl: false }).connect());
      expect(plain.code).to.equal('28000');
      const secure = new pg.Client({ host: external, port: pgs.port, user: 'an_nodepg', password: token, database: 'clinic', ssl: { rejectUnauthorized: false } });
      await secure.connect();
      expect((await secure.query('SELECT current_user AS u')).rows).to.deep.equal([{ u: 'an_nodepg' }]);
      await secure.end();
    } finally {
      await pgs.stop();
    }
  });
});

describe('pgwire: CancelRequest, idle sessions, revoked grants (pg)', function () {
  this.timeout(240_000);
  let svc: TestService;
  before(async () => {
    svc = await startPgService('pg');
  });
  after(async () => svc?.stop());

  const connect = async (user: string): Promise<pg.Client> => {
    const c = new pg.Client({ host: '127.0.0.1', port: svc.pgPort, user, password: await svc.token(user), database: 'clinic' });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  };
  const spent = async (user: string): Promise<number> => {
    const r = (await (await svc.request('GET', '/v1/budget', { principal: user })).json()) as Json;
    return r.budgets[0].epsilon.spent as number;
  };

  it('a CancelRequest ends a running statement with 57014; the session goes on and what it cost stays spent', async () => {
    const c = await connect('an_psql');
    const keys = c as unknown as { processID: number; secretKey: number };
    // Hold the audit chain's head so the charge (reserve + audit, one transaction) waits on it.
    const holder = new pg.Client({ connectionString: svc.env.DATABASE_URL });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT seq FROM dpq.audit_head WHERE id FOR UPDATE');
    const running = failure(c.query('SELECT COUNT(*) FROM visits WHERE cost > 77'));
    const waiting = async (): Promise<number> => Number((await holder.query("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()")).rows[0].n);
    while ((await waiting()) === 0) await new Promise((r) => setTimeout(r, 20));
    const x = await wire(svc.pgPort!);
    const key = Buffer.alloc(8);
    key.writeInt32BE(keys.processID, 0);
    key.writeInt32BE(keys.secretKey, 4);
    x.send(raw(80877102, key));
    expect((await running).code).to.equal('57014');
    const before = await spent('an_psql');
    await holder.query('COMMIT');
    await holder.end();
    // The cancelled statement runs to its end in the background: its charge lands.
    while ((await spent('an_psql')) === before) await new Promise((r) => setTimeout(r, 20));
    expect(await spent('an_psql')).to.equal(before + 0.5);
    expect((await c.query('SELECT current_user AS u')).rows).to.deep.equal([{ u: 'an_psql' }]);
    await c.end();
  });

  it('closes an idle session with FATAL 57P05 after DPQ_PG_IDLE_TIMEOUT_MS', async () => {
    // A second listener of the same service whose sessions idle out after 300 ms.
    const idle = await listenPg({ ...svc.runtime, config: { ...svc.runtime.config, pgIdleTimeoutMs: 300 } }, 0, '127.0.0.1');
    try {
      const w = await wire(idle.port);
      w.send(startup('an_pandas'));
      await w.read('authenticationCleartextPassword');
      w.send(serialize.password(await svc.token('an_pandas')));
      await w.read('readyForQuery');
      const end = await w.read('never'); // nothing more is sent: the session idles until it is closed
      expect(end.closed).to.equal(true);
      expect(errorOf(end.messages)?.code).to.equal('57P05');
    } finally {
      await idle.stop();
    }
  });

  it('a revoked raw grant refuses the next statement with 42501; RESET dpq.raw_grant returns to aggregates', async () => {
    const g = await expectCall(svc, 'POST', '/v1/access-requests', 'an_jdbc', {
      kind: 'raw', dataset: 'clinic', columns: ['visits.region'], justification: 'INC-4411: duplicate invoices for one patient, need to find the rows', durationMinutes: 60,
    }, 201);
    const c = await connect('an_jdbc');
    await c.query(`SET dpq.raw_grant = '${g.id as string}'`);
    const rows = await c.query('SELECT region FROM visits LIMIT 2');
    expect(rows.rows).to.have.length(2);
    await expectCall(svc, 'POST', `/v1/access-requests/${g.id as string}/revoke`, 'bob', { reason: 'done with it' }, 200);
    expect((await failure(c.query('SELECT region FROM visits LIMIT 2'))).code).to.equal('42501');
    await c.query('RESET dpq.raw_grant');
    expect((await failure(c.query('SELECT region FROM visits LIMIT 2'))).code).to.equal('0A000'); // rows are not aggregates
    const explain = await c.query('EXPLAIN SELECT COUNT(*) FROM visits');
    expect(explain.rows[0]).to.include({ column: 'count', epsilon: 0.5, allowed: true });
    const multi = await c.query('SET dpq.epsilon = 1; SHOW dpq.epsilon');
    expect((multi as unknown as pg.QueryResult[])[1]!.rows).to.deep.equal([{ 'dpq.epsilon': '1' }]);
    await c.end();
  });
});
