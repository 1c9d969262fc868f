import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import { parseBpftraceJson } from '../../src/core/events/bpftraceJson';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { ProbeSessionReader } from '../../src/core/probeSession/probeSessionReader';

// The decoder takes a fast path for p2p-traffic's message tuple and falls back to the exact JSON reader for
// anything it does not recognise. Both must give the same events, field for field, on every input.

const FIXTURES = join(__dirname, '..', 'fixtures', 'bpftrace');

function splitLines(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, start);
    if (nl < 0) {
      lines.push(bytes.subarray(start));
      return lines;
    }
    lines.push(bytes.subarray(start, nl));
    start = nl + 1;
  }
}

function decodeAll(lines: readonly Buffer[], exactOnly: boolean): NormalizedEvent[] {
  const decoder = new BpftraceDecoder({ exactOnly });
  const events: NormalizedEvent[] = [];
  for (const line of lines) events.push(...decoder.decodeLine(line));
  events.push(...decoder.finish());
  return events;
}

/** Events and the decoder's final stats, with both paths: JSON text so that -0, key order and types count. */
function assertSamePaths(lines: readonly Buffer[], what: string): NormalizedEvent[] {
  const exact = decodeAll(lines, true);
  const fast = decodeAll(lines, false);
  assert.equal(JSON.stringify(fast), JSON.stringify(exact), what);
  assert.deepEqual(fast, exact, what);
  for (let i = 0; i < exact.length; i++) {
    for (const [key, value] of Object.entries(exact[i])) {
      if (typeof value === 'number') assert.ok(Object.is((fast[i] as unknown as Record<string, unknown>)[key], value), `${what}: ${key} of event ${i}`);
    }
  }
  return fast;
}

const tuple = (fields: string): Buffer => Buffer.from(`{"type": "value", "data": [${fields}]}`, 'latin1');

const HOSTILE_LINES: Buffer[] = [
  tuple('"in",1000,77,1,"1.2.3.4:8333","outbound-full-relay","inv",61'),
  tuple('"out",2000,77,1,"1.2.3.4:8333","outbound-full-relay","getdata",37'),
  // non-ASCII: valid UTF-8 raw, invalid bytes raw, bpftrace 0.17's sign-extended escapes
  Buffer.concat([Buffer.from('{"type": "value", "data": ["in",3000,77,2,"caf', 'latin1'), Buffer.from('é', 'utf8'), Buffer.from('","inbound","ping",8]}', 'latin1')]),
  Buffer.concat([Buffer.from('{"type": "value", "data": ["in",3001,77,2,"x', 'latin1'), Buffer.from([0xff, 0xc3]), Buffer.from('","inbound","ping",8]}', 'latin1')]),
  tuple('"in",3002,77,2,"\\uffffffc3\\uffffffa9","inbound","\\u00ff",8'),
  // backslashes and quotes (escaped, as bpftrace prints them)
  tuple('"in",4000,77,3,"a\\\\b","in\\"bound","ve,\\"r\\\\s<i>",10'),
  tuple('"in",4001,77,3,"\\n\\t\\r\\b\\f\\/","x","y",10'),
  // raw control characters and DEL inside strings
  tuple('"in",4002,77,3,"a\x01b\x7f","x","y",10'),
  // integers: 15 digits, 16+ digits, u64 max, negative, -0, leading zero, exponent, fraction
  tuple('"in",999999999999999,77,123456789012345,"a","b","c",999999999999999'),
  tuple('"in",1000000000000000,77,9007199254740993,"a","b","c",18446744073709551615'),
  tuple('"in",5000,77,-1,"a","b","c",-9223372036854775808'),
  tuple('"in",5001,77,-0,"a","b","c",0'),
  tuple('"in",5002,77,01,"a","b","c",1'),
  tuple('"in",5003,77,1e3,"a","b","c",1'),
  tuple('"in",5004,77,1.5,"a","b","c",1'),
  tuple('"in",5005,77,1,"a","b","c",1E+2'),
  // strings at the probe's limit (possibly cut) and empty strings
  tuple(`"in",6000,77,4,"${'a'.repeat(71)}","${'b'.repeat(71)}","${'c'.repeat(71)}",1`),
  tuple(`"in",6001,77,4,"${'a'.repeat(70)}","","",1`),
  tuple(`"in",6002,77,4,"${'a'.repeat(300)}","b","c",1`),
  // near misses of the shape: spaces, wrong arity, wrong types, other kinds, trailing garbage, cut lines
  tuple('"in", 7000, 77, 5, "a", "b", "c", 1'),
  tuple('"in",7001,77,5,"a","b","c"'),
  tuple('"in",7002,77,5,"a","b","c",1,2'),
  tuple('"in","7003",77,5,"a","b","c",1'),
  tuple('"in",7004,77,5,6,"b","c",1'),
  tuple('"inx",7005,77,5,"a","b","c",1'),
  // the pid: a u32 (bpftrace's pid builtin), so negative or wider values are not one
  tuple('"in",7013,-77,5,"a","b","c",1'),
  tuple('"in",7014,4294967296,5,"a","b","c",1'),
  tuple('"in",7015,4294967295,5,"a","b","c",1'),
  tuple('"in",7016,"77",5,"a","b","c",1'),
  tuple('"totals",7006'),
  Buffer.from('{"type": "value", "data": ["in",7007,77,5,"a","b","c",1]} ', 'latin1'),
  Buffer.from('{"type": "value", "data": ["in",7008,77,5,"a","b","c",1]}x', 'latin1'),
  Buffer.from('{"type": "value", "data": ["in",7009,77,5,"a","b","c",1]', 'latin1'),
  Buffer.from('{"type": "value", "data": ["in",7010,77,5,"a","b","c', 'latin1'),
  Buffer.from('{"type": "value", "data": ["in",7011,77,5,"a","b","c",', 'latin1'),
  Buffer.from('{"type":"value","data":["in",7012,77,5,"a","b","c",1]}', 'latin1'),
  Buffer.from('', 'latin1'),
  Buffer.from('{"type": "map", "data": {"@fired": {"77,net:inbound_message": 40, "77,net:outbound_message": 1}}}', 'latin1'),
];

/** A string field as bpftrace 0.17 prints a C string: JSON escapes, bytes ≥ 0x80 as `\uffffffXX`. */
function bpftraceString(bytes: Uint8Array): string {
  let s = '"';
  for (const c of bytes) {
    if (c === 0x22) s += '\\"';
    else if (c === 0x5c) s += '\\\\';
    else if (c === 0x0a) s += '\\n';
    else if (c < 0x20) s += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c >= 0x80) s += `\\uffffff${c.toString(16)}`;
    else s += String.fromCharCode(c);
  }
  return `${s}"`;
}

/** A deterministic pseudo-random generator (xorshift32), so a failure can be reproduced. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

describe('decoder fast path', () => {
  it('gives the same events as the exact parser on every bpftrace fixture', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.ndjson') && !f.endsWith('.expect.ndjson'));
    assert.ok(files.length >= 10, `expected the bpftrace fixtures in ${FIXTURES}`);
    let messages = 0;
    for (const file of files) {
      const events = assertSamePaths(splitLines(readFileSync(join(FIXTURES, file))), file);
      messages += events.filter((e) => e.event === 'net:inbound_message' || e.event === 'net:outbound_message').length;
    }
    assert.ok(messages > 1000, `the fixtures should hold many message tuples, found ${messages}`);
  });

  it('gives the same events on hostile strings and integers', () => {
    const events = assertSamePaths(HOSTILE_LINES, 'hostile lines');
    const byElapsed = (ns: number): NormalizedEvent | undefined =>
      events.find((e) => 'elapsed_ns' in e && e.elapsed_ns === ns && (e.event === 'net:inbound_message' || e.event === 'net:outbound_message'));
    assert.deepEqual(byElapsed(1000000000000000), {
      event: 'net:inbound_message', elapsed_ns: 1000000000000000, pid: 77, peer_id: '9007199254740993', peer_addr: 'a', conn_type: 'b', msg_type: 'c',
      msg_size: '18446744073709551615',
    });
    assert.equal(events.filter((e) => e.event === 'truncated').length > 0, true);
  });

  it('gives the same events for integers of every length from 1 to 17 digits, signed and with leading zeros', () => {
    const lines: Buffer[] = [];
    for (let digits = 1; digits <= 17; digits++) {
      for (const value of ['9'.repeat(digits), `1${'0'.repeat(digits - 1)}`, '1234567890123456789'.slice(0, digits), `0${'7'.repeat(digits - 1)}`]) {
        lines.push(tuple(`"out",${value},77,-${value},"a","b","c",${value}`));
      }
    }
    assertSamePaths(lines, 'integer lengths');
  });

  it('gives the same events on 20,000 random message tuples', () => {
    const next = random(0x5eed);
    const lines: Buffer[] = [];
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
    const integer = (): string =>
      pick([
        () => String(Math.floor(next() * 1000)),
        () => String(Math.floor(next() * 1e15)),
        () => `${Math.floor(next() * 1e9)}${Math.floor(next() * 1e9)}`,
        () => `-${Math.floor(next() * 1e6)}`,
        () => '18446744073709551615',
      ])();
    const text = (): string => {
      const length = pick([0, 3, 12, 70, 71, 72]);
      const bytes = new Uint8Array(length);
      const hostile = next() < 0.3;
      for (let i = 0; i < length; i++) bytes[i] = hostile ? Math.floor(next() * 256) : 0x20 + Math.floor(next() * 95);
      return bpftraceString(bytes);
    };
    for (let i = 0; i < 20_000; i++) {
      const pid = pick([() => '4242', () => '4294967295', () => '4294967296', integer])();
      lines.push(tuple([pick(['"in"', '"out"']), integer(), pid, integer(), text(), text(), text(), integer()].join(',')));
    }
    assertSamePaths(lines, 'random tuples');
  });

  it('decodes lines split across chunks and lines inside one chunk alike (ProbeSessionReader)', async () => {
    const stream = Buffer.concat(HOSTILE_LINES.flatMap((line) => [line, Buffer.from('\n')]));
    const collect = async (chunkBytes: number, exactOnly: boolean): Promise<NormalizedEvent[]> => {
      const events: NormalizedEvent[] = [];
      const reader = new ProbeSessionReader({ decoder: new BpftraceDecoder({ exactOnly }), onBatch: (batch) => events.push(...batch) });
      for (let i = 0; i < stream.length; i += chunkBytes) reader.push(stream.subarray(i, i + chunkBytes));
      reader.end();
      await reader.done;
      return events;
    };
    const reference = await collect(stream.length, true);
    for (const size of [1, 7, 64, stream.length]) {
      assert.equal(JSON.stringify(await collect(size, false)), JSON.stringify(reference), `chunks of ${size} bytes`);
    }
    assert.ok(reference.length > HOSTILE_LINES.length / 2);
  });

  it('the exact reader still parses integers beyond 15 digits and exact small ones', () => {
    assert.deepEqual(parseBpftraceJson('[123456789012345,1234567890123456,9007199254740993,-0,007]'), [
      123456789012345, 1234567890123456, '9007199254740993', -0, 7,
    ]);
  });
});
