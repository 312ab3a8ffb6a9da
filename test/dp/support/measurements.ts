/** Budget-split requests in tests: the measurements of each aggregate kind, as query plans list them. */
import type { MeasurementPart, MeasurementRequest } from '../../../src/dp/budget-split.ts';

export const COUNT: readonly MeasurementPart[] = ['count'];
export const COUNT_DISTINCT: readonly MeasurementPart[] = ['count_distinct'];
export const SUM: readonly MeasurementPart[] = ['sum'];
export const AVG: readonly MeasurementPart[] = ['sum', 'count'];
export const VARIANCE: readonly MeasurementPart[] = ['count', 'sum', 'sum_of_squares'];
export const QUANTILE: readonly MeasurementPart[] = ['quantile'];

/** The measurements of a query with these aggregates (one list of parts each), in plan order. */
export function measurements(...aggregates: readonly (readonly MeasurementPart[])[]): MeasurementRequest[] {
  return aggregates.flatMap((parts, aggregate) => parts.map((part) => ({ aggregate, part })));
}
