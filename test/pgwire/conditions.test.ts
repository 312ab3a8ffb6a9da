/**
 * Access-rule conditions hold over the wire protocol as over HTTP: a raw query under a grant whose
 * rule allows only 127.0.0.1/32 answers a session from 127.0.0.1 and refuses one from 127.0.0.2
 * (both loopback), with the condition audited.
 */
import net from 'node:net';
import { expect } from 'chai';
import pg from 'pg';
import { auditEntries, createRequest, rawBody, STANDARD_EDITS, testPolicy, type Json } from '../access/support.ts';
import { startService, type TestService } from '../support/service.ts';

const QUASI_RULE = '      autoApprove: { roles: [senior-analyst], maxDuration: 1h }';

/** A node-postgres client whose socket leaves from `localAddress`. */
function clientFrom(localAddress: string, svc: TestService, token: string): pg.Client {
  return new pg.Client({
    host: '127.0.0.1',
    port: svc.pgPort!,
    user: 'sam',
    password: token,
    database: 'clinic',
    stream: () => {
      const socket = new net.Socket();
      const connect = socket.connect.bind(socket) as (o: net.TcpSocketConnectOpts) => net.Socket;
      (socket as unknown as { connect: (port: number, host: string) => net.Socket }).connect = (port, host) => connect({ port, host, localAddress });
      return socket;
    },
  });
}

describe('pgwire: access-rule conditions (pg)', function () {
  this.timeout(120_000);
  let svc: TestService;
  let grantId: string;
  let token: string;
  before(async () => {
    const { dir } = testPolicy([...STANDARD_EDITS, ['access.yaml', QUASI_RULE, `${QUASI_RULE}\n      conditions:\n        sourceIps: [127.0.0.1/32]`]]);
    svc = await startService('pg', { pgwire: true, env: { DPQ_POLICY_DIR: dir } });
    grantId = (await createRequest(svc, 'sam', rawBody(['visits.diagnosis'], { durationMinutes: 30 }))).id as string;
    token = await svc.token('sam');
  });
  after(async () => svc?.stop());

  const rawFrom = async (address: string): Promise<{ rows?: number; code?: string }> => {
    const c = clientFrom(address, svc, token);
    await c.connect();
    try {
      await c.query(`SET dpq.raw_grant = '${grantId}'`);
      const r = await c.query('SELECT diagnosis FROM visits LIMIT 2');
      return { rows: r.rows.length };
    } catch (err: unknown) {
      return { code: (err as { code?: string }).code };
    } finally {
      await c.end();
    }
  };

  it('answers a raw query from 127.0.0.1 and refuses it from 127.0.0.2, audited with the address', async () => {
    expect(await rawFrom('127.0.0.1')).to.deep.equal({ rows: 2 });
    expect(await rawFrom('127.0.0.2')).to.deep.equal({ code: '42501' });
    const refusals = (await auditEntries(svc)).filter((e: Json) => e.requestId === grantId && e.outcome === 'refused');
    expect(refusals.map((e: Json) => [e.action, e.details.condition, e.details.sourceAddress, e.details.transport])).to.deep.equal([
      ['access.raw_query', 'sourceIps', '127.0.0.2', 'pg'],
    ]);
  });
});
