/**
 * The approver's page: the pending queue (requester, scope with pii columns highlighted,
 * justification, ticket, requested duration, approvals so far) with approve/deny and a comment;
 * and the active raw grants with the time left and revoke.
 */
import { get, post } from '../api.ts';
import { announce, field, fill, h, num, table, timeLeft, when } from '../dom.ts';
import { errorBox } from '../errors.ts';
import { Disposer, type Page } from '../page.ts';
import type { AccessRequest } from '../types.ts';

function scope(r: AccessRequest): HTMLElement {
  if (r.kind === 'budget') return h('span', {}, `more budget: ε ${num(r.epsilon)}, δ ${num(r.delta)}`);
  const cols = r.columns ?? [];
  if (cols.length === 0) return h('span', {}, 'rows, no sensitive column in clear');
  return h(
    'ul',
    { class: 'scope' },
    cols.map((c) => {
      const s = r.columnSensitivity?.[c] ?? 'none';
      return h('li', { class: s === 'pii' ? 'pii' : '' }, h('code', {}, c), s === 'none' ? null : h('span', { class: `badge ${s}` }, s));
    }),
  );
}

/** The requester's budget and recent raw access (counts only), when the service gives them. */
function requesterFacts(r: AccessRequest): HTMLElement[] {
  const c = r.requesterContext;
  if (c === undefined) return [];
  const raw = c.rawAccess;
  return [
    h('dt', {}, 'Requester budget'),
    h('dd', { class: 'requester-budget' }, c.budget === null ? '–' : `ε ${num(c.budget.epsilon.spent)} of ${num(c.budget.epsilon.limit)} spent, ${num(c.budget.epsilon.remaining)} left`),
    h('dt', {}, 'Raw access, 30 days'),
    h(
      'dd',
      { class: 'requester-history' },
      `${raw.grants} grant(s), ${raw.queries} quer${raw.queries === 1 ? 'y' : 'ies'}, ${raw.rows} row(s), ${raw.reveals} reveal(s), ${raw.denied} denied, ${raw.breakGlass} break-glass`,
    ),
  ];
}

export const approverPage: Page = (root, ctx) => {
  const life = new Disposer();
  const queue = h('div', { id: 'queue' }, h('p', { class: 'muted' }, 'Loading…'));
  const grants = h('div', { id: 'grants' });

  function card(r: AccessRequest): HTMLElement {
    const comment = h('textarea', { id: `comment-${r.id}`, rows: 2 });
    const status = h('div', { class: 'card-status' });
    const act = async (verb: 'approve' | 'deny'): Promise<void> => {
      // A denial needs a reason (the service answers 400 without one, and the requester sees it).
      const body = verb === 'approve' ? (comment.value.trim() === '' ? {} : { comment: comment.value.trim() }) : { reason: comment.value.trim() };
      try {
        const after = await post<AccessRequest>(`/v1/access-requests/${encodeURIComponent(r.id)}/${verb}`, body);
        const msg = `${r.id}: ${verb === 'approve' ? 'approved' : 'denied'} — now ${after.status} (${after.approvals.length}/${after.requiredApprovals} approvals).`;
        announce(msg);
        await load();
        queue.prepend(h('p', { class: 'ok', role: 'status' }, msg));
      } catch (err: unknown) {
        status.replaceChildren(errorBox(err));
      }
    };
    const own = r.requester === ctx.me;
    return h(
      'article',
      { class: `card ${r.sensitivity === 'pii' ? 'card-pii' : ''}`, 'data-request': r.id, 'aria-labelledby': `h-${r.id}` },
      h(
        'h3',
        { id: `h-${r.id}` },
        r.extends ? `${r.requester} asks to extend grant ${r.extends} on ${r.dataset}` : `${r.requester} asks for ${r.kind === 'raw' ? 'raw rows' : 'more budget'} on ${r.dataset}`,
        r.breakGlass ? h('span', { class: 'badge pii' }, 'break-glass') : null,
      ),
      h(
        'dl',
        {},
        h('dt', {}, 'Request'),
        h('dd', {}, h('code', {}, r.id)),
        h('dt', {}, 'Scope'),
        h('dd', {}, scope(r), r.kind === 'raw' ? h('span', { class: `badge ${r.sensitivity}` }, `request is ${r.sensitivity}`) : null),
        h('dt', {}, 'Justification'),
        h('dd', { class: 'justification' }, r.justification),
        h('dt', {}, 'Ticket'),
        h('dd', {}, r.ticket ?? '–'),
        h('dt', {}, 'Duration'),
        h('dd', {}, r.kind === 'raw' && r.durationMinutes !== null ? `${r.durationMinutes} min` : '–'),
        h('dt', {}, 'Approvals'),
        h('dd', {}, `${r.approvals.length} of ${r.requiredApprovals}`, r.approvals.length === 0 ? '' : ` (${r.approvals.map((a) => a.approver).join(', ')})`),
        h('dt', {}, 'Filed'),
        h('dd', {}, `${when(r.createdAt)}; decide within ${timeLeft(r.pendingUntil)}`),
        ...requesterFacts(r),
      ),
      own
        ? h('p', { class: 'muted' }, 'Your own request: someone else approves it.')
        : h(
            'div',
            { class: 'decide' },
            field('Comment or reason', comment),
            h('div', { class: 'row' }, h('button', { type: 'button', class: 'approve', onclick: () => void act('approve') }, 'Approve'), h('button', { type: 'button', class: 'danger', onclick: () => void act('deny') }, 'Deny')),
          ),
      status,
    );
  }

  async function revoke(r: AccessRequest, reason: HTMLInputElement, status: HTMLElement): Promise<void> {
    try {
      await post(`/v1/access-requests/${encodeURIComponent(r.id)}/revoke`, { reason: reason.value.trim() });
      announce(`${r.id} revoked.`);
      await load();
    } catch (err: unknown) {
      status.replaceChildren(errorBox(err));
    }
  }

  async function load(): Promise<void> {
    try {
      const pending = (await get<{ requests: AccessRequest[] }>('/v1/access-requests?status=pending')).requests;
      fill(queue, pending.length === 0 ? h('p', { class: 'muted' }, 'Nothing waits for a decision.') : pending.map(card));
      // A chat notification links here with the request's id: bring its card into view.
      const linked = new URLSearchParams(location.hash.split('?')[1] ?? '').get('request');
      if (linked !== null) queue.querySelector<HTMLElement>(`[data-request="${CSS.escape(linked)}"]`)?.scrollIntoView({ block: 'center' });
    } catch (err: unknown) {
      fill(queue, errorBox(err));
    }
    try {
      // An approved extension is no grant of its own: the grant it extended is listed.
      const active = (await get<{ requests: AccessRequest[] }>('/v1/access-requests?status=approved&kind=raw')).requests.filter((r) => !r.extends);
      const status = h('div', {});
      fill(
        grants,
        active.length === 0
          ? h('p', { class: 'muted' }, 'No active raw grant.')
          : table(
              'Active raw grants',
              ['Request', 'Requester', 'Scope', 'Expires', 'Time left', 'Usage', 'Revoke'],
              active.map((r) => {
                const reason = h('input', { type: 'text', id: `revoke-${r.id}`, 'aria-label': `Reason to revoke ${r.id}`, placeholder: 'reason (required)', required: true });
                return [
                  h('code', {}, r.id),
                  r.requester,
                  scope(r),
                  when(r.expiresAt),
                  h('span', { class: 'time-left', 'data-expires': r.expiresAt ?? '' }, timeLeft(r.expiresAt)),
                  r.usage === undefined ? '–' : `${r.usage.queries}/${r.usage.maxQueries} queries, ${r.usage.rows}/${r.usage.maxRows} rows`,
                  h('div', { class: 'row' }, reason, h('button', { type: 'button', class: 'danger', onclick: () => void revoke(r, reason, status) }, 'Revoke')),
                ];
              }),
              { id: 'grants-table' },
            ),
        status,
      );
    } catch (err: unknown) {
      fill(grants, errorBox(err));
    }
  }

  fill(
    root,
    h('h1', { tabindex: -1 }, 'Approver'),
    h('section', { 'aria-labelledby': 'queue-h' }, h('h2', { id: 'queue-h' }, 'Pending requests'), h('button', { type: 'button', class: 'secondary', onclick: () => void load() }, 'Refresh'), queue),
    h('section', { 'aria-labelledby': 'grants-h' }, h('h2', { id: 'grants-h' }, 'Active grants'), grants),
  );
  void load();
  // Keep the countdowns honest without refetching.
  life.interval(() => {
    for (const el of grants.querySelectorAll<HTMLElement>('.time-left')) el.textContent = timeLeft(el.dataset.expires);
  }, 30_000);
  return life.dispose;
};
