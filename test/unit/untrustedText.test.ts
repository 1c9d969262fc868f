// Strings from outside never become links or markup in VS Code's notifications, hovers and tooltips
// (SECURITY.md, "Webviews" and "Notifications"). The link parser used here is VS Code's own, taken from the
// VS Code server's workbench bundle (.vscode-test/server, the one the integration tests run).

import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import { readRecording, RecordingError } from '../../src/core/events/recording';
import { markdownCode, markdownText, notificationText } from '../../src/shared/untrustedText';

const ROOT = resolve(__dirname, '..', '..');
const WORKBENCH = join(ROOT, '.vscode-test', 'server', 'node_modules', 'code-server', 'lib', 'vscode', 'out', 'vs', 'code', 'browser', 'workbench', 'workbench.js');

let linkPattern: string | undefined;

/** VS Code's notification link pattern (linkedText.ts), read once from the real workbench bundle. */
function vscodeNotificationLinks(): RegExp {
  if (linkPattern === undefined) {
    const bundle = readFileSync(WORKBENCH, 'utf8');
    const anchor = bundle.indexOf('(?:https?:\\/\\/|command:|file:)');
    const start = bundle.lastIndexOf('=/', anchor) + 2;
    const end = bundle.indexOf('/gi;', anchor);
    assert.ok(anchor > 0 && start > 1 && end > anchor, `VS Code's notification link pattern was not found in ${WORKBENCH}`);
    linkPattern = bundle.slice(start, end);
  }
  return new RegExp(linkPattern, 'gi');
}

function links(text: string): string[] {
  return [...text.matchAll(vscodeNotificationLinks())].map((m) => m[0]);
}

const HOSTILE = [
  '[x](command:workbench.action.terminal.new)',
  'see [the docs](command:workbench.action.openSettings?%5B%22bitcoinUsdt%22%5D "a title")',
  '[click](https://evil.example/)',
  '[open](file:///etc/passwd)',
  '[x] (command:a) and [y](command:b)',
  '\u202E[x](command:reversed)',
];

describe('untrusted text in notifications, hovers and tooltips', () => {
  it("VS Code's own parser turns the hostile strings into links (the control)", () => {
    for (const text of HOSTILE.slice(0, 4)) assert.equal(links(text).length, 1, text);
    assert.equal(links(HOSTILE[4]).length, 1);
  });

  it('notificationText leaves no link and shows invisible characters as escapes', () => {
    for (const text of HOSTILE) {
      const shown = notificationText(text);
      assert.deepEqual(links(shown), [], shown);
      assert.ok(shown.includes('command:') || shown.includes('https:') || shown.includes('file:'), 'the text stays readable');
    }
    assert.equal(notificationText('\u202E[x](command:reversed)'), '\\u202E[x] (command:reversed)');
    assert.equal(notificationText('plain (text) and [brackets]'), 'plain (text) and [brackets]');
  });

  it('route 1: a binary whose note arguments bpftrace quotes in an error, through the helper stream', () => {
    const decoder = new BpftraceDecoder();
    const line = JSON.stringify({ type: 'helper', data: { event: 'stderr', line: `ERROR: cannot parse argument '${HOSTILE[0]}' of usdt:/b:net:x` } });
    const messages = decoder.decodeLine(line).filter((e) => e.event === 'session:message').map((e) => (e as { message: string }).message);
    assert.equal(messages.length, 1);
    assert.equal(links(messages[0]).length, 1, 'the decoded message carries the link');
    assert.deepEqual(links(notificationText(`Probe p2p-traffic failed: bpftrace exited (exit code 1). ${messages[0]}`)), []);
  });

  it("route 2 and 3: a recording header's tool field, and a startupRecording path", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'untrusted-text-'));
    try {
      const recording = join(dir, 'hostile.ndjson');
      writeFileSync(recording, `${JSON.stringify({ format: 'bitcoin-usdt-recording', version: 1, tool: HOSTILE[0] })}\nnot json\n`);
      let tool = '';
      await readRecording(recording, () => undefined, (header) => (tool = header.tool));
      assert.equal(links(tool).length, 1, 'the header carries the link');
      // The extension names a replayed session "<file> (<tool>)" in its notifications.
      assert.deepEqual(links(notificationText(`Bitcoin USDT: 1 malformed line(s) in hostile.ndjson (${tool}) were skipped`)), []);
      const missing = join(dir, `${HOSTILE[0]}.ndjson`);
      const pathError = await readRecording(missing, () => undefined).then(() => null, (error: Error) => error);
      assert.ok(pathError instanceof RecordingError);
      assert.ok(links(pathError.message).length > 0, 'the path error carries the link');
      assert.deepEqual(links(notificationText(`Bitcoin USDT: ${pathError.message}`)), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('markdownText and markdownCode: no link, no theme icon, no markup in a tooltip or hover', () => {
    for (const text of [...HOSTILE, '$(zap) **bold** <img src=x>']) {
      const escaped = markdownText(text);
      assert.doesNotMatch(escaped, /(^|[^\\])[[\]()<>*$]/, escaped);
    }
    assert.equal(markdownCode('a`b'), '``a`b``');
    assert.equal(markdownText('\u202Ex'), '\\\\u202Ex');
  });

  it('every notification in src/extension goes through notifications.ts; no Markdown is trusted but a call site hover, for its one command', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts') && !path.endsWith(join('extension', 'notifications.ts'))) {
          const text = readFileSync(path, 'utf8');
          if (/window\.show(Error|Warning|Information)Message/.test(text)) offenders.push(`${path}: a notification not through notifications.ts`);
          // The live counts hover may run its "Show in panel" command, and nothing else (test/unit/tracepointActivity.test.ts).
          const trustsOnlyShowInPanel = /\.isTrusted = \{ enabledCommands: \[SHOW_TRACEPOINT_IN_PANEL\] \};/g;
          if (/\.isTrusted\s*=|isTrusted:\s*true|enableCommandUris|supportHtml/.test(text.replace(trustsOnlyShowInPanel, ''))) offenders.push(`${path}: trusted Markdown or command URIs`);
        }
      }
    };
    walk(join(ROOT, 'src'));
    assert.deepEqual(offenders, []);
  });
});
