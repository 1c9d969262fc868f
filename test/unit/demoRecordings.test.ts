// The shipped demo recordings (demo/recordings/<tool>-demo.ndjson, made by scripts/make-demo-recordings.sh):
// one per tool, each read without a malformed line, each from the real Bitcoin Core on a regtest network
// (the script's workload), none with the test tracee's hostile strings.
import { strict as assert } from 'node:assert';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { loadRecording, type RecordingContents } from '../../src/core/events/recording';
import { decodeMessage } from '../../src/core/p2pMessages/messageDecoder';
import { TOOLS } from '../../src/core/tools/toolCatalog';

const demoDir = join(__dirname, '..', '..', 'demo', 'recordings');
/** The real node the recordings come from: Bitcoin Core master, 31.99.0 (../shared/bitcoin-core). */
const REAL_USER_AGENT = '/Satoshi:31.99.0/';
const LOCAL_PEER = /^127\.0\.0\.1:\d+$/;
/** Regtest's block subsidy for the first 150 blocks, in satoshis. */
const REGTEST_SUBSIDY = 5_000_000_000;

type Fields = Record<string, unknown>;
const ofType = (events: readonly NormalizedEvent[], name: string): Fields[] => events.filter((e) => e.event === name) as unknown as Fields[];

/** What the script's workload makes each tool see on node A: checked against the recording. */
const EXPECTED: Record<string, (events: readonly NormalizedEvent[]) => void> = {
  'p2p-traffic': (events) => {
    const messages = [...ofType(events, 'net:inbound_message'), ...ofType(events, 'net:outbound_message')];
    assert.ok(messages.length > 100, `only ${messages.length} messages`);
    for (const m of messages) assert.match(String(m.peer_addr), LOCAL_PEER);
    const types = new Set(messages.map((m) => m.msg_type));
    for (const type of ['version', 'verack', 'sendcmpct', 'headers', 'inv', 'tx', 'feefilter']) assert.ok(types.has(type), `no ${type} message`);
    const connTypes = new Set(messages.map((m) => m.conn_type));
    for (const type of ['outbound-full-relay', 'inbound', 'block-relay-only', 'feeler']) assert.ok(connTypes.has(type), `no message on a ${type} connection`);
  },
  'p2p-monitor': (events) => {
    const totals = ofType(events, 'p2p:peer_totals').at(-1);
    assert.ok(totals, 'no p2p:peer_totals');
    const peers = totals.peers as Fields[];
    assert.ok(peers.length >= 3, `${peers.length} peers`);
    for (const p of peers) assert.match(String(p.peer_addr), LOCAL_PEER);
    const types = (ofType(events, 'p2p:msg_type_totals').at(-1)?.types ?? []) as Fields[];
    assert.ok(types.some((t) => t.msg_type === 'version' && Number(t.msgs_in) > 0 && Number(t.msgs_out) > 0), 'no version in and out');
  },
  'raw-p2p-msgs': (events) => {
    const messages = [...ofType(events, 'net:inbound_message'), ...ofType(events, 'net:outbound_message')];
    assert.ok(messages.length > 100, `only ${messages.length} messages`);
    for (const m of messages) assert.equal(m.captured, Number(m.msg_size), `message of ${String(m.msg_type)} cut`);
    const versions = messages.filter((m) => m.msg_type === 'version' && m.event === 'net:inbound_message');
    assert.ok(versions.length > 0, 'no inbound version message');
    for (const version of versions) {
      const decoded = decodeMessage('version', Buffer.from(String(version.msg), 'hex'));
      assert.equal(decoded.status, 'decoded');
      assert.ok(decoded.status === 'decoded' && decoded.summary.includes(REAL_USER_AGENT), `version from a peer that is not the real node: ${JSON.stringify(decoded)}`);
    }
    assert.ok(messages.some((m) => m.msg_type === 'tx'), 'no tx message');
  },
  'p2p-connections': (events) => {
    const opened = [...ofType(events, 'net:outbound_connection'), ...ofType(events, 'net:inbound_connection')];
    assert.deepEqual(new Set(opened.map((c) => c.conn_type)), new Set(['outbound-full-relay', 'inbound', 'feeler', 'block-relay-only']));
    for (const c of opened) assert.match(String(c.peer_addr), LOCAL_PEER);
    const closed = ofType(events, 'net:closed_connection');
    assert.deepEqual(closed.map((c) => c.conn_type).sort(), ['feeler', 'outbound-full-relay']);
  },
  'connectblock-benchmark': (events) => {
    const heights = ofType(events, 'validation:block_connected').map((b) => Number(b.height));
    assert.deepEqual(heights, Array.from({ length: heights.length }, (_, i) => i + 1), 'blocks 1, 2, … in order');
    assert.ok(heights.length >= 104, `${heights.length} blocks`);
    assert.equal(ofType(events, 'validation:connect_summary').length, 1);
  },
  'utxocache-flush': (events) => {
    const flushes = ofType(events, 'utxocache:flush');
    assert.ok(flushes.length >= 10, `${flushes.length} flushes`);
    assert.ok(flushes.every((f) => f.mode_name === 'FORCE_SYNC'), 'gettxoutsetinfo flushes with FORCE_SYNC');
  },
  'utxos': (events) => {
    const coinbases = ofType(events, 'utxocache:add').filter((a) => a.is_coinbase === true && a.value === REGTEST_SUBSIDY);
    assert.ok(coinbases.length >= 100, `${coinbases.length} regtest coinbase outputs`);
    assert.ok(ofType(events, 'utxocache:spent').length > 0, 'no coin spent');
  },
  'mempool-monitor': (events) => {
    const [replaced] = ofType(events, 'mempool:replaced');
    assert.ok(replaced, 'no replacement (bumpfee)');
    assert.ok(Number(replaced.replacement_fee) > Number(replaced.replaced_fee));
    const rejected = ofType(events, 'mempool:rejected');
    assert.ok(rejected.some((r) => r.txid === replaced.replaced_txid), 'the replaced transaction, sent again, is rejected');
    assert.ok(ofType(events, 'mempool:removed').some((r) => r.reason === 'block'), 'no transaction mined');
    assert.ok(ofType(events, 'mempool:added').length >= 8);
  },
  'mempool-events': (events) => {
    // bpftrace reads arguments 0–5 of mempool:replaced: no replacement fee, no replaced_by_transaction.
    const [replaced] = ofType(events, 'mempool:replaced');
    assert.ok(replaced, 'no replacement (bumpfee)');
    assert.ok(!('replacement_fee' in replaced) && Number(replaced.replacement_vsize) > 0);
    const added = ofType(events, 'mempool:added');
    assert.ok(added.some((a) => a.txid === replaced.replacement_id), 'the replacement was added');
    assert.ok(ofType(events, 'mempool:removed').some((r) => r.txid === replaced.replaced_txid && r.reason === 'replaced'), 'the replaced transaction removed as replaced');
    assert.ok(ofType(events, 'mempool:rejected').some((r) => r.txid === replaced.replaced_txid), 'the replaced transaction, sent again, is rejected');
    assert.ok(ofType(events, 'mempool:removed').some((r) => r.reason === 'block'), 'no transaction mined');
    assert.ok(added.length >= 8);
  },
  'coin-selection': (events) => {
    const selected = ofType(events, 'coin_selection:selected_coins');
    assert.ok(selected.length >= 7, `${selected.length} coin selections`);
    assert.ok(selected.every((s) => s.wallet_name === 'demo'));
    assert.ok(ofType(events, 'coin_selection:normal_create_tx_internal').length > 0);
  },
  'trace-tracepoint': (events) => {
    // validation:block_connected read as hash,s32,u64,s32,s64,s64 (the script's trace_tracepoint_args).
    const spec = ofType(events, 'tracepoint:spec')[0];
    assert.equal(spec?.tracepoint, 'validation:block_connected');
    const hits = ofType(events, 'tracepoint:hit').map((h) => h.args as unknown[]);
    assert.ok(hits.length >= 104, `${hits.length} blocks`);
    assert.deepEqual(hits.map((args) => args[1]), Array.from({ length: hits.length }, (_, i) => i + 1), 'heights 1, 2, … in order');
    for (const [hash, , transactions, inputs] of hits) {
      assert.match(String(hash), /^[0-9a-f]{64}$/);
      assert.ok(Number(transactions) >= 1 && Number(inputs) >= 1, 'a coinbase at least');
    }
  },
};

describe('demo recordings', () => {
  it('are one per tool and small', () => {
    const files = readdirSync(demoDir).filter((f) => f.endsWith('.ndjson')).sort();
    assert.deepEqual(files, TOOLS.map((t) => `${t.id}-demo.ndjson`).sort());
    const bytes = files.reduce((sum, f) => sum + statSync(join(demoDir, f)).size, 0);
    assert.ok(bytes <= 1_000_000, `${bytes} bytes in all`);
  });

  for (const tool of TOOLS) {
    describe(tool.id, () => {
      let recording: RecordingContents;
      before(async () => {
        recording = await loadRecording(join(demoDir, `${tool.id}-demo.ndjson`));
      });

      it('reads without a malformed line, from a real bitcoind, attached to the end', () => {
        assert.deepEqual(recording.malformed, []);
        assert.equal(recording.header.tool, tool.id);
        assert.match(String(recording.header.binary), /\/bitcoind$/);
        assert.doesNotMatch(String(recording.header.binary), /tracee/);
        const names = recording.events.map((e) => e.event);
        assert.ok(names.includes('session:attached'));
        assert.equal(names.at(-1), 'session:end');
        assert.ok(!names.includes('lost'), 'events were lost');
      });

      it("has its tool's events from the script's regtest workload", () => {
        const own = new Set(tool.produces.filter((name) => name.includes(':')));
        assert.ok(recording.events.some((e) => own.has(e.event)), `no ${[...own].join(' / ')} event`);
        EXPECTED[tool.id](recording.events);
      });

      it('has none of the hostile strings of the test fixtures', () => {
        const text = JSON.stringify(recording.events);
        assert.doesNotMatch(text, /<img|<script|onerror|\\u202e/i);
      });
    });
  }
});
