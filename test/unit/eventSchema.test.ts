// The event schema (src/core/events/eventSchema.ts) against what it describes: the probes' printed tuples
// (.bt print statements, the BCC programs' output — mempool-monitor.py's struct layouts run by the real
// python3), docs/events.md's generated tables, and the events the decoders and recordings produce.

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeBccLine } from '../../src/core/events/bccDecoder';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import { withGeneratedTables } from '../../src/core/events/eventDocs';
import { RECORD_SPECS, tupleLength, type RecordSpec } from '../../src/core/events/eventSchema';
import { validateEvent } from '../../src/core/events/eventValidator';
import { loadRecording } from '../../src/core/events/recording';
import { TOOLS } from '../../src/core/tools/toolCatalog';

const ROOT = join(__dirname, '..', '..');
const PROBES = join(ROOT, 'probes');
const SPECS = RECORD_SPECS as readonly RecordSpec[];

/** Records a .bt script prints that are not streamed events (periodic ticks, summaries): decoded by hand. */
const UNSTREAMED_TUPLES: Readonly<Record<string, readonly string[]>> = {
  'p2p-monitor': ['totals'],
  'p2p-traffic': ['totals'],
  'connectblock-benchmark': ['tick', 'summary'],
  utxos: ['ops_tick'],
};

/** Each `print((…))` of a bpftrace script: its tag and how many elements its tuple has. */
function printedTuples(source: string): Array<{ tag: string; length: number }> {
  const out: Array<{ tag: string; length: number }> = [];
  for (let at = source.indexOf('print(('); at >= 0; at = source.indexOf('print((', at + 1)) {
    let depth = 0;
    let elements = 1;
    let inString = false;
    let i = at + 'print('.length;
    for (; i < source.length; i++) {
      const c = source[i];
      if (inString) {
        if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) break;
      else if (c === ',' && depth === 1) elements++;
    }
    const tag = /^\(\("([a-z_]+)"/.exec(source.slice(at + 'print'.length))?.[1];
    assert.ok(tag, `print at ${at} starts with a tag`);
    out.push({ tag, length: elements });
  }
  return out;
}

describe('event schema', () => {
  it('matches every tuple each bpftrace script prints, field count included, and each record is printed', () => {
    for (const tool of TOOLS.filter((t) => t.frontEnd === 'bpftrace' && !t.generated)) {
      const printed = printedTuples(readFileSync(join(PROBES, tool.script), 'utf8'));
      assert.ok(printed.length > 0, tool.script);
      const specs = SPECS.filter((s) => s.tool === tool.id);
      for (const { tag, length } of printed) {
        const spec = specs.find((s) => s.tag === tag);
        if (spec === undefined) {
          assert.ok(UNSTREAMED_TUPLES[tool.id]?.includes(tag), `${tool.script} prints ${tag}, which the schema lacks`);
          continue;
        }
        assert.equal(length, tupleLength(spec), `${tool.script}: ${tag} prints ${length} elements, the schema has ${tupleLength(spec)}`);
      }
      for (const spec of specs) assert.ok(printed.some((p) => p.tag === spec.tag), `${tool.script} never prints ${spec.tag}`);
    }
  });

  it('matches the tuple raw-p2p-msgs.py prints', () => {
    const source = readFileSync(join(PROBES, 'raw-p2p-msgs.py'), 'utf8');
    const format = /out\.line\('(\{"type": "value", "data": \[[^']*\]\})'/.exec(source)?.[1];
    assert.ok(format, 'the print format of raw-p2p-msgs.py');
    const conversions = format.match(/%[sd]/g)?.length;
    for (const spec of SPECS.filter((s) => s.tool === 'raw-p2p-msgs')) assert.equal(conversions, tupleLength(spec), spec.event);
  });

  it('matches mempool-monitor.py: its struct layouts, packed and printed by the real program, decode field for field', () => {
    const hash = (byte: number): string => Buffer.alloc(32, byte).toString('hex');
    const program = [
      'import ctypes, importlib.util, sys',
      `sys.path.insert(0, ${JSON.stringify(PROBES)})`,
      `spec = importlib.util.spec_from_file_location('mm', ${JSON.stringify(join(PROBES, 'mempool-monitor.py'))})`,
      'mm = importlib.util.module_from_spec(spec); spec.loader.exec_module(mm)',
      'class Out:',
      '    def line(self, text): print(text)',
      'def emit(layout, *fields):',
      '    raw = layout.pack(*fields); buf = ctypes.create_string_buffer(raw, len(raw))',
      '    mm.print_record(Out(), 1000, ctypes.addressof(buf), len(raw))',
      "emit(mm.ADDED_RECORD, mm.ADDED, 250, 1500, 1234, bytes([1]) * 32)",
      "emit(mm.REMOVED_RECORD, mm.REMOVED, 251, 1600, -5, 1700000000, bytes([2]) * 32, b'expiry')",
      "emit(mm.REPLACED_RECORD, mm.REPLACED, 252, 1700, 77, 1700000001, 253, 1, 88, bytes([3]) * 32, bytes([4]) * 32)",
      "emit(mm.REJECTED_RECORD, mm.REJECTED, 1800, bytes([5]) * 32, b'min relay fee not met')",
    ].join('\n');
    const lines = execFileSync('python3', ['-I', '-S', '-c', program], { encoding: 'utf8' }).trimEnd().split('\n');
    const events = lines.map((line) => {
      const result = decodeBccLine(line);
      assert.ok(result?.ok, `${line}: ${result && !result.ok ? result.error : 'not a record'}`);
      return result.events[0];
    });
    assert.deepEqual(events, [
      { event: 'mempool:added', elapsed_ns: 500, txid: hash(1), vsize: 250, fee: 1234 },
      { event: 'mempool:removed', elapsed_ns: 600, txid: hash(2), reason: 'expiry', vsize: 251, fee: -5, entry_time: 1700000000 },
      {
        event: 'mempool:replaced', elapsed_ns: 700, replaced_txid: hash(3), replaced_vsize: 252, replaced_fee: 77,
        replaced_entry_time: 1700000001, replacement_id: hash(4), replacement_vsize: 253, replacement_fee: 88, replaced_by_transaction: true,
      },
      { event: 'mempool:rejected', elapsed_ns: 800, txid: hash(5), reason: 'min relay fee not met' },
    ]);
  });

  it('is what docs/events.md shows (its generated field tables are up to date)', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'events.md'), 'utf8');
    assert.equal(doc, withGeneratedTables(doc), 'run `npx tsx scripts/update-event-docs.ts`');
  });

  it('passes every event the decoders make from the real bpftrace captures, and every event of the recordings', async () => {
    const fixtures = join(ROOT, 'test', 'fixtures', 'bpftrace');
    let checked = 0;
    for (const name of readdirSync(fixtures).filter((n) => n.endsWith('.ndjson') && !n.includes('.expect.'))) {
      const tool = TOOLS.find((t) => name.startsWith(`${t.id}-`));
      assert.ok(tool, name);
      const decoder = new BpftraceDecoder({ toolId: tool.id, exactOnly: true });
      for (const line of readFileSync(join(fixtures, name), 'utf8').split('\n')) {
        for (const event of decoder.decodeLine(line)) {
          const checkedEvent = validateEvent(event as unknown as Record<string, unknown>);
          assert.equal(typeof checkedEvent, 'object', `${name}: ${String(checkedEvent)}`);
          checked++;
        }
      }
    }
    const recordings = join(ROOT, 'test', 'fixtures', 'recordings');
    for (const name of readdirSync(recordings).filter((n) => n.endsWith('.ndjson'))) {
      const { malformed } = await loadRecording(join(recordings, name));
      assert.deepEqual(malformed, [], name);
    }
    assert.ok(checked > 1000, `${checked} events checked`);
  });
});
