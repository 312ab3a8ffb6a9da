import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { justificationProblem } from '../../src/access/justification.ts';
import { deriveMaskKeys, generalizeMask, hashOf, partialMask, tokenDomain, tokenOf } from '../../src/access/masking.ts';
import { compileRaw, validateRaw } from '../../src/sql/raw/index.ts';
import { routeRequest } from '../../src/access/routing.ts';
import { open, seal } from '../../src/access/vault.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import { parseSql } from '../../src/sql/parse/index.ts';

const policy = loadPolicy(path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../policies')).policy;
const clinic = policy.datasets.clinic!;
const keys = deriveMaskKeys(Buffer.alloc(32, 7));

describe('JIT access units', () => {
  describe('justification', () => {
    it('accepts sentences that say something', () => {
      expect(justificationProblem('INC-4411: duplicate invoices for one patient, need to find the rows')).to.equal(undefined);
      expect(justificationProblem('Privacy budget for dataset clinic is spent; more is needed to continue this analysis')).to.equal(undefined);
    });
    it('refuses short, wordless and repeated text', () => {
      expect(justificationProblem('need the rows now')).to.match(/20 characters/);
      expect(justificationProblem('debugging-the-invoice-duplicates')).to.match(/4 words/);
      expect(justificationProblem('aaaa aaaa aaaa aaaa aaaa')).to.match(/say something/);
      expect(justificationProblem('test test test test test')).to.match(/say something/);
      expect(justificationProblem('!!!! ???? .... ,,,, ;;;; ::::')).to.match(/4 words/);
    });
  });

  describe('masks', () => {
    it('partial keeps the last letters and digits and every separator', () => {
      expect(partialMask('123-45-6789', 4)).to.equal('***-**-6789');
      expect(partialMask('4111 1111 1111 1234', 4)).to.equal('**** **** **** 1234');
      expect(partialMask('12', 4)).to.equal('*2');
      expect(partialMask('', 4)).to.equal('');
    });
    it('generalize keeps the first characters', () => {
      expect(generalizeMask('94110', 3)).to.equal('941**');
      expect(generalizeMask('94', 3)).to.equal('9*');
      expect(generalizeMask('1987', 0)).to.equal('****');
    });
    it('never shows a whole value, and keeps its length', () => {
      fc.assert(
        fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 64 }), (s, n) => {
          const p = partialMask(s, n);
          const g = generalizeMask(s, n);
          expect([...p].length).to.equal([...s].length);
          expect([...g].length).to.equal([...s].length);
          const alnum = (x: string): number => [...x].filter((ch) => /[\p{L}\p{N}]/u.test(ch)).length;
          if (alnum(s) > 0) expect(alnum(p)).to.be.below(alnum(s));
          expect([...g].at(-1)).to.equal('*');
        }),
      );
    });
    it('tokens are deterministic per (dataset, column domain, value), distinct from hashes', () => {
      const t = tokenOf(keys, 'clinic', 'patients.email', 'a@example.org');
      expect(t).to.match(/^tok_[0-9a-f]{32}$/);
      expect(tokenOf(keys, 'clinic', 'patients.email', 'a@example.org')).to.equal(t);
      expect(tokenOf(keys, 'clinic', 'patients.name', 'a@example.org')).not.to.equal(t);
      expect(tokenOf(keys, 'other', 'patients.email', 'a@example.org')).not.to.equal(t);
      expect(tokenOf(deriveMaskKeys(Buffer.alloc(32, 8)), 'clinic', 'patients.email', 'a@example.org')).not.to.equal(t);
      expect(hashOf(keys, 'clinic', 'patients.email', 'a@example.org')).not.to.include(t.slice(4));
      // Field boundaries matter: ("ab", "c") and ("a", "bc") differ.
      expect(tokenOf(keys, 'clinic', 'ab', 'c')).not.to.equal(tokenOf(keys, 'clinic', 'a', 'bc'));
    });
    it('joined unit columns share a token domain', () => {
      expect(tokenDomain(clinic, 'visits.patient_id')).to.equal('patients.patient_id');
      expect(tokenDomain(clinic, 'patients.patient_id')).to.equal('patients.patient_id');
      expect(tokenDomain(clinic, 'patients.email')).to.equal('patients.email');
    });
    it('the vault opens only what was sealed under the same key and token', () => {
      const sealed = seal(keys.vault, 'tok_a', 'ada.abbott1@example.org');
      expect(open(keys.vault, 'tok_a', sealed)).to.equal('ada.abbott1@example.org');
      expect(open(keys.vault, 'tok_b', sealed)).to.equal(undefined);
      expect(open(keys.token, 'tok_a', sealed)).to.equal(undefined);
      expect(open(keys.vault, 'tok_a', 'garbage')).to.equal(undefined);
      expect(seal(keys.vault, 'tok_a', 'x')).not.to.equal(seal(keys.vault, 'tok_a', 'x'));
    });
  });

  describe('routing', () => {
    it('routes by the first matching rule; sensitivity rules never take budget requests', () => {
      expect(routeRequest(policy, 'raw', 'clinic', 'pii')?.index).to.equal(0);
      expect(routeRequest(policy, 'raw', 'clinic', 'quasi')?.index).to.equal(1);
      expect(routeRequest(policy, 'raw', 'clinic', 'none')?.index).to.equal(1);
      expect(routeRequest(policy, 'budget', 'clinic', 'none')?.index).to.equal(2);
    });
  });

  describe('raw SQL', () => {
    const plan = async (sql: string, granted: string[] = []) => validateRaw(await parseSql(sql), clinic, { granted: new Set(granted), canTokenize: true });

    it('compiles to quoted identifiers and typed parameters, with the LIMIT dpq chooses', async () => {
      const p = await plan("SELECT zip AS z, name, birth_year FROM patients WHERE birth_year BETWEEN 1950 AND 1960 AND sex IN ('F', 'X') ORDER BY birth_year DESC LIMIT 10 OFFSET 5", ['patients.zip']);
      expect(p.limit).to.equal(10n);
      expect(p.columns.map((c) => [c.name, c.ref, c.mask])).to.deep.equal([
        ['z', 'patients.zip', undefined],
        ['name', 'patients.name', 'redact'],
        ['birth_year', 'patients.birth_year', undefined],
      ]);
      const c = compileRaw(p, 10);
      expect(c.sql).to.equal(
        'SELECT "t0"."zip" AS "c0", NULL AS "c1", "t0"."birth_year" AS "c2" FROM "public"."patients" AS "t0" ' +
          'WHERE ("t0"."birth_year" BETWEEN $1::int8 AND $2::int8 AND "t0"."sex" IN ($3::text, $4::text)) ' +
          'ORDER BY "t0"."birth_year" DESC LIMIT $5::int8 OFFSET $6::int8',
      );
      expect(c.params).to.deep.equal(['1950', '1960', 'F', 'X', '10', '5']);
    });

    it('compiles declared joins and untyped id literals under a grant that covers the id', async () => {
      const p = await plan('SELECT v.cost, p.patient_id FROM visits v JOIN patients p ON p.patient_id = v.patient_id WHERE p.patient_id = 42', ['patients.patient_id']);
      const c = compileRaw(p, 3);
      expect(c.sql).to.equal(
        'SELECT "t0"."cost" AS "c0", "t1"."patient_id" AS "c1" FROM "public"."visits" AS "t0" JOIN "public"."patients" AS "t1" ON "t1"."patient_id" = "t0"."patient_id" WHERE "t1"."patient_id" = $1 LIMIT $2::int8',
      );
      expect(c.params).to.deep.equal(['42', '3']);
    });

    it('never writes a literal into the SQL text', async () => {
      await fc.assert(
        fc.asyncProperty(fc.string({ minLength: 1, maxLength: 30 }), async (s) => {
          const value = `zq${s}`.replaceAll('\u0000', '');
          const p = await plan(`SELECT zip FROM patients WHERE sex = '${value.replaceAll("'", "''")}' OR sex LIKE '${value.replaceAll("'", "''")}%'`);
          const c = compileRaw(p, 1);
          expect(c.sql).not.to.include(value);
          expect(c.params.slice(0, 2)).to.deep.equal([value, `${value}%`]);
        }),
        { numRuns: 100 },
      );
    });

    it('falls back to redact for tokenize and hash masks when no key is configured', async () => {
      const p = validateRaw(await parseSql('SELECT email, patient_id, ssn FROM patients'), clinic, { granted: new Set(), canTokenize: false });
      expect(p.columns.map((c) => c.mask)).to.deep.equal(['redact', 'redact', { partial: { keepLast: 4 } }]);
    });
  });
});
