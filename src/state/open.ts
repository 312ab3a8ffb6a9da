/**
 * Open the configured state store on its own (for CLI commands): PostgreSQL at DPQ_STATE_URL, or
 * the embedded PGlite under DPQ_DATA_DIR (which only one process can hold at a time — stop the
 * service first, or use the HTTP API).
 */
import type { Config } from '../config/index.ts';
import { openPglite } from '../postgres/pglite.ts';
import { createPgStateStore } from './pg.ts';
import { createPgliteStateStore } from './pglite.ts';
import type { StateStore } from './store.ts';

export async function openStateStore(config: Config): Promise<StateStore> {
  if (config.stateUrl !== undefined) return createPgStateStore(config.stateUrl, 2);
  return createPgliteStateStore(await openPglite(config.dataDir), true);
}
