// Decodes the records of the BCC tools (probes/raw-p2p-msgs.py, probes/mempool-monitor.py). They use
// bpftrace's `-f json` envelope: `attached_probes`, `map` (@fired) and `lost_events` records are the ones
// BpftraceDecoder already handles; this module decodes their `value` tuples, which start with the
// tracepoint name: ["net:inbound_message", elapsed_ns, ...], ["mempool:added", elapsed_ns, ...].
// Every tuple is one delivered hit of that tracepoint (for loss accounting).

import { JsonObject, JsonSyntaxError, JsonValue, parseBpftraceJson } from './bpftraceJson';
import type { Int64Field, TruncatedEvent } from './eventTypes';
import { RAW_MAX_CAPTURE_BYTES, recordsOfTool, tupleLength, type RecordSpec } from './eventSchema';
import type { ToolEvent } from './toolEventTypes';
import { decodeTuple } from './tupleDecoder';

export { RAW_MAX_CAPTURE_BYTES } from './eventSchema';

/** The BCC tools' records by tuple tag (their tags are the event names), from the event schema. */
const BCC_RECORDS: ReadonlyMap<string, RecordSpec> = new Map([...recordsOfTool('raw-p2p-msgs'), ...recordsOfTool('mempool-monitor')]);

function stringBuffer(tool: 'raw-p2p-msgs' | 'mempool-monitor', tag: string, field: string): number {
  const limit = recordsOfTool(tool).get(tag)?.fields.find((f) => f.name === field)?.limit;
  if (limit === undefined) throw new Error(`no string ${field} in ${tag}`);
  return limit;
}

/** Buffer sizes of the probe programs (bytes, including the NUL): a string of size − 1 bytes may be cut. */
export const BCC_STRING_BUFFERS = {
  peer_addr: stringBuffer('raw-p2p-msgs', 'net:inbound_message', 'peer_addr'),
  conn_type: stringBuffer('raw-p2p-msgs', 'net:inbound_message', 'conn_type'),
  msg_type: stringBuffer('raw-p2p-msgs', 'net:inbound_message', 'msg_type'),
  removed_reason: stringBuffer('mempool-monitor', 'mempool:removed', 'reason'),
  rejected_reason: stringBuffer('mempool-monitor', 'mempool:rejected', 'reason'),
} as const;

/** Longest line raw-p2p-msgs prints: a 4,000,000-byte message as hex plus the other fields. */
export const RAW_MAX_LINE_BYTES = 2 * RAW_MAX_CAPTURE_BYTES + 4096;

/** Tuple tag → number of tuple elements (tag and elapsed_ns included). */
export const BCC_TUPLE_LENGTHS: Readonly<Record<string, number>> = Object.fromEntries(
  [...BCC_RECORDS].map(([tag, spec]) => [tag, tupleLength(spec)]),
);

export type BccEvent = ToolEvent | TruncatedEvent;

export type BccDecodeResult =
  /** `events[0]` is the tracepoint event; `truncated` events for cut fields may follow. */
  | { ok: true; tracepoint: string; events: BccEvent[] }
  | { ok: false; tracepoint: string; error: string };

export interface BccDecodeOptions {
  /** Maps the tuple's elapsed_ns to the session's (e.g. adding the offset of an earlier run). */
  toElapsedNs?: (raw: Int64Field) => number;
}

/** True when a `value` tuple is one of the BCC tools' records (its first element is a tracepoint tag). */
export function isBccTuple(data: readonly JsonValue[]): boolean {
  const tag = data[0];
  return typeof tag === 'string' && Object.hasOwn(BCC_TUPLE_LENGTHS, tag);
}

/** Decodes one `value` tuple; null when it is not a BCC tool record (see `isBccTuple`). */
export function decodeBccTuple(data: readonly JsonValue[], options: BccDecodeOptions = {}): BccDecodeResult | null {
  if (!isBccTuple(data)) return null;
  const tracepoint = data[0] as string;
  const spec = BCC_RECORDS.get(tracepoint) as RecordSpec;
  try {
    const { event, cuts } = decodeTuple(spec, data, {
      elapsedNs: options.toElapsedNs ?? ((raw) => Number(raw)),
      checkCut: () => [],
    });
    return { ok: true, tracepoint, events: [event as unknown as ToolEvent, ...(cuts as TruncatedEvent[])] };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, tracepoint, error: message.startsWith(tracepoint) ? message : `${tracepoint}: ${message}` };
  }
}

/** The part of the session decoder's context a BCC record needs (a subset of ToolRecordContext). */
export interface BccRecordContext {
  /** Session time of a record's elapsed_ns (adds the offset of re-attached runs). */
  elapsedNs(value: Int64Field): number;
  /** One streamed tracepoint event arrived (loss accounting: fired − delivered). */
  delivered(): void;
}

/**
 * The ToolRecordDecoder shape of toolRecordDecoders.ts, for both BCC tools: the events of one of their
 * `value` records, or null for any other record (`map` @fired, `lost_events`, `attached_probes` are the
 * session decoder's). A record of theirs with unexpected contents throws (the line is then malformed).
 */
export function decodeBccRecord(
  record: { type: string; data: JsonValue | undefined },
  context: BccRecordContext,
): BccEvent[] | null {
  if (record.type !== 'value' || !Array.isArray(record.data)) return null;
  const result = decodeBccTuple(record.data, { toElapsedNs: (raw) => context.elapsedNs(raw) });
  if (result === null) return null;
  if (!result.ok) throw new Error(result.error);
  context.delivered();
  return result.events;
}

/**
 * Decodes one whole output line of a BCC tool when it is a `value` record; null for any other line
 * (records BpftraceDecoder handles, or lines that are not JSON).
 */
export function decodeBccLine(line: string | Uint8Array, options: BccDecodeOptions = {}): BccDecodeResult | null {
  let value: JsonValue;
  try {
    value = parseBpftraceJson(line);
  } catch (err) {
    if (err instanceof JsonSyntaxError) return null;
    throw err;
  }
  if (!(value instanceof JsonObject) || value.get('type') !== 'value') return null;
  const data = value.get('data');
  return Array.isArray(data) ? decodeBccTuple(data, options) : null;
}
