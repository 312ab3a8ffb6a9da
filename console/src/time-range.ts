/**
 * The time scale for few points (seconds): one release alone sits mid-axis with an hour either
 * side; more get 5% of their span (at least a minute) as margin. Left to itself uPlot stretches
 * one point over years and puts it at the edge.
 */
export function timeRange(seconds: readonly number[]): [number, number] {
  const min = Math.min(...seconds);
  const max = Math.max(...seconds);
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  const pad = max === min ? 3600 : Math.max((max - min) * 0.05, 60);
  return [min - pad, max + pad];
}
