import { expect } from 'chai';
import type { FilterNode, GroupKeyNode, QueryPlan } from '../../src/sql/plan/index.ts';
import { hospital, plan, refusal } from './support.ts';

const filterOf = (p: QueryPlan): FilterNode => {
  expect(p.filter).to.not.equal(undefined);
  return p.filter!;
};
const strip = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === 'position' ? undefined : typeof x === 'bigint' ? `${x}n` : x)));

describe('validate: the allowed subset becomes a plan', () => {
  describe('identifiers resolve the way PostgreSQL resolves them', () => {
    it('folds unquoted names, keeps quoted ones, accepts the dataset schema', async () => {
      for (const sql of [
        'SELECT COUNT(*) FROM Visits',
        'SELECT COUNT(*) FROM "visits"',
        'SELECT COUNT(*) FROM public.visits',
        'SELECT COUNT(*) FROM PUBLIC.VISITS',
        'SELECT "region", COUNT(*) FROM visits GROUP BY REGION',
        'SELECT v.region, COUNT(*) FROM visits AS v GROUP BY v.region',
        'SELECT public.visits.region, COUNT(*) FROM visits GROUP BY 1',
      ]) {
        const p = await plan(sql);
        expect(p.tables.map((t) => `${t.schema}.${t.name}`), sql).to.deep.equal(['public.visits']);
      }
    });

    it('resolves a GROUP BY name to an input column before an output alias, ORDER BY the other way round', async () => {
      const p = await plan('SELECT sex AS region, COUNT(*) AS sex FROM patients GROUP BY region ORDER BY sex');
      expect(p.keys.map((k) => k.name)).to.deep.equal(['sex']);
      expect(p.post.orderBy[0]!.ref).to.deep.equal({ kind: 'aggregateRef', aggregate: 0 });
    });

    it('reads a declared join written with ON (either order) or USING', async () => {
      for (const sql of [
        'SELECT COUNT(*) FROM visits JOIN patients ON visits.patient_id = patients.patient_id',
        'SELECT COUNT(*) FROM visits v INNER JOIN patients p ON p.patient_id = v.patient_id',
        'SELECT COUNT(*) FROM patients JOIN visits USING (patient_id)',
      ]) {
        const p = await plan(sql);
        expect(p.joins, sql).to.have.length(1);
        expect(p.joins[0]!.left.name).to.equal('patient_id');
        expect(p.bounding).to.deep.include({ maxRowsPerUnit: 20, maxGroupsPerUnit: 1, needed: true });
      }
      const grouped = await plan('SELECT p.sex, AVG(v.cost) FROM visits v JOIN patients p USING (patient_id) GROUP BY p.sex');
      expect(grouped.bounding).to.deep.include({ maxRowsPerUnit: 20, maxGroupsPerUnit: 4 });
      expect(grouped.aggregates[0]!.column).to.deep.include({ table: 0, name: 'cost' });
      expect(grouped.keys[0]!.expression).to.deep.include({ table: 1, name: 'sex' });
    });
  });

  describe('WHERE literals are typed against their column', () => {
    it('types numbers, strings, dates, timestamps and booleans', async () => {
      const p = await plan(
        "SELECT COUNT(*) FROM visits WHERE cost > 10.50 AND cost <= '12' AND visited_on >= '2024-01-31' AND '2024-12-31' >= visited_on AND region IN ('north', 'south') AND diagnosis NOT LIKE 'J%' AND diagnosis ILIKE 'e%' AND cost IS NOT NULL AND NOT (region = 'east' OR cost BETWEEN 1 AND 2e3)",
      );
      expect(strip(filterOf(p))).to.deep.equal(
        strip({
          kind: 'and',
          args: [
            { kind: 'compare', column: { kind: 'column', table: 0, name: 'cost', type: 'numeric' }, op: '>', value: { kind: 'literal', type: 'numeric', value: '10.5' } },
            { kind: 'compare', column: { kind: 'column', table: 0, name: 'cost', type: 'numeric' }, op: '<=', value: { kind: 'literal', type: 'numeric', value: '12' } },
            { kind: 'compare', column: { kind: 'column', table: 0, name: 'visited_on', type: 'date' }, op: '>=', value: { kind: 'literal', type: 'date', value: '2024-01-31' } },
            { kind: 'compare', column: { kind: 'column', table: 0, name: 'visited_on', type: 'date' }, op: '<=', value: { kind: 'literal', type: 'date', value: '2024-12-31' } },
            {
              kind: 'in',
              column: { kind: 'column', table: 0, name: 'region', type: 'text' },
              negated: false,
              values: [
                { kind: 'literal', type: 'text', value: 'north' },
                { kind: 'literal', type: 'text', value: 'south' },
              ],
            },
            { kind: 'like', column: { kind: 'column', table: 0, name: 'diagnosis', type: 'text' }, negated: true, caseInsensitive: false, pattern: { kind: 'literal', type: 'text', value: 'J%' } },
            { kind: 'like', column: { kind: 'column', table: 0, name: 'diagnosis', type: 'text' }, negated: false, caseInsensitive: true, pattern: { kind: 'literal', type: 'text', value: 'e%' } },
            { kind: 'isNull', column: { kind: 'column', table: 0, name: 'cost', type: 'numeric' }, negated: true },
            {
              kind: 'not',
              arg: {
                kind: 'or',
                args: [
                  { kind: 'compare', column: { kind: 'column', table: 0, name: 'region', type: 'text' }, op: '=', value: { kind: 'literal', type: 'text', value: 'east' } },
                  {
                    kind: 'between',
                    column: { kind: 'column', table: 0, name: 'cost', type: 'numeric' },
                    negated: false,
                    low: { kind: 'literal', type: 'numeric', value: '1' },
                    high: { kind: 'literal', type: 'numeric', value: '2000' },
                  },
                ],
              },
            },
          ],
        }),
      );
    });

    it('keeps integers exact up to the int8 limits', async () => {
      const p = await plan('SELECT COUNT(*) FROM patients WHERE birth_year BETWEEN -9223372036854775808 AND 9223372036854775807');
      const f = filterOf(p);
      expect(f.kind === 'between' && [f.low.value, f.high.value]).to.deep.equal([-(2n ** 63n), 2n ** 63n - 1n]);
    });

    it('types timestamps and booleans', async () => {
      const p = await plan("SELECT COUNT(*) FROM visits JOIN patients USING (pid) WHERE seen_at >= '2024-01-02 03:04:05.25' AND seen_at < '2024-02-01' AND smoker = true AND smoker <> 'false'", {}, hospital);
      expect(strip(filterOf(p))).to.deep.nested.include({
        'args[0].value.value': '2024-01-02 03:04:05.25',
        'args[1].value.value': '2024-02-01 00:00:00',
        'args[2].value.value': true,
        'args[3].value.value': false,
      });
    });
  });

  describe('group keys and their domains', () => {
    const domainOf = (k: GroupKeyNode): string => (k.domain.kind === 'private' ? 'private' : `${k.domain.source}:${k.domain.values.length}`);

    it('knows public domains from the policy and derives them from bounds', async () => {
      const p = await plan(
        "SELECT region, extract(month FROM visited_on), date_trunc('year', visited_on), extract(year FROM visited_on), COUNT(*) FROM visits GROUP BY 1, 2, 3, 4",
      );
      expect(p.keys.map(domainOf)).to.deep.equal(['policy:4', 'derived:12', 'derived:7', 'derived:7']);
      expect(p.keys[2]!.domain).to.deep.include({ values: ['2020-01-01', '2021-01-01', '2022-01-01', '2023-01-01', '2024-01-01', '2025-01-01', '2026-01-01'] });
      expect(p.keys[3]!.domain).to.deep.include({ values: [2020n, 2021n, 2022n, 2023n, 2024n, 2025n, 2026n] });
      expect(p.partitions).to.deep.equal({ kind: 'public', groups: 4 * 12 * 7 * 7 });
      // Beyond 10,000 public groups: partition selection (δ > 0) instead of releasing every group.
      const many = 'SELECT extract(dow FROM visited_on), extract(month FROM visited_on), extract(doy FROM visited_on), COUNT(*) FROM visits GROUP BY 1, 2, 3';
      expect((await plan(many)).partitions.kind).to.equal('private');
      const err = await refusal(many, { delta: 0 });
      expect(err.details).to.deep.include({ construct: 'GROUP BY' });
    });

    it('keeps keys without a small public domain private', async () => {
      const p = await plan("SELECT diagnosis, date_trunc('day', visited_on), COUNT(*) FROM visits GROUP BY 1, 2");
      expect(p.keys.map(domainOf)).to.deep.equal(['private', 'private']);
      expect(p.partitions.kind).to.equal('private');
    });

    it('derives week, quarter and timestamp domains', async () => {
      const p = await plan("SELECT date_trunc('week', seen_at), date_trunc('quarter', seen_at), level, COUNT(*) FROM visits GROUP BY 1, 2, 3", {}, hospital);
      const [week, quarter, level] = p.keys;
      expect(week!.type).to.equal('timestamp');
      expect((week!.domain as unknown as { values: string[] }).values.slice(0, 2)).to.deep.equal(['2024-01-01 00:00:00', '2024-01-08 00:00:00']);
      expect((week!.domain as unknown as { values: string[] }).values.at(-1)).to.equal('2024-03-25 00:00:00');
      expect((quarter!.domain as unknown as { values: string[] }).values).to.deep.equal(['2024-01-01 00:00:00']);
      expect(level!.domain).to.deep.equal({ kind: 'public', source: 'policy', values: [1n, 2n, 3n], contiguous: false });
    });

    it('needs δ > 0 for private keys only', async () => {
      const err = await refusal('SELECT diagnosis, COUNT(*) FROM visits GROUP BY diagnosis', { delta: 0 });
      expect(err.detailRecord.hint).to.match(/delta/);
      expect((await plan('SELECT region, COUNT(*) FROM visits GROUP BY region', { delta: 0 })).partitions.kind).to.equal('public');
      expect((await plan('SELECT diagnosis, COUNT(*) FROM visits GROUP BY diagnosis', { delta: 1e-9 })).partitions.kind).to.equal('private');
    });

    it('accepts a GROUP BY by position, by alias and by expression, and matches select-list keys to them', async () => {
      const sqls = [
        "SELECT date_trunc('month', visited_on) AS m, COUNT(*) FROM visits GROUP BY 1",
        "SELECT date_trunc('month', visited_on) AS m, COUNT(*) FROM visits GROUP BY m",
        "SELECT date_trunc('month', visited_on) AS m, COUNT(*) FROM visits GROUP BY date_trunc('MONTH', visited_on)",
      ];
      const plans = await Promise.all(sqls.map((s) => plan(s)));
      for (const p of plans) expect(strip(p.keys)).to.deep.equal(strip(plans[0]!.keys));
      expect(plans[0]!.select.map((s) => [s.name, s.ref.kind])).to.deep.equal([
        ['m', 'keyRef'],
        ['count', 'aggregateRef'],
      ]);
    });
  });

  describe('aggregates and their measurements', () => {
    it('maps each aggregate to its measurements, sharing identical aggregates', async () => {
      const p = await plan(
        'SELECT COUNT(*), count(*) AS again, COUNT(diagnosis), COUNT(DISTINCT patient_id), SUM(cost), AVG(cost), VARIANCE(cost), STDDEV(cost), VAR_POP(cost), STDDEV_POP(cost), MEDIAN(cost), PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY cost) FROM visits',
      );
      expect(p.aggregates.map((a) => [a.fn, a.column?.name ?? '*', a.percentile])).to.deep.equal([
        ['count', '*', undefined],
        ['count', 'diagnosis', undefined],
        ['count_distinct_units', 'patient_id', undefined],
        ['sum', 'cost', undefined],
        ['avg', 'cost', undefined],
        ['var_samp', 'cost', undefined],
        ['stddev_samp', 'cost', undefined],
        ['var_pop', 'cost', undefined],
        ['stddev_pop', 'cost', undefined],
        ['percentile_cont', 'cost', 0.5],
        ['percentile_cont', 'cost', 0.9],
      ]);
      expect(p.select.map((s) => s.name)).to.deep.equal(['count', 'again', 'count', 'count', 'sum', 'avg', 'variance', 'stddev', 'var_pop', 'stddev_pop', 'median', 'percentile_cont']);
      expect(p.select[1]!.ref).to.deep.equal({ kind: 'aggregateRef', aggregate: 0 });
      expect(p.aggregates.map((a) => a.measurements.map((i) => p.measurements[i]!.measure).join('+'))).to.deep.equal([
        'count',
        'count',
        'count',
        'sum',
        'sum+count',
        'count+sum+sumsq',
        'count+sum+sumsq',
        'count+sum+sumsq',
        'count+sum+sumsq',
        'histogram',
        'histogram',
      ]);
      expect(p.measurements.filter((m) => m.measure === 'count').map((m) => m.counts)).to.deep.equal(['rows', 'values', 'units', 'values', 'values', 'values', 'values', 'values']);
    });

    it('moves bounds onto the granularity grid, inward', async () => {
      const p = await plan('SELECT SUM(fee), AVG(score) FROM visits JOIN patients USING (pid)', {}, hospital);
      expect(p.aggregates.map((a) => a.bounds)).to.deep.equal([
        { kind: 'bounds', lower: -6n, upper: 10n, granularity: '0.25' },
        { kind: 'bounds', lower: -2n, upper: 2n, granularity: '5' },
      ]);
      expect((await plan('SELECT SUM(cost) FROM visits')).aggregates[0]!.bounds).to.deep.equal({ kind: 'bounds', lower: 0n, upper: 500000n, granularity: '0.01' });
    });

    it('measures aggregates that only HAVING or ORDER BY mention', async () => {
      const p = await plan('SELECT region, COUNT(*) FROM visits GROUP BY region HAVING AVG(cost) > 100.5 AND COUNT(*) >= 10 ORDER BY SUM(cost) DESC NULLS LAST, region LIMIT 3 OFFSET 1');
      expect(p.aggregates.map((a) => a.fn)).to.deep.equal(['count', 'avg', 'sum']);
      expect(p.select).to.have.length(2);
      expect(strip(p.post)).to.deep.equal(
        strip({
          kind: 'postProcess',
          having: {
            kind: 'and',
            args: [
              { kind: 'compare', op: '>', left: { kind: 'aggregateRef', aggregate: 1 }, right: { kind: 'literal', type: 'numeric', value: '100.5' } },
              { kind: 'compare', op: '>=', left: { kind: 'aggregateRef', aggregate: 0 }, right: { kind: 'literal', type: 'numeric', value: '10' } },
            ],
          },
          orderBy: [
            { kind: 'orderBy', ref: { kind: 'aggregateRef', aggregate: 2 }, direction: 'desc', nulls: 'last' },
            { kind: 'orderBy', ref: { kind: 'keyRef', key: 0 }, direction: 'asc', nulls: 'default' },
          ],
          limit: 3n,
          offset: 1n,
        }),
      );
      expect((await plan('SELECT COUNT(*) FROM visits LIMIT ALL')).post.limit).to.equal(undefined);
    });
  });

  describe('the plan', () => {
    it('is deeply frozen', async () => {
      const p = await plan("SELECT region, AVG(cost) FROM visits WHERE cost > 1 GROUP BY region HAVING AVG(cost) > 2");
      const frozen = (v: unknown): boolean =>
        v === null || typeof v !== 'object' ? true : Object.isFrozen(v) && Object.values(v).every(frozen);
      expect(frozen(p)).to.equal(true);
      expect(() => {
        (p.keys as GroupKeyNode[]).push(p.keys[0]!);
      }).to.throw(TypeError);
    });

    it('skips bounding only when every table is keyed by its unit', async () => {
      const keyed = new Set(['patients']);
      expect((await plan('SELECT sex, COUNT(*) FROM patients GROUP BY sex', { keyedTables: keyed })).bounding.needed).to.equal(false);
      expect((await plan('SELECT sex, COUNT(*) FROM patients GROUP BY sex')).bounding.needed).to.equal(true);
      expect((await plan('SELECT COUNT(*) FROM visits JOIN patients USING (patient_id)', { keyedTables: keyed })).bounding.needed).to.equal(true);
    });

    it('records the partition kind with the sensitivity of the partition-selection count', async () => {
      expect((await plan('SELECT COUNT(*) FROM visits')).partitions).to.deep.equal({ kind: 'none' });
      expect((await plan('SELECT diagnosis, COUNT(*) FROM visits GROUP BY 1')).partitions).to.deep.equal({
        kind: 'private',
        sensitivity: { l1: 4n, l2Squared: 4n, linf: 1n },
      });
    });
  });
});
