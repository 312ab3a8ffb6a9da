/**
 * The public HTTP API (api.md), nothing else: every call carries `Authorization: Bearer` from the
 * session, errors become `ApiError`s with the API's stable code and details, and a 401 ends the
 * session (the page goes back to sign-in).
 */
import { ApiError } from '../../src/http/api-error.ts';
import { credential, signOut } from './session.ts';

export { ApiError };

let onUnauthenticated: (message: string) => void = () => undefined;

/** What to do when the server answers 401 (set by the router). */
export function whenUnauthenticated(f: (message: string) => void): void {
  onUnauthenticated = f;
}

export async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const c = credential();
  if (c !== null) headers.authorization = `Bearer ${c}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, cache: 'no-store', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The service cannot be reached.', {});
  }
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: handled below
  }
  if (res.ok) return json as T;
  const err = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  const e = new ApiError(
    res.status,
    typeof err?.code === 'string' ? err.code : `HTTP_${res.status}`,
    typeof err?.message === 'string' ? err.message : `The service answered ${res.status}.`,
    typeof err?.details === 'object' && err.details !== null ? (err.details as Record<string, unknown>) : {},
  );
  if (res.status === 401) {
    signOut();
    onUnauthenticated(e.message);
  }
  throw e;
}

export const get = <T>(path: string): Promise<T> => api<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}): Promise<T> => api<T>('POST', path, body);

/** A message for any thrown value. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.code.startsWith('HTTP_') || err.code === 'NETWORK' ? err.message : `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
