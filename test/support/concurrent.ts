/** Many POST /v1/queries at once, spread round-robin over several servers: each outcome as 'ok' or its error code. */
export async function concurrentQueries(urls: readonly string[], token: string, n: number, body: (i: number) => Record<string, unknown>): Promise<string[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      fetch(`${urls[i % urls.length]}/v1/queries`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body(i)),
      }).then(async (r) => {
        const parsed = (await r.json()) as { error?: { code: string } };
        return r.status === 200 ? 'ok' : (parsed.error?.code ?? String(r.status));
      }),
    ),
  );
}
