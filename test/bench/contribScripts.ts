// Contrib-style baselines for the tools measurement: for each tool, a bpftrace script that prints one line
// per event with one `printf` of the tool's fields, as Bitcoin Core's contrib/tracing/*.bt scripts do, with
// bpftrace's defaults (64-byte strings, 64-page perf buffers). Attach points take the binary as $1; each line
// starts with the tracepoint's name so lines can be counted per tracepoint.
//
// Differences from the real contrib scripts (see docs/performance.md):
// - log_utxos.bt and connectblock_benchmark.bt print a hash byte by byte (32 `printf` calls per event);
//   here a hash is one `printf` of its four 64-bit words (display order), which costs the traced thread less.
// - mempool_monitor.py, log_utxocache_flush.py and log_raw_p2p_msgs.py are BCC Python scripts; here they are
//   bpftrace printf scripts. bpftrace 0.17 reads only arg0–arg5, so mempool:replaced prints 6 of its 8
//   arguments, and the raw-message baseline prints the fields without the message bytes (log_p2p_traffic.bt).
// - Bitcoin Core has no contrib script for the connection and coin-selection tracepoints.

import { CONTRIB_P2P_TRAFFIC, type ContribScript } from './probeRunners';

/** The hash at `pointer` (32 bytes, internal order) as four 64-bit words, most significant first. */
function hashWords(pointer: string): string {
  return [24, 16, 8, 0].map((offset) => `*(uint64 *)(${pointer} + ${offset})`).join(', ');
}

const HASH_FORMAT = '%016lx%016lx%016lx%016lx';

interface ProbeLine {
  tracepoint: string;
  /** printf format after the tag (the tracepoint's name), without the newline. */
  format: string;
  args: readonly string[];
}

/** A script with one probe per tracepoint, each printing `<event name> <format>\n`. */
function printfScript(fileName: string, probes: readonly ProbeLine[]): ContribScript {
  const tag = (tracepoint: string): string => tracepoint.slice(tracepoint.indexOf(':') + 1);
  const text = probes
    .map((p) => `usdt:$1:${p.tracepoint}\n{\n  printf("${tag(p.tracepoint)} ${p.format}\\n", ${p.args.join(', ')});\n}\n`)
    .join('\n');
  return {
    fileName,
    text,
    tracepoints: probes.map((p) => p.tracepoint),
    lineTags: Object.fromEntries(probes.map((p) => [tag(p.tracepoint), p.tracepoint])),
  };
}

const CONNECTION_ARGS = ['(int64)arg0', 'str(arg1)', 'str(arg2)', '(uint32)arg3', '(uint64)arg4'];
const UTXO_FORMAT = `${HASH_FORMAT}:%d height %d value %d coinbase %d`;
const UTXO_ARGS = [hashWords('arg0'), '(uint32)arg1', '(uint32)arg2', '(int64)arg3', '(uint8)arg4'];

export const CONTRIB_SCRIPTS: Readonly<Record<string, ContribScript>> = {
  'p2p-connections': printfScript('log_p2p_connections.bt', [
    { tracepoint: 'net:inbound_connection', format: 'peer %d (%s, %s) network %d, %d inbound', args: CONNECTION_ARGS },
    { tracepoint: 'net:outbound_connection', format: 'peer %d (%s, %s) network %d, %d outbound', args: CONNECTION_ARGS },
    { tracepoint: 'net:evicted_inbound_connection', format: 'peer %d (%s, %s) network %d, established %d', args: CONNECTION_ARGS },
    { tracepoint: 'net:closed_connection', format: 'peer %d (%s, %s) network %d, established %d', args: CONNECTION_ARGS },
    { tracepoint: 'net:misbehaving_connection', format: 'peer %d: %s', args: ['(int64)arg0', 'str(arg1)'] },
  ]),
  'connectblock-benchmark': printfScript('connectblock_benchmark.bt', [
    {
      tracepoint: 'validation:block_connected',
      format: `%d (${HASH_FORMAT}) %d tx %d ins %d sigops took %d ns`,
      args: ['(int32)arg1', hashWords('arg0'), '(uint64)arg2', '(int32)arg3', '(uint64)arg4', '(uint64)arg5'],
    },
  ]),
  'utxocache-flush': printfScript('log_utxocache_flush.bt', [
    {
      tracepoint: 'utxocache:flush',
      format: 'duration %d us mode %d coins %d memory %d bytes prune %d',
      args: ['(int64)arg0', '(uint32)arg1', '(uint64)arg2', '(uint64)arg3', '(uint8)arg4'],
    },
  ]),
  utxos: printfScript('log_utxos.bt', [
    { tracepoint: 'utxocache:add', format: UTXO_FORMAT, args: UTXO_ARGS },
    { tracepoint: 'utxocache:spent', format: UTXO_FORMAT, args: UTXO_ARGS },
    { tracepoint: 'utxocache:uncache', format: UTXO_FORMAT, args: UTXO_ARGS },
  ]),
  'coin-selection': printfScript('log_coin_selection.bt', [
    {
      tracepoint: 'coin_selection:selected_coins',
      format: 'wallet %s algo %s target %d waste %d selected %d',
      args: ['str(arg0)', 'str(arg1)', '(int64)arg2', '(int64)arg3', '(int64)arg4'],
    },
    {
      tracepoint: 'coin_selection:normal_create_tx_internal',
      format: 'wallet %s success %d fee %d change_pos %d',
      args: ['str(arg0)', '(uint8)arg1', '(int64)arg2', '(int32)arg3'],
    },
    { tracepoint: 'coin_selection:attempting_aps_create_tx', format: 'wallet %s', args: ['str(arg0)'] },
    {
      tracepoint: 'coin_selection:aps_create_tx_internal',
      format: 'wallet %s use_aps %d success %d fee %d change_pos %d',
      args: ['str(arg0)', '(uint8)arg1', '(uint8)arg2', '(int64)arg3', '(int32)arg4'],
    },
  ]),
  'raw-p2p-msgs': CONTRIB_P2P_TRAFFIC,
  'mempool-monitor': printfScript('mempool_monitor.bt', [
    { tracepoint: 'mempool:added', format: `${HASH_FORMAT} vsize %d fee %d`, args: [hashWords('arg0'), '(int32)arg1', '(int64)arg2'] },
    {
      tracepoint: 'mempool:removed',
      format: `${HASH_FORMAT} reason %s vsize %d fee %d entry_time %d`,
      args: [hashWords('arg0'), 'str(arg1)', '(int32)arg2', '(int64)arg3', '(uint64)arg4'],
    },
    {
      tracepoint: 'mempool:replaced',
      format: `${HASH_FORMAT} vsize %d fee %d entry_time %d by ${HASH_FORMAT} vsize %d`,
      args: [hashWords('arg0'), '(int32)arg1', '(int64)arg2', '(uint64)arg3', hashWords('arg4'), '(int32)arg5'],
    },
    { tracepoint: 'mempool:rejected', format: `${HASH_FORMAT} reason %s`, args: [hashWords('arg0'), 'str(arg1)'] },
  ]),
};
