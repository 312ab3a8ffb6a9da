import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { postgresCluster } from '../support/cluster.ts';
import { TEST_JWT_SECRET, createDemoDatabase, spawnServer } from '../support/service.ts';

function dpq(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/dpq.js', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the dpq command', function () {
  this.timeout(120_000);

  it('policy check accepts the demo policy', () => {
    const r = dpq(['policy', 'check']);
    expect(r.stderr).to.equal('');
    expect(r.status).to.equal(0);
    expect(r.stdout).to.match(/^ok: 3 file\(s\), 1 dataset\(s\), 6 principal\(s\)/);
  });

  it('policy check prints the file and path of each problem and exits non-zero', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpq-cli-policy-'));
    for (const f of fs.readdirSync('policies')) fs.copyFileSync(path.join('policies', f), path.join(dir, f));
    const file = path.join(dir, 'clinic.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('renew: never', 'renew: weekly').replace('maxRowsPerUnit: 1\n', 'maxRowsPerUnit: 0\n'));
    const r = dpq(['policy', 'check', dir]);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/clinic\.yaml: datasets\.clinic\.tables\.patients\.maxRowsPerUnit: /);
  });

  it('policy check warns about calendar renewal', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpq-cli-policy-'));
    for (const f of fs.readdirSync('policies')) fs.copyFileSync(path.join('policies', f), path.join(dir, f));
    const file = path.join(dir, 'clinic.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('renew: never', 'renew: weekly'));
    const r = dpq(['policy', 'check', dir]);
    expect(r.status).to.equal(0);
    expect(r.stderr).to.match(/warning: .*clinic\.yaml: datasets\.clinic\.budget\.renew: .*per calendar week/);
  });

  it('token mints a JWT only when DPQ_JWT_SECRET is set, for known principals', () => {
    expect(dpq(['token', 'alice']).status).to.equal(1);
    const ok = dpq(['token', 'alice'], { DPQ_JWT_SECRET: TEST_JWT_SECRET });
    expect(ok.status).to.equal(0);
    expect(ok.stdout.trim()).to.match(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const unknown = dpq(['token', 'mallory'], { DPQ_JWT_SECRET: TEST_JWT_SECRET });
    expect(unknown.status).to.equal(1);
    expect(unknown.stderr).to.include('unknown principal');
  });

  it('apikey prints a key whose sha256 is the policy line', () => {
    const r = dpq(['apikey', 'grafana']);
    const key = /API key .*: (\S+)/.exec(r.stdout)![1]!;
    const digest = /apiKeySha256: "([0-9a-f]{64})"/.exec(r.stdout)![1]!;
    expect(createHashHex(key)).to.equal(digest);
  });

  it('refuses to start on a bad variable, naming it', () => {
    const r = dpq(['serve'], { PORT: 'http' });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/cannot start: PORT: /);
  });

  it('refuses to start on a policy with a typo, naming file and path', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpq-cli-policy-'));
    for (const f of fs.readdirSync('policies')) fs.copyFileSync(path.join('policies', f), path.join(dir, f));
    const file = path.join(dir, 'people.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('may: [query, request] }', 'may: [query, reqest] }'));
    const r = dpq(['serve'], { DPQ_POLICY_DIR: dir });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/people\.yaml: roles\.analyst\.may\.1: /);
  });

  it('stops gracefully on SIGTERM, finishing in-flight requests', async () => {
    const server = await spawnServer({ DATABASE_URL: await createDemoDatabase(), DPQ_JWT_SECRET: TEST_JWT_SECRET, DPQ_TOKEN_KEY: '22'.repeat(32), LOG_LEVEL: 'error' });
    // A request whose body is still arriving when the signal comes is in flight.
    const req = http.request(`${server.url}/v1/datasets`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '11' } });
    const response = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    req.write('{"a":');
    req.flushHeaders();
    await new Promise((r) => setTimeout(r, 300));
    const exited = server.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    req.end('"bcd"}');
    expect(await response).to.equal(401);
    expect(await exited).to.equal(0);
  });
});

function createHashHex(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

describe('npx dpq demo load', function () {
  this.timeout(120_000);

  it('loads the demo clinic into DATABASE_URL', async () => {
    const cluster = postgresCluster();
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query('CREATE DATABASE dpq_demo_load');
    await admin.end();
    const r = dpq(['demo', 'load'], { DATABASE_URL: cluster.urlFor('dpq_demo_load') });
    expect(r.status, r.stderr).to.equal(0);
    const m = /loaded (\d+) patients and (\d+) visits/.exec(r.stdout)!;
    expect(Number(m[1])).to.equal(20_000);
    expect(Number(m[2])).to.be.within(180_000, 220_000);
    const c = new pg.Client({ connectionString: cluster.urlFor('dpq_demo_load') });
    await c.connect();
    const n = await c.query<{ n: string }>('SELECT count(*)::text AS n FROM visits');
    await c.end();
    expect(Number(n.rows[0]!.n)).to.equal(Number(m[2]));
  });
});

describe('start-up refusals name what to change', function () {
  this.timeout(60_000);

  it('names PORT when the port is taken, before loading anything', async () => {
    const net = await import('node:net');
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as import('node:net').AddressInfo).port;
    try {
      const r = dpq(['serve'], { PORT: String(port), DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none' });
      expect(r.status).to.equal(1);
      expect(r.stderr).to.match(/cannot start: PORT: 127\.0\.0\.1:\d+ is in use/);
    } finally {
      blocker.close();
    }
  });

  it('names DATABASE_URL and the host when the database cannot be reached', () => {
    const r = dpq(['serve'], { PORT: '0', DATABASE_URL: 'postgresql://u:secret@127.0.0.1:1/db', DPQ_TOKEN_KEY: '11'.repeat(32) });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/cannot start: DATABASE_URL: the warehouse at 127\.0\.0\.1:1\/db cannot be reached/);
    expect(r.stderr).to.not.include("dpq_reader");
    expect(r.stderr).to.not.include('secret');
  });

  it('refuses a second process on the same embedded data dir', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpq-lock-'));
    fs.writeFileSync(path.join(dir, 'dpq.pid'), String(process.pid));
    const r = dpq(['audit', 'verify'], { DPQ_DATA_DIR: dir });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/DPQ_DATA_DIR: .* is in use by process \d+/);
  });
});
