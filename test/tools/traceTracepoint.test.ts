// Trace this tracepoint for real, through the path the extension takes: the readings proposed from the test
// tracee's notes and source (src/core/trace/traceProposal.ts), then `node dist/cli.js run trace-tracepoint
// --pid … --tracepoint … --args …`, which starts the privileged helper (we are root: no sudo); the helper checks
// the request against the notes, writes the bpftrace program and runs it. Every value of every hit must be what
// the tracee says it passed (--expect of its `undocumented` scenario), in both builds (v29 semaphores, legacy),
// and delivered + lost must equal the kernel's fired count. Needs root, bpftrace, `make -C test/tracee`, dist/.

import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { bytesToString } from '../../src/core/events/bpftraceJson';
import { findCallSites } from '../../src/core/source/callSiteFinder';
import { proposeTraceForBinary } from '../../src/core/trace/traceProposal';
import { readingsText } from '../../src/core/trace/traceReadings';
import { exited } from './childProcessWaits';
import { CLI, runCliOnTracee, type CliRun } from './cliOnTracee';

const ROOT = resolve(__dirname, '..', '..');
const TRACEE_DIR = join(ROOT, 'test', 'tracee');
const BUILDS = { v29: join(TRACEE_DIR, 'build', 'tracee-v29'), legacy: join(TRACEE_DIR, 'build', 'tracee-legacy') };
const COUNT = 240;

interface TraceRun extends Omit<CliRun, 'summary'> {
  fired: Record<string, number>;
}

async function traceTracee(binary: string, tracepoint: string, args: string): Promise<TraceRun> {
  const { summary, ...run } = await runCliOnTracee(binary, ['--scenario', 'undocumented', '--count', String(COUNT), '--linger-ms', '1500'],
    ['trace-tracepoint', '--tracepoint', tracepoint, '--args', args]);
  return { ...run, fired: summary.fired };
}

/** The hits' argument values; the kernel's last fired count of the tracepoint; what was lost. */
function hitsOf(run: TraceRun, tracepoint: string): { args: unknown[][]; fired: number; lost: number } {
  const hits = run.events.filter((e) => e.event === 'tracepoint:hit');
  for (const hit of hits) assert.equal(hit.tracepoint, tracepoint);
  const fired = run.events.filter((e) => e.event === 'fired').map((e) => (e.counts as Record<string, number>)[tracepoint] ?? 0);
  const lost = run.events.filter((e) => e.event === 'lost').reduce((n, e) => n + Number(e.count), 0);
  return { args: hits.map((h) => h.args as unknown[]), fired: Math.max(0, ...fired), lost };
}

describe('Trace this tracepoint: undocumented tracepoints of the test tracee, every value checked', function () {
  this.timeout(180_000);
  let callSites: Awaited<ReturnType<typeof findCallSites>>;

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the tool tests run as root (sudo npm run test:tools)');
    callSites = await findCallSites([TRACEE_DIR]);
  });

  const PROPOSED: Record<string, string> = {
    'tracee:unsigned_ints': 'u8,u16,u32,u64',
    'tracee:signed_ints': 's8,s16,s32,s64',
    'tracee:buffers': 'str71,hex24,hash,u32',
  };

  for (const [build, binary] of Object.entries(BUILDS)) {
    for (const [tracepoint, readings] of Object.entries(PROPOSED)) {
      it(`${build}: ${tracepoint} read as proposed (${readings}): every hit, every value`, async () => {
        const proposal = await proposeTraceForBinary(binary, tracepoint, callSites.get(tracepoint) ?? []);
        assert.equal(readingsText(proposal.proposals.map((p) => p.reading)), readings, proposal.proposals.map((p) => p.why).join('; '));
        assert.ok(proposal.callSite?.path.endsWith('tracee.c'), 'proposed from the call site in tracee.c');
        const run = await traceTracee(binary, tracepoint, readings);
        assert.equal(run.code, 0, run.stderr);
        const spec = run.events.find((e) => e.event === 'tracepoint:spec');
        assert.deepEqual(spec?.tracepoint, tracepoint);
        const expected = run.expect.filter((e) => e.event === tracepoint).map((e) => e.args as unknown[]);
        assert.equal(expected.length, COUNT / 3);
        const { args, fired, lost } = hitsOf(run, tracepoint);
        assert.equal(fired, run.fired[tracepoint], 'the kernel counted what the tracee fired');
        assert.equal(args.length + lost, fired, 'delivered + lost = fired');
        assert.equal(lost, 0, 'nothing lost at this rate');
        assert.deepEqual(args, expected);
        assert.equal(run.events.filter((e) => e.event === 'truncated').length, 0, 'no string reached 71 bytes');
      });
    }
  }

  it('v29: tracee:buffers read as str16,hex8,-,u8: strings cut at 16 bytes (and counted), the first 8 payload bytes', async () => {
    const run = await traceTracee(BUILDS.v29, 'tracee:buffers', 'str16,hex8,-,u8');
    assert.equal(run.code, 0, run.stderr);
    const expected = run.expect.filter((e) => e.event === 'tracee:buffers').map((e) => {
      const [label, payload, , size] = e.args as [string, string, string, number];
      return [bytesToString(Buffer.from(label, 'utf8').subarray(0, 16)), payload.slice(0, 16), null, size];
    });
    const { args } = hitsOf(run, 'tracee:buffers');
    assert.deepEqual(args, expected);
    const truncated = run.events.filter((e) => e.event === 'truncated' && e.field === 'arg0').reduce((n, e) => n + Number(e.count), 0);
    const atLimit = expected.filter(([label]) => Buffer.byteLength(String(label), 'utf8') >= 16).length;
    assert.ok(atLimit > 0);
    assert.equal(truncated, atLimit, 'every 16-byte value counted as maybe cut');
  });

  it('is refused by the helper, before bpftrace, when the request does not fit the notes', async () => {
    for (const [tracepoint, args, message] of [
      ['tracee:nonexistent', '', /the binary has no tracepoint tracee:nonexistent/],
      ['tracee:buffers', 'u8,u8', /tracee:buffers has 4 argument\(s\) in the notes but 2 reading\(s\) were given/],
      ['tracee:buffers', 'str16,hex8,hash,hash', /argument 3 of tracee:buffers is 4 bytes in the notes, not an 8-byte pointer/],
      ['tracee:unsigned_ints', 'u8,str8,u32,u64', /argument 1 of tracee:unsigned_ints is 2 bytes in the notes, not an 8-byte pointer/],
      ['tracee:signed_ints', 's8,s16,s32,hex65', /argument 3: hex reads at most 64 bytes, not 65/],
      ['tracee:buffers', 'str71,hex8,hash', /tracee:buffers has 4 argument\(s\) in the notes but 3 reading\(s\) were given/],
    ] as const) {
      const child = spawn(process.execPath, [CLI, 'run', 'trace-tracepoint', '--binary', BUILDS.v29, '--json', '--tracepoint', tracepoint, '--args', args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
      const code = await exited(child, 30_000, 'the command line');
      assert.notEqual(code, 0, out);
      assert.match(out, message);
      assert.match(out, /bitcoin-usdt-helper: refused: /, 'the helper refused');
      assert.doesNotMatch(out, /"event":"session:(start|attached)"|generated program|bitcoin-usdt-helper: running: /, 'nothing ran');
    }
  });
});
