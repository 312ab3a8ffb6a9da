/**
 * Context conditions (policy.md `conditions`, and the `rawOutside` alert): address ranges (CIDR,
 * IPv4 and IPv6) and weekly hours in an IANA time zone. Parsed once at policy load, checked at
 * every use of a grant.
 *
 * Hours: `from` and `to` are local `HH:MM` times in `timeZone`, `from` inclusive, `to` exclusive
 * (`to` may be `24:00`); `days` are the local days on which the window starts (default: every
 * day). A window that runs past midnight (`from: "22:00", to: "06:00"`) must say `overnight: true`;
 * without it `from` after `to` is a policy error, since it is far more often a typo than a night
 * shift.
 */
import net from 'node:net';
import { z } from 'zod';

export const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Day = (typeof DAYS)[number];

/** An address range: the version, the network's bytes and the prefix length. */
export interface Cidr {
  readonly text: string;
  readonly family: 4 | 6;
  /** Plain numbers, not a Buffer: the loaded policy is deeply frozen. */
  readonly bytes: readonly number[];
  readonly prefix: number;
}

function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

function ipv6Bytes(text: string): number[] {
  let t = text;
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (v4 !== null) {
    const b = ipv4Bytes(v4[1]!);
    t = `${t.slice(0, v4.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = t.includes('::') ? t.split('::') : [t, undefined];
  const hs = head === '' ? [] : head!.split(':');
  const ts = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? hs : [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
  return groups.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 0xff];
  });
}

/** An address as (family, bytes); an IPv4-mapped IPv6 address (`::ffff:127.0.0.2`) is IPv4. */
export function parseAddress(text: string): { family: 4 | 6; bytes: readonly number[] } | undefined {
  const t = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (net.isIPv4(t)) return { family: 4, bytes: ipv4Bytes(t) };
  if (!net.isIPv6(t)) return undefined;
  const bytes = ipv6Bytes(t);
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? { family: 4, bytes: bytes.slice(12) } : { family: 6, bytes };
}

/** `10.0.0.0/8`, `::1/128`, or a single address (a /32 or /128); undefined when it does not parse. */
export function parseCidr(text: string): Cidr | undefined {
  const [addr, len, extra] = text.trim().split('/');
  if (addr === undefined || extra !== undefined) return undefined;
  const t = addr.trim();
  const family = net.isIPv4(t) ? 4 : net.isIPv6(t) ? 6 : undefined;
  if (family === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  if (len !== undefined && !/^\d{1,3}$/.test(len)) return undefined;
  const prefix = len === undefined ? max : Number(len);
  if (prefix > max) return undefined;
  return { text: text.trim(), family, bytes: family === 4 ? ipv4Bytes(t) : ipv6Bytes(t), prefix };
}

export function inCidr(address: { family: 4 | 6; bytes: readonly number[] }, range: Cidr): boolean {
  if (address.family !== range.family) return false;
  let bits = range.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((address.bytes[i]! & mask) !== (range.bytes[i]! & mask)) return false;
  }
  return true;
}

/** The address is in one of the ranges (an address that does not parse is in none). */
export function addressAllowed(address: string | undefined, ranges: readonly Cidr[]): boolean {
  const a = address === undefined ? undefined : parseAddress(address);
  return a !== undefined && ranges.some((r) => inCidr(a, r));
}

export const cidrSchema = z.string().transform((text, ctx) => {
  const c = parseCidr(text);
  if (c === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not an address range like 10.0.0.0/8 or ::1/128` });
    return z.NEVER;
  }
  return c;
});

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be a time HH:MM (00:00 to 24:00)');
const minutesOf = (t: string): number => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const hoursSchema = z
  .strictObject({
    days: z.array(z.enum(DAYS)).min(1).default([...DAYS]),
    from: clockTime,
    to: clockTime,
    timeZone: z.string().superRefine((tz, ctx) => {
      if (!validTimeZone(tz)) ctx.addIssue({ code: 'custom', message: `"${tz}" is not an IANA time zone like Europe/Zurich` });
    }),
    overnight: z.boolean().default(false),
  })
  .superRefine((h, ctx) => {
    const from = minutesOf(h.from);
    const to = minutesOf(h.to);
    if (h.from === '24:00') ctx.addIssue({ code: 'custom', path: ['from'], message: 'a window cannot start at 24:00' });
    else if (!h.overnight && from >= to) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `from ${h.from} is not before to ${h.to}; a window past midnight needs overnight: true` });
    } else if (h.overnight && from <= to) {
      ctx.addIssue({ code: 'custom', path: ['overnight'], message: `from ${h.from} is before to ${h.to}: the window does not run past midnight` });
    }
  })
  .transform((h) => ({ ...h, fromMinutes: minutesOf(h.from), toMinutes: minutesOf(h.to) }));

export type Hours = z.infer<typeof hoursSchema>;

export const conditionsSchema = z.strictObject({
  sourceIps: z.array(cidrSchema).min(1).optional(),
  hours: hoursSchema.optional(),
});
export type Conditions = z.infer<typeof conditionsSchema>;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The local day and minute of the day of `at` in `timeZone`. */
export function localTime(at: Date, timeZone: string): { day: Day; minutes: number } {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(at).map((p) => [p.type, p.value]));
  const day = String(parts.weekday).toLowerCase().slice(0, 3) as Day;
  return { day, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

/** `at` falls inside the weekly window. */
export function withinHours(h: Hours, at: Date): boolean {
  const { day, minutes } = localTime(at, h.timeZone);
  if (!h.overnight) return h.days.includes(day) && minutes >= h.fromMinutes && minutes < h.toMinutes;
  const yesterday = DAYS[(DAYS.indexOf(day) + 6) % 7]!;
  return (h.days.includes(day) && minutes >= h.fromMinutes) || (h.days.includes(yesterday) && minutes < h.toMinutes);
}

/** Which condition refuses a use at `at` from `address`, or undefined when all hold. */
export function failedCondition(c: Conditions | undefined, address: string | undefined, at: Date): 'sourceIps' | 'hours' | undefined {
  if (c === undefined) return undefined;
  if (c.sourceIps !== undefined && !addressAllowed(address, c.sourceIps)) return 'sourceIps';
  if (c.hours !== undefined && !withinHours(c.hours, at)) return 'hours';
  return undefined;
}

/** The hours as policy.md writes them (for messages and reviews). */
export function describeHours(h: Hours): string {
  return `${h.days.join(',')} ${h.from}–${h.to}${h.overnight ? ' (overnight)' : ''} ${h.timeZone}`;
}
