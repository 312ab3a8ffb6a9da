/**
 * Charts on uPlot (one small canvas library, bundled): bars with error bars for query answers,
 * lines with an interval band for metric history, and cumulative steps for ε spent. A canvas says
 * nothing to a screen reader, so each chart sits in a `role="img"` figure whose label summarizes
 * it, next to a table with the same numbers.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from './dom.ts';
import { timeRange } from './time-range.ts';

/** Colour-blind-safe palette (Okabe–Ito), dark enough on white. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#7a6a00', '#56B4E9', '#E69F00', '#000000'];

export interface Chart {
  readonly element: HTMLElement;
  destroy(): void;
}

function sized(container: HTMLElement, make: (width: number) => uPlot): Chart {
  const width = (): number => Math.max(280, Math.min(960, container.clientWidth || 640));
  const plot = make(width());
  const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: plot.height }));
  observer.observe(container);
  return {
    element: container,
    destroy() {
      observer.disconnect();
      plot.destroy();
    },
  };
}

function figure(label: string): HTMLElement {
  return h('figure', { class: 'chart', role: 'img', 'aria-label': label });
}

/**
 * Error bars as a draw hook: a white halo under a dark whisker with caps, so the interval reads
 * on the bar's fill and on the background alike. `xs()` gives the x values of the points.
 */
function whiskers(xs: () => readonly number[], lo: readonly (number | null)[], hi: readonly (number | null)[], colour = '#111', dodge = 0, dots?: readonly (number | null)[]): (u: uPlot) => void {
  return (u) => {
    const ctx = u.ctx;
    const cap = 7 * devicePixelRatio;
    const stroke = (width: number, style: string): void => {
      ctx.strokeStyle = style;
      ctx.lineWidth = width;
      xs().forEach((x, i) => {
        const a = lo[i];
        const b = hi[i];
        if (a === null || a === undefined || b === null || b === undefined) return;
        const px = u.valToPos(x, 'x', true) + dodge * devicePixelRatio;
        const y0 = u.valToPos(a, 'y', true);
        const y1 = u.valToPos(b, 'y', true);
        ctx.beginPath();
        ctx.moveTo(px, y0);
        ctx.lineTo(px, y1);
        ctx.moveTo(px - cap, y0);
        ctx.lineTo(px + cap, y0);
        ctx.moveTo(px - cap, y1);
        ctx.lineTo(px + cap, y1);
        ctx.stroke();
      });
    };
    ctx.save();
    stroke(4 * devicePixelRatio, 'rgba(255,255,255,0.9)');
    stroke(2 * devicePixelRatio, colour);
    // The released value on its whisker (at the same dodged x).
    ctx.fillStyle = colour;
    xs().forEach((x, i) => {
      const v = dots?.[i];
      if (v === null || v === undefined) return;
      ctx.beginPath();
      ctx.arc(u.valToPos(x, 'x', true) + dodge * devicePixelRatio, u.valToPos(v, 'y', true), 4 * devicePixelRatio, 0, 2 * Math.PI);
      ctx.fill();
    });
    ctx.restore();
  };
}

/** A line under a chart: what the whiskers or the band mean. */
function note(text: string): HTMLElement {
  return h('p', { class: 'chart-note' }, text);
}

/**
 * Bars for `values` with an error bar from `lo` to `hi` on each (null: no interval).
 * Mount it with `host.append(chart.element)` before calling — uPlot measures its container.
 */
export function barChart(host: HTMLElement, title: string, labels: readonly string[], values: readonly number[], lo: readonly (number | null)[], hi: readonly (number | null)[]): Chart {
  const fig = figure(`${title}: ${labels.map((l, i) => `${l} ${values[i]}${lo[i] === null || lo[i] === undefined ? '' : ` (${lo[i]} to ${hi[i]})`}`).join(', ')}`);
  host.append(fig);
  if (lo.some((v) => v !== null)) host.append(note('Each whisker spans the noise interval around the released value: the true value lies within it at the stated confidence.'));
  const xs = labels.map((_, i) => i);
  const top = Math.max(0, ...values, ...hi.map((v) => v ?? 0));
  const bottom = Math.min(0, ...values, ...lo.map((v) => v ?? 0));
  const errorBars = whiskers(() => xs, lo, hi);
  return sized(fig, (width) =>
    new uPlot(
      {
        title,
        width,
        height: 240,
        legend: { show: false },
        cursor: { show: false },
        scales: {
          x: { time: false, range: [-0.5, Math.max(0.5, labels.length - 0.5)] },
          y: { range: [bottom, top === bottom ? bottom + 1 : top * 1.05] },
        },
        axes: [
          { splits: () => xs, values: (_u, splits) => splits.map((s) => labels[s] ?? ''), grid: { show: false } },
          { size: 60 },
        ],
        series: [{}, { label: title, fill: `${PALETTE[0]}cc`, stroke: PALETTE[0], paths: uPlot.paths.bars!({ size: [0.6, 80] }), points: { show: false } }],
        hooks: { draw: [errorBars] },
      },
      [xs, [...values]],
      fig,
    ),
  );
}

export interface BandSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
  readonly lo: readonly (number | null)[];
  readonly hi: readonly (number | null)[];
}

/** Lines over time (`times` in ms) with each series' interval as a band and whiskers at the releases; a legend of the series only. */
export function bandChart(host: HTMLElement, title: string, times: readonly number[], series: readonly BandSeries[]): Chart {
  const fig = figure(`${title}: ${series.length} series over ${times.length} release(s)`);
  host.append(fig);
  const seconds = times.map((t) => t / 1000);
  const data: (number | null)[][] = [seconds];
  const opts: uPlot.Series[] = [{}];
  const bands: uPlot.Band[] = [];
  const hooks: ((u: uPlot) => void)[] = [];
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length]!;
    const base = data.length;
    data.push([...s.values], [...s.hi], [...s.lo]);
    opts.push(
      { label: s.label, stroke: colour, width: 2, points: { show: false } },
      { label: `${s.label} upper`, stroke: `${colour}55`, width: 1, points: { show: false } },
      { label: `${s.label} lower`, stroke: `${colour}55`, width: 1, points: { show: false } },
    );
    bands.push({ series: [base + 1, base + 2], fill: `${colour}22` });
    // Side by side when there are few releases, so that groups released together do not hide each other.
    const dodge = times.length <= 3 ? (i - (series.length - 1) / 2) * 9 : 0; // with many releases the lines carry the groups
    hooks.push(whiskers(() => seconds, s.lo, s.hi, colour, dodge, s.values));
  });
  host.append(
    h('ul', { class: 'legend', 'aria-hidden': 'true' }, series.map((s, i) => {
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = PALETTE[i % PALETTE.length]!; // CSSOM, not a style attribute
      return h('li', {}, swatch, s.label);
    })),
    note('The shaded band and the whiskers are each release\'s noise interval.'),
  );
  const range = timeRange(seconds);
  return sized(fig, (width) =>
    new uPlot(
      {
        title,
        width,
        height: 300,
        series: opts,
        bands,
        legend: { show: false },
        scales: { x: { time: true, range: () => range } },
        axes: [{}, { size: 60 }],
        hooks: { draw: hooks },
      },
      data as uPlot.AlignedData,
      fig,
    ),
  );
}

/** Step lines over time (`times` in ms), one per series. */
export function stepChart(host: HTMLElement, title: string, times: readonly number[], series: readonly { label: string; values: readonly number[] }[]): Chart {
  const fig = figure(`${title}: ${series.map((s) => `${s.label} ${s.values.at(-1) ?? 0}`).join(', ')}`);
  host.append(fig);
  const data: number[][] = [times.map((t) => t / 1000), ...series.map((s) => [...s.values])];
  const opts: uPlot.Series[] = [
    {},
    ...series.map((s, i) => ({ label: s.label, stroke: PALETTE[i % PALETTE.length]!, width: 2, paths: uPlot.paths.stepped!({ align: 1 }) })),
  ];
  const range = timeRange(data[0]!);
  // No uPlot legend (it reads "--" without a cursor): the table below gives the numbers.
  return sized(fig, (width) => new uPlot({ title, width, height: 260, series: opts, legend: { show: false }, scales: { x: { time: true, range: () => range } }, axes: [{}, { size: 60 }] }, data as uPlot.AlignedData, fig));
}
