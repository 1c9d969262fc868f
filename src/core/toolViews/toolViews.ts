// One aggregator per tool panel session: the tool's own view, or the generic view of its records' field tables.

import { RECORD_SPECS, type RecordSpec } from '../events/eventSchema';
import { isToolPanelTool, type ToolPanelTool } from '../../shared/toolPanelProtocol';
import { CoinSelectionAggregator } from './coinSelectionView';
import { ConnectionsAggregator } from './connectionsView';
import { FlushAggregator } from './flushView';
import { GenericAggregator } from './genericView';
import { MempoolAggregator } from './mempoolView';
import type { ToolViewAggregator, ToolViewOptions } from './toolViewBase';
import { UtxosAggregator } from './utxosView';
import { TraceAggregator } from './traceView';

export type { ToolViewAggregator, ToolViewOptions } from './toolViewBase';

/** The tools with a view of their own; every other tool on the tool panel gets the generic view. */
const OWN_VIEWS: Readonly<Partial<Record<ToolPanelTool, (options: ToolViewOptions) => ToolViewAggregator>>> = {
  'p2p-connections': (options) => new ConnectionsAggregator(options),
  'utxocache-flush': (options) => new FlushAggregator(options),
  utxos: (options) => new UtxosAggregator(options),
  'mempool-monitor': (options) => new MempoolAggregator(options),
  'coin-selection': (options) => new CoinSelectionAggregator(options),
  'trace-tracepoint': (options) => new TraceAggregator(options),
};

export function hasOwnView(tool: ToolPanelTool): boolean {
  return OWN_VIEWS[tool] !== undefined;
}

export function createToolViewAggregator(tool: ToolPanelTool, options: ToolViewOptions = {}): ToolViewAggregator {
  return OWN_VIEWS[tool]?.(options) ?? new GenericAggregator(tool, options);
}

/** Events that are no tuple record of the schema, and the tool they belong to. */
const OTHER_EVENTS: ReadonlyMap<string, ToolPanelTool> = new Map([
  ['tracepoint:hit', 'trace-tracepoint'],
  ['tracepoint:spec', 'trace-tracepoint'],
]);

/** Each event name's tool: the first tool on the tool panel whose records (eventSchema.ts) include it. */
const TOOL_OF_EVENT: ReadonlyMap<string, ToolPanelTool> = (() => {
  const tools = new Map<string, ToolPanelTool>();
  for (const spec of RECORD_SPECS as readonly RecordSpec[]) if (!tools.has(spec.event) && isToolPanelTool(spec.tool)) tools.set(spec.event, spec.tool);
  return tools;
})();

/**
 * The tool whose panel shows a session whose header names no panel tool but whose events belong to one. An event
 * two tools print (mempool:* by mempool-monitor and mempool-events) goes to the tool listed first in the schema.
 */
export function toolOfEvent(event: string): ToolPanelTool | null {
  return TOOL_OF_EVENT.get(event) ?? OTHER_EVENTS.get(event) ?? null;
}
