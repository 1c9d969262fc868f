// Every shipped demo recording (demo/recordings/<tool>-demo.ndjson, from a real Bitcoin Core regtest network)
// opens in its panel through Open recording… and the panel shows its data.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadRecording } from '../../src/core/events/recording';
import { TOOLS } from '../../src/core/tools/toolCatalog';
import { isToolPanelTool } from '../../src/shared/toolPanelProtocol';
import { benchmarkPanelReport, p2pPanelReport, rawPanelReport, repoRoot, toolPanelReport } from './integrationHelpers';

const demoDir = join(repoRoot, 'demo', 'recordings');

describe('demo recordings', function () {
  this.timeout(60_000);

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  for (const tool of TOOLS.map((t) => t.id)) {
    it(`opens ${tool}-demo.ndjson in its panel with the recorded data`, async () => {
      const path = join(demoDir, `${tool}-demo.ndjson`);
      const { events } = await loadRecording(path);
      const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', vscode.Uri.file(path));
      assert.ok(sessionId, `Open recording returned no session for ${path}`);
      if (tool === 'p2p-traffic' || tool === 'p2p-monitor') {
        const report = await p2pPanelReport((r) => r.sessionId === sessionId && r.peerRowCount > 0);
        assert.ok(report.firstRows.every((row) => /^127\.0\.0\.1:\d+$/.test(row.addr)), `peers: ${report.firstRows.map((row) => row.addr).join(', ')}`);
      } else if (tool === 'raw-p2p-msgs') {
        const messages = events.filter((e) => e.event === 'net:inbound_message' || e.event === 'net:outbound_message').length;
        await rawPanelReport((r) => r.sessionId === sessionId && r.matching === messages);
      } else if (tool === 'connectblock-benchmark') {
        const blocks = events.filter((e) => e.event === 'validation:block_connected').length;
        await benchmarkPanelReport((r) => r.runA === sessionId && r.blockCountText === blocks.toLocaleString('en-US'));
      } else {
        assert.ok(isToolPanelTool(tool), `${tool} has no panel`);
        await toolPanelReport(tool, (r) => r.sessionId === sessionId && r.rowCount > 0);
      }
    });
  }
});
