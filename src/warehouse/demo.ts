/**
 * The demo dataset: a synthetic outpatient clinic (policies/clinic.yaml), generated
 * deterministically with seedrandom so every machine gets the same rows. About 20,000 patients and
 * 200,000 visits with a realistic skew: most people visit a few times, one in ten is a frequent
 * visitor (dozens of visits), a few costs are far above the policy bound (so clamping matters),
 * and some costs are NULL.
 */
import seedrandom from 'seedrandom';

/** Anything with a parametrized `query` (a pg Client/Pool or a PGlite instance). */
export interface SqlTarget {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export interface DemoOptions {
  readonly patients?: number;
  readonly seed?: string;
  readonly schema?: string;
}

export const DEMO_PATIENTS = 20_000;

const FIRST = ['Ada', 'Ben', 'Chloe', 'Dev', 'Elif', 'Farah', 'Gus', 'Hana', 'Ivan', 'Jun', 'Kemi', 'Luca', 'Mei', 'Nils', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tariq', 'Uma', 'Vera', 'Wes', 'Xia', 'Yusuf', 'Zoe'];
const LAST = ['Abbott', 'Berg', 'Costa', 'Diaz', 'Eze', 'Fischer', 'Garcia', 'Haddad', 'Ito', 'Jensen', 'Khan', 'Lopez', 'Moreau', 'Nakamura', 'Okafor', 'Petrov', 'Quispe', 'Rossi', 'Silva', 'Tanaka', 'Usman', 'Varga', 'Weber', 'Xu', 'Yilmaz', 'Zhou'];
const REGIONS = ['north', 'south', 'east', 'west'] as const;
const REGION_ZIP = { north: '941', south: '900', east: '100', west: '981' } as const;
const DIAGNOSES = ['J06.9', 'I10', 'E11.9', 'M54.5', 'K21.9', 'F41.1', 'J45.909', 'N39.0', 'R51', 'L30.9', 'H10.9', 'B34.9', 'R10.9', 'M25.561', 'E78.5', 'G43.909', 'S93.401A', 'Z00.00', 'K59.00', 'J02.9'];
const NOTES = ['follow-up in two weeks', 'patient reports improvement', 'referred to specialist', 'prescription renewed', 'labs ordered', 'no change', 'advised rest and fluids'];
const DAY_MS = 86_400_000;
const FIRST_DAY = Date.UTC(2020, 0, 1);
const DAYS = Math.floor((Date.UTC(2026, 5, 30) - FIRST_DAY) / DAY_MS);

interface Columns {
  patients: { patient_id: bigint[]; name: string[]; email: string[]; ssn: string[]; zip: string[]; birth_year: number[]; sex: string[] };
  visits: { patient_id: bigint[]; region: string[]; visited_on: string[]; cost: (string | null)[]; diagnosis: string[]; notes: string[] };
}

/** Generate the demo rows as columns (deterministic for a given seed and size). */
export function generateDemo(patients = DEMO_PATIENTS, seed = 'dpq-demo'): Columns {
  const rng = seedrandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const digits = (n: number): string => Array.from({ length: n }, () => Math.floor(rng() * 10)).join('');
  const exp = (mean: number): number => -Math.log(1 - rng()) * mean;
  const out: Columns = {
    patients: { patient_id: [], name: [], email: [], ssn: [], zip: [], birth_year: [], sex: [] },
    visits: { patient_id: [], region: [], visited_on: [], cost: [], diagnosis: [], notes: [] },
  };
  for (let i = 1; i <= patients; i++) {
    const id = BigInt(i);
    const first = pick(FIRST);
    const last = pick(LAST);
    const home = pick(REGIONS);
    const p = out.patients;
    p.patient_id.push(id);
    p.name.push(`${first} ${last}`);
    p.email.push(`${first}.${last}${i}@example.org`.toLowerCase());
    p.ssn.push(`${digits(3)}-${digits(2)}-${digits(4)}`);
    p.zip.push(`${REGION_ZIP[home]}${digits(2)}`);
    p.birth_year.push(1930 + Math.floor(rng() * 90));
    const r = rng();
    p.sex.push(r < 0.49 ? 'F' : r < 0.98 ? 'M' : 'X');
    // Skew: 90% visit a few times, 10% are frequent visitors.
    const frequent = rng() < 0.1;
    const visits = frequent ? 10 + Math.floor(exp(35)) : 1 + Math.floor(exp(5.5));
    const chronic = pick(DIAGNOSES);
    for (let v = 0; v < visits; v++) {
      const w = out.visits;
      w.patient_id.push(id);
      w.region.push(rng() < 0.85 ? home : pick(REGIONS));
      w.visited_on.push(new Date(FIRST_DAY + Math.floor(rng() * DAYS) * DAY_MS).toISOString().slice(0, 10));
      const c = rng();
      const cost = c < 0.01 ? null : c < 0.015 ? 5000 + exp(20000) : Math.exp(4.6 + 1.1 * gaussian(rng));
      w.cost.push(cost === null ? null : cost.toFixed(2));
      w.diagnosis.push(rng() < 0.4 ? chronic : pick(DIAGNOSES));
      w.notes.push(pick(NOTES));
    }
  }
  return out;
}

/** A standard normal from two uniforms (demo data only; noise never uses this). */
function gaussian(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

const DDL = (s: string): string => `
  DROP TABLE IF EXISTS ${s}.visits;
  DROP TABLE IF EXISTS ${s}.patients;
  CREATE TABLE ${s}.patients (
    patient_id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL, ssn text NOT NULL,
    zip text NOT NULL, birth_year integer NOT NULL, sex text NOT NULL);
  CREATE TABLE ${s}.visits (
    patient_id bigint NOT NULL REFERENCES ${s}.patients, region text NOT NULL, visited_on date NOT NULL,
    cost numeric(12,2), diagnosis text NOT NULL, notes text NOT NULL);
`;

const BATCH = 50_000;

async function insertColumns(target: SqlTarget, table: string, types: Record<string, string>, cols: Record<string, unknown[]>): Promise<void> {
  const names = Object.keys(types);
  const n = cols[names[0]!]!.length;
  const sql = `INSERT INTO ${table} (${names.join(', ')}) SELECT * FROM unnest(${names.map((c, i) => `$${i + 1}::${types[c]}[]`).join(', ')})`;
  for (let start = 0; start < n; start += BATCH) {
    await target.query(sql, names.map((c) => cols[c]!.slice(start, start + BATCH).map((v) => (typeof v === 'bigint' ? v.toString() : v))));
  }
}

/** (Re)create the demo tables in `schema` and fill them. Returns the row counts. */
export async function loadDemo(target: SqlTarget, options: DemoOptions = {}): Promise<{ patients: number; visits: number }> {
  const schema = options.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error('schema must be a plain identifier');
  const data = generateDemo(options.patients ?? DEMO_PATIENTS, options.seed);
  for (const stmt of DDL(schema).split(';').map((s) => s.trim()).filter(Boolean)) await target.query(stmt);
  await insertColumns(target, `${schema}.patients`, { patient_id: 'int8', name: 'text', email: 'text', ssn: 'text', zip: 'text', birth_year: 'int4', sex: 'text' }, data.patients);
  await insertColumns(target, `${schema}.visits`, { patient_id: 'int8', region: 'text', visited_on: 'date', cost: 'numeric', diagnosis: 'text', notes: 'text' }, data.visits);
  await target.query(`CREATE INDEX IF NOT EXISTS visits_patient_id ON ${schema}.visits (patient_id)`);
  await target.query(`ANALYZE ${schema}.patients`);
  await target.query(`ANALYZE ${schema}.visits`);
  return { patients: data.patients.patient_id.length, visits: data.visits.patient_id.length };
}

/** True when the demo tables exist in `schema`. */
export async function demoLoaded(target: SqlTarget, schema = 'public'): Promise<boolean> {
  const r = (await target.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${schema}.visits`])) as { rows: { present: boolean }[] };
  return r.rows[0]?.present === true;
}
