import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { copyFile, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { TracepointTreeApi } from '../../src/extension/tree/tracepointTreeProvider';
import type { TracepointTreeNode } from '../../src/extension/tree/treeNodes';
import { extensionApis, requiredEnv } from './integrationHelpers';
import { screenshot } from './screenshot';

async function treeApi(): Promise<TracepointTreeApi> {
  return (await extensionApis('tracepointTree')).tracepointTree;
}

/** Walks binary → context → tracepoint to the node of `tracepoint` under `binaryPath`. */
async function tracepointNode(tree: TracepointTreeApi, binaryPath: string, tracepoint: string): Promise<TracepointTreeNode> {
  const binary = (await tree.getChildren()).find((node) => node.binaryPath === binaryPath);
  assert.ok(binary, `no tree node for ${binaryPath}`);
  const context = (await tree.getChildren(binary)).find((node) => node.context === tracepoint.split(':')[0]);
  assert.ok(context, `no context node for ${tracepoint}`);
  const node = (await tree.getChildren(context)).find((candidate) => candidate.tracepoint === tracepoint);
  assert.ok(node, `no tracepoint node for ${tracepoint}`);
  return node;
}

/** Replaces `target` the way a linker does: write a new file next to it, then rename it over the old one. */
async function replaceBinary(source: string, target: string): Promise<void> {
  const temporary = `${target}.tmp-${process.pid}`;
  await copyFile(source, temporary);
  await rename(temporary, target);
}

/** 0-based numbers of the lines of `file` that contain `text`. */
async function linesContaining(file: string, text: string): Promise<number[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .flatMap((line, index) => (line.includes(text) ? [index] : []));
}

describe('Go to source', () => {
  const workspace = requiredEnv('BITCOIN_USDT_TEST_WORKSPACE');
  const bitcoind = join(workspace, 'build', 'bin', 'bitcoind');
  const traceeSource = join(workspace, 'src', 'tracee.c');

  beforeEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('opens the TRACEPOINT(net, inbound_message, …) call site of the v29 binary with its line selected', async () => {
    const tree = await treeApi();
    const expectedLines = await linesContaining(traceeSource, 'TRACEPOINT(net, inbound_message');
    assert.equal(expectedLines.length, 1, `${traceeSource} should have exactly one TRACEPOINT(net, inbound_message line`);
    const node = await tracepointNode(tree, bitcoind, 'net:inbound_message');

    await vscode.commands.executeCommand('bitcoinUsdt.goToSource', node);

    const editor = vscode.window.activeTextEditor;
    assert.ok(editor, 'no editor was opened');
    assert.equal(editor.document.uri.fsPath, traceeSource);
    assert.equal(editor.selection.start.line, expectedLines[0], 'selection is not on the TRACEPOINT line');
    assert.equal(editor.selection.end.line, expectedLines[0]);
    assert.ok(editor.document.lineAt(editor.selection.start.line).text.includes('TRACEPOINT(net, inbound_message'));
    const lineText = editor.document.lineAt(expectedLines[0]).text;
    assert.equal(editor.selection.start.character, lineText.indexOf('TRACEPOINT(net, inbound_message'), 'selection does not start at the macro');
    assert.equal(editor.selection.end.character, lineText.length, 'selection does not reach the end of the line');
    const revealDeadline = Date.now() + 3_000;
    while (!editor.visibleRanges.some((range) => range.contains(editor.selection.start)) && Date.now() < revealDeadline) {
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
    assert.ok(
      editor.visibleRanges.some((range) => range.contains(editor.selection.start)),
      `the selected line is not scrolled into view (visible: ${editor.visibleRanges.map((range) => `${range.start.line}-${range.end.line}`).join(', ')})`,
    );
    await screenshot('go-to-source');
  });

  it('opens the TRACE6(net, inbound_message, …) call site once the binary is a v22–v28 style build', async function () {
    this.timeout(60_000);
    const tree = await treeApi();
    const traceeBuild = join(process.env.BITCOIN_USDT_TRACEE_DIR ?? join(requiredEnv('BITCOIN_USDT_REPO'), 'test', 'tracee'), 'build');
    const legacy = join(traceeBuild, 'tracee-legacy');
    const v29 = join(traceeBuild, 'tracee-v29');
    assert.ok(existsSync(legacy) && existsSync(v29), `${legacy} or ${v29} is missing: run make -C test/tracee`);
    const expectedLines = await linesContaining(traceeSource, 'TRACE6(net, inbound_message');
    assert.equal(expectedLines.length, 1, `${traceeSource} should have exactly one TRACE6(net, inbound_message line`);
    await replaceBinary(legacy, bitcoind);
    try {
      const deadline = Date.now() + 10_000;
      let node = await tracepointNode(tree, bitcoind, 'net:inbound_message');
      while (tree.getTreeItem(node).description?.toString().includes('semaphore') && Date.now() < deadline) {
        await new Promise((resolveWait) => setTimeout(resolveWait, 200));
        node = await tracepointNode(tree, bitcoind, 'net:inbound_message');
      }
      assert.ok(!tree.getTreeItem(node).description?.toString().includes('semaphore'), 'the tree still shows the v29 build after 10 s');
      await vscode.commands.executeCommand('bitcoinUsdt.goToSource', node);
      const editor = vscode.window.activeTextEditor;
      assert.ok(editor, 'no editor was opened');
      assert.equal(editor.document.uri.fsPath, traceeSource);
      assert.equal(editor.selection.start.line, expectedLines[0], 'selection is not on the TRACE6 line');
    } finally {
      await replaceBinary(v29, bitcoind);
    }
    const deadline = Date.now() + 10_000;
    while (!tree.getTreeItem(await tracepointNode(tree, bitcoind, 'net:inbound_message')).description?.toString().includes('semaphore')) {
      assert.ok(Date.now() < deadline, 'the tree did not show the v29 build again within 10 s');
      await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    }
  });

  it('finds a call site by tracepoint name alone (no tree node) and follows edits to the sources', async () => {
    // Without a binary there is no preference between TRACEPOINT and TRACEn: use a tracepoint the
    // test adds to a new source file, once, then moves.
    const added = join(workspace, 'src', 'goToSourceFixture.cpp');
    const uri = vscode.Uri.file(added);
    const body = (blankLines: number): string =>
      `${'\n'.repeat(blankLines)}void f() {\n    TRACEPOINT(test_only, moved_call_site, 1);\n}\n`;
    try {
      await vscode.workspace.fs.writeFile(uri, Buffer.from(body(2)));
      await waitForCallSiteLine('test_only:moved_call_site', added, 3);
      await vscode.workspace.fs.writeFile(uri, Buffer.from(body(10)));
      await waitForCallSiteLine('test_only:moved_call_site', added, 11);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.workspace.fs.delete(uri);
    }
  });

  it('opens nothing when no call site exists', async () => {
    await vscode.commands.executeCommand('bitcoinUsdt.goToSource', { tracepoint: 'net:no_such_tracepoint' });
    assert.equal(vscode.window.activeTextEditor, undefined, 'an editor was opened for a tracepoint without call sites');
  });
});

/** Runs Go to source until it selects `line` (0-based) of `file`: the call site index follows file changes. */
async function waitForCallSiteLine(tracepoint: string, file: string, line: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  let seen = 'nothing';
  while (Date.now() < deadline) {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('bitcoinUsdt.goToSource', { tracepoint });
    const editor = vscode.window.activeTextEditor;
    if (editor?.document.uri.fsPath === file && editor.selection.start.line === line) return;
    seen = editor ? `${editor.document.uri.fsPath}:${editor.selection.start.line}` : 'no editor';
    await new Promise((resolveWait) => setTimeout(resolveWait, 300));
  }
  throw new Error(`Go to source on ${tracepoint} did not select ${file}:${line} within 10 s (last: ${seen})`);
}
