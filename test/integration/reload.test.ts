// Runs only under `node dist/test/runIntegration.js --mode reload`. The tests run twice in one browser page: the
// first phase opens a recording in the P2P panel and reloads the window (VS Code saves the editors and the
// extension's workspace state as for a user's reload); in the new extension host the second phase checks that the
// panel came back by itself, showing the same recording.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extensionApis, p2pPanelReport, repoRoot, waitFor } from './integrationHelpers';
import { reloadPhaseOneFile, type ReloadPhaseOneRecord } from './reloadState';
import { screenshot } from './screenshot';

const demoRecording = join(repoRoot, 'demo', 'recordings', 'p2p-traffic-demo.ndjson');

interface PhaseOneFile extends ReloadPhaseOneRecord {
  readonly extensionHostPid: number;
}

function stateDir(): string {
  const value = process.env.BITCOIN_USDT_RELOAD_STATE_DIR;
  if (!value) throw new Error('BITCOIN_USDT_RELOAD_STATE_DIR is not set: run node dist/test/runIntegration.js --mode reload');
  return value;
}

function readPhaseOne(): PhaseOneFile | undefined {
  const path = join(stateDir(), reloadPhaseOneFile);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as PhaseOneFile) : undefined;
}

if (process.env.BITCOIN_USDT_INTEGRATION_MODE === 'reload') {
  const phaseOne = readPhaseOne();
  if (phaseOne === undefined) {
    describe('window reload, before @window-reload', function () {
      this.timeout(60_000);
      let record: ReloadPhaseOneRecord | undefined;

      it('shows a recording in the P2P panel', async () => {
        assert.ok(existsSync(demoRecording), `the shipped recording ${demoRecording} is missing`);
        const { p2pPanel: panel } = await extensionApis('p2pPanel');
        assert.equal(panel.isOpen, false, 'the panel is open before anything opened it');
        const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', vscode.Uri.file(demoRecording));
        assert.ok(sessionId, 'Open recording returned no session');
        const report = await p2pPanelReport((r) => r.sessionId === sessionId && r.peerRowCount > 0 && r.messageRowCount > 0, 30_000);
        assert.ok(panel.recordings().some((r) => r.sessionId === sessionId && r.path === demoRecording), 'the session is not tied to its recording file');
        record = {
          recordingPath: demoRecording,
          totalPeers: report.totalPeers,
          peerRowCount: report.peerRowCount,
          firstPeerIds: report.firstRows.map((row) => row.id),
        };
        await screenshot('reload-before');
      });

      it('reloads the window with the panel open', async () => {
        assert.ok(record, 'the previous test did not open the panel');
        assert.equal((await extensionApis('p2pPanel')).p2pPanel.isOpen, true);
        const phaseOneFile: PhaseOneFile = { ...record, extensionHostPid: process.pid };
        await writeFile(join(stateDir(), reloadPhaseOneFile), JSON.stringify(phaseOneFile));
        // Lets the workspace state the panel just wrote reach the window before it saves its state and reloads.
        await new Promise((r) => setTimeout(r, 1_000));
        // The command's promise is rejected when the reload tears this extension host down: it is not awaited, so that
        // the test only finishes (failing) when the reload does not come.
        void Promise.resolve(vscode.commands.executeCommand('workbench.action.reloadWindow')).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 50_000));
        assert.fail('the window did not reload within 50 s');
      });
    });
  } else {
    describe('window reload, after @window-reload', function () {
      this.timeout(60_000);

      it('restores the P2P panel with the same recording, without being asked', async () => {
        assert.notEqual(process.pid, phaseOne.extensionHostPid, 'still the extension host of the first phase: the window did not reload');
        const { p2pPanel: panel } = await extensionApis('p2pPanel');
        await waitFor('the P2P panel to be restored', 30_000, () => (panel.isOpen ? true : undefined));
        const report = await p2pPanelReport((r) => r.sessionId !== null && r.peerRowCount === phaseOne.peerRowCount, 30_000);
        assert.equal(report.sessionId, panel.currentSessionId);
        const restored = panel.recordings().find((r) => r.sessionId === report.sessionId);
        assert.ok(restored, `the restored session ${String(report.sessionId)} has no recording: ${JSON.stringify(panel.recordings())}`);
        assert.equal(restored.path, phaseOne.recordingPath, 'the panel restored another recording');
        assert.equal(restored.live, false);
        assert.equal(report.totalPeers, phaseOne.totalPeers);
        assert.deepEqual(report.firstRows.map((row) => row.id), phaseOne.firstPeerIds, 'the restored panel shows other peers');
        assert.ok(report.messageRowCount > 0, 'the restored panel shows no messages of the selected peer');
        await screenshot('reload-after');
      });
    });
  }
}
