// Decodes the records of the BCC tools (probes/raw-p2p-msgs.py, probes/mempool-monitor.py). They use
// bpftrace's `-f json` envelope: `attached_probes`, `map` (@fired) and `lost_events` records are the ones
// BpftraceDecoder already handles; this module decodes their `value` tuples, which start with the
// tracepoint name: ["net:inbound_message", elapsed_ns, ...], ["mempool:added", elapsed_ns, ...].
// Every tuple is one delivered hit of that tracepoint (for loss accounting).

import { JsonObject, JsonSyntaxError, JsonValue, byteLength, parseBpftraceJson } from './bpftraceJson';
import type { Int64Field, TruncatedEvent } from './eventTypes';
import type {
  MempoolAddedEvent,
  MempoolRejectedEvent,
  MempoolRemovedEvent,
  MempoolReplacedEvent,
  RawNetMessageEvent,
  ToolEvent,
} from './toolEventTypes';

/** Buffer sizes of the probe programs (bytes, including the NUL): a string of size − 1 bytes may be cut. */
export const BCC_STRING_BUFFERS = {
  peer_addr: 128,
  conn_type: 32,
  msg_type: 32,
  removed_reason: 32,
  rejected_reason: 128,
} as const;

/** The largest message raw-p2p-msgs captures whole (Bitcoin Core's MAX_PROTOCOL_MESSAGE_LENGTH). */
export const RAW_MAX_CAPTURE_BYTES = 4_000_000;

/** Longest line raw-p2p-msgs prints: a 4,000,000-byte message as hex plus the other fields. */
export const RAW_MAX_LINE_BYTES = 2 * RAW_MAX_CAPTURE_BYTES + 4096;

/** Tuple tag → number of tuple elements (tag and elapsed_ns included). */
export const BCC_TUPLE_LENGTHS: Readonly<Record<string, number>> = {
  'net:inbound_message': 9,
  'net:outbound_message': 9,
  'mempool:added': 5,
  'mempool:removed': 7,
  'mempool:replaced': 10,
  'mempool:rejected': 4,
};

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
  const fail = (error: string): BccDecodeResult => ({ ok: false, tracepoint, error });
  if (data.length !== BCC_TUPLE_LENGTHS[tracepoint]) {
    return fail(`${tracepoint} record with ${data.length} fields instead of ${BCC_TUPLE_LENGTHS[tracepoint]}`);
  }
  const elapsed = data[1];
  if (!isInt(elapsed)) return fail(`${tracepoint} record without an integer elapsed_ns`);
  const elapsedNs = options.toElapsedNs ? options.toElapsedNs(elapsed) : Number(elapsed);
  const fields = data.slice(2);
  const decoded = tracepoint.startsWith('net:')
    ? rawMessage(tracepoint as RawNetMessageEvent['event'], elapsedNs, fields)
    : mempoolEvent(tracepoint, elapsedNs, fields);
  return typeof decoded === 'string' ? fail(`${tracepoint}: ${decoded}`) : { ok: true, tracepoint, events: decoded };
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

function rawMessage(
  event: RawNetMessageEvent['event'],
  elapsedNs: number,
  fields: readonly JsonValue[],
): BccEvent[] | string {
  const [peerId, peerAddr, connType, msgType, msgSize, captured, hex] = fields;
  if (!isInt(peerId) || !isInt(msgSize)) return 'peer_id and msg_size must be integers';
  if (typeof peerAddr !== 'string' || typeof connType !== 'string' || typeof msgType !== 'string') {
    return 'peer_addr, conn_type and msg_type must be strings';
  }
  if (typeof captured !== 'number' || !Number.isInteger(captured) || captured < 0 || captured > RAW_MAX_CAPTURE_BYTES) {
    return `captured must be an integer from 0 to ${RAW_MAX_CAPTURE_BYTES}`;
  }
  if (typeof hex !== 'string' || hex.length !== captured * 2 || !/^[0-9a-f]*$/.test(hex)) {
    return 'msg must be lowercase hex of exactly `captured` bytes';
  }
  if (BigInt(captured) > BigInt(msgSize)) return 'captured exceeds msg_size';
  const message: RawNetMessageEvent = {
    event,
    elapsed_ns: elapsedNs,
    peer_id: peerId,
    peer_addr: peerAddr,
    conn_type: connType,
    msg_type: msgType,
    msg_size: msgSize,
    msg: hex,
    captured,
  };
  const out: BccEvent[] = [message];
  cutString('peer_addr', peerAddr, BCC_STRING_BUFFERS.peer_addr, elapsedNs, out);
  cutString('conn_type', connType, BCC_STRING_BUFFERS.conn_type, elapsedNs, out);
  cutString('msg_type', msgType, BCC_STRING_BUFFERS.msg_type, elapsedNs, out);
  if (BigInt(captured) < BigInt(msgSize)) out.push({ event: 'truncated', elapsed_ns: elapsedNs, field: 'msg', count: 1 });
  return out;
}

function mempoolEvent(tracepoint: string, elapsedNs: number, fields: readonly JsonValue[]): BccEvent[] | string {
  switch (tracepoint) {
    case 'mempool:added': {
      const [txid, vsize, fee] = fields;
      if (!isHash(txid)) return 'txid must be 64 hex characters';
      if (!isInt32(vsize) || !isInt(fee)) return 'vsize and fee must be integers';
      const event: MempoolAddedEvent = { event: tracepoint, elapsed_ns: elapsedNs, txid, vsize, fee };
      return [event];
    }
    case 'mempool:removed': {
      const [txid, reason, vsize, fee, entryTime] = fields;
      if (!isHash(txid)) return 'txid must be 64 hex characters';
      if (typeof reason !== 'string') return 'reason must be a string';
      if (!isInt32(vsize) || !isInt(fee) || !isInt(entryTime)) return 'vsize, fee and entry_time must be integers';
      const event: MempoolRemovedEvent = {
        event: tracepoint,
        elapsed_ns: elapsedNs,
        txid,
        reason,
        vsize,
        fee,
        entry_time: entryTime,
      };
      const out: BccEvent[] = [event];
      cutString('reason', reason, BCC_STRING_BUFFERS.removed_reason, elapsedNs, out);
      return out;
    }
    case 'mempool:replaced': {
      const [replacedTxid, replacedVsize, replacedFee, replacedEntryTime, replacementId, replacementVsize,
        replacementFee, byTransaction] = fields;
      if (!isHash(replacedTxid) || !isHash(replacementId)) {
        return 'replaced_txid and replacement_id must be 64 hex characters';
      }
      if (!isInt32(replacedVsize) || !isInt32(replacementVsize)) return 'vsizes must be 32-bit integers';
      if (!isInt(replacedFee) || !isInt(replacementFee) || !isInt(replacedEntryTime)) {
        return 'fees and replaced_entry_time must be integers';
      }
      if (typeof byTransaction !== 'boolean' && byTransaction !== null) {
        return 'replaced_by_transaction must be a boolean (or null from a 7-argument, pre-v29 build)';
      }
      const event: MempoolReplacedEvent = {
        event: tracepoint,
        elapsed_ns: elapsedNs,
        replaced_txid: replacedTxid,
        replaced_vsize: replacedVsize,
        replaced_fee: replacedFee,
        replaced_entry_time: replacedEntryTime,
        replacement_id: replacementId,
        replacement_vsize: replacementVsize,
        replacement_fee: replacementFee,
        replaced_by_transaction: byTransaction,
      };
      return [event];
    }
    case 'mempool:rejected': {
      const [txid, reason] = fields;
      if (!isHash(txid)) return 'txid must be 64 hex characters';
      if (typeof reason !== 'string') return 'reason must be a string';
      const event: MempoolRejectedEvent = { event: tracepoint, elapsed_ns: elapsedNs, txid, reason };
      const out: BccEvent[] = [event];
      cutString('reason', reason, BCC_STRING_BUFFERS.rejected_reason, elapsedNs, out);
      return out;
    }
    default:
      return 'unknown record';
  }
}

/** A string that filled its probe buffer (all but the NUL) may have been cut there. */
function cutString(field: string, value: string, bufferBytes: number, elapsedNs: number, out: BccEvent[]): void {
  if (byteLength(value) >= bufferBytes - 1) out.push({ event: 'truncated', elapsed_ns: elapsedNs, field, count: 1 });
}

function isInt(v: JsonValue | undefined): v is Int64Field {
  return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v));
}

function isInt32(v: JsonValue | undefined): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff;
}

function isHash(v: JsonValue | undefined): v is string {
  return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
}
