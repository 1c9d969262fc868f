import { strict as assert } from 'node:assert';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { FiringOrder } from '../../src/core/events/firingOrder';
import { ProbeSessionReader } from '../../src/core/probeSession/probeSessionReader';

// bpftrace 0.17 prints each CPU's perf buffer in turn, so a thread that moved between CPUs can have its later
// events printed first. The reader hands them out in the order they fired (elapsed_ns).

const message = (elapsed: number, type: string): string =>
  `{"type": "value", "data": ["in",${elapsed},4242,7,"127.0.0.1:18444","inbound","${type}",8]}\n`;
const lostLine = (count: number): string => `{"type": "lost_events", "data": {"events": ${count}}}\n`;

const summary = (events: readonly NormalizedEvent[]): string[] =>
  events.flatMap((e) => (e.event === 'net:inbound_message' ? [`${e.msg_type}@${e.elapsed_ns}`] : e.event === 'lost' ? [`lost ${e.count}`] : []));

describe('firing order of streamed events', () => {
  it('one read with CPU 1 printed after CPU 0: the events come out in the order they fired', async () => {
    const events: NormalizedEvent[] = [];
    const reader = new ProbeSessionReader({ onBatch: (batch) => events.push(...batch) });
    // CPU 0 held a, c, e; CPU 1 held b, d: bpftrace printed CPU 0's buffer first.
    reader.push(Buffer.from([message(100, 'a'), message(300, 'c'), message(500, 'e'), message(200, 'b'), message(400, 'd')].join('')));
    reader.end();
    await reader.done;
    assert.deepEqual(summary(events), ['a@100', 'b@200', 'c@300', 'd@400', 'e@500']);
  });

  it('a record that is not a streamed event keeps its place: what arrived before it goes out before it', async () => {
    const events: NormalizedEvent[] = [];
    const reader = new ProbeSessionReader({ onBatch: (batch) => events.push(...batch) });
    reader.push(Buffer.from([message(300, 'c'), message(100, 'a'), lostLine(2), message(250, 'b'), message(600, 'd')].join('')));
    reader.end();
    await reader.done;
    assert.deepEqual(summary(events).slice(0, 4), ['a@100', 'c@300', 'lost 2', 'b@250']);
  });

  it('an event is held one tick of the reader at most, then goes out without waiting for the end', async () => {
    const batches: NormalizedEvent[][] = [];
    const reader = new ProbeSessionReader({ batchIntervalMs: 10, onBatch: (batch) => batches.push(batch) });
    reader.push(Buffer.from(message(200, 'b') + message(100, 'a')));
    const deadline = Date.now() + 5_000;
    while (summary(batches.flat()).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(summary(batches.flat()), ['a@100', 'b@200'], 'handed out before the stream ended');
    reader.push(Buffer.from(message(300, 'c')));
    while (summary(batches.flat()).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(summary(batches.flat()), ['a@100', 'b@200', 'c@300']);
    reader.end();
    await reader.done;
  });

  it('a tick lets out only what arrived before the previous tick', () => {
    const order = new FiringOrder((event) => event === 'net:inbound_message');
    const decoder = new BpftraceDecoder();
    const out: NormalizedEvent[] = [];
    const feed = (line: string): void => decoder.decodeLine(line.trimEnd()).forEach((e) => order.push(e, out));
    feed(message(100, 'a'));
    feed(message(300, 'c'));
    order.tick(out);
    assert.deepEqual(summary(out), [], 'nothing is a tick old yet');
    feed(message(200, 'b'));
    feed(message(400, 'd'));
    order.tick(out);
    assert.deepEqual(summary(out), ['a@100', 'b@200', 'c@300'], 'up to the newest event of the previous tick, the late b among them');
    assert.equal(order.holding, 1);
    order.tick(out);
    assert.deepEqual(summary(out), ['a@100', 'b@200', 'c@300', 'd@400']);
    assert.equal(order.holding, 0);
  });
});
