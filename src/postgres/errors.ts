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
