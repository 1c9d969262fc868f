// Bad input never crashes, hangs or loses the good part: recordings (mutated lines, mutated whole files, cut
// at every byte, wrong version, unknown events), the helper's stream through the decoder, the ELF reader and
// the P2P message decoder, a few thousand mutation cases each (the loops are in test/bench/fuzzLong.ts; the
// benchmark runs them much longer).

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { loadRecording, MAX_RECORDING_LINE_BYTES, readRecording, RecordingError } from '../../src/core/events/recording';
import { P2pAggregator } from '../../src/core/p2p/p2pAggregator';
import {
  fuzzElfReader,
  fuzzHelperStream,
  fuzzMessageDecoder,
  fuzzRecordingFiles,
  fuzzRecordingLines,
  goodRecording,
  type FuzzResult,
} from '../bench/fuzzLong';

function assertExercised(result: FuzzResult): void {
  // A loop whose mutations were all accepted (or all refused) would not test both paths.
  assert.ok(result.accepted > 0 && result.refused > 0, `${result.target}: ${result.accepted} accepted, ${result.refused} refused`);
}

describe('mutation fuzzing (a few thousand cases per parser)', function () {
  this.timeout(120_000);

  it('recording lines: 1,500 recordings with mutated events; untouched lines kept, every bad line reported by number', async () => {
    assertExercised(await fuzzRecordingLines({ cases: 1500, seed: 11 }));
  });

  it('whole recording files (header included): 1,500 cases, only RecordingError with a documented message', async () => {
    assertExercised(await fuzzRecordingFiles({ cases: 1500, seed: 12 }));
  });

  it('the helper\'s stream: 5,000 mutated real bpftrace lines through the decoder and the aggregator', () => {
    assertExercised(fuzzHelperStream({ cases: 5000, seed: 13 }));
  });

  it('the ELF reader: 2,000 mutations of the real tracees\' header, section table and notes', async () => {
    assertExercised(await fuzzElfReader({ cases: 2000, seed: 14 }));
  });

  it('the P2P message decoder: 5,000 mutations of real messages', () => {
    assertExercised(fuzzMessageDecoder({ cases: 5000, seed: 15 }));
  });
});

describe('damaged recordings: a clear message, the rest kept', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'recording-fuzz-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('cut at every byte (a crash mid-write): the header or a clear error; all complete lines kept; at most the cut line reported', async () => {
    const { bytes, events } = await goodRecording(6);
    const headerEnd = bytes.indexOf(0x0a);
    const path = join(directory, 'cut.ndjson');
    for (let cut = 0; cut <= bytes.length; cut++) {
      await writeFile(path, bytes.subarray(0, cut));
      if (cut === 0) {
        await assert.rejects(loadRecording(path), /is empty: not a recording/);
        continue;
      }
      if (cut < headerEnd) {
        await assert.rejects(loadRecording(path), (error: unknown) => error instanceof RecordingError && /is not a recording: the first line is not JSON/.test(error.message));
        continue;
      }
      const contents = await loadRecording(path);
      const completeLines = bytes.subarray(0, cut).toString('utf8').split('\n').length - 1;
      const kept = contents.events.length;
      assert.ok(kept >= completeLines - 1, `cut ${cut}: kept ${kept} of ${completeLines - 1} complete event lines`);
      assert.deepEqual(contents.events, events.slice(0, kept));
      assert.ok(contents.malformed.length <= 1);
      if (contents.malformed.length === 1) assert.equal(contents.malformed[0].reason, 'not JSON (the line may have been cut)');
    }
  });

  it('another format version, another format, an empty file: RecordingError naming the problem', async () => {
    const path = join(directory, 'r.ndjson');
    const { bytes } = await goodRecording(2);
    const text = bytes.toString('utf8');
    await writeFile(path, text.replace('"version":1', '"version":2'));
    await assert.rejects(loadRecording(path), /is a recording of format version 2; this version reads version 1/);
    await writeFile(path, text.replace('"version":1', '"version":"1"'));
    await assert.rejects(loadRecording(path), /format version 1; this version reads version 1|format version/);
    await writeFile(path, '{"format":"pcap","version":1}\n');
    await assert.rejects(loadRecording(path), /lacks "format": "bitcoin-usdt-recording"/);
    await writeFile(path, '');
    await assert.rejects(loadRecording(path), /is empty: not a recording/);
    await assert.rejects(loadRecording(join(directory, 'missing.ndjson')), (error: unknown) => error instanceof RecordingError && /cannot read recording .*ENOENT/.test(error.message));
  });

  it('unknown event types, invalid UTF-8 and a 1 MB line: read, skipped by the panel model; wrong field types: reported by the reader; nothing lost around them', async () => {
    const { bytes, events } = await goodRecording(4);
    const [header, ...lines] = bytes.toString('utf8').trimEnd().split('\n');
    const path = join(directory, 'odd.ndjson');
    const odd = [
      '{"event":"from:the_future","elapsed_ns":5,"whatever":[1,2,3]}',
      '{"event":"net:inbound_message","peer_id":{"x":1},"peer_addr":7,"conn_type":null,"msg_type":[],"msg_size":"many"}',
      `{"event":"net:inbound_message","elapsed_ns":1,"peer_id":1,"peer_addr":"${'A'.repeat(1_000_000)}","conn_type":"inbound","msg_type":"inv","msg_size":1}`,
    ];
    const invalidUtf8 = Buffer.from([0x7b, 0x22, 0x65, 0x76, 0x65, 0x6e, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]); // {"event":"\xff\xfe\xc3("}
    await writeFile(path, Buffer.concat([
      Buffer.from([header, lines[0], ...odd, ''].join('\n')),
      invalidUtf8,
      Buffer.from(['', ...lines.slice(1), ''].join('\n')),
    ]));
    const read: NormalizedEvent[] = [];
    const result = await readRecording(path, (event) => read.push(event));
    // The event with wrong field types fails the schema check (eventValidator.ts) on its line (4: after the header, one good event and the unknown one).
    assert.deepEqual(result.malformed.map((m) => m.line), [4]);
    assert.match(result.malformed[0].reason, /net:inbound_message: peer_id/);
    assert.equal(read.length, events.length + odd.length);
    assert.deepEqual(read.filter((e) => events.some((g) => JSON.stringify(g) === JSON.stringify(e))), events, 'every good event kept, in order');
    const aggregator = new P2pAggregator();
    aggregator.ingestAll(read);
    const snapshot = aggregator.snapshot();
    assert.equal(snapshot.counters.ignoredEvents, 0, 'the event with wrong field types no longer reaches the model');
    assert.equal(snapshot.counters.lostEvents, 3);
  });

  it('a device, a FIFO or a directory named as a recording (e.g. by a workspace setting): a clear error at once, nothing read', async () => {
    const fifo = join(directory, 'fifo.ndjson');
    execFileSync('mkfifo', [fifo]);
    for (const path of ['/dev/zero', fifo, directory]) {
      await assert.rejects(readRecording(path, () => undefined), (error: unknown) => error instanceof RecordingError && /not a regular file/.test(error.message));
    }
  });

  it('a line longer than the limit is skipped without being held in memory; the lines after it are kept', async () => {
    const { bytes, events } = await goodRecording(3);
    const [header, ...lines] = bytes.toString('utf8').trimEnd().split('\n');
    const path = join(directory, 'long.ndjson');
    await writeFile(path, `${header}\n${lines[0]}\n{"event":"x","pad":"`);
    const chunk = Buffer.alloc(1024 * 1024, 0x41);
    for (let written = 0; written <= MAX_RECORDING_LINE_BYTES; written += chunk.length) await appendFile(path, chunk);
    await appendFile(path, `"}\n${lines.slice(1).join('\n')}\n`);
    const contents = await loadRecording(path);
    assert.deepEqual(contents.events, events);
    assert.deepEqual(contents.malformed, [{ line: 3, reason: `longer than ${MAX_RECORDING_LINE_BYTES} bytes, skipped` }]);
    const endless = join(directory, 'endless.ndjson');
    await writeFile(endless, chunk);
    for (let written = 0; written <= MAX_RECORDING_LINE_BYTES; written += chunk.length) await appendFile(endless, chunk);
    await assert.rejects(loadRecording(endless), /is not a recording: the first line is longer than/);
  });

  it('the decoder on hostile non-JSON: never throws, one warning per bad line, excerpts bounded', () => {
    const decoder = new BpftraceDecoder();
    const bad = ['{', '[', '"', '{"type":', 'x'.repeat(100_000), '{"type": "value", "data": ' + '['.repeat(10_000), '\u0000\u0001', '{"type": "value", "data": ["in", 1e400]}', '{"type": "helper", "data": {"event": "__proto__"}}'];
    for (const line of bad) {
      const events = decoder.decodeLine(line);
      assert.equal(events.length, 1, line.slice(0, 40));
      const [event] = events;
      assert.ok(event.event === 'session:message' && event.level === 'warning' && event.message.length < 300, JSON.stringify(event).slice(0, 200));
    }
    assert.deepEqual(decoder.finish('end').at(-1), { event: 'session:end', reason: 'end' });
  });
});
