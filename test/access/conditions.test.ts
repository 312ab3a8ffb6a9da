import { expect } from 'chai';
import { ManualClock } from '../../src/clock.ts';
import { PolicyError } from '../../src/policy/load.ts';
import { failedCondition, hoursSchema, parseCidr, withinHours } from '../../src/policy/conditions.ts';
import { spawnServer, startService, type ServerProcess, type TestService } from '../support/service.ts';
import { fromAddress } from './from-address.ts';
import { auditEntries, createRequest, expectCall, rawBody, rawQuery, STANDARD_EDITS, testPolicy } from './support.ts';

const QUASI_RULE = '      autoApprove: { roles: [senior-analyst], maxDuration: 1h }';
const withConditions = (yaml: string): (readonly [string, string | RegExp, string])[] => [...STANDARD_EDITS, ['access.yaml', QUASI_RULE, `${QUASI_RULE}\n      conditions:\n${yaml}`]];

describe('JIT access: rule conditions', function () {
  this.timeout(120_000);

  describe('sourceIps, on two server processes, one behind a trusted proxy (pg)', () => {
    let svc: TestService;
    let proxied: ServerProcess;
    let grantId: string;
    let token: string;
    before(async () => {
      const { dir } = testPolicy(withConditions('        sourceIps: [127.0.0.1/32, "::1/128"]'));
      svc = await startService('pg', { env: { DPQ_POLICY_DIR: dir } });
      proxied = await spawnServer({ ...svc.env, DPQ_TRUST_PROXY: '127.0.0.3/32' });
      // sam is auto-approved for quasi/none columns for up to 1 h
      grantId = (await createRequest(svc, 'sam', rawBody(['visits.diagnosis'], { durationMinutes: 30 }))).id;
      token = await svc.token('sam');
    });
    after(async () => {
      await proxied?.stop();
      await svc?.stop();
    });
    const sql = { sql: 'SELECT diagnosis FROM visits LIMIT 2' };

    it('answers from 127.0.0.1 and refuses 127.0.0.2 for raw queries and reveals, audited', async () => {
      const ok = await fromAddress('127.0.0.1', `${svc.url}/v1/raw-queries`, 'POST', token, { requestId: grantId, ...sql });
      expect(ok.status).to.equal(200);
      const refused = await fromAddress('127.0.0.2', `${svc.url}/v1/raw-queries`, 'POST', token, { requestId: grantId, ...sql });
      expect(refused.status).to.equal(403);
      expect(refused.body.error.code).to.equal('FORBIDDEN');
      expect(refused.body.error.details).to.deep.equal({ condition: 'sourceIps', sourceAddress: '127.0.0.2' });
      const reveal = await fromAddress('127.0.0.2', `${svc.url}/v1/tokens/reveal`, 'POST', token, { requestId: grantId, tokens: [`tok_${'0'.repeat(32)}`] });
      expect(reveal.status).to.equal(403);
      expect(reveal.body.error.details.condition).to.equal('sourceIps');

      const entries = await auditEntries(svc);
      const refusals = entries.filter((e) => e.requestId === grantId && e.outcome === 'refused');
      expect(refusals.map((e) => [e.action, e.details.condition, e.details.sourceAddress])).to.deep.equal([
        ['access.raw_query', 'sourceIps', '127.0.0.2'],
        ['access.reveal', 'sourceIps', '127.0.0.2'],
      ]);
    });

    it('ignores X-Forwarded-For from anyone but the trusted proxy, and believes the proxy', async () => {
      const spoofed = await fromAddress('127.0.0.2', `${svc.url}/v1/raw-queries`, 'POST', token, { requestId: grantId, ...sql }, { 'x-forwarded-for': '127.0.0.1' });
      expect(spoofed.status).to.equal(403);
      // The second process trusts 127.0.0.3 as its proxy: the first hop is the client.
      const viaProxy = await fromAddress('127.0.0.3', `${proxied.url}/v1/raw-queries`, 'POST', token, { requestId: grantId, ...sql }, { 'x-forwarded-for': '127.0.0.1, 127.0.0.3' });
      expect(viaProxy.status).to.equal(200);
      const proxiedFar = await fromAddress('127.0.0.3', `${proxied.url}/v1/raw-queries`, 'POST', token, { requestId: grantId, ...sql }, { 'x-forwarded-for': '127.0.0.2' });
      expect(proxiedFar.status).to.equal(403);
      expect(proxiedFar.body.error.details).to.deep.equal({ condition: 'sourceIps', sourceAddress: '127.0.0.2' });
      // An untrusted peer's header changes nothing on the proxied replica either.
      const direct = await fromAddress('127.0.0.2', `${proxied.url}/v1/raw-queries`, 'POST', token, { requestId: grantId, ...sql }, { 'x-forwarded-for': '127.0.0.1' });
      expect(direct.status).to.equal(403);
    });
  });

  describe('hours, with the injectable clock (pg)', () => {
    let svc: TestService;
    // Monday 2026-01-05, 18:30 UTC = 19:30 in Zurich (CET)
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 18, 30));
    before(async () => {
      const { dir } = testPolicy(withConditions('        hours: { days: [mon, tue, wed, thu, fri], from: "07:00", to: "20:00", timeZone: Europe/Zurich }'));
      svc = await startService('pg', { clock, env: { DPQ_POLICY_DIR: dir } });
    });
    after(async () => svc?.stop());

    it('answers inside the hours and refuses the same active grant outside them, audited', async () => {
      const g = await createRequest(svc, 'sam', rawBody(['visits.diagnosis'], { durationMinutes: 60 }));
      await rawQuery(svc, 'sam', g.id, 'SELECT diagnosis FROM visits LIMIT 1');
      clock.advance(29 * 60_000); // 19:59 local: still inside
      await rawQuery(svc, 'sam', g.id, 'SELECT diagnosis FROM visits LIMIT 1');
      clock.advance(60_000); // 20:00 local: `to` is exclusive
      const refused = await rawQuery(svc, 'sam', g.id, 'SELECT diagnosis FROM visits LIMIT 1', 403, 'FORBIDDEN');
      expect(refused.error.details).to.deep.equal({ condition: 'hours' });
      expect(refused.error.message).to.include('Europe/Zurich');
      const view = await expectCall(svc, 'GET', `/v1/access-requests/${g.id}`, 'sam', undefined, 200);
      expect(view.status).to.equal('approved'); // the grant is active; only its use is refused
      const entries = await auditEntries(svc);
      expect(entries.filter((e) => e.requestId === g.id && e.outcome === 'refused').map((e) => e.details.condition)).to.deep.equal(['hours']);
    });
  });

  describe('the rules in isolation', () => {
    it('matches IPv4 and IPv6 ranges, IPv4-mapped addresses as IPv4', () => {
      const v4 = [parseCidr('127.0.0.1/32')!];
      expect(failedCondition({ sourceIps: v4 }, '127.0.0.1', new Date())).to.equal(undefined);
      expect(failedCondition({ sourceIps: v4 }, '::ffff:127.0.0.1', new Date())).to.equal(undefined);
      expect(failedCondition({ sourceIps: v4 }, '127.0.0.2', new Date())).to.equal('sourceIps');
      expect(failedCondition({ sourceIps: v4 }, undefined, new Date())).to.equal('sourceIps');
      const v6 = [parseCidr('2001:db8::/32')!, parseCidr('10.0.0.0/8')!];
      expect(failedCondition({ sourceIps: v6 }, '2001:db8:ffff::1', new Date())).to.equal(undefined);
      expect(failedCondition({ sourceIps: v6 }, '2001:db9::1', new Date())).to.equal('sourceIps');
      expect(failedCondition({ sourceIps: v6 }, '10.255.1.2', new Date())).to.equal(undefined);
      expect(failedCondition({ sourceIps: v6 }, '11.0.0.1', new Date())).to.equal('sourceIps');
    });

    it('wraps an overnight window to the next morning, on the day it started', () => {
      const night = hoursSchema.parse({ days: ['fri'], from: '22:00', to: '06:00', timeZone: 'UTC', overnight: true });
      expect(withinHours(night, new Date(Date.UTC(2026, 0, 9, 23, 0)))).to.equal(true); // Fri 23:00
      expect(withinHours(night, new Date(Date.UTC(2026, 0, 10, 5, 59)))).to.equal(true); // Sat 05:59
      expect(withinHours(night, new Date(Date.UTC(2026, 0, 10, 6, 0)))).to.equal(false);
      expect(withinHours(night, new Date(Date.UTC(2026, 0, 10, 23, 0)))).to.equal(false); // Sat night
      const dst = hoursSchema.parse({ from: '07:00', to: '20:00', timeZone: 'Europe/Zurich' });
      expect(withinHours(dst, new Date(Date.UTC(2026, 6, 1, 5, 30)))).to.equal(true); // 07:30 CEST
      expect(withinHours(dst, new Date(Date.UTC(2026, 0, 1, 5, 30)))).to.equal(false); // 06:30 CET
    });

    const problemOf = (yaml: string): string => {
      try {
        testPolicy(withConditions(yaml));
      } catch (err: unknown) {
        if (err instanceof PolicyError) return err.message;
        throw err;
      }
      throw new Error('the policy loaded');
    };

    it('names the file and path of a bad range, time zone, or from after to', () => {
      expect(problemOf('        sourceIps: [10.0.0.0/33]')).to.match(/access\.yaml: access\.rules\.1\.conditions\.sourceIps\.0: "10\.0\.0\.0\/33" is not an address range/);
      expect(problemOf('        sourceIps: [10.0.0/8]')).to.match(/access\.yaml: access\.rules\.1\.conditions\.sourceIps\.0: /);
      expect(problemOf('        hours: { from: "07:00", to: "20:00", timeZone: Europe/Zurch }')).to.match(/access\.yaml: access\.rules\.1\.conditions\.hours\.timeZone: "Europe\/Zurch" is not an IANA time zone/);
      expect(problemOf('        hours: { from: "20:00", to: "07:00", timeZone: UTC }')).to.match(/access\.yaml: access\.rules\.1\.conditions\.hours\.to: from 20:00 is not before to 07:00/);
      expect(problemOf('        hours: { from: "7am", to: "20:00", timeZone: UTC }')).to.match(/access\.rules\.1\.conditions\.hours\.from: must be a time HH:MM/);
      expect(problemOf('        hours: { days: [monday], from: "07:00", to: "20:00", timeZone: UTC }')).to.match(/access\.rules\.1\.conditions\.hours\.days\.0/);
    });
  });
});
