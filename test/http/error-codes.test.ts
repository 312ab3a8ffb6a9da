import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ERROR_STATUS } from '../../src/errors.ts';

/** Every error code the service can send is documented in api.md with the same status, and back. */
describe('error codes', () => {
  const spec = path.resolve('../shared/spec/api.md');
  const rows = [...fs.readFileSync(spec, 'utf8').matchAll(/^\|\s*(\d{3})\s*\|\s*`([A-Z_]+)`\s*\|/gm)].map((m) => [m[2]!, Number(m[1])] as const);

  it('finds the error table in api.md', () => {
    expect(rows.length).to.be.greaterThan(10);
  });

  it('documents every code of src/errors.ts with its status', () => {
    const documented = new Map(rows);
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      expect(documented.get(code), `${code} in api.md`).to.equal(status);
    }
  });

  it('implements every documented code', () => {
    for (const [code, status] of rows) expect((ERROR_STATUS as Record<string, number>)[code], code).to.equal(status);
  });
});
