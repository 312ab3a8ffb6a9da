import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import winston from 'winston';
import { systemClock } from '../../src/clock.ts';
import { AuditBatcher } from '../../src/audit/batch.ts';
import { auditedTransaction, recordAudit } from '../../src/audit/record.ts';
import { expect } from 'chai';
import { canonicalJson } from '../../src/audit/canonical.ts';
import { appendAudit, chainHash, readAudit } from '../../src/audit/log.ts';
import { verifyAudit } from '../../src/audit/verify.ts';
import type { StateStore } from '../../src/state/store.ts';
import { freshStateStore } from '../support/state.ts';

let currentUrl = '';

async function freshStore(): Promise<StateStore> {
  const { store, url } = await freshStateStore();
  currentUrl = url;
  return store;
}

async function fill(store: StateStore, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await store.transaction((tx) =>
      appendAudit(tx, new Date(Date.UTC(2026, 0, 1, 0, 0, i)), [
        // An answer entry carries 0: its charge is recorded (with the ledger's) by the charging entry.
        { actor: `analyst${i % 3}`, action: 'query', dataset: 'clinic', outcome: 'answered', epsilon: 0, delta: 0, sqlFingerprint: `fp${i}`, sqlRedacted: 'SELECT count(*) FROM visits WHERE cost > $1', rowCount: i },
      ]),
    );
  }
}

describe('audit log hash chain (PostgreSQL)', function () {
  this.timeout(60_000);
  let store: StateStore;
  beforeEach(async () => {
    store = await freshStore();
    await fill(store, 10);
  });
  afterEach(async () => store?.close());

  it('verifies an untouched chain and reports its head', async () => {
    const r = await verifyAudit(store);
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.entries).to.equal(10);
    const entries = await readAudit(store, 0, 100);
    expect(r.head).to.equal(entries.at(-1)!.hash);
    expect(entries[3]!.prevHash).to.equal(entries[2]!.hash);
    expect(entries.map((e) => e.seq)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('keeps one chain under concurrent appends', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.transaction((tx) => appendAudit(tx, new Date(), [{ actor: `p${i}`, action: 'query', dataset: 'clinic', outcome: 'refused' }]))));
    expect(await verifyAudit(store)).to.deep.include({ ok: true, entries: 50 });
  });

  const tamperings: [string, string, number, RegExp][] = [
    ['an edited entry', `UPDATE dpq.audit_log SET entry = replace(entry, '"rowCount":3', '"rowCount":30') WHERE seq = 4`, 4, /hash/],
    ['a deleted entry', 'DELETE FROM dpq.audit_log WHERE seq = 6', 6, /missing/],
    ['an inserted entry', `UPDATE dpq.audit_log SET seq = -seq WHERE seq >= 5; UPDATE dpq.audit_log SET seq = 1 - seq WHERE seq < 0; INSERT INTO dpq.audit_log SELECT 5, at, entry, prev_hash, hash FROM dpq.audit_log WHERE seq = 4`, 5, /./],
    ['reordered entries', 'UPDATE dpq.audit_log SET seq = -8 WHERE seq = 7; UPDATE dpq.audit_log SET seq = 7 WHERE seq = 8; UPDATE dpq.audit_log SET seq = 8 WHERE seq = -8', 7, /prev_hash/],
    ['a removed tail', 'DELETE FROM dpq.audit_log WHERE seq > 8', 9, /removed/],
  ];
  for (const [what, sql, bad, reason] of tamperings) {
    it(`detects ${what} and names the first bad entry`, async () => {
      for (const s of sql.split('; ')) await store.query(s);
      const r = await verifyAudit(store);
      expect(r.ok).to.equal(false);
      if (r.ok) return;
      expect(r.firstBadSeq).to.equal(bad);
      expect(r.reason).to.match(reason);
    });
  }

  it('detects a well-chained entry appended without moving the head', async () => {
    const last = (await readAudit(store, 0, 100)).at(-1)!;
    const forged = canonicalJson({ ...last, seq: 11, actor: 'mallory', prevHash: undefined, hash: undefined });
    await store.query('INSERT INTO dpq.audit_log (seq, at, entry, prev_hash, hash) VALUES (11, now(), $1, $2, $3)', [forged, last.hash, chainHash(last.hash, forged)]);
    const r = await verifyAudit(store);
    expect(r).to.deep.include({ ok: false, firstBadSeq: 11 });
    if (!r.ok) expect(r.reason).to.match(/head/);
  });

  it('detects a tail removed together with the head record, given an outside checkpoint', async () => {
    const entries = await readAudit(store, 0, 100);
    const checkpoint = { seq: 10, hash: entries[9]!.hash };
    await store.query('DELETE FROM dpq.audit_log WHERE seq > 8');
    await store.query(`UPDATE dpq.audit_head SET seq = 8, hash = $1`, [entries[7]!.hash]);
    expect((await verifyAudit(store)).ok).to.equal(true); // consistent without outside knowledge…
    const r = await verifyAudit(store, checkpoint);
    expect(r).to.deep.include({ ok: false, firstBadSeq: 9 });
  });

  it('rolls an entry back with the transaction that wrote it', async () => {
    await store
      .transaction(async (tx) => {
        await appendAudit(tx, new Date(), [{ actor: 'x', action: 'query', dataset: 'clinic', outcome: 'answered' }]);
        throw new Error('abort');
      })
      .catch(() => undefined);
    expect(await verifyAudit(store)).to.deep.include({ ok: true, entries: 10 });
  });
});

describe('npx dpq audit verify', function () {
  this.timeout(60_000);

  it('prints the result and exits 0 on a whole chain, 1 on a tampered one', async () => {
    const store = await freshStore();
    await fill(store, 5);
    const url = currentUrl;
    const run = (): { status: number | null; out: string } => {
      const r = spawnSync(process.execPath, ['bin/dpq.js', 'audit', 'verify'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', DPQ_STATE_URL: url, DATABASE_URL: url } });
      return { status: r.status, out: r.stdout };
    };
    const ok = run();
    expect(ok.status).to.equal(0);
    expect(JSON.parse(ok.out)).to.deep.include({ ok: true, entries: 5 });
    await store.query(`UPDATE dpq.audit_log SET entry = replace(entry, 'analyst1', 'analyst2') WHERE seq = 2`);
    const bad = run();
    expect(bad.status).to.equal(1);
    expect(JSON.parse(bad.out)).to.deep.include({ ok: false, firstBadSeq: 2 });
    await store.close();
  });
});

describe('audit checkpoints in the service log', function () {
  this.timeout(60_000);

  it('logs the head every 100 entries after commit, and verify checks against it', async () => {
    const store = await freshStore();
    const lines: { auditSeq?: number; auditHash?: string }[] = [];
    const logger = winston.createLogger({
      transports: [new winston.transports.Stream({ stream: new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString()) as object), cb()) }) })],
      format: winston.format.json(),
    });
    const deps = { state: store, clock: systemClock, logger };
    for (let i = 0; i < 120; i++) await recordAudit(deps, [{ actor: 'a', action: 'query', dataset: 'clinic', outcome: 'answered' }]);
    // A rolled-back append is never logged.
    await auditedTransaction(deps, async (_tx, record) => {
      await record(Array.from({ length: 80 }, () => ({ actor: 'b', action: 'query', dataset: 'clinic', outcome: 'answered' as const })));
      throw new Error('abort');
    }).catch(() => undefined);
    const checkpoints = lines.filter((l) => l.auditSeq !== undefined);
    expect(checkpoints.map((c) => c.auditSeq)).to.deep.equal([100]);
    expect(await verifyAudit(store, { seq: 100, hash: checkpoints[0]!.auditHash! })).to.deep.include({ ok: true, entries: 120 });
    await store.close();
  });
});

describe('audit group commit', function () {
  this.timeout(60_000);

  it('commits concurrent entries in shared transactions, in order, each caller waiting for its own', async () => {
    const store = await freshStore();
    let transactions = 0;
    const counting = { ...store, transaction: <T>(fn: Parameters<StateStore['transaction']>[0]) => (transactions++, store.transaction(fn as never) as Promise<T>) } as StateStore;
    const deps = { state: counting, clock: systemClock, logger: winston.createLogger({ silent: true }) };
    const batcher = new AuditBatcher(deps);
    await Promise.all(Array.from({ length: 100 }, (_, i) => batcher.record({ actor: `p${i}`, action: 'query', dataset: 'clinic', outcome: 'cached' })));
    expect(await verifyAudit(store)).to.deep.include({ ok: true, entries: 100 });
    expect(transactions).to.be.within(2, 10); // the first entry alone, then the rest together
    const entries = await readAudit(store, 0, 200);
    expect(entries.map((e) => e.actor)).to.deep.equal(Array.from({ length: 100 }, (_, i) => `p${i}`));
    await store.close();
    // A batch that cannot commit rejects every caller in it.
    const late = await batcher.record({ actor: 'late', action: 'query', dataset: 'clinic', outcome: 'cached' }).then(
      () => 'committed',
      () => 'rejected',
    );
    expect(late).to.equal('rejected');
  });
});
