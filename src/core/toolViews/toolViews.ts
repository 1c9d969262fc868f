// One aggregator per tool panel session.

import type { ToolPanelTool } from '../../shared/toolPanelProtocol';
import { CoinSelectionAggregator } from './coinSelectionView';
import { ConnectionsAggregator } from './connectionsView';
import { FlushAggregator } from './flushView';
import { MempoolAggregator } from './mempoolView';
import type { ToolViewAggregator, ToolViewOptions } from './toolViewBase';
import { UtxosAggregator } from './utxosView';
import { TraceAggregator } from './traceView';

export type { ToolViewAggregator, ToolViewOptions } from './toolViewBase';

export function createToolViewAggregator(tool: ToolPanelTool, options: ToolViewOptions = {}): ToolViewAggregator {
  switch (tool) {
    case 'p2p-connections':
      return new ConnectionsAggregator(options);
    case 'utxocache-flush':
      return new FlushAggregator(options);
    case 'utxos':
      return new UtxosAggregator(options);
    case 'mempool-monitor':
      return new MempoolAggregator(options);
    case 'coin-selection':
      return new CoinSelectionAggregator(options);
    case 'trace-tracepoint':
      return new TraceAggregator(options);
  }
}

/** The tool whose panel shows a session whose header names no panel tool but whose events belong to one. */
export function toolOfEvent(event: string): ToolPanelTool | null {
  if (/^net:(inbound|outbound|evicted_inbound|closed|misbehaving)_connection$/.test(event)) return 'p2p-connections';
  if (event === 'utxocache:flush') return 'utxocache-flush';
  if (event === 'utxocache:add' || event === 'utxocache:spent' || event === 'utxocache:uncache') return 'utxos';
  if (event.startsWith('mempool:')) return 'mempool-monitor';
  if (event.startsWith('coin_selection:')) return 'coin-selection';
  if (event === 'tracepoint:hit' || event === 'tracepoint:spec') return 'trace-tracepoint';
  return null;
}
