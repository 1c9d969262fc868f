// Decodes a probe's tuple record by its field table (eventSchema.ts): checks every field's kind, turns
// hashes and flags into their event form, joins strings printed in parts and reports values that may have
// been cut. A tuple that does not fit its table throws TupleShapeError, whose message names the field.

import { bytesToString, byteLength, stringToBytes, type JsonValue } from './bpftraceJson';
import type { Int64Field, NormalizedEvent, TruncatedEvent } from './eventTypes';
import { BPFTRACE_STRING_BUFFER, tupleLength, type FieldSpec, type RecordSpec } from './eventSchema';

export class TupleShapeError extends Error {}

/** What decoding a tuple needs from the session decoder around it. */
export interface TupleContext {
  /** Session time of the record's `elapsed` (adds the offset of re-attached runs). */
  elapsedNs(value: Int64Field): number;
  /**
   * bpftrace strings: the session decoder's account of values at the string limit (it reports the first
   * cut of each field at once and sums later ones). BCC strings are reported here, one event per value.
   */
  checkCut(field: string, value: string): NormalizedEvent[];
}

export interface DecodedTuple {
  /** The event, fields in table order (derived fields are the tool decoder's to add). */
  event: Record<string, unknown> & { event: string; elapsed_ns: number };
  /** `truncated` events for values that may have been cut. */
  cuts: NormalizedEvent[];
}

const INT32_RANGES = { u32: [0, 2 ** 32 - 1, 'an integer from 0 to 2^32 − 1'], i32: [-(2 ** 31), 2 ** 31 - 1, 'an integer from −2^31 to 2^31 − 1'] } as const;

/**
 * Whether `v` is an integer of `kind`. 64-bit values (numbers beyond 2^53 arrive as decimal strings) are
 * taken as printed, whatever their sign: bpftrace prints what the probe cast, and the p2p-traffic fast path
 * (bpftraceDecoder.ts) reads them the same way. 32-bit values are range-checked.
 */
export function isIntegerOfKind(v: unknown, kind: 'u64' | 'i64' | 'u32' | 'i32'): v is Int64Field {
  if (kind === 'u64' || kind === 'i64') return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v));
  const [min, max] = INT32_RANGES[kind];
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function kindText(kind: 'u64' | 'i64' | 'u32' | 'i32'): string {
  return kind === 'u64' || kind === 'i64' ? 'an integer' : INT32_RANGES[kind][2];
}

export const HASH_PATTERN = /^[0-9a-f]{64}$/;
export const HEX_PATTERN = /^(?:[0-9a-f]{2})*$/;

/** Four little-endian 64-bit words of a 32-byte hash (internal order) → 64 hex digits in display order. */
export function hashFromWords(words: readonly JsonValue[]): string {
  if (words.length !== 4) throw new TupleShapeError('a hash needs 4 words');
  let hex = '';
  for (let k = 3; k >= 0; k--) {
    const w = words[k];
    if (!isIntegerOfKind(w, 'i64') && !isIntegerOfKind(w, 'u64')) throw new TupleShapeError(`hash word ${k} is not an integer`);
    const word = BigInt(w);
    if (word < 0n || word >= 1n << 64n) throw new TupleShapeError(`hash word ${k} out of range`);
    hex += word.toString(16).padStart(16, '0');
  }
  return hex;
}

function integer(v: JsonValue | undefined, field: FieldSpec & { kind: 'u64' | 'i64' | 'u32' | 'i32' }): Int64Field {
  if (isIntegerOfKind(v, field.kind)) return field.kind === 'u32' || field.kind === 'i32' ? Number(v) : v;
  throw new TupleShapeError(`${field.name} must be ${kindText(field.kind)} (integers only)`);
}

/** Decodes `data` (the whole tuple, tag first) by `spec`. */
export function decodeTuple(spec: RecordSpec, data: readonly JsonValue[], context: TupleContext): DecodedTuple {
  const expected = tupleLength(spec);
  if (data.length !== expected) throw new TupleShapeError(`${spec.event} record with ${data.length} fields instead of ${expected}`);
  const elapsed = data[1];
  if (!isIntegerOfKind(elapsed, 'i64')) throw new TupleShapeError(`${spec.event} record without an integer elapsed_ns`);
  const elapsedNs = context.elapsedNs(elapsed);
  const bcc = spec.frontEnd === 'bcc';
  const event: DecodedTuple['event'] = { event: spec.event, elapsed_ns: elapsedNs };
  const strings: Array<[FieldSpec, string, string | null]> = [];
  const hexFields: FieldSpec[] = [];
  let i = 2;
  for (const field of spec.fields) {
    if (field.derived) continue;
    switch (field.kind) {
      case 'u64':
      case 'i64':
      case 'u32':
      case 'i32':
        event[field.name] = integer(data[i++], field as FieldSpec & { kind: 'u64' });
        break;
      case 'bool': {
        const v = data[i++];
        if (v === null && field.nullable && bcc) {
          event[field.name] = null;
          break;
        }
        if (bcc ? typeof v !== 'boolean' : v !== 0 && v !== 1) {
          throw new TupleShapeError(`${field.name} must be ${bcc ? 'a boolean' : '0 or 1'}`);
        }
        event[field.name] = v === true || v === 1;
        break;
      }
      case 'string': {
        const parts = field.parts ?? 1;
        const texts = data.slice(i, i + parts);
        i += parts;
        if (!texts.every((t): t is string => typeof t === 'string')) throw new TupleShapeError(`${field.name} must be a string`);
        if (parts === 1) {
          event[field.name] = texts[0];
          strings.push([field, texts[0], texts[0]]);
        } else {
          // A part ends before the limit when the string did: the parts after it are unrelated memory.
          const partBytes = BPFTRACE_STRING_BUFFER - 1;
          let used = 1;
          while (used < parts && byteLength(texts[used - 1]) >= partBytes) used++;
          const whole = used === 1 && byteLength(texts[0]) < partBytes;
          event[field.name] = used === 1 ? texts[0] : bytesToString(Buffer.concat(texts.slice(0, used).map(stringToBytes)));
          strings.push([field, texts[used - 1], whole ? null : texts[used - 1]]);
        }
        break;
      }
      case 'hash': {
        if (bcc) {
          const v = data[i++];
          if (typeof v !== 'string' || !HASH_PATTERN.test(v)) throw new TupleShapeError(`${field.name} must be 64 hex characters`);
          event[field.name] = v;
        } else {
          event[field.name] = hashFromWords(data.slice(i, i + 4));
          i += 4;
        }
        break;
      }
      case 'hex': {
        const v = data[i++];
        if (typeof v !== 'string') throw new TupleShapeError(`${field.name} must be lowercase hex of exactly \`${field.countField}\` bytes`);
        event[field.name] = v;
        hexFields.push(field);
        break;
      }
    }
  }
  for (const field of hexFields) {
    const hex = event[field.name] as string;
    const count = field.countField === undefined ? hex.length / 2 : Number(event[field.countField]);
    const max = field.maxBytes ?? Infinity;
    if (field.countField !== undefined && !(count >= 0 && count <= max)) {
      throw new TupleShapeError(`${field.countField} must be an integer from 0 to ${max}`);
    }
    if (hex.length !== count * 2 || !HEX_PATTERN.test(hex)) {
      throw new TupleShapeError(`${field.name} must be lowercase hex of exactly \`${field.countField}\` bytes`);
    }
    if (field.sizeField !== undefined && BigInt(count) > BigInt(event[field.sizeField] as Int64Field)) {
      throw new TupleShapeError(`${field.countField} exceeds ${field.sizeField}`);
    }
  }
  const cuts: NormalizedEvent[] = [];
  for (const [field, value, checked] of strings) {
    if (checked === null) continue;
    if (!bcc) cuts.push(...context.checkCut(field.name, value));
    else if (byteLength(value) >= (field.limit ?? BPFTRACE_STRING_BUFFER) - 1) cuts.push(truncated(field.name, elapsedNs));
  }
  for (const field of hexFields) {
    if (field.sizeField !== undefined && BigInt(Number(event[field.countField ?? ''])) < BigInt(event[field.sizeField] as Int64Field)) {
      cuts.push(truncated(field.name, elapsedNs));
    }
  }
  return { event, cuts };
}

function truncated(field: string, elapsedNs: number): TruncatedEvent {
  return { event: 'truncated', elapsed_ns: elapsedNs, field, count: 1 };
}
