// Trace functional test… on the real Bitcoin Core, in the real VS Code (`node dist/test/runIntegration.js --mode
// realnode`): the workspace is the real source tree (BITCOIN_SOURCE); mempool_packages.py (two connected nodes) has
// the CodeLens on its test class, and the command run from it with p2p-traffic attaches the real helper and bpftrace
// to every process of the real bitcoind (BITCOIND), runs the test as the user in its own terminal, and stops the
// probe when the test ends. The test passes in its terminal; the Network panel shows node0 and node1 while the test
// runs, and at the end each node's messages equal its debug.log, and node0's connection from the test's own Python
// process (its P2PTxInvStore) is named "test framework (mempool_packages.py)"; the recording is named after the test;
// nothing is left running. Ports: the framework's --portseed 331.

import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as vscode from 'vscode';
import type { FunctionalTestRunResult, TraceFunctionalTestRequest } from '../../src/extension/functionalTest/registerFunctionalTest';
import type { NetworkNodeRow } from '../../src/shared/networkProtocol';
import { parseLoggedMessages } from '../realNode/debugLog';
import { closePanelTabs, extensionApis, focusPanelForScreenshots, functionalTestLenses, openFunctionalTest, requiredEnv, sessionRecording, waitFor, waitForReport } from './integrationHelpers';
import { screenshot } from './screenshot';

const TEST = 'mempool_packages';

/** Processes whose command line has an argument containing `text`, and every process below them. */
function processesWith(text: string): Map<number, string> {
  const parents = new Map<number, number>();
  const commandLines = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      commandLines.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim());
    } catch {
      // gone
    }
  }
  const found = new Map<number, string>();
  for (const [pid, commandLine] of commandLines) if (commandLine.includes(text)) found.set(pid, commandLine);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (!found.has(pid) && found.has(parent)) {
        found.set(pid, commandLines.get(pid) ?? '');
        grew = true;
      }
    }
  }
  return found;
}

function alive(pids: Iterable<number>): number[] {
  return [...pids].filter((pid) => {
    try {
      return !/^\S+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  });
}

/** The text of the terminal, through its Select All and Copy (what a user would copy). */
async function terminalText(terminal: vscode.Terminal): Promise<string> {
  terminal.show(false);
  await delay(300);
  await vscode.env.clipboard.writeText('');
  await vscode.commands.executeCommand('workbench.action.terminal.selectAll');
  await vscode.commands.executeCommand('workbench.action.terminal.copySelection');
  await vscode.commands.executeCommand('workbench.action.terminal.clearSelection');
  return vscode.env.clipboard.readText();
}

if (process.env.BITCOIN_USDT_INTEGRATION_MODE === 'realnode') {
  describe('Trace functional test… on the real Bitcoin Core @real-node', function () {
    this.timeout(600_000);

    it(`${TEST}.py from its CodeLens with p2p-traffic: passes in its terminal, node0 and node1 with their messages in the Network panel, nothing left running`, async () => {
      assert.equal(process.getuid?.(), 0, 'live probes run as root (as on CI)');
      const { launcher, networkPanel, functionalTest } = await extensionApis('launcher', 'networkPanel', 'functionalTest');
      const source = requiredEnv('BITCOIN_SOURCE');
      const bitcoind = requiredEnv('BITCOIND');
      const testPath = join(source, 'test', 'functional', `${TEST}.py`);

      // The CodeLens on the test class line, and nowhere else in the file.
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      const { document, lenses } = await openFunctionalTest(testPath);
      assert.equal(lenses.length, 1);
      assert.match(document.lineAt(lenses[0].range.start.line).text, /^class MempoolPackagesTest\(BitcoinTestFramework\):/);
      assert.equal(lenses[0].command?.title, '$(debug-start) Trace this functional test');
      assert.deepEqual(lenses[0].command?.arguments, [{ testPath }]);
      const framework = await vscode.workspace.openTextDocument(join(source, 'test', 'functional', 'test_framework', 'test_framework.py'));
      assert.deepEqual(await functionalTestLenses(framework.uri), [], 'no lens in the framework\'s own modules');

      const work = mkdtempSync(join(tmpdir(), 'bitcoin-usdt-trace-functional-test-'));
      const runDir = join(work, 'run');
      await closePanelTabs('bitcoinUsdt.networkPanel');
      networkPanel.clear();
      const helperPids = new Set<number>();
      let running = true;
      const ourNodes = (): NetworkNodeRow[] => networkPanel.snapshot().nodes.filter((node) => node.run === runDir);
      try {
        // The lens's request with the answers the pickers would give: the build, the tools, the test's own arguments.
        const request: TraceFunctionalTestRequest = {
          ...(lenses[0].command?.arguments?.[0] as TraceFunctionalTestRequest),
          binaryPath: bitcoind,
          tools: ['p2p-traffic'],
          testArgs: ['--portseed=331', `--tmpdir=${runDir}`, `--cachedir=${join(work, 'cache')}`, '--nocleanup'],
        };
        const run = Promise.resolve(vscode.commands.executeCommand<FunctionalTestRunResult>('bitcoinUsdt.traceFunctionalTest', request)).finally(() => (running = false));

        // While it runs: the probe's helper (by its private socket, named in the root command) and bpftrace below it.
        await waitFor('the probe session', 120_000, () => launcher.activeSessions().find((s) => s.descriptor.recordingName === TEST));
        const session = launcher.activeSessions().find((s) => s.descriptor.recordingName === TEST);
        assert.ok(session);
        assert.equal(session.descriptor.pid, null, 'a session over every process of the build');
        const socketIndex = session.command.indexOf('--socket');
        assert.ok(socketIndex > 0, session.command.join(' '));
        const socketPath = session.command[socketIndex + 1];
        await waitFor('the test to start (probes attached)', 180_000, () => functionalTest.lastTerminal()?.name === `Functional test: ${TEST}` || !running);
        for (const pid of processesWith(socketPath).keys()) helperPids.add(pid);
        assert.ok(helperPids.size >= 2, 'the helper and its bpftrace run while the test runs');
        // The nodes appear in the Network panel as the test starts them.
        await waitFor('node0 and node1 in the Network panel while the test runs', 120_000, () => ourNodes().length >= 2 || !running);
        assert.ok(running, 'node0 and node1 were shown before the test ended');
        assert.equal(networkPanel.isOpen, true, 'the command opened the Network panel');
        assert.deepEqual(ourNodes().map((n) => n.name).sort(), ['node0', 'node1']);

        const result = await run;
        assert.equal(result.exitStatus, 0, `${TEST} exit status`);
        assert.equal(result.name, TEST);
        assert.equal(result.sessionIds.length, 1);

        // The test's own output and its result, in its terminal.
        const terminal = functionalTest.lastTerminal();
        assert.ok(terminal && terminal.name === result.terminalName);
        const text = await terminalText(terminal);
        assert.match(text, /Command: \/usr\/bin\/env BITCOIND=\S+ BITCOINCLI=\S+ python3 \S+mempool_packages\.py --configfile=\S+ --portseed=331/);
        assert.match(text, /Tests successful/, 'the framework\'s own result');
        assert.match(text, /mempool_packages\.py passed\./);

        // The Network panel: node0 and node1 of this run, each with exactly the messages of its debug.log.
        await focusPanelForScreenshots(() => vscode.commands.executeCommand('bitcoinUsdt.showNetworkPanel'));
        const nodes = ourNodes();
        assert.deepEqual(nodes.map((n) => n.name).sort(), ['node0', 'node1']);
        for (const node of nodes) {
          const log = parseLoggedMessages(readFileSync(join(runDir, node.name, 'regtest', 'debug.log'), 'utf8'));
          const inbound = log.filter((m) => m.direction === 'inbound').length;
          const outbound = log.filter((m) => m.direction === 'outbound').length;
          assert.ok(inbound > 20 && outbound > 20, `${node.name}: ${inbound} in, ${outbound} out in debug.log`);
          assert.deepEqual({ in: node.msgsIn, out: node.msgsOut }, { in: inbound, out: outbound }, `${node.name}: messages in and out as its debug.log has them`);
          assert.equal(node.alive, false, `${node.name} stopped with the test`);
        }
        const [node0, node1] = [...nodes].sort((a, b) => a.name.localeCompare(b.name));
        const between = networkPanel.snapshot().connections.filter((c) => c.state === 'matched' && [c.fromNode, c.toNode].sort().join() === [node0.key, node1.key].sort().join());
        const ours = new Set([node0.key, node1.key]);
        assert.ok(between.length >= 1, `a connection between node0 and node1, matched on both sides: ${JSON.stringify(networkPanel.snapshot().connections.filter((c) => ours.has(c.fromNode)).map((c) => ({ ...c, directions: undefined })))}`);
        const paired = between.reduce((sum, c) => sum + c.directions[0].paired + c.directions[1].paired, 0);
        console.log(`      ${node0.name}: ${node0.msgsIn} in, ${node0.msgsOut} out; ${node1.name}: ${node1.msgsIn} in, ${node1.msgsOut} out; ${paired} paired between them`);
        assert.ok(between.every((c) => c.directions.every((d) => d.paired > 0)), 'messages between them paired, both directions');
        // The framework's own P2P connection to node0 (the test's P2PTxInvStore): its other end is the test's Python
        // process, named so; no connection of the run is left "other end not found".
        const unpaired = networkPanel.snapshot().connections.filter((c) => ours.has(c.fromNode) && c.state !== 'matched');
        const framework = `test framework (${TEST}.py)`;
        const python = unpaired.find((c) => c.fromNode === node0.key && c.inbound && c.otherEnd === framework);
        assert.ok(python, `node0's connection from the test's Python process, named: ${JSON.stringify(unpaired.map((c) => ({ ...c, directions: undefined })))}`);
        assert.equal(python.state, 'peer not traced');
        assert.ok(python.directions[1].received > 0 && python.directions[0].sent > 0, 'node0 talked with the test framework');
        assert.deepEqual(unpaired.filter((c) => c.state === 'other end not found').map((c) => c.peerAddr), [], 'connections of the run left "other end not found"');
        // The page shown again (webviews are not kept while hidden) sends its saved choice first: choose after that.
        await waitForReport('the Network panel shown again', (t) => networkPanel.renderReport(t), (r) => r.nodes.length >= 2, 90_000);
        networkPanel.selectPair(node0.key, node1.key);
        const report = await waitForReport('the Network panel', (t) => networkPanel.renderReport(t),
          (r) => r.sequence.nodeA === node0.key && r.sequence.total > 0, 90_000);
        assert.ok(report.nodes.filter((name) => name === 'node0' || name === 'node1').length >= 2, JSON.stringify(report.nodes));
        assert.ok(report.connectionTexts.some((text) => text.startsWith(`test framework (${TEST}.py) · ${python.peerAddr} | node0 #${python.fromPeerId} | inbound | peer not traced`)), JSON.stringify(report.connectionTexts));
        assert.equal(report.sequence.paired, paired, 'every paired message between node0 and node1 drawn once, sender to receiver');
        // The test framework's long name does not push the connections table's last column out of the panel (1400×900).
        assert.deepEqual([report.connectionTableCutPx, report.nodeTableCutPx], [0, 0], 'the Network panel\'s tables cut their last column');
        assert.ok(report.sequence.firstRows.some((row) => /\| (ping|pong|inv|headers|getdata|tx|sendcmpct|feefilter|version|verack) · \d/.test(row)), JSON.stringify(report.sequence.firstRows));
        await delay(800);
        assert.equal((await networkPanel.renderReport()).sequence.nodeA, node0.key, 'the pair stays chosen for the screenshot');
        await screenshot('trace-functional-test');

        // The recording is named after the test.
        assert.match(basename(await sessionRecording(result.sessionIds[0])), new RegExp(`-${TEST}-p2p-traffic\\.ndjson$`));

        // Nothing left running: no session, no helper or bpftrace of this run, no bitcoind or python of the test.
        assert.deepEqual(launcher.activeSessions().filter((s) => result.sessionIds.includes(s.descriptor.id)), []);
        await waitFor('the helper and bpftrace to exit', 10_000, () => alive(helperPids).length === 0);
        // Enter closes the test terminal (its shell waits for it, so the output stays readable).
        terminal.sendText('', true);
        await waitFor('the test terminal to close', 10_000, () => !vscode.window.terminals.includes(terminal));
        assert.deepEqual([...processesWith(runDir).values()], [], 'no process of the test (bitcoind, python, its terminal) left');
      } finally {
        for (const session of launcher.activeSessions()) {
          if (session.descriptor.recordingName === TEST) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', session.descriptor.id);
        }
        for (const [pid] of processesWith(runDir)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
        rmSync(work, { recursive: true, force: true });
        await closePanelTabs('bitcoinUsdt.networkPanel');
        await closePanelTabs('bitcoinUsdt.p2pPanel');
        await vscode.commands.executeCommand('workbench.action.closeAllEditors');
        await vscode.commands.executeCommand('workbench.view.explorer');
      }
    });
  });
}
