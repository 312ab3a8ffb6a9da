/**
 * Budget periods. `renew: never` has one period (''); calendar renewal starts a new account each
 * UTC day, ISO week or month, which weakens the guarantee to "ε per period" (policy check warns).
 */
export type Renew = 'never' | 'daily' | 'weekly' | 'monthly';

export interface Period {
  /** The account key: '', '2026-11-23', '2026-W48' or '2026-11'. */
  readonly key: string;
  /** When the next period starts (null for never). */
  readonly renews: Date | null;
}

const pad = (n: number): string => String(n).padStart(2, '0');

export function periodOf(renew: Renew, at: Date): Period {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const d = at.getUTCDate();
  switch (renew) {
    case 'never':
      return { key: '', renews: null };
    case 'daily':
      return { key: `${y}-${pad(m + 1)}-${pad(d)}`, renews: new Date(Date.UTC(y, m, d + 1)) };
    case 'monthly':
      return { key: `${y}-${pad(m + 1)}`, renews: new Date(Date.UTC(y, m + 1, 1)) };
    case 'weekly': {
      // ISO 8601 week: weeks start on Monday; week 1 holds the year's first Thursday.
      const day = (at.getUTCDay() + 6) % 7; // Monday = 0
      const monday = Date.UTC(y, m, d - day);
      const thursday = new Date(monday + 3 * 86_400_000);
      const isoYear = thursday.getUTCFullYear();
      const week = Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / (7 * 86_400_000)) + 1;
      return { key: `${isoYear}-W${pad(week)}`, renews: new Date(monday + 7 * 86_400_000) };
    }
  }
}
