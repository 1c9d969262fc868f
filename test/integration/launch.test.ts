import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { PRIVILEGED_TERMINAL_SCRIPT, TERMINAL_SHELL_PATH } from '../../src/core/process/privilegedTerminalScript';
import type { LauncherApi } from '../../src/extension/launch/launcherApi';
import {
  assertNoProbeProcessesWithin,
  collectEvents,
  extensionApis,
  extensionId,
  probeProcessesOf,
  sessionEnd,
  startTracee,
  waitFor,
  workspaceBitcoind,
  type StartedTracee,
  watchTerminalsOpened,
} from './integrationHelpers';
import { screenshot } from './screenshot';

const TOOL = 'p2p-traffic';
const PEERS = 3;

async function launcherApi(): Promise<LauncherApi> {
  return (await extensionApis('launcher')).launcher;
}

/** A running tracee (the v29 test bitcoind) firing P2P messages from PEERS peers until killed. */
function startP2pTracee(binary: string): Promise<StartedTracee> {
  return startTracee(binary, ['--scenario', 'p2p', '--rate', '400', '--duration-ms', '600000', '--peers', String(PEERS)]);
}

function inboundPeers(events: readonly NormalizedEvent[]): Set<string> {
  const peers = new Set<string>();
  for (const event of events) if (event.event === 'net:inbound_message') peers.add(String(event.peer_id));
  return peers;
}

describe('launching probes (Start probe… / Stop probe)', function () {
  this.timeout(120_000);
  const tracees: StartedTracee[] = [];

  before(function () {
    assert.equal(process.getuid?.(), 0, 'the launch tests attach real probes and run as root (as on CI)');
  });

  afterEach(async () => {
    const launcher = await launcherApi();
    if (launcher.activeSession()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
    for (const tracee of tracees.splice(0)) await tracee.kill();
  });

  it('streams the tracee\'s P2P messages into the hub, shows the command in a terminal, and Stop leaves no helper or bpftrace behind', async () => {
    const launcher = await launcherApi();
    const binary = workspaceBitcoind();
    const tracee = await startP2pTracee(binary);
    tracees.push(tracee);

    const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: TOOL, binaryPath: binary, pid: tracee.pid });
    assert.ok(sessionId, 'startProbe did not start a session');
    const collected = collectEvents(launcher, sessionId);
    try {
      const active = launcher.activeSession();
      assert.ok(active, 'no active session after startProbe');
      assert.equal(active.descriptor.id, sessionId);
      assert.equal(active.descriptor.pid, tracee.pid);
      assert.equal(active.descriptor.binary, binary);

      // The terminal runs the fixed script with the command as positional parameters, in a clean environment.
      const options = active.terminal.creationOptions as vscode.TerminalOptions;
      assert.equal(active.terminal.name, `Bitcoin USDT: ${TOOL}`);
      assert.equal(options.shellPath, TERMINAL_SHELL_PATH);
      assert.ok(Array.isArray(options.shellArgs), 'shellArgs is an argument array');
      const shellArgs = options.shellArgs as string[];
      assert.equal(shellArgs[0], '-c');
      assert.equal(shellArgs[1], PRIVILEGED_TERMINAL_SCRIPT, 'the script is the fixed constant');
      assert.deepEqual(shellArgs.slice(5), [...active.command], 'the command arrives as positional parameters');
      assert.equal(options.strictEnv, true);
      assert.deepEqual(launcher.lastCommandLine(), active.command);
      const extensionPath = vscode.extensions.getExtension(extensionId)?.extensionPath ?? '';
      assert.deepEqual(active.command.slice(0, 6), ['/usr/bin/python3', '-I', '-S', join(extensionPath, 'probes', 'bitcoin-usdt-helper.py'), 'run', '--tool']);

      const peers = await waitFor(`net:inbound_message events from all ${PEERS} peers`, 60_000, () => {
        const seen = inboundPeers(collected.events);
        return seen.size >= PEERS ? seen : undefined;
      });
      assert.deepEqual([...peers].sort(), Array.from({ length: PEERS }, (_, i) => String(i)));
      const message = collected.events.find((e) => e.event === 'net:inbound_message');
      assert.ok(message && message.event === 'net:inbound_message');
      assert.match(message.msg_type, /^[a-z0-9]+$/);
      assert.equal(launcher.activeSession()?.state, 'connected');
      assert.ok((await probeProcessesOf(binary)).length >= 2, 'helper and bpftrace run while the session is active');

      const statusText = await waitFor('the status bar to count events', 10_000, () => {
        const text = launcher.statusBarText();
        return /^\$\(pulse\) p2p-traffic · [1-9][\d,]* ev\/s · lost \d[\d,]*$/.test(text) ? text : undefined;
      });
      assert.ok(statusText);
      await screenshot('probe-terminal-banner');

      const ended = sessionEnd(launcher, sessionId);
      await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
      assert.equal(await ended, 'stopped from VS Code');
      assert.equal(launcher.activeSession(), undefined);
      // Stop lets bpftrace finish: its final kernel counts arrive, so every loss is accounted for.
      const warnings = collected.events.filter((e) => e.event === 'session:message' && e.level !== 'info');
      assert.deepEqual(warnings, [], 'no warning such as "bpftrace stopped without its final counts"');
      assert.ok(collected.events.some((e) => e.event === 'session:end'), 'the helper ended the stream itself');
      await assertNoProbeProcessesWithin(binary, 8_000);
      await waitFor('the helper terminal to close', 20_000, () => !vscode.window.terminals.includes(active.terminal));
      assert.ok(tracee.running(), 'stopping the probe does not touch bitcoind');
      assert.equal(launcher.statusBarText(), '', 'the status bar item is hidden once no probe runs');
    } finally {
      collected.dispose();
    }
  });

  it('asks for the tool and the target when started from a tree node, and can probe every process of the binary', async () => {
    const launcher = await launcherApi();
    const binary = workspaceBitcoind();
    const tracee = await startP2pTracee(binary);
    tracees.push(tracee);
    const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

    const pending = vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { binaryPath: binary, tracepoint: 'net:inbound_message' });
    await pause(1500);
    await screenshot('probe-tool-picker');
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    await pause(1500);
    await screenshot('probe-target-picker');
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const sessionId = await pending;
    assert.ok(sessionId, 'the pickers started a session');
    const collected = collectEvents(launcher, sessionId);
    try {
      const active = launcher.activeSession();
      assert.ok(active);
      assert.equal(active.descriptor.tool, TOOL, 'the first tool offered for net:inbound_message');
      assert.equal(active.descriptor.pid, null, 'the first target offered is every process of the binary');
      assert.ok(!active.command.includes('--pid'));
      await waitFor(`messages from all ${PEERS} peers of PID ${tracee.pid}`, 60_000, () => (inboundPeers(collected.events).size >= PEERS ? true : undefined));
      await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
      await assertNoProbeProcessesWithin(binary, 8_000);
    } finally {
      collected.dispose();
    }
  });

  it('offers the workspace\'s binaries when started without a node, and starts nothing when a picker is cancelled', async () => {
    const launcher = await launcherApi();
    const binary = workspaceBitcoind();
    const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    const launchesBefore = launcher.lastCommandLine();

    const pending = vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe');
    await pause(2000);
    await screenshot('probe-binary-picker');
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    await pause(1500);
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    assert.equal(await pending, undefined, 'cancelled at the tool picker: no session');
    assert.equal(launcher.activeSession(), undefined);
    assert.equal(launcher.lastCommandLine(), launchesBefore, 'nothing was launched');
    assert.deepEqual(await probeProcessesOf(binary), []);
  });

  it('ends the session when the terminal is closed by hand, and leaves no helper or bpftrace behind', async () => {
    const launcher = await launcherApi();
    const binary = workspaceBitcoind();
    const tracee = await startP2pTracee(binary);
    tracees.push(tracee);

    const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: TOOL, binaryPath: binary, pid: tracee.pid });
    assert.ok(sessionId);
    const collected = collectEvents(launcher, sessionId);
    try {
      await waitFor('the first inbound message', 60_000, () => (inboundPeers(collected.events).size > 0 ? true : undefined));
      const active = launcher.activeSession();
      assert.ok(active);
      const ended = sessionEnd(launcher, sessionId);
      active.terminal.dispose();
      // Whichever VS Code reports first: the terminal closing, or the helper's own exit on SIGHUP.
      assert.match(await ended, /^(the probe terminal was closed|stopped by signal SIGHUP)$/);
      assert.ok(!vscode.window.terminals.includes(active.terminal));
      await assertNoProbeProcessesWithin(binary, 8_000);
      assert.equal(launcher.activeSession(), undefined);
    } finally {
      collected.dispose();
    }
  });

  it('shows the helper\'s error when it refuses the target (a PID that does not run the binary)', async () => {
    const launcher = await launcherApi();
    const binary = workspaceBitcoind();
    // The extension host itself: a live process, but not bitcoind.
    const noticesBefore = launcher.recentNotices();
    const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: TOOL, binaryPath: binary, pid: process.pid });
    assert.ok(sessionId);
    const ended = sessionEnd(launcher, sessionId);
    await ended;
    const notice = await waitFor('an error notice', 10_000, () =>
      launcher.recentNotices().filter((n) => !noticesBefore.includes(n)).find((n) => n.level === 'error'),
    );
    assert.match(notice.text, new RegExp(`process ${process.pid} does not run the binary given`));
    assert.equal(launcher.activeSession(), undefined);
    await assertNoProbeProcessesWithin(binary, 8_000);
    // The terminal stays open so the user can read the helper's output; it says how to close it.
    const terminal = launcher.lastTerminal();
    assert.ok(terminal && vscode.window.terminals.includes(terminal), 'the terminal of the failed helper stays open for reading');
    await screenshot('probe-terminal-refused');
    terminal.dispose();
  });

  it('refuses before launch a binary without the tool\'s tracepoints, naming them: no terminal, no session, one notice', async () => {
    const launcher = await launcherApi();
    const noticesBefore = launcher.recentNotices();
    const terminals = watchTerminalsOpened();
    // The options object skips the pickers' tool check; the launcher reads the binary's notes before anything runs.
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: TOOL, binaryPath: '/usr/bin/true' })),
      /^Error: \/usr\/bin\/true is not a bitcoind with USDT tracepoints \(no \.note\.stapsdt section\); p2p-traffic needs net:inbound_message, net:outbound_message\. Pick the PID of a running bitcoind, or a bitcoind built with -DWITH_USDT=ON .*\)\.$/,
    );
    assert.equal(launcher.activeSession(), undefined, 'no session was started');
    terminals.dispose();
    assert.deepEqual(terminals.names(), [], 'no terminal was opened');
    const notices = launcher.recentNotices().filter((n) => !noticesBefore.includes(n));
    assert.deepEqual(notices.map((n) => n.level), ['error'], 'one error notice');
    assert.match(notices[0].text, /needs net:inbound_message, net:outbound_message/);
  });

  it('refuses before launch a BCC tool on every process of a v29 build: one sentence, no terminal, no session, no panel', async () => {
    const launcher = await launcherApi();
    const { toolPanels } = await extensionApis('toolPanels');
    const noticesBefore = launcher.recentNotices();
    const terminals = watchTerminalsOpened();
    const panelWasOpen = toolPanels.isOpen('mempool-monitor');
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: 'mempool-monitor', binaryPath: workspaceBitcoind() })),
      /^Error: A BCC tool \(mempool-monitor\) traces one process: this build's tracepoints have semaphores \(Bitcoin Core v29\+\), which BCC raises in one running process\. Pick the PID of a running bitcoind instead of every process\.$/,
    );
    assert.equal(launcher.activeSession(), undefined, 'no session was started');
    terminals.dispose();
    assert.deepEqual(terminals.names(), [], 'no terminal was opened');
    assert.equal(toolPanels.isOpen('mempool-monitor'), panelWasOpen, 'no panel was opened for it');
    const notices = launcher.recentNotices().filter((n) => !noticesBefore.includes(n));
    assert.deepEqual(notices.map((n) => n.level), ['error'], 'one error notice');
  });

  it('says so when the command exits before the helper connects (as a failed sudo would), and keeps the terminal readable', async () => {
    const launcher = await launcherApi();
    const binary = workspaceBitcoind();
    const configuration = vscode.workspace.getConfiguration('bitcoinUsdt');
    // A user-level interpreter that exits 1 at once: the same outcome as a wrong or cancelled sudo password.
    await configuration.update('pythonPath', '/bin/false', vscode.ConfigurationTarget.Global);
    try {
      const noticesBefore = launcher.recentNotices();
      const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: TOOL, binaryPath: binary });
      assert.ok(sessionId);
      const ended = sessionEnd(launcher, sessionId);
      assert.equal(launcher.lastCommandLine()?.[0], '/bin/false');
      assert.match(await ended, /^the helper exited with status 1 before connecting$/);
      const notice = await waitFor('the early-exit notice', 15_000, () => launcher.recentNotices().filter((n) => !noticesBefore.includes(n)).find((n) => n.level === 'error'));
      assert.match(notice.text, /did not start: the command exited with status 1 before the helper connected \(Python or the helper could not start\)/);
      assert.equal(launcher.activeSession(), undefined);
      assert.equal(launcher.statusBarText(), '', 'the status bar item is hidden once no probe runs');
      const terminal = launcher.lastTerminal();
      assert.ok(terminal && vscode.window.terminals.includes(terminal), 'the terminal stays open so the user can read what failed');
      terminal.dispose();
    } finally {
      await configuration.update('pythonPath', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('follows a restart: re-attaches to the new PID of the same binary and says so', async () => {
    const launcher = await launcherApi();
    const binary = workspaceBitcoind();
    const first = await startP2pTracee(binary);
    tracees.push(first);
    const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: TOOL, binaryPath: binary, pid: first.pid, follow: true });
    assert.ok(sessionId);
    assert.ok(launcher.lastCommandLine()?.includes('--follow'), 'the helper is started with --follow');
    const collected = collectEvents(launcher, sessionId);
    try {
      await waitFor('messages from the first process', 60_000, () => (inboundPeers(collected.events).size > 0 ? true : undefined));
      await first.kill();
      const second = await startP2pTracee(binary);
      tracees.push(second);
      const notice = await waitFor('the re-attached notice', 60_000, () =>
        launcher.recentNotices().find((n) => n.level === 'info' && n.text.includes(`re-attached to PID ${second.pid}`)),
      );
      assert.ok(notice);
      const countAtReattach = collected.events.length;
      await waitFor('messages from the restarted process', 60_000, () =>
        collected.events.slice(countAtReattach).some((e) => e.event === 'net:inbound_message') ? true : undefined,
      );
      assert.equal(launcher.activeSession()?.descriptor.id, sessionId, 'still the same session');
    } finally {
      collected.dispose();
    }
  });

  it('starts nothing from an untrusted request: unknown tool, follow without a PID, relative binary path', async () => {
    const binary = workspaceBitcoind();
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('bitcoinUsdt.startProbe', { tool: 'rm-rf', binaryPath: binary })),
      /Unknown probe tool/,
    );
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('bitcoinUsdt.startProbe', { tool: TOOL, binaryPath: binary, pid: 'all', follow: true })),
      /needs one process/,
    );
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('bitcoinUsdt.startProbe', { tool: TOOL, binaryPath: 'build/bin/bitcoind' })),
      /must be absolute/,
    );
    assert.equal((await launcherApi()).activeSession(), undefined);
  });
});
