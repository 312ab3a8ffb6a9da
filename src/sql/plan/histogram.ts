/**
 * The bins of a quantile's histogram, in grid units. A quantile aggregate releases per group a
 * histogram of its clamped values over [lower, upper] (the column's bounds on its grid) in `bins`
 * equal-width bins; the noise step reads quantiles off the noisy histogram.
 *
 * Bin of grid value x: ⌊(x − lower) · bins / width⌋ with width = upper − lower + 1, in 0 … bins−1.
 * Bin i covers the grid values [edge(i), edge(i+1) − 1] with edge(i) = lower + ⌈i · width / bins⌉.
 */

/** Bins per quantile histogram (fewer when the grid has fewer points). */
export const HISTOGRAM_BINS = 1024;

export interface HistogramSpec {
  readonly bins: number;
  /** Grid units, inclusive. */
  readonly lower: bigint;
  readonly upper: bigint;
}

export function histogramSpec(lower: bigint, upper: bigint): HistogramSpec {
  const width = upper - lower + 1n;
  const bins = width < BigInt(HISTOGRAM_BINS) ? Number(width) : HISTOGRAM_BINS;
  return Object.freeze({ bins, lower, upper });
}

export function histogramWidth(h: HistogramSpec): bigint {
  return h.upper - h.lower + 1n;
}

/** The bin of a grid value already clamped to [lower, upper] (the SQL computes the same). */
export function binOf(h: HistogramSpec, x: bigint): number {
  return Number(((x - h.lower) * BigInt(h.bins)) / histogramWidth(h));
}

/** The smallest grid value of bin i (i = bins gives upper + 1). */
export function binLowerEdge(h: HistogramSpec, i: number): bigint {
  const w = histogramWidth(h);
  const n = BigInt(i) * w;
  const b = BigInt(h.bins);
  return h.lower + (n + b - 1n) / b;
}
