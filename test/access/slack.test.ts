import http from 'node:http';
import { expect } from 'chai';
import { accessContext } from '../../src/access/context.ts';
import { ManualClock } from '../../src/clock.ts';
import { slackSignature } from '../../src/access/slack.ts';
import { spawnServer, startService, type ServerProcess, type TestService } from '../support/service.ts';
import { auditEntries, closedPort, createRequest, expectCall, type Json, rawBody, STANDARD_EDITS, testPolicy, webhookReceiver, type Receiver } from './support.ts';

const SECRET = 'slack-signing-secret-for-tests-0123456789';
const SLACK_IDS: readonly (readonly [string, string | RegExp, string])[] = [
  ['people.yaml', 'alice: { roles: [analyst] }', 'alice: { roles: [analyst], slackUserId: UALICE01 }'],
  ['people.yaml', 'bob:   { roles: [approver] }', 'bob:   { roles: [approver], slackUserId: UBOB0001 }'],
  ['people.yaml', 'carol: { roles: [approver, auditor] }', 'carol: { roles: [approver, auditor], slackUserId: UCAROL01 }'],
];

interface Press {
  readonly user: string;
  readonly action: 'dpq_approve' | 'dpq_deny';
  readonly requestId: string;
  readonly reason?: string;
}

function slackBody(p: Press): string {
  const payload = {
    type: 'block_actions',
    user: { id: p.user, name: 'someone' },
    actions: [{ action_id: p.action, value: p.requestId, type: 'button' }],
    state: { values: p.reason === undefined ? {} : { dpq_reason_block: { dpq_reason: { type: 'plain_text_input', value: p.reason } } } },
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

async function post(url: string, body: string, timestamp: number, signature?: string): Promise<{ status: number; body: Json }> {
  const ts = String(timestamp);
  const res = await fetch(`${url}/v1/integrations/slack/actions`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': signature ?? slackSignature(SECRET, ts, body) },
    body,
  });
  return { status: res.status, body: (await res.json()) as Json };
}

describe('chat approvals from Slack (pg, two server processes)', function () {
  this.timeout(120_000);
  let svc: TestService;
  let second: ServerProcess;
  let receiver: Receiver;
  const clock = new ManualClock(Date.now());
  before(async () => {
    receiver = await webhookReceiver();
    const { dir } = testPolicy([...STANDARD_EDITS, ...SLACK_IDS]);
    svc = await startService('pg', {
      clock,
      env: { DPQ_POLICY_DIR: dir, DPQ_NOTIFY_WEBHOOK: receiver.url, DPQ_SLACK_SIGNING_SECRET: SECRET, DPQ_PUBLIC_URL: 'https://dpq.example.org/' },
    });
    second = await spawnServer({ ...svc.env });
  });
  after(async () => {
    await second?.stop();
    await svc?.stop();
    await receiver?.close();
  });
  // The in-process replica runs on the test's clock; the second one on the real one.
  const here = (): number => Math.floor(svc.clock.now().getTime() / 1000);
  const real = (): number => Math.floor(Date.now() / 1000);
  const statusOf = async (id: string): Promise<Json> => expectCall(svc, 'GET', `/v1/access-requests/${id}`, 'carol', undefined, 200);

  it('sends Approve and Deny buttons with a console link, and approves N-of-M across replicas', async () => {
    const r = await createRequest(svc, 'alice', rawBody(['patients.email']));
    await receiver.waitFor((all) => all.some((b) => b.requestId === r.id && b.event === 'created'));
    const note = receiver.received.find((b) => b.requestId === r.id && b.event === 'created')!;
    const actions = (note.blocks as Json[]).find((b) => b.type === 'actions')!;
    expect(actions.elements.map((e: Json) => [e.action_id, e.value])).to.deep.equal([
      ['dpq_approve', r.id],
      ['dpq_deny', r.id],
    ]);
    expect((note.blocks as Json[])[0]!.accessory.url).to.equal(`https://dpq.example.org/#/approver?request=${r.id}`);

    const first = await post(second.url, slackBody({ user: 'UBOB0001', action: 'dpq_approve', requestId: r.id }), real());
    expect(first.status).to.equal(200);
    expect(first.body.request).to.include({ status: 'pending' });
    expect(first.body.request.approvals.map((a: Json) => a.approver)).to.deep.equal(['bob']);
    // bob again, on the other replica: the same rule as HTTP (one approval per approver)
    const twice = await post(svc.url, slackBody({ user: 'UBOB0001', action: 'dpq_approve', requestId: r.id }), here());
    expect(twice.status).to.equal(409);
    const done = await post(svc.url, slackBody({ user: 'UCAROL01', action: 'dpq_approve', requestId: r.id }), here());
    expect(done.status).to.equal(200);
    expect(done.body.request.status).to.equal('approved');
    // No longer pending
    const late = await post(second.url, slackBody({ user: 'UCAROL01', action: 'dpq_deny', requestId: r.id, reason: 'changed my mind' }), real());
    expect(late.status).to.equal(409);
    expect((await statusOf(r.id)).status).to.equal('approved');
  });

  it('refuses a bad signature, a stale or replayed timestamp, an unknown user and self-approval, changing nothing, audited', async () => {
    const r = await createRequest(svc, 'alice', { kind: 'budget', dataset: 'clinic', epsilon: 1, justification: 'Privacy budget for dataset clinic is spent; need more for the analysis' });
    const approveBody = slackBody({ user: 'UBOB0001', action: 'dpq_approve', requestId: r.id });
    const bad = await post(svc.url, approveBody, here(), slackSignature('another-secret-another-secret-0000', String(here()), approveBody));
    expect(bad.status).to.equal(401);
    const tampered = await post(svc.url, approveBody.replace('UBOB0001', 'UCAROL01'), here(), slackSignature(SECRET, String(here()), approveBody));
    expect(tampered.status).to.equal(401);
    expect((await post(second.url, approveBody, real() - 301)).status).to.equal(401); // stale
    // Replay: a payload signed now, sent again after 5 minutes on the test's clock
    const ts = here();
    const signed = slackSignature(SECRET, String(ts), approveBody);
    clock.advance(6 * 60_000);
    const replay = await post(svc.url, approveBody, ts, signed);
    expect(replay.status).to.equal(401);
    expect(replay.body.error.message).to.include('replay');
    expect((await post(svc.url, slackBody({ user: 'UNOBODY1', action: 'dpq_approve', requestId: r.id }), here())).status).to.equal(401);
    expect((await post(svc.url, slackBody({ user: 'UALICE01', action: 'dpq_approve', requestId: r.id }), here())).status).to.equal(403);
    // A denial needs a reason here too
    expect((await post(svc.url, slackBody({ user: 'UBOB0001', action: 'dpq_deny', requestId: r.id }), here())).status).to.equal(400);
    const unchanged = await statusOf(r.id);
    expect(unchanged).to.include({ status: 'pending' });
    expect(unchanged.approvals).to.deep.equal([]);

    const denied = await post(svc.url, slackBody({ user: 'UBOB0001', action: 'dpq_deny', requestId: r.id, reason: 'use the remaining budget first' }), here());
    expect(denied.status).to.equal(200);
    expect(await statusOf(r.id)).to.include({ status: 'denied', decidedBy: 'bob', reason: 'use the remaining budget first' });

    const slack = (await auditEntries(svc)).filter((e) => e.action === 'integration.slack');
    const forThis = slack.filter((e) => e.requestId === r.id).map((e) => `${e.actor}:${e.outcome}:${e.code ?? ''}`);
    expect(forThis).to.deep.equal(['slack:refused:UNAUTHENTICATED', 'alice:refused:FORBIDDEN', 'bob:refused:INVALID_REQUEST', 'bob:ok:']);
    // signature failures are audited before the payload is trusted: no request id on them
    expect(slack.filter((e) => e.requestId === null && e.code === 'UNAUTHENTICATED').length).to.be.at.least(4);
    expect(JSON.stringify(slack)).not.to.include('payload');
  });
});

describe('notifications never block a request (pg)', function () {
  this.timeout(120_000);

  it('answers while the receiver hangs, and counts a dead letter when it is gone', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let arrived = 0;
    const hanging = http.createServer((req, res) => {
      arrived++;
      req.resume();
      void held.then(() => res.writeHead(200).end('ok'));
    });
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const port = (hanging.address() as { port: number }).port;
    const slow = testPolicy(STANDARD_EDITS, { DPQ_NOTIFY_WEBHOOK: `http://127.0.0.1:${port}/hook` });
    const svc = await startService('pg', { policy: slow.policy });
    try {
      const r = await createRequest(svc, 'alice', rawBody(['visits.cost'])); // answered though the receiver holds the notification
      await expectCall(svc, 'POST', `/v1/access-requests/${r.id}/approve`, 'bob', {}, 200);
      while (arrived === 0) await new Promise((res) => setTimeout(res, 10));
    } finally {
      release();
      await accessContext(svc.runtime).notifier.idle();
      await svc.stop();
      hanging.closeAllConnections();
      await new Promise<void>((r) => hanging.close(() => r()));
    }

    const dead = testPolicy(STANDARD_EDITS, { DPQ_NOTIFY_WEBHOOK: `http://127.0.0.1:${await closedPort()}/hook` });
    const svc2 = await startService('pg', { policy: dead.policy });
    try {
      await createRequest(svc2, 'alice', rawBody(['visits.cost']));
      await accessContext(svc2.runtime).notifier.idle();
      const metrics = await (await svc2.request('GET', '/metrics')).text();
      expect(metrics).to.match(/dpq_notifications_dead_letters_total\{kind="access"\} 1\b/);
    } finally {
      await svc2.stop();
    }
  });
});
