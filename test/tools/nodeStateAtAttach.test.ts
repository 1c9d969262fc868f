// The node's state at the attach (src/core/node/nodeState.ts) read from a real Bitcoin Core on regtest: the
// connections getpeerinfo lists and the mempool's size, found from the process's command line and its cookie;
// and the reason when the cookie is not there. Needs BITCOIND and BITCOIN_CLI (scripts/unpack-real-node.sh).

import { strict as assert } from 'node:assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readNodeStateAtAttach, rpcEndpointOf } from '../../src/core/node/nodeState';

const run = promisify(execFile);
const PORT_BASE = 28600;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: eval "$(bash scripts/unpack-real-node.sh)"`);
  return value;
}

describe('the node\'s state at the attach, from its RPC (real bitcoind)', function () {
  this.timeout(180_000);
  const nodes: { process: ChildProcess; datadir: string; rpcPort: number }[] = [];
  const cli = async (node: number, ...args: string[]): Promise<string> =>
    (await run(required('BITCOIN_CLI'), ['-regtest', `-datadir=${nodes[node].datadir}`, `-rpcport=${nodes[node].rpcPort}`, '-rpcwait', '-rpcwaittimeout=60', ...args])).stdout.trim();

  before(async () => {
    for (let i = 0; i < 2; i++) {
      const datadir = mkdtempSync(join(tmpdir(), 'bitcoin-usdt-state-'));
      const rpcPort = PORT_BASE + i * 2;
      const process = spawn(required('BITCOIND'), ['-regtest', `-datadir=${datadir}`, `-rpcport=${rpcPort}`, `-port=${rpcPort + 1}`, '-bind=127.0.0.1', '-fallbackfee=0.0002', '-printtoconsole=0'], { stdio: 'ignore' });
      nodes.push({ process, datadir, rpcPort });
    }
    await cli(0, 'createwallet', 'w');
    await cli(1, 'getblockchaininfo');
    await cli(0, 'addnode', `127.0.0.1:${nodes[1].rpcPort + 1}`, 'onetry');
    const address = await cli(0, 'getnewaddress');
    await cli(0, 'generatetoaddress', '101', address);
    await cli(0, 'sendtoaddress', address, '1');
    await cli(0, 'sendtoaddress', address, '2');
  });
  after(async () => {
    for (const node of nodes) {
      node.process.kill('SIGTERM');
      await new Promise((r) => (node.process.exitCode !== null ? r(null) : node.process.once('exit', r)));
      rmSync(node.datadir, { recursive: true, force: true });
    }
  });

  it('lists the open connections (getpeerinfo) and the mempool size (getmempoolinfo) as the node itself reports them', async () => {
    const state = await readNodeStateAtAttach(nodes[0].process.pid ?? 0);
    assert.ok(state.available, state.available ? '' : state.reason);
    const peers = JSON.parse(await cli(0, 'getpeerinfo')) as { id: number; addr: string; connection_type: string; network: string; inbound: boolean; conntime: number }[];
    assert.ok(peers.length >= 1, 'the node has a peer');
    // 127.0.0.1 is `not_publicly_routable` to getpeerinfo, `unroutable` (network 0) in the tracepoint's naming.
    assert.deepEqual(peers.map((p) => p.network), peers.map(() => 'not_publicly_routable'));
    assert.deepEqual(state.peers, peers.map((p) => ({ peer_id: p.id, peer_addr: p.addr, conn_type: p.connection_type, network_name: 'unroutable', inbound: p.inbound, conntime: p.conntime })));
    const mempool = JSON.parse(await cli(0, 'getmempoolinfo')) as { size: number; bytes: number };
    assert.deepEqual(state.mempool, { size: mempool.size, bytes: mempool.bytes });
    assert.equal(state.mempool.size, 2);
  });

  it('says why when the cookie is not where the command line puts it', async () => {
    const endpoint = rpcEndpointOf(['bitcoind', '-regtest', '-datadir=/nonexistent/dir', '-rpcport=28699'], null);
    assert.deepEqual(endpoint, { port: 28699, cookieFile: '/nonexistent/dir/regtest/.cookie' });
    assert.deepEqual(rpcEndpointOf(['bitcoind', '-testnet4'], '/home/u'), { port: 48332, cookieFile: '/home/u/.bitcoin/testnet4/.cookie' });
    assert.equal(rpcEndpointOf(['bitcoind', '-chain=bogus'], '/home/u'), 'its chain "bogus" is not one this extension knows');
    const state = await readNodeStateAtAttach(process.pid); // node itself: no -datadir, root's ~/.bitcoin has no cookie
    assert.equal(state.available, false);
  });
});
