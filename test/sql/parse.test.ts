import { expect } from 'chai';
import { DpqError } from '../../src/errors.ts';
import { fingerprint, MAX_NESTING_DEPTH, parseSql, redact, shapeFingerprint, sourceText } from '../../src/sql/parse/index.ts';
import { refusal } from './support.ts';

async function syntaxPosition(sql: string): Promise<number> {
  const err = await parseSql(sql).catch((e: unknown) => e);
  expect(err).to.be.instanceOf(DpqError);
  expect((err as DpqError).code).to.equal('SQL_SYNTAX');
  return (err as DpqError).detailRecord.position as number;
}

describe('parse: the PostgreSQL grammar, positions in characters', () => {
  it('parses one statement into the PostgreSQL tree', async () => {
    const parsed = await parseSql('SELECT region, COUNT(*) FROM visits GROUP BY region');
    expect(parsed.statements).to.have.length(1);
    expect(Object.keys(parsed.statements[0]!.stmt!)).to.deep.equal(['SelectStmt']);
  });

  it('reports a syntax error at its character position, also after multi-byte and astral characters', async () => {
    for (const prefix of ["region = 'north'", "region = 'é'", "region = '😀 🏥'", "région = 'ü'"]) {
      const sql = `SELECT COUNT(*) FROM visits WHERE ${prefix} AND AND cost > 1`;
      const at = await syntaxPosition(sql);
      expect(sql.slice(at), prefix).to.match(/^AND cost/);
    }
  });

  it('converts the byte offsets of parse-tree locations to character positions', async () => {
    const sql = "SELECT COUNT(*) FROM visits WHERE diagnosis = 'é😀' AND pg_sleep(1) IS NULL";
    const err = await refusal(sql);
    expect(err.detailRecord.position).to.equal(sql.indexOf('pg_sleep'));
  });

  it('maps bytes and code points to UTF-16 indexes', () => {
    const s = sourceText('a😀é b');
    // bytes: a=0, 😀=1..4, é=5..6, ' '=7, b=8
    expect([0, 1, 5, 7, 8, 9].map((b) => s.fromByte(b))).to.deep.equal([0, 1, 3, 4, 5, 6]);
    // code points: a 😀 é ' ' b
    expect([0, 1, 2, 3, 4, 5].map((c) => s.fromCodePoint(c))).to.deep.equal([0, 1, 3, 4, 5, 6]);
    expect(s.fromByte(-1, 42)).to.equal(42);
  });

  it('refuses an empty query as a syntax error', async () => {
    expect(await syntaxPosition('')).to.equal(0);
    expect(await syntaxPosition(' -- nothing\n')).to.equal(0);
  });
});

describe('fingerprint: the replay-cache key', () => {
  const base = "SELECT region, COUNT(*) AS n FROM visits WHERE cost > 10 AND region IN ('north', 'south') GROUP BY region";

  it('ignores whitespace, keyword case, comments and needless quoting', async () => {
    const same = [
      "select region, count(*) as n from visits where cost > 10 and region in ('north', 'south') group by region",
      "SELECT   region ,COUNT( * )  AS n\n FROM visits /* dashboard */ WHERE cost > 10 -- big\n AND region IN ('north','south') GROUP BY region",
      `SELECT "region", COUNT(*) AS "n" FROM "visits" WHERE "cost" > 10 AND "region" IN ('north', 'south') GROUP BY "region"`,
    ];
    const f = await fingerprint(base);
    expect(f).to.match(/^[0-9a-f]{64}$/);
    for (const s of same) expect(await fingerprint(s), s).to.equal(f);
  });

  it('differs whenever a literal, an identifier or a clause differs', async () => {
    const different = [
      base.replace('10', '11'),
      base.replace("'south'", "'east'"),
      base.replace('AS n', 'AS m'),
      base.replace('cost > 10', 'cost >= 10'),
      `${base} LIMIT 5`,
      base.replace('visits', 'public.visits'),
    ];
    const f = await fingerprint(base);
    const all = await Promise.all(different.map(fingerprint));
    for (const [i, g] of all.entries()) expect(g, different[i]).to.not.equal(f);
    expect(new Set(all).size).to.equal(all.length);
  });

  it('is SQL_SYNTAX for unparseable text', async () => {
    const err = await fingerprint('SELECT FROM WHERE').catch((e: unknown) => e);
    expect((err as DpqError).code).to.equal('SQL_SYNTAX');
  });

  it("answers a syntax error in dpq's words, pointing into the caller's SQL, never the parser's text", async () => {
    const err = (await parseSql('SELECT COUNT(*) FORM visits').catch((e: unknown) => e)) as DpqError;
    expect(err.message).to.equal('SQL syntax error at position 21, near "visits"'); // FORM reads as an alias
    expect(err.details).to.deep.equal({ position: 21 });
    const open = (await parseSql("SELECT COUNT(*) FROM visits WHERE region = 'a").catch((e: unknown) => e)) as DpqError;
    expect(open.message).to.not.match(/unterminated|at or near/);
  });

  it('keeps a literal-blind fingerprint apart, as shapeFingerprint', async () => {
    expect(await shapeFingerprint(base)).to.equal(await shapeFingerprint(base.replace('10', '99')));
    expect(await shapeFingerprint(base)).to.match(/^[0-9a-f]{16}$/);
    const inList = (values: string): string => `SELECT COUNT(*) FROM visits WHERE region IN (${values})`;
    expect(await shapeFingerprint(inList("'a', 'b'"))).to.equal(await shapeFingerprint(inList("'c', 'd', 'e'")));
    expect(await shapeFingerprint(inList("'a'"))).to.not.equal(await shapeFingerprint(base));
    expect(await fingerprint(base)).to.not.equal(await fingerprint(base.replace('10', '99')));
  });
});

describe('redact: the query as the audit log keeps it', () => {
  const secrets = ['north-secret', '987654', '123.456', 'Jane Doe', 'dollar-secret', "o'neil", 'ABCDEF', '4242', 'unicode-secret'];
  const sql = `SELECT region, COUNT(*) /* asked by Jane Doe */ FROM visits -- patient 4242
    WHERE region = 'north-secret' AND cost > 987654 AND cost < 123.456 AND diagnosis = $$dollar-secret$$
      AND diagnosis <> E'o\\'neil' AND diagnosis <> U&'unicode-secret' AND flag = X'ABCDEF' AND sick = true
    GROUP BY region LIMIT 4242`;

  it('replaces every literal with a placeholder and drops comments', async () => {
    const r = await redact(sql);
    for (const s of secrets) expect(r, s).to.not.include(s);
    expect(r).to.not.match(/--|\/\*/);
    expect(r).to.include('WHERE region = $');
    expect(r).to.include('GROUP BY region LIMIT $');
  });

  it('redacts unparseable text with the scanner, and gives up on text it cannot scan', async () => {
    const r = await redact("SELECT 'north-secret', 987654 FROM WHERE /* Jane Doe */");
    for (const s of secrets) expect(r, s).to.not.include(s);
    expect(await redact("SELECT 'unterminated north-secret")).to.equal('<unparseable SQL>');
  });

  it('redacts the literals of every statement kind, also those normalize leaves in place', async () => {
    const kinds = [
      "PREPARE p AS SELECT email FROM patients WHERE email = 'Secret-1'",
      "CREATE TABLE x AS SELECT email FROM patients WHERE email = 'Secret-2'",
      "CREATE VIEW v AS SELECT 'Secret-3', 4242",
      "ALTER TABLE t ALTER COLUMN a SET DEFAULT 'Secret-4'",
      "COMMENT ON TABLE t IS 'Secret-5'",
      "CREATE TABLE t (a text DEFAULT 'Secret-6' CHECK (a <> 'Secret-7'), b numeric DEFAULT 4242.5)",
      "CREATE RULE r AS ON INSERT TO t DO INSTEAD SELECT 'Secret-8'",
      "EXPLAIN SELECT email FROM patients WHERE email = 'Secret-9'",
      "DECLARE c CURSOR FOR SELECT x'4242', b'0101', e'Secret-10', u&'Secret-11', $q$Secret-12$q$",
    ];
    for (const sql of kinds) {
      const r = await redact(sql);
      expect(r, sql).to.not.match(/Secret|4242|0101/);
      expect(r, sql).to.match(/\$1/);
    }
    expect(await redact("PREPARE p AS SELECT t.a FROM t WHERE a = 'Secret-1'")).to.equal('PREPARE p AS SELECT t.a FROM t WHERE a = $1');
  });

  it('keeps no SQL at all of a text the scanner cannot read to its end (a NUL)', async () => {
    for (const sql of ["SELECT email FROM t WHERE email \u0000<> 'Secret-777'", "SELECT 1 WHERE a = 'Secret-\u0000-x'"]) {
      expect(await redact(sql)).to.equal('<SQL not kept: it cannot be redacted>');
    }
    const err = (await parseSql("SELECT 1 FROM t WHERE a \u0000<> 'x'").catch((e: unknown) => e)) as DpqError;
    expect(err.code).to.equal('SQL_SYNTAX');
    expect(err.details).to.deep.equal({ position: 24 });
  });
});

describe('nesting depth', () => {
  it('refuses a tree nested deeper than MAX_NESTING_DEPTH with SQL_NOT_ALLOWED naming it', async () => {
    const deep = `SELECT COUNT(*) FROM visits WHERE ${'NOT '.repeat(MAX_NESTING_DEPTH)}region <> 'x'`;
    const err = (await parseSql(deep).catch((e: unknown) => e)) as DpqError;
    expect(err.code).to.equal('SQL_NOT_ALLOWED');
    expect(err.detailRecord.construct).to.equal('nesting depth');
    expect(deep.slice(err.detailRecord.position as number)).to.match(/^NOT /);
    const parens = `SELECT COUNT(*) FROM visits WHERE cost = ${'abs('.repeat(MAX_NESTING_DEPTH)}1${')'.repeat(MAX_NESTING_DEPTH)}`;
    expect(((await parseSql(parens).catch((e: unknown) => e)) as DpqError).code).to.equal('SQL_NOT_ALLOWED');
    const fine = `SELECT COUNT(*) FROM visits WHERE ${'NOT '.repeat(MAX_NESTING_DEPTH - 10)}region <> 'x'`;
    expect((await parseSql(fine)).statements).to.have.length(1);
  });
});
