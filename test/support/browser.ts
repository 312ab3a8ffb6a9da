/**
 * Headless Chromium for the console tests: Debian's `chromium` driven by playwright-core with
 * `executablePath` (no browser download). A fresh user-data-dir per launch. When Chromium is
 * missing the console tests fail in CI (`CI` or `DPQ_TEST_REQUIRE_POSTGRES=1`, as `.ci/run` sets)
 * and are skipped, with a message, only on a developer machine that lacks it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function findChromium(): string | undefined {
  return CANDIDATES.find((p) => fs.existsSync(p));
}

/** True where a missing browser must fail the run rather than skip. */
export function browserRequired(): boolean {
  return process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false' ? true : process.env.DPQ_TEST_REQUIRE_POSTGRES === '1';
}

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(executablePath: string, viewport = { width: 1280, height: 800 }): Promise<Browser> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpq-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    viewport,
    // As root in a container: no sandbox; and nothing that talks to the network on its own.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export const ARTIFACTS = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../artifacts/console');
