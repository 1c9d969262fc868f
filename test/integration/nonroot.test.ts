// Runs only under `node dist/test/runIntegration.js --mode nonroot`: VS Code runs as the unprivileged user the runner
// created (test/nonrootUser.ts), who may use sudo with a password. The path every real user takes: Start probe opens
// the terminal, sudo asks for the password there, the test types it, the panel fills from the real probe; a wrong
// password ends with the clear message; Stop leaves nothing behind, least of all anything running as root.
import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { LauncherApi } from '../../src/extension/launch/launcherApi';
import {
  assertNoProbeProcessesWithin,
  extensionApis,
  p2pPanelReport,
  requiredEnv,
  sessionEnd,
  startTracee,
  toolPanelReport,
  waitFor,
  workspaceBitcoind,
  type StartedTracee,
} from './integrationHelpers';
import { screenshot } from './screenshot';

const TOOL = 'p2p-traffic';
const PEERS = 3;
const SUDO = '/usr/bin/sudo';
const run = promisify(execFile);

interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly args: readonly string[];
}

async function processes(): Promise<ProcessInfo[]> {
  const found: ProcessInfo[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      const cmdline = await readFile(`/proc/${entry}/cmdline`);
      found.push({
        pid: Number(entry),
        ppid: Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]),
        uid: Number(/^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1]),
        args: cmdline.toString('utf8').split('\0').filter((a) => a.length > 0),
      });
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** The processes below `root` (not `root` itself). */
async function descendants(root: number): Promise<ProcessInfo[]> {
  const all = await processes();
  const below: ProcessInfo[] = [];
  const parents = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) {
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid);
        below.push(p);
        grew = true;
      }
    }
  }
  return below;
}

/**
 * Processes that run as root (sudo, the helper, bpftrace) and name the traced binary (a path unique to this run's
 * workspace, so other runs' probes do not count): none may outlive a session.
 */
async function rootProbeProcesses(binary: string): Promise<string[]> {
  return (await processes())
    .filter((p) => p.uid === 0 && p.args.includes(binary))
    .map((p) => `${p.pid}: ${p.args.join(' ')}`);
}

/**
 * Waits until sudo asks for the password in the terminal: a sudo process below the terminal's shell, and echo off on
 * the terminal's tty (sudo turns it off for the prompt, and flushes what was typed before, so the test must wait).
 */
async function waitForSudoPrompt(terminal: vscode.Terminal): Promise<void> {
  const shellPid = await terminal.processId;
  assert.ok(shellPid, 'the terminal has a shell process');
  // The pty host reports the shell's pid as soon as it forks it, possibly before the pty becomes its stdin.
  const tty = await waitFor(`the terminal shell ${shellPid} reading from a pty`, 10_000, async () => {
    const stdin = await readlink(`/proc/${shellPid}/fd/0`).catch(() => '');
    return /^\/dev\/pts\/\d+$/.test(stdin) ? stdin : undefined;
  });
  await waitFor(`sudo's password prompt on ${tty}`, 30_000, async () => {
    const sudo = (await descendants(shellPid)).find((p) => p.args[0] === SUDO);
    if (!sudo) return false;
    const { stdout } = await run('stty', ['-a', '-F', tty]);
    return /(^|\s)-echo(\s|;|$)/.test(stdout);
  });
}

async function launcherApi(): Promise<LauncherApi> {
  return (await extensionApis('launcher')).launcher;
}

if (process.env.BITCOIN_USDT_INTEGRATION_MODE === 'nonroot') {
  describe('VS Code as a normal user, the helper through sudo with a password @nonroot', function () {
    this.timeout(120_000);
    const tracees: StartedTracee[] = [];

    before(function () {
      assert.notEqual(process.getuid?.(), 0, 'this run has VS Code (its extension host) run as a normal user');
      assert.equal(userInfo().username, requiredEnv('BITCOIN_USDT_TEST_USER'), 'the extension host runs as the test user');
    });

    afterEach(async () => {
      const launcher = await launcherApi();
      if (launcher.activeSession()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', 'all');
      for (const tracee of tracees.splice(0)) await tracee.kill();
    });

    it('Start probe asks for the sudo password in its terminal; with it typed there, the P2P panel fills from the real probe; Stop leaves nothing behind', async () => {
      const launcher = await launcherApi();
      const binary = workspaceBitcoind();
      const tracee = await startTracee(binary, ['--scenario', 'p2p', '--rate', '300', '--duration-ms', '600000', '--peers', String(PEERS)]);
      tracees.push(tracee);

      const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: TOOL, binaryPath: binary, pid: tracee.pid });
      assert.ok(sessionId, 'startProbe did not start a session');
      const active = launcher.activeSession();
      assert.ok(active, 'no active session after startProbe');
      assert.deepEqual(active.command.slice(0, 3), [SUDO, '--', '/usr/bin/python3'], 'privilege "auto" as a normal user: sudo by its absolute path');
      await waitForSudoPrompt(active.terminal);
      await screenshot('nonroot-sudo-prompt');
      active.terminal.sendText(requiredEnv('BITCOIN_USDT_SUDO_PASSWORD'), true);

      const report = await p2pPanelReport((r) => r.sessionId === sessionId && r.peerRowCount === PEERS && r.messageRowCount > 0, 60_000);
      assert.deepEqual(report.firstRows.map((row) => row.id).sort(), Array.from({ length: PEERS }, (_, i) => String(i)));
      assert.equal(launcher.activeSession()?.state, 'connected');
      const rootSide = await rootProbeProcesses(binary);
      assert.ok(rootSide.some((p) => / -I -S \S+bitcoin-usdt-helper\.py run /.test(p)), `the helper runs as root:\n${rootSide.join('\n')}`);
      assert.ok(rootSide.some((p) => /^\d+: \S*bpftrace /.test(p)), `bpftrace runs as root:\n${rootSide.join('\n')}`);
      await screenshot('nonroot-p2p-panel-live');

      const ended = sessionEnd(launcher, sessionId);
      await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
      assert.equal(await ended, 'stopped from VS Code');
      await assertNoProbeProcessesWithin(binary, 8_000);
      await waitFor('no root process of the session left', 8_000, async () => (await rootProbeProcesses(binary)).length === 0);
      await waitFor('the helper terminal to close', 20_000, () => !vscode.window.terminals.includes(active.terminal));
      assert.ok(tracee.running(), 'stopping the probe does not touch bitcoind');
      assert.equal(launcher.statusBarText(), '', 'the status bar item is hidden once no probe runs');
    });

    it('two probes started together: one terminal, the password typed once; the panel says it waits for the password until then; stopping one leaves the other running', async () => {
      const launcher = await launcherApi();
      const binary = workspaceBitcoind();
      const tracee = await startTracee(binary, ['--scenario', 'p2p', '--rate', '300', '--duration-ms', '600000', '--peers', String(PEERS)]);
      tracees.push(tracee);
      const tools = [TOOL, 'utxos'];
      const ids = await vscode.commands.executeCommand<string[] | undefined>('bitcoinUsdt.startProbe', tools.map((tool) => ({ tool, binaryPath: binary, pid: tracee.pid })));
      assert.ok(ids && ids.length === 2, `both sessions started: ${JSON.stringify(ids)}`);
      const sessions = launcher.activeSessions().filter((s) => ids.includes(s.descriptor.id));
      assert.equal(sessions.length, 2);
      const terminal = sessions[0].terminal;
      assert.equal(sessions[1].terminal, terminal, 'probes started together share one terminal');
      const command = sessions[0].command;
      assert.deepEqual(command.slice(0, 3), [SUDO, '--', '/usr/bin/python3']);
      assert.equal(command.filter((a) => a === SUDO).length, 1, 'one sudo for both');
      assert.equal(command.filter((a) => a === 'run').length, 2, 'one helper starting two sessions');
      await waitForSudoPrompt(terminal);
      // The panel opened last is the visible tab (hidden webviews do not draw).
      const waiting = await toolPanelReport('utxos', (r) => r.sessionId === ids[1] && /waiting for the password/.test(r.sessionState), 20_000);
      assert.doesNotMatch(waiting.sessionState, /Live/);
      await screenshot('nonroot-two-probes-password');
      // Typed once. The test's sudoers has timestamp_timeout=0: a second sudo would ask again and never get an answer,
      // so both sessions connecting proves that one password started both.
      terminal.sendText(requiredEnv('BITCOIN_USDT_SUDO_PASSWORD'), true);
      await waitFor('both sessions connected', 60_000, () => launcher.activeSessions().filter((s) => ids.includes(s.descriptor.id) && s.state === 'connected').length === 2);
      await toolPanelReport('utxos', (r) => r.sessionId === ids[1] && /^Live · utxos/.test(r.sessionState), 30_000);
      await vscode.commands.executeCommand('bitcoinUsdt.showP2pPanel');
      const live = await p2pPanelReport((r) => r.sessionId === ids[0] && r.peerRowCount === PEERS && /^[1-9][\d,]* msgs/.test(r.receivedText), 60_000);
      assert.match(live.sessionState, /^Live · p2p-traffic/);
      const rootSide = await rootProbeProcesses(binary);
      assert.equal(rootSide.filter((p) => /^\d+: \S*bpftrace /.test(p)).length, 2, `two bpftrace processes as root:\n${rootSide.join('\n')}`);
      // sudo runs as two processes (itself and, with use_pty, its monitor child): one sudo started by the shell.
      const sudos = (await processes()).filter((p) => p.args[0] === SUDO && p.args.includes(binary));
      assert.equal(sudos.filter((p) => !sudos.some((q) => q.pid === p.ppid)).length, 1, `one sudo: ${sudos.map((p) => `${p.pid}<${p.ppid}`).join(', ')}`);

      const utxosEnded = sessionEnd(launcher, ids[1]);
      await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', ids[1]);
      assert.equal(await utxosEnded, 'stopped from VS Code');
      await waitFor('the stopped session\'s bpftrace gone', 10_000, async () => (await rootProbeProcesses(binary)).filter((p) => /^\d+: \S*bpftrace /.test(p)).length === 1);
      const before = launcher.activeSession()?.counters.delivered ?? 0;
      await waitFor('the other probe still delivering', 20_000, () => launcher.activeSessions().some((s) => s.descriptor.id === ids[0] && s.state === 'connected' && s.counters.delivered > before));
      assert.ok(vscode.window.terminals.includes(terminal), 'the shared terminal stays while a probe runs in it');

      const ended = sessionEnd(launcher, ids[0]);
      await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', ids[0]);
      assert.equal(await ended, 'stopped from VS Code');
      await waitFor('no root process of the sessions left', 10_000, async () => (await rootProbeProcesses(binary)).length === 0);
      await waitFor('the helper terminal to close', 20_000, () => !vscode.window.terminals.includes(terminal));
      assert.equal(terminal.exitStatus?.code, 0, `the terminal's shell exits 0: VS Code shows no notification of its own (exit status ${JSON.stringify(terminal.exitStatus)}; the launcher's log: ${launcher.recentLog().join(' | ')})`);
    });

    it('a real Bitcoin Core, the password typed 5 s late: the mempool panel\'s times in the mempool equal the node\'s own (getmempoolentry time to the block\'s time)', async function () {
      this.timeout(240_000);
      const launcher = await launcherApi();
      const bitcoind = requiredEnv('BITCOIND');
      const bitcoinCli = requiredEnv('BITCOIN_CLI');
      const datadir = await mkdtemp(join(tmpdir(), 'bitcoin-usdt-nonroot-node-'));
      const rpcPort = 28000 + (process.pid % 400) * 2;
      const node = spawn(bitcoind, ['-regtest', `-datadir=${datadir}`, `-rpcport=${rpcPort}`, `-port=${rpcPort + 1}`, '-listen=0', '-fallbackfee=0.0002', '-printtoconsole=0'], { stdio: 'ignore' });
      const cli = async (...args: string[]): Promise<string> =>
        (await run(bitcoinCli, ['-regtest', `-datadir=${datadir}`, `-rpcport=${rpcPort}`, '-rpcwait', '-rpcwaittimeout=60', ...args], { timeout: 90_000 })).stdout.trim();
      try {
        await cli('createwallet', 'w');
        const address = await cli('getnewaddress');
        // Regtest stamps a block with at least the median time of the last 11 plus 1 s: 101 blocks mined in a second
        // run ~17 s ahead of the clock, and so would the next block's time. Mined an hour in the past, the chain leaves
        // the block mined below at the wall clock, the node's own figure for when it took the transactions.
        await cli('setmocktime', String(Math.floor(Date.now() / 1000) - 3600));
        await cli('generatetoaddress', '101', address);
        await cli('setmocktime', '0');
        // Enters the mempool before the probe attaches: its stay can only come from entry_time (whole seconds).
        const before = await cli('sendtoaddress', address, '1');
        const beforeEntry = Number(JSON.parse(await cli('getmempoolentry', before)).time);

        const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: 'mempool-monitor', binaryPath: bitcoind, pid: node.pid });
        assert.ok(sessionId, 'startProbe did not start a session');
        const terminal = launcher.activeSession()?.terminal;
        assert.ok(terminal);
        await waitForSudoPrompt(terminal);
        await new Promise((r) => setTimeout(r, 5_000)); // the user types the password 5 s late
        terminal.sendText(requiredEnv('BITCOIN_USDT_SUDO_PASSWORD'), true);
        await toolPanelReport('mempool-monitor', (r) => r.sessionId === sessionId && /^Live · mempool-monitor/.test(r.sessionState), 90_000);

        // Enters after the attach: its stay comes from its added event (ns).
        const after = await cli('sendtoaddress', address, '1');
        const afterEntry = Number(JSON.parse(await cli('getmempoolentry', after)).time);
        await new Promise((r) => setTimeout(r, 3_000));
        const minedAfter = Date.now() / 1000;
        const [blockHash] = JSON.parse(await cli('generatetoaddress', '1', address)) as string[];
        const blockTime = Number(JSON.parse(await cli('getblock', blockHash)).time);
        assert.ok(Math.abs(blockTime - minedAfter) <= 2, `the block's time is the wall clock when it was mined: ${blockTime} vs ${minedAfter.toFixed(1)}`);

        // Columns: Time, Event, vsize, Fee, sat/vB, In mempool, Reason, txid.
        const report = await toolPanelReport('mempool-monitor', (r) => r.sessionId === sessionId && [before, after].every((txid) => r.firstRows.some((row) => row[1] === 'removed' && row[7] === txid)), 30_000);
        const shownSeconds = (txid: string): number => {
          const row = report.firstRows.find((r) => r[1] === 'removed' && r[7] === txid);
          assert.ok(row, `the removal of ${txid}`);
          const text = row[5];
          const match = /^([\d.]+) (s|ms)$/.exec(text);
          assert.ok(match, `"In mempool" of ${txid} is a duration: ${JSON.stringify(text)}`);
          return Number(match[1]) / (match[2] === 'ms' ? 1000 : 1);
        };
        // The node's clocks are whole seconds: its own figure is the block's time minus the entry time, ±1 s.
        const nodeBefore = blockTime - beforeEntry;
        const nodeAfter = blockTime - afterEntry;
        assert.ok(nodeBefore >= 8, `the first transaction stayed a while (${nodeBefore} s)`);
        assert.ok(Math.abs(shownSeconds(before) - nodeBefore) <= 1, `added before the attach: panel ${shownSeconds(before)} s, node ${nodeBefore} s`);
        assert.ok(Math.abs(shownSeconds(after) - nodeAfter) <= 1, `added after the attach: panel ${shownSeconds(after)} s, node ${nodeAfter} s`);
        await screenshot('nonroot-mempool-late-password');

        const ended = sessionEnd(launcher, sessionId);
        await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', sessionId);
        assert.equal(await ended, 'stopped from VS Code');
      } finally {
        node.kill('SIGTERM');
        await new Promise((r) => (node.exitCode !== null ? r(null) : node.once('exit', r)));
        await rm(datadir, { recursive: true, force: true });
      }
    });

    it('Stop while sudo waits for the password: the prompt goes away with the terminal, and nothing is left', async () => {
      const launcher = await launcherApi();
      const binary = workspaceBitcoind();
      const tracee = await startTracee(binary, ['--scenario', 'p2p', '--rate', '100', '--duration-ms', '600000']);
      tracees.push(tracee);
      const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: TOOL, binaryPath: binary, pid: tracee.pid });
      assert.ok(sessionId, 'startProbe did not start a session');
      const terminal = launcher.activeSession()?.terminal;
      assert.ok(terminal, 'the session has its terminal');
      await waitForSudoPrompt(terminal);
      assert.ok((await processes()).some((p) => p.uid === 0 && p.args[0] === SUDO && p.args.includes(binary)), 'sudo waits, as root');

      const ended = sessionEnd(launcher, sessionId);
      await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
      assert.equal(await ended, 'stopped from VS Code');
      await waitFor('no root process of the session left', 8_000, async () => (await rootProbeProcesses(binary)).length === 0);
      await waitFor('the helper terminal to close', 20_000, () => !vscode.window.terminals.includes(terminal));
      assert.ok(tracee.running(), 'stopping the probe does not touch bitcoind');
      assert.equal(launcher.activeSession(), undefined);
    });

    it('a wrong sudo password: the session ends with the clear message, the terminal stays readable, and no process is left', async () => {
      const launcher = await launcherApi();
      const binary = workspaceBitcoind();
      const tracee = await startTracee(binary, ['--scenario', 'p2p', '--rate', '100', '--duration-ms', '600000']);
      tracees.push(tracee);
      const noticesBefore = launcher.recentNotices();

      const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: TOOL, binaryPath: binary, pid: tracee.pid });
      assert.ok(sessionId, 'startProbe did not start a session');
      const ended = sessionEnd(launcher, sessionId);
      const terminal = launcher.activeSession()?.terminal;
      assert.ok(terminal, 'the session has its terminal');
      await waitForSudoPrompt(terminal);
      terminal.sendText(`not-${requiredEnv('BITCOIN_USDT_SUDO_PASSWORD')}`, true);

      assert.equal(await ended, 'the helper exited with status 1 before connecting');
      const notice = await waitFor('the early-exit notice', 15_000, () => launcher.recentNotices().filter((n) => !noticesBefore.includes(n)).find((n) => n.level === 'error'));
      assert.match(notice.text, /did not start: the command exited with status 1 before the helper connected \(a wrong or cancelled sudo password, or no permission to use sudo\)/);
      assert.equal(launcher.activeSession(), undefined);
      assert.equal(launcher.statusBarText(), '', 'the status bar item is hidden once no probe runs');
      await screenshot('nonroot-wrong-password');
      assert.ok(vscode.window.terminals.includes(terminal), 'the terminal stays open so the user can read what failed');
      const shellPid = await terminal.processId;
      assert.ok(shellPid);
      assert.deepEqual((await descendants(shellPid)).map((p) => p.args.join(' ')), [], 'nothing runs below the terminal\'s shell');
      assert.deepEqual(await rootProbeProcesses(binary), [], 'nothing runs as root');
      await assertNoProbeProcessesWithin(binary, 1_000);
      // Enter closes it, as the terminal says. VS Code notifies, quoting the terminal's whole command line (the
      // inline script), when a shell the user typed into exits non-zero: this one exits 0.
      terminal.sendText('', true);
      await waitFor('the failed terminal to close on Enter', 10_000, () => !vscode.window.terminals.includes(terminal));
      assert.equal(terminal.exitStatus?.code, 0, 'the shell exits 0 after a failure too');
    });
  });
}
