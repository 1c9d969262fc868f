// The raw-p2p-msgs core: the bounded message store (memory bound, filters, list windows, byte ranges) and the
// decoded view of captured messages (real messages, messages that arrived cut, hostile strings).

import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { decodeForDisplay } from '../../src/core/rawMessages/rawMessageDecoding';
import { RawMessageStore, type RawMessageLimits } from '../../src/core/rawMessages/rawMessageStore';
import type { DecodedNode, DecodedView } from '../../src/shared/rawMessagesProtocol';
import { EMPTY_FILTER, parseRawFromWebview, parseRawUiState } from '../../src/shared/rawMessagesProtocol';
import { GENESIS_COINBASE, GENESIS_HASH, GENESIS_HEADER, GENESIS_TXID, VERSION_22 } from '../fixtures/p2pMessageVectors';



function versionPayload(): string {
  const wire = Buffer.from(VERSION_22, 'hex');
  const payload = wire.subarray(24);
  assert.equal(payload.length, wire.readUInt32LE(16));
  const checksum = createHash('sha256').update(createHash('sha256').update(payload).digest()).digest().subarray(0, 4);
  assert.deepEqual(checksum, wire.subarray(20, 24), 'the vector is a real message');
  return payload.toString('hex');
}

interface MessageOptions {
  direction?: 'in' | 'out';
  peer?: number;
  addr?: string;
  connType?: string;
  type?: string;
  hex?: string;
  size?: number;
  captured?: number;
  elapsed?: number;
}

function message(options: MessageOptions = {}): NormalizedEvent {
  const hex = options.hex ?? '00'.repeat(8);
  return {
    event: options.direction === 'out' ? 'net:outbound_message' : 'net:inbound_message',
    elapsed_ns: options.elapsed ?? 1_000,
    peer_id: options.peer ?? 1,
    peer_addr: options.addr ?? '10.0.0.1:8333',
    conn_type: options.connType ?? 'outbound-full-relay',
    msg_type: options.type ?? 'ping',
    msg_size: options.size ?? hex.length / 2,
    captured: options.captured ?? hex.length / 2,
    msg: hex,
  } as unknown as NormalizedEvent;
}

function find(nodes: readonly DecodedNode[], path: string): DecodedNode {
  let current = nodes;
  let found: DecodedNode | undefined;
  for (const name of path.split('/')) {
    found = current.find((n) => n.name === name);
    assert.ok(found, `no node ${path} (at ${name}) among ${JSON.stringify(current.map((n) => n.name))}`);
    current = found.children ?? [];
  }
  return found as DecodedNode;
}

const SMALL: RawMessageLimits = { maxBytes: 1_000, maxMessages: 50, maxChoices: 10, maxNotes: 5, maxNamedCounters: 8 };

describe('raw messages: store', () => {
  it('keeps a real version message with its bytes and decodes it on request', () => {
    const store = new RawMessageStore();
    const hex = versionPayload();
    store.ingest(message({ type: 'version', hex, peer: 7, addr: '31.223.3.100:2142', connType: 'inbound' }));
    const { rows } = store.window(0, 10);
    assert.equal(rows.length, 1);
    assert.deepEqual(
      { seq: rows[0].seq, peerId: rows[0].peerId, msgType: rows[0].msgType, size: rows[0].size, captured: rows[0].captured, cut: rows[0].cut, direction: rows[0].direction },
      { seq: 1, peerId: '7', msgType: 'version', size: 102, captured: 102, cut: false, direction: 'in' },
    );
    assert.equal(Buffer.from(store.bytes(1, 0, 1_000) ?? []).toString('hex'), hex);
    assert.equal(Buffer.from(store.bytes(1, 96, 16) ?? []).toString('hex'), hex.slice(192));
    const decoded = store.decoded(1);
    assert.ok(decoded);
    assert.equal(decoded.status, 'decoded');
    assert.equal(find(decoded.fields, 'user_agent').value, '/Satoshi:22.0.0/');
    assert.equal(find(decoded.fields, 'start_height').value, '704550');
    assert.equal(find(decoded.fields, 'addr_recv').value, '31.223.3.100:2142');
    assert.deepEqual(decoded.warnings, []);
  });

  it('stays within the byte bound by dropping the oldest messages, and counts them', () => {
    const store = new RawMessageStore(SMALL);
    for (let i = 0; i < 40; i++) store.ingest(message({ hex: 'ab'.repeat(100), peer: i }));
    const counters = store.counters();
    assert.equal(counters.messagesSeen, 40);
    assert.ok(counters.bytesKept <= SMALL.maxBytes, `kept ${counters.bytesKept} bytes`);
    assert.equal(counters.messagesKept, 10);
    assert.equal(counters.messagesDropped, 30);
    assert.equal(counters.bytesKept, 1_000);
    // The oldest are gone: their bytes and decoded views too.
    assert.equal(store.bytes(1, 0, 10), undefined);
    assert.equal(store.decoded(30), undefined);
    assert.deepEqual(store.window(0, 100).rows.map((r) => r.seq), [31, 32, 33, 34, 35, 36, 37, 38, 39, 40]);
  });

  it('stays within the message-count bound over many small messages (compacting its arrays)', () => {
    const store = new RawMessageStore({ ...SMALL, maxBytes: 1e9, maxMessages: 100 });
    for (let i = 0; i < 20_000; i++) store.ingest(message({ hex: '', size: 0, captured: 0, type: i % 2 ? 'verack' : 'sendheaders' }));
    assert.equal(store.keptCount, 100);
    assert.equal(store.counters().messagesDropped, 19_900);
    assert.equal(store.matchingCount, 100);
    const newest = store.window(-1, 5).rows.map((r) => r.seq);
    assert.deepEqual(newest, [19_996, 19_997, 19_998, 19_999, 20_000]);
    assert.equal(store.window(0, 1).rows[0].seq, 19_901);
  });

  it('a single message larger than the bound is still kept (the newest is never dropped)', () => {
    const store = new RawMessageStore(SMALL);
    store.ingest(message({ hex: 'cd'.repeat(5_000), type: 'block' }));
    assert.equal(store.keptCount, 1);
    assert.equal(store.bytes(1, 4_990, 100)?.length, 10);
  });

  it('filters hide messages by type, peer, direction and text, and follow new and dropped messages', () => {
    const store = new RawMessageStore({ ...SMALL, maxBytes: 1e9, maxMessages: 30 });
    const types = ['inv', 'tx', 'ping'];
    for (let i = 0; i < 24; i++) {
      store.ingest(message({ type: types[i % 3], peer: i % 4, direction: i % 2 ? 'out' : 'in', addr: i % 4 === 3 ? '[2001:db8::1]:8333' : `10.0.0.${i % 4}:8333` }));
    }
    store.setFilter({ ...EMPTY_FILTER, msgType: 'inv' });
    assert.deepEqual(store.window(0, 100).rows.map((r) => r.seq), [1, 4, 7, 10, 13, 16, 19, 22]);
    store.setFilter({ ...EMPTY_FILTER, peerId: '3' });
    assert.ok(store.window(0, 100).rows.every((r) => r.peerId === '3'));
    assert.equal(store.matchingCount, 6);
    store.setFilter({ ...EMPTY_FILTER, direction: 'out', msgType: 'tx' });
    assert.deepEqual(store.window(0, 100).rows.map((r) => r.seq), [2, 8, 14, 20]);
    store.setFilter({ ...EMPTY_FILTER, text: '2001:DB8' });
    assert.equal(store.matchingCount, 6);
    // New messages are matched against the current filter as they arrive.
    store.ingest(message({ type: 'inv', addr: '[2001:db8::1]:8333', peer: 3 }));
    store.ingest(message({ type: 'inv', addr: '10.9.9.9:1', peer: 9 }));
    assert.equal(store.matchingCount, 7);
    // Dropping the oldest (bound of 30) removes them from the matching list too.
    for (let i = 0; i < 10; i++) store.ingest(message({ type: 'ping', peer: 5 }));
    assert.equal(store.keptCount, 30);
    const matching = store.window(0, 100).rows;
    assert.ok(matching.every((r) => r.seq > 6 && r.peerAddr.includes('2001:db8')), JSON.stringify(matching.map((r) => r.seq)));
    assert.equal(store.matchingCount, matching.length);
    assert.equal(store.indexOf(matching[2].seq), 2);
    assert.equal(store.indexOf(1), undefined, 'dropped');
    assert.equal(store.indexOf(matching[0].seq + 1), undefined, 'does not match');
    store.setFilter(EMPTY_FILTER);
    assert.equal(store.matchingCount, 30);
    assert.equal(store.indexOf(store.newestSeq), 29);
  });

  it('windows clamp to the matching list and -1 gives the newest rows', () => {
    const store = new RawMessageStore();
    for (let i = 0; i < 10; i++) store.ingest(message());
    assert.deepEqual(store.window(-1, 3), { start: 7, rows: store.window(7, 3).rows });
    assert.equal(store.window(8, 10).rows.length, 2);
    assert.equal(store.window(50, 10).start, 9);
    assert.deepEqual(new RawMessageStore().window(-1, 10), { start: 0, rows: [] });
  });

  it('counts cut messages, losses, cut strings and malformed events; keeps hostile strings as they came', () => {
    const store = new RawMessageStore();
    const hostileType = '<img src=x onerror=alert(1)>';
    const hostileAddr = '1.2.3.4\u202E3338:evil';
    store.ingestAll([
      message({ type: hostileType, addr: hostileAddr, connType: 'inbound<svg>' }),
      message({ type: 'block', hex: 'ff'.repeat(100), size: 1_000_000, captured: 100 }),
      { event: 'lost', count: 5, source: 'bpftrace' },
      { event: 'lost', count: 2, source: 'reconciled' },
      { event: 'truncated', field: 'peer_addr', count: 3 },
      { event: 'fired', counts: { 'net:inbound_message': 9 } },
      { event: 'net:inbound_message', peer_id: 'x', msg_type: 'inv', msg_size: 1, msg: '00' } as unknown as NormalizedEvent,
      message({ hex: 'zz' }),
      { event: 'session:message', level: 'warning', message: 'ring buffer <b>full</b>' },
      { event: 'session:end', reason: 'stopped' },
    ]);
    const counters = store.counters();
    assert.equal(counters.messagesSeen, 2);
    assert.equal(counters.messagesCut, 1);
    assert.equal(counters.lostEvents, 7);
    assert.equal(counters.truncatedStrings, 3);
    assert.equal(counters.ignoredEvents, 2);
    assert.deepEqual(counters.fired, [{ name: 'net:inbound_message', count: 9 }]);
    const rows = store.window(0, 10).rows;
    assert.equal(rows[0].msgType, hostileType);
    assert.equal(rows[0].peerAddr, hostileAddr);
    assert.equal(rows[0].connType, 'inbound<svg>');
    assert.deepEqual({ size: rows[1].size, captured: rows[1].captured, cut: rows[1].cut }, { size: 1_000_000, captured: 100, cut: true });
    const summary = store.summary();
    assert.equal(summary.session.ended, true);
    assert.equal(summary.session.notes[0].message, 'ring buffer <b>full</b>');
    assert.ok(summary.choices.msgTypes.includes(hostileType));
    assert.equal(store.takeChanged(), true);
    assert.equal(store.takeChanged(), false);
  });

  it('says what the kernel filters (session:start filters) and takes the filtered session\'s per-peer totals as no messages', () => {
    const filtered = new RawMessageStore();
    filtered.ingestAll([
      { event: 'session:start', tool: 'raw-p2p-msgs', binary: '/t/bitcoind', pid: 7, filters: { peer: '2', msg_type: 'tx' } } as unknown as NormalizedEvent,
      message({ peer: 2, type: 'tx' }),
      { event: 'p2p:peer_totals', elapsed_ns: 5, peers: [{ pid: 7, peer_id: 3, peer_addr: '', conn_type: '', msgs_in: 9, bytes_in: 90, msgs_out: 0, bytes_out: 0 }] },
    ]);
    assert.equal(filtered.summary().session.kernelFilter, 'peer 2, type tx');
    assert.equal(filtered.counters().messagesSeen, 1);
    assert.equal(filtered.counters().ignoredEvents, 0);
    const unfiltered = new RawMessageStore();
    unfiltered.ingest({ event: 'session:start', tool: 'raw-p2p-msgs', binary: '/t/bitcoind', pid: 7 } as unknown as NormalizedEvent);
    assert.equal(unfiltered.summary().session.kernelFilter, null);
  });

  it('trusts `captured` over the hex length and never reads past the bytes it has', () => {
    const store = new RawMessageStore();
    store.ingest(message({ hex: 'aa'.repeat(32), size: 64, captured: 16 }));
    assert.equal(store.window(0, 1).rows[0].captured, 16);
    assert.equal(store.bytes(1, 0, 1_000)?.length, 16);
    assert.equal(store.bytes(1, 100, 16)?.length, 0);
  });
});

describe('raw messages: decoded view', () => {
  function block(txCount: number): Uint8Array {
    return Uint8Array.from(Buffer.from(GENESIS_HEADER + txCount.toString(16).padStart(2, '0') + GENESIS_COINBASE.repeat(txCount), 'hex'));
  }

  it('decodes a whole block', () => {
    const bytes = block(3);
    const view = decodeForDisplay('block', bytes, bytes.length);
    assert.equal(view.status, 'decoded');
    assert.equal(find(view.fields, 'header').value, GENESIS_HASH);
  });

  it('decodes a cut block as far as its bytes go: the header and the complete transactions, with the warning', () => {
    const whole = block(3);
    const coinbaseLength = GENESIS_COINBASE.length / 2;
    const cutAt = 81 + 2 * coinbaseLength + 50;
    const view: DecodedView = decodeForDisplay('block', whole.subarray(0, cutAt), 1_000_000);
    assert.equal(view.status, 'partial', JSON.stringify(view));
    assert.equal(find(view.fields, 'header').value, GENESIS_HASH);
    assert.equal(find(view.fields, 'header/merkle_root').value, GENESIS_TXID);
    const transactions = find(view.fields, 'transactions');
    assert.equal(transactions.value, '3 (2 complete in the captured bytes)');
    assert.deepEqual(transactions.children?.map((c) => c.value), [GENESIS_TXID, GENESIS_TXID]);
    assert.equal(cutAt, 539);
    assert.deepEqual(view.warnings, ['captured 539 of 1,000,000 bytes: the message arrived cut']);
    assert.match(view.reason ?? '', /transaction #2 is incomplete at byte 489$/);
  });

  it('decodes the complete entries of a cut inventory', () => {
    const entries = Array.from({ length: 5 }, (_v, i) => '02000000' + String(i).padStart(2, '0').repeat(32)).join('');
    const bytes = Uint8Array.from(Buffer.from('05' + entries, 'hex')).subarray(0, 1 + 36 * 3 + 10);
    const view = decodeForDisplay('inv', bytes, 1 + 36 * 5);
    assert.equal(view.status, 'partial');
    const inventory = find(view.fields, 'inventory');
    assert.equal(inventory.value, '5 (3 complete in the captured bytes)');
    assert.equal(inventory.children?.length, 3);
    assert.equal(inventory.children?.[2].name, 'MSG_BLOCK');
  });

  it('says clearly why a message cannot be decoded', () => {
    const damaged = decodeForDisplay('version', Uint8Array.from([1, 2, 3]), 3);
    assert.equal(damaged.status, 'cannot-decode');
    assert.match(damaged.reason ?? '', /^cannot decode version: /);
    const noBytes = decodeForDisplay('tx', new Uint8Array(0), 250);
    assert.equal(noBytes.status, 'cannot-decode');
    assert.match(noBytes.reason ?? '', /no bytes were captured/);
    const cutVersion = decodeForDisplay('version', Uint8Array.from(Buffer.from(versionPayload(), 'hex')).subarray(0, 40), 102);
    assert.equal(cutVersion.status, 'cannot-decode');
    assert.match(cutVersion.reason ?? '', /captured 40 of 102 bytes/);
    const unknown = decodeForDisplay('<script>', Uint8Array.from([1]), 1);
    assert.equal(unknown.status, 'not-supported');
    assert.equal(decodeForDisplay('ping', null, 8).status, 'no-bytes');
  });
});

describe('raw messages: protocol validation', () => {
  it('accepts only bounded requests and well-formed UI state from the webview', () => {
    assert.deepEqual(parseRawFromWebview({ type: 'requestListWindow', requestId: 1, start: -1, count: 300 }), { type: 'requestListWindow', requestId: 1, start: -1, count: 300 });
    assert.equal(parseRawFromWebview({ type: 'requestListWindow', requestId: 1, start: 0, count: 100_000 }), undefined);
    assert.equal(parseRawFromWebview({ type: 'requestHexRange', seq: 1, offset: 0, length: 10 * 1024 * 1024 }), undefined);
    assert.equal(parseRawFromWebview({ type: 'requestHexRange', seq: 0, offset: 0, length: 16 }), undefined);
    assert.equal(parseRawFromWebview({ type: 'nope' }), undefined);
    const state = parseRawUiState({ filter: { msgType: 'inv', peerId: '12; drop', direction: 'sideways', text: 5 }, selectedSeq: -3, follow: 'yes' });
    assert.deepEqual(state, { filter: { msgType: 'inv', peerId: '', direction: '', text: '' }, selectedSeq: null, follow: true, sessionId: null });
  });
});
