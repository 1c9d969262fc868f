// Live counts on the TRACEPOINT call sites, in the real VS Code with the test tracee's source open: the real
// helper and bpftrace trace the tracee (utxos); while it runs the call sites of the traced tracepoints show counts
// and a rate, the hover the last events' arguments and a "Show in panel" link that opens the utxos panel filtered
// to the tracepoint, the tree the same counts; a replayed recording next to it is a second, tagged session; at the
// end the count on each call site equals what the kernel counted and what the tracee fired. With nothing traced,
// nothing listens or ticks.

import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadRecording } from '../../src/core/events/recording';
import { findCallSitesInText } from '../../src/core/source/callSiteFinder';
import type { LiveCountsTestApi, ShownCallSite } from '../../src/extension/liveCounts/liveCounts';
import type { TracepointTreeApi } from '../../src/extension/tree/tracepointTreeProvider';
import type { TracepointTreeNode } from '../../src/extension/tree/treeNodes';
import {
  extensionApis,
  liveProbeSuiteHooks,
  repoRoot,
  requiredEnv,
  screenshotOfSource,
  sessionRecording,
  startTraceeWithFiles,
  stopProbeAndCheck,
  toolPanelReport,
  waitFor,
  workspaceBitcoind,
} from './integrationHelpers';

const en = (n: number): string => n.toLocaleString('en-US');
const UTXOS_TRACEPOINTS = ['utxocache:add', 'utxocache:spent', 'utxocache:uncache'];

/** The text of a hover's contents. */
function hoverText(hovers: readonly vscode.Hover[]): string {
  return hovers.flatMap((hover) => hover.contents.map((content) => (typeof content === 'string' ? content : content.value))).join('\n');
}

/** The "Show in panel" links of a hover: their command and arguments, as VS Code would run them. */
function showInPanelLinks(markdown: string): { command: string; args: unknown[] }[] {
  return [...markdown.matchAll(/\]\(command:([\w.]+)\?([^)]*)\)/g)].map((match) => ({ command: match[1], args: JSON.parse(decodeURIComponent(match[2])) as unknown[] }));
}

/** Every tracepoint node of the tree's first binary. */
async function tracepointNodes(tree: TracepointTreeApi): Promise<TracepointTreeNode[]> {
  const [binary] = await tree.getChildren();
  const nodes: TracepointTreeNode[] = [];
  for (const context of await tree.getChildren(binary)) for (const node of await tree.getChildren(context)) if (node.tracepoint !== undefined) nodes.push(node);
  return nodes;
}

/** The call sites the extension shows counts on, once `accept` holds for every traced one. */
async function shownWhen(liveCounts: LiveCountsTestApi, path: string, what: string, accept: (site: ShownCallSite) => boolean, timeoutMs = 30_000): Promise<readonly ShownCallSite[]> {
  try {
    return await waitFor(what, timeoutMs, () => {
      const shown = liveCounts.shownIn(path);
      return shown.length > 0 && shown.every(accept) ? shown : undefined;
    });
  } catch (error) {
    const visible = vscode.window.visibleTextEditors.map((editor) => editor.document.uri.fsPath);
    throw new Error(`${(error as Error).message}; shown: ${JSON.stringify(liveCounts.shownIn(path))}; visible editors: ${visible.join(', ')}`);
  }
}

describe('live counts on the call sites (test tracee)', function () {
  this.timeout(180_000);
  liveProbeSuiteHooks('live counts');

  it('nothing listens or ticks while nothing is traced', async () => {
    const { liveCounts, launcher } = await extensionApis('liveCounts', 'launcher');
    assert.deepEqual(launcher.activeSessions(), []);
    await vscode.commands.executeCommand('bitcoinUsdt.clearLiveCounts');
    assert.deepEqual(liveCounts.working(), { eventListener: false, timer: false, editorSide: false });
  });

  it('utxos on the tracee: live counts, rate, hover, Show in panel, tree; at the end each call site shows what the kernel counted', async () => {
    const { liveCounts, launcher, tracepointTree } = await extensionApis('liveCounts', 'launcher', 'tracepointTree');
    const binary = workspaceBitcoind();
    const source = join(requiredEnv('BITCOIN_USDT_TEST_WORKSPACE'), 'src', 'tracee.c');
    const document = await vscode.workspace.openTextDocument(source);
    const sites = findCallSitesInText(document.getText(), source);
    const tracedLines = sites.filter((site) => UTXOS_TRACEPOINTS.includes(site.tracepoint)).map((site) => site.line);
    // The v29 TRACEPOINT( and the older TRACE5( line of each: both are the tracepoint's call sites.
    assert.equal(tracedLines.length, 6, `utxocache add/spent/uncache call sites in tracee.c: ${tracedLines.join(', ')}`);

    const tracee = await startTraceeWithFiles(binary, ['--scenario', 'utxocache', '--rate', '300', '--seed', '34', '--duration-ms', '600000', '--wait-attach', UTXOS_TRACEPOINTS.join(',')]);
    let sessionId: string | undefined;
    try {
      sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: 'utxos', binaryPath: binary, pid: tracee.pid });
      assert.ok(sessionId, 'startProbe did not start a session');
      assert.deepEqual(liveCounts.working(), { eventListener: true, timer: true, editorSide: true });
      // The source beside the panel, its add call site in view.
      const add = sites.find((site) => site.tracepoint === 'utxocache:add' && site.macro === 'TRACEPOINT');
      assert.ok(add);
      const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preview: false });
      editor.revealRange(new vscode.Range(add.line - 12, 0, add.line + 30, 0), vscode.TextEditorRevealType.AtTop);

      // Live: every traced call site counts and has a rate; the untraced ones (flush, mempool, …) show nothing.
      const live = await shownWhen(liveCounts, source, 'live counts with a rate on every traced call site', (site) => /^[1-9][\d,]* fired · [\d.,]+\/s · 0 lost$/.test(site.text));
      assert.deepEqual(live.map((site) => site.line).sort((a, b) => a - b), tracedLines);
      assert.ok(live.every((site) => site.sessions.length === 1 && site.sessions[0].sessionId === sessionId));

      // The hover: the session's counts, a Show in panel link, the last events' arguments.
      const spent = sites.find((site) => site.tracepoint === 'utxocache:spent' && site.macro === 'TRACEPOINT');
      assert.ok(spent);
      const hover = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, new vscode.Position(spent.line - 1, spent.column + 2)));
      assert.match(hover, /\*\*utxocache:spent\*\* · counted in the kernel/);
      assert.match(hover, new RegExp(`utxos · pid ${tracee.pid}: [\\d,]+ fired`));
      assert.match(hover, /\*\*Last 5 events\*\*/);
      assert.match(hover, /txid `"[0-9a-f]{64}"`, index `\d+`, height `\d+`, value `\d+`, is\\_coinbase `(true|false)`, outpoint `"[0-9a-f]{64}:\d+"`/);
      const links = showInPanelLinks(hover);
      assert.deepEqual(links, [{ command: 'bitcoinUsdt.showTracepointInPanel', args: [{ sessionId, tool: 'utxos', tracepoint: 'utxocache:spent' }] }]);

      // The link opens the utxos panel on this session, filtered to spent coins.
      await vscode.commands.executeCommand(links[0].command, ...links[0].args);
      const filtered = await toolPanelReport('utxos', (r) => r.sessionId === sessionId && r.filter.kind === 'spent' && r.rowCount > 0, 30_000);
      const operation = filtered.columns.indexOf('Op');
      assert.ok(operation >= 0, `columns: ${filtered.columns.join(', ')}`);
      assert.ok(filtered.firstRows.every((row) => row[operation] === 'spent'), `rows: ${JSON.stringify(filtered.firstRows.slice(0, 3))}`);
      // The filter stays with the panel: leave it unfiltered for the tests that follow.
      (await extensionApis('toolPanels')).toolPanels.setFilter('utxos', { text: '', kind: '' });
      await toolPanelReport('utxos', (r) => r.filter.kind === '' && r.filter.text === '', 10_000);

      // The tree shows the same counts on the traced tracepoints, none on the others.
      await waitFor('the tree to show the counts', 10_000, async () => {
        const items = (await tracepointNodes(tracepointTree)).map((node) => ({ tracepoint: node.tracepoint, description: String(tracepointTree.getTreeItem(node).description) }));
        return items.every((item) => UTXOS_TRACEPOINTS.includes(item.tracepoint as string) === / fired · /.test(item.description));
      });

      // A replayed recording of the same tool is a second session: the call sites name each.
      const recordingSession = await vscode.commands.executeCommand<string>('bitcoinUsdt.openRecording', vscode.Uri.file(join(repoRoot, 'demo', 'recordings', 'utxos-demo.ndjson')));
      // The panel may have opened over the source: show it again (counts are drawn on visible editors).
      await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preview: false });
      const both = await shownWhen(liveCounts, source, 'two sessions on the add call sites', (site) => site.tracepoint !== 'utxocache:add' || site.sessions.length === 2);
      const addSite = both.find((site) => site.tracepoint === 'utxocache:add');
      assert.ok(addSite);
      assert.match(addSite.text, new RegExp(`^utxos · pid ${tracee.pid}: [\\d,]+ fired · [\\d.,]+/s · 0 lost  \\|  utxos-demo\\.ndjson \\(utxos\\): [\\d,]+ fired · avg [\\d.,]+/s · 0 lost · ended$`));
      assert.deepEqual(addSite.sessions.map((s) => s.sessionId), [sessionId, recordingSession], 'the live session first');
      await screenshotOfSource(document, add.line, 'live-counts-tracee');
      await screenshotOfSource(document, spent.line, 'live-counts-tracee-hover', spent.column + 2);

      // The end: nothing fires while the tracee is stopped, so the kernel's last counts are the tracee's.
      tracee.child.kill('SIGSTOP');
      await stopProbeAndCheck(launcher, sessionId, binary);
      assert.deepEqual(liveCounts.working(), { eventListener: false, timer: false, editorSide: true }, 'an ended session stops the listener and the timer; its counts stay shown');
      const exited = new Promise((resolveExit) => tracee.child.once('exit', resolveExit));
      tracee.child.kill('SIGCONT');
      tracee.child.kill('SIGINT');
      await exited;
      const { fired } = await tracee.outcome();
      const recording = await loadRecording(await sessionRecording(sessionId));
      const kernel = (recording.events.filter((e) => e.event === 'fired').at(-1) as { counts: Record<string, number> } | undefined)?.counts;
      assert.ok(kernel, 'the session recorded the kernel counts');
      const final = liveCounts.shownIn(source);
      assert.deepEqual(final.map((site) => site.line).sort((a, b) => a - b), tracedLines);
      for (const site of final) {
        const ours = site.sessions.find((s) => s.sessionId === sessionId);
        assert.ok(ours, `${site.tracepoint}: the session is shown`);
        assert.equal(ours.fired, kernel[site.tracepoint], `${site.tracepoint} line ${site.line}: the kernel's count`);
        assert.equal(kernel[site.tracepoint], fired[site.tracepoint], `${site.tracepoint}: the kernel counted what the tracee fired`);
        // Both sessions ended: the newest (the recording) first.
        assert.match(site.text, new RegExp(`  \\|  utxos · pid ${tracee.pid}: ${en(fired[site.tracepoint])} fired · avg [\\d.,]+/s · 0 lost · ended$`), `line ${site.line}: ${site.text}`);
      }
      await vscode.commands.executeCommand('bitcoinUsdt.clearLiveCounts');
      assert.deepEqual(liveCounts.working(), { eventListener: false, timer: false, editorSide: false });
      assert.deepEqual(liveCounts.shownIn(source), []);
    } finally {
      if (launcher.activeSessions().length > 0) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
      await tracee.kill();
    }
  });
});
