/**
 * The CLI client's configuration (api.md, CLI): the server's address and the bearer credential.
 * Read here because only src/config/ reads process.env.
 */
export interface ClientConfig {
  /** `DPQ_URL`, default `http://127.0.0.1:8080`, without a trailing slash. */
  readonly url: string;
  /** `DPQ_TOKEN`: a bearer JWT or API key. */
  readonly token: string | undefined;
}

export function loadClientConfig(source: Readonly<Record<string, string | undefined>> = process.env): ClientConfig {
  const url = (source.DPQ_URL ?? '').trim() || 'http://127.0.0.1:8080';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`DPQ_URL: "${url}" is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('DPQ_URL: must be an http:// or https:// URL');
  const token = (source.DPQ_TOKEN ?? '').trim();
  return { url: url.replace(/\/+$/, ''), token: token === '' ? undefined : token };
}
