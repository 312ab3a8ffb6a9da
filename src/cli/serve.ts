/** `dpq serve` / `npm start`: configuration → runtime → HTTP server, with tokens printed in demo mode. */
import { ConfigError, loadConfig } from '../config/index.ts';
import { mintToken } from '../http/auth.ts';
import { warmConsole } from '../http/console.ts';
import { PolicyError } from '../policy/load.ts';
import { createRuntime } from '../runtime.ts';
import { listen, stopOnSignals } from '../server.ts';

export async function serve(): Promise<number> {
  const started = Date.now();
  let runtime;
  try {
    const config = loadConfig();
    runtime = await createRuntime(config);
  } catch (e: unknown) {
    if (e instanceof ConfigError || e instanceof PolicyError) {
      process.stderr.write(`dpq: cannot start: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const running = await listen(runtime);
  stopOnSignals(running, (m) => runtime.logger.info(m));
  warmConsole((err: unknown) => runtime.logger.error('the web console could not be built', { errorName: err instanceof Error ? err.message : typeof err }));
  const lines = [`dpq is listening on ${running.url} (ready in ${((Date.now() - started) / 1000).toFixed(1)} s); web console: ${running.url}/`];
  if (runtime.config.embedded) {
    lines.push('', 'Embedded demo mode: PGlite with the demo clinic dataset. Bearer tokens (valid 12 h):');
    for (const name of Object.keys(runtime.policy.principals)) {
      const p = runtime.policy.principals[name]!;
      if (p.apiKeySha256 !== undefined) continue;
      lines.push(`  ${name.padEnd(6)} (${p.roles.join(', ')}): ${await mintToken(runtime.jwtSecret, name)}`);
    }
    lines.push('  dash   (dashboard): API key dpq_demo_dashboard_key');
    lines.push('', `Try: curl -s ${running.url}/v1/datasets -H "Authorization: Bearer <alice's token>"`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return new Promise<number>(() => undefined); // runs until a signal stops it
}
