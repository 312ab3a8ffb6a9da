/**
 * The web console (issue 8): a single page served at `/` that talks to the public `/v1` API only.
 *
 * The page's TypeScript and CSS under `console/` are bundled with esbuild's API **in memory**, once
 * per process, on the first request for them (or when `warmConsole()` is called after listen). So
 * `npm start` stays fast, nothing built is written to disk or committed, and what is served is
 * always the source the process started with — it cannot be stale. The page needs no inline script
 * or style element, so helmet's default Content-Security-Policy applies unchanged.
 *
 * In embedded demo mode without `DPQ_JWT_SECRET` (tokens signed with a random per-start secret,
 * printed at start anyway), `GET /demo/tokens` hands the sign-in page the demo principals' tokens
 * for a one-click picker. Anywhere else the route does not exist (404).
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Request, type RequestHandler, Router } from 'express';
import type { Config } from '../config/index.ts';
import type { Policy } from '../policy/schema.ts';
import { mintToken } from './auth.ts';

const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../console');

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

/** The served files by URL path: `/` (the HTML shell), `/assets/console.js`, `/assets/console.css`. */
type Bundle = ReadonlyMap<string, Asset>;

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

function asset(body: Buffer, ext: string): Asset {
  const etag = `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, type: TYPES[ext]!, etag };
}

async function buildBundle(): Promise<Bundle> {
  // Imported lazily: processes that never serve the console (CLI commands) do not load esbuild.
  const { build } = await import('esbuild');
  const outdir = path.join(CONSOLE_DIR, '.out'); // virtual: `write: false` keeps the output in memory
  const result = await build({
    absWorkingDir: CONSOLE_DIR,
    entryPoints: { console: path.join(CONSOLE_DIR, 'src/main.ts') },
    outdir,
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    platform: 'browser',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const files = new Map<string, Asset>();
  for (const f of result.outputFiles) {
    files.set(`/assets/${path.basename(f.path)}`, asset(Buffer.from(f.contents), path.extname(f.path)));
  }
  files.set('/', asset(await fs.readFile(path.join(CONSOLE_DIR, 'index.html')), '.html'));
  return files;
}

let bundle: Promise<Bundle> | undefined;

/** The console's files, built once per process; a failed build is retried on the next request. */
export function consoleBundle(): Promise<Bundle> {
  bundle ??= buildBundle().catch((err: unknown) => {
    bundle = undefined;
    throw err;
  });
  return bundle;
}

/** Build the bundle now (after listen), so the first visitor does not wait for it. */
export function warmConsole(onError: (err: unknown) => void): void {
  consoleBundle().catch(onError);
}

/** True in embedded demo mode with a random per-start JWT secret: the only mode with `/demo/tokens`. */
export function demoPickerEnabled(config: Config): boolean {
  return config.embedded && config.jwtSecret === undefined && config.jwks === undefined;
}

export interface DemoPrincipal {
  readonly name: string;
  readonly roles: readonly string[];
  readonly token: string;
}

/** The demo principals' bearer tokens (principals with an API key are left out: there is no key to give). */
export async function demoPrincipals(policy: Policy, secret: Uint8Array): Promise<DemoPrincipal[]> {
  const out: DemoPrincipal[] = [];
  for (const [name, p] of Object.entries(policy.principals)) {
    if (p.apiKeySha256 !== undefined) continue;
    out.push({ name, roles: [...p.roles], token: await mintToken(secret, name) });
  }
  return out;
}

export interface ConsoleOptions {
  /** Set only in demo mode (`demoPickerEnabled`): the picker's principals and tokens. */
  readonly demoPrincipals?: () => Promise<DemoPrincipal[]>;
}

const LOOPBACK_ADDRESS = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/i;

/**
 * The demo tokens go to loopback clients that asked for a loopback host name only: another machine
 * (HOST=0.0.0.0) or a page that rebinds its own DNS name to 127.0.0.1 gets 404 like everyone else.
 */
function fromLocalhost(req: Request): boolean {
  return LOOPBACK_ADDRESS.test(req.socket.remoteAddress ?? '') && LOOPBACK_HOST.test(req.get('host') ?? '');
}

function serve(file: string): RequestHandler {
  return async (req, res) => {
    const a = (await consoleBundle()).get(file)!;
    res.setHeader('Content-Type', a.type);
    res.setHeader('ETag', a.etag);
    // Revalidated on every load (304 when unchanged): a restarted service never serves an old page.
    res.setHeader('Cache-Control', 'no-cache');
    if (req.get('if-none-match')?.split(',').some((t) => t.trim() === a.etag)) {
      res.status(304).end();
      return;
    }
    res.send(a.body);
  };
}

/** `/`, `/assets/console.{js,css}` and, in demo mode, `/demo/tokens`. */
export function consoleRoutes(options: ConsoleOptions = {}): Router {
  const r = Router();
  r.get('/', serve('/'));
  r.get('/assets/console.js', serve('/assets/console.js'));
  r.get('/assets/console.css', serve('/assets/console.css'));
  const demo = options.demoPrincipals;
  if (demo !== undefined) {
    r.get('/demo/tokens', async (req, res, next) => {
      if (!fromLocalhost(req)) {
        next();
        return;
      }
      res.setHeader('Cache-Control', 'no-store');
      res.json({ principals: await demo() });
    });
  }
  return r;
}
