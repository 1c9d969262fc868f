// What each tool panel compares of two runs (src/core/comparison/runProfile.ts): events per kind and the keys
// that tell runs apart for that tool (connection type, flush mode, reason, algorithm, …), and the values whose
// distributions matter (flush duration, coin value, fee rate, waste).

import type { NormalizedEvent } from '../events/eventTypes';
import type { ProfileMeasure, ProfileSpec } from '../comparison/runProfile';
import { recordsOfToolByEvent } from '../events/eventSchema';
import { TOOL_PANEL_TOOLS, type ToolPanelTool } from '../../shared/toolPanelProtocol';
import { boolField, fieldsOf, isRecord, numberField, stringField } from './eventFields';

/** The event's name after its context ("net:closed_connection" → "closed_connection"). */
function kindOf(event: NormalizedEvent): string {
  return event.event.slice(event.event.indexOf(':') + 1);
}

/** Keys without the ones whose value is missing. */
function keys(entries: Record<string, string | null>): Record<string, string> {
  return Object.fromEntries(Object.entries(entries).filter((e): e is [string, string] => e[1] !== null));
}

function samples(entries: Record<string, number | null>): Record<string, number> {
  return Object.fromEntries(Object.entries(entries).filter((e): e is [string, number] => e[1] !== null));
}

function feeRate(fee: unknown, vsize: unknown): number | null {
  const f = numberField(fee);
  const v = numberField(vsize);
  return f !== null && v !== null && v > 0 ? f / v : null;
}

function yesNo(value: unknown): string | null {
  const b = boolField(value);
  return b === null ? null : b ? 'yes' : 'no';
}

const connections: ProfileSpec = {
  events: 'events',
  amountUnit: null,
  distributions: {},
  measure(event) {
    if (!/^net:(inbound|outbound|evicted_inbound|closed|misbehaving)_connection$/.test(event.event)) return [];
    const f = fieldsOf(event);
    return [{ keys: keys({ event: kindOf(event), 'connection type': stringField(f.conn_type), network: stringField(f.network_name), 'misbehaving reason': stringField(f.message) }) }];
  },
};

const flush: ProfileSpec = {
  events: 'flushes',
  amountUnit: null,
  distributions: { 'flush duration': 'µs', 'coins flushed': 'coins', 'cache memory': 'bytes' },
  measure(event) {
    if (event.event !== 'utxocache:flush') return [];
    const f = fieldsOf(event);
    return [
      {
        keys: keys({ mode: stringField(f.mode_name), 'for prune': yesNo(f.is_flush_for_prune) }),
        samples: samples({ 'flush duration': numberField(f.duration_us), 'coins flushed': numberField(f.coins_count), 'cache memory': numberField(f.coins_mem_usage) }),
      },
    ];
  },
};

const utxos: ProfileSpec = {
  events: 'coins',
  amountUnit: null,
  distributions: { 'coin value': 'sat', 'coin height': '' },
  measure(event): readonly ProfileMeasure[] {
    const f = fieldsOf(event);
    if (event.event === 'utxocache:ops') {
      const counts = isRecord(f.counts) ? f.counts : {};
      const rows = ['add', 'spent', 'uncache'].map((key) => ({ key, count: numberField(counts[key]) ?? 0 }));
      return [{ totals: 'operations (kernel count)', rows, rate: { count: 'operations (kernel count)' } }];
    }
    if (event.event !== 'utxocache:add' && event.event !== 'utxocache:spent' && event.event !== 'utxocache:uncache') return [];
    return [{ keys: keys({ event: kindOf(event), coinbase: yesNo(f.is_coinbase) }), samples: samples({ 'coin value': numberField(f.value), 'coin height': numberField(f.height) }) }];
  },
};

const mempool: ProfileSpec = {
  events: 'events',
  amountUnit: null,
  distributions: { 'fee rate (added)': 'sat/vB', 'vsize (added)': 'vB', 'replacement fee rate': 'sat/vB' },
  measure(event) {
    const f = fieldsOf(event);
    switch (event.event) {
      case 'mempool:added':
        return [{ keys: { event: 'added' }, samples: samples({ 'fee rate (added)': feeRate(f.fee, f.vsize), 'vsize (added)': numberField(f.vsize) }) }];
      case 'mempool:removed':
        return [{ keys: keys({ event: 'removed', 'removal reason': stringField(f.reason) }) }];
      case 'mempool:rejected':
        return [{ keys: keys({ event: 'rejected', 'rejection reason': stringField(f.reason) }) }];
      case 'mempool:replaced':
        return [{ keys: { event: 'replaced' }, samples: samples({ 'replacement fee rate': feeRate(f.replacement_fee, f.replacement_vsize) }) }];
      default:
        return [];
    }
  },
};

const coinSelection: ProfileSpec = {
  events: 'events',
  amountUnit: null,
  distributions: { waste: 'sat', fee: 'sat' },
  measure(event) {
    if (!event.event.startsWith('coin_selection:')) return [];
    const f = fieldsOf(event);
    const success = yesNo(f.success);
    return [
      {
        keys: keys({ event: kindOf(event), algorithm: stringField(f.algo), 'succeeded (create tx)': success }),
        samples: samples({ waste: numberField(f.waste), fee: numberField(f.fee) }),
      },
    ];
  },
};

/** trace-tracepoint: hits per tracepoint (the readings are the user's choice, so no value is compared). */
const traced: ProfileSpec = {
  events: 'events',
  amountUnit: null,
  distributions: {},
  measure(event) {
    if (event.event !== 'tracepoint:hit') return [];
    return [{ keys: keys({ tracepoint: stringField(fieldsOf(event).tracepoint) }), samples: {} }];
  },
};

/** The tools that compare more than events by name. */
const OWN_PROFILES: Readonly<Partial<Record<ToolPanelTool, ProfileSpec>>> = {
  'p2p-connections': connections,
  'utxocache-flush': flush,
  utxos,
  'mempool-monitor': mempool,
  'coin-selection': coinSelection,
  'trace-tracepoint': traced,
};

/** Any other tool: its records counted by event (the generic view's kinds). */
function eventsProfile(tool: ToolPanelTool): ProfileSpec {
  const events = recordsOfToolByEvent(tool);
  return {
    events: 'events',
    amountUnit: null,
    distributions: {},
    measure: (event) => (events.has(event.event) ? [{ keys: { event: kindOf(event) } }] : []),
  };
}

export const TOOL_PROFILES: Readonly<Record<ToolPanelTool, ProfileSpec>> = Object.fromEntries(
  TOOL_PANEL_TOOLS.map((tool) => [tool, OWN_PROFILES[tool] ?? eventsProfile(tool)]),
) as Record<ToolPanelTool, ProfileSpec>;
