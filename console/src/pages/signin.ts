/**
 * Sign-in: paste a bearer token or an API key (kept in sessionStorage only). In the embedded demo,
 * `GET /demo/tokens` answers and a one-click picker of the demo principals appears; elsewhere that
 * route is absent and only the paste form shows.
 */
import { get } from '../api.ts';
import { field, fill, h } from '../dom.ts';
import { errorBox } from '../errors.ts';
import type { Page } from '../page.ts';
import { signIn, signOut } from '../session.ts';

interface DemoPrincipal {
  readonly name: string;
  readonly roles: readonly string[];
  readonly token: string;
}

/** Where a principal starts: the analyst page if it may query, dashboards if it reads metrics, else the approver page. */
export async function landingFor(): Promise<string> {
  const { datasets } = await get<{ datasets: unknown[] }>('/v1/datasets');
  if (datasets.length > 0) return '#/analyst';
  const { metrics } = await get<{ metrics: unknown[] }>('/v1/metrics');
  return metrics.length > 0 ? '#/dashboards' : '#/approver';
}

export function signInPage(message?: string): Page {
  return (root) => {
    const status = h('div', { id: 'signin-status' }, message === undefined ? null : h('p', { class: 'warn', role: 'alert' }, message));
    const credential = h('input', { id: 'credential', type: 'password', autocomplete: 'off', spellcheck: false, required: true });
    const enter = async (value: string): Promise<void> => {
      signIn(value);
      try {
        const target = await landingFor();
        // Same hash: no hashchange event would fire, so ask the router to render it.
        if (location.hash === target) window.dispatchEvent(new HashChangeEvent('hashchange'));
        else location.hash = target;
      } catch (err: unknown) {
        signOut();
        status.replaceChildren(errorBox(err));
      }
    };
    const form = h(
      'form',
      { id: 'signin-form', 'aria-labelledby': 'signin-h' },
      field('Bearer token or API key', credential, 'Kept in this tab only (sessionStorage), sent as Authorization: Bearer.'),
      h('button', { type: 'submit', id: 'signin' }, 'Sign in'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (credential.value.trim() !== '') void enter(credential.value);
    });
    const demo = h('div', { id: 'demo' });
    fill(root, h('h1', { id: 'signin-h', tabindex: -1 }, 'Sign in to dpq'), form, status, demo);

    void fetch('/demo/tokens', { cache: 'no-store' })
      .then(async (res) => (res.ok ? ((await res.json()) as { principals: DemoPrincipal[] }).principals : []))
      .catch(() => [] as DemoPrincipal[])
      .then((principals) => {
        if (principals.length === 0) return;
        fill(
          demo,
          h('h2', {}, 'Demo principals'),
          h('p', { class: 'muted' }, 'Embedded demo mode: tokens signed with this start’s random secret (also printed by npm start).'),
          h('ul', { class: 'picker' }, principals.map((p) => h('li', {}, h('button', { type: 'button', class: 'secondary', onclick: () => void enter(p.token) }, `${p.name}`, h('span', { class: 'muted' }, ` (${p.roles.join(', ')})`))))),
        );
      });
    return () => undefined;
  };
}
