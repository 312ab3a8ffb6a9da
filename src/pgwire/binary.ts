/**
 * Binary result format for the types drivers ask it for (JDBC does once a statement is prepared
 * server-side): values are kept as PostgreSQL's text output and encoded here on the way out.
 */
const PG_EPOCH_DAYS = 10_957; // 2000-01-01 in days since 1970-01-01

function int(bytes: number, write: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(bytes);
  write(b);
  return b;
}

/** `-12.340` → PostgreSQL's numeric binary form (base-10000 digits, weight, sign, scale). */
export function numericBinary(text: string): Buffer {
  const t = text.trim();
  if (/^nan$/i.test(t)) return int(8, (b) => b.writeUInt16BE(0xc000, 4));
  const plain = /e/i.test(t) ? Number(t).toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 }) : t;
  const negative = plain.startsWith('-');
  const [whole = '0', frac = ''] = plain.replace(/^[+-]/, '').split('.');
  const intPart = whole.replace(/^0+/, '');
  const groups: number[] = [];
  const padded = intPart.padStart(Math.ceil(intPart.length / 4) * 4, '0');
  for (let i = 0; i < padded.length; i += 4) groups.push(Number(padded.slice(i, i + 4)));
  let weight = groups.length - 1;
  const fracPadded = frac.padEnd(Math.ceil(frac.length / 4) * 4, '0');
  for (let i = 0; i < fracPadded.length; i += 4) groups.push(Number(fracPadded.slice(i, i + 4)));
  while (groups.length > 0 && groups[0] === 0) {
    groups.shift();
    weight--;
  }
  while (groups.length > 0 && groups[groups.length - 1] === 0) groups.pop();
  if (groups.length === 0) weight = 0;
  const b = Buffer.alloc(8 + 2 * groups.length);
  b.writeInt16BE(groups.length, 0);
  b.writeInt16BE(weight, 2);
  b.writeUInt16BE(negative && groups.length > 0 ? 0x4000 : 0, 4);
  b.writeInt16BE(frac.length, 6);
  groups.forEach((g, i) => b.writeUInt16BE(g, 8 + 2 * i));
  return b;
}

function float(text: string): number {
  return text === 'Infinity' ? Infinity : text === '-Infinity' ? -Infinity : Number(text);
}

/** Microseconds since 2000-01-01 of a `YYYY-MM-DD HH:MM:SS[.ffffff][+zz]` text (UTC when no zone). */
function timestampMicros(text: string): bigint {
  const iso = text.includes('T') ? text : text.replace(' ', 'T');
  const m = /^(.*?)(\.\d+)?(Z|[+-]\d\d(?::?\d\d)?)?$/.exec(iso)!;
  const zone = m[3] === undefined ? 'Z' : m[3].length === 3 ? `${m[3]}:00` : m[3];
  const ms = Date.parse(`${m[1]}${zone}`);
  const fraction = BigInt(Math.round(Number(`0${m[2] ?? ''}`) * 1e6));
  return (BigInt(ms) - BigInt(PG_EPOCH_DAYS) * 86_400_000n) * 1000n + fraction;
}

const ENCODERS: Readonly<Record<number, (text: string) => Buffer>> = {
  16: (t) => Buffer.from([t === 't' || t === 'true' ? 1 : 0]),
  20: (t) => int(8, (b) => b.writeBigInt64BE(BigInt(t))),
  21: (t) => int(2, (b) => b.writeInt16BE(Number(t))),
  23: (t) => int(4, (b) => b.writeInt32BE(Number(t))),
  26: (t) => int(4, (b) => b.writeUInt32BE(Number(t))),
  700: (t) => int(4, (b) => b.writeFloatBE(float(t))),
  701: (t) => int(8, (b) => b.writeDoubleBE(float(t))),
  18: (t) => Buffer.from(t, 'utf8'),
  19: (t) => Buffer.from(t, 'utf8'),
  25: (t) => Buffer.from(t, 'utf8'),
  1042: (t) => Buffer.from(t, 'utf8'),
  1043: (t) => Buffer.from(t, 'utf8'),
  1082: (t) => int(4, (b) => b.writeInt32BE(Math.round(Date.parse(`${t}T00:00:00Z`) / 86_400_000) - PG_EPOCH_DAYS)),
  1114: (t) => int(8, (b) => b.writeBigInt64BE(timestampMicros(t))),
  1184: (t) => int(8, (b) => b.writeBigInt64BE(timestampMicros(t))),
  1700: numericBinary,
};

export const canEncodeBinary = (oid: number): boolean => Object.hasOwn(ENCODERS, oid);

/** A text value in binary format (callers check canEncodeBinary first). */
export function encodeBinary(oid: number, text: string): Buffer {
  return ENCODERS[oid]!(text);
}
