/**
 * The module layout of docs/design.md as a test: every import between two modules of src/ (a
 * folder, or a top-level file) must be an edge listed in ALLOWED, every package a module imports
 * must be listed in PACKAGES, and neither the modules nor the files may import each other in a
 * cycle. Dependencies point inward: edges (http, cli, runtime) → domain (queries, metrics,
 * access) → front end and accounts (sql, budget, audit) → adapters (warehouse, state, postgres) →
 * leaves (dp, errors, clock, log, config).
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');

/** Which modules each module may import (besides itself). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  clock: [],
  version: [],
  errors: [],
  log: [],
  config: ['policy'],
  telemetry: [],
  dp: [],
  policy: ['errors'],
  postgres: [],
  warehouse: ['errors', 'policy', 'postgres'],
  state: ['config', 'postgres'],
  sql: ['errors', 'policy'],
  audit: ['budget', 'clock', 'log', 'state'],
  budget: ['dp', 'policy', 'services', 'state'],
  services: ['clock', 'config', 'dp', 'log', 'policy', 'state', 'telemetry', 'warehouse'],
  access: ['audit', 'budget', 'errors', 'log', 'policy', 'services', 'sql', 'state', 'warehouse'],
  // queries → access (the top-up a refusal proposes) and → http (history's response types) are
  // edges the design would rather not have; listed so that no new one slips in.
  queries: ['access', 'audit', 'budget', 'dp', 'errors', 'http', 'policy', 'services', 'sql', 'state', 'warehouse'],
  metrics: ['audit', 'budget', 'errors', 'policy', 'queries', 'services', 'sql', 'state', 'warehouse'],
  http: ['access', 'audit', 'budget', 'clock', 'config', 'dp', 'errors', 'log', 'metrics', 'policy', 'queries', 'services', 'state', 'warehouse', 'version'],
  pgwire: ['access', 'audit', 'budget', 'config', 'errors', 'http', 'policy', 'queries', 'services', 'sql', 'telemetry'],
  runtime: ['clock', 'config', 'dp', 'http', 'log', 'metrics', 'policy', 'postgres', 'services', 'state', 'telemetry', 'warehouse'],
  server: ['http', 'pgwire', 'runtime'],
  cli: ['audit', 'config', 'http', 'policy', 'postgres', 'runtime', 'server', 'state', 'warehouse', 'version'],
};

/** Which packages each module may import (node: built-ins are always allowed). */
const PACKAGES: Readonly<Record<string, readonly string[]>> = {
  dp: ['seedrandom'],
  log: ['winston'],
  config: ['zod'],
  telemetry: ['prom-client'],
  policy: ['yaml', 'zod'],
  postgres: ['@electric-sql/pglite', 'pg'],
  warehouse: ['@electric-sql/pglite', 'pg', 'seedrandom'],
  state: ['@electric-sql/pglite', 'pg'],
  sql: ['libpg-query'],
  access: ['prom-client', 'zod'],
  queries: ['zod'],
  http: ['esbuild', 'express', 'helmet', 'jose', 'zod'],
  pgwire: ['@electric-sql/pglite', 'libpg-query', 'pg-protocol', 'prom-client'],
  runtime: ['pg'],
  cli: ['pg', 'zod'],
};

/** The steps of the SQL front end (folders of src/sql/) and which earlier steps each may import. */
const SQL_STEPS: Readonly<Record<string, readonly string[]>> = {
  parse: [],
  plan: [],
  validate: ['parse', 'plan'],
  compile: ['plan'],
  raw: ['compile', 'parse', 'plan', 'validate'],
};

interface Import {
  readonly from: string;
  readonly spec: string;
  /** `import type` / `export type`: erased at run time, so it closes no run-time cycle. */
  readonly typeOnly: boolean;
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** `pg-protocol/dist/x.js` → `pg-protocol`, `@scope/name/x` → `@scope/name`. */
const packageOf = (spec: string): string => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

const moduleOf = (file: string): string => path.relative(src, file).split(path.sep)[0]!.replace(/\.ts$/, '');

/** Static imports and re-exports (`import … from`, `export … from`, `import '…'`, `import('…')`). */
function importsOf(file: string): Import[] {
  const text = fs.readFileSync(file, 'utf8');
  const statements = [...text.matchAll(/\b(?:import|export)(\s+type)?\b[^;'"]*?\bfrom\s+'([^']+)'/g)].map((m) => ({
    from: file,
    spec: m[2]!,
    typeOnly: m[1] !== undefined,
  }));
  const bare = [...text.matchAll(/\bimport\s*\(?\s*'([^']+)'/g)].map((m) => ({ from: file, spec: m[1]!, typeOnly: false }));
  return [...statements, ...bare];
}

const files = sources(src);
const imports = files.flatMap(importsOf);
const local = imports.filter((i) => i.spec.startsWith('.'));
const target = (i: Import): string => path.resolve(path.dirname(i.from), i.spec);

/** A cycle in a directed graph, as the list of its nodes, or undefined. */
function findCycle(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'open') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      const cycle = visit(m);
      if (cycle !== undefined) return cycle;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of graph.keys()) {
    const cycle = visit(n);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

function graphOf(edges: readonly (readonly [string, string])[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [a, b] of edges) {
    if (!graph.has(a)) graph.set(a, new Set());
    if (a !== b) graph.get(a)!.add(b);
  }
  return graph;
}

describe('architecture: the module layout of docs/design.md', () => {
  it('lists every module of src/ in the allowed edges', () => {
    const modules = new Set(files.map(moduleOf));
    expect([...modules].filter((m) => !Object.hasOwn(ALLOWED, m)), 'modules missing from ALLOWED').to.deep.equal([]);
  });

  it('imports between modules only along the allowed edges', () => {
    const bad = local
      .map((i) => ({ i, a: moduleOf(i.from), b: moduleOf(target(i)) }))
      .filter(({ a, b }) => a !== b && !(ALLOWED[a] ?? []).includes(b))
      .map(({ i, a, b }) => `${a} → ${b}: ${path.relative(root, i.from)} imports ${i.spec}`);
    expect(bad).to.deep.equal([]);
  });

  it('imports packages only where they belong (src/dp: node: and seedrandom only)', () => {
    const bad = imports
      .filter((i) => !i.spec.startsWith('.') && !i.spec.startsWith('node:'))
      .filter((i) => !(PACKAGES[moduleOf(i.from)] ?? []).includes(packageOf(i.spec)))
      .map((i) => `${path.relative(root, i.from)} imports ${i.spec}`);
    expect(bad).to.deep.equal([]);
  });

  it('enters src/sql only through its doors: sql/index.ts from outside, <step>/index.ts between steps', () => {
    const sqlDir = path.join(src, 'sql');
    const stepOf = (file: string): string => path.relative(sqlDir, file).split(path.sep)[0]!;
    const bad = local
      .map((i) => ({ i, to: target(i) }))
      .filter(({ to }) => to.startsWith(sqlDir + path.sep))
      .filter(({ i, to }) => {
        if (!i.from.startsWith(sqlDir + path.sep)) return to !== path.join(sqlDir, 'index.ts');
        const [a, b] = [stepOf(i.from), stepOf(to)];
        if (a === b || a === 'index.ts') return false;
        return to !== path.join(sqlDir, b, 'index.ts') || !(SQL_STEPS[a] ?? []).includes(b);
      })
      .map(({ i }) => `${path.relative(root, i.from)} imports ${i.spec}`);
    expect(bad).to.deep.equal([]);
  });

  it('has no run-time import cycle between modules (type-only imports are erased)', () => {
    const graph = graphOf(local.filter((i) => !i.typeOnly).map((i) => [moduleOf(i.from), moduleOf(target(i))] as const));
    expect(findCycle(graph)?.join(' → ')).to.equal(undefined);
  });

  it('has no run-time import cycle between files (type-only imports are erased)', () => {
    const graph = graphOf(local.filter((i) => !i.typeOnly).map((i) => [path.relative(src, i.from), path.relative(src, target(i))] as const));
    expect(findCycle(graph)?.join(' → ')).to.equal(undefined);
  });

  it('finds a cycle when there is one (positive control for the two tests above)', () => {
    expect(findCycle(graphOf([['a', 'b'], ['b', 'c'], ['c', 'a']]))).to.deep.equal(['a', 'b', 'c', 'a']);
    expect(findCycle(graphOf([['a', 'b'], ['b', 'c']]))).to.equal(undefined);
  });

  it('never uses Math.random anywhere in src/', () => {
    const pattern = new RegExp(['Math', 'random'].join('\\.'));
    for (const file of files) {
      expect(pattern.test(fs.readFileSync(file, 'utf8')), path.relative(root, file)).to.equal(false);
    }
  });
});
