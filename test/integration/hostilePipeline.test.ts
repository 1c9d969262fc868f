// Hostile strings from the traced process, through the real pipeline, into the real panel: a USDT program fires
// net:*_message with markup, script breakouts, `javascript:` URLs, invalid UTF-8, control characters, bidi
// overrides and a 10 kB string; the real helper runs the real bpftrace (started with bitcoinUsdt.startProbe);
// the P2P panel renders them. Checks: the hub's events carry exactly the bytes sent (cut at the probe's string
// limit, and counted as cut), the panel shows them as text (invisible characters as visible escapes), and not
// one element was created from them. Needs root, bpftrace, gcc and <sys/sdt.h> (as on CI).

import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import { bytesToString } from '../../src/core/events/bpftraceJson';
import type { NetMessageEvent, NormalizedEvent } from '../../src/core/events/eventTypes';
import type { LauncherApi } from '../../src/extension/launch/launcherApi';
import type { P2pRenderReport } from '../../src/shared/p2pProtocol';
import { escapeInvisible } from '../../src/shared/visibleText';
import {
  assertNoProbeProcessesWithin,
  collectEvents,
  extensionApis,
  p2pPanelReport,
  startTracee,
  waitFor,
  workspaceBitcoind,
  type StartedTracee,
} from './integrationHelpers';
import { screenshot } from './screenshot';

/** BPFTRACE_STRLEN=72: a string keeps at most 71 bytes. */
const PROBE_STRING_BYTES = 71;

const latin = (text: string): Buffer => Buffer.from(text, 'utf8');

/** Peer addresses the hostile program sends, as raw bytes (peer ids 500, 501, …). */
const HOSTILE_ADDRS: readonly Buffer[] = [
  latin('<img src=x onerror="document.title=\'pwned\'">:8333'),
  latin('</script><script>document.title=\'pwned\'</script>'),
  latin('javascript:document.title=\'pwned\'//:8333'),
  Buffer.concat([latin('bad utf8 '), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x28, 0xa1, 0xed, 0xa0, 0x80]), latin(':8333')]),
  latin('ctl\x01\x07\x1b[31m\x7f\x1b]0;title\x07:8333\n'),
  Buffer.concat([latin('\u202E1.0.0.127\u2066:8333\u200B\u2069')]),
  Buffer.concat([latin('<b>'), Buffer.alloc(10_240, 0x41), latin('</b>')]),
  latin('{{constructor.constructor(\'document.title=1\')()}} ${alert(1)} &amp;&lt;'),
];
const HOSTILE_CONN_TYPES: readonly Buffer[] = [latin('inbound'), latin('in"bound\\<svg onload=alert(1)>'), latin('\u202Eoutbound')];
const HOSTILE_TYPES: readonly Buffer[] = [
  latin('<svg onload=alert(1)>'),
  latin('javascript:alert(1)'),
  latin('\u202Eexe.txt'),
  Buffer.from([0xff, 0xfe, 0x80]),
  latin('</script>'),
  latin('"quoted",\\'),
  latin('tab\there'),
];

/** A C string literal of exactly these bytes (octal escapes: always 3 digits, so nothing runs into the next character). */
function cString(bytes: Buffer): string {
  return `"${[...bytes].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('')}"`;
}

const HOSTILE_PROGRAM = `
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/sdt.h>
#include <unistd.h>

static const char *const addrs[] = { ${HOSTILE_ADDRS.map(cString).join(', ')} };
static const char *const conn_types[] = { ${HOSTILE_CONN_TYPES.map(cString).join(', ')} };
static const char *const types[] = { ${HOSTILE_TYPES.map(cString).join(', ')} };
static unsigned char payload[64];

int main(void)
{
    printf("ready pid=%d\\n", (int)getpid());
    fflush(stdout);
    for (uint64_t i = 0;; i++) {
        unsigned p = (unsigned)(i % (sizeof addrs / sizeof addrs[0]));
        int64_t id = 500 + (int64_t)p;
        const char *conn = conn_types[p % (sizeof conn_types / sizeof conn_types[0])];
        const char *type = types[i % (sizeof types / sizeof types[0])];
        uint64_t size = 8 + i % 50;
        DTRACE_PROBE6(net, inbound_message, id, addrs[p], conn, type, size, payload);
        /* Peer 500 also gets every type inbound, so it is the top row and its message list shows them all. */
        int64_t top = 500;
        DTRACE_PROBE6(net, inbound_message, top, addrs[0], conn_types[0], type, size, payload);
        DTRACE_PROBE6(net, outbound_message, id, addrs[p], conn, type, size, payload);
        usleep(4000);
    }
}
`;

/** What the decoder must produce from a string the program sent: its first 71 bytes, decoded. */
function expectedText(bytes: Buffer): string {
  return bytesToString(bytes.subarray(0, PROBE_STRING_BYTES));
}

/** Starts p2p-traffic on `binary`/`pid`, waits until `ready(events)`, stops it, and checks nothing is left. */
async function probeSession(
  launcher: LauncherApi,
  binary: string,
  pid: number,
  check: (sessionId: string, events: readonly NormalizedEvent[]) => Promise<void>,
): Promise<void> {
  const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: 'p2p-traffic', binaryPath: binary, pid });
  assert.ok(sessionId, 'startProbe started a session');
  const collected = collectEvents(launcher, sessionId);
  try {
    await check(sessionId, collected.events);
  } finally {
    collected.dispose();
    if (launcher.activeSession()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
  }
  await assertNoProbeProcessesWithin(binary, 10_000);
}

const messagesOf = (events: readonly NormalizedEvent[]): NetMessageEvent[] =>
  events.filter((e): e is NetMessageEvent => e.event === 'net:inbound_message' || e.event === 'net:outbound_message');

/** Every table row shows the peer's last address and connection type exactly, with invisible characters escaped. */
function assertRowsShowExactly(report: P2pRenderReport, events: readonly NormalizedEvent[]): void {
  const last = new Map<string, NetMessageEvent>();
  for (const message of messagesOf(events)) last.set(String(message.peer_id), message);
  assert.ok(report.firstRows.length > 0);
  for (const row of report.firstRows) {
    const message = last.get(row.id);
    assert.ok(message, `row ${row.id} has no events`);
    assert.equal(row.addr, escapeInvisible(message.peer_addr), `peer ${row.id} address`);
    assert.equal(row.connType, escapeInvisible(message.conn_type), `peer ${row.id} connection type`);
  }
}

function assertNothingExecutedOrCreated(report: P2pRenderReport): void {
  assert.equal(report.activeElementsInPanel, 0, 'hostile strings created elements in the panel');
  assert.equal(report.imgElementsInDocument, 0, 'an <img> exists in the webview document');
}

describe('hostile strings through the real probe into the real panel', function () {
  this.timeout(180_000);
  let work: string;
  const programs: StartedTracee[] = [];

  before(async function () {
    assert.equal(process.getuid?.(), 0, 'this test attaches real probes and runs as root (as on CI)');
    work = await mkdtemp(join(tmpdir(), 'bitcoin-usdt-hostile-'));
  });
  afterEach(async () => {
    for (const program of programs.splice(0)) await program.kill();
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('the tracee\'s hostile scenario: every row shows the exact address and type as text, nothing becomes an element', async () => {
    const { launcher } = await extensionApis('launcher', 'p2pPanel');
    const binary = workspaceBitcoind();
    // One ordinary peer and the 8 hostile ones: all 9 fit in the report's first 10 rows.
    const tracee = await startTracee(binary, ['--scenario', 'hostile', '--peers', '1', '--rate', '600', '--duration-ms', '600000']);
    programs.push(tracee);
    await probeSession(launcher, binary, tracee.pid, async (sessionId, events) => {
      const report = await p2pPanelReport((r) => r.sessionId === sessionId && r.peerRowCount >= 9 && r.messageRowCount > 0, 60_000);
      await waitFor('events in the hub', 10_000, () => (messagesOf(events).length > 0 ? true : undefined));
      assertRowsShowExactly(report, events);
      const shown = report.firstRows.map((r) => r.addr);
      assert.ok(shown.includes('"><script>alert(1)</script>:8333'), JSON.stringify(shown));
      assert.ok(shown.includes('<img src=x onerror=alert(1)>:8333'));
      assert.ok(shown.includes('\\u202E1.0.0.127:8333'), 'the RLO override is shown as a visible escape');
      assert.ok(shown.includes('10.0.0.1\\u0009\\u0001\\u001B[31m:8333\\u000A'), 'control characters are shown as visible escapes');
      assertNothingExecutedOrCreated(report);
    });
  });

  it('markup, script breakouts, javascript: URLs, invalid UTF-8, controls, bidi and a 10 kB string from a USDT program', async () => {
    const { launcher } = await extensionApis('launcher', 'p2pPanel');
    const source = join(work, 'hostile.c');
    const binary = join(work, 'hostile-bitcoind');
    await writeFile(source, HOSTILE_PROGRAM);
    await promisify(execFile)('gcc', ['-O1', '-o', binary, source]).catch((error: Error) => {
      throw new Error(`cannot build the hostile USDT program (needs gcc and systemtap-sdt-dev): ${error.message}`);
    });
    const program = await startTracee(binary, []);
    programs.push(program);
    await probeSession(launcher, binary, program.pid, async (sessionId, events) => {
      const report = await p2pPanelReport(
        (r) => r.sessionId === sessionId && r.peerRowCount === HOSTILE_ADDRS.length && r.messageRowCount >= HOSTILE_TYPES.length,
        60_000,
      );
      // The hub received exactly the bytes sent (first 71 of each), decoded losslessly.
      const messages = messagesOf(events);
      const expectedAddrs = new Set(HOSTILE_ADDRS.map(expectedText));
      const expectedTypes = new Set(HOSTILE_TYPES.map(expectedText));
      const expectedConnTypes = new Set(HOSTILE_CONN_TYPES.map(expectedText));
      for (const message of messages) {
        assert.ok(expectedAddrs.has(message.peer_addr), `unexpected address ${JSON.stringify(message.peer_addr)}`);
        assert.ok(expectedTypes.has(message.msg_type), `unexpected type ${JSON.stringify(message.msg_type)}`);
        assert.ok(expectedConnTypes.has(message.conn_type), `unexpected connection type ${JSON.stringify(message.conn_type)}`);
      }
      assert.deepEqual(new Set(messages.map((m) => m.peer_addr)), expectedAddrs, 'every hostile address arrived');
      const big = expectedText(HOSTILE_ADDRS[6]);
      assert.equal(big, `<b>${'A'.repeat(PROBE_STRING_BYTES - 3)}`, 'the 10 kB string is cut at the probe limit');
      assert.ok(events.some((e) => e.event === 'truncated' && e.field === 'peer_addr'), 'the cut is counted');
      assert.ok(messages.some((m) => m.peer_addr.includes('\uDCFF\uDCFE')), 'invalid UTF-8 bytes are kept (as U+DC80..U+DCFF)');

      // The panel shows them as text, invisible and invalid characters as visible escapes.
      assertRowsShowExactly(report, events);
      const shown = report.firstRows.map((r) => r.addr);
      assert.ok(shown.includes('<img src=x onerror="document.title=\'pwned\'">:8333'), JSON.stringify(shown));
      assert.ok(shown.includes('</script><script>document.title=\'pwned\'</script>'));
      assert.ok(shown.includes('javascript:document.title=\'pwned\'//:8333'));
      assert.ok(shown.includes('bad utf8 \\uDCFF\\uDCFE\\uDCC3(\\uDCE2(\\uDCA1\\uDCED\\uDCA0\\uDC80:8333'), 'invalid UTF-8 shown as visible escapes');
      assert.ok(shown.includes('\\u202E1.0.0.127\\u2066:8333\\u200B\\u2069'), 'bidi controls shown as visible escapes');
      assert.ok(shown.includes(big));
      assert.equal(report.selectedPeerId, '500');
      const visibleTypes = new Set([...expectedTypes].map(escapeInvisible));
      for (const type of report.firstMessageTypes) assert.ok(visibleTypes.has(type), `message type shown as ${JSON.stringify(type)}`);
      assert.ok(new Set(report.firstMessageTypes).size >= 3, 'several hostile message types are listed');
      assert.match(report.truncatedText, /^Cut strings: [1-9]/);
      assertNothingExecutedOrCreated(report);
      await screenshot('hostile-pipeline');
    });
  });
});
