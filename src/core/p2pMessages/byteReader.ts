/** Thrown when a message ends before a field it announces. */
export class DecodeError extends Error {}

/** Little-endian cursor over a message payload, in Bitcoin's serialization. */
export class ByteReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private need(count: number, what: string): void {
    if (count < 0 || this.offset + count > this.bytes.length) {
      throw new DecodeError(`${what} needs ${count} bytes at offset ${this.offset}, but only ${this.remaining} remain`);
    }
  }

  u8(what = 'byte'): number {
    this.need(1, what);
    return this.bytes[this.offset++];
  }

  u16be(what = 'u16'): number {
    this.need(2, what);
    const value = this.view.getUint16(this.offset, false);
    this.offset += 2;
    return value;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  i32(what = 'i32'): number {
    this.need(4, what);
    const value = this.view.getInt32(this.offset, true);
    this.offset += 4;
    return value;
  }

  u64(what = 'u64'): bigint {
    this.need(8, what);
    const value = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return value;
  }

  i64(what = 'i64'): bigint {
    this.need(8, what);
    const value = this.view.getBigInt64(this.offset, true);
    this.offset += 8;
    return value;
  }

  bytesOf(count: number, what = 'bytes'): Uint8Array {
    this.need(count, what);
    const slice = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return slice;
  }

  slice(start: number, end: number): Uint8Array {
    return this.bytes.subarray(start, end);
  }

  /** CompactSize; `max` bounds counts so a hostile length cannot drive a huge loop. */
  compactSize(what = 'count', max = Number.MAX_SAFE_INTEGER): number {
    const first = this.u8(what);
    let value: number;
    if (first < 0xfd) value = first;
    else if (first === 0xfd) value = this.view.getUint16(this.advance(2, what), true);
    else if (first === 0xfe) value = this.view.getUint32(this.advance(4, what), true);
    else {
      const big = this.view.getBigUint64(this.advance(8, what), true);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError(`${what} ${big} is out of range`);
      value = Number(big);
    }
    if (value > max) throw new DecodeError(`${what} ${value} exceeds the protocol limit of ${max}`);
    return value;
  }

  /** A length-prefixed string, bounded by `max` bytes. Decoded as UTF-8 with replacement. */
  varString(what: string, max: number): string {
    const length = this.compactSize(`${what} length`, max);
    return new TextDecoder('utf-8', { fatal: false }).decode(this.bytesOf(length, what));
  }

  private advance(count: number, what: string): number {
    this.need(count, what);
    const at = this.offset;
    this.offset += count;
    return at;
  }
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** Hashes travel in internal (little-endian) order; people read them reversed. */
export function hashToDisplayHex(bytes: Uint8Array): string {
  return toHex(Uint8Array.from(bytes).reverse());
}
