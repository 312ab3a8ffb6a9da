/** Value encodings against real PostgreSQL: binary results, and timestamptz text. */
import net from 'node:net';
import { expect } from 'chai';
import { serialize } from 'pg-protocol';
import { encodeBinary } from '../../src/pgwire/binary.ts';
import { Framer, MAX_MESSAGE_BYTES, Reader } from '../../src/pgwire/protocol.ts';
import { budgetResult } from '../../src/pgwire/results.ts';
import { postgresCluster } from '../support/cluster.ts';

const CASES: readonly [string, number, readonly string[]][] = [
  ['numeric', 1700, ['0', '1', '-1', '12.5', '-0.0001', '10000', '123456789.123456789', '0.10', '99999999', '212.37', '1e+21', '3.5e-7']],
  ['int8', 20, ['0', '-9223372036854775808', '9223372036854775807', '42']],
  ['float8', 701, ['0', '-1.5', '212.37333333333333', '1e+300', 'Infinity', '-Infinity']],
  ['bool', 16, ['t', 'f']],
  ['date', 1082, ['2000-01-01', '1999-12-31', '2024-02-29', '1900-01-01']],
  ['timestamp', 1114, ['2000-01-01 00:00:00', '2024-05-06 07:08:09.123456', '1970-01-01 00:00:00']],
  ['text', 25, ['north', 'é ü 日本']],
];

/** `SELECT $1::type` on the cluster over the wire, once as text and once in binary. */
async function both(port: number, type: string, value: string): Promise<{ text: string; binary: Buffer }> {
  const s = net.connect(port, '127.0.0.1');
  const fields: Buffer[] = [];
  // Backend messages split by the same framer dpq uses for frontend ones (it keeps the bytes as they are).
  const framer = new Framer();
  framer.typed = true;
  framer.limit = MAX_MESSAGE_BYTES;
  const done = new Promise<void>((resolve, reject) => {
    s.on('data', (d: Buffer) => {
      framer.push(d);
      for (let f = framer.next(); f !== undefined; f = framer.next()) {
        const type = String.fromCharCode(f.type);
        if (type === 'D') {
          const r = new Reader(f.body);
          r.int16();
          fields.push(r.value()!);
        }
        if (type === 'E') reject(new Error('PostgreSQL refused the query'));
        if (type === 'Z' && fields.length === 2) resolve();
      }
    });
    s.on('error', reject);
  });
  s.write(serialize.startup({ user: 'postgres', database: 'postgres' }));
  const sql = `SELECT $1::${type}`;
  s.write(Buffer.concat([
    serialize.parse({ text: sql }), serialize.bind({ values: [value] }), serialize.execute({}),
    serialize.parse({ text: sql }), serialize.bind({ values: [value], binary: true }), serialize.execute({}),
    serialize.sync(),
  ]));
  await done;
  s.destroy();
  return { text: fields[0]!.toString('utf8'), binary: fields[1]! };
}

describe('pgwire: binary result format', () => {
  it('encodes numeric, int8, float8, bool, date, timestamp and text exactly as PostgreSQL does', async () => {
    for (const [type, oid, values] of CASES) {
      for (const v of values) {
        // The text PostgreSQL prints for the value is what dpq holds; its binary form is the reference.
        const { text, binary } = await both(postgresCluster().port, type, v);
        expect(encodeBinary(oid, text).toString('hex'), `${type} ${v} (${text})`).to.equal(binary.toString('hex'));
      }
    }
  });
});

describe('pgwire: SHOW dpq.budget renews', () => {
  it('is timestamptz in PostgreSQL text form, the same instant as the HTTP answer', async () => {
    const iso = '2026-12-05T00:00:00.000Z';
    const r = budgetResult([{ dataset: 'clinic', epsilon: { limit: 1, spent: 0, remaining: 1 }, delta: { limit: 0, spent: 0, remaining: 0 }, renews: iso }]);
    const text = r.rows[0]![7]!;
    expect(text).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\+00$/);
    const { binary } = await both(postgresCluster().port, 'timestamptz', text);
    expect(binary.readBigInt64BE(0)).to.equal((BigInt(Date.parse(iso)) - 946_684_800_000n) * 1000n);
  });
});
