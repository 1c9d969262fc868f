// A JSON reader for bpftrace's `-f json` lines, exact where JSON.parse is not:
// - integers keep every digit: a safe integer becomes a number, a larger one its decimal string;
// - strings are byte strings: bpftrace escapes each byte of a C string on its own (0.17 prints a byte
//   ≥ 0x80 as `\uffffffXX`, a sign-extended char), so a `\u` escape below 0x100 (or of the form
//   `\uffffffXX`) is one byte, and the bytes are then decoded as UTF-8;
// - objects keep their keys as an ordered list of entries (keys are untrusted strings).
// Bytes that are not valid UTF-8 become U+DC80..U+DCFF ("surrogateescape", as in Python), so the
// original bytes can always be recovered: see `stringToBytes`.

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

export class JsonObject {
  constructor(readonly entries: ReadonlyArray<readonly [string, JsonValue]>) {}

  get(key: string): JsonValue | undefined {
    for (const [k, v] of this.entries) if (k === key) return v;
    return undefined;
  }
}

export class JsonSyntaxError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
  }
}

const enum Byte {
  Quote = 0x22,
  Backslash = 0x5c,
  Comma = 0x2c,
  Colon = 0x3a,
  OpenBrace = 0x7b,
  CloseBrace = 0x7d,
  OpenBracket = 0x5b,
  CloseBracket = 0x5d,
  Minus = 0x2d,
}

export function parseBpftraceJson(line: Uint8Array | string): JsonValue {
  const bytes = typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
  const reader = new Reader(bytes);
  reader.skipSpace();
  const value = reader.value(0);
  reader.skipSpace();
  if (reader.pos !== bytes.length) throw new JsonSyntaxError('unexpected text after the value', reader.pos);
  return value;
}

const MAX_DEPTH = 32;

class Reader {
  pos = 0;
  private readonly buf: Buffer;
  constructor(private readonly b: Uint8Array) {
    this.buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  }

  skipSpace(): void {
    const b = this.b;
    while (this.pos < b.length) {
      const c = b[this.pos];
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) throw new JsonSyntaxError('nested too deeply', this.pos);
    const c = this.b[this.pos];
    if (c === Byte.Quote) return this.string();
    if (c === Byte.OpenBrace) return this.object(depth);
    if (c === Byte.OpenBracket) return this.array(depth);
    if (c === Byte.Minus || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.literal('true')) return true;
    if (this.literal('false')) return false;
    if (this.literal('null')) return null;
    throw new JsonSyntaxError(c === undefined ? 'unexpected end of line' : 'unexpected character', this.pos);
  }

  private literal(word: string): boolean {
    for (let i = 0; i < word.length; i++) if (this.b[this.pos + i] !== word.charCodeAt(i)) return false;
    this.pos += word.length;
    return true;
  }

  private expect(byte: number): void {
    if (this.b[this.pos] !== byte) throw new JsonSyntaxError(`expected '${String.fromCharCode(byte)}'`, this.pos);
    this.pos++;
  }

  private object(depth: number): JsonObject {
    this.pos++;
    const entries: Array<[string, JsonValue]> = [];
    this.skipSpace();
    if (this.b[this.pos] === Byte.CloseBrace) {
      this.pos++;
      return new JsonObject(entries);
    }
    for (;;) {
      this.skipSpace();
      if (this.b[this.pos] !== Byte.Quote) throw new JsonSyntaxError('expected a key', this.pos);
      const key = this.string();
      this.skipSpace();
      this.expect(Byte.Colon);
      this.skipSpace();
      entries.push([key, this.value(depth + 1)]);
      this.skipSpace();
      if (this.b[this.pos] === Byte.Comma) {
        this.pos++;
        continue;
      }
      this.expect(Byte.CloseBrace);
      return new JsonObject(entries);
    }
  }

  private array(depth: number): JsonValue[] {
    this.pos++;
    const items: JsonValue[] = [];
    this.skipSpace();
    if (this.b[this.pos] === Byte.CloseBracket) {
      this.pos++;
      return items;
    }
    for (;;) {
      this.skipSpace();
      items.push(this.value(depth + 1));
      this.skipSpace();
      if (this.b[this.pos] === Byte.Comma) {
        this.pos++;
        continue;
      }
      this.expect(Byte.CloseBracket);
      return items;
    }
  }

  private number(): number | string {
    const start = this.pos;
    const b = this.b;
    const small = this.smallInteger();
    if (small !== null) return small;
    if (b[this.pos] === Byte.Minus) this.pos++;
    let isInteger = true;
    while (this.pos < b.length) {
      const c = b[this.pos];
      if (c >= 0x30 && c <= 0x39) this.pos++;
      else if (c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === Byte.Minus) {
        isInteger = false;
        this.pos++;
      } else break;
    }
    const text = this.buf.toString('latin1', start, this.pos);
    if (!/^-?\d/.test(text)) throw new JsonSyntaxError('malformed number', start);
    if (!isInteger) {
      const n = Number(text);
      if (!Number.isFinite(n)) throw new JsonSyntaxError('malformed number', start);
      return n;
    }
    return int64FromDecimal(text);
  }

  /** An integer of at most 15 digits (always exact as a number) without a leading zero, else null. */
  private smallInteger(): number | null {
    const b = this.b;
    let p = this.pos;
    const negative = b[p] === Byte.Minus;
    if (negative) p++;
    const digitsStart = p;
    let value = 0;
    while (p - digitsStart < 15) {
      const c = b[p];
      if (c < 0x30 || c > 0x39) break;
      value = value * 10 + (c - 0x30);
      p++;
    }
    const next = b[p];
    const continues = (next >= 0x30 && next <= 0x39) || next === 0x2e || next === 0x65 || next === 0x45 || next === 0x2b || next === Byte.Minus;
    if (continues || p === digitsStart || (b[digitsStart] === 0x30 && p - digitsStart > 1)) return null;
    this.pos = p;
    return negative ? -value : value;
  }

  private string(): string {
    this.pos++;
    const b = this.b;
    const start = this.pos;
    // Fast path: plain ASCII without escapes.
    while (this.pos < b.length) {
      const c = b[this.pos];
      if (c === Byte.Quote) {
        const s = this.buf.toString('latin1', start, this.pos);
        this.pos++;
        return s;
      }
      if (c === Byte.Backslash || c >= 0x80) break;
      this.pos++;
    }
    const out: number[] = [];
    for (let i = start; i < this.pos; i++) out.push(b[i]);
    while (this.pos < b.length) {
      const c = b[this.pos];
      if (c === Byte.Quote) {
        this.pos++;
        return bytesToString(out);
      }
      if (c !== Byte.Backslash) {
        out.push(c);
        this.pos++;
        continue;
      }
      const e = b[this.pos + 1];
      this.pos += 2;
      switch (e) {
        case 0x22: out.push(0x22); break;
        case 0x5c: out.push(0x5c); break;
        case 0x2f: out.push(0x2f); break;
        case 0x62: out.push(0x08); break;
        case 0x66: out.push(0x0c); break;
        case 0x6e: out.push(0x0a); break;
        case 0x72: out.push(0x0d); break;
        case 0x74: out.push(0x09); break;
        case 0x75: this.unicodeEscape(out); break;
        default: throw new JsonSyntaxError('bad escape', this.pos - 2);
      }
    }
    throw new JsonSyntaxError('unterminated string', start - 1);
  }

  private unicodeEscape(out: number[]): void {
    const hex = (n: number): string => Buffer.from(this.b.subarray(this.pos, this.pos + n)).toString('latin1');
    const long = hex(8);
    if (/^ffffff[0-9a-fA-F]{2}$/i.test(long)) {
      out.push(parseInt(long.slice(6), 16));
      this.pos += 8;
      return;
    }
    const short = hex(4);
    if (!/^[0-9a-fA-F]{4}$/.test(short)) throw new JsonSyntaxError('bad \\u escape', this.pos - 2);
    this.pos += 4;
    let code = parseInt(short, 16);
    if (code < 0x100) {
      out.push(code);
      return;
    }
    if (code >= 0xd800 && code < 0xdc00 && this.b[this.pos] === Byte.Backslash && this.b[this.pos + 1] === 0x75) {
      const low = parseInt(Buffer.from(this.b.subarray(this.pos + 2, this.pos + 6)).toString('latin1'), 16);
      if (low >= 0xdc00 && low < 0xe000) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        this.pos += 6;
      }
    }
    out.push(...Buffer.from(String.fromCodePoint(code), 'utf8'));
  }
}

/** A decimal integer as a number when it is a safe integer, otherwise as its (normalized) decimal string. */
export function int64FromDecimal(text: string): number | string {
  if (text.length <= 15) return Number(text);
  const n = Number(text);
  if (Number.isSafeInteger(n)) return n;
  return BigInt(text).toString();
}

/** UTF-8 decoding that keeps invalid bytes as U+DC80..U+DCFF (reversible with `stringToBytes`). */
export function bytesToString(bytes: ArrayLike<number>): string {
  let s = '';
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const c = bytes[i];
    if (c < 0x80) {
      s += String.fromCharCode(c);
      i++;
      continue;
    }
    const len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    let cp = len === 2 ? c & 0x1f : len === 3 ? c & 0x0f : c & 0x07;
    let ok = len > 0 && i + len <= n;
    for (let k = 1; ok && k < len; k++) {
      const cc = bytes[i + k];
      if ((cc & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (cc & 0x3f);
    }
    if (ok) {
      const min = len === 2 ? 0x80 : len === 3 ? 0x800 : 0x10000;
      if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) ok = false;
    }
    if (ok) {
      s += String.fromCodePoint(cp);
      i += len;
    } else {
      s += String.fromCharCode(0xdc00 + c);
      i++;
    }
  }
  return s;
}

/** The bytes a decoded string came from (inverse of `bytesToString`). */
export function stringToBytes(s: string): Buffer {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0xdc80 && cp <= 0xdcff) out.push(cp - 0xdc00);
    else out.push(...Buffer.from(ch, 'utf8'));
  }
  return Buffer.from(out);
}

/** Number of bytes the string had in the traced process. */
export function byteLength(s: string): number {
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    n += cp < 0x80 || (cp >= 0xdc80 && cp <= 0xdcff) ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

/** A parsed value as plain JavaScript (objects as records; a repeated key keeps its last value). */
export function jsonToPlain(value: JsonValue | undefined): unknown {
  if (value instanceof JsonObject) return Object.fromEntries(value.entries.map(([k, v]) => [k, jsonToPlain(v)]));
  if (Array.isArray(value)) return value.map(jsonToPlain);
  return value;
}
