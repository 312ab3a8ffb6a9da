/** Classifying driver errors without reading their message text (which can quote data). */
import pg from 'pg';

/** The SQLSTATE of a PostgreSQL error, if it is one. */
export function sqlStateOf(err: unknown): string | undefined {
  if (err !== null && typeof err === 'object' && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH']);

/**
 * True when the error says the server could not be reached or went away: class 08 and 57P0x from
 * the server, a socket error code, or an error node-postgres raised itself without a code — a
 * connect timeout or a connection that ended (the server sends every error of its own as a
 * `DatabaseError` with a SQLSTATE). The message text is never read: it can quote data.
 */
export function isUnreachable(err: unknown): boolean {
  const state = sqlStateOf(err);
  if (state !== undefined) return state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03';
  if (err !== null && typeof err === 'object' && 'code' in err) {
    return NETWORK_CODES.has(String((err as { code: unknown }).code));
  }
  return err instanceof Error && !(err instanceof pg.DatabaseError);
}

/**
 * Check a client out of a pool with an `'error'` listener for as long as it is in use: a server
 * that goes away mid-query makes node-postgres emit `'error'` on the client (besides failing the
 * query), and an emitter without a listener would take the process down. The returned `release`
 * removes the listener; the pool's own idle listener takes over.
 */
export async function checkOut(pool: pg.Pool): Promise<{ client: pg.PoolClient; release: (broken: boolean) => void }> {
  const client = await pool.connect();
  const onError = (): void => undefined; // the failing query reports it; the client is dropped on release
  client.on('error', onError);
  return {
    client,
    release(broken: boolean): void {
      client.removeListener('error', onError);
      client.release(broken);
    },
  };
}
