/**
 * The PostgreSQL frontend/backend protocol v3 on the wire: splitting the byte stream into
 * messages (with hard size limits, checked from the length word before anything is buffered),
 * decoding frontend messages and encoding backend ones.
 *
 * Field encoding and decoding use pg-protocol (node-postgres's protocol package): its `Writer`
 * builds every backend message with its length header, its `BufferReader` reads the fields. The
 * splitting is ours because it is where hostile input is refused: a length word below 4 or above
 * the limit ends the connection before a byte of the body is kept.
 */
import { BufferReader } from 'pg-protocol/dist/buffer-reader.js';
import { Writer } from 'pg-protocol/dist/buffer-writer.js';

/** PostgreSQL's own limit for a startup packet. */
export const MAX_STARTUP_BYTES = 10_000;
/** The largest message before authentication (the password message). */
export const MAX_AUTH_MESSAGE_BYTES = 16 * 1024;
/** The largest message after it (the SQL is at most 20,000 characters; parameters add some). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export const PROTOCOL_3 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** One message: `type` is 0 for the untyped startup-phase packets. */
export interface Frame {
  readonly type: number;
  readonly body: Buffer;
}

/** Splits bytes into frames; `typed` switches from startup packets to typed messages. */
export class Framer {
  #chunks: Buffer[] = [];
  #length = 0;
  typed = false;
  limit = MAX_STARTUP_BYTES;

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** The next complete frame, undefined when more bytes are needed; throws ProtocolError on a bad length. */
  next(): Frame | undefined {
    const header = this.typed ? 5 : 4;
    if (this.#length < header) return undefined;
    const head = this.#peek(header);
    const declared = head.readUInt32BE(this.typed ? 1 : 0);
    if (declared < 4 || declared > this.limit) throw new ProtocolError(declared < 4 ? 'invalid message length' : 'message too long');
    const total = declared + (this.typed ? 1 : 0);
    if (this.#length < total) return undefined;
    const all = this.#take(total);
    return { type: this.typed ? all[0]! : 0, body: all.subarray(header) };
  }

  #peek(n: number): Buffer {
    if (this.#chunks[0]!.length < n) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0]!.subarray(0, n);
  }

  #take(n: number): Buffer {
    const joined = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    const out = joined.subarray(0, n);
    const rest = joined.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#length = rest.length;
    return out;
  }
}

/** pg-protocol's reader with bounds: reading past the message is a ProtocolError, never garbage. */
export class Reader {
  readonly #reader = new BufferReader();
  readonly #body: Buffer;
  #offset = 0;

  constructor(body: Buffer) {
    this.#body = body;
    this.#reader.setBuffer(0, body);
  }

  #need(n: number): void {
    if (n < 0 || this.#offset + n > this.#body.length) throw new ProtocolError('message shorter than its fields');
    this.#offset += n;
  }

  byte(): number {
    this.#need(1);
    return this.#reader.byte();
  }

  int16(): number {
    this.#need(2);
    return this.#reader.int16();
  }

  int32(): number {
    this.#need(4);
    return this.#reader.int32();
  }

  cstring(): string {
    const end = this.#body.indexOf(0, this.#offset);
    if (end === -1) throw new ProtocolError('string without its terminator');
    this.#offset = end + 1;
    return this.#reader.cstring();
  }

  /** A length-prefixed value (-1 is NULL). */
  value(): Buffer | null {
    const n = this.int32();
    if (n === -1) return null;
    this.#need(n);
    return this.#reader.bytes(n);
  }

  get remaining(): number {
    return this.#body.length - this.#offset;
  }
}

export interface StartupPacket {
  readonly code: number;
  readonly parameters: Readonly<Record<string, string>>;
  /** For a CancelRequest. */
  readonly cancel?: { readonly pid: number; readonly secret: number };
}

export function decodeStartup(body: Buffer): StartupPacket {
  const r = new Reader(body);
  const code = r.int32();
  if (code === CANCEL_REQUEST) return { code, parameters: {}, cancel: { pid: r.int32(), secret: r.int32() } };
  const parameters: Record<string, string> = Object.create(null) as Record<string, string>;
  if (code >>> 16 === 3) {
    for (let name = r.cstring(); name !== ''; name = r.cstring()) parameters[name] = r.cstring();
  }
  return { code, parameters };
}

export interface ParseMessage {
  readonly name: string;
  readonly sql: string;
  readonly types: readonly number[];
}

export function decodeParse(body: Buffer): ParseMessage {
  const r = new Reader(body);
  const name = r.cstring();
  const sql = r.cstring();
  const n = r.int16();
  const types: number[] = [];
  for (let i = 0; i < n; i++) types.push(r.int32());
  return { name, sql, types };
}

export interface BindMessage {
  readonly portal: string;
  readonly statement: string;
  readonly paramFormats: readonly number[];
  readonly values: readonly (Buffer | null)[];
  readonly resultFormats: readonly number[];
}

export function decodeBind(body: Buffer): BindMessage {
  const r = new Reader(body);
  const portal = r.cstring();
  const statement = r.cstring();
  const paramFormats: number[] = [];
  for (let i = 0, n = r.int16(); i < n; i++) paramFormats.push(r.int16());
  const values: (Buffer | null)[] = [];
  for (let i = 0, n = r.int16(); i < n; i++) values.push(r.value());
  const resultFormats: number[] = [];
  for (let i = 0, n = r.int16(); i < n; i++) resultFormats.push(r.int16());
  return { portal, statement, paramFormats, values, resultFormats };
}

/** Describe and Close: `S`tatement or `P`ortal and its name. */
export function decodeTarget(body: Buffer): { readonly kind: 'S' | 'P'; readonly name: string } {
  const r = new Reader(body);
  const kind = String.fromCharCode(r.byte());
  if (kind !== 'S' && kind !== 'P') throw new ProtocolError('Describe or Close of neither a statement nor a portal');
  return { kind, name: r.cstring() };
}

export function decodeExecute(body: Buffer): { readonly portal: string; readonly maxRows: number } {
  const r = new Reader(body);
  return { portal: r.cstring(), maxRows: r.int32() };
}

/** A single C string body (Query, PasswordMessage). */
export function decodeCString(body: Buffer): string {
  return new Reader(body).cstring();
}

// ---- backend messages ----------------------------------------------------------------------

const code = (c: string): number => c.charCodeAt(0);

export interface ErrorFields {
  readonly severity: 'ERROR' | 'FATAL' | 'NOTICE';
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly position?: number;
}

function fields(kind: 'E' | 'N', f: ErrorFields): Buffer {
  const w = new Writer();
  const add = (k: string, v: string): void => void w.addString(k).addCString(v.replaceAll('\u0000', ''));
  add('S', f.severity);
  add('V', f.severity);
  add('C', f.code);
  add('M', f.message);
  if (f.detail !== undefined) add('D', f.detail);
  if (f.hint !== undefined) add('H', f.hint);
  if (f.position !== undefined) add('P', String(f.position));
  w.addCString('');
  return w.flush(code(kind));
}

export const backend = {
  authenticationOk: (): Buffer => new Writer().addInt32(0).flush(code('R')),
  authenticationCleartext: (): Buffer => new Writer().addInt32(3).flush(code('R')),
  parameterStatus: (name: string, value: string): Buffer => new Writer().addCString(name).addCString(value).flush(code('S')),
  backendKeyData: (pid: number, secret: number): Buffer => new Writer().addInt32(pid).addInt32(secret).flush(code('K')),
  readyForQuery: (status: 'I' | 'T' | 'E'): Buffer => new Writer().addString(status).flush(code('Z')),
  negotiateProtocolVersion: (minor: number, options: readonly string[]): Buffer => {
    const w = new Writer().addInt32(minor).addInt32(options.length);
    for (const o of options) w.addCString(o);
    return w.flush(code('v'));
  },
  error: (f: ErrorFields): Buffer => fields('E', f),
  notice: (f: ErrorFields): Buffer => fields('N', f),
  parseComplete: (): Buffer => new Writer().flush(code('1')),
  bindComplete: (): Buffer => new Writer().flush(code('2')),
  closeComplete: (): Buffer => new Writer().flush(code('3')),
  noData: (): Buffer => new Writer().flush(code('n')),
  emptyQuery: (): Buffer => new Writer().flush(code('I')),
  portalSuspended: (): Buffer => new Writer().flush(code('s')),
  commandComplete: (tag: string): Buffer => new Writer().addCString(tag).flush(code('C')),
  parameterDescription: (types: readonly number[]): Buffer => {
    const w = new Writer().addInt16(types.length);
    for (const t of types) w.addInt32(t);
    return w.flush(code('t'));
  },
  /** `formats[i]` 1 for a column sent in binary (default: all text). */
  rowDescription: (columns: readonly { readonly name: string; readonly oid: number }[], formats: readonly number[] = []): Buffer => {
    const w = new Writer().addInt16(columns.length);
    columns.forEach((c, i) => {
      w.addCString(c.name).addInt32(0).addInt16(0).addInt32(c.oid).addInt16(typeSize(c.oid)).addInt32(-1).addInt16(formats[i] ?? 0);
    });
    return w.flush(code('T'));
  },
  /** Values as text, or as the bytes `binary(i, text)` gives for a column sent in binary. */
  dataRow: (values: readonly (string | null)[], binary?: (column: number, text: string) => Buffer | undefined): Buffer => {
    const w = new Writer().addInt16(values.length);
    values.forEach((v, i) => {
      if (v === null) {
        w.addInt32(-1);
        return;
      }
      const bytes = binary?.(i, v) ?? Buffer.from(v, 'utf8');
      w.addInt32(bytes.length).add(bytes);
    });
    return w.flush(code('D'));
  },
  sslNo: (): Buffer => Buffer.from('N'),
  sslYes: (): Buffer => Buffer.from('S'),
} as const;

/** The fixed size of a type's values (-1: variable), as RowDescription reports it. */
function typeSize(oid: number): number {
  switch (oid) {
    case 16:
      return 1;
    case 21:
      return 2;
    case 23:
    case 26:
    case 700:
    case 1082:
      return 4;
    case 20:
    case 701:
    case 1114:
    case 1184:
      return 8;
    default:
      return -1;
  }
}
