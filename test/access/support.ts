/**
 * Helpers for the JIT access tests: a policy folder copied from `policies/` with edits (through
 * test/support/policy.ts, shared with the other suites), typed JSON calls, and a loopback webhook
 * receiver.
 */
import http from 'node:http';
import { expect } from 'chai';
import { loadPolicy } from '../../src/policy/load.ts';
import type { Policy } from '../../src/policy/schema.ts';
import { type PolicyEdit, policyDir, textEdits } from '../support/policy.ts';
import type { TestService } from '../support/service.ts';

/** A copy of the demo policy folder with textual edits `[file, from, to]`, loaded with `env`. */
export function testPolicy(edits: readonly PolicyEdit[], env: Record<string, string> = {}): { policy: Policy; dir: string } {
  const dir = policyDir(textEdits(edits));
  return { policy: loadPolicy(dir, env).policy, dir };
}

/** The edits most suites use: root is also an approver and an analyst, dave a third approver, diagnosis hashed. */
export const STANDARD_EDITS: readonly PolicyEdit[] = [
  ['people.yaml', 'root:  { roles: [admin] }', 'root:  { roles: [admin, approver, analyst] }\n  dave:  { roles: [approver] }\n  erin:  { roles: [approver] }'],
  ['clinic.yaml', 'diagnosis:  { type: text, sensitivity: quasi }', 'diagnosis:  { type: text, sensitivity: quasi, mask: hash }'],
];

export interface ApiError {
  readonly error: { readonly code: string; readonly message: string; readonly details?: Record<string, unknown> };
}

/** Response bodies, loosely typed: the assertions say what they must hold. */
export type Json = Record<string, any>;

export async function call(svc: TestService, method: string, route: string, principal: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await svc.request(method, route, { principal, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Json) };
}

/** Expect a status (and error code); returns the body. */
export async function expectCall(svc: TestService, method: string, route: string, principal: string, body: unknown, status: number, code?: string): Promise<Json> {
  const r = await call(svc, method, route, principal, body);
  if (r.status !== status) throw new Error(`${method} ${route} as ${principal}: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  if (code !== undefined) expect((r.body as ApiError).error.code).to.equal(code);
  return r.body;
}

export const JUSTIFICATION = 'INC-4411: duplicate invoices for one patient, need to find the rows';

export function rawBody(columns: readonly string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind: 'raw', dataset: 'clinic', columns, justification: JUSTIFICATION, ticket: 'INC-4411', durationMinutes: 60, ...extra };
}

export async function createRequest(svc: TestService, principal: string, body: Record<string, unknown>): Promise<Json> {
  return expectCall(svc, 'POST', '/v1/access-requests', principal, body, 201);
}

export async function approve(svc: TestService, id: string, approver: string, status = 200, code?: string): Promise<Json> {
  return expectCall(svc, 'POST', `/v1/access-requests/${id}/approve`, approver, { comment: 'looks fine' }, status, code);
}

/** An approved raw grant of `principal` on `columns` (pii needs two approvers). */
export async function grant(svc: TestService, principal: string, columns: readonly string[], extra: Record<string, unknown> = {}): Promise<Json> {
  let r = await createRequest(svc, principal, rawBody(columns, extra));
  for (const approver of ['bob', 'carol']) {
    if (r.status !== 'pending') break;
    r = await approve(svc, r.id as string, approver);
  }
  expect(r.status).to.equal('approved');
  return r;
}

export async function rawQuery(svc: TestService, principal: string, requestId: string, sql: string, status = 200, code?: string): Promise<Json> {
  return expectCall(svc, 'POST', '/v1/raw-queries', principal, { requestId, sql }, status, code);
}

export async function auditEntries(svc: TestService): Promise<Json[]> {
  const out: Json[] = [];
  let after = 0;
  for (;;) {
    const page = await expectCall(svc, 'GET', `/v1/audit?after=${after}&limit=1000`, 'carol', undefined, 200);
    out.push(...(page.entries as Json[]));
    if (page.next === null) return out;
    after = page.next as number;
  }
}

export interface Receiver {
  readonly url: string;
  readonly received: Json[];
  waitFor(predicate: (bodies: readonly Json[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 that records JSON bodies POSTed to it. */
export async function webhookReceiver(): Promise<Receiver> {
  const received: Json[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (d: Buffer) => (data += d.toString()));
    req.on('end', () => {
      try {
        received.push({ ...(JSON.parse(data) as Json), _contentType: req.headers['content-type'] });
      } catch {
        received.push({ _unparseable: data });
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}/hook`,
    received,
    async waitFor(predicate, timeoutMs = 10_000) {
      const start = Date.now();
      while (!predicate(received)) {
        if (Date.now() - start > timeoutMs) throw new Error(`webhook did not receive the expected events: ${JSON.stringify(received.map((r) => r.event))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port with nothing listening (a dead webhook). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
