import { expect } from 'chai';
import type { Dataset } from '../../src/policy/schema.ts';
import { hospital, plan, refusal } from './support.ts';

/**
 * Every construct outside the subset of privacy.md is refused at validation — before any warehouse
 * exists in the picture (planQuery takes none) — with a stable code, the construct, and the
 * position where it starts (`sql.slice(position)` starts with `at`).
 */
interface Row {
  readonly sql: string;
  readonly construct: string;
  readonly at?: string;
  readonly code?: 'SQL_NOT_ALLOWED' | 'SQL_SYNTAX';
  readonly delta?: number;
  readonly dataset?: Dataset;
}

const ROWS: Readonly<Record<string, readonly Row[]>> = {
  'work that grows with the data (quantiles per group)': [
    {
      sql: 'SELECT MEDIAN(cost), PERCENTILE_CONT(0.1) WITHIN GROUP (ORDER BY cost), PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY cost) FROM visits',
      construct: 'PERCENTILE_CONT',
      at: 'PERCENTILE_CONT(0.9)',
    },
    { sql: 'SELECT diagnosis, MEDIAN(cost) FROM visits GROUP BY diagnosis', construct: 'PERCENTILE_CONT', at: 'MEDIAN', delta: 1e-7 },
    { sql: "SELECT date_trunc('day', visited_on), MEDIAN(cost) FROM visits GROUP BY 1", construct: 'PERCENTILE_CONT', at: 'MEDIAN', delta: 1e-7 },
  ],
  'several statements': [
    { sql: 'SELECT COUNT(*) FROM visits; SELECT COUNT(*) FROM patients', construct: 'multiple statements', at: 'SELECT COUNT(*) FROM patients' },
    { sql: 'SELECT COUNT(*) FROM visits /* harmless */; DROP TABLE visits', construct: 'multiple statements', at: 'DROP TABLE' },
    { sql: 'SELECT COUNT(*) FROM visits --\n; DELETE FROM visits', construct: 'multiple statements', at: 'DELETE' },
    { sql: 'SELECT COUNT(*) FROM visits;;SELECT 1', construct: 'multiple statements', at: 'SELECT 1' },
  ],
  'other statements': [
    { sql: 'DELETE FROM visits', construct: 'DELETE', at: 'DELETE' },
    { sql: "UPDATE visits SET cost = 0 WHERE region = 'north'", construct: 'UPDATE', at: 'UPDATE' },
    { sql: "INSERT INTO visits (region) VALUES ('x')", construct: 'INSERT', at: 'INSERT' },
    { sql: 'DROP TABLE visits', construct: 'DROP', at: 'DROP' },
    { sql: "COPY visits TO '/tmp/x'", construct: 'COPY', at: 'COPY' },
    { sql: 'SET statement_timeout = 0', construct: 'SET', at: 'SET' },
    { sql: 'BEGIN', construct: 'transaction control', at: 'BEGIN' },
    { sql: 'EXPLAIN SELECT COUNT(*) FROM visits', construct: 'EXPLAIN', at: 'EXPLAIN' },
    { sql: "DO $$ BEGIN PERFORM pg_sleep(1); END $$", construct: 'DO', at: 'DO' },
    { sql: 'VALUES (1)', construct: 'VALUES', at: 'VALUES' },
    { sql: 'TABLE visits', construct: 'SELECT *' },
  ],
  'WITH, subqueries, set operations': [
    { sql: 'WITH x AS (SELECT patient_id FROM visits) SELECT COUNT(*) FROM x', construct: 'WITH', at: 'WITH' },
    { sql: 'SELECT (SELECT 1), COUNT(*) FROM visits', construct: 'subquery', at: '(SELECT 1)' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE cost > (SELECT 1)', construct: 'subquery', at: '(SELECT 1)' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE region IN (SELECT region FROM visits)', construct: 'subquery', at: 'IN (SELECT' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE EXISTS (SELECT 1 FROM patients)', construct: 'subquery', at: 'EXISTS' },
    { sql: 'SELECT COUNT(*) FROM (SELECT * FROM visits) AS v', construct: 'subquery', at: '(SELECT *' },
    { sql: 'SELECT COUNT(*) FROM visits, LATERAL (SELECT 1) AS l', construct: 'comma join' },
    { sql: 'SELECT SUM((SELECT 1)) FROM visits', construct: 'subquery', at: '(SELECT 1)' },
    { sql: 'SELECT region, COUNT(*) FROM visits GROUP BY region HAVING COUNT(*) > (SELECT 1)', construct: 'subquery', at: '(SELECT 1)' },
    { sql: 'SELECT COUNT(*) FROM visits LIMIT (SELECT 1)', construct: 'LIMIT', at: '(SELECT 1)' },
    { sql: 'SELECT COUNT(*) FROM visits UNION SELECT COUNT(*) FROM patients', construct: 'UNION', at: 'UNION' },
    { sql: 'SELECT COUNT(*) FROM visits UNION ALL SELECT COUNT(*) FROM patients', construct: 'UNION', at: 'UNION' },
    { sql: 'SELECT COUNT(*) FROM visits INTERSECT SELECT COUNT(*) FROM patients', construct: 'INTERSECT', at: 'INTERSECT' },
    { sql: 'SELECT COUNT(*) FROM visits EXCEPT SELECT COUNT(*) FROM patients', construct: 'EXCEPT', at: 'EXCEPT' },
  ],
  'window functions': [
    { sql: 'SELECT COUNT(*) OVER () FROM visits', construct: 'window function', at: 'COUNT(*) OVER' },
    { sql: 'SELECT row_number() OVER () FROM visits', construct: 'window function', at: 'row_number' },
    { sql: 'SELECT SUM(cost) OVER (PARTITION BY region) FROM visits', construct: 'window function', at: 'SUM(cost) OVER' },
    { sql: 'SELECT COUNT(*) FROM visits WINDOW w AS (PARTITION BY region)', construct: 'window function', at: 'WINDOW' },
  ],
  'SELECT * and DISTINCT': [
    { sql: 'SELECT * FROM visits', construct: 'SELECT *', at: '*' },
    { sql: 'SELECT v.* FROM visits AS v', construct: 'SELECT *', at: 'v.*' },
    { sql: 'SELECT COUNT(v.*) FROM visits AS v', construct: 'SELECT *', at: 'v.*' },
    { sql: 'SELECT DISTINCT region FROM visits', construct: 'DISTINCT', at: 'DISTINCT' },
    { sql: 'SELECT DISTINCT ON (region) region FROM visits', construct: 'DISTINCT', at: 'DISTINCT' },
    { sql: 'SELECT region, COUNT(*) FROM visits GROUP BY DISTINCT region', construct: 'GROUP BY DISTINCT', at: 'DISTINCT' },
  ],
  'functions outside the allow-list': [
    { sql: 'SELECT COUNT(*) FROM visits WHERE pg_sleep(10) IS NULL', construct: 'function pg_sleep', at: 'pg_sleep' },
    { sql: 'SELECT pg_sleep(10), COUNT(*) FROM visits', construct: 'function pg_sleep', at: 'pg_sleep' },
    { sql: "SELECT set_config('statement_timeout', '0', false), COUNT(*) FROM visits", construct: 'function set_config', at: 'set_config' },
    { sql: "SELECT nextval('s'), COUNT(*) FROM visits", construct: 'function nextval', at: 'nextval' },
    { sql: "SELECT pg_read_file('/etc/passwd'), COUNT(*) FROM visits", construct: 'function pg_read_file', at: 'pg_read_file' },
    { sql: "SELECT COUNT(*) FROM dblink('host=evil', 'SELECT 1') AS t(a int)", construct: 'function in FROM', at: 'dblink' },
    { sql: "SELECT dblink_exec('x', 'y'), COUNT(*) FROM visits", construct: 'function dblink_exec', at: 'dblink_exec' },
    { sql: 'SELECT COUNT(*) FROM generate_series(1, 1000000000)', construct: 'function in FROM', at: 'generate_series' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE cost > generate_series(1, 10)', construct: 'function generate_series', at: 'generate_series' },
    { sql: "SELECT COUNT(*) FROM visits WHERE diagnosis = repeat('a', 1000000000)", construct: 'function repeat', at: 'repeat' },
    { sql: "SELECT COUNT(*) FROM visits WHERE regexp_replace(diagnosis, '(a+)+$', '') = 'x'", construct: 'function regexp_replace', at: 'regexp_replace' },
    { sql: "SELECT COUNT(*) FROM visits WHERE regexp_match(diagnosis, 'J') IS NULL", construct: 'function regexp_match', at: 'regexp_match' },
    { sql: "SELECT COUNT(*) FROM visits WHERE lower(region) = 'north'", construct: 'function lower', at: 'lower' },
    { sql: "SELECT COUNT(*) FROM visits WHERE diagnosis ~ '^J'", construct: 'operator ~', at: "~ '^J'" },
    { sql: "SELECT COUNT(*) FROM visits WHERE diagnosis SIMILAR TO 'J%'", construct: 'SIMILAR TO' },
    { sql: "SELECT date_part('year', visited_on), COUNT(*) FROM visits GROUP BY 1", construct: 'function date_part', at: 'date_part' },
    { sql: "SELECT pg_catalog.date_trunc('year', visited_on), COUNT(*) FROM visits GROUP BY 1", construct: 'function pg_catalog.date_trunc', at: 'pg_catalog.date_trunc' },
    { sql: 'SELECT string_agg(region, \',\') FROM visits', construct: 'function string_agg', at: 'string_agg' },
    { sql: 'SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY cost) FROM visits', construct: 'function percentile_disc', at: 'percentile_disc' },
    { sql: 'SELECT COUNT(*) FROM visits ORDER BY random()', construct: 'function random', at: 'random' },
  ],
  'casts and arithmetic': [
    { sql: 'SELECT SUM(cost::int) FROM visits', construct: 'cast', at: '::int' },
    { sql: 'SELECT SUM(CAST(cost AS int)) FROM visits', construct: 'cast', at: 'CAST' },
    { sql: "SELECT COUNT(*) FROM visits WHERE visited_on > DATE '2024-01-01'", construct: 'cast', at: "DATE '2024" },
    { sql: "SELECT COUNT(*) FROM visits WHERE cost < 'NaN'::numeric", construct: 'cast', at: "::numeric" },
    { sql: 'SELECT SUM(cost * 2) FROM visits', construct: 'operator *', at: '* 2' },
    { sql: 'SELECT SUM(cost + 0) FROM visits', construct: 'operator +', at: '+ 0' },
    { sql: 'SELECT SUM(-cost) FROM visits', construct: 'operator -', at: '-cost' },
    { sql: 'SELECT SUM(cost / 2) FROM visits', construct: 'operator /', at: '/ 2' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE cost / 0 > 1', construct: 'operator /', at: '/ 0' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE cost + 1 > 2', construct: 'operator +', at: '+ 1' },
    { sql: "SELECT COUNT(*) FROM visits WHERE region || 'x' = 'northx'", construct: 'operator ||', at: "|| 'x'" },
  ],
  'comparisons and literals': [
    { sql: 'SELECT COUNT(*) FROM visits WHERE cost > patient_id', construct: 'column comparison', at: 'patient_id' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE region = diagnosis', construct: 'column comparison', at: 'diagnosis' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE 1 = 1', construct: 'constant comparison', at: '= 1' },
    { sql: "SELECT COUNT(*) FROM visits WHERE cost > 'abc'", construct: 'literal', at: "'abc'" },
    { sql: "SELECT COUNT(*) FROM visits WHERE visited_on > '2024-13-45'", construct: 'literal', at: "'2024-13-45'" },
    { sql: "SELECT COUNT(*) FROM visits WHERE visited_on > '2023-02-29'", construct: 'literal', at: "'2023-02-29'" },
    { sql: "SELECT COUNT(*) FROM visits WHERE visited_on = 'today'", construct: 'literal', at: "'today'" },
    { sql: "SELECT COUNT(*) FROM visits WHERE visited_on < 'infinity'", construct: 'literal', at: "'infinity'" },
    { sql: 'SELECT COUNT(*) FROM patients WHERE birth_year > 9223372036854775808', construct: 'literal', at: '9223372036854775808' },
    { sql: 'SELECT COUNT(*) FROM patients WHERE birth_year < -9223372036854775809', construct: 'literal', at: '-9223372036854775809' },
    { sql: 'SELECT COUNT(*) FROM patients WHERE birth_year = 1990.5', construct: 'literal', at: '1990.5' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE region = 5', construct: 'literal', at: '5' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE cost > 1e400', construct: 'literal', at: '1e400' },
    { sql: "SELECT COUNT(*) FROM visits WHERE cost > 'NaN'", construct: 'literal', at: "'NaN'" },
    { sql: "SELECT COUNT(*) FROM visits WHERE cost < 'Infinity'", construct: 'literal', at: "'Infinity'" },
    { sql: "SELECT COUNT(*) FROM visits WHERE cost > '-inf'", construct: 'literal', at: "'-inf'" },
    { sql: "SELECT COUNT(*) FROM visits WHERE cost IN (1, 'x')", construct: 'literal', at: "'x'" },
    { sql: "SELECT COUNT(*) FROM visits WHERE cost BETWEEN 1 AND 'many'", construct: 'literal', at: "'many'" },
    { sql: 'SELECT COUNT(*) FROM visits WHERE region = NULL', construct: 'NULL literal', at: 'NULL' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE cost > $1', construct: 'parameter', at: '$1' },
    { sql: "SELECT COUNT(*) FROM visits WHERE diagnosis LIKE 'a' ESCAPE '!'", construct: 'LIKE … ESCAPE' },
    { sql: "SELECT COUNT(*) FROM visits WHERE diagnosis LIKE '%a%b%c%d%e'", construct: 'LIKE pattern', at: "'%a%b" },
    { sql: 'SELECT COUNT(*) FROM visits WHERE cost LIKE 5', construct: 'LIKE' },
    { sql: "SELECT COUNT(*) FROM visits WHERE diagnosis LIKE 'J06\\'", construct: 'LIKE pattern', at: "'J06" },
    { sql: "SELECT COUNT(*) FROM visits WHERE diagnosis LIKE 'J\\\\\\'", construct: 'LIKE pattern', at: "'J" },
    { sql: 'SELECT COUNT(*) FROM visits WHERE region', construct: 'boolean column test', at: 'region' },
    { sql: "SELECT COUNT(*) FROM visits WHERE region IS DISTINCT FROM 'north'", construct: 'IS DISTINCT FROM' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE cost BETWEEN SYMMETRIC 5 AND 1', construct: 'BETWEEN SYMMETRIC' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE cost = ANY(ARRAY[1, 2])', construct: 'ANY' },
    { sql: "SELECT COUNT(*) FROM visits WHERE CASE WHEN cost > 1 THEN true END", construct: 'CASE', at: 'CASE' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE COALESCE(cost, 0) > 1', construct: 'COALESCE', at: 'COALESCE' },
    { sql: "SELECT COUNT(*) FROM visits WHERE visited_on > CURRENT_DATE", construct: 'CURRENT_DATE', at: 'CURRENT_DATE' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE (cost, cost) = (1, 2)', construct: 'row constructor' },
    { sql: "SELECT COUNT(*) FROM visits WHERE region COLLATE \"C\" = 'north'", construct: 'COLLATE' },
  ],
  'unicode escapes': [
    { sql: 'SELECT COUNT(*) FROM visits WHERE U&"\\0072egion" = \'north\'', construct: 'unicode escape', at: 'U&"' },
    { sql: "SELECT COUNT(*) FROM visits WHERE region = U&'\\006eorth'", construct: 'unicode escape', at: "U&'" },
    { sql: 'SELECT COUNT(*) FROM u&"visits"', construct: 'unicode escape', at: 'u&"' },
  ],
  'the unit column': [
    { sql: 'SELECT patient_id, COUNT(*) FROM visits GROUP BY patient_id', construct: 'GROUP BY patient_id', at: 'patient_id, COUNT' },
    { sql: 'SELECT COUNT(*) FROM visits GROUP BY visits.patient_id', construct: 'GROUP BY patient_id', at: 'visits.patient_id' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE patient_id = 17', construct: 'column patient_id', at: 'patient_id = 17' },
    { sql: 'SELECT COUNT(DISTINCT region) FROM visits', construct: 'COUNT(DISTINCT)' },
    { sql: 'SELECT SUM(patient_id) FROM visits', construct: 'SUM(patient_id)', at: 'patient_id' },
  ],
  'private group keys need δ > 0': [
    { sql: 'SELECT name, COUNT(*) FROM patients GROUP BY name', construct: 'GROUP BY name', at: 'name\n'.trim(), delta: 0 },
    { sql: 'SELECT COUNT(*) FROM patients GROUP BY email', construct: 'GROUP BY email', at: 'email', delta: 0 },
    { sql: 'SELECT diagnosis, COUNT(*) FROM visits GROUP BY diagnosis', construct: 'GROUP BY diagnosis', at: 'diagnosis\n'.trim(), delta: 0 },
    { sql: "SELECT date_trunc('hour', seen_at), COUNT(*) FROM visits GROUP BY 1", construct: 'GROUP BY seen_at', delta: 0, dataset: hospital },
  ],
  'aggregate: false columns': [
    { sql: 'SELECT COUNT(notes) FROM visits', construct: 'column notes', at: 'notes' },
    { sql: "SELECT COUNT(*) FROM visits WHERE notes = 'x'", construct: 'column notes', at: 'notes' },
    { sql: "SELECT COUNT(*) FROM visits WHERE notes LIKE 'x%'", construct: 'column notes', at: 'notes' },
    { sql: 'SELECT notes, COUNT(*) FROM visits GROUP BY notes', construct: 'column notes', at: 'notes' },
  ],
  'aggregates outside the subset': [
    { sql: 'SELECT SUM(region) FROM visits', construct: 'SUM(region)', at: 'region' },
    { sql: 'SELECT AVG(visited_on) FROM visits', construct: 'AVG(visited_on)', at: 'visited_on' },
    { sql: 'SELECT SUM(DISTINCT cost) FROM visits', construct: 'SUM(DISTINCT)', at: 'SUM' },
    { sql: 'SELECT COUNT(*) FILTER (WHERE region IN (SELECT region FROM visits)) FROM visits', construct: 'subquery', at: 'IN (SELECT' },
    { sql: 'SELECT COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM patients)) FROM visits', construct: 'subquery', at: 'EXISTS' },
    { sql: 'SELECT SUM(cost) FILTER (WHERE cost * 2 > 100) FROM visits', construct: 'operator *', at: '*' },
    { sql: "SELECT COUNT(*) FILTER (WHERE lower(region) = 'north') FROM visits", construct: 'function lower', at: 'lower' },
    { sql: "SELECT COUNT(*) FILTER (WHERE region ~ 'n.*') FROM visits", construct: 'operator ~', at: '~' },
    { sql: 'SELECT COUNT(*) FILTER (WHERE patient_id = 1) FROM visits', construct: 'column patient_id', at: 'patient_id' },
    { sql: "SELECT COUNT(*) FILTER (WHERE notes = 'x') FROM visits", construct: 'column notes', at: 'notes' },
    { sql: "SELECT COUNT(*) FILTER (WHERE cost > 'abc') FROM visits", construct: 'literal', at: "'abc'" },
    { sql: 'SELECT COUNT(DISTINCT patient_id) FILTER (WHERE cost > 1) FROM visits', construct: 'FILTER', at: 'COUNT' },
    { sql: "SELECT CASE WHEN cost < 100 THEN region ELSE 'other' END, COUNT(*) FROM visits GROUP BY 1", construct: 'CASE', at: "region ELSE" },
    { sql: "SELECT CASE WHEN cost < 100 THEN 'low' ELSE diagnosis END, COUNT(*) FROM visits GROUP BY 1", construct: 'CASE', at: 'diagnosis END' },
    { sql: "SELECT CASE WHEN cost < 100 THEN cost * 2 ELSE 0 END, COUNT(*) FROM visits GROUP BY 1", construct: 'CASE', at: '* 2' },
    { sql: "SELECT CASE WHEN cost < 100 THEN 'low' ELSE NULL END, COUNT(*) FROM visits GROUP BY 1", construct: 'CASE', at: 'NULL' },
    { sql: "SELECT CASE WHEN cost < 100 THEN 1 ELSE 'x' END, COUNT(*) FROM visits GROUP BY 1", construct: 'literal', at: "'x'" },
    { sql: "SELECT CASE region WHEN 'north' THEN 1 ELSE 2 END, COUNT(*) FROM visits GROUP BY 1", construct: 'CASE', at: "region WHEN" },
    { sql: "SELECT CASE WHEN cost > (SELECT 1) THEN 'a' ELSE 'b' END, COUNT(*) FROM visits GROUP BY 1", construct: 'subquery', at: '(SELECT 1)' },
    { sql: "SELECT CASE WHEN lower(region) = 'n' THEN 'a' ELSE 'b' END, COUNT(*) FROM visits GROUP BY 1", construct: 'function lower', at: 'lower' },
    { sql: "SELECT CASE WHEN patient_id = 1 THEN 'a' ELSE 'b' END, COUNT(*) FROM visits GROUP BY 1", construct: 'column patient_id', at: 'patient_id' },
    { sql: "SELECT CASE WHEN notes = 'x' THEN 'a' ELSE 'b' END, COUNT(*) FROM visits GROUP BY 1", construct: 'column notes', at: 'notes' },
    { sql: "SELECT CASE WHEN cost < 100 THEN 'low' ELSE 'high' END, COUNT(*) FROM visits", construct: 'column cost', at: 'CASE' },
    { sql: "SELECT SUM(CASE WHEN cost > 100 THEN cost ELSE 0 END) FROM visits", construct: 'CASE', at: 'CASE' },
    { sql: "SELECT COUNT(CASE WHEN region = 'north' THEN 1 END) FROM visits", construct: 'CASE', at: 'CASE' },
    { sql: "SELECT COUNT(*) FROM visits GROUP BY CASE WHEN cost < 100 THEN 'low' END HAVING COUNT(*) FILTER (WHERE cost ~ 'x') > 1", construct: 'operator ~', at: '~' },
    { sql: 'SELECT percentile_cont(1.5) WITHIN GROUP (ORDER BY cost) FROM visits', construct: 'PERCENTILE_CONT', at: '1.5' },
    { sql: 'SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY cost DESC) FROM visits', construct: 'PERCENTILE_CONT' },
    { sql: 'SELECT SUM(cost ORDER BY cost) FROM visits', construct: 'ORDER BY in an aggregate' },
    { sql: 'SELECT SUM(nothing) FROM visits', construct: 'column nothing', at: 'nothing' },
    { sql: 'SELECT SUM(fee) FROM labs', construct: 'column fee', at: 'fee', dataset: hospital },
    { sql: 'SELECT region FROM visits', construct: 'column region', at: 'region' },
    { sql: 'SELECT region, COUNT(*) FROM visits GROUP BY diagnosis', construct: 'column region', at: 'region' },
    { sql: 'SELECT 1, COUNT(*) FROM visits', construct: 'literal', at: '1' },
    { sql: 'SELECT COUNT(*) FROM visits GROUP BY ROLLUP (region)', construct: 'GROUPING SETS' },
    { sql: 'SELECT COUNT(*) FROM visits GROUP BY 2', construct: 'GROUP BY', at: '2' },
    { sql: 'SELECT COUNT(*) FROM visits GROUP BY 1', construct: 'GROUP BY', at: '1' },
    { sql: "SELECT extract(hour FROM visited_on), COUNT(*) FROM visits GROUP BY 1", construct: 'extract', at: 'hour' },
    { sql: "SELECT date_trunc('fortnight', visited_on), COUNT(*) FROM visits GROUP BY 1", construct: 'date_trunc', at: "'fortnight'" },
    { sql: "SELECT date_trunc('month', region), COUNT(*) FROM visits GROUP BY 1", construct: 'date_trunc(region)', at: 'region' },
  ],
  'locking, INTO, post-processing clauses': [
    { sql: 'SELECT COUNT(*) FROM visits FOR UPDATE', construct: 'locking clause', at: 'FOR UPDATE' },
    { sql: 'SELECT COUNT(*) FROM visits FOR SHARE', construct: 'locking clause', at: 'FOR SHARE' },
    { sql: 'SELECT COUNT(*) INTO stolen FROM visits', construct: 'SELECT INTO', at: 'stolen' },
    { sql: 'SELECT COUNT(*) FROM visits LIMIT -1', construct: 'LIMIT', at: '-1' },
    { sql: "SELECT COUNT(*) FROM visits OFFSET 'x'", construct: 'OFFSET', at: "'x'" },
    { sql: 'SELECT COUNT(*) FROM visits ORDER BY 2', construct: 'ORDER BY', at: '2' },
    { sql: 'SELECT region, COUNT(*) FROM visits GROUP BY region ORDER BY cost', construct: 'ORDER BY', at: 'cost' },
    { sql: 'SELECT region, COUNT(*) FROM visits GROUP BY region HAVING cost > 5', construct: 'HAVING', at: 'cost' },
    { sql: 'SELECT region, COUNT(*) FROM visits GROUP BY region ORDER BY region FETCH FIRST 2 ROWS WITH TIES', construct: 'WITH TIES', at: 'TIES' },
  ],
  'tables outside the dataset': [
    { sql: 'SELECT COUNT(*) FROM pg_catalog.pg_authid', construct: 'table pg_catalog.pg_authid', at: 'pg_catalog.pg_authid' },
    { sql: 'SELECT COUNT(*) FROM pg_authid', construct: 'table pg_authid', at: 'pg_authid' },
    { sql: 'SELECT COUNT(*) FROM information_schema.tables', construct: 'table information_schema.tables', at: 'information_schema' },
    { sql: 'SELECT COUNT(*) FROM dpq.ledger', construct: 'table dpq.ledger', at: 'dpq.ledger' },
    { sql: 'SELECT COUNT(*) FROM other.visits', construct: 'table other.visits', at: 'other.visits' },
    { sql: 'SELECT COUNT(*) FROM clinic.public.visits', construct: 'table clinic.public.visits', at: 'clinic.public' },
    { sql: 'SELECT COUNT(*) FROM "Visits"', construct: 'table Visits', at: '"Visits"' },
    { sql: 'SELECT COUNT(*) FROM visits TABLESAMPLE SYSTEM (10)', construct: 'TABLESAMPLE' },
    { sql: 'SELECT COUNT(*) FROM public.visits AS v WHERE pg_catalog.visits.cost > 1', construct: 'column pg_catalog.visits.cost', at: 'pg_catalog.visits.cost' },
    { sql: 'SELECT COUNT(*) FROM visits AS v WHERE visits.cost > 1', construct: 'table visits', at: 'visits.cost' },
  ],
  'joins': [
    { sql: 'SELECT COUNT(*) FROM visits JOIN labs ON visits.pid = labs.pid', construct: 'join', at: 'visits.pid = labs.pid', dataset: hospital },
    { sql: 'SELECT COUNT(*) FROM visits JOIN labs USING (pid)', construct: 'join', at: 'labs', dataset: hospital },
    { sql: 'SELECT COUNT(*) FROM visits JOIN patients ON visits.region = patients.sex', construct: 'join', at: 'visits.region' },
    { sql: 'SELECT COUNT(*) FROM visits v JOIN patients p ON v.patient_id = p.birth_year', construct: 'join', at: 'v.patient_id' },
    { sql: 'SELECT COUNT(*) FROM visits v JOIN patients p ON v.patient_id = p.patient_id AND p.sex = \'F\'', construct: 'join', at: 'v.patient_id' },
    { sql: 'SELECT COUNT(*) FROM visits LEFT JOIN patients USING (patient_id)', construct: 'join', at: 'patients' },
    { sql: 'SELECT COUNT(*) FROM visits FULL JOIN patients USING (patient_id)', construct: 'join', at: 'patients' },
    { sql: 'SELECT COUNT(*) FROM visits CROSS JOIN patients', construct: 'join', at: 'patients' },
    { sql: 'SELECT COUNT(*) FROM visits NATURAL JOIN patients', construct: 'join', at: 'patients' },
    { sql: 'SELECT COUNT(*) FROM visits, patients', construct: 'comma join', at: 'patients' },
    { sql: 'SELECT COUNT(*) FROM visits a JOIN visits b ON a.patient_id = b.patient_id', construct: 'table visits', at: 'visits b' },
    { sql: 'SELECT COUNT(*) FROM visits JOIN patients USING (patient_id) WHERE patient_id > 1', construct: 'column patient_id', at: 'patient_id > 1' },
    { sql: 'SELECT COUNT(cost) FROM visits JOIN patients ON visits.patient_id = patients.patient_id WHERE sex = region', construct: 'column comparison', at: 'region' },
  ],
  'syntax errors': [
    { sql: 'SELEC COUNT(*) FROM visits', construct: '', at: 'SELEC', code: 'SQL_SYNTAX' },
    { sql: "SELECT COUNT(*) FROM visits WHERE region = 'north", construct: '', code: 'SQL_SYNTAX' },
    { sql: 'SELECT COUNT(*) FROM visits WHERE', construct: '', code: 'SQL_SYNTAX' },
    { sql: "SELECT COUNT(*) FROM visits WHERE région = 'é' AND", construct: '', code: 'SQL_SYNTAX' },
    { sql: '   ', construct: '', code: 'SQL_SYNTAX' },
    { sql: '/* only a comment */', construct: '', code: 'SQL_SYNTAX' },
  ],
};

describe('hostile input is refused at validation', () => {
  for (const [group, rows] of Object.entries(ROWS)) {
    describe(group, () => {
      for (const row of rows) {
        it(`${row.code ?? 'SQL_NOT_ALLOWED'} ${row.construct === '' ? '' : `(${row.construct}) `}for ${JSON.stringify(row.sql)}`, async () => {
          const err = await refusal(row.sql, row.delta === undefined ? {} : { delta: row.delta }, row.dataset);
          expect(err.code, err.message).to.equal(row.code ?? 'SQL_NOT_ALLOWED');
          const details = err.detailRecord;
          const position = details.position;
          expect(position, 'position').to.be.a('number');
          expect(position as number).to.be.within(0, row.sql.length);
          if (row.at !== undefined) expect(row.sql.slice(position as number), 'position').to.satisfy((s: string) => s.startsWith(row.at!));
          if ((row.code ?? 'SQL_NOT_ALLOWED') === 'SQL_NOT_ALLOWED') {
            expect(details.construct, err.message).to.equal(row.construct);
            expect(details.hint).to.be.a('string').and.not.equal('');
          }
        });
      }
    });
  }

  it('accepts a line comment that merely looks like a second statement, and != for <>', async () => {
    const p = await plan("SELECT COUNT(*) FROM visits WHERE region != 'north' -- ; DROP TABLE visits");
    expect(p.filter).to.deep.include({ kind: 'compare', op: '<>' });
  });
});
