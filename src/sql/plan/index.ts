/** Step 3, plan: the immutable query plan (node types, builder, sensitivities, histogram grid). The
 * boundary between the front end and everything after it. The only door into sql/plan/. */
export { ceilQuotient, type Decimal, decimalOfNumber, decimalToString, floorQuotient, integerReciprocal, isInteger, parseDecimal, times, toBigInt } from './decimal.ts';
export { binLowerEdge, binOf, HISTOGRAM_BINS, histogramSpec, type HistogramSpec, histogramWidth } from './histogram.ts';
export { describePlan, filterText, keyText } from './describe.ts';
export type * from './nodes.ts';
export { type AggregateDraft, buildPlan, combinedBounds, freeze, type PlanParts, publicGroupCount } from './build.ts';
export { COMPARISON_OPERATORS, DATE_TRUNC_UNITS, EXTRACT_FIELDS, isComparison, keyColumnsOf, MEASURES_OF } from './nodes.ts';
export { countSensitivity, l2, type PlanSensitivity, sumOfSquaresSensitivity, sumSensitivity, unitsSensitivity } from './sensitivity.ts';
