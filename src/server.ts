/**
 * Start the HTTP server on a Runtime and stop it gracefully on SIGTERM/SIGINT: stop accepting,
 * let in-flight requests finish (bounded), then close the pools.
 */
import type http from 'node:http';
import { createApp } from './http/app.ts';
import { demoPickerEnabled, demoPrincipals } from './http/console.ts';
import { ROUTES } from './http/routes/index.ts';
import { listenPg, type PgServer } from './pgwire/server.ts';
import type { Runtime } from './runtime.ts';

export interface RunningServer {
  readonly url: string;
  readonly server: http.Server;
  /** The wire-protocol listener, when one was asked for. */
  readonly pg: PgServer | undefined;
  stop(): Promise<void>;
}

export interface ListenOptions {
  /** Open the wire protocol on this port of `host` (0: any free port); undefined: not at all. */
  readonly pgPort?: number | undefined;
}

export async function listen(runtime: Runtime, port = runtime.config.port, host = runtime.config.host, options: ListenOptions = {}): Promise<RunningServer> {
  const app = createApp(
    runtime,
    ROUTES,
    demoPickerEnabled(runtime.config) ? { demoPrincipals: () => demoPrincipals(runtime.policy, runtime.jwtSecret) } : {},
  );
  const server = await new Promise<http.Server>((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  server.keepAliveTimeout = 5_000;
  let pg: PgServer | undefined;
  try {
    pg = options.pgPort === undefined ? undefined : await listenPg(runtime, options.pgPort, host);
  } catch (err: unknown) {
    server.close();
    throw err;
  }
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${boundPort}`,
    server,
    pg,
    stop() {
      stopping ??= (async () => {
        await pg?.stop();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => server.closeAllConnections(), 10_000);
          server.close(() => {
            clearTimeout(force);
            resolve();
          });
          server.closeIdleConnections();
        });
        await runtime.close();
      })();
      return stopping;
    },
  };
}

/** Stop on the first SIGTERM or SIGINT; a second signal exits at once. */
export function stopOnSignals(running: RunningServer, log: (msg: string) => void): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) process.exit(1);
    signalled = true;
    log(`${signal}: finishing in-flight requests`);
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
