// "Trace this tracepoint": how each argument of any tracepoint is read. The unprivileged side only ever sends
// the tracepoint and one reading per argument from this fixed set (`--param args=u8,str48,hash,-`); the root
// helper checks them against the binary's notes and writes the bpftrace program itself
// (probes/bitcoin-usdt-helper.py, `trace_spec`). The limits here are the helper's, for early, clear errors.

import type { Int64Field } from '../events/eventTypes';

export const TRACE_TOOL_ID = 'trace-tracepoint';

export const INTEGER_READINGS = ['u8', 's8', 'u16', 's16', 'u32', 's32', 'u64', 's64'] as const;
export type IntegerReading = (typeof INTEGER_READINGS)[number];

/** bpftrace 0.17 keeps every string in a 72-byte buffer (BPFTRACE_STRLEN): 71 bytes of text. */
export const MAX_STRING_BYTES = 71;
export const MAX_HEX_BYTES = 64;
export const HASH_BYTES = 32;
/** bpftrace 0.17 reads arg0..arg5 only: later arguments can only be skipped. */
export const BPFTRACE_READABLE_ARGS = 6;
export const MAX_TRACE_ARGS = 12;

/** One argument's reading: what the helper's program prints for it and how the decoder shows it. */
export type TraceReading =
  | { kind: IntegerReading }
  | { kind: 'str'; bytes: number }
  | { kind: 'hex'; bytes: number }
  | { kind: 'hash' }
  | { kind: 'skip' };

export type TraceReadingKind = TraceReading['kind'];

/** One argument of a checked request, as the helper's `target` record returns it (`bytes`: 0 for skip). */
export interface TraceArgSpec {
  index: number;
  kind: TraceReadingKind;
  bytes: number;
}

/** A hit's value of one argument: an integer (Int64 convention), text, lowercase hex, or null (not read). */
export type TraceValue = Int64Field | string | null;

export function isIntegerReading(kind: string): kind is IntegerReading {
  return (INTEGER_READINGS as readonly string[]).includes(kind);
}

/** `u8`, `str48`, `hex24`, `hash`, `-`: the helper's spelling. */
export function readingText(reading: TraceReading): string {
  switch (reading.kind) {
    case 'str':
    case 'hex':
      return `${reading.kind}${reading.bytes}`;
    case 'skip':
      return '-';
    default:
      return reading.kind;
  }
}

/** In words, for pickers and column headers. */
export function readingLabel(reading: TraceReading): string {
  switch (reading.kind) {
    case 'str':
      return `string ≤ ${reading.bytes} bytes`;
    case 'hex':
      return `${reading.bytes} bytes as hex`;
    case 'hash':
      return 'hash (display order)';
    case 'skip':
      return 'not read';
    default:
      return `${reading.kind.startsWith('s') ? 'signed' : 'unsigned'} ${reading.kind.slice(1)}-bit integer`;
  }
}

export function readingsText(readings: readonly TraceReading[]): string {
  return readings.map(readingText).join(',');
}

export class TraceReadingError extends Error {}

/** Parses one reading (`u8`, `str48`, …); throws TraceReadingError with what is allowed. */
export function parseReading(text: string, index = 0): TraceReading {
  if (text === '-') return { kind: 'skip' };
  if (text === 'hash') return { kind: 'hash' };
  if (isIntegerReading(text)) return { kind: text };
  const sized = /^(str|hex)([1-9][0-9]{0,2})$/.exec(text);
  if (!sized) throw new TraceReadingError(`argument ${index}: unknown reading ${JSON.stringify(text.slice(0, 40))} (one of ${INTEGER_READINGS.join(', ')}, strN, hexN, hash, -)`);
  const bytes = Number(sized[2]);
  const limit = sized[1] === 'str' ? MAX_STRING_BYTES : MAX_HEX_BYTES;
  if (bytes > limit) throw new TraceReadingError(`argument ${index}: ${sized[1]} reads at most ${limit} bytes, not ${bytes}`);
  return { kind: sized[1] as 'str' | 'hex', bytes };
}

export function parseReadings(text: string): TraceReading[] {
  return text === '' ? [] : text.split(',').map((part, i) => parseReading(part.trim(), i));
}

export function readingOfSpec(arg: TraceArgSpec): TraceReading {
  if (arg.kind === 'str' || arg.kind === 'hex') return { kind: arg.kind, bytes: arg.bytes };
  if (arg.kind === 'hash' || arg.kind === 'skip') return { kind: arg.kind };
  return { kind: arg.kind };
}

/** The `target` record's `trace` object, checked (it comes from the helper, or from a recording). */
export function parseTraceSpec(value: unknown): { tracepoint: string; args: TraceArgSpec[] } | null {
  if (typeof value !== 'object' || value === null) return null;
  const { tracepoint, args } = value as { tracepoint?: unknown; args?: unknown };
  if (typeof tracepoint !== 'string' || !/^[A-Za-z_]\w{0,63}:[A-Za-z_]\w{0,63}$/.test(tracepoint)) return null;
  if (!Array.isArray(args) || args.length > MAX_TRACE_ARGS) return null;
  const parsed: TraceArgSpec[] = [];
  for (const [i, arg] of args.entries()) {
    if (typeof arg !== 'object' || arg === null) return null;
    const { index, kind, bytes } = arg as { index?: unknown; kind?: unknown; bytes?: unknown };
    if (index !== i || typeof kind !== 'string' || typeof bytes !== 'number' || !Number.isInteger(bytes)) return null;
    try {
      const reading = parseReading(kind === 'str' || kind === 'hex' ? `${kind}${bytes}` : kind === 'skip' ? '-' : kind, i);
      parsed.push({ index: i, kind: reading.kind, bytes: readingBytes(reading) });
    } catch {
      return null;
    }
  }
  return { tracepoint, args: parsed };
}

/** Bytes the reading takes from memory or the register (0 for skip). */
export function readingBytes(reading: TraceReading): number {
  switch (reading.kind) {
    case 'str':
    case 'hex':
      return reading.bytes;
    case 'hash':
      return HASH_BYTES;
    case 'skip':
      return 0;
    default:
      return Number(reading.kind.slice(1)) / 8;
  }
}

/** How many values the probe prints for the reading after the tag and elapsed (words, then single bytes). */
export function printedFields(arg: TraceArgSpec): number {
  switch (arg.kind) {
    case 'skip':
      return 0;
    case 'hash':
      return 4;
    case 'hex':
      return Math.floor(arg.bytes / 8) + (arg.bytes % 8);
    default:
      return 1;
  }
}
