/** Policy variants for tests: the demo policy files copied to a temp dir with text edits applied. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPolicy } from '../../src/policy/load.ts';
import type { Policy } from '../../src/policy/schema.ts';

const DEMO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../policies');

/** A policy folder made of the demo files, with `edits[file]` applied and `extra` files added. */
export function policyDir(edits: Record<string, (text: string) => string> = {}, extra: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpq-policy-'));
  for (const f of fs.readdirSync(DEMO)) {
    const text = fs.readFileSync(path.join(DEMO, f), 'utf8');
    fs.writeFileSync(path.join(dir, f), edits[f]?.(text) ?? text);
  }
  for (const [f, text] of Object.entries(extra)) fs.writeFileSync(path.join(dir, f), text);
  return dir;
}

/** A textual edit of one demo policy file: `[file, from, to]`. */
export type PolicyEdit = readonly [file: string, from: string | RegExp, to: string];

/** Text edits as `policyDir` edit functions (composed per file); an edit that does not apply throws. */
export function textEdits(edits: readonly PolicyEdit[]): Record<string, (text: string) => string> {
  const byFile: Record<string, (text: string) => string> = {};
  for (const [file, from, to] of edits) {
    const before = byFile[file] ?? ((t: string) => t);
    byFile[file] = (text) => {
      const prior = before(text);
      const after = prior.replace(from, to);
      if (after === prior) throw new Error(`test policy edit did not apply: ${file} ${String(from)}`);
      return after;
    };
  }
  return byFile;
}

/** The loaded policy of such a folder. */
export function policyVariant(edits: Record<string, (text: string) => string> = {}): Policy {
  return loadPolicy(policyDir(edits), {}).policy;
}
