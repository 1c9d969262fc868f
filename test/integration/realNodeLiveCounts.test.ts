// Live counts on the real Bitcoin Core source, in the real VS Code (`node dist/test/runIntegration.js --mode realnode`):
// the workspace is the real source tree (BITCOIN_SOURCE); a real bitcoind (BITCOIND) runs on regtest and mines blocks
// while two probes trace it (utxos and connectblock-benchmark, two sessions); src/coins.cpp and src/validation.cpp are
// open. At the end of the sessions the count on each traced TRACEPOINT( line equals the kernel's last fired count of
// its session, and the blocks connected equal the blocks the node mined.

import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadRecording } from '../../src/core/events/recording';
import { findCallSitesInText } from '../../src/core/source/callSiteFinder';
import { masterBuild } from '../realNode/realNodeEnv';
import { RegtestNode } from '../realNode/regtestNetwork';
import { extensionApis, requiredEnv, screenshotOfSource, sessionEnd, sessionRecording, waitFor } from './integrationHelpers';

/** A regtest address no wallet is needed for (BIP 173's P2WPKH test vector on regtest). */
const MINING_ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
const BLOCKS = 30;

const TRACED: Readonly<Record<string, string>> = {
  'utxocache:add': 'utxos',
  'utxocache:spent': 'utxos',
  'utxocache:uncache': 'utxos',
  'validation:block_connected': 'connectblock-benchmark',
};

if (process.env.BITCOIN_USDT_INTEGRATION_MODE === 'realnode') {
  describe('Live counts on the real Bitcoin Core source @real-node', function () {
    this.timeout(600_000);

    it('two probes on a mining regtest node: each traced TRACEPOINT( line ends with its session\'s kernel count', async () => {
      assert.equal(process.getuid?.(), 0, 'live probes run as root (as on CI)');
      const { liveCounts, launcher } = await extensionApis('liveCounts', 'launcher');
      const source = requiredEnv('BITCOIN_SOURCE');
      const bitcoind = requiredEnv('BITCOIND');
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      const coins = await vscode.workspace.openTextDocument(join(source, 'src', 'coins.cpp'));
      const validation = await vscode.workspace.openTextDocument(join(source, 'src', 'validation.cpp'));
      const documents = [coins, validation];
      const sites = documents.flatMap((document) => findCallSitesInText(document.getText(), document.uri.fsPath));
      const traced = sites.filter((site) => TRACED[site.tracepoint] !== undefined);
      assert.deepEqual(traced.map((site) => site.tracepoint).sort(), Object.keys(TRACED).sort(), 'one call site of each traced tracepoint in coins.cpp and validation.cpp');
      await vscode.window.showTextDocument(coins, { viewColumn: vscode.ViewColumn.One, preview: false });
      await vscode.window.showTextDocument(validation, { viewColumn: vscode.ViewColumn.Two, preview: false });

      const node = await RegtestNode.start(masterBuild(), 'livecounts');
      const sessions: string[] = [];
      const attached = new Set<string>();
      const attachments = launcher.onDidReceiveEvents(({ session, events }) => {
        if (events.some((event) => event.event === 'session:attached')) attached.add(session.id);
      });
      try {
        for (const tool of ['utxos', 'connectblock-benchmark']) {
          const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool, binaryPath: bitcoind, pid: node.pid });
          assert.ok(sessionId, `${tool}: no session`);
          sessions.push(sessionId);
        }
        // Mined only once bpftrace confirmed both probes attached: the kernel then counts every block.
        await waitFor('both probes attached', 120_000, () => sessions.every((id) => attached.has(id)));
        await node.rpc('generatetoaddress', BLOCKS, MINING_ADDRESS);
        const height = await node.rpc<number>('getblockcount');
        assert.equal(height, BLOCKS);

        // The panels opened over the sources: show them again, then wait for the counts of the mined blocks.
        await vscode.window.showTextDocument(coins, { viewColumn: vscode.ViewColumn.One, preview: false });
        await vscode.window.showTextDocument(validation, { viewColumn: vscode.ViewColumn.Two, preview: false });
        await waitFor(`the block_connected call site to count ${BLOCKS} blocks`, 60_000, () =>
          liveCounts.shownIn(validation.uri.fsPath).some((site) => site.tracepoint === 'validation:block_connected' && site.text.startsWith(`${BLOCKS} fired`)),
        );
        // One editor group for the screenshots: the source at full width.
        await vscode.commands.executeCommand('workbench.action.joinAllGroups');
        await screenshotOfSource(coins, traced.find((site) => site.tracepoint === 'utxocache:add')?.line ?? 1, 'live-counts-real-node');
        await screenshotOfSource(validation, traced.find((site) => site.tracepoint === 'validation:block_connected')?.line ?? 1, 'live-counts-real-node-hover', 6);

        for (const sessionId of sessions) {
          const ended = sessionEnd(launcher, sessionId);
          await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', sessionId);
          await ended;
        }
        assert.deepEqual(launcher.activeSessions(), []);
      } finally {
        attachments.dispose();
        for (const session of launcher.activeSessions()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', session.descriptor.id);
        await node.stop();
      }

      // The kernel's last counts of each session, from its recording.
      const kernel = new Map<string, Record<string, number>>();
      for (const sessionId of sessions) {
        const recording = await loadRecording(await sessionRecording(sessionId));
        const last = recording.events.filter((e) => e.event === 'fired').at(-1) as { counts: Record<string, number> } | undefined;
        assert.ok(last, `${recording.header.tool}: kernel counts recorded`);
        kernel.set(sessionId, last.counts);
      }
      assert.equal(kernel.get(sessions[1])?.['validation:block_connected'], BLOCKS, 'the kernel counted every mined block');
      assert.ok((kernel.get(sessions[0])?.['utxocache:add'] ?? 0) >= BLOCKS, 'every coinbase output was added to the cache');

      await vscode.window.showTextDocument(coins, { viewColumn: vscode.ViewColumn.One, preview: false });
      await vscode.window.showTextDocument(validation, { viewColumn: vscode.ViewColumn.Two, preview: false });
      // The sites' final texts, drawn when the sessions ended.
      await waitFor('the final counts', 20_000, () => traced.every((site) => liveCounts.shownIn(site.path).every((shown) => shown.text.endsWith('ended'))));
      for (const site of traced) {
        const sessionId = sessions[TRACED[site.tracepoint] === 'utxos' ? 0 : 1];
        const expected = kernel.get(sessionId)?.[site.tracepoint];
        const shown = liveCounts.shownIn(site.path).find((s) => s.line === site.line);
        console.log(`      ${site.tracepoint} ${site.path.slice(source.length + 1)}:${site.line}: kernel ${expected ?? 'none'}, shown ${shown?.text ?? 'nothing'}`);
        if (expected === undefined) {
          // Mining spends nothing: a tracepoint that never fired has no count in the kernel's map, and shows none.
          assert.equal(shown, undefined, `${site.tracepoint}: nothing fired, nothing shown`);
          continue;
        }
        assert.ok(shown, `${site.tracepoint}: no count shown on line ${site.line}`);
        assert.deepEqual(shown.sessions.map((c) => [c.sessionId, c.fired]), [[sessionId, expected]], `${site.tracepoint}: the kernel's count of its session`);
        assert.match(shown.text, new RegExp(`^${expected.toLocaleString('en-US')} fired · (avg [\\d.,]+/s · )?0 lost · ended$`), `${site.tracepoint}: ${shown.text}`);
      }
      await vscode.commands.executeCommand('bitcoinUsdt.clearLiveCounts');
      assert.deepEqual(liveCounts.working(), { eventListener: false, timer: false, editorSide: false });
    });
  });
}
