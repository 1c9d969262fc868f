// Feeds bpftrace `-f json` lines (or the helper's stream) to one tool's record decoder the way
// BpftraceDecoder delegates to it, and keeps the session's accounts: kernel fired counts, delivered,
// bpftrace-reported losses, malformed lines, cut strings. Used by the unit and the tools tests.

import { FLUSH_MODE_NAMES } from '../../../src/core/catalog/tracepointCatalog';
import { JsonObject, byteLength, parseBpftraceJson } from '../../../src/core/events/bpftraceJson';
import { nonArgumentFields } from '../../../src/core/events/eventSchema';
import { FiringOrder } from '../../../src/core/events/firingOrder';
import type { Int64Field, NormalizedEvent } from '../../../src/core/events/eventTypes';
import {
  createToolRecordDecoder,
  type ToolDecodedEvent,
  type ToolRecordContext,
  type ToolRecordDecoder,
} from '../../../src/core/events/toolRecordDecoders';

const STRING_LIMIT_BYTES = 71;

export class ToolRecordStream {
  readonly events: ToolDecodedEvent[] = [];
  readonly helperEvents: string[] = [];
  readonly malformed: string[] = [];
  /** The kernel's fired counts summed over processes, per tracepoint. */
  fired: Record<string, number> = {};
  /** The processes the kernel counted (`@fired[pid, tracepoint]`). */
  firedPids = new Set<number>();
  /** The `pid` of every decoded event that has one. */
  readonly eventPids = new Set<number>();
  delivered = 0;
  lostReported = 0;
  private lastElapsed = 0;
  private readonly decoder: ToolRecordDecoder;
  private readonly context: ToolRecordContext;

  /** `flushModeNames`: the traced build's names of flush modes (default: the current ones, for an unknown version). */
  constructor(readonly toolId: string, flushModeNames: readonly string[] = FLUSH_MODE_NAMES) {
    const decoder = createToolRecordDecoder(toolId);
    if (!decoder) throw new Error(`no record decoder for tool ${toolId}`);
    this.decoder = decoder;
    this.context = {
      elapsedNs: (value: Int64Field) => (this.lastElapsed = Number(value)),
      lastElapsedNs: () => this.lastElapsed,
      delivered: () => {
        this.delivered++;
      },
      reconcile: (printed: number): NormalizedEvent[] => {
        const unreported = printed - this.delivered - this.lostReported;
        return unreported === 0 ? [] : [{ event: 'lost', elapsed_ns: this.lastElapsed, count: unreported, source: 'reconciled' }];
      },
      flushModeNames: () => flushModeNames,
      checkCut: (field: string, value: string): NormalizedEvent[] =>
        byteLength(value) >= STRING_LIMIT_BYTES ? [{ event: 'truncated', elapsed_ns: this.lastElapsed, field, count: 1 }] : [],
      checkCutAt: (field: string, value: string, limit: number): NormalizedEvent[] =>
        byteLength(value) >= limit ? [{ event: 'truncated', elapsed_ns: this.lastElapsed, field, count: 1 }] : [],
      traceSpec: () => null,
    };
  }

  push(line: string | Buffer): void {
    if (line.length === 0 || (typeof line === 'string' && line.trim() === '')) return;
    const value = parseBpftraceJson(line);
    if (!(value instanceof JsonObject)) throw new Error(`not a record: ${String(line)}`);
    const type = value.get('type');
    const data = value.get('data');
    if (typeof type !== 'string') throw new Error(`record without type: ${String(line)}`);
    if (type === 'helper') {
      if (data instanceof JsonObject && typeof data.get('event') === 'string') this.helperEvents.push(String(data.get('event')));
      return;
    }
    if (type === 'lost_events') {
      const count = data instanceof JsonObject ? data.get('events') : undefined;
      if (typeof count === 'number') this.lostReported += count;
      return;
    }
    if (type === 'attached_probes') return;
    let decoded: ToolDecodedEvent[] | null;
    try {
      decoded = this.decoder({ type, data }, this.context);
    } catch (err) {
      this.malformed.push(`${err instanceof Error ? err.message : String(err)}: ${String(line).slice(0, 120)}`);
      return;
    }
    if (decoded) {
      for (const event of decoded) {
        const pid = (event as { pid?: unknown }).pid;
        if (typeof pid === 'number') this.eventPids.add(pid);
      }
      this.events.push(...decoded);
      return;
    }
    const fired = type === 'map' && data instanceof JsonObject ? data.get('@fired') : undefined;
    if (fired instanceof JsonObject) {
      this.fired = {};
      this.firedPids = new Set();
      for (const [key, count] of fired.entries) {
        if (typeof count !== 'number') continue;
        const [, pid, tracepoint] = /^(\d+),(.*)$/.exec(key) ?? [key, '', key];
        if (pid !== '') this.firedPids.add(Number(pid));
        this.fired[tracepoint] = (this.fired[tracepoint] ?? 0) + count;
      }
      return;
    }
    this.malformed.push(`not decoded: ${String(line).slice(0, 120)}`);
  }

  pushAll(text: string): this {
    for (const line of text.split('\n')) this.push(line);
    return this;
  }

  /** The decoded events of these types, without `elapsed_ns` and `pid` (to compare with the tracee's expectation). */
  /** The named events' fields in firing order, as the reader gives them (FiringOrder: bpftrace prints per CPU). */
  fields(...names: string[]): Array<Record<string, unknown>> {
    const inFiringOrder: NormalizedEvent[] = [];
    const order = new FiringOrder();
    for (const event of this.events) order.push(event as NormalizedEvent, inFiringOrder);
    order.releaseAll(inFiringOrder);
    return inFiringOrder
      .filter((e) => names.includes(e.event))
      .map((e) => omit(e as unknown as Record<string, unknown>, ['elapsed_ns', 'pid']));
  }

  firedTotal(names: readonly string[]): number {
    return names.reduce((sum, name) => sum + (this.fired[name] ?? 0), 0);
  }

  lostTotal(): number {
    return this.events.reduce((sum, e) => sum + (e.event === 'lost' ? e.count : 0), 0);
  }
}

/** Drops the fields the decoders add (names, outpoints) so events compare with the tracee's --expect lines. */
/** The event without the fields a tracee cannot expect: derived ones and those from the probe's context. */
export function withoutDerivedFields(event: Record<string, unknown>): Record<string, unknown> {
  return omit(event, [...NON_ARGUMENT_FIELDS]);
}

const NON_ARGUMENT_FIELDS = nonArgumentFields();

function omit(record: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !names.includes(key)));
}

export function readNdjson(text: string): Array<Record<string, unknown>> {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}
