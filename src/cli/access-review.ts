/**
 * `npx dpq access review [--from <ISO>] [--to <ISO>] [--json]`: the access review of a running
 * server (GET /v1/access-reviews, DPQ_URL and DPQ_TOKEN), printed for people or as JSON.
 */
import { loadClientConfig } from '../config/client.ts';

const USAGE = `usage: dpq access review [--from <ISO time>] [--to <ISO time>] [--json]
  the access review of the period (default: the last 30 days) from the server at DPQ_URL,
  as the principal of DPQ_TOKEN (an auditor or admin)
`;

type Json = Record<string, any>;

function options(args: readonly string[]): { from?: string; to?: string; json: boolean } {
  const out: { from?: string; to?: string; json: boolean } = { json: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') out.json = true;
    else if ((a === '--from' || a === '--to') && args[i + 1] !== undefined) out[a === '--from' ? 'from' : 'to'] = args[++i]!;
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return out;
}

const list = (xs: readonly string[]): string => (xs.length === 0 ? 'none' : xs.join(', '));

/** The review as text: what a reviewer reads top to bottom. */
export function formatReview(r: Json): string {
  const lines = [`Access review ${r.from} → ${r.to}`, '', 'Grants and top-ups per principal:'];
  if (r.principals.length === 0) lines.push('  none');
  for (const p of r.principals as Json[]) {
    lines.push(`  ${p.principal}`);
    for (const g of p.grants as Json[]) {
      const use = `${g.queries} quer${g.queries === 1 ? 'y' : 'ies'}, ${g.rowsRead} row(s), ${g.reveals} reveal(s)`;
      lines.push(`    grant ${g.id} ${g.dataset} [${(g.columns as string[]).join(', ') || 'no column in clear'}] ${g.from} → ${g.until} (${g.status}${g.breakGlass ? ', break-glass' : ''}): ${g.unused ? 'UNUSED' : use}`);
    }
    for (const t of p.topUps as Json[]) lines.push(`    top-up ${t.id} ${t.dataset}: ε ${t.epsilon}, δ ${t.delta}, approved by ${t.approvedBy} at ${t.approvedAt}`);
  }
  lines.push('', 'Break-glass grants not reviewed:');
  if (r.breakGlass.length === 0) lines.push('  none');
  for (const b of r.breakGlass as Json[]) lines.push(`  ${b.id} ${b.requester} on ${b.dataset}, review due ${b.reviewDueAt}: ${b.review.toUpperCase()}`);
  const rules = (r.policy.rulesNeverMatched as Json[]).map((x) => `#${x.index} ${JSON.stringify(x.match)}`);
  lines.push('', `Access rules never matched: ${list(rules)}`, `Roles never exercised: ${list(r.policy.rolesNeverExercised)}`);
  lines.push(`Roles whose use the audit log does not show (audit, metrics): ${list(r.policy.notObservable)}`);
  return `${lines.join('\n')}\n`;
}

export async function accessReviewCommand(args: string[]): Promise<number> {
  if (args.includes('--help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const o = options(args);
  const { url, token } = loadClientConfig();
  if (token === undefined) throw new Error('DPQ_TOKEN is not set (a bearer token of an auditor or admin)');
  const q = new URLSearchParams();
  if (o.from !== undefined) q.set('from', o.from);
  if (o.to !== undefined) q.set('to', o.to);
  let res: Response;
  try {
    res = await fetch(`${url}/v1/access-reviews${q.size > 0 ? `?${q}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
  } catch {
    throw new Error(`the server at ${url} cannot be reached (DPQ_URL)`);
  }
  const body = (await res.json()) as Json;
  if (!res.ok) {
    process.stderr.write(`dpq access review: ${body.error?.code ?? res.status}: ${body.error?.message ?? 'request failed'}\n`);
    return 1;
  }
  process.stdout.write(o.json ? `${JSON.stringify(body, null, 2)}\n` : formatReview(body));
  return 0;
}
