// mempool-monitor (BCC) against the real 28.99 bitcoind: a pre-v29 build whose mempool:replaced passes 7
// arguments. Before the argument count was read from the notes, BCC failed to load the program there
// ("Failed to load BPF program b'trace_replaced': Invalid argument"). A real RBF replacement (sendtoaddress, then
// bumpfee) must arrive with the wallet's own txids and fees. As root; needs BCC and the real node
// (BITCOIND_OLD, BITCOIN_CLI_OLD, default .real-node/v28.99/bin/). Ports 24010–24011.

import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readStapsdtNotes } from '../../src/core/elf/stapsdtNotes';
import { decodeBccLine, type BccEvent } from '../../src/core/events/bccDecoder';
import type { MempoolReplacedEvent } from '../../src/core/events/toolEventTypes';
import { exited, waitForText } from './childProcessWaits';

const ROOT = resolve(__dirname, '..', '..');
const BITCOIND_OLD = process.env.BITCOIND_OLD ?? join(ROOT, '.real-node', 'v28.99', 'bin', 'bitcoind');
const BITCOIN_CLI_OLD = process.env.BITCOIN_CLI_OLD ?? join(ROOT, '.real-node', 'v28.99', 'bin', 'bitcoin-cli');
const P2P_PORT = 24010;
const RPC_PORT = 24011;

describe('mempool-monitor on the real 28.99 bitcoind (7-argument mempool:replaced, real BCC, as root)', function () {
  this.timeout(180_000);
  let datadir = '';
  let node: ChildProcess | null = null;
  let monitor: ChildProcess | null = null;

  const cli = (...args: string[]): string =>
    execFileSync(BITCOIN_CLI_OLD, ['-regtest', `-datadir=${datadir}`, `-rpcport=${RPC_PORT}`, ...args], { encoding: 'utf8', timeout: 60_000 }).trim();

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'BCC needs root');
    for (const file of [BITCOIND_OLD, BITCOIN_CLI_OLD]) {
      assert.ok(existsSync(file), `${file} is missing: run scripts/unpack-real-node.sh (or set BITCOIND_OLD and BITCOIN_CLI_OLD)`);
    }
    datadir = mkdtempSync(join(tmpdir(), 'real-node-mempool-'));
    node = spawn(BITCOIND_OLD, [
      '-regtest', `-datadir=${datadir}`, `-port=${P2P_PORT}`, `-rpcport=${RPC_PORT}`, `-bind=127.0.0.1:${P2P_PORT}`,
      '-listenonion=0', '-fallbackfee=0.0002', '-printtoconsole=0',
    ], { stdio: 'ignore' });
    cli('-rpcwait', '-rpcwaittimeout=60', 'getblockcount');
    cli('createwallet', 'w');
    cli('generatetoaddress', '101', cli('getnewaddress'));
  });

  after(async () => {
    monitor?.kill('SIGKILL');
    if (node && node.exitCode === null) {
      try {
        cli('stop');
      } catch {
        node.kill('SIGKILL');
      }
      const stopped = await exited(node, 20_000, 'bitcoind').then(() => true, () => false);
      if (!stopped) node.kill('SIGKILL');
    }
    if (datadir) rmSync(datadir, { recursive: true, force: true });
  });

  it('starts, and a bumpfee replacement arrives with both txids and fees (replaced_by_transaction null)', async () => {
    assert.ok(node?.pid);
    const replacedNotes = (await readStapsdtNotes(BITCOIND_OLD)).notes.filter((note) => note.provider === 'mempool' && note.name === 'replaced');
    assert.deepEqual(replacedNotes.map((note) => note.args.length), [7], 'the 28.99 node passes mempool:replaced 7 arguments');

    monitor = spawn('/usr/bin/python3', ['-I', '-S', join(ROOT, 'probes', 'mempool-monitor.py'), '--pid', String(node.pid), '--binary', BITCOIND_OLD],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    monitor.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const events: BccEvent[] = [];
    let partial = '';
    monitor.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const decoded = decodeBccLine(line);
        if (decoded?.ok) events.push(...decoded.events);
        else if (decoded) assert.fail(`undecodable record: ${decoded.error}`);
      }
    });
    const monitorExit = exited(monitor, 170_000, 'mempool-monitor');
    await Promise.race([
      waitForText(monitor.stderr, monitor, /attached 4 probes/, 90_000),
      monitorExit.then((code) => assert.fail(`mempool-monitor exited (${code}) before attaching: ${stderr}`)),
    ]);

    const original = cli('-rpcwallet=w', '-named', 'sendtoaddress', `address=${cli('-rpcwallet=w', 'getnewaddress')}`, 'amount=1', 'replaceable=true');
    const bumped = JSON.parse(cli('-rpcwallet=w', 'bumpfee', original)) as { txid: string; origfee: number; fee: number };
    const deadline = Date.now() + 30_000;
    while (!events.some((e) => e.event === 'mempool:replaced') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const replaced = events.filter((e): e is MempoolReplacedEvent => e.event === 'mempool:replaced');
    assert.equal(replaced.length, 1, `one replacement (stderr: ${stderr})`);
    const [event] = replaced;
    const sats = (btc: number): number => Math.round(btc * 1e8);
    assert.equal(event.replaced_txid, original);
    assert.equal(event.replacement_id, bumped.txid);
    assert.equal(Number(event.replaced_fee), sats(bumped.origfee));
    assert.equal(Number(event.replacement_fee), sats(bumped.fee));
    assert.equal(event.replaced_by_transaction, null, 'a 7-argument build has no replaced_by_transaction');
    const vsize = (txid: string): number => (JSON.parse(cli('getmempoolentry', txid)) as { vsize: number }).vsize;
    assert.equal(event.replacement_vsize, vsize(bumped.txid));
    assert.ok(events.some((e) => e.event === 'mempool:added' && e.txid === original), 'the original was added');
    assert.ok(events.some((e) => e.event === 'mempool:added' && e.txid === bumped.txid), 'the replacement was added');
    assert.ok(events.some((e) => e.event === 'mempool:removed' && e.txid === original && e.reason === 'replaced'), 'the original left as replaced');
    monitor.kill('SIGINT');
    assert.equal(await monitorExit, 0, `mempool-monitor exit code (stderr: ${stderr})`);
  });
});
