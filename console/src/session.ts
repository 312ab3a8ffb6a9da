/**
 * The credential: a bearer token or API key kept in sessionStorage only — never in a URL, a cookie
 * or localStorage — so it dies with the tab and is sent by this page's own fetches alone.
 */
const KEY = 'dpq.credential';

export function credential(): string | null {
  return sessionStorage.getItem(KEY);
}

export function signIn(value: string): void {
  sessionStorage.setItem(KEY, value.trim());
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}

/**
 * Who the credential says it is, for display only: a JWT's `sub`, or "API key". The server decides
 * what the caller may do from the policy; nothing here is trusted.
 */
export function displayName(): string {
  const c = credential();
  if (c === null) return '';
  const parts = c.split('.');
  if (parts.length !== 3) return 'API key';
  try {
    const json = atob(parts[1]!.replace(/-/g, '+').replace(/_/g, '/'));
    const sub = (JSON.parse(json) as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub : 'token';
  } catch {
    return 'token';
  }
}
