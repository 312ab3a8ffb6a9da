import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('dp engine boundaries', () => {
  it('keeps src/dp a pure library: no express, pg, warehouse or HTTP imports', () => {
    for (const file of sources(path.join(root, 'src/dp'))) {
      const imports = [...fs.readFileSync(file, 'utf8').matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]!);
      for (const spec of imports) {
        const allowed = spec.startsWith('./') || spec.startsWith('node:') || spec === 'seedrandom';
        expect(allowed, `${path.relative(root, file)} imports ${spec}`).to.equal(true);
      }
    }
  });

  it('never uses Math.random anywhere in src/', () => {
    const pattern = new RegExp(['Math', 'random'].join('\\.'));
    for (const file of sources(path.join(root, 'src'))) {
      expect(pattern.test(fs.readFileSync(file, 'utf8')), path.relative(root, file)).to.equal(false);
    }
  });
});
