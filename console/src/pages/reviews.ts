/**
 * The auditors' review page: the access review of a period (GET /v1/access-reviews) — grants per
 * principal with their use and the unused ones, break-glass grants awaiting or past review,
 * budget top-ups, access rules never matched and roles never exercised — and the alerts raised
 * (GET /v1/alerts).
 */
import { get } from '../api.ts';
import { announce, field, fill, h, num, table, when } from '../dom.ts';
import { errorBox } from '../errors.ts';
import { Disposer, type Page } from '../page.ts';

interface Grant {
  readonly id: string;
  readonly dataset: string;
  readonly columns: readonly string[];
  readonly from: string | null;
  readonly until: string | null;
  readonly status: string;
  readonly breakGlass: boolean;
  readonly rowsRead: number;
  readonly queries: number;
  readonly reveals: number;
  readonly unused: boolean;
}
interface TopUp {
  readonly id: string;
  readonly dataset: string;
  readonly epsilon: number;
  readonly delta: number;
  readonly approvedAt: string | null;
  readonly approvedBy: string | null;
}
interface Review {
  readonly from: string;
  readonly to: string;
  readonly principals: readonly { readonly principal: string; readonly grants: readonly Grant[]; readonly topUps: readonly TopUp[] }[];
  readonly breakGlass: readonly { readonly id: string; readonly requester: string; readonly dataset: string; readonly reviewDueAt: string | null; readonly review: 'awaiting' | 'overdue' }[];
  readonly policy: {
    readonly rulesNeverMatched: readonly { readonly index: number; readonly match: Record<string, unknown>; readonly approverRole: string }[];
    readonly rolesNeverExercised: readonly string[];
    readonly notObservable: readonly string[];
  };
}
interface Alert {
  readonly id: string;
  readonly at: string;
  readonly rule: string;
  readonly principal: string;
  readonly dataset: string | null;
  readonly observed: number;
  readonly threshold: number;
}

const DAY = 86_400_000;
const dateValue = (d: Date): string => d.toISOString().slice(0, 10);

function reviewView(r: Review): HTMLElement[] {
  const grants = r.principals.flatMap((p) => p.grants.map((g) => ({ p: p.principal, g })));
  const topUps = r.principals.flatMap((p) => p.topUps.map((t) => ({ p: p.principal, t })));
  const unused = grants.filter((x) => x.g.unused).length;
  return [
    h('p', { id: 'review-summary' }, `${grants.length} grant(s) held, ${unused} never used; ${r.breakGlass.length} break-glass grant(s) not reviewed; ${topUps.length} top-up(s).`),
    grants.length === 0
      ? h('p', { class: 'muted' }, 'No raw grant was held in this period.')
      : table(
          'Raw grants held',
          ['Principal', 'Grant', 'Dataset', 'Columns in clear', 'From', 'Until', 'Queries', 'Rows read', 'Reveals', ''],
          grants.map(({ p, g }) => [p, h('code', {}, g.id), g.dataset, g.columns.join(', ') || '–', when(g.from), when(g.until), String(g.queries), String(g.rowsRead), String(g.reveals), g.unused ? h('span', { class: 'badge pii' }, 'unused') : g.breakGlass ? h('span', { class: 'badge pii' }, 'break-glass') : '']),
          { id: 'review-grants' },
        ),
    r.breakGlass.length === 0
      ? h('p', { class: 'muted' }, 'Every break-glass grant has been reviewed.')
      : table('Break-glass grants not reviewed', ['Grant', 'By', 'Dataset', 'Review due', ''], r.breakGlass.map((b) => [h('code', {}, b.id), b.requester, b.dataset, when(b.reviewDueAt), h('span', { class: b.review === 'overdue' ? 'badge pii' : 'badge' }, b.review)]), { id: 'review-break-glass' }),
    topUps.length === 0
      ? h('p', { class: 'muted' }, 'No budget top-up was granted.')
      : table('Budget top-ups granted', ['Principal', 'Request', 'Dataset', 'ε', 'δ', 'Approved by', 'At'], topUps.map(({ p, t }) => [p, h('code', {}, t.id), t.dataset, num(t.epsilon), num(t.delta), t.approvedBy ?? '–', when(t.approvedAt)]), { id: 'review-topups' }),
    h('h3', {}, 'Policy'),
    h(
      'ul',
      { id: 'review-policy' },
      h('li', {}, `Access rules never matched: ${r.policy.rulesNeverMatched.map((x) => `#${x.index} ${JSON.stringify(x.match)}`).join('; ') || 'none'}`),
      h('li', {}, `Roles never exercised: ${r.policy.rolesNeverExercised.join(', ') || 'none'}`),
      h('li', { class: 'muted' }, `Not visible in the audit log (audit, metrics): ${r.policy.notObservable.join(', ') || 'none'}`),
    ),
  ];
}

export const reviewsPage: Page = (root) => {
  const life = new Disposer();
  const now = new Date();
  const from = h('input', { type: 'date', id: 'review-from', value: dateValue(new Date(now.getTime() - 30 * DAY)) });
  const to = h('input', { type: 'date', id: 'review-to', value: dateValue(new Date(now.getTime() + DAY)) });
  const reviewBox = h('div', { id: 'review' }, h('p', { class: 'muted' }, 'Loading…'));
  const alertsBox = h('div', { id: 'alerts' }, h('p', { class: 'muted' }, 'Loading…'));

  async function loadReview(): Promise<void> {
    try {
      const r = await get<Review>(`/v1/access-reviews?from=${encodeURIComponent(from.value)}&to=${encodeURIComponent(to.value)}`);
      fill(reviewBox, reviewView(r));
      announce('Access review loaded.');
    } catch (err: unknown) {
      fill(reviewBox, errorBox(err));
    }
  }
  async function loadAlerts(): Promise<void> {
    try {
      const { alerts } = await get<{ alerts: Alert[] }>('/v1/alerts?limit=1000');
      fill(
        alertsBox,
        alerts.length === 0
          ? h('p', { class: 'muted' }, 'No alert has been raised.')
          : table('Alerts, newest first', ['Alert', 'At', 'Rule', 'Principal', 'Dataset', 'Observed', 'Threshold'], [...alerts].reverse().map((a) => [h('code', {}, a.id), when(a.at), a.rule, a.principal, a.dataset ?? '–', num(a.observed), num(a.threshold)]), { id: 'alerts-table' }),
      );
    } catch (err: unknown) {
      fill(alertsBox, errorBox(err));
    }
  }

  fill(
    root,
    h('h1', { tabindex: -1 }, 'Access review'),
    h('section', {}, h('div', { class: 'row' }, field('From', from), field('To', to), h('button', { type: 'button', id: 'review-load', onclick: () => void loadReview() }, 'Review')), reviewBox),
    h('section', {}, h('h2', {}, 'Alerts'), alertsBox),
  );
  void loadReview();
  void loadAlerts();
  return () => life.dispose();
};
