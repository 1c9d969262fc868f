// Every probe tool, run for real through the command line (`node dist/cli.js run <tool> --pid N --json`, as root,
// through the real helper and the real bpftrace/BCC) against a real bitcoind on a two-node regtest network while
// the wallet workload runs; its events are compared field by field with bitcoind's own account: debug.log
// (-debug=net, -debug=coindb), getpeerinfo, getblock, getmempoolentry, gettransaction and the wallet's results.
// The same tests run on the older (pre-v29, TRACEn) node for every tool its tracepoints allow.
// Needs root, bpftrace, BCC and the environment of scripts/unpack-real-node.sh (see realNodeEnv.ts).

import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { parseDebugLog } from './debugLog';
import { bitcoinSource, masterBuild, oldBuild, type RealNodeBuild } from './realNodeEnv';
import { RegtestNetwork } from './regtestNetwork';
import { buildCli, eventsOf, withTool } from './toolRun';
import { findCallSites } from '../../src/core/source/callSiteFinder';
import { proposeTraceForBinary } from '../../src/core/trace/traceProposal';
import { readingsText } from '../../src/core/trace/traceReadings';
import { join } from 'node:path';
import { makeWalletTemplate, runWorkload, startNetwork } from './walletWorkload';
import { checkTracedBlocks, checkTracedOutboundMessages, checkBenchmark, checkCoinSelection, checkConnections, checkFlushes, checkMempool, checkMempoolEvents, checkP2pMonitor, checkP2pTraffic, checkRawMessages, checkUtxos, type Observed } from './groundTruth';

/**
 * A fresh network, the tool attached to its first node, the workload, then `check` with the nodes still running
 * (for RPCs; bitcoind writes debug.log unbuffered, so it is complete); both nodes are stopped and deleted after.
 */
async function observe(build: RealNodeBuild, template: string, tool: string, check: (observed: Observed) => void | Promise<void>, toolArgs: readonly string[] = []): Promise<void> {
  const network = new RegtestNetwork();
  try {
    const { node, peer } = await startNetwork(network, build, template);
    const run = await withTool(tool, node.pid, () => runWorkload(network, node, peer, bitcoinSource()), toolArgs);
    const observed: Observed = { run, log: parseDebugLog(node.debugLog()), build };
    assertCleanSession(observed, tool);
    await check(observed);
  } finally {
    await network.stopAll();
  }
}

/** Session framing: clean start and end, no warnings, nothing lost. */
function assertCleanSession(observed: Observed, tool: string): void {
  const { run } = observed;
  assert.equal(run.code, 0, `exit code (stderr: ${run.stderr})`);
  assert.equal(run.events[0]?.event, 'session:start');
  assert.equal(run.events[0].tool, tool);
  assert.equal(run.events[run.events.length - 1].event, 'session:end');
  const warnings = run.events.filter((e) => e.event === 'session:message' && e.level !== 'info');
  assert.deepEqual(warnings, [], 'no warnings or errors');
  const lost = eventsOf(run, 'lost').reduce((n, e) => n + Number(e.count), 0);
  assert.equal(lost, 0, 'nothing lost');
}

function toolSuite(label: string, build: () => RealNodeBuild, { v29 }: { v29: boolean }): void {
  describe(`real node (${label}): each tool against bitcoind's own account`, function () {
    this.timeout(240_000);
    let node: RealNodeBuild;
    let template = '';

    before(async function () {
      this.timeout(180_000);
      assert.equal(process.getuid?.(), 0, 'the real-node tier runs the helper as root without sudo');
      node = build();
      bitcoinSource();
      await buildCli();
      template = await makeWalletTemplate(node);
    });

    after(() => {
      if (template) rmSync(template, { recursive: true, force: true });
    });

    it('p2p-traffic: every message (direction, type, size, peer id, address, connection type) equals debug.log', async () => {
      await observe(node, template, 'p2p-traffic', checkP2pTraffic);
    });

    it('p2p-monitor: per-peer and per-type totals equal the sums of debug.log', async () => {
      await observe(node, template, 'p2p-monitor', checkP2pMonitor);
    });

    it('raw-p2p-msgs: every message as in debug.log; block, tx and ping/pong bytes equal the node’s own', async () => {
      await observe(node, template, 'raw-p2p-msgs', checkRawMessages);
    });

    if (v29) {
      it('p2p-connections: opened, evicted, misbehaving and closed connections equal debug.log and getpeerinfo', async () => {
        await observe(node, template, 'p2p-connections', checkConnections);
      });
    }

    it('connectblock-benchmark: every block equals getblock (hash, height, transactions, inputs, sigops)', async () => {
      await observe(node, template, 'connectblock-benchmark', checkBenchmark, ['--threshold', '0']);
    });

    it('utxocache-flush: every flush equals debug.log’s chainstate writes', async () => {
      await observe(node, template, 'utxocache-flush', checkFlushes);
    });

    it('utxos: every coin the workload’s blocks created and spent, with exact value, height and coinbase flag', async () => {
      await observe(node, template, 'utxos', checkUtxos);
    });

    it('coin-selection: each send’s fee, change position and selected value equal the wallet’s transaction', async () => {
      await observe(node, template, 'coin-selection', checkCoinSelection);
    });

    it('mempool-monitor: added, replaced, removed and rejected equal getmempoolentry, bumpfee and the RPC error', async () => {
      await observe(node, template, 'mempool-monitor', checkMempool);
    });

    it('mempool-events: added, replaced (arguments 0-5), removed and rejected equal getmempoolentry, bumpfee and the RPC error', async () => {
      await observe(node, template, 'mempool-events', checkMempoolEvents);
    });

    // Trace this tracepoint: the readings proposed from this build's notes and the source's call sites, then
    // the generated probe (trace-tracepoint) through the CLI and the helper.
    const traced = async (tracepoint: string): Promise<string[]> => {
      const callSites = await findCallSites([join(bitcoinSource(), 'src')]);
      const proposal = await proposeTraceForBinary(node.bitcoind, tracepoint, callSites.get(tracepoint) ?? []);
      const readings = readingsText(proposal.proposals.map((p) => p.reading));
      return ['--tracepoint', tracepoint, '--args', readings];
    };

    it('trace-tracepoint validation:block_connected, read as proposed: hash, height, transactions, inputs, sigops equal getblock', async () => {
      const args = await traced('validation:block_connected');
      // The connect time is a signed int64 since v29; up to 28.99 a std::chrono duration, which sdt.h marks unsigned.
      assert.deepEqual(args, ['--tracepoint', 'validation:block_connected', '--args', `hash,s32,u64,s32,s64,${v29 ? 's64' : 'u64'}`]);
      await observe(node, template, 'trace-tracepoint', checkTracedBlocks, args);
    });

    it('trace-tracepoint net:outbound_message, read as proposed: every message sent (peer, address, type, size) equals debug.log', async () => {
      const args = await traced('net:outbound_message');
      assert.deepEqual(args, ['--tracepoint', 'net:outbound_message', '--args', 's64,str71,str71,str71,u64,-']);
      await observe(node, template, 'trace-tracepoint', checkTracedOutboundMessages, args);
    });
  });
}

toolSuite('master, BITCOIND', masterBuild, { v29: true });
toolSuite('older pre-v29 node, BITCOIND_OLD', oldBuild, { v29: false });
