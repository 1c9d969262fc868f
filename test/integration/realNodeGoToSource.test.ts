// Go to source on the real Bitcoin Core, in the real VS Code (`node dist/test/runIntegration.js --mode realnode`):
// the workspace is the real source tree (BITCOIN_SOURCE), the tree lists the real bitcoind (BITCOIND); for every
// tracepoint of that binary, Go to source must open the file and line that `grep -rn 'TRACEPOINT(ctx, event'`
// finds in BITCOIN_SOURCE/src.

import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { TracepointTreeApi } from '../../src/extension/tree/tracepointTreeProvider';
import type { TracepointTreeNode } from '../../src/extension/tree/treeNodes';
import { extensionApis, requiredEnv } from './integrationHelpers';
import { screenshot } from './screenshot';

/**
 * `file:line` (1-based) of every line of BITCOIN_SOURCE/src outside src/test/ where grep finds `text`, not
 * followed by more of an identifier (`TRACEPOINT(net, inbound_message` is not `…inbound_messages`).
 */
function grepCallSites(sourceDir: string, text: string): Promise<{ file: string; line: number }[]> {
  return new Promise((resolvePromise, reject) => {
    execFile('grep', ['-rn', '-F', '--include=*.cpp', '--include=*.h', text, join(sourceDir, 'src')], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error && error.code !== 1) return reject(error);
      resolvePromise(
        stdout
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => {
            const [file, lineNumber, ...content] = line.split(':');
            const after = content.join(':').split(text)[1] ?? '';
            return { file, line: Number(lineNumber), whole: !/^\w/.test(after) };
          })
          .filter((site) => site.whole && !site.file.includes('/src/test/'))
          .map(({ file, line }) => ({ file, line })),
      );
    });
  });
}

if (process.env.BITCOIN_USDT_INTEGRATION_MODE === 'realnode') {
  describe('Go to source on the real Bitcoin Core @real-node', function () {
    // The first Go to source scans the whole source tree (46 MB) on a machine that may be busy.
    this.timeout(600_000);
    const source = requiredEnv('BITCOIN_SOURCE');
    const bitcoind = requiredEnv('BITCOIND');

    it('every tracepoint of the real bitcoind opens its TRACEPOINT( line of the real source tree', async () => {
      const tree: TracepointTreeApi = (await extensionApis('tracepointTree')).tracepointTree;
      let binary: TracepointTreeNode | undefined;
      const deadline = Date.now() + 30_000;
      while (!binary && Date.now() < deadline) {
        binary = (await tree.getChildren()).find((node) => node.binaryPath !== undefined && realpathSync(node.binaryPath) === realpathSync(bitcoind));
        if (!binary) await new Promise((resolveWait) => setTimeout(resolveWait, 200));
      }
      assert.ok(binary, `the tree does not list ${bitcoind}`);
      const tracepoints: TracepointTreeNode[] = [];
      for (const context of await tree.getChildren(binary)) {
        for (const node of await tree.getChildren(context)) if (node.tracepoint !== undefined) tracepoints.push(node);
      }
      assert.equal(tracepoints.length, 20, `tracepoints listed: ${tracepoints.map((node) => node.tracepoint).join(', ')}`);

      for (const node of tracepoints) {
        const [context, event] = (node.tracepoint as string).split(':');
        const macro = `TRACEPOINT(${context}, ${event}`;
        const sites = await grepCallSites(source, macro);
        assert.equal(sites.length, 1, `${macro}: grep finds ${JSON.stringify(sites)}`);
        await vscode.commands.executeCommand('workbench.action.closeAllEditors');
        const started = Date.now();
        await vscode.commands.executeCommand('bitcoinUsdt.goToSource', node);
        console.log(`      ${node.tracepoint}: ${sites[0].file.slice(source.length + 1)}:${sites[0].line} (${Date.now() - started} ms)`);
        const editor = vscode.window.activeTextEditor;
        assert.ok(editor, `${node.tracepoint}: no editor opened`);
        assert.equal(realpathSync(editor.document.uri.fsPath), realpathSync(sites[0].file), `${node.tracepoint}: file`);
        assert.equal(editor.selection.start.line + 1, sites[0].line, `${node.tracepoint}: line`);
        const text = editor.document.lineAt(editor.selection.start.line).text;
        assert.equal(editor.selection.start.character, text.indexOf(macro), `${node.tracepoint}: the selection starts at the macro`);
      }
      await screenshot('real-node-go-to-source');
    });
  });
}
