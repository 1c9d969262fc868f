// The reindex benchmark's own machinery on a small chain (test/bench/reindexChain.ts, reindexBench.ts): the chain
// maker's counts are what a real -reindex-chainstate fires (the kernel's count through the real helper, and the
// contrib script's lines), and the timing brackets the reindex alone: the node waits on its config FIFO while
// the tracer attaches, and reaches the chain's tip before it stops by itself. Needs root, bpftrace and the
// environment of scripts/unpack-real-node.sh (see realNodeEnv.ts).

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { prepareWorkspace, reindexConfig, runReindex, type ReindexWorkspace } from '../bench/reindexBench';
import { makeChain, SMALL_CHAIN, type ChainManifest } from '../bench/reindexChain';
import { bitcoinSource, masterBuild } from './realNodeEnv';
import { allocatePorts } from './regtestNetwork';

describe('real node: the reindex benchmark on a small chain', function () {
  this.timeout(120_000);
  let dir = '';
  let manifest: ChainManifest;
  let ws: ReindexWorkspace;

  before(async function () {
    assert.equal(process.getuid?.(), 0, 'the reindex benchmark attaches probes as root');
    dir = mkdtempSync(join(tmpdir(), 'realnode-reindex-'));
    const { rpc } = await allocatePorts();
    const chainDir = join(dir, 'chain');
    manifest = await makeChain(masterBuild().bitcoind, chainDir, SMALL_CHAIN, () => undefined, rpc);
    ws = await prepareWorkspace(masterBuild().bitcoind, chainDir, manifest, join(dir, 'work'), bitcoinSource(), resolve(__dirname, '..', '..', 'probes'));
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('makes the chain it describes', () => {
    const { spec } = manifest;
    assert.equal(manifest.height, spec.matureBlocks + spec.blocks);
    assert.ok(manifest.transactions > spec.blocks, `${manifest.transactions} transactions`);
    assert.equal(manifest.coinsSpent, manifest.transactions * spec.inputsPerTx);
    // every transaction's outputs and one coinbase output per block
    assert.equal(manifest.coinsAdded, manifest.transactions * spec.outputsPerTx + manifest.height);
  });

  it('times an untraced reindex to the chain tip, which flushes the coins cache', async () => {
    const run = await runReindex(reindexConfig('unattached'), ws, 1);
    assert.deepEqual(run.failures, []);
    assert.equal(run.node.tipHeight, manifest.height);
    assert.ok(run.node.stoppedAfterImport);
    assert.ok(run.node.coinsCommits >= 1);
    assert.ok(run.seconds > 0 && run.seconds < 60, `${run.seconds} s`);
  });

  it("utxos through the helper: the kernel counts exactly the chain maker's coins, each delivered or lost", async () => {
    const run = await runReindex(reindexConfig('tool:utxos'), ws, 1);
    assert.deepEqual(run.failures, []);
    assert.equal(run.counted?.['utxocache:add'], manifest.coinsAdded);
    assert.equal(run.counted?.['utxocache:spent'], manifest.coinsSpent);
    const delivered = (run.delivered?.['utxocache:add'] ?? 0) + (run.delivered?.['utxocache:spent'] ?? 0);
    assert.equal(delivered + (run.lost ?? NaN), manifest.coinsAdded + manifest.coinsSpent);
    // attaching happened before the clock started
    assert.ok(run.attachSeconds > 0);
  });

  it("connectblock_benchmark.bt from contrib/tracing: its histogram counts every block the chain has", async () => {
    const run = await runReindex(reindexConfig('contrib:connectblock_benchmark.bt'), ws, 1);
    assert.deepEqual(run.failures, []);
    assert.equal(run.counted?.['validation:block_connected'], manifest.blocksConnected);
  });
});
