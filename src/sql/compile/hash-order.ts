/**
 * The deterministic order in which contribution bounding keeps a person's rows (compile.ts):
 * seeded 64-bit hash chains, computed by the warehouse from the person's own rows only.
 */
import type { GroupKeyNode } from '../plan/index.ts';

/**
 * The deterministic per-person order of bounding: a chain of seeded 64-bit hashes. The seed is the
 * hash of the person (`u::text`, whatever the unit's type); each element is hashed with the
 * previous hash as its seed, by the cheapest hash function that is safe for its type — no cast
 * below can fail on any value. NULL hashes like a zero value; ties are broken by the values
 * themselves in the ORDER BY, so the order stays total.
 */
export function hashChain(seed: string, elements: readonly { sql: string; kind: HashKind }[]): string {
  let h = seed;
  for (const e of elements) {
    h =
      e.kind === 'int8' ? `hashint8extended(COALESCE(${e.sql}, 0), ${h})`
      : e.kind === 'text' ? `hashtextextended(COALESCE(${e.sql}::text, ''), ${h})`
      : e.kind === 'numeric' ? `hash_numeric_extended(COALESCE(${e.sql}::numeric, 0), ${h})`
      : e.kind === 'bool' ? `hashint4extended(COALESCE(${e.sql}::int4, 0), ${h})`
      : `hash_record_extended(ROW(${e.sql}), ${h})`;
  }
  return h;
}

export type HashKind = 'int8' | 'text' | 'numeric' | 'bool' | 'record';

/** The hash function of a group key's values. */
export function keyHashKind(k: GroupKeyNode): HashKind {
  return k.type === 'integer' ? 'int8' : k.type === 'text' ? 'text' : k.type === 'numeric' ? 'numeric' : 'record';
}

export const unitHash = (unit: string): string => `hashtextextended(${unit}::text, 0)`;
