// Bitcoin Core's own functional tests traced from start to end (`node dist/cli.js trace-test … --json`, as root,
// the real helper and bpftrace attached to every process of the real bitcoind): rpc_setban.py (two nodes, node1
// restarted four times) is traced while p2p_ping.py runs at the same time from another directory. Per node and
// per process, the p2p-traffic events equal that process's part of the node's debug.log (the framework runs
// bitcoind with -debug), message by message per peer and direction; the kernel's fired counts per process equal
// the log; a restart keeps the node's name; the two runs are told apart; nothing is left running.
// Needs root, bpftrace and the environment of scripts/unpack-real-node.sh (see realNodeEnv.ts). Ports: the
// framework's --portseed 111 and 112.

import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FiredCountsEvent, NodeEvent } from '../../src/core/events/eventTypes';
import { planFunctionalTest } from '../../src/core/functionalTest/functionalTest';
import { waitForText } from '../tools/childProcessWaits';
import { parseLoggedMessages, type LoggedMessage } from './debugLog';
import { bitcoinSource, masterBuild } from './realNodeEnv';
import { CLI, buildCli, type ToolEvent } from './toolRun';

/** `peer direction` → that peer's messages of that direction in order, as `type size`. */
function messagesByPeer(messages: readonly LoggedMessage[]): Record<string, string[]> {
  const grouped: Record<string, string[]> = {};
  for (const m of messages) (grouped[`peer=${m.peer_id} ${m.direction}`] ??= []).push(`${m.msg_type} ${m.msg_size}`);
  return grouped;
}

/** A node's debug.log cut at each start of bitcoind ("Bitcoin Core version" opens every run): one text per process. */
function logPerProcess(text: string): string[] {
  const parts = text.split(/\n(?=\S+ \[init\] .*Bitcoin Core version v)/);
  return parts.filter((part) => /Bitcoin Core version v/.test(part));
}

/** Processes of this test left running: bitcoind under `directory`, bpftrace running p2p-traffic on `binary`. */
function processesLeft(directory: string, binary: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(directory) || (/bpftrace/.test(cmdline) && cmdline.includes('p2p-traffic') && cmdline.includes(binary))) out.push(`${entry}: ${cmdline}`);
    } catch {
      // gone
    }
  }
  return out;
}

describe('functional tests traced from start to end (trace-test, every process of the real bitcoind)', function () {
  this.timeout(400_000);

  it('rpc_setban.py traced with p2p_ping.py running beside it: per node and process the events equal debug.log; restarts keep the name; the runs are told apart', async () => {
    await buildCli();
    const build = masterBuild();
    const source = bitcoinSource();
    const work = mkdtempSync(join(tmpdir(), 'bitcoin-usdt-trace-test-'));
    const setbanDir = join(work, 'rpc_setban');
    const pingDir = join(work, 'p2p_ping');
    try {
      const cli = spawn(process.execPath, [
        CLI, 'trace-test', join(source, 'test', 'functional', 'rpc_setban.py'), '--binary', build.bitcoind, '--json', '--record-dir', work,
        '--', '--portseed=111', `--tmpdir=${setbanDir}`, `--cachedir=${join(work, 'cache')}`, '--nocleanup',
      ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BITCOIND: build.bitcoind } });
      let stdout = '';
      let stderr = '';
      cli.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      cli.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const cliExit = new Promise<number | null>((done) => cli.once('exit', (code) => done(code)));
      await waitForText(cli.stdout, cli, /"event":"session:attached"/, 180_000);
      // A second test run at the same time, from the same binary, not started by trace-test.
      const ping = planFunctionalTest({
        testPath: join(source, 'test', 'functional', 'p2p_ping.py'), bitcoind: build.bitcoind, bitcoinCli: build.bitcoinCli, hasWallet: true, configDir: work,
        testArgs: ['--portseed=112', `--tmpdir=${pingDir}`, `--cachedir=${join(work, 'cache-ping')}`, '--nocleanup'],
      });
      if (ping.configIni) writeFileSync(ping.configIni.path, ping.configIni.text);
      execFileSync(ping.argv[0], ping.argv.slice(1), { env: { ...process.env, ...ping.env }, stdio: ['ignore', 'ignore', 'pipe'] });
      const code = await cliExit;
      assert.equal(code, 0, `trace-test exit code (stderr: ${stderr.slice(-2000)})`);
      assert.match(stderr, /rpc_setban passed/);
      const events = stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as ToolEvent);
      assert.equal(events[0].event, 'session:start');
      assert.equal(events[0].pid, null, 'a session over every process');
      assert.equal(events[events.length - 1].event, 'session:end');
      assert.deepEqual(events.filter((e) => e.event === 'lost' && e.count !== 0), [], 'nothing lost');

      // The session traces every process of the build as root: on a shared machine it also names other work
      // running the same bitcoind (datadirs elsewhere). This test's nodes are those under `work`.
      const nodes = (events.filter((e) => e.event === 'node') as unknown as NodeEvent[]).filter((n) => String(n.datadir).startsWith(`${work}/`));
      const unnamed = events.filter((e) => e.event === 'session:message' && /was never named/.test(String(e.message)));
      assert.deepEqual(unnamed, [], 'every process that fired was named');
      const byDatadir = new Map<string, NodeEvent[]>();
      for (const n of nodes) byDatadir.set(String(n.datadir), [...(byDatadir.get(String(n.datadir)) ?? []), n]);
      // rpc_setban: node0 once, node1 five times (four restarts); p2p_ping: node0 once. Each its own run.
      assert.deepEqual([...byDatadir.keys()].sort(), [join(pingDir, 'node0'), join(setbanDir, 'node0'), join(setbanDir, 'node1')].sort());
      assert.equal(byDatadir.get(join(setbanDir, 'node1'))?.length, 5, 'node1 started five times');
      for (const [datadir, processes] of byDatadir) {
        const name = datadir.endsWith('node1') ? 'node1' : 'node0';
        const run = datadir.startsWith(pingDir) ? pingDir : setbanDir;
        for (const p of processes) {
          assert.deepEqual({ node: p.node, run: p.run, chain: p.chain }, { node: name, run, chain: 'regtest' }, `pid ${p.pid}`);
          assert.ok(typeof p.p2p_port === 'number' && typeof p.rpc_port === 'number', 'ports from the framework\'s bitcoin.conf');
        }
        assert.equal(new Set(processes.map((p) => p.pid)).size, processes.length, 'a new pid per start');
      }
      const exits = new Set(events.filter((e) => e.event === 'node:exit').map((e) => e.pid));
      for (const n of nodes) assert.ok(exits.has(n.pid), `node:exit for pid ${n.pid}`);

      const fired = [...events].reverse().find((e) => e.event === 'fired') as unknown as FiredCountsEvent;
      let compared = 0;
      for (const [datadir, processes] of byDatadir) {
        const parts = logPerProcess(readFileSync(join(datadir, 'regtest', 'debug.log'), 'utf8'));
        assert.equal(parts.length, processes.length, `${datadir}: a debug.log part per process`);
        processes.forEach((p, i) => {
          const log = parseLoggedMessages(parts[i]);
          const mine = events.filter((e) => (e.event === 'net:inbound_message' || e.event === 'net:outbound_message') && e.pid === p.pid);
          const got = mine.map((e): LoggedMessage => ({
            direction: e.event === 'net:inbound_message' ? 'inbound' : 'outbound', msg_type: String(e.msg_type), msg_size: Number(e.msg_size), peer_id: Number(e.peer_id),
          }));
          assert.deepEqual(messagesByPeer(got), messagesByPeer(log), `${p.node} of ${p.run}, pid ${p.pid}: messages per peer and direction, in order`);
          const counts = fired.by_pid?.[String(p.pid)] ?? {};
          assert.equal(counts['net:inbound_message'] ?? 0, log.filter((m) => m.direction === 'inbound').length, `pid ${p.pid}: fired inbound`);
          assert.equal(counts['net:outbound_message'] ?? 0, log.filter((m) => m.direction === 'outbound').length, `pid ${p.pid}: fired outbound`);
          compared += log.length;
        });
      }
      assert.ok(compared > 100, `${compared} messages compared`);
      const recordings = readdirSync(work).filter((f) => /^rpc_setban-p2p-traffic-.*\.ndjson$/.test(f));
      assert.equal(recordings.length, 1, 'the recording is named after the test');
      assert.deepEqual(processesLeft(work, build.bitcoind), [], 'no bitcoind or bpftrace left running');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
