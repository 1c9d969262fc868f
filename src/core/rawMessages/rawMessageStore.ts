// Holds one raw-p2p-msgs session's messages with their captured bytes, within a memory bound: when the bytes
// kept (or the number of messages) exceed the limits, the oldest messages are dropped and counted. Keeps the
// list of messages matching the current filter up to date as messages arrive and drop, so the panel can ask
// for any window of it.

import type { NormalizedEvent } from '../events/eventTypes';
import type {
  RawCounters,
  RawDirection,
  RawFilterChoices,
  RawMessageFilter,
  RawMessageRow,
  RawSessionStatus,
  RawSummary,
} from '../../shared/rawMessagesProtocol';
import { EMPTY_FILTER } from '../../shared/rawMessagesProtocol';
import { decodeForDisplay } from './rawMessageDecoding';
import { SessionAccount } from '../session/sessionAccount';
import type { DecodedView } from '../../shared/rawMessagesProtocol';

export interface RawMessageLimits {
  /** Captured bytes kept over all messages. */
  readonly maxBytes: number;
  readonly maxMessages: number;
  /** Distinct message types and peers offered in the filter drop-downs. */
  readonly maxChoices: number;
  readonly maxNotes: number;
  readonly maxNamedCounters: number;
}

export const DEFAULT_RAW_LIMITS: RawMessageLimits = {
  maxBytes: 64 * 1024 * 1024,
  maxMessages: 200_000,
  maxChoices: 500,
  maxNotes: 50,
  maxNamedCounters: 64,
};

interface StoredMessage {
  readonly row: RawMessageRow;
  /** Lower-cased text the free-text filter searches. */
  readonly searchText: string;
  readonly bytes: Uint8Array;
}

const HEX_PATTERN = /^(?:[0-9a-fA-F]{2})*$/;
/** A session note longer than this is shown cut. */
const MAX_NOTE_CHARS = 2_000;

function int64Text(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return value;
  return undefined;
}

function nonNegativeNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,20}$/.test(value)) return Number(value);
  return undefined;
}

export function matchesFilter(row: RawMessageRow, searchText: string, filter: RawMessageFilter): boolean {
  if (filter.direction !== '' && row.direction !== filter.direction) return false;
  if (filter.msgType !== '' && row.msgType !== filter.msgType) return false;
  if (filter.peerId !== '' && row.peerId !== filter.peerId) return false;
  const needle = filter.text.trim().toLowerCase();
  return needle === '' || searchText.includes(needle);
}

export class RawMessageStore {
  /** Kept messages, oldest first; `messages[head]` is the oldest still kept. */
  private messages: StoredMessage[] = [];
  private head = 0;
  /** seq numbers of kept messages that match `filter`, oldest first, from `matchHead`. */
  private matches: number[] = [];
  private matchHead = 0;
  private filter: RawMessageFilter = EMPTY_FILTER;
  private nextSeq = 1;
  private bytesKept = 0;
  private messagesDropped = 0;
  private messagesCut = 0;
  private readonly msgTypes = new Set<string>();
  private readonly peers = new Map<string, string>();
  /** Losses, cuts, kernel counts, events with fields of the wrong types, and the session's status. */
  private readonly account: SessionAccount;
  private changed = false;

  constructor(private readonly limits: RawMessageLimits = DEFAULT_RAW_LIMITS) {
    this.account = new SessionAccount({ maxNamedCounters: limits.maxNamedCounters, maxSessionNotes: limits.maxNotes });
  }

  /** Something changed since the last `takeChanged()`. */
  takeChanged(): boolean {
    const was = this.changed;
    this.changed = false;
    return was;
  }

  get keptCount(): number {
    return this.messages.length - this.head;
  }

  get matchingCount(): number {
    return this.matches.length - this.matchHead;
  }

  get newestSeq(): number {
    return this.nextSeq - 1;
  }

  ingestAll(events: readonly NormalizedEvent[]): void {
    for (const event of events) this.ingest(event);
  }

  ingest(event: NormalizedEvent): void {
    const fields = event as unknown as Record<string, unknown>;
    switch (event.event) {
      case 'net:inbound_message':
      case 'net:outbound_message':
        this.ingestMessage(event.event === 'net:inbound_message' ? 'in' : 'out', fields);
        return;
      default:
        if (!this.account.take(event)) return;
    }
    this.changed = true;
  }

  markEnded(reason: string): void {
    if (!this.account.ended) {
      this.account.markEnded(reason);
      this.changed = true;
    }
  }

  private ingestMessage(direction: RawDirection, fields: Record<string, unknown>): void {
    const peerId = int64Text(fields.peer_id);
    const size = nonNegativeNumber(fields.msg_size);
    const hex = typeof fields.msg === 'string' ? fields.msg : '';
    if (peerId === undefined || size === undefined || typeof fields.msg_type !== 'string' || !HEX_PATTERN.test(hex)) {
      this.account.ignore();
      this.changed = true;
      return;
    }
    const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
    // `captured` is authoritative for cut detection; the bytes we got can only be fewer.
    const capturedField = nonNegativeNumber(fields.captured);
    const captured = Math.min(bytes.length, capturedField ?? bytes.length);
    const row: RawMessageRow = {
      seq: this.nextSeq++,
      elapsedNs: typeof fields.elapsed_ns === 'number' ? fields.elapsed_ns : 0,
      direction,
      peerId,
      peerAddr: typeof fields.peer_addr === 'string' ? fields.peer_addr : '',
      connType: typeof fields.conn_type === 'string' ? fields.conn_type : '',
      msgType: fields.msg_type,
      size,
      captured,
      cut: captured < size,
    };
    const stored: StoredMessage = {
      row,
      searchText: `${row.msgType}\u0000${row.peerAddr}\u0000${row.connType}\u0000${row.peerId}`.toLowerCase(),
      bytes: captured < bytes.length ? bytes.subarray(0, captured) : bytes,
    };
    if (row.cut) this.messagesCut++;
    if (this.msgTypes.size < this.limits.maxChoices) this.msgTypes.add(row.msgType);
    if (this.peers.has(peerId) || this.peers.size < this.limits.maxChoices) this.peers.set(peerId, row.peerAddr);
    this.messages.push(stored);
    this.bytesKept += stored.bytes.length;
    if (matchesFilter(row, stored.searchText, this.filter)) this.matches.push(row.seq);
    this.enforceLimits();
    this.changed = true;
  }

  private enforceLimits(): void {
    while (this.keptCount > 1 && (this.bytesKept > this.limits.maxBytes || this.keptCount > this.limits.maxMessages)) {
      const oldest = this.messages[this.head];
      this.head++;
      this.bytesKept -= oldest.bytes.length;
      this.messagesDropped++;
      if (this.matchHead < this.matches.length && this.matches[this.matchHead] === oldest.row.seq) this.matchHead++;
    }
    // Compact the arrays once the dropped prefix is large.
    if (this.head > 4_096 && this.head * 2 > this.messages.length) {
      this.messages = this.messages.slice(this.head);
      this.head = 0;
    }
    if (this.matchHead > 4_096 && this.matchHead * 2 > this.matches.length) {
      this.matches = this.matches.slice(this.matchHead);
      this.matchHead = 0;
    }
  }

  setFilter(filter: RawMessageFilter): void {
    this.filter = filter;
    this.matches = [];
    this.matchHead = 0;
    for (let i = this.head; i < this.messages.length; i++) {
      const stored = this.messages[i];
      if (matchesFilter(stored.row, stored.searchText, filter)) this.matches.push(stored.row.seq);
    }
    this.changed = true;
  }

  private find(seq: number): StoredMessage | undefined {
    const count = this.keptCount;
    if (count === 0) return undefined;
    // seq numbers are consecutive among kept messages.
    const index = this.head + (seq - this.messages[this.head].row.seq);
    return index >= this.head && index < this.messages.length && this.messages[index].row.seq === seq ? this.messages[index] : undefined;
  }

  /** Rows `start`.. of the matching list (oldest first); start -1: the newest `count` rows. */
  window(start: number, count: number): { start: number; rows: RawMessageRow[] } {
    const total = this.matchingCount;
    const first = start < 0 ? Math.max(0, total - count) : Math.min(start, Math.max(0, total - 1));
    const rows: RawMessageRow[] = [];
    for (let i = first; i < Math.min(total, first + count); i++) {
      const stored = this.find(this.matches[this.matchHead + i]);
      if (stored) rows.push(stored.row);
    }
    return { start: first, rows };
  }

  /** Position of message `seq` in the matching list, or undefined when it does not match (or is gone). */
  indexOf(seq: number): number | undefined {
    let low = this.matchHead;
    let high = this.matches.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const value = this.matches[middle];
      if (value === seq) return middle - this.matchHead;
      if (value < seq) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }

  row(seq: number): RawMessageRow | undefined {
    return this.find(seq)?.row;
  }

  /** Up to `length` captured bytes of message `seq` from `offset` (a view, not a copy). */
  bytes(seq: number, offset: number, length: number): Uint8Array | undefined {
    const stored = this.find(seq);
    if (!stored) return undefined;
    return stored.bytes.subarray(Math.min(offset, stored.bytes.length), Math.min(offset + length, stored.bytes.length));
  }

  decoded(seq: number): DecodedView | undefined {
    const stored = this.find(seq);
    if (!stored) return undefined;
    return decodeForDisplay(stored.row.msgType, stored.bytes, stored.row.size);
  }

  counters(): RawCounters {
    const { lostEvents, truncatedStrings, ignoredEvents, fired } = this.account.counts();
    return {
      messagesSeen: this.nextSeq - 1,
      messagesKept: this.keptCount,
      bytesKept: this.bytesKept,
      bytesLimit: this.limits.maxBytes,
      messagesDropped: this.messagesDropped,
      messagesCut: this.messagesCut,
      lostEvents,
      truncatedStrings,
      ignoredEvents,
      fired: [...fired],
    };
  }

  session(): RawSessionStatus {
    const { tool, binary, pid, ended, endReason, notes, attachedProbes, kernelFilter } = this.account.status();
    return {
      tool: tool || 'raw-p2p-msgs', binary, pid, ended, endReason, notes: notes.map((n) => ({ level: n.level, message: n.message.slice(0, MAX_NOTE_CHARS) })),
      attachedProbes, helperConnected: tool !== '', kernelFilter,
    };
  }

  choices(): RawFilterChoices {
    return {
      msgTypes: [...this.msgTypes].sort(),
      peers: [...this.peers].map(([id, addr]) => ({ id, addr })).sort((a, b) => Number(a.id) - Number(b.id)),
    };
  }

  summary(): RawSummary {
    return { counters: this.counters(), session: this.session(), choices: this.choices(), matching: this.matchingCount };
  }
}
