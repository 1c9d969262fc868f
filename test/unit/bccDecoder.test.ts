// bccDecoder on real output lines of probes/raw-p2p-msgs.py and probes/mempool-monitor.py (captured with BCC
// 0.26 against the test tracee: raw, hostile and mempool --hostile scenarios, v29 and legacy builds).

import { strict as assert } from 'node:assert';
import { JsonObject, parseBpftraceJson } from '../../src/core/events/bpftraceJson';
import {
  BCC_STRING_BUFFERS,
  decodeBccLine,
  decodeBccRecord,
  decodeBccTuple,
  isBccTuple,
  type BccDecodeResult,
  type BccEvent,
} from '../../src/core/events/bccDecoder';
import type { Int64Field } from '../../src/core/events/eventTypes';

const RAW_LINES = {
  tx1: String.raw`{"type": "value", "data": ["net:inbound_message", 10549147317, 5, "203.0.113.6:34888", "inbound", "tx", 1, 1, "07"]}`,
  verack: String.raw`{"type": "value", "data": ["net:inbound_message", 10549139525, 2, "l4dpy3geokpk7v6bpoab5sggxfys64ymdlogx4bugqekxupbhyndgyiv.onion:18333", "inbound", "verack", 0, 0, ""]}`,
  inv: String.raw`{"type": "value", "data": ["net:outbound_message", 10549149189, 6, "[2001:db8::2]:8333", "feeler", "inv", 37, 37, "0726456483a2c1e0ff1e3d5c7b9ab9d8f71635547392b1d0ef0e2d4c6b8aa9c8e706254463"]}`,
  controlAddr: String.raw`{"type": "value", "data": ["net:inbound_message", 17284494409, 1004, "10.0.0.1\t\u0001\u001b[31m:8333\n", "inbound", "notfound", 37, 37, "0726456483a2c1e0ff1e3d5c7b9ab9d8f71635547392b1d0ef0e2d4c6b8aa9c8e706254463"]}`,
  controlType: String.raw`{"type": "value", "data": ["net:inbound_message", 17284871309, 4, "[fc00::1]:8333", "manual", "ctl\u0001\u0007\u001b\u001f\u007f", 0, 0, ""]}`,
  maxPeerId: String.raw`{"type": "value", "data": ["net:inbound_message", 17284519126, 9223372036854775807, "<img src=x onerror=alert(1)>:8333", "outbound-full-relay", "pong", 8, 8, "0726456483a2c1e0"]}`,
  quotes: String.raw`{"type": "value", "data": ["net:inbound_message", 17284298548, 0, "203.0.113.5:8333", "outbound-full-relay", "\"\\\"\\", 0, 0, ""]}`,
  bidi: String.raw`{"type": "value", "data": ["net:outbound_message", 17284954522, 1001, "\u00e2\u0080\u00ae1.0.0.127:8333", "inbound", "\u00e2\u0080\u00aext.exe", 0, 0, ""]}`,
};

const MEMPOOL_LINES = {
  added: String.raw`{"type": "value", "data": ["mempool:added", 5269143479, "c78d1b9bcb424fa20bb39c6724dda0dc011729bfd5178d65d959b8bca250dc14", 527, 31457]}`,
  removedReplaced: String.raw`{"type": "value", "data": ["mempool:removed", 5269515271, "988a7f734a4608dcf8c763227fd28fcc96000657a016ba4f598a0baaf6a1744b", "replaced", 395, 17546, 1794386538]}`,
  removedBlock: String.raw`{"type": "value", "data": ["mempool:removed", 1475714238, "66d8731c86295a8b2f8b65e2e193475d6e1a5c6a656e9f43bfd43697949dc44d", "block", 277, 1816, 1795065292]}`,
  replacedByTx: String.raw`{"type": "value", "data": ["mempool:replaced", 5269512226, "988a7f734a4608dcf8c763227fd28fcc96000657a016ba4f598a0baaf6a1744b", 395, 17546, 1794386538, "2991e5d495f4126241dd6f91f74923edffa28912b1d17e2b4cd7a6ac128bd8f5", 410, 18776, true]}`,
  replacedByPackage: String.raw`{"type": "value", "data": ["mempool:replaced", 5269749579, "4089e310115715e9557a8140e9586ac2ba8b468fa80969f50e39b11636ca1e86", 586, 22046, 1795024734, "4ca05b9a4fa0fa24ba2dc566f7f6cd862d1e25b0cd8855d799d742564bbc7fe8", 576, 22622, false]}`,
  rejected118: String.raw`{"type": "value", "data": ["mempool:rejected", 1474890866, "abde21be0c262dcdec1ab47afd2779d26dbc037cf2bf684d5cad7076f72cac3b", "insufficient fee, rejecting replacement 7e5f1bb3d5c0a1b2c3d4e5f60718293a4b5c6d7e8f90123456789abcdef012345; new feerate"]}`,
  rejectedBidi: String.raw`{"type": "value", "data": ["mempool:rejected", 5269682429, "67b7985bc6e94862d39efb3b5a331582d100c435578d1d9275c13c3329064dc8", "\u00e2\u0080\u00aetxt.exe bidi"]}`,
  rejectedControl: String.raw`{"type": "value", "data": ["mempool:rejected", 5269784270, "1c2d7b949e48440af094b5c9428e9c39bf638159ed74c31506c374e8a4fdfe9e", "ctl \u0001\u001b[2J\t\n end"]}`,
};

const OTHER_LINES = [
  String.raw`{"type": "attached_probes", "data": {"probes": 4}}`,
  String.raw`{"type": "map", "data": {"@fired": {"mempool:added": 232, "mempool:removed": 86, "mempool:replaced": 33, "mempool:rejected": 49}}}`,
  String.raw`{"type": "lost_events", "data": {"events": 1469}}`,
  String.raw`{"type": "map", "data": {"@fired": {"net:inbound_message": 2250, "net:outbound_message": 750}}}`,
];

/** Byte i of the test tracee's message buffer is (i*31+7) & 0xff. */
function traceePatternHex(length: number): string {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes.toString('hex');
}

function decodedEvents(line: string): BccEvent[] {
  const result = decodeBccLine(line);
  assert.ok(result, `a BCC record: ${line}`);
  assert.ok(result.ok, result.ok ? '' : result.error);
  return result.events;
}

function tupleOf(line: string): unknown[] {
  const record = parseBpftraceJson(line);
  assert.ok(record instanceof JsonObject);
  const data = record.get('data');
  assert.ok(Array.isArray(data));
  return data;
}

function errorOf(result: BccDecodeResult | null): string {
  assert.ok(result && !result.ok, 'the record must be rejected');
  return result.error;
}

describe('bccDecoder: raw-p2p-msgs records', () => {
  it('decodes messages with their bytes exactly', () => {
    assert.deepEqual(decodedEvents(RAW_LINES.tx1), [{
      event: 'net:inbound_message',
      elapsed_ns: 10549147317,
      peer_id: 5,
      peer_addr: '203.0.113.6:34888',
      conn_type: 'inbound',
      msg_type: 'tx',
      msg_size: 1,
      msg: '07',
      captured: 1,
    }]);
    const [inv] = decodedEvents(RAW_LINES.inv);
    assert.ok(inv.event === 'net:outbound_message');
    assert.equal(inv.msg, traceePatternHex(37));
    assert.equal(inv.captured, 37);
    const [verack] = decodedEvents(RAW_LINES.verack);
    assert.ok(verack.event === 'net:inbound_message');
    assert.equal(verack.msg, '');
    assert.equal(verack.peer_addr.length, 68, 'a Tor v3 address whole, not reported as cut');
  });

  it('keeps hostile strings and 64-bit ids exact', () => {
    const [control] = decodedEvents(RAW_LINES.controlAddr);
    assert.ok(control.event === 'net:inbound_message');
    assert.equal(control.peer_addr, '10.0.0.1\t\x01\x1b[31m:8333\n');
    assert.equal(control.peer_id, 1004);
    const [ctl] = decodedEvents(RAW_LINES.controlType);
    assert.ok(ctl.event === 'net:inbound_message');
    assert.equal(ctl.msg_type, 'ctl\x01\x07\x1b\x1f\x7f');
    const [big] = decodedEvents(RAW_LINES.maxPeerId);
    assert.ok(big.event === 'net:inbound_message');
    assert.equal(big.peer_id, '9223372036854775807');
    assert.equal(big.peer_addr, '<img src=x onerror=alert(1)>:8333');
    const [quotes] = decodedEvents(RAW_LINES.quotes);
    assert.ok(quotes.event === 'net:inbound_message');
    assert.equal(quotes.msg_type, '"\\"\\');
    const [bidi] = decodedEvents(RAW_LINES.bidi);
    assert.ok(bidi.event === 'net:outbound_message');
    assert.equal(bidi.peer_addr, '\u202e1.0.0.127:8333');
    assert.equal(bidi.msg_type, '\u202ext.exe');
  });

  it('flags a message that arrived cut and strings that filled their buffer', () => {
    const cut = ['net:inbound_message', 5, 1, 'a:1', 'inbound', 'block', 4_000_001, 2, '0726'];
    const result = decodeBccTuple(cut);
    assert.ok(result?.ok);
    assert.deepEqual(result.events.slice(1), [{ event: 'truncated', elapsed_ns: 5, field: 'msg', count: 1 }]);
    const longAddr = 'x'.repeat(BCC_STRING_BUFFERS.peer_addr - 1);
    const filled = decodeBccTuple(['net:outbound_message', 9, 1, longAddr, 'y'.repeat(31), 'z'.repeat(30), 0, 0, '']);
    assert.ok(filled?.ok);
    assert.deepEqual(filled.events.slice(1).map((e) => (e.event === 'truncated' ? e.field : e.event)), ['peer_addr', 'conn_type']);
  });

  it('rejects records that are not what the program prints', () => {
    const good = tupleOf(RAW_LINES.inv) as Parameters<typeof decodeBccTuple>[0];
    const withField = (index: number, value: string | number): Parameters<typeof decodeBccTuple>[0] =>
      good.map((v, i) => (i === index ? value : v));
    assert.match(errorOf(decodeBccTuple(good.slice(0, 8))), /8 fields instead of 9/);
    assert.match(errorOf(decodeBccTuple(withField(8, 'ABCD'))), /hex/);
    assert.match(errorOf(decodeBccTuple(withField(8, '07'))), /hex of exactly/);
    assert.match(errorOf(decodeBccTuple(withField(7, 38))), /hex of exactly/);
    assert.match(errorOf(decodeBccTuple(withField(6, 36))), /captured exceeds msg_size/);
    assert.match(errorOf(decodeBccTuple(withField(7, 4_000_001))), /captured must be/);
    assert.match(errorOf(decodeBccTuple(withField(2, 'six'))), /integers/);
    assert.match(errorOf(decodeBccTuple(withField(1, 1.5))), /elapsed_ns/);
  });
});

describe('bccDecoder: mempool-monitor records', () => {
  it('decodes every field of the four tracepoints, hashes in display order', () => {
    assert.deepEqual(decodedEvents(MEMPOOL_LINES.added), [{
      event: 'mempool:added',
      elapsed_ns: 5269143479,
      txid: 'c78d1b9bcb424fa20bb39c6724dda0dc011729bfd5178d65d959b8bca250dc14',
      vsize: 527,
      fee: 31457,
    }]);
    assert.deepEqual(decodedEvents(MEMPOOL_LINES.removedBlock), [{
      event: 'mempool:removed',
      elapsed_ns: 1475714238,
      txid: '66d8731c86295a8b2f8b65e2e193475d6e1a5c6a656e9f43bfd43697949dc44d',
      reason: 'block',
      vsize: 277,
      fee: 1816,
      entry_time: 1795065292,
    }]);
    assert.deepEqual(decodedEvents(MEMPOOL_LINES.replacedByTx), [{
      event: 'mempool:replaced',
      elapsed_ns: 5269512226,
      replaced_txid: '988a7f734a4608dcf8c763227fd28fcc96000657a016ba4f598a0baaf6a1744b',
      replaced_vsize: 395,
      replaced_fee: 17546,
      replaced_entry_time: 1794386538,
      replacement_id: '2991e5d495f4126241dd6f91f74923edffa28912b1d17e2b4cd7a6ac128bd8f5',
      replacement_vsize: 410,
      replacement_fee: 18776,
      replaced_by_transaction: true,
    }]);
    const [byPackage] = decodedEvents(MEMPOOL_LINES.replacedByPackage);
    assert.ok(byPackage.event === 'mempool:replaced');
    assert.equal(byPackage.replaced_by_transaction, false);
    // The replaced transaction leaves with reason "replaced" under the same (display-order) txid.
    const [removed] = decodedEvents(MEMPOOL_LINES.removedReplaced);
    assert.ok(removed.event === 'mempool:removed');
    assert.equal(removed.txid, '988a7f734a4608dcf8c763227fd28fcc96000657a016ba4f598a0baaf6a1744b');
    assert.equal(removed.reason, 'replaced');
  });

  it('keeps reject reasons whole and exact: 118 characters, U+202E, control bytes', () => {
    const [long, ...rest] = decodedEvents(MEMPOOL_LINES.rejected118);
    assert.ok(long.event === 'mempool:rejected');
    assert.equal(long.reason.length, 118);
    assert.deepEqual(rest, [], 'not reported as cut');
    const [bidi] = decodedEvents(MEMPOOL_LINES.rejectedBidi);
    assert.ok(bidi.event === 'mempool:rejected');
    assert.equal(bidi.reason, '\u202etxt.exe bidi');
    const [control] = decodedEvents(MEMPOOL_LINES.rejectedControl);
    assert.ok(control.event === 'mempool:rejected');
    assert.equal(control.reason, 'ctl \x01\x1b[2J\t\n end');
  });

  it('flags reasons that filled their buffer', () => {
    const removed = decodeBccTuple(['mempool:removed', 1, 'ab'.repeat(32), 'r'.repeat(BCC_STRING_BUFFERS.removed_reason - 1), 1, 2, 3]);
    assert.ok(removed?.ok);
    assert.deepEqual(removed.events.slice(1), [{ event: 'truncated', elapsed_ns: 1, field: 'reason', count: 1 }]);
    const rejected = decodeBccTuple(['mempool:rejected', 1, 'ab'.repeat(32), 'r'.repeat(BCC_STRING_BUFFERS.rejected_reason - 2)]);
    assert.ok(rejected?.ok);
    assert.equal(rejected.events.length, 1, '126 bytes fit whole');
  });

  it('rejects malformed mempool records', () => {
    const hash = 'ab'.repeat(32);
    assert.match(errorOf(decodeBccTuple(['mempool:added', 1, hash.slice(1), 1, 2])), /txid/);
    assert.match(errorOf(decodeBccTuple(['mempool:added', 1, hash.toUpperCase(), 1, 2])), /txid/);
    assert.match(errorOf(decodeBccTuple(['mempool:added', 1, hash, 2 ** 31, 2])), /vsize/);
    assert.match(errorOf(decodeBccTuple(['mempool:replaced', 1, hash, 1, 2, 3, hash, 4, 5, 1])), /boolean/);
    assert.match(errorOf(decodeBccTuple(['mempool:rejected', 1, hash, 7])), /reason/);
    assert.match(errorOf(decodeBccTuple(['mempool:removed', 1, hash, 'block', 1, 2])), /6 fields instead of 7/);
  });
});

describe('bccDecoder: other records and the session-decoder adapter', () => {
  it('leaves the counting records and non-BCC tuples to BpftraceDecoder', () => {
    for (const line of OTHER_LINES) assert.equal(decodeBccLine(line), null, line);
    assert.equal(decodeBccLine('not json'), null);
    assert.equal(isBccTuple(['in', 1, 2, 'a', 'b', 'c', 3]), false, 'p2p-traffic tuple');
    assert.equal(isBccTuple(['mempool:added', 1]), true);
    assert.equal(isBccTuple(['toString', 1]), false, 'no prototype keys');
    assert.equal(decodeBccTuple(['block_connected', 1]), null);
  });

  it('decodeBccRecord counts deliveries, maps elapsed time, ignores other records, throws on malformed ones', () => {
    let delivered = 0;
    const context = {
      elapsedNs: (value: Int64Field): number => Number(value) + 1_000,
      delivered: (): void => {
        delivered++;
      },
    };
    const record = (line: string): { type: string; data: ReturnType<JsonObject['get']> } => {
      const value = parseBpftraceJson(line);
      assert.ok(value instanceof JsonObject);
      return { type: String(value.get('type')), data: value.get('data') };
    };
    const events = decodeBccRecord(record(MEMPOOL_LINES.added), context);
    assert.equal(events?.[0].elapsed_ns, 5269143479 + 1_000);
    decodeBccRecord(record(RAW_LINES.tx1), context);
    assert.equal(delivered, 2);
    for (const line of OTHER_LINES) assert.equal(decodeBccRecord(record(line), context), null);
    assert.equal(delivered, 2);
    assert.throws(() => decodeBccRecord({ type: 'value', data: ['mempool:added', 1, 'zz', 1, 2] }, context), /mempool:added: txid/);
    assert.equal(delivered, 2, 'a malformed record is not a delivery');
  });
});
