// A hostile `[x](command:…)` string in a recording's header and in a recording path (what the
// startupRecording setting names) reaches a real notification as text, never as a link. The workbench's DOM
// is read by the offline runner (shownNotifications); a notification shown with the raw string is the
// control that VS Code does render such a link.

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { shownNotifications, type ShownNotification } from './screenshot';
import { waitFor } from './integrationHelpers';

const LINK = '[x](command:workbench.action.terminal.new)';

async function notificationWith(needle: string, name: string): Promise<ShownNotification> {
  return waitFor(`a notification containing ${needle}`, 20_000, async () => {
    const shown = await shownNotifications(name);
    assert.ok(shown, 'the offline runner answers notification requests (node dist/test/runIntegration.js)');
    return shown.find((n) => n.text.includes(needle));
  });
}

describe('untrusted strings in notifications', function () {
  this.timeout(90_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'untrusted-notifications-'));
  });
  after(async () => {
    await vscode.commands.executeCommand('notifications.clearAll');
    rmSync(dir, { recursive: true, force: true });
  });

  it('the control: VS Code renders a command link in a raw notification', async () => {
    await vscode.commands.executeCommand('notifications.clearAll');
    void vscode.window.showInformationMessage(`control ${LINK}`);
    const control = await notificationWith('control', 'notification-control');
    assert.deepEqual(control.links, ['command:workbench.action.terminal.new']);
  });

  it("a recording whose header's tool field is a command link: the warning shows it as text", async () => {
    await vscode.commands.executeCommand('notifications.clearAll');
    const recording = join(dir, 'hostile-tool.ndjson');
    const header = { format: 'bitcoin-usdt-recording', version: 1, tool: LINK, started_at: '2026-01-01T00:00:00Z' };
    writeFileSync(recording, `${JSON.stringify(header)}\nnot json\n`);
    await vscode.commands.executeCommand('bitcoinUsdt.openRecording', vscode.Uri.file(recording));
    const warning = await notificationWith('malformed line', 'notification-recording-tool');
    assert.match(warning.text, /\[x\] \(command:workbench\.action\.terminal\.new\)/);
    assert.deepEqual(warning.links, []);
  });

  it('a recording path (as startupRecording names one) holding a command link: the error shows it as text', async () => {
    await vscode.commands.executeCommand('notifications.clearAll');
    const missing = join(dir, `${LINK}.ndjson`);
    await vscode.commands.executeCommand('bitcoinUsdt.openRecording', vscode.Uri.file(missing));
    const error = await notificationWith('cannot read recording', 'notification-recording-path');
    assert.match(error.text, /\[x\] \(command:workbench\.action\.terminal\.new\)\.ndjson/);
    assert.deepEqual(error.links, []);
  });
});
