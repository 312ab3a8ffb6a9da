/**
 * The worker thread behind catalog.ts: an in-memory PGlite that holds nothing but the empty
 * tables the policy describes, answering catalog queries one at a time over the wire protocol.
 * It runs off the main thread so that no catalog query, however slow, can stall the service; the
 * main thread terminates it when a query overruns.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

export interface CatalogJob {
  readonly id: number;
  /** Simple-query text run first, inside the job's read-only transaction (role, search_path). */
  readonly preamble: string;
  /** Extended-protocol messages (Parse … Sync). */
  readonly messages: Uint8Array;
}

export interface CatalogAnswer {
  readonly id: number;
  readonly preamble: Uint8Array;
  readonly answer: Uint8Array;
}

const port = parentPort;
if (port === null) throw new Error('catalog-worker.ts runs as a worker thread');
const db = new PGlite();
await db.waitReady;
await db.exec(String((workerData as { ddl: string }).ddl));

const QUERY = 0x51;
function simpleQuery(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\u0000`, 'utf8');
  const out = Buffer.alloc(5 + text.length);
  out[0] = QUERY;
  out.writeUInt32BE(4 + text.length, 1);
  text.copy(out, 5);
  return out;
}

let chain: Promise<void> = Promise.resolve();
port.on('message', (job: CatalogJob) => {
  chain = chain.then(async () => {
    const preamble = await db.execProtocolRaw(simpleQuery(`BEGIN READ ONLY; ${job.preamble}`));
    const answer = await db.execProtocolRaw(job.messages);
    await db.execProtocolRaw(simpleQuery('ROLLBACK'));
    const reply: CatalogAnswer = { id: job.id, preamble, answer };
    port.postMessage(reply);
  });
});
port.postMessage('ready');
