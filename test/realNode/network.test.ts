// The network views' pairing, live: real regtest networks of two and three nodes of BITCOIND, each node traced
// by the real p2p-traffic probe (`run --pid N --json --record`, as root), then every connection and every
// pairing checked against the nodes' getpeerinfo and both debug.logs (test/unit/helpers/networkCaptureCheck.ts).
// Ports 23000-23099 (NETWORK_TEST_PORT_BASE).

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, checkPairing, loadCapture } from '../unit/helpers/networkCaptureCheck';
import { captureNetwork } from './networkCapture';
import { masterBuild } from './realNodeEnv';
import { buildCli } from './toolRun';

const PORT_BASE = Number(process.env.NETWORK_TEST_PORT_BASE ?? 23000);

describe('network views on a live regtest network (master)', function () {
  this.timeout(600_000);
  before(() => buildCli());

  for (const [index, nodes] of [2, 3].entries()) {
    it(`${nodes} nodes, each traced: every connection and every pairing as getpeerinfo and the debug.logs say`, async () => {
      const build = masterBuild();
      const work = mkdtempSync(join(tmpdir(), 'bitcoin-usdt-network-test-'));
      try {
        const out = join(work, 'out');
        await captureNetwork({ bitcoind: build.bitcoind, bitcoinCli: build.bitcoinCli, outDir: out, workDir: join(work, 'run'), nodes, portBase: PORT_BASE + 30 * index, tools: ['p2p-traffic'] });
        const { manifest, sessions } = await loadCapture(out);
        const result = checkPairing(out, manifest, buildModel(sessions));
        assert.equal(result.connections, nodes);
        assert.ok(result.paired > 100, `${result.paired} pairs`);
        // Nothing of the run is left: no bitcoind or tracer of this run's folder.
        const left = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes(work));
        assert.deepEqual(left, []);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  }
});
