/** HTTP calls made from a chosen loopback source address (127.0.0.0/8 all reaches a server on 127.0.0.1). */
import http from 'node:http';

export interface Reply {
  readonly status: number;
  readonly body: Record<string, any>;
}

export function fromAddress(localAddress: string, url: string, method: string, token: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const u = new URL(url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method,
        localAddress,
        agent: false,
        headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : (JSON.parse(text) as Record<string, any>) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
