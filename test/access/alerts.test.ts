import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { accessContext } from '../../src/access/context.ts';
import { ManualClock } from '../../src/clock.ts';
import { PolicyError, loadPolicy } from '../../src/policy/load.ts';
import { spawnServer, startService, type ServerProcess, type TestService } from '../support/service.ts';
import { approve, auditEntries, createRequest, expectCall, type Json, rawBody, STANDARD_EDITS, testPolicy, webhookReceiver, type Receiver } from './support.ts';

/** Counters are per UTC hour: keep the scenario inside one (wait when the hour is about to turn). */
async function awayFromHourEnd(): Promise<void> {
  const intoHour = Date.now() % 3_600_000;
  if (intoHour > 3_600_000 - 180_000) await new Promise((r) => setTimeout(r, 3_600_000 - intoHour + 2_000));
}

const pad = (h: number): string => `${String(h).padStart(2, '0')}:00`;

describe('alerts from the state store across two server processes (pg)', function () {
  this.timeout(600_000);
  let svc: TestService;
  let second: ServerProcess;
  let receiver: Receiver;
  before(async () => {
    await awayFromHourEnd();
    receiver = await webhookReceiver();
    const { dir } = testPolicy(STANDARD_EDITS);
    // A window that does not hold now: every raw use in this test is "outside".
    const from = (new Date().getUTCHours() + 2) % 24;
    fs.writeFileSync(
      path.join(dir, 'alerts.yaml'),
      `alerts:
  - { name: bulk-raw-reads, when: { rawRowsPerHour: 25 } }
  - { name: reveal-burst,   when: { revealsPerHour: 5 } }
  - { name: refusal-storm,  when: { refusalsPerHour: 3 } }
  - { name: fast-burn,      when: { epsilonPerDay: 1 } }
  - { name: off-hours-raw,  when: { rawOutside: { from: "${pad(from)}", to: "${pad(from + 1)}", timeZone: UTC } } }
`,
    );
    svc = await startService('pg', { env: { DPQ_POLICY_DIR: dir, DPQ_NOTIFY_WEBHOOK: receiver.url } });
    second = await spawnServer({ ...svc.env });
  });
  after(async () => {
    await second?.stop();
    await svc?.stop();
    await receiver?.close();
  });

  const on = async (where: 'here' | 'there', principal: string, route: string, body: unknown): Promise<{ status: number; body: Json }> => {
    const base = where === 'here' ? svc.url : second.url;
    const res = await fetch(`${base}${route}`, { method: 'POST', headers: { authorization: `Bearer ${await svc.token(principal)}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const alerts = async (): Promise<Json[]> => (await expectCall(svc, 'GET', '/v1/alerts?limit=1000', 'carol', undefined, 200)).alerts as Json[];
  const waitForAlerts = async (n: number): Promise<Json[]> => {
    const start = Date.now();
    for (;;) {
      const list = await alerts();
      if (list.length >= n) return list;
      if (Date.now() - start > 30_000) throw new Error(`expected ${n} alerts, have ${JSON.stringify(list)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const alertCount = async (url: string): Promise<number> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return [...text.matchAll(/^dpq_alerts_total\{rule="[^"]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };

  it('raises each rule once per window whichever replica counts, audited, notified, counted, never blocking', async () => {
    const reader = await createRequest(svc, 'alice', rawBody(['visits.cost']));
    await approve(svc, reader.id, 'bob');
    const revealer = await createRequest(svc, 'sam', rawBody(['patients.email']));
    await approve(svc, revealer.id, 'bob');
    await approve(svc, revealer.id, 'carol');

    // 3 × 10 raw rows, spread over both replicas: the third crosses 25.
    const tokens: string[] = [];
    for (const where of ['here', 'there', 'here'] as const) {
      const r = await on(where, 'alice', '/v1/raw-queries', { requestId: reader.id, sql: 'SELECT email FROM patients ORDER BY birth_year, sex LIMIT 10' });
      expect(r.status).to.equal(200); // never blocked
      for (const row of r.body.rows as { email: string }[]) if (!tokens.includes(row.email)) tokens.push(row.email);
    }
    // 3 + 3 tokens revealed on the two replicas: past 5.
    expect((await on('here', 'sam', '/v1/tokens/reveal', { requestId: revealer.id, tokens: tokens.slice(0, 3) })).body.unrevealed).to.deep.equal([]);
    expect((await on('there', 'sam', '/v1/tokens/reveal', { requestId: revealer.id, tokens: tokens.slice(3, 6) })).body.unrevealed).to.deep.equal([]);
    // 4 refused aggregate queries: past 3.
    for (const where of ['here', 'there', 'here', 'there'] as const) expect((await on(where, 'alice', '/v1/queries', { sql: 'SELECT * FROM visits' })).status).to.equal(422);
    // ε 0.5 + 0.25 + 0.5 on clinic: past 1.
    for (const [where, epsilon, alias] of [['here', 0.5, 'a'], ['there', 0.25, 'b'], ['here', 0.5, 'c']] as const) {
      expect((await on(where, 'alice', '/v1/queries', { sql: `SELECT COUNT(*) AS ${alias} FROM visits`, epsilon })).status).to.equal(200);
    }

    const raised = await waitForAlerts(6);
    const shape = raised.map((a) => `${a.rule} ${a.principal} ${a.dataset ?? '-'} ${a.observed} > ${a.threshold}`).sort();
    expect(shape).to.deep.equal([
      'bulk-raw-reads alice - 30 > 25',
      'fast-burn alice clinic 1.25 > 1',
      'off-hours-raw alice - 1 > 0',
      'off-hours-raw sam - 1 > 0',
      'refusal-storm alice - 4 > 3',
      'reveal-burst sam - 6 > 5',
    ]);
    for (const a of raised) expect(a.id).to.match(/^al_\d+$/);

    // Nothing more within the window: a fourth query does not raise bulk-raw-reads again.
    expect((await on('there', 'alice', '/v1/raw-queries', { requestId: reader.id, sql: 'SELECT cost FROM visits LIMIT 5' })).status).to.equal(200);
    expect((await on('here', 'alice', '/v1/raw-queries', { requestId: reader.id, sql: 'SELECT cost FROM visits LIMIT 5' })).status).to.equal(200);
    await receiver.waitFor((all) => all.filter((b) => b.event === 'alert').length >= 6);
    const entries = await auditEntries(svc);
    const audited = entries.filter((e) => e.action === 'alert');
    expect(audited.map((e) => e.details.alert).sort()).to.deep.equal(raised.map((a) => a.id).sort());
    expect(audited.find((e) => e.details.rule === 'fast-burn')!.dataset).to.equal('clinic');
    expect(receiver.received.filter((b) => b.event === 'alert').map((b) => b.id).sort()).to.deep.equal(raised.map((a) => a.id).sort());
    expect((await alerts()).length).to.equal(6);
    // Counted once in all: by the replica that crossed each threshold.
    expect((await alertCount(svc.url)) + (await alertCount(second.url))).to.equal(6);
    // Auditors only.
    await expectCall(svc, 'GET', '/v1/alerts', 'alice', undefined, 403, 'FORBIDDEN');
    const page = await expectCall(svc, 'GET', `/v1/alerts?after=${raised[0]!.id}&limit=2`, 'carol', undefined, 200);
    expect(page.alerts.map((a: Json) => a.id)).to.deep.equal(raised.slice(1, 3).map((a) => a.id));
  });
});

describe('alert rules in the policy', () => {
  const problemOf = (yaml: string): string => {
    const { dir } = testPolicy([]);
    fs.writeFileSync(path.join(dir, 'alerts.yaml'), yaml);
    try {
      loadPolicy(dir, {});
    } catch (err: unknown) {
      if (err instanceof PolicyError) return err.message;
      throw err;
    }
    throw new Error('the policy loaded');
  };
  it('names the file and path of a threshold that is not a positive number, a rule without one measure, a name used twice', () => {
    expect(problemOf('alerts:\n  - { name: a, when: { rawRowsPerHour: 0 } }\n')).to.match(/alerts\.yaml: alerts\.0\.when\.rawRowsPerHour: must be a positive number/);
    expect(problemOf('alerts:\n  - { name: a, when: { epsilonPerDay: -1 } }\n')).to.match(/alerts\.yaml: alerts\.0\.when\.epsilonPerDay: must be a positive number/);
    expect(problemOf('alerts:\n  - { name: a, when: { revealsPerHour: lots } }\n')).to.match(/alerts\.yaml: alerts\.0\.when\.revealsPerHour: must be a positive number/);
    expect(problemOf('alerts:\n  - { name: a, when: { revealsPerHour: 1, refusalsPerHour: 2 } }\n')).to.match(/alerts\.yaml: alerts\.0\.when: name exactly one of/);
    expect(problemOf('alerts:\n  - { name: a, when: { rawOutside: { from: "20:00", to: "07:00", timeZone: UTC } } }\n')).to.match(/alerts\.0\.when\.rawOutside\.to: from 20:00 is not before to 07:00/);
    expect(problemOf('alerts:\n  - { name: a, when: { refusalsPerHour: 3 } }\n  - { name: a, when: { refusalsPerHour: 4 } }\n')).to.match(/alerts\.yaml: alerts\.1\.name: alert "a" is already defined/);
  });
});

describe('alerts and reviews on the embedded store (pglite)', function () {
  this.timeout(120_000);
  it('raises, lists and reviews the same way', async () => {
    const { dir } = testPolicy(STANDARD_EDITS);
    fs.writeFileSync(path.join(dir, 'alerts.yaml'), 'alerts:\n  - { name: refusal-storm, when: { refusalsPerHour: 1 } }\n');
    const svc = await startService('pglite', { env: { DPQ_POLICY_DIR: dir } });
    try {
      for (let i = 0; i < 3; i++) await expectCall(svc, 'POST', '/v1/queries', 'alice', { sql: 'SELECT * FROM visits' }, 422);
      await accessContext(svc.runtime).alerts.idle();
      const { alerts } = await expectCall(svc, 'GET', '/v1/alerts', 'carol', undefined, 200);
      expect(alerts.map((a: Json) => `${a.rule} ${a.principal} ${a.observed} > ${a.threshold}`)).to.deep.equal(['refusal-storm alice 2 > 1']);
      const review = await expectCall(svc, 'GET', '/v1/access-reviews', 'carol', undefined, 200);
      expect(review.policy.rolesExercised).to.include('analyst');
    } finally {
      await svc.stop();
    }
  });
});

describe('the alert rules of policy.md in a scripted scenario (pg)', function () {
  this.timeout(300_000);
  // Saturday 2026-01-10, 10:00 in Zurich: outside the weekday hours of off-hours-raw.
  const clock = new ManualClock(Date.UTC(2026, 0, 10, 9, 0));
  let svc: TestService;
  before(async () => {
    const { dir } = testPolicy(STANDARD_EDITS);
    fs.writeFileSync(
      path.join(dir, 'alerts.yaml'),
      `alerts:
  - { name: bulk-raw-reads, when: { rawRowsPerHour: 5000 } }
  - { name: reveal-burst,   when: { revealsPerHour: 50 } }
  - { name: refusal-storm,  when: { refusalsPerHour: 30 } }
  - { name: fast-burn,      when: { epsilonPerDay: 5 } }
  - { name: off-hours-raw,  when: { rawOutside: { days: [mon, tue, wed, thu, fri], from: "07:00", to: "20:00", timeZone: Europe/Zurich } } }
`,
    );
    svc = await startService('pg', { clock, env: { DPQ_POLICY_DIR: dir, DPQ_RATE_LIMIT: '0' } });
  });
  after(async () => svc?.stop());

  it('measures 6000 raw rows, 60 reveals, 31 refusals, ε 5.5 and weekend raw use', async () => {
    const reader = await createRequest(svc, 'alice', rawBody(['visits.cost']));
    await approve(svc, reader.id, 'bob');
    const revealer = await createRequest(svc, 'sam', rawBody(['patients.email']));
    await approve(svc, revealer.id, 'bob');
    await approve(svc, revealer.id, 'carol');
    let tokens: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await expectCall(svc, 'POST', '/v1/raw-queries', 'alice', { requestId: reader.id, sql: `SELECT email FROM patients LIMIT 1000 OFFSET ${i * 100}` }, 200);
      expect(r.rowCount).to.equal(1000);
      if (i === 0) tokens = (r.rows as { email: string }[]).map((x) => x.email);
    }
    const shown = await expectCall(svc, 'POST', '/v1/tokens/reveal', 'sam', { requestId: revealer.id, tokens: [...new Set(tokens)].slice(0, 60) }, 200);
    expect(Object.keys(shown.values)).to.have.length(60);
    for (let i = 0; i < 31; i++) await expectCall(svc, 'POST', '/v1/queries', 'alice', { sql: 'SELECT * FROM visits' }, 422);
    for (const [epsilon, alias] of [[2, 'a'], [2, 'b'], [1.5, 'c']] as const) await expectCall(svc, 'POST', '/v1/queries', 'alice', { sql: `SELECT COUNT(*) AS ${alias} FROM visits`, epsilon }, 200);
    await accessContext(svc.runtime).alerts.idle();
    const { alerts } = await expectCall(svc, 'GET', '/v1/alerts', 'carol', undefined, 200);
    const lines = (alerts as Json[]).map((a) => `${a.rule}: ${a.principal}${a.dataset === null ? '' : ` on ${a.dataset}`} observed ${a.observed}, threshold ${a.threshold}`);
    expect(lines.sort()).to.deep.equal([
      'bulk-raw-reads: alice observed 6000, threshold 5000',
      'fast-burn: alice on clinic observed 5.5, threshold 5',
      'off-hours-raw: alice observed 1, threshold 0',
      'off-hours-raw: sam observed 1, threshold 0',
      'refusal-storm: alice observed 31, threshold 30',
      'reveal-burst: sam observed 60, threshold 50',
    ]);
  });
});
