/**
 * The CLI's HTTP client of a running server: `DPQ_URL` and `DPQ_TOKEN` (config/client.ts), JSON
 * in and out. An error answer becomes an `ApiError` with the API's code and message (exit 1).
 */
import { type ClientConfig, loadClientConfig } from '../../config/client.ts';
import { ApiError } from '../../http/api-error.ts';

export { ApiError };


export interface Client {
  readonly config: ClientConfig;
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
}

export function client(config: ClientConfig = loadClientConfig(), needsToken = true): Client {
  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    if (needsToken && config.token === undefined) {
      throw new ApiError(0, 'UNAUTHENTICATED', 'DPQ_TOKEN is not set: export DPQ_TOKEN=<a bearer token or API key> (the demo: npx dpq demo token alice)', {});
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (config.token !== undefined) headers.authorization = `Bearer ${config.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${config.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch {
      throw new ApiError(0, 'UNAVAILABLE', `no dpq server answers at ${config.url} (start one with npm start, or set DPQ_URL)`, {});
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new ApiError(res.status, `HTTP_${res.status}`, `${config.url}${path} did not answer JSON (is DPQ_URL a dpq server?)`, {});
    }
    if (res.ok) return json as T;
    const e = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
    throw new ApiError(
      res.status,
      typeof e?.code === 'string' ? e.code : `HTTP_${res.status}`,
      typeof e?.message === 'string' ? e.message : `the server answered ${res.status}`,
      typeof e?.details === 'object' && e.details !== null ? (e.details as Record<string, unknown>) : {},
    );
  }
  return { config, get: (path) => call('GET', path), post: (path, body) => call('POST', path, body) };
}
