// Rewrites the network views' fixtures test/fixtures/network/<two-nodes|three-nodes>/: real regtest networks
// of two and three nodes of $BITCOIND (default .real-node/master/bin/bitcoind), each node traced by the real
// p2p-traffic probe (and, for two nodes, connectblock-benchmark) through the helper; see
// test/realNode/networkCapture.ts for the workload and what is kept.
// Usage (root, after npm run build): npx tsx scripts/make-network-captures.ts   (ports 23000-23099)
// Environment: BITCOIND, BITCOIN_CLI; NETWORK_CAPTURE_PORT_BASE (default 23000).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { captureNetwork } from '../test/realNode/networkCapture';

const root = resolve(__dirname, '..');
const bitcoind = process.env.BITCOIND ?? join(root, '.real-node', 'master', 'bin', 'bitcoind');
const bitcoinCli = process.env.BITCOIN_CLI ?? join(root, '.real-node', 'master', 'bin', 'bitcoin-cli');
const portBase = Number(process.env.NETWORK_CAPTURE_PORT_BASE ?? 23000);

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: the probes need it');
  const runs = [
    { name: 'two-nodes', nodes: 2, tools: ['p2p-traffic', 'connectblock-benchmark'] },
    { name: 'three-nodes', nodes: 3, tools: ['p2p-traffic'] },
  ];
  for (const [index, run] of runs.entries()) {
    const workDir = mkdtempSync(join(tmpdir(), `bitcoin-usdt-network-${run.name}-`));
    try {
      const outDir = join(root, 'test', 'fixtures', 'network', run.name);
      rmSync(outDir, { recursive: true, force: true });
      await captureNetwork({ bitcoind, bitcoinCli, outDir, workDir, nodes: run.nodes, portBase: portBase + 30 * index, tools: run.tools });
      process.stderr.write(`[network-captures] wrote ${outDir}\n`);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[network-captures] ${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
