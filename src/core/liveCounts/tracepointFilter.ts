// Which filter of a tool's panel shows one tracepoint's events: "Show in panel" from a call site opens the
// session's panel with it set.

import { recordsOfToolByEvent } from '../events/eventSchema';
import { isToolPanelTool } from '../../shared/toolPanelProtocol';
import { hasOwnView } from '../toolViews/toolViews';

/** The filter a panel applies for a tracepoint; null: the panel shows only that tracepoint's events anyway (one tracepoint), or shows its tracepoints side by side (P2P). */
export type TracepointPanelFilter =
  | { readonly panel: 'tool'; readonly kind: string }
  | { readonly panel: 'rawMessages'; readonly direction: 'in' | 'out' };

const TOOL_PANEL_KINDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  utxos: { 'utxocache:add': 'add', 'utxocache:spent': 'spent', 'utxocache:uncache': 'uncache' },
  'mempool-monitor': { 'mempool:added': 'added', 'mempool:removed': 'removed', 'mempool:replaced': 'replaced', 'mempool:rejected': 'rejected' },
  'p2p-connections': {
    'net:inbound_connection': 'inbound',
    'net:outbound_connection': 'outbound',
    'net:evicted_inbound_connection': 'evicted',
    'net:closed_connection': 'closed',
    'net:misbehaving_connection': 'misbehaving',
  },
  'coin-selection': { 'coin_selection:attempting_aps_create_tx': 'aps', 'coin_selection:aps_create_tx_internal': 'aps' },
};

/** A tool on the generic view (no view of its own): its kinds are its records' event names. */
function genericKind(tool: string, tracepoint: string): string | undefined {
  if (!isToolPanelTool(tool) || hasOwnView(tool)) return undefined;
  return recordsOfToolByEvent(tool).has(tracepoint) ? tracepoint : undefined;
}

const MESSAGE_DIRECTIONS: Readonly<Record<string, 'in' | 'out'>> = { 'net:inbound_message': 'in', 'net:outbound_message': 'out' };

export function tracepointPanelFilter(tool: string, tracepoint: string): TracepointPanelFilter | null {
  const kind = TOOL_PANEL_KINDS[tool]?.[tracepoint] ?? genericKind(tool, tracepoint);
  if (kind !== undefined) return { panel: 'tool', kind };
  const direction = MESSAGE_DIRECTIONS[tracepoint];
  if (direction === undefined) return null;
  // The P2P panel (p2p-traffic, p2p-monitor) shows both directions side by side: it has no direction filter.
  return tool === 'raw-p2p-msgs' ? { panel: 'rawMessages', direction } : null;
}
