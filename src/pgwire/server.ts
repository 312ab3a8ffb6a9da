/**
 * The wire-protocol listener: a TCP server on HOST:DPQ_PG_PORT, at most DPQ_PG_MAX_CONNECTIONS
 * open connections (one more is answered FATAL 53300 and closed), TLS when DPQ_PG_TLS_CERT and
 * DPQ_PG_TLS_KEY are set, and a graceful stop that ends every session.
 */
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { ConfigError } from '../config/index.ts';
import type { Services } from '../services.ts';
import { type Catalog, createCatalog } from './catalog.ts';
import { pgMetrics } from './metrics.ts';
import { backend } from './protocol.ts';
import { Session, type SessionDeps } from './session.ts';

export interface PgServer {
  readonly port: number;
  readonly host: string;
  readonly catalog: Catalog;
  stop(): Promise<void>;
}

function secureContext(services: Services): tls.SecureContext | undefined {
  const { pgTlsCert, pgTlsKey } = services.config;
  if (pgTlsCert === undefined || pgTlsKey === undefined) return undefined;
  try {
    return tls.createSecureContext({ cert: fs.readFileSync(pgTlsCert), key: fs.readFileSync(pgTlsKey) });
  } catch (err: unknown) {
    throw new ConfigError(`DPQ_PG_TLS_CERT, DPQ_PG_TLS_KEY: cannot load the certificate and key (${err instanceof Error ? err.message : String(err)})`);
  }
}

export async function listenPg(services: Services, port: number, host: string): Promise<PgServer> {
  const catalog = createCatalog(services.policy);
  const metrics = pgMetrics(services.telemetry);
  let pid = 1000 + (process.pid % 1000) * 1000;
  const deps: SessionDeps = {
    services,
    catalog,
    metrics,
    secureContext: secureContext(services),
    idleTimeoutMs: services.config.pgIdleTimeoutMs,
    cancels: new Map(),
    nextPid: () => (pid = (pid % 2_000_000_000) + 1),
  };
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    if (sockets.size >= services.config.pgMaxConnections) {
      metrics.sessions.inc({ outcome: 'rejected' });
      socket.on('error', () => undefined);
      socket.end(backend.error({ severity: 'FATAL', code: '53300', message: `sorry, too many clients already (DPQ_PG_MAX_CONNECTIONS=${services.config.pgMaxConnections})` }));
      socket.destroySoon();
      return;
    }
    sockets.add(socket);
    metrics.open.inc();
    new Session(socket, deps, () => {
      if (sockets.delete(socket)) metrics.open.dec();
    });
  });
  server.maxConnections = services.config.pgMaxConnections * 2 + 10; // beyond this the kernel-level refusal is fine
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    host,
    catalog,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await catalog.close();
    },
  };
}
