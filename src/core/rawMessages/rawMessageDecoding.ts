// The decoded view of one captured message: the core decoder's tree, and for messages that arrived cut, as
// much of the message as its captured bytes hold (a block's header and its complete transactions, the
// complete entries of an inventory, headers or address list).

import { ByteReader, DecodeError } from '../p2pMessages/byteReader';
import { decodeMessage, type DecodedField } from '../p2pMessages/messageDecoder';
import type { DecodedNode, DecodedView } from '../../shared/rawMessagesProtocol';

/** List entries shown in a partial decode (the count is always given in full). */
const PARTIAL_LIST_LIMIT = 200;

function node(name: string, value: string | number, children?: DecodedNode[]): DecodedNode {
  return children ? { name, value: String(value), children } : { name, value: String(value) };
}

function toNodes(fields: readonly DecodedField[]): DecodedNode[] {
  return fields.map((f) => (f.children ? node(f.name, f.value, toNodes(f.children)) : node(f.name, f.value)));
}

function cutNote(captured: number, declared: number): string {
  return `captured ${captured.toLocaleString('en-US')} of ${declared.toLocaleString('en-US')} bytes: the message arrived cut`;
}

/** How many bytes one complete item at the start of `bytes` takes, by decoding it alone as `msgType`. */
function completeItemLength(msgType: string, bytes: Uint8Array): { length: number; fields: DecodedNode[]; summary: string } | undefined {
  const decoded = decodeMessage(msgType, bytes);
  if (decoded.status !== 'decoded') return undefined;
  const trailing = decoded.warnings.map((w) => /^(\d+) trailing bytes/.exec(w)).find((m) => m !== null);
  const length = bytes.length - (trailing ? Number(trailing[1]) : 0);
  return { length, fields: toNodes(decoded.fields), summary: decoded.summary };
}

interface PartialResult {
  summary: string;
  fields: DecodedNode[];
  stoppedAt: string;
}

function partialBlock(bytes: Uint8Array): PartialResult | undefined {
  if (bytes.length < 80) return undefined;
  // The header alone, decoded as a one-entry `headers` message (header + tx count 0).
  const asHeaders = new Uint8Array(82);
  asHeaders[0] = 1;
  asHeaders.set(bytes.subarray(0, 80), 1);
  const header = decodeMessage('headers', asHeaders);
  if (header.status !== 'decoded') return undefined;
  const headerEntry = header.fields[0]?.children?.[0];
  const headerFields = (headerEntry?.children ?? []).filter((f) => f.name !== 'tx_count');
  const fields: DecodedNode[] = [node('header', headerEntry?.value ?? '', toNodes(headerFields))];
  const reader = new ByteReader(bytes.subarray(80));
  let count: number;
  try {
    count = reader.compactSize('transaction count');
  } catch (error) {
    return { summary: `${String(headerEntry?.value ?? '').slice(0, 16)}…`, fields, stoppedAt: (error as Error).message };
  }
  let offset = 80 + reader.position;
  const txs: DecodedNode[] = [];
  let complete = 0;
  while (complete < count && offset < bytes.length) {
    const tx = completeItemLength('tx', bytes.subarray(offset));
    if (!tx) break;
    if (complete < PARTIAL_LIST_LIMIT) txs.push(node(`#${complete}`, tx.fields.find((f) => f.name === 'txid')?.value ?? '', tx.fields));
    complete++;
    offset += tx.length;
  }
  if (complete > txs.length) txs.push(node('…', `${complete - txs.length} more complete transactions not shown`));
  fields.push(node('transactions', `${count} (${complete} complete in the captured bytes)`, txs));
  return {
    summary: `${String(headerEntry?.value ?? '').slice(0, 16)}… ${count} transactions, ${complete} captured whole`,
    fields,
    stoppedAt: `transaction #${complete} is incomplete at byte ${offset.toLocaleString('en-US')}`,
  };
}

/** Messages that are a CompactSize count followed by fixed-size entries. */
const FIXED_ENTRY_LISTS: Readonly<Record<string, { entry: number; name: string; wrapper: string }>> = {
  inv: { entry: 36, name: 'inventory', wrapper: 'inv' },
  getdata: { entry: 36, name: 'inventory', wrapper: 'getdata' },
  notfound: { entry: 36, name: 'inventory', wrapper: 'notfound' },
  headers: { entry: 81, name: 'headers', wrapper: 'headers' },
  addr: { entry: 30, name: 'addresses', wrapper: 'addr' },
};

function partialFixedList(msgType: string, bytes: Uint8Array): PartialResult | undefined {
  const spec = FIXED_ENTRY_LISTS[msgType];
  const reader = new ByteReader(bytes);
  let count: number;
  try {
    count = reader.compactSize('entry count');
  } catch {
    return undefined;
  }
  const available = Math.min(count, Math.floor(reader.remaining / spec.entry), PARTIAL_LIST_LIMIT);
  // Re-encode the complete entries with their own count so the core decoder reads them.
  const body = bytes.subarray(reader.position, reader.position + available * spec.entry);
  const prefix = available < 0xfd ? Uint8Array.of(available) : Uint8Array.of(0xfd, available & 0xff, available >> 8);
  const rebuilt = new Uint8Array(prefix.length + body.length);
  rebuilt.set(prefix);
  rebuilt.set(body, prefix.length);
  const decoded = decodeMessage(spec.wrapper, rebuilt);
  if (decoded.status !== 'decoded') return undefined;
  const list = decoded.fields.find((f) => f.name === spec.name);
  const children = toNodes(list?.children ?? []);
  return {
    summary: `${count} entries, ${available} captured whole`,
    fields: [node(spec.name, `${count} (${available} complete in the captured bytes)`, children)],
    stoppedAt: `entry #${available} is incomplete`,
  };
}

/**
 * Decodes a captured message for display. Never throws. `declaredSize`: the size the tracepoint reported;
 * a message with fewer captured bytes is decoded as far as the bytes go, with a warning saying so.
 */
export function decodeForDisplay(msgType: string, bytes: Uint8Array | null, declaredSize: number): DecodedView {
  if (bytes === null) {
    return { status: 'no-bytes', msgType, summary: '', fields: [], warnings: [], reason: 'the bytes of this message were dropped to stay within the memory bound' };
  }
  const cut = declaredSize > bytes.length;
  if (cut && bytes.length === 0) {
    return { status: 'cannot-decode', msgType, summary: '', fields: [], warnings: [cutNote(0, declaredSize)], reason: `cannot decode ${msgType}: no bytes were captured (the probe could not read them)` };
  }
  let decoded;
  try {
    decoded = decodeMessage(msgType, bytes, declaredSize);
  } catch (error) {
    // decodeMessage only throws on a bug; show it rather than break the panel.
    return { status: 'cannot-decode', msgType, summary: '', fields: [], warnings: [], reason: `cannot decode ${msgType}: ${(error as Error).message}` };
  }
  if (decoded.status === 'not-supported') {
    return { status: 'not-supported', msgType, summary: '', fields: [], warnings: cut ? [cutNote(bytes.length, declaredSize)] : [], reason: `no decoder for message type "${msgType}"` };
  }
  if (decoded.status === 'decoded') {
    return { status: 'decoded', msgType, summary: decoded.summary, fields: toNodes(decoded.fields), warnings: [...decoded.warnings], reason: null };
  }
  if (cut) {
    let partial: PartialResult | undefined;
    try {
      if (msgType === 'block') partial = partialBlock(bytes);
      else if (Object.prototype.hasOwnProperty.call(FIXED_ENTRY_LISTS, msgType)) partial = partialFixedList(msgType, bytes);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      partial = undefined;
    }
    if (partial) {
      return {
        status: 'partial',
        msgType,
        summary: partial.summary,
        fields: partial.fields,
        warnings: [cutNote(bytes.length, declaredSize)],
        reason: `decoded as far as the captured bytes go: ${partial.stoppedAt}`,
      };
    }
    return { status: 'cannot-decode', msgType, summary: '', fields: [], warnings: [cutNote(bytes.length, declaredSize)], reason: decoded.reason };
  }
  return { status: 'cannot-decode', msgType, summary: '', fields: [], warnings: [], reason: decoded.reason };
}
