import { strict as assert } from 'node:assert';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { FiringOrder } from '../../src/core/events/firingOrder';
import { ProbeSessionReader } from '../../src/core/probeSession/probeSessionReader';

// bpftrace 0.17 prints each CPU's perf buffer in turn, so a thread that moved between CPUs can have its later
// events printed first. The reader hands them out in the order they fired (elapsed_ns).

const message = (elapsed: number, type: string): string =>
  `{"type": "value", "data": ["in",${elapsed},4242,7,"127.0.0.1:18444","inbound","${type}",8]}\n`;
const noteLine = (text: string): string => `{"type": "printf", "data": "${text}"}\n`;

const summary = (events: readonly NormalizedEvent[]): string[] =>
  events.flatMap((e) => (e.event === 'net:inbound_message' ? [`${e.msg_type}@${e.elapsed_ns}`] : e.event === 'session:message' ? [e.message] : []));

describe('firing order of streamed events', () => {
  it('one read with CPU 1 printed after CPU 0: the events come out in the order they fired', async () => {
    const events: NormalizedEvent[] = [];
    const reader = new ProbeSessionReader({ onBatch: (batch) => events.push(...batch) });
    // CPU 0 held a, c, e; CPU 1 held b, d: bpftrace printed CPU 0's buffer first.
    reader.push(Buffer.from([message(100, 'a'), message(300, 'c'), message(500, 'e'), message(200, 'b'), message(400, 'd')].join('')));
    reader.end();
    await reader.done;
    assert.deepEqual(summary(events).slice(0, 5), ['a@100', 'b@200', 'c@300', 'd@400', 'e@500']);
  });

  it('an event without a time (the session\'s own) keeps its place: what arrived before it goes out before it', async () => {
    const events: NormalizedEvent[] = [];
    const reader = new ProbeSessionReader({ onBatch: (batch) => events.push(...batch) });
    reader.push(Buffer.from([message(300, 'c'), message(100, 'a'), noteLine('note'), message(250, 'b'), message(600, 'd')].join('')));
    reader.end();
    await reader.done;
    assert.deepEqual(summary(events).slice(0, 5), ['a@100', 'c@300', 'note', 'b@250', 'd@600']);
  });

  it('when the probe goes quiet, what is held goes out at the next ticks, without waiting for the end', async () => {
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

  it('a tick lets out what arrived before the previous tick (and fired holdNs before the newest); a quiet tick lets out the rest', () => {
    const order = new FiringOrder(0);
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
    assert.deepEqual(summary(out), ['a@100', 'b@200', 'c@300', 'd@400'], 'nothing new since the previous tick: the rest goes out');
    assert.equal(order.holding, 0);
  });

  it('holds until events that fired holdNs later have arrived; one that still comes late widens the hold and is counted', () => {
    const order = new FiringOrder(1000);
    const decoder = new BpftraceDecoder();
    const out: NormalizedEvent[] = [];
    const feed = (line: string): void => decoder.decodeLine(line.trimEnd()).forEach((e) => order.push(e, out));
    feed(message(100, 'a'));
    feed(message(900, 'b'));
    order.tick(out);
    feed(message(1200, 'c'));
    order.tick(out);
    assert.deepEqual(summary(out), ['a@100'], 'b fired less than holdNs before the newest (c): held');
    feed(message(50, 'late'));
    assert.equal(order.lateEvents, 1);
    feed(message(3000, 'd'));
    order.tick(out);
    assert.deepEqual(summary(out).slice(1), ['late@50', 'b@900'], 'the hold is now 2000 ns: up to 1000, d having fired at 3000');
    order.tick(out);
    assert.deepEqual(summary(out).slice(3), ['c@1200', 'd@3000'], 'nothing new since the previous tick');
  });
});
