import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import { bytesToString, parseBpftraceJson, stringToBytes } from '../../src/core/events/bpftraceJson';
import type {
  LostEvent,
  MessageTypeTotalsEvent,
  NetMessageEvent,
  NormalizedEvent,
  PeerTotalsEvent,
} from '../../src/core/events/eventTypes';

// Fixtures are real output of bpftrace 0.17 running probes/*.bt through probes/bitcoin-usdt-helper.py
// against a small USDT program (semaphore-gated, like Bitcoin Core v29).
const FIXTURES = join(__dirname, '..', 'fixtures', 'bpftrace');

function decodeFile(name: string, decoder = new BpftraceDecoder()): NormalizedEvent[] {
  const lines = readFileSync(join(FIXTURES, name)).toString('latin1').split('\n');
  const events: NormalizedEvent[] = [];
  for (const line of lines) events.push(...decoder.decodeLine(Buffer.from(line, 'latin1')));
  events.push(...decoder.finish());
  return events;
}

const messages = (events: NormalizedEvent[]): NetMessageEvent[] =>
  events.filter((e): e is NetMessageEvent => e.event === 'net:inbound_message' || e.event === 'net:outbound_message');
const lostTotal = (events: NormalizedEvent[]): number =>
  events.filter((e): e is LostEvent => e.event === 'lost').reduce((sum, e) => sum + e.count, 0);

const ONION = 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz2345.onion:18333';
const HOSTILE_ADDR_BYTES = Buffer.from('x"y\\z<script>,\x01\x7f', 'latin1');

describe('bpftraceDecoder', () => {
  it('decodes every streamed message of a real p2p-traffic session with exact fields', () => {
    const events = decodeFile('p2p-traffic-helper.ndjson');
    const msgs = messages(events);
    assert.equal(msgs.length, 16);
    assert.deepEqual(msgs[0], {
      event: 'net:inbound_message',
      elapsed_ns: msgs[0].elapsed_ns,
      pid: 9315,
      peer_id: 0,
      peer_addr: '1.2.3.4:8333',
      conn_type: 'outbound-full-relay',
      msg_type: 'inv',
      msg_size: '18446744073709551615',
    });
    assert.equal(msgs[1].event, 'net:outbound_message');
    assert.equal(msgs[1].conn_type, 'inbound');
    assert.equal(msgs[2].peer_addr, ONION);
    assert.equal(msgs[2].peer_addr.length, 68);
    assert.equal(msgs[2].msg_type, 've,"r\\s<i>');
    assert.equal(msgs[2].msg_size, 10);
    assert.ok(typeof msgs[0].elapsed_ns === 'number' && msgs[0].elapsed_ns > 0);
  });

  it('keeps hostile bytes exact: valid UTF-8 decoded, invalid bytes recoverable', () => {
    const msgs = messages(decodeFile('p2p-traffic-helper.ndjson'));
    const hostile = msgs[4];
    assert.equal(hostile.peer_id, 2);
    const expected = Buffer.concat([HOSTILE_ADDR_BYTES, Buffer.from([0xe2, 0x80, 0xae, 0xff, 0xfe])]);
    assert.deepEqual(stringToBytes(hostile.peer_addr), expected);
    assert.ok(hostile.peer_addr.includes('\u202e'), 'the bidi override is decoded as a character');
    assert.equal(hostile.msg_type, 'ét\u0002');
  });

  it('reports strings cut at the probe limit as truncated', () => {
    const events = decodeFile('p2p-traffic-helper.ndjson');
    const cut = messages(events).filter((m) => m.peer_addr.startsWith('[2001:db8'));
    assert.equal(cut.length, 4);
    assert.equal(cut[0].peer_addr.length, 71);
    const truncated = events.filter((e) => e.event === 'truncated');
    const total = truncated.reduce((sum, e) => sum + (e.event === 'truncated' ? e.count : 0), 0);
    assert.equal(total, 4);
    assert.ok(truncated.every((e) => e.event === 'truncated' && e.field === 'peer_addr'));
  });

  it('turns helper records into session events and harmless stderr into info', () => {
    const events = decodeFile('p2p-traffic-helper.ndjson');
    const start = events.find((e) => e.event === 'session:start');
    assert.ok(start && start.event === 'session:start');
    assert.equal(start.tool, 'p2p-traffic');
    assert.equal(start.bpftrace_version, '0.17.0');
    const attached = events.find((e) => e.event === 'session:attached');
    assert.deepEqual(attached, { event: 'session:attached', probes: 3, pid: start.pid });
    const end = events[events.length - 1];
    assert.equal(end.event, 'session:end');
    assert.ok(end.event === 'session:end' && end.exit_code === 0 && /exited/.test(end.reason));
    const warnings = events.filter((e) => e.event === 'session:message' && e.level !== 'info');
    assert.deepEqual(warnings, []);
  });

  it('names the program whose stderr a message quotes: BCC for the BCC tools', () => {
    const stderrOf = (tool: string): string | undefined => {
      const decoder = new BpftraceDecoder();
      const lines = [
        `{"type": "helper", "data": {"event": "target", "tool": "${tool}", "binary": "/b", "pid": 7}}`,
        '{"type": "helper", "data": {"event": "stderr", "line": "Exception: Failed to attach BPF to uprobe"}}',
      ];
      const events = lines.flatMap((line) => decoder.decodeLine(Buffer.from(line)));
      const message = events.find((e) => e.event === 'session:message');
      return message && message.event === 'session:message' ? message.message : undefined;
    };
    assert.equal(stderrOf('mempool-monitor'), 'BCC: Exception: Failed to attach BPF to uprobe');
    assert.equal(stderrOf('raw-p2p-msgs'), 'BCC: Exception: Failed to attach BPF to uprobe');
    assert.equal(stderrOf('p2p-traffic'), 'bpftrace: Exception: Failed to attach BPF to uprobe');
  });

  it('every-process session: a process that fired but was never named by the helper gets a warning at the end; named ones and PID sessions none', () => {
    const session = (pid: number | null): NormalizedEvent[] => {
      const decoder = new BpftraceDecoder({ streamedTracepoints: [] });
      const lines = [
        `{"type": "helper", "data": {"event": "target", "tool": "p2p-traffic", "binary": "/t/bitcoind", "pid": ${pid === null ? 'null' : pid}, "semaphores": true, "bpftrace": "/usr/bin/bpftrace", "bpftrace_version": "v0.17.0", "filters": {}}}`,
        '{"type": "helper", "data": {"event": "started", "run": 1, "argv": [], "pid": null, "bpftrace_pid": 900, "monotonic_ns": 1000000000}}',
        '{"type": "helper", "data": {"event": "attached", "pid": null, "realtime_ns": 1796411381789246998, "monotonic_ns": 2000000000}}',
        '{"type": "helper", "data": {"event": "node", "pid": 4242, "monotonic_ns": 2100000000, "node": "node0", "run": "/tmp/t", "datadir": "/tmp/t/node0", "chain": "regtest", "p2p_port": 11000, "rpc_port": 16000}}',
        '{"type": "map", "data": {"@fired": {"4242,net:inbound_message": 5, "4343,net:outbound_message": 3, "4343,net:inbound_message": 1}}}',
        '{"type": "helper", "data": {"event": "node:exit", "pid": 4242, "monotonic_ns": 2900000000}}',
        '{"type": "helper", "data": {"event": "bpftrace_exit", "run": 1, "code": 0, "reason": "stopped by signal SIGINT"}}',
        '{"type": "helper", "data": {"event": "exit", "code": 0, "reason": "stopped by signal SIGINT"}}',
      ];
      return lines.flatMap((line) => decoder.decodeLine(Buffer.from(line)));
    };
    const everyProcess = session(null);
    const warnings = everyProcess.filter((e) => e.event === 'session:message' && e.level === 'warning');
    assert.deepEqual(warnings, [{
      event: 'session:message', level: 'warning',
      message: 'process 4343 fired 4 tracepoints but was never named: it ended before the helper could read its command line (its node is unknown; its events are shown as pid 4343)',
    }]);
    assert.equal(everyProcess[everyProcess.length - 1].event, 'session:end', 'the warning comes before the end');
    assert.ok(everyProcess.indexOf(warnings[0]) === everyProcess.length - 2);
    assert.deepEqual(session(4242).filter((e) => e.event === 'session:message' && e.level === 'warning'), []);
  });

  it('accounts for every fired event when bpftrace does not report its losses', () => {
    const decoder = new BpftraceDecoder();
    const events = decodeFile('p2p-traffic-unreported-loss.ndjson', decoder);
    const delivered = messages(events).length;
    assert.equal(delivered, 1398);
    const fired = decoder.stats.fired;
    assert.equal(fired['net:inbound_message'] + fired['net:outbound_message'], 80000);
    assert.equal(delivered + lostTotal(events), 80000);
    const reconciled = events.filter((e) => e.event === 'lost' && e.source === 'reconciled');
    assert.equal(reconciled.length, 1);
  });

  it('emits bpftrace lost_events as lost and reconciles the rest', () => {
    const decoder = new BpftraceDecoder();
    const events = decodeFile('p2p-traffic-flood-excerpt.ndjson', decoder);
    const reported = events.filter((e): e is LostEvent => e.event === 'lost' && e.source === 'bpftrace');
    assert.deepEqual(reported.map((e) => e.count), [87, 70, 8, 1218, 3, 8, 6, 442]);
    const fired = Object.values(decoder.stats.fired).reduce((a, b) => a + b, 0);
    assert.equal(fired, 600000);
    assert.equal(messages(events).length + lostTotal(events), fired);
    const firedEvents = events.filter((e) => e.event === 'fired');
    assert.ok(firedEvents.length > 5);
  });

  it('builds per-peer and per-type totals from a real p2p-monitor session', () => {
    const events = decodeFile('p2p-monitor-helper.ndjson', new BpftraceDecoder({ streamedTracepoints: [] }));
    const totals = events.filter((e): e is PeerTotalsEvent => e.event === 'p2p:peer_totals');
    assert.equal(totals.length, 1);
    assert.deepEqual(totals[0].peers.map((p) => [p.peer_id, p.msgs_in, p.bytes_in, p.msgs_out, p.bytes_out, p.conn_type]), [
      [0, 3, 89, 3, 89, 'inbound'],
      [1, 3, 120, 3, 120, 'inbound'],
      [2, 2, 70, 2, 70, 'inbound'],
    ]);
    assert.equal(totals[0].peers[2].peer_addr, ONION);
    const types = events.find((e): e is MessageTypeTotalsEvent => e.event === 'p2p:msg_type_totals');
    assert.ok(types);
    const byType = new Map(types.types.map((t) => [t.msg_type, t]));
    assert.equal(byType.get('ve,"r\\s<i>')?.msgs_in, 3);
    assert.equal(byType.get('ét\u0002')?.bytes_out, 70);
    assert.equal(lostTotal(events), 0);
    assert.ok(events.some((e) => e.event === 'truncated' && e.field === 'peer_addr'));
  });

  it('keeps counting across a --follow re-attach to a restarted process', () => {
    const decoder = new BpftraceDecoder();
    const events = decodeFile('p2p-traffic-follow.ndjson', decoder);
    const msgs = messages(events);
    assert.equal(msgs.length, 14);
    assert.deepEqual(decoder.stats.fired, { 'net:outbound_message': 7, 'net:inbound_message': 7 });
    assert.equal(lostTotal(events), 0);
    const times = msgs.map((m) => m.elapsed_ns ?? 0);
    assert.ok(times.every((t, i) => i === 0 || t > times[i - 1]), 'elapsed_ns keeps growing after the re-attach');
    assert.equal(events.filter((e) => e.event === 'session:attached').length, 2);
    assert.ok(events.some((e) => e.event === 'session:message' && /re-attached to PID/.test(e.message)));
    assert.equal(events.filter((e) => e.event === 'session:end').length, 1);
  });

  it('turns malformed lines into warnings and keeps going', () => {
    const decoder = new BpftraceDecoder();
    const bad = ['{"type": "value", "data": [', 'garbage', '{"type": "mystery", "data": 1}', '{"type": "value", "data": ["in", 1]}'];
    for (const line of bad) {
      const out = decoder.decodeLine(line);
      assert.equal(out.length, 1);
      assert.ok(out[0].event === 'session:message' && out[0].level === 'warning' && out[0].message.includes('malformed'));
    }
    const ok = decoder.decodeLine('{"type": "value", "data": ["in",5,77,9223372036854775807,"a","b","c",1]}');
    assert.equal(ok.length, 1);
    assert.ok(ok[0].event === 'net:inbound_message' && ok[0].peer_id === '9223372036854775807');
    assert.equal(decoder.stats.malformedLines, 4);
  });

  it('parses large integers and escapes exactly', () => {
    assert.deepEqual(parseBpftraceJson('[9007199254740991, 9007199254740993, -9223372036854775808, 1.5]'), [
      9007199254740991,
      '9007199254740993',
      '-9223372036854775808',
      1.5,
    ]);
    assert.equal(parseBpftraceJson('"a\\uffffffc3\\uffffffa9\\u0001\\"\\\\"'), 'aé\u0001"\\');
    assert.equal(parseBpftraceJson('"\\ud83d\\ude00"'), '😀');
    const invalid = bytesToString([0x61, 0xff, 0xc3]);
    assert.deepEqual([...stringToBytes(invalid)], [0x61, 0xff, 0xc3]);
  });
});

describe('the session clock counts from the attach', () => {
  // Real lines of the helper and probes/mempool-monitor.py (BCC) on the v29 tracee: BCC's records count from the
  // program's start, 3.0 s (the compile) before its probes were attached.
  const lines = [
    '{"type": "helper", "data": {"event": "target", "tool": "mempool-monitor", "binary": "/t/tracee-v29", "pid": 28834, "semaphores": true, "bpftrace": "/usr/bin/python3", "bpftrace_version": "BCC"}}',
    '{"type": "helper", "data": {"event": "started", "argv": [], "pid": 28834, "bpftrace_pid": 28866, "monotonic_ns": 13871423007097}}',
    '{"type": "attached_probes", "data": {"probes": 4, "elapsed_ns": 3012680396}}',
    '{"type": "helper", "data": {"event": "attached", "pid": 28834, "realtime_ns": 1796411391374839997, "monotonic_ns": 13875816158465}}',
    '{"type": "value", "data": ["mempool:added", 3512680396, "c78d1b9bcb424fa20bb39c6724dda0dc011729bfd5178d65d959b8bca250dc14", 527, 31457]}',
  ];

  it('a BCC tool: elapsed_ns from the attach (its compile does not count), session:attached with the helper\'s wall clock', () => {
    const decoder = new BpftraceDecoder({ streamedTracepoints: ['mempool:added'] });
    const events = lines.flatMap((line) => decoder.decodeLine(Buffer.from(line)));
    const attached = events.find((e) => e.event === 'session:attached');
    assert.deepEqual(attached, { event: 'session:attached', probes: 4, pid: 28834, wall_clock_ms: 1796411391374.839 });
    const added = events.find((e) => e.event === 'mempool:added');
    assert.equal(added && 'elapsed_ns' in added ? added.elapsed_ns : null, 500_000_000);
  });

  it('a bpftrace tool: its elapsed already counts from the attach (it is set just before attaching); unchanged', () => {
    const decoder = new BpftraceDecoder();
    const events = [
      '{"type": "helper", "data": {"event": "target", "tool": "p2p-traffic", "binary": "/t/tracee-v29", "pid": 28834, "semaphores": true, "bpftrace": "/usr/bin/bpftrace", "bpftrace_version": "v0.17.0"}}',
      '{"type": "helper", "data": {"event": "started", "argv": [], "pid": 28834, "bpftrace_pid": 28840, "monotonic_ns": 13863733504234}}',
      '{"type": "helper", "data": {"event": "attached", "pid": 28834, "realtime_ns": 1796411381789246998, "monotonic_ns": 13866230565365}}',
      '{"type": "attached_probes", "data": {"probes": 3}}',
      '{"type": "value", "data": ["out",4926633,28834,6,"[2001:db8::2]:8333","feeler","inv",289]}',
    ].flatMap((line) => decoder.decodeLine(Buffer.from(line)));
    assert.equal(messages(events)[0].elapsed_ns, 4_926_633);
    assert.equal(events.find((e) => e.event === 'session:attached' && 'wall_clock_ms' in e) !== undefined, true);
  });
});

describe('raw-p2p-msgs filtered in the kernel (BCC)', () => {
  // The shape of probes/raw-p2p-msgs.py's output with --peer=2 --msg_type=tx on the v29 tracee (PID 11914): the
  // selected messages, @fired over every message with @selected in the same record, then the per-peer counts and the
  // `totals` tuple after them. Here 3 messages passed the filter and 2 arrived: one is lost without a report.
  const hex = (length: number): string => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff)).toString('hex');
  const onion = 'l4dpy3geokpk7v6bpoab5sggxfys64ymdlogx4bugqekxupbhyndgyiv.onion:18333';
  const lines = [
    '{"type": "helper", "data": {"event": "target", "tool": "raw-p2p-msgs", "binary": "/t/tracee-v29", "pid": 11914, "semaphores": true, "bpftrace": "/usr/bin/python3", "bpftrace_version": "BCC", "filters": {"peer": "2", "msg_type": "tx"}}}',
    '{"type": "helper", "data": {"event": "started", "run": 1, "argv": [], "pid": 11914, "bpftrace_pid": 11920, "monotonic_ns": 13871423007097}}',
    '{"type": "attached_probes", "data": {"probes": 2, "elapsed_ns": 1213180861}}',
    '{"type": "helper", "data": {"event": "attached", "pid": 11914, "realtime_ns": 1796411391374839997, "monotonic_ns": 13872636187958}}',
    `{"type": "value", "data": ["net:outbound_message", 2244907598, 2, "${onion}", "inbound", "tx", 151, 151, "${hex(151)}"]}`,
    `{"type": "value", "data": ["net:inbound_message", 2429076027, 2, "${onion}", "inbound", "tx", 154, 154, "${hex(154)}"]}`,
    '{"type": "map", "data": {"@fired": {"net:inbound_message": 1637, "net:outbound_message": 1363}, "@selected": {"net:inbound_message": 2, "net:outbound_message": 1}}}',
    '{"type": "map", "data": {"@msgs_in": {"11914,2": 188, "11914,3": 213}, "@bytes_in": {"11914,2": 451614, "11914,3": 1142134}, "@msgs_out": {"11914,2": 164}, "@bytes_out": {"11914,2": 194416}}}',
    '{"type": "value", "data": ["totals", 4440123014]}',
    '{"type": "helper", "data": {"event": "bpftrace_exit", "run": 1, "code": 0, "reason": "target process 11914 exited"}}',
    '{"type": "helper", "data": {"event": "exit", "code": 0, "reason": "target process 11914 exited"}}',
  ];

  it('delivers the selected messages with their bytes, reconciles losses against @selected, and turns the per-peer counts into p2p:peer_totals', () => {
    const decoder = new BpftraceDecoder({ streamedTracepoints: ['net:inbound_message', 'net:outbound_message'] });
    const events = lines.flatMap((line) => decoder.decodeLine(Buffer.from(line)));
    const delivered = events.filter((e) => e.event === 'net:inbound_message' || e.event === 'net:outbound_message');
    assert.deepEqual(delivered.map((e) => [e.event, 'msg' in e ? e.msg : null]), [['net:outbound_message', hex(151)], ['net:inbound_message', hex(154)]]);
    assert.ok(events.some((e) => e.event === 'session:message' && e.message.startsWith('filtered in the kernel: peer 2, type tx')));
    // 3 selected − 2 delivered: 1 lost (not 3000 fired − 2).
    assert.deepEqual(events.filter((e) => e.event === 'lost').map((e) => e.event === 'lost' && [e.count, e.source]), [[1, 'reconciled']]);
    const fired = events.filter((e) => e.event === 'fired').pop();
    assert.deepEqual(fired && fired.event === 'fired' ? fired.counts : null, { 'net:inbound_message': 1637, 'net:outbound_message': 1363 });
    const totals = events.filter((e) => e.event === 'p2p:peer_totals').pop();
    assert.deepEqual(totals && totals.event === 'p2p:peer_totals' ? totals.peers : null, [
      { pid: 11914, peer_id: 2, peer_addr: '', conn_type: '', msgs_in: 188, bytes_in: 451614, msgs_out: 164, bytes_out: 194416 },
      { pid: 11914, peer_id: 3, peer_addr: '', conn_type: '', msgs_in: 213, bytes_in: 1142134, msgs_out: 0, bytes_out: 0 },
    ]);
    assert.equal(totals?.elapsed_ns, 4440123014 - 1213180861, 'the totals time counts from the attach, as the messages do');
    assert.equal(events.filter((e) => e.event === 'session:message' && e.level !== 'info').length, 0, 'no warnings');
  });
});

describe('a BCC program\'s Python traceback', () => {
  it('becomes one message naming BCC and the cause, with the whole text as its details', () => {
    // Real stderr of the system Python with python3-bpfcc (USDT on a PID that does not exist).
    const traceback = [
      'Traceback (most recent call last):',
      '  File "<string>", line 1, in <module>',
      '  File "/usr/lib/python3/dist-packages/bcc/usdt.py", line 136, in __init__',
      '    raise USDTException("USDT failed to instrument PID %d" % pid)',
      'bcc.usdt.USDTException: USDT failed to instrument PID 999999',
    ];
    const decoder = new BpftraceDecoder();
    const events = [
      '{"type": "helper", "data": {"event": "target", "tool": "mempool-monitor", "binary": "/t/bitcoind", "pid": 999999, "semaphores": false, "bpftrace": "/usr/bin/python3", "bpftrace_version": "BCC"}}',
      ...[...traceback, 'mempool-monitor.py: giving up'].map((line) => JSON.stringify({ type: 'helper', data: { event: 'stderr', line } })),
    ].flatMap((line) => decoder.decodeLine(Buffer.from(line)));
    const notes = events.filter((e) => e.event === 'session:message');
    assert.deepEqual(notes, [
      {
        event: 'session:message',
        level: 'warning',
        message: 'BCC: bcc.usdt.USDTException: USDT failed to instrument PID 999999 (a Python traceback of 5 lines; the whole text is in the output channel)',
        details: traceback.join('\n'),
      },
      { event: 'session:message', level: 'warning', message: 'BCC: mempool-monitor.py: giving up' },
    ]);
  });
});
