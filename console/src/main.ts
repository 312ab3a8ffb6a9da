/**
 * The console's entry: a hash router over the four pages plus sign-in. Routes live in the hash
 * (`#/analyst`), never the credential.
 */
import './styles.css';
import { whenUnauthenticated } from './api.ts';
import { fill, h } from './dom.ts';
import type { Page } from './page.ts';
import { analystPage } from './pages/analyst.ts';
import { approverPage } from './pages/approver.ts';
import { auditorPage } from './pages/auditor.ts';
import { dashboardsPage } from './pages/dashboards.ts';
import { reviewsPage } from './pages/reviews.ts';
import { signInPage } from './pages/signin.ts';
import { credential, displayName, signOut } from './session.ts';

const PAGES: readonly { readonly hash: string; readonly title: string; readonly page: Page }[] = [
  { hash: '#/analyst', title: 'Analyst', page: analystPage },
  { hash: '#/approver', title: 'Approver', page: approverPage },
  { hash: '#/auditor', title: 'Auditor', page: auditorPage },
  { hash: '#/dashboards', title: 'Dashboards', page: dashboardsPage },
  { hash: '#/reviews', title: 'Reviews', page: reviewsPage },
];

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
  const signedIn = credential() !== null;
  nav.hidden = !signedIn;
  signOutButton.hidden = !signedIn;
  who.textContent = signedIn ? `Signed in as ${displayName()}` : '';
  if (!signedIn) {
    const message = pendingMessage;
    pendingMessage = undefined;
    show(signInPage(message), 'Sign in');
    return;
  }
  const target = PAGES.find((p) => p.hash === location.hash.split('?')[0]) ?? PAGES[0]!; // `#/approver?request=ar_…` (chat links)
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === target.hash) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  show(target.page, target.title);
}

fill(nav, h('ul', {}, PAGES.map((p) => h('li', {}, h('a', { href: p.hash }, p.title)))));
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
