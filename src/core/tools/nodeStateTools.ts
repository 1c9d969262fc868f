// The bpftrace tools for connections, block validation, the UTXO cache and coin selection: p2p-connections,
// connectblock-benchmark, utxocache-flush, utxos and coin-selection. Their records are
// decoded by src/core/events/toolRecordDecoders.ts.

import type { ToolDefinition } from './toolCatalog';

const CONNECTION_TRACEPOINTS = [
  'net:inbound_connection',
  'net:outbound_connection',
  'net:evicted_inbound_connection',
  'net:misbehaving_connection',
  'net:closed_connection',
] as const;

const UTXO_TRACEPOINTS = ['utxocache:add', 'utxocache:spent', 'utxocache:uncache'] as const;

const COIN_SELECTION_TRACEPOINTS = [
  'coin_selection:selected_coins',
  'coin_selection:normal_create_tx_internal',
  'coin_selection:attempting_aps_create_tx',
  'coin_selection:aps_create_tx_internal',
] as const;

/**
 * Heights and milliseconds, passed to bpftrace as positional parameters: plain decimal without leading zeros
 * (bpftrace reads `010` as octal 8).
 */
const UNSIGNED_DECIMAL = '^(0|[1-9][0-9]{0,9})$';

export const NODE_STATE_TOOLS: readonly ToolDefinition[] = [
  {
    id: 'p2p-connections',
    title: 'P2P connections',
    description: 'Connections opened, evicted and closed, and misbehaving peers (Bitcoin Core v29+), with exact loss accounting.',
    script: 'p2p-connections.bt',
    tracepoints: CONNECTION_TRACEPOINTS,
    mode: 'stream',
    produces: [...CONNECTION_TRACEPOINTS, 'fired', 'lost', 'truncated'],
    parameters: [],
  },
  {
    id: 'connectblock-benchmark',
    title: 'ConnectBlock benchmark',
    description:
      'Block validation benchmark (use with -reindex): blocks, transactions, inputs and sigops per second counted in the kernel, ' +
      'a histogram of connect times, every block slower than the threshold, and the total time.',
    script: 'connectblock-benchmark.bt',
    tracepoints: ['validation:block_connected'],
    // Aggregated in the kernel; only blocks over the threshold are streamed (their losses are reconciled
    // by the tool's decoder from the kernel's count of printed blocks).
    mode: 'aggregate',
    produces: [
      'validation:block_rates',
      'validation:connect_histogram',
      'validation:block_connected',
      'validation:connect_summary',
      'fired',
      'lost',
    ],
    parameters: [
      { name: 'start', description: 'First block height counted (0: from the first block connected).', pattern: UNSIGNED_DECIMAL },
      { name: 'end', description: 'Last block height counted; the benchmark stops there (0: no end).', pattern: UNSIGNED_DECIMAL },
      {
        name: 'threshold_ms',
        description: 'Blocks whose connect time exceeds this many milliseconds are listed one by one (0: every block).',
        pattern: UNSIGNED_DECIMAL,
      },
    ],
  },
  {
    id: 'utxocache-flush',
    title: 'UTXO cache flushes',
    description: 'Every flush of the UTXO cache: duration, mode, coins and memory flushed, prune flag.',
    script: 'utxocache-flush.bt',
    tracepoints: ['utxocache:flush'],
    mode: 'stream',
    produces: ['utxocache:flush', 'fired', 'lost'],
    parameters: [],
  },
  {
    id: 'utxos',
    title: 'UTXO cache operations',
    description:
      'Coins added, spent and uncached: exact counts and rates from the kernel at any rate, and each coin (outpoint, height, value), with every loss counted.',
    script: 'utxos.bt',
    tracepoints: UTXO_TRACEPOINTS,
    mode: 'stream',
    produces: [...UTXO_TRACEPOINTS, 'utxocache:ops', 'fired', 'lost'],
    parameters: [],
  },
  {
    id: 'coin-selection',
    title: 'Wallet coin selection',
    description: 'Each transaction attempt of the wallet: coins selected (algorithm, target, waste), fee, change position, avoid-partial-spends.',
    script: 'coin-selection.bt',
    tracepoints: COIN_SELECTION_TRACEPOINTS,
    mode: 'stream',
    produces: [...COIN_SELECTION_TRACEPOINTS, 'fired', 'lost', 'truncated'],
    parameters: [],
  },
];
