// Trace this tracepoint in the real VS Code: the CodeLens on the test tracee's undocumented `tracee:buffers` call
// site (src/tracee.c of the workspace), its proposed readings accepted in the review, the helper's generated
// program shown beside, the real helper and bpftrace running it, and the generic tool panel showing every
// argument of the newest hits exactly as the tracee passed them (--expect), counted like every tool.

import { strict as assert } from 'node:assert';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { escapeInvisible } from '../../src/shared/visibleText';
import { acceptPromptsUntilSettled, extensionApis, liveProbeSuiteHooks, startTraceeWithFiles, stopProbeAndCheck, toolPanelReport, workspaceBitcoind } from './integrationHelpers';
import { screenshot } from './screenshot';

describe('Trace this tracepoint (CodeLens → generated probe → generic panel)', function () {
  this.timeout(120_000);

  liveProbeSuiteHooks('the Trace this tracepoint test');

  it('traces the undocumented tracee:buffers from its call site: every value of the newest hits in the panel', async () => {
    const { launcher, traceThis } = await extensionApis('launcher', 'traceThis');
    const binary = workspaceBitcoind();
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(join(dirname(dirname(dirname(binary))), 'src', 'tracee.c')));
    assert.equal(document.languageId, 'c');
    await vscode.window.showTextDocument(document);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri);
    const lens = lenses.find((l) => l.command?.command === 'bitcoinUsdt.traceTracepoint' && (l.command.arguments?.[0] as { tracepoint?: string }).tracepoint === 'tracee:buffers');
    assert.ok(lens?.command, 'a Trace this tracepoint CodeLens on the tracee:buffers call site');
    assert.match(lens.command.title, /Trace this tracepoint/);
    assert.match(document.lineAt(lens.range.start.line).text, /TRACEPOINT\(tracee, buffers,/);

    const tracee = await startTraceeWithFiles(binary, ['--scenario', 'undocumented', '--rate', '60', '--seed', '7', '--duration-ms', '600000', '--wait-attach', 'tracee:buffers']);
    try {
      // The lens's own arguments, with the target given (the process picker is the launcher's, tested elsewhere).
      const started = vscode.commands.executeCommand('bitcoinUsdt.traceTracepoint', { ...(lens.command.arguments?.[0] as object), pid: tracee.pid });
      await acceptPromptsUntilSettled(started);
      await started;
      const proposal = traceThis.lastProposal();
      assert.deepEqual(proposal?.proposals.map((p) => p.reading), [{ kind: 'str', bytes: 71 }, { kind: 'hex', bytes: 24 }, { kind: 'hash' }, { kind: 'u32' }]);
      assert.match(traceThis.lastProgram() ?? '', /^usdt:\$1:tracee:buffers\n\/\$2 == 0 \|\| uid == \$2\//);
      assert.ok(vscode.workspace.textDocuments.some((d) => d.getText().includes('usdt:$1:tracee:buffers')), 'the generated program is shown');
      const session = launcher.activeSession();
      assert.equal(session?.descriptor.tool, 'trace-tracepoint');
      assert.ok(session.command.join(' ').includes('--param tracepoint=tracee:buffers --param args=str71,hex24,hash,u32'), session.command.join(' '));
      await toolPanelReport('trace-tracepoint', (r) => r.rowCount >= 12, 30_000);
      tracee.child.kill('SIGSTOP');
      await stopProbeAndCheck(launcher, session.descriptor.id, binary);
      const exited = new Promise((resolve) => tracee.child.once('exit', resolve));
      tracee.child.kill('SIGCONT');
      tracee.child.kill('SIGINT');
      await exited;
      const { fired, expect } = await tracee.outcome();
      const hits = expect.filter((e) => e.event === 'tracee:buffers').map((e) => (e as unknown as { args: [string, string, string, number] }).args);
      const report = await toolPanelReport('trace-tracepoint', (r) => r.summary.Hits === hits.length.toLocaleString('en-US'), 15_000);
      assert.equal(fired['tracee:buffers'], hits.length);
      assert.deepEqual(report.columns, ['#', 'Time', 'arg0 (str71)', 'arg1 (hex24)', 'arg2 (hash)', 'arg3 (u32)', '', '']);
      assert.equal(report.summary.Tracepoint, 'tracee:buffers');
      assert.equal(report.lostText, 'Lost events: 0');
      const newest = hits.slice(-report.firstRows.length).reverse();
      assert.deepEqual(
        report.firstRows.map((row) => row.slice(2, 6)),
        newest.map(([label, payload, hash, size]) => [escapeInvisible(label), payload, hash, String(size)]),
      );
      assert.equal(report.activeElementsInPanel, 0, 'no link or control from a traced string');
      await screenshot('trace-this-tracepoint');
    } finally {
      if (launcher.activeSession()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
      await tracee.kill();
    }
  });
});
