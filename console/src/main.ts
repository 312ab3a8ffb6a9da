/**
 * The console's entry: a hash router over the four pages plus sign-in. Routes live in the hash
 * (`#/analyst`), never the credential.
 */
import './styles.css';
import { get, whenUnauthenticated } from './api.ts';
import { fill, h } from './dom.ts';
import type { Page } from './page.ts';
import { analystPage } from './pages/analyst.ts';
import { approverPage } from './pages/approver.ts';
import { auditorPage } from './pages/auditor.ts';
import { dashboardsPage } from './pages/dashboards.ts';
import { reviewsPage } from './pages/reviews.ts';
import { signInPage } from './pages/signin.ts';
import { credential, displayName, signOut } from './session.ts';
import type { Me } from './types.ts';

/** The pages, each shown to principals whose roles allow it (GET /v1/me; the server still decides every call). */
const PAGES: readonly { readonly hash: string; readonly title: string; readonly page: Page; readonly for: (me: Me) => boolean }[] = [
  { hash: '#/analyst', title: 'Analyst', page: analystPage, for: (me) => me.datasets.length > 0 || me.may.includes('request') },
  { hash: '#/approver', title: 'Approver', page: approverPage, for: (me) => me.may.includes('approve') || me.may.includes('admin') },
  { hash: '#/auditor', title: 'Auditor', page: auditorPage, for: (me) => me.may.includes('audit') },
  { hash: '#/dashboards', title: 'Dashboards', page: dashboardsPage, for: (me) => me.metrics.length > 0 },
  { hash: '#/reviews', title: 'Reviews', page: reviewsPage, for: (me) => me.may.includes('audit') },
];

/** The signed-in principal, fetched once per credential. */
let me: { credential: string; value: Promise<Me> } | undefined;
function whoAmI(c: string): Promise<Me> {
  if (me?.credential !== c) me = { credential: c, value: get<Me>('/v1/me') };
  return me.value;
}

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
const who = document.getElementById('who')!;
const signOutButton = document.getElementById('signout') as HTMLButtonElement;
let cleanup: () => void = () => undefined;
let pendingMessage: string | undefined;

function show(page: Page, title: string): void {
  cleanup();
  main.replaceChildren();
  document.title = `${title} — dpq console`;
  cleanup = page(main, { me: displayName() });
  // Move focus to the new page's heading so keyboard and screen-reader users land on it.
  main.querySelector<HTMLElement>('h1')?.focus();
}

function route(): void {
  void routeAsync();
}

async function routeAsync(): Promise<void> {
  const c = credential();
  const signedIn = c !== null;
  nav.hidden = !signedIn;
  signOutButton.hidden = !signedIn;
  who.textContent = signedIn ? `Signed in as ${displayName()}` : '';
  if (!signedIn) {
    const message = pendingMessage;
    pendingMessage = undefined;
    show(signInPage(message), 'Sign in');
    return;
  }
  let allowed = PAGES;
  try {
    const principal = await whoAmI(c);
    if (credential() !== c) return; // signed out or in as someone else meanwhile
    allowed = PAGES.filter((p) => p.for(principal));
    who.textContent = `Signed in as ${principal.principal} (${principal.roles.join(', ')})`;
  } catch {
    // 401 already went back to sign-in; on any other failure show every tab (the API still refuses)
    if (credential() === null) return;
  }
  fill(nav, h('ul', {}, allowed.map((p) => h('li', {}, h('a', { href: p.hash }, p.title)))));
  const target = allowed.find((p) => p.hash === location.hash.split('?')[0]) ?? allowed[0] ?? PAGES[0]!; // `#/approver?request=ar_…` (chat links)
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === target.hash) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  show(target.page, target.title);
}

signOutButton.addEventListener('click', () => {
  signOut();
  route();
});
whenUnauthenticated((message) => {
  pendingMessage = `Signed out: ${message}`;
  route();
});
window.addEventListener('hashchange', route);
route();
