// `bitcoin-usdt run`: argument handling (tools, --start/--end/--threshold validated against the tool's
// patterns and mapped to the helper's parameters) and the human-readable output of every bpftrace tool.

import { strict as assert } from 'node:assert';
import { runCli } from '../../src/cli/cli';
import type { CliIo } from '../../src/cli/cliCommand';
import { EventPrinter, parseRunArgs, runProbeCommand } from '../../src/cli/runCommand';
import { ToolTextFormatter, formatHistogram, formatNsAsMs } from '../../src/cli/toolEventOutput';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { TOOLS } from '../../src/core/tools/toolCatalog';

const SELF_EXE = `/proc/${process.pid}/exe`;
const SELF_BINARY = process.execPath;

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), signal: new AbortController().signal };
  const code = await runCli(args, io);
  return { code, out, err };
}

async function usageError(args: string[], pattern: RegExp): Promise<void> {
  const result = await cli(['run', ...args]);
  assert.equal(result.code, 2, `${args.join(' ')}: ${result.err}`);
  assert.equal(result.out, '');
  assert.match(result.err, /^bitcoin-usdt: [^\n]+\n$/);
  assert.match(result.err, pattern);
}

describe('bitcoin-usdt run: arguments', () => {
  it('accepts every bpftrace tool of the catalog with --pid or --binary', async () => {
    for (const tool of TOOLS.filter((t) => t.script.endsWith('.bt'))) {
      const byPid = await parseRunArgs([tool.id, '--pid', String(process.pid)]);
      assert.equal(byPid.toolId, tool.id);
      assert.equal(byPid.pid, process.pid);
      assert.equal(byPid.binary, SELF_BINARY, `${SELF_EXE} resolves to the running binary`);
      assert.deepEqual(byPid.params, {});
      const byBinary = await parseRunArgs([tool.id, '--binary', SELF_BINARY, '--json', '--duration', '2.5']);
      assert.equal(byBinary.pid, null);
      assert.equal(byBinary.json, true);
      assert.equal(byBinary.durationS, 2.5);
    }
  });

  it('maps --start, --end and --threshold of connectblock-benchmark to the helper parameters', async () => {
    const options = await parseRunArgs(['connectblock-benchmark', '--binary', SELF_BINARY, '--start', '800000', '--end', '810000', '--threshold', '100']);
    assert.deepEqual(options.params, { start: '800000', end: '810000', threshold_ms: '100' });
    const some = await parseRunArgs(['connectblock-benchmark', '--binary', SELF_BINARY, '--threshold', '0']);
    assert.deepEqual(some.params, { threshold_ms: '0' }, 'unset parameters are left to the helper defaults (0)');
    const noEnd = await parseRunArgs(['connectblock-benchmark', '--binary', SELF_BINARY, '--start', '5', '--end', '0']);
    assert.deepEqual(noEnd.params, { start: '5', end: '0' }, 'end 0 means no end, whatever the start');
  });

  it('refuses parameter values bpftrace would misread, and parameters of another tool', async () => {
    const bench = ['connectblock-benchmark', '--binary', SELF_BINARY];
    await usageError([...bench, '--start', '010'], /--start must be a whole number/);
    await usageError([...bench, '--threshold=-1'], /--threshold must be a whole number/);
    await usageError([...bench, '--end', '1e5'], /--end must be a whole number/);
    await usageError([...bench, '--end', '12345678901'], /--end must be a whole number/);
    await usageError([...bench, '--start', ' 5'], /--start must be a whole number/);
    await usageError([...bench, '--start', '100', '--end', '99'], /--end 99 is below --start 100/);
    await usageError(['utxos', '--binary', SELF_BINARY, '--threshold', '5'], /--threshold is only for connectblock-benchmark, not utxos/);
    await usageError(['p2p-traffic', '--binary', SELF_BINARY, '--start', '1'], /--start is only for connectblock-benchmark/);
    await usageError([...bench, '--height', '1'], /Unknown option '--height'/);
  });

  it('refuses an unknown tool, a missing target, a bad PID or duration, and --follow without --pid', async () => {
    await usageError(['rm-rf', '--pid', '1'], /unknown tool 'rm-rf' \(tools: p2p-traffic, p2p-monitor, p2p-connections, connectblock-benchmark/);
    await usageError(['utxos'], /pass --pid N or --binary PATH/);
    await usageError(['utxos', '--pid', '0'], /--pid must be a positive number/);
    await usageError(['utxos', '--pid', '12a'], /--pid must be a positive number/);
    await usageError(['utxos', '--pid', '1', '--duration', '0'], /--duration must be a positive number/);
    await usageError(['utxos', '--binary', SELF_BINARY, '--follow'], /--follow needs --pid/);
    await usageError(['utxos', 'coin-selection', '--pid', '1'], /expected one tool name/);
    await usageError(['p2p-traffic', '--all-processes', '--pid', String(process.pid)], /--all-processes traces every process of --binary: it takes no --pid/);
    await usageError(['p2p-traffic', '--all-processes'], /--all-processes needs --binary PATH/);
    assert.equal((await parseRunArgs(['p2p-traffic', '--binary', SELF_BINARY, '--all-processes'])).pid, null);
    const missing = await cli(['run', 'utxos', '--binary', '/nonexistent/bitcoind']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /binary \/nonexistent\/bitcoind not found/);
  });

  it('help lists every tool and the benchmark options', async () => {
    const help = await cli(['run', '--help']);
    assert.equal(help.code, 0);
    for (const tool of TOOLS) assert.match(help.out, new RegExp(`^  ${tool.id} +${tool.title.replace(/[()]/g, '\\$&')}$`, 'm'));
    for (const option of ['--start H', '--end H', '--threshold MS', '--json', '--duration S', '--follow']) assert.ok(help.out.includes(option), option);
    assert.equal(help.out, runProbeCommand.help);
    for (const tool of TOOLS) assert.ok(runProbeCommand.summary.includes(tool.id), `summary names ${tool.id}`);
  });
});

function formatAll(tool: string, events: readonly NormalizedEvent[], params: Record<string, string> = {}): string[] {
  const formatter = new ToolTextFormatter(tool, params);
  return events.map((e) => formatter.format(e)).filter((t): t is string => t !== null).join('\n').split('\n');
}

describe('bitcoin-usdt run: tool output', () => {
  it('milliseconds from nanoseconds: exact, rounded to the microsecond, any int64', () => {
    assert.equal(formatNsAsMs(534_548_123), '534.548');
    assert.equal(formatNsAsMs(999_999_600), '1000.000');
    assert.equal(formatNsAsMs(0), '0.000');
    assert.equal(formatNsAsMs('9223372036854775807'), '9223372036854.776');
  });

  it('p2p-connections: one line per event like log_p2p_connections.bt, untrusted strings escaped', () => {
    const lines = formatAll('p2p-connections', [
      { event: 'net:inbound_connection', peer_id: 3, peer_addr: '[2001:db8::1]:8333', conn_type: 'inbound', network: 2, network_name: 'ipv6', existing: 4 },
      { event: 'net:outbound_connection', peer_id: '9223372036854775807', peer_addr: 'a.onion:18333', conn_type: 'manual', network: 3, network_name: 'onion', existing: 1 },
      { event: 'net:evicted_inbound_connection', peer_id: 3, peer_addr: '1.2.3.4:8333', conn_type: 'inbound', network: 1, network_name: 'ipv4', time_established: 1700000000 },
      { event: 'net:closed_connection', peer_id: 5, peer_addr: '1.2.3.5:8333', conn_type: 'feeler', network: 1, network_name: 'ipv4', time_established: 1700000001 },
      { event: 'net:misbehaving_connection', peer_id: 6, message: 'bad\u001b[2J\u202eproof' },
    ]);
    assert.deepEqual(lines, [
      'INBOUND conn from [2001:db8::1]:8333: id=3, type=inbound, network=ipv6, total=4',
      'OUTBOUND conn to a.onion:18333: id=9223372036854775807, type=manual, network=onion, total=1',
      'EVICTED conn to 1.2.3.4:8333: id=3, type=inbound, network=ipv4, established=1700000000',
      'CLOSED conn to 1.2.3.5:8333: id=5, type=feeler, network=ipv4, established=1700000001',
      "MISBEHAVING conn id=6, message='bad\\x1b[2J\\u202eproof'",
    ]);
  });

  it('connectblock-benchmark: banner, BENCH lines, slow blocks in ms, then the final histogram and "Took N ms" (not seconds)', () => {
    const totals = { blocks: 3, transactions: 30, inputs: 60, sigops: 90, duration_ns: 3_500_000_000, printed: 1 };
    const lines = formatAll('connectblock-benchmark', [
      { event: 'session:attached', probes: 3, pid: 1 },
      { event: 'validation:block_rates', elapsed_ns: 1e9, interval_ns: 0, blocks_per_s: 0, transactions_per_s: 0, inputs_per_s: 0, sigops_per_s: 0, height: null, totals: { ...totals, blocks: 0 } },
      { event: 'validation:block_connected', block_hash: 'ab'.repeat(32), height: 800001, transactions: 12, inputs: 34, sigops: 56, duration_ns: 2_000_000_000 },
      { event: 'validation:block_rates', elapsed_ns: 2e9, interval_ns: 1e9, blocks_per_s: 2.6, transactions_per_s: 30, inputs_per_s: 60, sigops_per_s: 90, height: 800002, totals },
      { event: 'validation:connect_summary', start_height: 800000, end_height: 0, threshold_ms: 1000, totals, connect_time_ns: 3_500_000_000, connect_time_ms: 3500, wall_time_ns: 1_250_000_000, wall_time_ms: 1250 },
      // the helper's own notices travel on stderr and may come between bpftrace's END output and its exit maps
      { event: 'session:message', level: 'info', message: 'target process 1 exited' },
      { event: 'validation:connect_histogram', unit: 'us', buckets: [{ min: 256, max: 511, count: 1 }, { min: 512, max: 1023, count: 0 }, { min: 1024, max: 2047, count: 2 }] },
      { event: 'fired', counts: { 'validation:block_connected': 3 } },
      { event: 'session:end', reason: 'bpftrace exited' },
    ], { start: '800000', threshold_ms: '1000' });
    assert.deepEqual(lines, [
      'Logging blocks from height 800000 to no end; listing blocks slower than 1000 ms',
      `Block 800001 (${'ab'.repeat(32)})   12 tx    34 ins    56 sigops took 2000.000 ms`,
      'BENCH    3 blk/s     30 tx/s      60 inputs/s       90 sigops/s (height 800002)',
      'ConnectBlock time (µs):',
      `[256, 512) 1 |${'@'.repeat(26).padEnd(52)}|`,
      `[512, 1K)  0 |${' '.repeat(52)}|`,
      `[1K, 2K)   2 |${'@'.repeat(52)}|`,
      'Took 1250.000 ms to connect the blocks between height 800000 and 800002 (3 blocks, from the first block\'s connect to the last\'s).',
      'ConnectBlock time: 3500.000 ms in total, 30 transactions, 60 inputs, 90 sigops; 1 block(s) listed.',
    ]);
  });

  it('connectblock-benchmark: an empty range says so', () => {
    const totals = { blocks: 0, transactions: 0, inputs: 0, sigops: 0, duration_ns: 0, printed: 0 };
    const lines = formatAll('connectblock-benchmark', [
      { event: 'validation:connect_summary', start_height: 5, end_height: 9, threshold_ms: 0, totals, connect_time_ns: 0, connect_time_ms: 0, wall_time_ns: null, wall_time_ms: null },
      { event: 'session:end', reason: 'stopped' },
    ]);
    assert.deepEqual(lines, ['No block between height 5 and 9 connected.']);
    assert.equal(formatHistogram('t', [{ min: 1, max: 1, count: 0 }]), 't\n(no values)');
  });

  it('utxocache-flush: a table like log_utxocache_flush.py (header once, memory in kB) with the thread that flushed', () => {
    const flush = { event: 'utxocache:flush', duration_us: 2081066, mode: 4, mode_name: 'FORCE_SYNC', coins_count: 59938210, coins_mem_usage: 5454377110, is_flush_for_prune: true, thread: 'b-scheduler' } as const;
    const recorded = Object.fromEntries(Object.entries(flush).filter(([name]) => name !== 'thread')) as unknown as NormalizedEvent; // a recording made before the thread was printed
    const lines = formatAll('utxocache-flush', [{ event: 'session:attached', probes: 2, pid: 1 }, flush, { ...flush, is_flush_for_prune: false }, recorded]);
    assert.deepEqual(lines, [
      '# Logging utxocache flushes. Ctrl-C to end...',
      'Duration (µs)   Mode       Coins Count     Memory Usage    Prune Thread',
      '2081066         FORCE_SYNC 59938210        5454377.11 kB   True  b-scheduler',
      '2081066         FORCE_SYNC 59938210        5454377.11 kB   False b-scheduler',
      '2081066         FORCE_SYNC 59938210        5454377.11 kB   True',
    ]);
  });

  it('utxos: rows like log_utxos.bt, and the kernel counts at the end', () => {
    const txid = 'e7e8287bf09be4f72b151554bcd923449a2c9c1a8ef8d6abb000b802b0e801e5';
    const coin = { txid, index: 7, height: 832229, value: 1554463, is_coinbase: false, outpoint: `${txid}:7` };
    const lines = formatAll('utxos', [
      { event: 'utxocache:add', ...coin },
      { event: 'utxocache:spent', ...coin, is_coinbase: true },
      { event: 'utxocache:ops', counts: { add: 10, spent: 4, uncache: 1 }, interval_ns: 1e9, per_second: { add: 10, spent: 4, uncache: 1 } },
      { event: 'session:end', reason: 'stopped' },
    ]);
    assert.deepEqual(lines, [
      `OP      ${'Outpoint'.padEnd(71)} ${'Value'.padStart(16)}  Height Coinbase`,
      `Added   ${txid}:7      ${'1554463'.padStart(16)}  832229 No`,
      `Spent   ${txid}:7      ${'1554463'.padStart(16)}  832229 Yes`,
      '# counted in the kernel: 10 added, 4 spent, 1 uncached',
    ]);
  });

  it('coin-selection: one line per step, wallet names escaped', () => {
    const lines = formatAll('coin-selection', [
      { event: 'coin_selection:selected_coins', wallet_name: '', algo: 'bnb', target: 100, waste: -5, selected_value: 120 },
      { event: 'coin_selection:normal_create_tx_internal', wallet_name: 'a\u202eb', success: false, fee: 0, change_pos: -1 },
      { event: 'coin_selection:attempting_aps_create_tx', wallet_name: 'w' },
      { event: 'coin_selection:aps_create_tx_internal', wallet_name: 'w', use_aps: true, success: true, fee: '9007199254740993', change_pos: 1 },
    ]);
    assert.deepEqual(lines, [
      "selected_coins wallet='' algo=bnb target=100 waste=-5 selected_value=120",
      "normal_create_tx_internal wallet='a\\u202eb' success=false fee=0 change_pos=-1",
      "attempting_aps_create_tx wallet='w'",
      "aps_create_tx_internal wallet='w' use_aps=true success=true fee=9007199254740993 change_pos=1",
    ]);
  });
});

describe('bitcoin-usdt run: fired counts', () => {
  it('prints a fired record only when its counts changed (the helper repeats them every 0.5 s)', () => {
    let out = '';
    const io = { out: (text: string) => (out += text), err: () => undefined, signal: new AbortController().signal };
    const printer = new EventPrinter(io, true, new ToolTextFormatter('p2p-traffic', {}));
    const fired = (n: number, elapsed: number): NormalizedEvent => ({ event: 'fired', counts: { 'net:inbound_message': n }, elapsed_ns: elapsed });
    printer.print([fired(1, 1), fired(1, 2)]);
    printer.print([fired(1, 3), fired(2, 4), fired(2, 5)]);
    assert.deepEqual(out.trim().split('\n').map((line) => (JSON.parse(line) as { elapsed_ns: number }).elapsed_ns), [1, 4]);
  });

  it('a session filtered in the kernel: its per-peer totals (every message) are printed when they change, headed as what they are', () => {
    let out = '';
    let err = '';
    const io = { out: (text: string) => (out += text), err: (text: string) => (err += text), signal: new AbortController().signal };
    const printer = new EventPrinter(io, false, new ToolTextFormatter('p2p-traffic', {}));
    const totals = (n: number, elapsed: number): NormalizedEvent => ({
      event: 'p2p:peer_totals', elapsed_ns: elapsed,
      peers: [{ pid: 7, peer_id: 0, peer_addr: '', conn_type: '', msgs_in: n, bytes_in: 10 * n, msgs_out: 0, bytes_out: 0 }, { pid: 7, peer_id: 1, peer_addr: '', conn_type: '', msgs_in: 1, bytes_in: 8, msgs_out: 0, bytes_out: 0 }],
    });
    printer.print([
      { event: 'session:start', tool: 'p2p-traffic', binary: '/b', pid: 7, filters: { peer: '1' } },
      { event: 'net:inbound_message', elapsed_ns: 1, pid: 7, peer_id: 1, peer_addr: '1.2.3.4:8333', conn_type: 'inbound', msg_type: 'ping', msg_size: 8 },
      totals(5, 2), totals(5, 3), totals(6, 4),
    ]);
    assert.match(err, /^# p2p-traffic on \/b \(PID 7\)/);
    const lines = out.trim().split('\n');
    assert.equal(lines[0], "inbound msg 'ping' from peer 1 (inbound, 1.2.3.4:8333) with 8 bytes");
    const headings = lines.filter((line) => line === 'every message per peer, filtered out or not (counted in the kernel):');
    assert.equal(headings.length, 2, 'the unchanged totals are not printed again');
    assert.match(lines[lines.length - 2], /^0 +6 +60 +0 +0$/);
    assert.match(lines[lines.length - 1], /^1 +1 +8 +0 +0$/);
  });
});
