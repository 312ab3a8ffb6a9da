import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { mintToken } from '../../src/http/auth.ts';
import { spawnServer, startService, TEST_JWT_SECRET, type ServerProcess, type TestService } from '../support/service.ts';
import { approve, createRequest, rawBody, STANDARD_EDITS, testPolicy } from './support.ts';

const S1 = TEST_JWT_SECRET;
const S2 = 'a-second-secret-for-rotation-0123456789abcdef';
const K0 = '11'.repeat(32); // the test services' DPQ_TOKEN_KEY, i.e. key k0
const K1 = '22'.repeat(32);
const PHASES: readonly Record<string, string>[] = [
  { DPQ_JWT_SECRET: S1, DPQ_TOKEN_KEY: K0 },
  { DPQ_JWT_SECRET: `${S1},${S2}`, DPQ_TOKEN_KEYS: `k0:${K0},k1:${K1}` }, // new ones known, not used yet
  { DPQ_JWT_SECRET: `${S2},${S1}`, DPQ_TOKEN_KEYS: `k1:${K1},k0:${K0}` }, // new ones sign and tokenize
];

interface Step {
  readonly status: number;
  readonly body: Record<string, any>;
}

describe('key rotation on a running pair of replicas (pg, two server processes)', function () {
  this.timeout(240_000);
  let svc: TestService;
  const replicas: (ServerProcess | undefined)[] = [];
  let base: Record<string, string>;
  before(async () => {
    const { dir } = testPolicy([...STANDARD_EDITS, ['access.yaml', 'maxQueriesPerGrant: 100', 'maxQueriesPerGrant: 1000000'], ['access.yaml', 'maxRowsPerGrant: 20000', 'maxRowsPerGrant: 100000000']]);
    svc = await startService('pg', { env: { DPQ_POLICY_DIR: dir, DPQ_RATE_LIMIT: '0' } });
    base = { ...svc.env };
    delete base.DPQ_TOKEN_KEY;
    delete base.DPQ_JWT_SECRET;
  });
  after(async () => {
    for (const r of replicas) await r?.stop();
    await svc?.stop();
  });

  const envOf = (phase: number): Record<string, string> => ({ ...base, ...PHASES[phase]! });

  it('rotates DPQ_JWT_SECRET and DPQ_TOKEN_KEYS replica by replica without a failed request', async () => {
    // alice reads rows (emails tokenized); sam's grant covers email, so sam reveals them.
    const reader = await createRequest(svc, 'alice', rawBody(['visits.cost'], { durationMinutes: 240 }));
    await approve(svc, reader.id, 'bob');
    const revealer = await createRequest(svc, 'sam', rawBody(['patients.email'], { durationMinutes: 240 }));
    await approve(svc, revealer.id, 'bob');
    await approve(svc, revealer.id, 'carol');
    replicas[0] = await spawnServer(envOf(0));
    replicas[1] = await spawnServer(envOf(0));

    let secret = S1;
    const down = [false, false];
    const failures: string[] = [];
    const seenTokens = new Set<string>();
    let firstTokens: string[] = [];
    let iterations = 0;
    let stop = false;
    const call = async (i: number, principal: string, route: string, body: unknown): Promise<Step> => {
      const res = await fetch(`${replicas[i]!.url}${route}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await mintToken(new TextEncoder().encode(secret), principal)}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const up = (): number[] => [0, 1].filter((i) => !down[i]);
    const load = (async () => {
      while (!stop) {
        const live = up();
        const a = live[iterations % live.length]!;
        const b = live[(iterations + 1) % live.length]!;
        const rows = await call(a, 'alice', '/v1/raw-queries', { requestId: reader.id, sql: 'SELECT email FROM patients ORDER BY birth_year, sex LIMIT 3' });
        if (rows.status !== 200) failures.push(`raw query on ${a}: ${rows.status} ${JSON.stringify(rows.body)}`);
        const tokens = rows.status === 200 ? (rows.body.rows as { email: string }[]).map((r) => r.email) : [];
        if (firstTokens.length === 0) firstTokens = tokens;
        for (const t of tokens) seenTokens.add(t);
        const wanted = [...new Set([...tokens, ...firstTokens])];
        const shown = await call(b, 'sam', '/v1/tokens/reveal', { requestId: revealer.id, tokens: wanted });
        if (shown.status !== 200) failures.push(`reveal on ${b}: ${shown.status} ${JSON.stringify(shown.body)}`);
        else if (shown.body.unrevealed.length > 0) failures.push(`reveal on ${b}: unrevealed ${shown.body.unrevealed.join(',')}`);
        iterations++;
      }
    })();
    const iterationsPass = async (n: number): Promise<void> => {
      const target = iterations + n;
      while (iterations < target && failures.length === 0) await new Promise((r) => setTimeout(r, 10));
    };

    await iterationsPass(3);
    for (const phase of [1, 2]) {
      for (const i of [0, 1]) {
        down[i] = true;
        await iterationsPass(1); // the iteration that may have picked it has finished
        await replicas[i]!.stop();
        replicas[i] = await spawnServer(envOf(phase));
        down[i] = false;
        await iterationsPass(3);
      }
      if (phase === 1) secret = S2; // every replica verifies S2 now: clients may get tokens signed with it
    }
    await iterationsPass(3);
    stop = true;
    await load;

    expect(failures.slice(0, 5)).to.deep.equal([]);
    const k0 = [...seenTokens].filter((t) => /^tok_[0-9a-f]{32}$/.test(t));
    const k1 = [...seenTokens].filter((t) => /^tok_k1_[0-9a-f]{32}$/.test(t));
    expect(k0).to.have.length.greaterThan(0);
    expect(k1).to.have.length.greaterThan(0);
    // A bearer signed with the old secret still verifies (every listed secret does).
    secret = S1;
    expect((await call(0, 'sam', '/v1/tokens/reveal', { requestId: revealer.id, tokens: firstTokens })).body.unrevealed).to.deep.equal([]);

    // Positive control: once k0 is dropped, its tokens no longer reveal; k1's do.
    const dropped = await spawnServer({ ...base, DPQ_JWT_SECRET: S2, DPQ_TOKEN_KEYS: `k1:${K1}` });
    replicas.push(dropped);
    secret = S2;
    const res = await fetch(`${dropped.url}/v1/tokens/reveal`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await mintToken(new TextEncoder().encode(S2), 'sam')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ requestId: revealer.id, tokens: [...firstTokens, k1[0]] }),
    });
    const body = (await res.json()) as { values: Record<string, string>; unrevealed: string[] };
    expect(body.unrevealed.sort()).to.deep.equal([...new Set(firstTokens)].sort());
    expect(body.values[k1[0]!]).to.match(/@/);
    const old = await fetch(`${dropped.url}/v1/budget`, { headers: { authorization: `Bearer ${await mintToken(new TextEncoder().encode(S1), 'sam')}` } });
    expect(old.status).to.equal(401); // S1 is no longer listed there
  });
});

describe('key rotation: configuration and `dpq keys new`', () => {
  it('reads DPQ_TOKEN_KEYS newest first and several DPQ_JWT_SECRETs, and names the variable of a bad one', () => {
    const c = loadConfig({ DPQ_TOKEN_KEYS: `k1:${K1}, k0:${K0}`, DPQ_JWT_SECRET: `${S2},${S1}` });
    expect(c.tokenKeys!.map((k) => k.id)).to.deep.equal(['k1', 'k0']);
    expect(c.tokenKey!.equals(Buffer.from(K1, 'hex'))).to.equal(true);
    expect(c.jwtSecret).to.equal(S2);
    expect(c.jwtSecrets).to.deep.equal([S2, S1]);
    expect(loadConfig({ DPQ_TOKEN_KEY: K0 }).tokenKeys!.map((k) => k.id)).to.deep.equal(['k0']);
    expect(() => loadConfig({ DPQ_TOKEN_KEYS: `k1:${K1},k1:${K0}` })).to.throw(ConfigError, /DPQ_TOKEN_KEYS: key id k1 is listed twice/);
    expect(() => loadConfig({ DPQ_TOKEN_KEYS: `K_1:${K1}` })).to.throw(ConfigError, /DPQ_TOKEN_KEYS: pair 1: write id:key/);
    expect(() => loadConfig({ DPQ_TOKEN_KEYS: 'k1:abcd' })).to.throw(ConfigError, /DPQ_TOKEN_KEYS: pair 1 \(k1\): the key must be 32 bytes/);
    expect(() => loadConfig({ DPQ_TOKEN_KEYS: `k1:${K1}`, DPQ_TOKEN_KEY: K0 })).to.throw(ConfigError, /DPQ_TOKEN_KEYS: set DPQ_TOKEN_KEYS or DPQ_TOKEN_KEY, not both/);
    expect(() => loadConfig({ DPQ_JWT_SECRET: `${S1},short` })).to.throw(ConfigError, /DPQ_JWT_SECRET: each comma-separated secret must be at least 32 bytes/);
  });

  it('prints a fresh pair that the configuration accepts, and a fresh JWT secret', () => {
    const run = (args: string[]): string => {
      const r = spawnSync(process.execPath, ['bin/dpq.js', 'keys', 'new', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
      expect(r.status).to.equal(0);
      return r.stdout.trim();
    };
    const a = run([]);
    const b = run([]);
    expect(a).to.match(/^k\d{8}[0-9a-f]{4}:[0-9a-f]{64}$/);
    expect(a).not.to.equal(b);
    expect(loadConfig({ DPQ_TOKEN_KEYS: `${a},k0:${K0}` }).tokenKeys!.map((k) => k.id)).to.deep.equal([a.split(':')[0], 'k0']);
    const jwt = run(['--jwt']);
    expect(loadConfig({ DPQ_JWT_SECRET: jwt }).jwtSecret).to.equal(jwt);
  });
});
