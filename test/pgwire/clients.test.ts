/**
 * The wire protocol with the clients analysts run: psql, node-postgres (with and without prepared
 * statements), psycopg 3, pandas read_sql through SQLAlchemy 1.4 + psycopg2, and JDBC. Each
 * connects, reads the policy catalog, gets the same rows as the HTTP answer to the same request
 * (a replay of the stored release), sees a refusal with its SQLSTATE and exhausts its budget;
 * psql and psycopg run a raw query under a grant with masked columns.
 */
import { expect } from 'chai';
import pg from 'pg';
import { expectCall, type Json } from '../access/support.ts';
import type { TestService } from '../support/service.ts';
import { type Client, java, psql, python, startPgService } from './support.ts';

const REPLAY_SQL = 'SELECT region, COUNT(*) AS visits, AVG(cost) FROM visits GROUP BY region';
const REFUSED_SQL = 'SELECT * FROM visits';
const RAW_SQL = "SELECT patient_id, region, diagnosis, notes FROM visits WHERE region = 'north' ORDER BY visited_on, cost LIMIT 3";
/** Two distinct charged queries at ε = 2: together more than the budget of 3 (after the replay's 0.5). */
const budgetSqls = (i: number): string[] => [1, 2].map((k) => `SELECT COUNT(*) FROM visits WHERE cost > ${i * 10 + k}`);
const text = (v: unknown): string => (v === null ? '' : String(v));

describe('pgwire: real clients', function () {
  this.timeout(300_000);
  let svc: TestService;
  let httpRows: Json[];
  before(async () => {
    svc = await startPgService('pg');
    // The release every client replays, made over HTTP.
    httpRows = (await expectCall(svc, 'POST', '/v1/queries', 'an_psql', { sql: REPLAY_SQL }, 200)).rows as Json[];
  });
  after(async () => svc?.stop());

  const user = (c: Client): string => `an_${c}`;
  const token = (c: Client): Promise<string> => svc.token(user(c));
  const rawGrant = async (c: Client): Promise<{ id: string; rows: Json[] }> => {
    const g = await expectCall(svc, 'POST', '/v1/access-requests', user(c), {
      kind: 'raw',
      dataset: 'clinic',
      columns: ['visits.region', 'visits.diagnosis', 'visits.visited_on', 'visits.cost'],
      justification: 'INC-4411: duplicate invoices for one patient, need to find the rows',
      durationMinutes: 60,
    }, 201);
    expect(g.status).to.equal('approved');
    const r = await expectCall(svc, 'POST', '/v1/raw-queries', user(c), { requestId: g.id, sql: RAW_SQL }, 200);
    return { id: g.id as string, rows: r.rows as Json[] };
  };
  const replayAsText = (): string[] => httpRows.map((r) => `${text(r.region)}|${text(r.visits)}|${text(r.avg)}`);

  it('psql: \\dt and \\d from the policy, the replayed rows, a refusal, budget exhaustion and a raw query under a grant', async () => {
    const t = await token('psql');
    const catalog = await psql(svc, user('psql'), t, ['\\dt', '\\d visits']);
    expect(catalog.status, catalog.stderr).to.equal(0);
    expect(catalog.stdout).to.match(/public\|patients\|table/).and.match(/public\|visits\|table/);
    expect(catalog.stdout).to.match(/^cost\|numeric/m).and.match(/^notes\|text/m).and.match(/^patient_id\|bigint/m);

    const replay = await psql(svc, user('psql'), t, [REPLAY_SQL]);
    expect(replay.status, replay.stderr).to.equal(0);
    expect(replay.stdout.trim().split('\n')).to.deep.equal(replayAsText());
    expect(replay.stderr).to.match(/NOTICE: +00000: dpq: charged ε=0 δ=0 \(laplace, cached: yes\); visits ±[\d.]+ at 95%/);

    const refused = await psql(svc, user('psql'), t, [REFUSED_SQL]);
    expect(refused.status).to.not.equal(0);
    expect(refused.stderr).to.match(/ERROR: +0A000: SELECT \* is not allowed/).and.match(/DETAIL: +\{"code":"SQL_NOT_ALLOWED"/);

    const [a, b] = budgetSqls(1);
    const spent = await psql(svc, user('psql'), t, ['SET dpq.epsilon = 2', a!, b!]);
    expect(spent.stderr).to.match(/ERROR: +53400: /).and.match(/"code":"BUDGET_EXHAUSTED"/);

    const g = await rawGrant('psql');
    const raw = await psql(svc, user('psql'), t, [`SET dpq.raw_grant = '${g.id}'`, RAW_SQL]);
    expect(raw.status, raw.stderr).to.equal(0);
    const rows = raw.stdout.trim().split('\n').filter((l) => l.includes('|'));
    expect(rows).to.deep.equal(g.rows.map((r) => `${text(r.patient_id)}|${text(r.region)}|${text(r.diagnosis)}|${text(r.notes)}`));
    expect(rows[0]).to.match(/^tok_[0-9a-f]+\|north\|[^|]+\|$/); // id tokenized, notes redacted
  });

  it('node-postgres: simple query, unnamed and named prepared statements; refusal and budget codes', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: svc.pgPort, user: user('nodepg'), password: await token('nodepg'), database: 'clinic' });
    const notices: string[] = [];
    client.on('notice', (n) => notices.push(n.message ?? ''));
    await client.connect();
    try {
      const tables = await client.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
      expect(tables.rows.map((r: Json) => r.table_name)).to.deep.equal(['patients', 'visits']);
      // The policy catalog names no principal.
      expect((await client.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE 'an%'")).rows).to.deep.equal([{ n: 0 }]);
      const simple = await client.query(REPLAY_SQL);
      const unnamed = await client.query('SELECT region, COUNT(*) AS visits, AVG(cost) FROM visits GROUP BY region', []);
      const prepared = await client.query({ name: 'replay', text: REPLAY_SQL, values: [] });
      const again = await client.query({ name: 'replay', text: REPLAY_SQL, values: [] });
      const expected = httpRows.map((r) => ({ region: r.region, visits: String(r.visits), avg: r.avg }));
      for (const r of [simple, unnamed, prepared, again]) expect(r.rows).to.deep.equal(expected);
      expect(simple.fields.map((f) => f.dataTypeID)).to.deep.equal([25, 20, 701]);
      expect(notices[0]).to.match(/cached: yes/);
      const err = await client.query(REFUSED_SQL).catch((e: unknown) => e as { code: string });
      expect((err as { code: string }).code).to.equal('0A000');
      await client.query('SET dpq.epsilon = 2');
      const [a, b] = budgetSqls(2);
      await client.query({ text: a!.replace(/> \d+/, '> $1'), values: [22 - 1] });
      const spent = await client.query({ name: 'b', text: b!.replace(/> \d+/, '> $1'), values: [22] }).catch((e: unknown) => e as { code: string });
      expect((spent as { code: string }).code).to.equal('53400');
      // The session is still usable after errors.
      expect((await client.query('SELECT current_user AS u')).rows).to.deep.equal([{ u: user('nodepg') }]);
    } finally {
      await client.end();
    }
  });

  it('psycopg 3: catalog, replay, refusal, budget, and a raw query under a grant (default transactions)', async () => {
    const g = await rawGrant('psycopg');
    const out = await python(PSYCOPG, {
      port: svc.pgPort, user: user('psycopg'), password: await token('psycopg'),
      replay: REPLAY_SQL, refused: REFUSED_SQL, budget: budgetSqls(3), grant: g.id, raw: RAW_SQL,
    }) as Json;
    expect(out.tables).to.deep.equal(['patients', 'visits']);
    expect(out.columns).to.include.members(['patient_id:bigint', 'cost:numeric', 'notes:text']);
    expect(out.replay).to.deep.equal(httpRows.map((r) => [r.region, r.visits, r.avg]));
    expect(out.refused).to.equal('0A000');
    expect(out.budget).to.equal('53400');
    expect(out.raw).to.deep.equal(g.rows.map((r) => [r.patient_id, r.region, r.diagnosis, r.notes]));
  });

  it('pandas read_sql through SQLAlchemy 1.4 + psycopg2: inspection, replay, refusal, budget', async () => {
    const out = await python(PANDAS, {
      url: `postgresql+psycopg2://${user('pandas')}:${await token('pandas')}@127.0.0.1:${svc.pgPort}/clinic`,
      replay: REPLAY_SQL, refused: REFUSED_SQL, budget: budgetSqls(4),
    }) as Json;
    expect(out.has_table).to.equal(true);
    expect(out.tables).to.deep.equal(['patients', 'visits']);
    expect(out.columns).to.include.members(['region:TEXT', 'visited_on:DATE', 'cost:NUMERIC']);
    expect(out.replay).to.deep.equal(httpRows.map((r) => ({ region: r.region, visits: r.visits, avg: r.avg })));
    expect(out.refused).to.equal('0A000');
    expect(out.budget).to.equal('53400');
  });

  it('JDBC: DriverManager, DatabaseMetaData.getTables/getColumns, PreparedStatement, autocommit off, refusal, budget', async () => {
    const [a, b] = budgetSqls(5);
    const out = await java(JDBC, [`jdbc:postgresql://127.0.0.1:${svc.pgPort}/clinic`, user('jdbc'), await token('jdbc'), REPLAY_SQL, REFUSED_SQL, a!, b!]) as Json;
    expect(out.tables).to.deep.equal(['public.patients', 'public.visits']);
    expect(out.columns).to.include.members(['cost:numeric', 'region:text', 'patient_id:int8']);
    // As numbers: past the prepare threshold the driver reads float8 in binary and prints 0 as "0.0".
    const numeric = (rows: string[]): (string | number)[][] => rows.map((r) => r.split('|').map((v, i) => (i === 0 ? v : Number(v))));
    const expected = httpRows.map((r) => [r.region as string, r.visits as number, r.avg as number]);
    expect(numeric(out.replay as string[])).to.deep.equal(expected);
    expect(numeric(out.prepared as string[])).to.deep.equal(expected);
    expect(out.described).to.equal(3);
    expect(out.refused).to.equal('0A000');
    expect(out.budget).to.equal('53400');
  });
});

const PSYCOPG = String.raw`
import json, sys, psycopg
a = json.loads(sys.argv[1])
out = {}
with psycopg.connect(host='127.0.0.1', port=a['port'], user=a['user'], password=a['password'], dbname='clinic') as conn:
    cur = conn.cursor()
    cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1", ('public',))
    out['tables'] = [r[0] for r in cur.fetchall()]
    cur.execute("SELECT column_name || ':' || data_type FROM information_schema.columns WHERE table_name = %s", ('visits',))
    out['columns'] = [r[0] for r in cur.fetchall()]
    cur.execute(a['replay'])
    out['replay'] = [[r[0], r[1], r[2]] for r in cur.fetchall()]
    conn.commit()
    try:
        cur.execute(a['refused'])
    except psycopg.Error as e:
        out['refused'] = e.sqlstate
    conn.rollback()
    cur.execute("SET dpq.epsilon = 2")
    try:
        for q in a['budget']:
            cur.execute(q)
            cur.fetchall()
    except psycopg.Error as e:
        out['budget'] = e.sqlstate
    conn.rollback()
    cur.execute("SET dpq.raw_grant = %s" % ("'" + a['grant'] + "'"))
    cur.execute(a['raw'])
    out['raw'] = [list(r) for r in cur.fetchall()]
    cur.execute("RESET dpq.raw_grant")
print(json.dumps(out, default=str))
`;

const PANDAS = String.raw`
import json, sys, warnings
warnings.simplefilter('ignore')
import pandas, sqlalchemy
a = json.loads(sys.argv[1])
out = {}
eng = sqlalchemy.create_engine(a['url'])
insp = sqlalchemy.inspect(eng)
out['has_table'] = insp.has_table('visits')
out['tables'] = sorted(insp.get_table_names())
out['columns'] = [c['name'] + ':' + str(c['type']) for c in insp.get_columns('visits')]
df = pandas.read_sql(a['replay'], eng)
out['replay'] = [{k: (v.item() if hasattr(v, 'item') else v) for k, v in row.items()} for row in df.to_dict('records')]
def state(e):
    return getattr(e.orig, 'pgcode', None)
try:
    pandas.read_sql(a['refused'], eng)
except sqlalchemy.exc.DBAPIError as e:
    out['refused'] = state(e)
with eng.connect() as c:
    c.exec_driver_sql("SET dpq.epsilon = 2")
    try:
        for q in a['budget']:
            pandas.read_sql(q, c)
    except sqlalchemy.exc.DBAPIError as e:
        out['budget'] = state(e)
print(json.dumps(out, default=str))
`;

const JDBC = String.raw`
import java.sql.*;
import java.util.*;
public class PgwireClient {
  static String q(String s) { return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\""; }
  static String list(List<String> l) { StringBuilder b = new StringBuilder("["); for (int i = 0; i < l.size(); i++) { if (i > 0) b.append(","); b.append(q(l.get(i))); } return b.append("]").toString(); }
  static List<String> rows(ResultSet r) throws SQLException {
    List<String> out = new ArrayList<>();
    int n = r.getMetaData().getColumnCount();
    while (r.next()) { StringBuilder b = new StringBuilder(); for (int i = 1; i <= n; i++) { if (i > 1) b.append("|"); String v = r.getString(i); b.append(v == null ? "" : v); } out.add(b.toString()); }
    return out;
  }
  public static void main(String[] a) throws Exception {
    Connection c = DriverManager.getConnection(a[0], a[1], a[2]);
    DatabaseMetaData md = c.getMetaData();
    List<String> tables = new ArrayList<>();
    ResultSet t = md.getTables(null, null, "%", new String[]{"TABLE"});
    while (t.next()) tables.add(t.getString("TABLE_SCHEM") + "." + t.getString("TABLE_NAME"));
    List<String> columns = new ArrayList<>();
    ResultSet cols = md.getColumns(null, null, "visits", "%");
    while (cols.next()) columns.add(cols.getString("COLUMN_NAME") + ":" + cols.getString("TYPE_NAME"));
    List<String> replay = rows(c.createStatement().executeQuery(a[3]));
    PreparedStatement ps = c.prepareStatement(a[3]);
    int described = ps.getMetaData().getColumnCount(); // Describe of the statement, before it runs
    List<String> prepared = null;
    // Past prepareThreshold (5) the driver switches to a named server-side statement.
    for (int i = 0; i < 8; i++) prepared = rows(ps.executeQuery());
    c.setAutoCommit(false);
    Statement s = c.createStatement();
    String refused = null, budget = null;
    try { s.executeQuery(a[4]); } catch (SQLException e) { refused = e.getSQLState(); }
    c.rollback();
    s.execute("SET dpq.epsilon = 2");
    try {
      PreparedStatement p = c.prepareStatement(a[5].replaceAll("> \\d+", "> ?"));
      p.setInt(1, Integer.parseInt(a[5].replaceAll(".*> ", "")));
      p.executeQuery();
      p.setInt(1, Integer.parseInt(a[6].replaceAll(".*> ", "")));
      p.executeQuery();
    } catch (SQLException e) { budget = e.getSQLState(); }
    c.commit();
    c.close();
    System.out.println("{\"tables\":" + list(tables) + ",\"columns\":" + list(columns) + ",\"replay\":" + list(replay) + ",\"prepared\":" + list(prepared) + ",\"described\":" + described + ",\"refused\":" + q(String.valueOf(refused)) + ",\"budget\":" + q(String.valueOf(budget)) + "}");
  }
}
`;
