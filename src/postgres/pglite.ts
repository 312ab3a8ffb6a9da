/**
 * Opening the embedded PostgreSQL (PGlite, WASM, in process) with exact type parsing and the data
 * dir's lock. The same instance serves the embedded warehouse (`warehouse/pglite.ts`) and the
 * embedded state store (`state/pglite.ts`).
 */
import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock.ts';
import { PARSED_OIDS, parserFor } from './types.ts';

/** A PGlite that gives its data dir's lock back when it closes. */
class LockedPGlite extends PGlite {
  release: () => void = () => undefined;
  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      this.release();
    }
  }
}

/** Open (or create) an embedded database with exact type parsing; one process per data dir. */
export async function openPglite(dataDir: string | undefined): Promise<PGlite> {
  let release = (): void => undefined;
  if (dataDir !== undefined) {
    fs.mkdirSync(dataDir, { recursive: true });
    release = lockDataDir(dataDir);
  }
  const parsers = Object.fromEntries(PARSED_OIDS.map((oid) => [oid, parserFor(oid)]));
  try {
    const db = new LockedPGlite({ ...(dataDir === undefined ? {} : { dataDir }), parsers });
    db.release = release;
    await db.waitReady;
    return db;
  } catch (err: unknown) {
    release();
    throw err;
  }
}
