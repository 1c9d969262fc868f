import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, appendFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECORDING_FORMAT, RECORDING_VERSION, type NormalizedEvent } from '../../src/core/events/eventTypes';
import { RecordingError, RecordingWriter, loadRecording } from '../../src/core/events/recording';

const HEADER = { tool: 'p2p-traffic', started_at: '2026-01-02T03:04:05.000Z', binary: '/opt/bitcoind', pid: 42, producer: 'test' };

const EVENTS: NormalizedEvent[] = [
  { event: 'session:start', tool: 'p2p-traffic', binary: '/opt/bitcoind', pid: 42, bpftrace_version: '0.17.0' },
  {
    event: 'net:inbound_message', elapsed_ns: 1000, peer_id: 7, peer_addr: 'x"y\\z<script>\u202e\udcff',
    conn_type: 'inbound', msg_type: 've,r\u0001', msg_size: '18446744073709551615',
  },
  { event: 'lost', elapsed_ns: 2000, count: 12, source: 'reconciled' },
  { event: 'session:end', reason: 'done', exit_code: 0 },
];

describe('recording', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'recording-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('holds at most maxQueuedBytes while the disk is slow, and counts what it left out in lost lines', async function () {
    this.timeout(20_000);
    // A FIFO is a file whose writes block while nobody reads it: a disk that stops, then catches up.
    const fifo = join(dir, 'slow-disk.ndjson');
    execFileSync('mkfifo', [fifo]);
    const received: Buffer[] = [];
    const reader = createReadStream(fifo);
    reader.on('data', (chunk) => received.push(Buffer.from(chunk)));
    const writer = await RecordingWriter.create(fifo, HEADER, { flushBytes: 16 * 1024, maxQueuedBytes: 256 * 1024 });
    reader.pause();
    const message = (i: number): NormalizedEvent => ({
      event: 'net:inbound_message', elapsed_ns: i, peer_id: i % 8, peer_addr: '203.0.113.7:8333', conn_type: 'inbound', msg_type: 'inv', msg_size: 61,
    });
    const total = 20_000;
    for (let i = 0; i < total / 2; i++) writer.write([message(i)]);
    // Let the blocked writes fill the pipe: the queue stays bounded and the rest is counted.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(writer.dropped > 0, 'some events were left out');
    reader.resume();
    await writer.flush();
    for (let i = total / 2; i < total; i++) writer.write([message(i)]);
    const ended = new Promise<void>((resolve) => reader.on('end', () => resolve()));
    await writer.close();
    await ended;
    const lines = Buffer.concat(received).toString('utf8').trimEnd().split('\n').slice(1).map((l) => JSON.parse(l) as NormalizedEvent);
    const recorded = lines.filter((e) => e.event === 'net:inbound_message');
    const lost = lines.filter((e) => e.event === 'lost');
    assert.ok(lost.length >= 1 && lost.every((e) => e.event === 'lost' && e.source === 'recording'));
    const lostCount = lost.reduce((sum, e) => sum + (e.event === 'lost' ? e.count : 0), 0);
    assert.equal(lostCount, writer.dropped);
    assert.equal(recorded.length + lostCount, total);
    assert.equal(writer.count, recorded.length);
    // What was recorded stays in order, and the gap sits where the lost line is.
    const elapsed = recorded.map((e) => e.elapsed_ns as number);
    assert.deepEqual(elapsed, [...elapsed].sort((a, b) => a - b));
    const gapAt = lines.findIndex((e) => e.event === 'lost');
    assert.ok((lines[gapAt + 1]?.elapsed_ns as number) - (lines[gapAt - 1].elapsed_ns as number) - 1 === (lost[0].event === 'lost' ? lost[0].count : -1));
  });

  it('round-trips header and events exactly', async () => {
    const path = join(dir, 'r.ndjson');
    const writer = await RecordingWriter.create(path, HEADER);
    writer.write(EVENTS.slice(0, 2));
    writer.write(EVENTS.slice(2));
    await writer.close();
    assert.equal(writer.count, 4);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 5);
    const loaded = await loadRecording(path);
    assert.deepEqual(loaded.header, { format: RECORDING_FORMAT, version: RECORDING_VERSION, ...HEADER });
    assert.deepEqual(loaded.events, EVENTS);
    assert.deepEqual(loaded.malformed, []);
  });

  it('flushes periodically while a session runs', async () => {
    const path = join(dir, 'live.ndjson');
    const writer = await RecordingWriter.create(path, HEADER, { flushIntervalMs: 20 });
    writer.write(EVENTS);
    // Nothing but the writer's own timer writes the file here; polled, since a busy machine may delay it.
    const lineCount = (): number => readFileSync(path, 'utf8').trimEnd().split('\n').length;
    const deadline = Date.now() + 10_000;
    while (lineCount() < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(lineCount(), 5);
    await writer.close();
  });

  it('keeps good lines and reports malformed ones with line numbers', async () => {
    const path = join(dir, 'bad.ndjson');
    const writer = await RecordingWriter.create(path, HEADER);
    writer.write(EVENTS.slice(0, 2));
    await writer.flush();
    appendFileSync(path, 'not json\n{"no_event": 1}\n');
    writer.write(EVENTS.slice(2));
    await writer.close();
    const loaded = await loadRecording(path);
    assert.deepEqual(loaded.events, EVENTS);
    assert.deepEqual(loaded.malformed.map((m) => m.line), [4, 5]);
  });

  it('refuses a wrong version or a foreign file with a clear error', async () => {
    const path = join(dir, 'v2.ndjson');
    writeFileSync(path, `${JSON.stringify({ format: RECORDING_FORMAT, version: 99, tool: 'x' })}\n{"event":"lost","count":1}\n`);
    await assert.rejects(loadRecording(path), (err: Error) => err instanceof RecordingError && /version 99/.test(err.message));
    const other = join(dir, 'other.ndjson');
    writeFileSync(other, '{"hello": 1}\n');
    await assert.rejects(loadRecording(other), (err: Error) => err instanceof RecordingError && /not a recording/.test(err.message));
    const empty = join(dir, 'empty.ndjson');
    writeFileSync(empty, '');
    await assert.rejects(loadRecording(empty), RecordingError);
  });

  it('reads a file cut in the middle of a line (crash while recording)', async () => {
    const path = join(dir, 'cut.ndjson');
    const writer = await RecordingWriter.create(path, HEADER);
    writer.write(EVENTS);
    await writer.close();
    truncateSync(path, statSync(path).size - 20);
    const loaded = await loadRecording(path);
    assert.deepEqual(loaded.events, EVENTS.slice(0, 3));
    assert.equal(loaded.malformed.length, 1);
    assert.equal(loaded.malformed[0].line, 5);
  });

  it('reports a write failure instead of throwing from write()', async () => {
    const writer = await RecordingWriter.create('/dev/full', HEADER).catch((err: Error) => err);
    if (writer instanceof Error) {
      assert.match(writer.message, /recording/);
      return;
    }
    writer.write(EVENTS);
    await assert.rejects(writer.close(), (err: Error) => err instanceof RecordingError && /stopped/.test(err.message));
  });
});
