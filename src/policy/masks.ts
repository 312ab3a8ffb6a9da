/**
 * What the policy says about showing a column outside a grant: the mask it gets (or none) and the
 * token domain it shares with the columns its declared joins link. Read by the raw-query front end
 * (sql/raw/) and by the masking of results (access/masking.ts).
 */
import type { Column, Dataset, Mask } from './schema.ts';

/**
 * The mask a column gets when the grant does not cover it, or undefined when it is shown in clear
 * anyway (sensitivity none and not an id column). An id column without a mask is tokenized.
 */
export function maskOf(column: Column): Mask | undefined {
  if (column.mask !== undefined) return column.mask;
  if (column.type === 'id') return 'tokenize';
  if (column.sensitivity !== 'none') return 'redact';
  return undefined;
}

/**
 * The token domain of a column: columns linked by the dataset's declared joins (unit columns
 * holding the same people) share one, named by the smallest `table.column` among them, so
 * `patients.patient_id` and `visits.patient_id` give the same token for the same person and raw
 * results of different tables can be joined by token. Any other column is its own domain.
 */
export function tokenDomain(dataset: Dataset, columnRef: string): string {
  const linked = new Set([columnRef]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [a, b] of dataset.joins) {
      if (linked.has(a) !== linked.has(b)) {
        linked.add(a);
        linked.add(b);
        grew = true;
      }
    }
  }
  return [...linked].sort()[0]!;
}
