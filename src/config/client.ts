/** The CLI as a client of a running server: `DPQ_URL` (default http://127.0.0.1:8080) and `DPQ_TOKEN`. */
export interface ClientConfig {
  readonly url: string;
  readonly token: string | undefined;
}

export function loadClientConfig(source: Readonly<Record<string, string | undefined>> = process.env): ClientConfig {
  const url = (source.DPQ_URL?.trim() || 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const token = source.DPQ_TOKEN?.trim() || undefined;
  return { url, token };
}
