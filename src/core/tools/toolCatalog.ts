// The probe tools the helper can run: one bpftrace script each in probes/, with the tracepoints it needs.
// The helper (probes/bitcoin-usdt-helper.py) has the same list of tool ids and script files.

import { NODE_STATE_TOOLS } from './nodeStateTools';

export interface ToolParameter {
  name: string;
  description: string;
  /** Pattern the value must match (the helper checks it again). */
  pattern: string;
}

export interface ToolDefinition {
  id: string;
  title: string;
  description: string;
  /** File name inside the extension's probes/ directory. */
  script: string;
  /** Tracepoints (provider:name) the script attaches to; all must exist in the binary. */
  tracepoints: readonly string[];
  /** `stream`: one event per tracepoint hit (losses possible, all counted); `aggregate`: counted in the kernel. */
  mode: 'stream' | 'aggregate';
  /** Normalized events the tool produces. */
  produces: readonly string[];
  parameters: readonly ToolParameter[];
}

const P2P_MESSAGES = ['net:inbound_message', 'net:outbound_message'] as const;

export const TOOLS: readonly ToolDefinition[] = [
  {
    id: 'p2p-traffic',
    title: 'P2P traffic',
    description: 'Every P2P message sent and received (peer, address, connection type, message type, size), with exact loss accounting.',
    script: 'p2p-traffic.bt',
    tracepoints: P2P_MESSAGES,
    mode: 'stream',
    produces: ['net:inbound_message', 'net:outbound_message', 'fired', 'lost', 'truncated'],
    parameters: [],
  },
  {
    id: 'p2p-monitor',
    title: 'P2P monitor (per-peer totals)',
    description: 'Messages and bytes per peer and per message type, counted in the kernel: exact at any message rate.',
    script: 'p2p-monitor.bt',
    tracepoints: P2P_MESSAGES,
    mode: 'aggregate',
    produces: ['p2p:peer_totals', 'p2p:msg_type_totals', 'fired', 'truncated'],
    parameters: [],
  },
  ...NODE_STATE_TOOLS,
  {
    id: 'raw-p2p-msgs',
    title: 'Raw P2P messages',
    description:
      'Every P2P message with its whole payload (up to the 4,000,000-byte protocol maximum), for the hex and decoded views. BCC; needs a PID on v29+ builds.',
    script: 'raw-p2p-msgs.py',
    tracepoints: P2P_MESSAGES,
    mode: 'stream',
    produces: ['net:inbound_message', 'net:outbound_message', 'fired', 'lost', 'truncated'],
    parameters: [],
  },
  {
    id: 'mempool-monitor',
    title: 'Mempool monitor',
    description:
      'Transactions added to, removed from (with reason), replaced in (every argument the build passes: 8 since v29, 7 before) and rejected by the mempool. BCC; needs a PID on v29+ builds.',
    script: 'mempool-monitor.py',
    tracepoints: ['mempool:added', 'mempool:removed', 'mempool:replaced', 'mempool:rejected'],
    mode: 'stream',
    produces: ['mempool:added', 'mempool:removed', 'mempool:replaced', 'mempool:rejected', 'fired', 'lost', 'truncated'],
    parameters: [],
  },
];

export function findTool(id: string): ToolDefinition | undefined {
  return TOOLS.find((tool) => tool.id === id);
}

/** The program that runs a tool's probe: BCC for the Python scripts, bpftrace for the rest. */
export function toolFrontEnd(id: string): 'BCC' | 'bpftrace' {
  return findTool(id)?.script.endsWith('.py') ? 'BCC' : 'bpftrace';
}

/** Tracepoints whose every hit a tool streams (the decoder's loss accounting covers these). */
export function streamedTracepoints(tool: ToolDefinition): readonly string[] {
  return tool.mode === 'stream' ? tool.tracepoints : [];
}

export interface ToolAvailability {
  tool: ToolDefinition;
  available: boolean;
  /** Why not, when unavailable (e.g. "needs net:inbound_message, which this binary lacks"). */
  reason?: string;
  missing: string[];
}

/** Which tools can run against a binary that has these tracepoints ("provider:name"). */
export function toolsAvailableFor(tracepointNames: readonly string[]): ToolAvailability[] {
  const present = new Set(tracepointNames);
  return TOOLS.map((tool) => {
    const missing = tool.tracepoints.filter((name) => !present.has(name));
    if (missing.length === 0) return { tool, available: true, missing };
    const reason =
      present.size === 0
        ? 'the binary has no USDT tracepoints (build Bitcoin Core with -DWITH_USDT=ON)'
        : `needs ${missing.join(', ')}, which this binary lacks`;
    return { tool, available: false, reason, missing };
  });
}
