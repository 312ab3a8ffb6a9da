/**
 * The console's page weight and time to interactive against a running demo (`npm start`):
 *   node --import tsx bench/console-weight.ts [http://127.0.0.1:8080]
 * Weight: bytes of HTML/JS/CSS as served, and gzipped (what a compressing proxy would send).
 * Time to interactive, in headless Chromium (cold cache, fresh profile), median of 5 runs:
 * navigation → the sign-in form usable (DOMContentLoaded: the module script has run), and
 * picking `alice` in the demo picker → the analyst page ready (schema, budget and estimate shown).
 */
import zlib from 'node:zlib';
import { findChromium, launchChromium } from '../test/support/browser.ts';

const url = (process.argv[2] ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const RUNS = 5;

let raw = 0;
let gz = 0;
const lines: string[] = [];
for (const p of ['/', '/assets/console.js', '/assets/console.css']) {
  const body = Buffer.from(await (await fetch(`${url}${p}`)).arrayBuffer());
  const z = zlib.gzipSync(body, { level: 9 }).length;
  raw += body.length;
  gz += z;
  lines.push(`| ${p} | ${body.length} | ${z} |`);
}
console.log('| file | bytes | gzip |\n|---|---:|---:|');
console.log(lines.join('\n'));
console.log(`| total | ${raw} | ${gz} |\n`);

const chromium = findChromium();
if (chromium === undefined) throw new Error('needs /usr/bin/chromium');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ready: number[] = [];
const analyst: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const browser = await launchChromium(chromium);
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.goto(`${url}/`, { waitUntil: 'domcontentloaded' });
    await page.locator('#credential').waitFor();
    ready.push(await page.evaluate<number>("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"));
    await page.getByRole('button', { name: /^alice/ }).click();
    const t0 = await page.evaluate<number>('performance.now()');
    await page.locator('#estimate p').first().waitFor();
    await page.locator('#budget meter').first().waitFor();
    analyst.push((await page.evaluate<number>('performance.now()')) - t0);
  } finally {
    await browser.close();
  }
}
console.log(`time to interactive, sign-in page (median of ${RUNS}): ${median(ready).toFixed(0)} ms`);
console.log(`alice picked → analyst page ready with estimate (median of ${RUNS}): ${median(analyst).toFixed(0)} ms`);
