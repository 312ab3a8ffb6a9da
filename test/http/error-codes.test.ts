import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ERROR_STATUS } from '../../src/errors.ts';

/** The `| status | `CODE` | … |` rows of a markdown error table. */
function errorTable(file: string): [string, number][] {
  return [...fs.readFileSync(file, 'utf8').matchAll(/^\|\s*(\d{3})\s*\|\s*`([A-Z_]+)`\s*\|/gm)].map((m) => [m[2]!, Number(m[1])]);
}

/**
 * Every error code the service can send is documented with its status (docs/errors.md), and that
 * table is the specification's (api.md, beside the repository as ../shared/spec; required in CI).
 */
describe('error codes', () => {
  const docs = errorTable(path.resolve('docs/errors.md'));
  const specFile = path.resolve('../shared/spec/api.md');

  it('documents every code of src/errors.ts with its status, and nothing else', () => {
    expect(docs.length).to.be.greaterThan(10);
    expect(Object.fromEntries(docs)).to.deep.equal({ ...ERROR_STATUS });
  });

  it('matches the error table of the specification (api.md)', () => {
    expect(fs.existsSync(specFile), `the specification is expected beside the repository at ${specFile}`).to.equal(true);
    expect(Object.fromEntries(errorTable(specFile))).to.deep.equal(Object.fromEntries(docs));
  });
});
