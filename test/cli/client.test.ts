/**
 * The CLI as a client of a running server (api.md, CLI): --help everywhere without side effects,
 * --version, exit codes 0/1/2, table/JSON/CSV output, and `demo token` against the embedded demo.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { COMMANDS } from '../../src/cli/registry.ts';
import { createDemoDataDir, spawnServer, startService, type TestService } from '../support/service.ts';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run bin/dpq.js without blocking this process (the in-process test server must keep answering). */
function dpq(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/dpq.js', ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('the dpq command: help, version, exit codes', function () {
  this.timeout(120_000);

  it('answers --help for every command with its usage, exit 0, doing nothing', async () => {
    for (const c of COMMANDS) {
      // serve with a taken-nothing environment would start a server: --help must not.
      const r = await dpq([...c.name.split(' '), '--help'], { PORT: '1', DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' });
      expect(r.status, c.name).to.equal(0);
      expect(r.stdout, c.name).to.match(new RegExp(`^usage: dpq ${c.name}`));
      expect(r.stderr, c.name).to.equal('');
    }
    expect((await dpq(['--help'])).stdout).to.contain('Client of a running server');
    expect((await dpq(['help', 'query'])).stdout).to.match(/^usage: dpq query/);
  });

  it('prints the version of package.json', async () => {
    const version = (JSON.parse(fs.readFileSync(path.resolve('package.json'), 'utf8')) as { version: string }).version;
    const r = await dpq(['--version']);
    expect(r.status).to.equal(0);
    expect(r.stdout.trim()).to.equal(`dpq ${version}`);
  });

  it('exits 2 with the usage on an unknown command, a bare group, or a wrong option', async () => {
    const unknown = await dpq(['frobnicate']);
    expect(unknown.status).to.equal(2);
    expect(unknown.stderr).to.contain('unknown command "frobnicate"').and.contain('usage: dpq <command>');
    const group = await dpq(['policy']);
    expect(group.status).to.equal(2);
    expect(group.stderr).to.contain('dpq policy check');
    const option = await dpq(['query', 'SELECT 1', '--epsilom', '1']);
    expect(option.status).to.equal(2);
    expect(option.stderr).to.contain('--epsilom').and.contain('usage: dpq query');
    const deny = await dpq(['deny', 'ar_x']);
    expect(deny.status).to.equal(2);
    expect(deny.stderr).to.contain('--reason is required');
  });

  it('exits 1 with a clear message when no server answers or DPQ_TOKEN is missing', async () => {
    const none = await dpq(['budget'], { DPQ_URL: 'http://127.0.0.1:1', DPQ_TOKEN: 'x' });
    expect(none.status).to.equal(1);
    expect(none.stderr).to.contain('UNAVAILABLE: no dpq server answers at http://127.0.0.1:1');
    const noToken = await dpq(['budget'], { DPQ_URL: 'http://127.0.0.1:1' });
    expect(noToken.status).to.equal(1);
    expect(noToken.stderr).to.contain('DPQ_TOKEN is not set');
  });
});

describe('the dpq client against a server (pg)', function () {
  this.timeout(120_000);
  let svc: TestService;
  const as = async (principal: string): Promise<Record<string, string>> => ({ DPQ_URL: svc.url, DPQ_TOKEN: await svc.token(principal) });
  before(async () => {
    svc = await startService('pg');
  });
  after(async () => svc?.stop());

  it('query prints a table with each value ± its interval, the cost and the budget left', async () => {
    const r = await dpq(['query', 'SELECT region, COUNT(*) AS visits FROM visits GROUP BY region', '--epsilon', '0.5'], await as('alice'));
    expect(r.stderr).to.equal('');
    expect(r.status).to.equal(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).to.match(/^region\s+visits$/);
    for (const region of ['north', 'south', 'east', 'west']) expect(r.stdout).to.match(new RegExp(`${region}\\s+\\d+ ± [\\d.]+`));
    expect(r.stdout).to.contain('cost: ε 0.5, δ 0 (laplace)');
    expect(r.stdout).to.match(/budget left: ε 9\.5 of 10/);
  });

  it('query --json is the API answer; --csv has a header and the ± columns', async () => {
    const json = await dpq(['query', 'SELECT COUNT(*) AS n FROM patients', '--epsilon', '0.2', '--json'], await as('alice'));
    expect(json.status).to.equal(0);
    const a = JSON.parse(json.stdout) as { columns: string[]; rows: { n: number }[]; privacy: { epsilon: number } };
    expect(a.columns).to.deep.equal(['n']);
    expect(a.privacy.epsilon).to.equal(0.2);
    const csv = await dpq(['query', 'SELECT sex, COUNT(*) AS n FROM patients GROUP BY sex', '--epsilon', '0.2', '--csv'], await as('alice'));
    expect(csv.status).to.equal(0);
    const rows = csv.stdout.trim().split('\r\n');
    expect(rows[0]).to.equal('sex,n,n_plusminus');
    expect(rows.slice(1).map((l) => l.split(',')[0])).to.deep.equal(['F', 'M', 'X']);
    for (const l of rows.slice(1)) expect(Number(l.split(',')[2])).to.be.greaterThan(0);
  });

  it('an error answer exits 1 with its code, message and hint', async () => {
    const r = await dpq(['query', 'SELECT * FROM visits'], await as('alice'));
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/^dpq query: SQL_NOT_ALLOWED: /);
    expect(r.stderr).to.contain('hint: ');
    const bad = await dpq(['budget'], { DPQ_URL: svc.url, DPQ_TOKEN: 'nonsense' });
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.contain('UNAUTHENTICATED').and.contain('reason: unknown_api_key');
  });

  it('estimate, budget and history', async () => {
    const e = await dpq(['estimate', 'SELECT COUNT(*) AS n FROM visits', '--epsilon', '1'], await as('sam'));
    expect(e.status).to.equal(0);
    expect(e.stdout).to.match(/^column\s+±\s+confidence/).and.contain('would cost: ε 1').and.contain('allowed: yes');
    const b = await dpq(['budget', '--csv'], await as('alice'));
    expect(b.status).to.equal(0);
    expect(b.stdout.split('\r\n')[1]).to.match(/^clinic,0\.9,10,9\.1,/);
    const h = await dpq(['history'], await as('alice'));
    expect(h.status).to.equal(0);
    expect(h.stdout.split('\n').filter((l) => l.startsWith('q_')).length).to.equal(3);
    const id = /^(q_\S+)/m.exec(h.stdout)![1]!;
    const one = await dpq(['history', id, '--csv'], await as('alice'));
    expect(one.status).to.equal(0);
    expect(one.stdout.split('\r\n')[0]).to.equal('sex,n,n_plusminus');
  });

  it('request, requests --pending, approve, deny and revoke', async () => {
    const raw = await dpq(['request', 'raw', '--columns', 'patients.email', '--justification', 'INC-4411: duplicate invoices for one patient, need to find the rows', '--json'], await as('alice'));
    expect(raw.status, raw.stderr).to.equal(0);
    const id = (JSON.parse(raw.stdout) as { id: string }).id;
    const queue = await dpq(['requests', '--pending'], await as('bob'));
    expect(queue.status).to.equal(0);
    expect(queue.stdout).to.contain(id).and.contain('patients.email');
    const approved = await dpq(['approve', id, '--comment', 'ok'], await as('bob'));
    expect(approved.status).to.equal(0);
    expect(approved.stdout).to.match(new RegExp(`${id}\\s+raw\\s+clinic\\s+alice\\s+pending`));
    expect((await dpq(['approve', id], await as('carol'))).stdout).to.match(/approved/);
    const revoked = await dpq(['revoke', id, '--reason', 'done'], await as('bob'));
    expect(revoked.status).to.equal(0);
    expect(revoked.stdout).to.contain('revoked').and.contain('reason: done');
    const budget = await dpq(['request', 'budget', '--epsilon', '1', '--justification', 'INC-4412: the quarterly report needs more queries'], await as('sam'));
    expect(budget.status, budget.stderr).to.equal(0);
    const bid = /^(ar_\S+)/m.exec(budget.stdout)![1]!;
    const denied = await dpq(['deny', bid, '--reason', 'not this quarter'], await as('bob'));
    expect(denied.status).to.equal(0);
    expect(denied.stdout).to.contain('denied');
    const twice = await dpq(['deny', bid, '--reason', 'again'], await as('bob'));
    expect(twice.status).to.equal(1);
    expect(twice.stderr).to.contain('CONFLICT');
  });
});

describe('npx dpq demo token against the running embedded demo', function () {
  this.timeout(120_000);

  it('prints a token of this start that the server accepts', async () => {
    const server = await spawnServer({ DPQ_DATA_DIR: await createDemoDataDir(), LOG_LEVEL: 'error' });
    try {
      const r = await dpq(['demo', 'token', 'alice'], { DPQ_URL: server.url });
      expect(r.stderr).to.equal('');
      expect(r.status).to.equal(0);
      const token = r.stdout.trim();
      expect(token).to.match(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      const q = await dpq(['query', 'SELECT COUNT(*) AS n FROM patients', '--epsilon', '0.1'], { DPQ_URL: server.url, DPQ_TOKEN: token });
      expect(q.status, q.stderr).to.equal(0);
      const unknown = await dpq(['demo', 'token', 'mallory'], { DPQ_URL: server.url });
      expect(unknown.status).to.equal(1);
      expect(unknown.stderr).to.contain('no principal "mallory"');
    } finally {
      await server.stop();
    }
  });
});
