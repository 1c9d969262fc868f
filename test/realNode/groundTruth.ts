// The comparisons of the real-node tier: each tool's events against what bitcoind itself says (debug.log, RPCs,
// the wallet's results), field by field. `Observed` is one tool's session over the wallet workload, with the
// traced node still running (for RPCs) and its debug.log parsed.

import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import type { DebugLog, LoggedMessage } from './debugLog';
import type { PeerInfo, RegtestNode } from './regtestNetwork';
import type { RealNodeBuild } from './realNodeEnv';
import { eventsOf, withoutElapsed, type ToolEvent, type ToolRun } from './toolRun';
import { WALLET, sats, type WorkloadResult } from './walletWorkload';

export interface Observed {
  run: ToolRun<WorkloadResult>;
  log: DebugLog;
  build: RealNodeBuild;
}

/** The last `fired` counts of the session. */
export function lastFired(run: ToolRun<unknown>): Record<string, number> {
  const fired = eventsOf(run, 'fired').pop() as (ToolEvent & { counts: Record<string, number> }) | undefined;
  assert.ok(fired, 'a fired event');
  return fired.counts;
}

// ---------------------------------------------------------------- P2P messages

type Direction = LoggedMessage['direction'];

function direction(event: ToolEvent): Direction {
  return event.event === 'net:inbound_message' ? 'inbound' : 'outbound';
}

/** `peer direction` → the peer's messages of that direction in order, as `type size`. */
function messagesByPeer(messages: readonly LoggedMessage[]): Record<string, string[]> {
  const grouped: Record<string, string[]> = {};
  for (const m of messages) (grouped[`peer=${m.peer_id} ${m.direction}`] ??= []).push(`${m.msg_type} ${m.msg_size}`);
  return grouped;
}

function loggedMessagesOf(events: readonly ToolEvent[]): LoggedMessage[] {
  return events.map((e) => ({ direction: direction(e), msg_type: String(e.msg_type), msg_size: Number(e.msg_size), peer_id: Number(e.peer_id) }));
}

/**
 * Every peer of the session, as the node names it: the address from debug.log's connection lines (the address
 * it connected to, or the one a connection came from) and the connection type from getpeerinfo (the two
 * bitcoind connections) or `inbound` (the framework's peers, which connect to the node).
 */
function peerIdentities({ run, log }: Observed): Map<number, { addr: string; conn_type: string }> {
  const snapshot = new Map<number, PeerInfo>(run.result.peersWhileConnected.map((p) => [p.id, p]));
  const peers = new Map<number, { addr: string; conn_type: string }>();
  for (const connection of log.connections) {
    const info = snapshot.get(connection.peer_id);
    if (info) assert.equal(info.addr, connection.addr, `peer=${connection.peer_id}: getpeerinfo addr vs debug.log`);
    assert.ok(info || connection.direction === 'inbound', `outbound peer=${connection.peer_id} is missing from getpeerinfo`);
    peers.set(connection.peer_id, { addr: connection.addr, conn_type: info ? info.connection_type : 'inbound' });
  }
  assert.deepEqual([...snapshot.keys()].filter((id) => !peers.has(id)), [], 'every getpeerinfo peer has connection lines in debug.log');
  return peers;
}

/** Each event's peer address and connection type are those of the peer's connection line in debug.log. */
function assertPeersAsLogged(observed: Observed, events: readonly ToolEvent[]): void {
  const peers = peerIdentities(observed);
  for (const event of events) {
    const peer = peers.get(Number(event.peer_id));
    assert.ok(peer, `peer ${String(event.peer_id)} has no connection line in debug.log`);
    assert.equal(event.peer_addr, peer.addr, `peer ${String(event.peer_id)}: address`);
    assert.equal(event.conn_type, peer.conn_type, `peer ${String(event.peer_id)}: connection type`);
  }
}

function assertMessagesEqualLog(observed: Observed, events: readonly ToolEvent[]): void {
  const { log } = observed;
  assert.ok(log.messages.length > 300, `debug.log lists ${log.messages.length} messages: the workload should make hundreds`);
  assert.deepEqual(messagesByPeer(loggedMessagesOf(events)), messagesByPeer(log.messages), 'messages per peer and direction, in order');
  assertPeersAsLogged(observed, events);
  const fired = lastFired(observed.run);
  assert.equal(fired['net:inbound_message'], log.messages.filter((m) => m.direction === 'inbound').length, 'fired inbound');
  assert.equal(fired['net:outbound_message'], log.messages.filter((m) => m.direction === 'outbound').length, 'fired outbound');
}

export function checkP2pTraffic(observed: Observed): void {
  assertMessagesEqualLog(observed, eventsOf(observed.run, 'net:inbound_message', 'net:outbound_message'));
}

interface Totals {
  msgs_in: number;
  bytes_in: number;
  msgs_out: number;
  bytes_out: number;
}

function sumTotals(messages: readonly LoggedMessage[], key: (m: LoggedMessage) => string): Record<string, Totals> {
  const totals: Record<string, Totals> = {};
  for (const m of messages) {
    const t = (totals[key(m)] ??= { msgs_in: 0, bytes_in: 0, msgs_out: 0, bytes_out: 0 });
    if (m.direction === 'inbound') {
      t.msgs_in++;
      t.bytes_in += m.msg_size;
    } else {
      t.msgs_out++;
      t.bytes_out += m.msg_size;
    }
  }
  return totals;
}

/** A p2p-monitor entry without the `pid` it carries (compared separately). */
function withoutPid<T extends object>({ pid: _pid, ...rest }: T & { pid?: number }): Omit<T, 'pid'> {
  return rest;
}

export function checkP2pMonitor(observed: Observed): void {
  const { run, log } = observed;
  const peerTotals = eventsOf(run, 'p2p:peer_totals').pop() as (ToolEvent & { peers: (Totals & { peer_id: number; peer_addr: string; conn_type: string })[] }) | undefined;
  const typeTotals = eventsOf(run, 'p2p:msg_type_totals').pop() as (ToolEvent & { types: (Totals & { msg_type: string })[] }) | undefined;
  assert.ok(peerTotals && typeTotals, 'p2p:peer_totals and p2p:msg_type_totals events');
  const peers = peerIdentities(observed);
  const wantPeers = sumTotals(log.messages, (m) => String(m.peer_id));
  const gotPeers: Record<string, Totals> = {};
  // One traced process (a PID session): every entry names it; the totals are compared without it.
  const pids = new Set([...peerTotals.peers, ...typeTotals.types].map((entry) => (entry as { pid?: number }).pid));
  assert.equal(pids.size, 1, `one process in the totals (${[...pids].join(', ')})`);
  for (const { peer_id, peer_addr, conn_type, ...totals } of peerTotals.peers.map(withoutPid)) {
    gotPeers[String(peer_id)] = totals;
    const peer = peers.get(Number(peer_id));
    assert.deepEqual({ peer_addr, conn_type }, { peer_addr: peer?.addr, conn_type: peer?.conn_type }, `peer ${peer_id}: address and connection type`);
  }
  assert.deepEqual(gotPeers, wantPeers, 'per-peer messages and bytes in and out');
  const gotTypes: Record<string, Totals> = {};
  for (const { msg_type, ...totals } of typeTotals.types.map(withoutPid)) gotTypes[msg_type] = totals;
  assert.deepEqual(gotTypes, sumTotals(log.messages, (m) => m.msg_type), 'per-type messages and bytes in and out');
}

function doubleSha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(createHash('sha256').update(bytes).digest()).digest();
}

/** The hex of every block of `node`'s chain, by block hash. */
async function blockHexes(node: RegtestNode): Promise<Map<string, string>> {
  const height = await node.rpc<number>('getblockcount');
  const hashes = await node.rpcBatch<string>(Array.from({ length: height + 1 }, (_, h) => ({ method: 'getblockhash', params: [h] })));
  const hexes = await node.rpcBatch<string>(hashes.map((hash) => ({ method: 'getblock', params: [hash, 0] })));
  return new Map(hashes.map((hash, index) => [hash, hexes[index]]));
}

/**
 * raw-p2p-msgs: the messages equal debug.log as for p2p-traffic, each whole (captured = size), and the bytes
 * are the node's own where they can be known: every `block` is the serialized block `getblock <hash> 0` gives
 * for the hash of its first 80 bytes, every `tx` is one of the workload's transactions as the wallet serialized
 * it, every `pong` echoes a `ping` that came the other way on that connection, and the framework's peers' pings
 * carry the nonces their P2PInterface sends (0, then 1, 2, …).
 */
export async function checkRawMessages(observed: Observed): Promise<void> {
  const { run } = observed;
  const events = eventsOf(run, 'net:inbound_message', 'net:outbound_message');
  assertMessagesEqualLog(observed, events);
  for (const e of events) {
    assert.equal(e.captured, Number(e.msg_size), `${e.msg_type} of peer ${String(e.peer_id)} whole`);
    assert.equal(String(e.msg).length, Number(e.msg_size) * 2);
  }
  const node = run.result.node;
  const blocks = await blockHexes(node);
  const blockEvents = events.filter((e) => e.msg_type === 'block');
  assert.ok(blockEvents.length >= run.result.startHeight, `${blockEvents.length} block messages: the peer downloads the chain`);
  for (const e of blockEvents) {
    const bytes = Buffer.from(String(e.msg), 'hex');
    const hash = Buffer.from(doubleSha256(bytes.subarray(0, 80))).reverse().toString('hex');
    assert.equal(e.msg, blocks.get(hash), `block ${hash} (peer ${String(e.peer_id)}): the message is the block getblock serializes`);
  }
  const txHexes = new Set<string>();
  for (const txid of [...run.result.sends.map((s) => s.txid), run.result.bumped.origTxid, run.result.bumped.txid]) {
    txHexes.add((await node.walletRpc<{ hex: string }>(WALLET, 'gettransaction', txid)).hex);
  }
  const txEvents = events.filter((e) => e.msg_type === 'tx');
  assert.ok(txEvents.length > 0, 'the node relays the workload’s transactions');
  for (const e of txEvents) assert.ok(txHexes.has(String(e.msg)), `tx message to/from peer ${String(e.peer_id)} is one of the wallet’s transactions`);

  const pings = new Map<string, Set<string>>();
  let pongs = 0;
  for (const e of events) {
    if (e.msg_type === 'ping') {
      const key = `${String(e.peer_id)} ${direction(e)}`;
      if (!pings.has(key)) pings.set(key, new Set());
      pings.get(key)?.add(String(e.msg));
    } else if (e.msg_type === 'pong') {
      const other = `${String(e.peer_id)} ${direction(e) === 'inbound' ? 'outbound' : 'inbound'}`;
      assert.ok(pings.get(other)?.has(String(e.msg)), `pong ${String(e.msg)} (peer ${String(e.peer_id)}, ${direction(e)}) echoes an earlier ping`);
      pongs++;
    }
  }
  assert.ok(pongs > 0, 'pongs were checked');
  const peers = peerIdentities(observed);
  const frameworkAddrs = new Map([...run.result.misbehaving.peers, ...run.result.eviction.peers].map((p) => [p.local, p.pings_sent]));
  for (const e of events.filter((m) => m.msg_type === 'ping' && direction(m) === 'inbound')) {
    const sent = frameworkAddrs.get(peers.get(Number(e.peer_id))?.addr ?? '');
    if (sent === undefined) continue;
    const nonce = Buffer.from(String(e.msg), 'hex').readBigUInt64LE(0);
    assert.ok(nonce <= BigInt(sent), `framework peer ${String(e.peer_id)} sent ping nonce ${nonce} (it sends 0..${sent})`);
  }
}

// ---------------------------------------------------------------- connections (v29+)

const NETWORKS: Record<string, number> = { not_publicly_routable: 0, ipv4: 1, ipv6: 2, onion: 3, i2p: 4, cjdns: 5 };

/**
 * p2p-connections (v29+): every connection opened (debug.log "Added connection to …", inbound when followed by
 * "connection from … accepted") with address, type (getpeerinfo), network (getpeerinfo: localhost is
 * unroutable) and the open count replayed from debug.log; evictions, misbehaviour (with the reason) and closes
 * as debug.log lists them. `time_established` equals getpeerinfo's conntime where the peer was listed, else it
 * lies within the second before the log line of its connection (the framework's short-lived peers).
 */
export function checkConnections(observed: Observed): void {
  const { run, log } = observed;
  const peers = peerIdentities(observed);
  const snapshot = new Map(run.result.peersWhileConnected.map((p) => [p.id, p]));
  for (const p of snapshot.values()) assert.equal(NETWORKS[p.network], 0, `getpeerinfo network of peer ${p.id}: localhost is unroutable`);

  // Opened: exactly debug.log's connections, with the open count replayed from debug.log.
  const opened = eventsOf(run, 'net:inbound_connection', 'net:outbound_connection');
  const open = { inbound: 0, outbound: 0 };
  const expectedOpened = log.timeline.flatMap((entry) => {
    if (entry.kind === 'close') {
      open[entry.direction]--;
      return [];
    }
    open[entry.direction]++;
    const peer = peers.get(entry.peer_id);
    return [
      {
        event: `net:${entry.direction}_connection`,
        peer_id: entry.peer_id,
        peer_addr: peer?.addr,
        conn_type: peer?.conn_type,
        network: 0,
        network_name: 'unroutable',
        existing: open[entry.direction],
      },
    ];
  });
  assert.deepEqual(opened.map(withoutElapsed), expectedOpened, 'opened connections');

  // Established times: getpeerinfo's conntime where the peer is listed, else the second debug.log logged it in.
  const established = (id: number, value: unknown): void => {
    const info = snapshot.get(id);
    if (info) {
      assert.equal(value, info.conntime, `peer ${id}: time_established vs getpeerinfo conntime`);
      return;
    }
    const second = log.connections.find((c) => c.peer_id === id)?.second;
    assert.ok(second !== undefined && Number(value) <= second && Number(value) >= second - 1, `peer ${id}: time_established ${String(value)} vs logged at ${second}`);
  };
  const closedShape = (e: ToolEvent, id: number): void => {
    assert.equal(e.peer_addr, peers.get(id)?.addr, `peer ${id}: address`);
    assert.equal(e.conn_type, peers.get(id)?.conn_type, `peer ${id}: connection type`);
    assert.equal(e.network, 0);
    established(id, e.time_established);
  };

  const evicted = eventsOf(run, 'net:evicted_inbound_connection');
  assert.deepEqual(evicted.map((e) => Number(e.peer_id)), log.evicted, 'evicted peers (debug.log "selected … for eviction")');
  assert.ok(log.evicted.length > 0, 'the workload provoked an eviction');
  assert.deepEqual(log.evicted.map((id) => peers.get(id)?.addr).sort(), [...run.result.eviction.dropped].sort(), 'the evicted peers are the framework peers the node dropped');
  for (const e of evicted) closedShape(e, Number(e.peer_id));

  const misbehaving = eventsOf(run, 'net:misbehaving_connection');
  assert.deepEqual(misbehaving.map((e) => ({ peer_id: Number(e.peer_id), message: e.message })), log.misbehaving, 'misbehaving peers and reasons (debug.log "Misbehaving: peer=N: …")');
  assert.deepEqual(log.misbehaving.map((m) => m.message), ['headers message size = 2001']);

  const closed = eventsOf(run, 'net:closed_connection');
  assert.deepEqual(closed.map((e) => Number(e.peer_id)).sort((a, b) => a - b), [...log.closed].sort((a, b) => a - b), 'closed connections (debug.log "Resetting socket")');
  assert.deepEqual([...log.closed].sort((a, b) => a - b), [...peers.keys()].sort((a, b) => a - b), 'every connection was closed within the session');
  for (const e of closed) closedShape(e, Number(e.peer_id));

  const fired = lastFired(run);
  assert.equal(fired['net:closed_connection'], log.closed.length);
  assert.equal(fired['net:evicted_inbound_connection'], log.evicted.length);
}

// ---------------------------------------------------------------- blocks and coins

interface VerboseBlock {
  hash: string;
  height: number;
  nTx: number;
  tx: {
    txid: string;
    vin: { coinbase?: string; txid?: string; vout?: number; prevout?: { generated: boolean; height: number; value: number; scriptPubKey: { type: string } } }[];
    vout: { n: number; value: number; scriptPubKey: { type: string } }[];
  }[];
}

async function minedBlocks(observed: Observed): Promise<VerboseBlock[]> {
  const node = observed.run.result.node;
  return Promise.all(observed.run.result.minedBlocks.map((hash) => node.rpc<VerboseBlock>('getblock', hash, 3)));
}

/** Legacy sigops ×4 plus witness sigops, for the script types the workload's wallet makes (fails on any other). */
function sigopCost(block: VerboseBlock): number {
  const legacyOutput: Record<string, number> = { witness_v0_keyhash: 0, witness_v1_taproot: 0, nulldata: 0, scripthash: 0, pubkeyhash: 1 };
  let cost = 0;
  for (const tx of block.tx) {
    for (const output of tx.vout) {
      const legacy = legacyOutput[output.scriptPubKey.type];
      assert.ok(legacy !== undefined, `sigops of a ${output.scriptPubKey.type} output are not modelled`);
      cost += 4 * legacy;
    }
    for (const input of tx.vin) {
      if (input.coinbase !== undefined) continue;
      const type = input.prevout?.scriptPubKey.type;
      assert.ok(type === 'witness_v0_keyhash' || type === 'witness_v1_taproot', `sigops of spending a ${type} output are not modelled`);
      if (type === 'witness_v0_keyhash') cost += 1;
    }
  }
  return cost;
}

/**
 * connectblock-benchmark: hash, height, transactions, inputs (the coinbase's included) and sigop cost of every
 * block the workload mined, from getblock. Not exact: `duration_ns` (no RPC reports ConnectBlock's own time;
 * -debug=bench logs other spans in ms), so it is only checked to be positive. Blocks of generatetoaddress's
 * TestBlockValidity run ConnectBlock with fJustCheck, which returns before the tracepoint: none are expected.
 */
export async function checkBenchmark(observed: Observed): Promise<void> {
  const { run } = observed;
  const blocks = await minedBlocks(observed);
  const got = eventsOf(run, 'validation:block_connected').map((e) => ({
    block_hash: e.block_hash,
    height: e.height,
    transactions: Number(e.transactions),
    inputs: e.inputs,
    sigops: Number(e.sigops),
  }));
  const want = blocks.map((b) => ({
    block_hash: b.hash,
    height: b.height,
    transactions: b.nTx,
    inputs: b.tx.reduce((n, tx) => n + tx.vin.length, 0),
    sigops: sigopCost(b),
  }));
  assert.deepEqual(got, want, 'connected blocks vs getblock');
  for (const e of eventsOf(run, 'validation:block_connected')) assert.ok(Number(e.duration_ns) > 0, 'a connect time');
  const summary = eventsOf(run, 'validation:connect_summary').pop() as (ToolEvent & { totals: Record<string, unknown> }) | undefined;
  assert.ok(summary, 'a connect summary');
  assert.equal(Number(summary.totals.blocks), want.length);
  assert.equal(Number(summary.totals.transactions), want.reduce((n, b) => n + b.transactions, 0));
  assert.equal(Number(summary.totals.inputs), want.reduce((n, b) => n + b.inputs, 0));
  assert.equal(Number(summary.totals.sigops), want.reduce((n, b) => n + b.sigops, 0));
}

/** FlushStateMode as bitcoind logs it → the tracepoint's number (v31 renamed ALWAYS to FORCE_FLUSH and added FORCE_SYNC). */
const FLUSH_MODES: Record<string, number> = { NONE: 0, IF_NEEDED: 1, PERIODIC: 2, ALWAYS: 3, FORCE_FLUSH: 3, FORCE_SYNC: 4 };

/**
 * utxocache-flush: one event per coins-database commit (txdb.cpp logs each), with the mode and prune flag that
 * validation.cpp logs (master). Not exact: `coins_count` and `coins_mem_usage` are the cache's size before the
 * flush, which no RPC or log line states (gettxoutsetinfo counts the whole UTXO set); `coins_count` is checked
 * against the number of cache entries the commit walked (a lower bound), `duration_us` only for sign.
 */
export function checkFlushes(observed: Observed): void {
  const { run, log } = observed;
  const flushes = eventsOf(run, 'utxocache:flush');
  assert.ok(log.committedOutOf.length > 0, 'the workload flushed the chainstate (gettxoutsetinfo)');
  // Each full flush commits one batch to the coins database (txdb.cpp logs it), where the tracepoint fires.
  assert.equal(flushes.length, log.committedOutOf.length, 'one flush event per "Committed … to coin database"');
  if (observed.build.label === 'master') {
    assert.deepEqual(
      flushes.map((e) => ({ mode: e.mode, is_flush_for_prune: e.is_flush_for_prune })),
      log.flushes.map((f) => ({ mode: FLUSH_MODES[f.mode], is_flush_for_prune: f.prune })),
      'flushes vs debug.log "Writing chainstate to disk: flush mode=…, prune=…"',
    );
  } else {
    // Before 2025 bitcoind does not log the mode; the workload's one flush is gettxoutsetinfo's
    // ForceFlushStateToDisk(), FlushStateMode::ALWAYS (3), and nothing is pruned.
    assert.deepEqual(flushes.map((e) => ({ mode: e.mode, mode_name: e.mode_name, is_flush_for_prune: e.is_flush_for_prune })), log.committedOutOf.map(() => ({ mode: 3, mode_name: 'ALWAYS', is_flush_for_prune: false })));
  }
  flushes.forEach((e, index) => {
    // The coins database walks only the cache's flagged entries, so the cache held at least that many coins.
    assert.ok(Number(e.coins_count) >= log.committedOutOf[index], `flush ${index}: coins_count ${String(e.coins_count)} >= committed ${log.committedOutOf[index]}`);
    assert.ok(Number(e.coins_mem_usage) > 0 && Number(e.duration_us) >= 0);
    // The workload's flushes are gettxoutsetinfo's: the RPC runs on one of bitcoind's HTTP worker threads
    // (`b-httpworker.N` on the 28.99 node, `b-http.NN` on master).
    assert.match(String(e.thread), /^b-http(worker)?\.\d+$/, `flush ${index} (mode ${e.mode}, thread ${String(e.thread)}): the thread that ran gettxoutsetinfo`);
  });
  assert.equal(lastFired(run)['utxocache:flush'], log.committedOutOf.length);
}

interface Coin {
  value: string;
  height: number;
  is_coinbase: boolean;
}

/**
 * utxos: every coin the mined blocks add and spend appears with its exact value, height and coinbase flag
 * (getblock verbosity 3). The tracepoints also fire for temporary cache views (block templates, -checkmempool
 * with MEMPOOL_HEIGHT), so there are more events than block coins: each of those must be a real coin of the
 * chain or the wallet, with the exact value and coinbase flag.
 */
export async function checkUtxos(observed: Observed): Promise<void> {
  const { run } = observed;
  const node = run.result.node;
  const coin = (e: ToolEvent): Coin => ({ value: String(e.value), height: Number(e.height), is_coinbase: Boolean(e.is_coinbase) });
  const byOutpoint = (kinds: string): Map<string, Coin[]> => {
    const map = new Map<string, Coin[]>();
    for (const e of eventsOf(run, kinds)) {
      assert.equal(e.outpoint, `${String(e.txid)}:${String(e.index)}`);
      map.set(String(e.outpoint), [...(map.get(String(e.outpoint)) ?? []), coin(e)]);
    }
    return map;
  };
  const added = byOutpoint('utxocache:add');
  const spent = byOutpoint('utxocache:spent');

  // Every coin the mined blocks create and spend, exactly (blocks also connect on temporary views: at least once).
  const outputs = new Map<string, { value: string; is_coinbase: boolean }>();
  for (const block of await minedBlocks(observed)) {
    for (const tx of block.tx) {
      const coinbase = tx.vin[0].coinbase !== undefined;
      for (const output of tx.vout) {
        const outpoint = `${tx.txid}:${output.n}`;
        outputs.set(outpoint, { value: String(sats(output.value)), is_coinbase: coinbase });
        if (output.scriptPubKey.type === 'nulldata') continue; // never added: unspendable
        const atHeight = added.get(outpoint)?.filter((c) => c.height === block.height) ?? [];
        assert.ok(atHeight.length > 0, `add ${outpoint} at height ${block.height}`);
        for (const c of atHeight) assert.deepEqual(c, { value: String(sats(output.value)), height: block.height, is_coinbase: coinbase }, `add ${outpoint}`);
      }
      for (const input of tx.vin) {
        if (input.coinbase !== undefined || !input.prevout) continue;
        const outpoint = `${input.txid}:${input.vout}`;
        const want = { value: String(sats(input.prevout.value)), height: input.prevout.height, is_coinbase: input.prevout.generated };
        assert.ok(spent.get(outpoint)?.some((c) => c.height === want.height && c.value === want.value && c.is_coinbase === want.is_coinbase), `spent ${outpoint} ${JSON.stringify(want)}`);
      }
    }
  }
  // Every other event is a coin of the workload's mempool transactions (height MEMPOOL_HEIGHT) or an existing coin.
  for (const txid of [...run.result.sends.map((s) => s.txid), run.result.bumped.origTxid, run.result.bumped.txid]) {
    const tx = await node.rpc<VerboseBlock['tx'][number]>('decoderawtransaction', (await node.walletRpc<{ hex: string }>(WALLET, 'gettransaction', txid)).hex);
    for (const output of tx.vout) outputs.set(`${txid}:${output.n}`, { value: String(sats(output.value)), is_coinbase: false });
  }
  for (const [kind, map] of [['add', added], ['spent', spent], ['uncache', byOutpoint('utxocache:uncache')]] as const) {
    for (const [outpoint, coins] of map) {
      let known = outputs.get(outpoint);
      if (!known) {
        const [txid, index] = outpoint.split(':');
        const tx = await node.walletRpc<{ hex: string; blockheight?: number }>(WALLET, 'gettransaction', txid).catch(() => undefined);
        assert.ok(tx, `${kind} ${outpoint}: not a coin of the chain or the wallet`);
        const decoded = await node.rpc<VerboseBlock['tx'][number]>('decoderawtransaction', tx.hex);
        known = { value: String(sats(decoded.vout[Number(index)].value)), is_coinbase: decoded.vin[0].coinbase !== undefined };
        outputs.set(outpoint, known);
      }
      for (const c of coins) {
        assert.deepEqual({ value: c.value, is_coinbase: c.is_coinbase }, known, `${kind} ${outpoint}: value and coinbase flag`);
      }
    }
  }
  const ops = eventsOf(run, 'utxocache:ops').pop() as (ToolEvent & { counts: Record<string, number> }) | undefined;
  assert.ok(ops, 'utxocache:ops');
  const delivered = (kind: string): number => eventsOf(run, `utxocache:${kind}`).length;
  assert.deepEqual(ops.counts, { add: delivered('add'), spent: delivered('spent'), uncache: delivered('uncache') }, 'kernel counts = streamed coins');
}

// ---------------------------------------------------------------- wallet and mempool

/**
 * coin-selection: for every transaction the wallet built (three sends, the bumped one, its replacement), the fee
 * and change position equal gettransaction's, and the selected value equals the sum of its inputs. Not exact:
 * `target` and `waste` are internal to the selection algorithms (no RPC reports them); target is checked to lie
 * in (0, selected value].
 */
export function checkCoinSelection(observed: Observed): void {
  const { run } = observed;
  const events = eventsOf(run, 'coin_selection:selected_coins', 'coin_selection:normal_create_tx_internal', 'coin_selection:attempting_aps_create_tx', 'coin_selection:aps_create_tx_internal');
  for (const e of events) assert.equal(e.wallet_name, WALLET);
  // One attempt per transaction the wallet built: [selected_coins, normal_create_tx_internal, (attempting_aps, selected_coins, aps_create_tx_internal)].
  const attempts: { selected: ToolEvent[]; normal: ToolEvent; aps?: ToolEvent }[] = [];
  let selected: ToolEvent[] = [];
  for (const e of events) {
    if (e.event === 'coin_selection:selected_coins') selected.push(e);
    else if (e.event === 'coin_selection:normal_create_tx_internal') {
      attempts.push({ selected, normal: e });
      selected = [];
    } else if (e.event === 'coin_selection:aps_create_tx_internal') {
      const last = attempts[attempts.length - 1];
      last.aps = e;
      last.selected.push(...selected);
      selected = [];
    }
  }
  const wallet = [...run.result.sends, run.result.bumped.original, run.result.bumped.replacement];
  assert.equal(attempts.length, wallet.length, `one coin selection per transaction the wallet built (${wallet.length}): ${JSON.stringify(events)}`);
  attempts.forEach((attempt, index) => {
    const want = wallet[index];
    const used = attempt.aps && attempt.aps.use_aps ? attempt.aps : attempt.normal;
    assert.equal(attempt.normal.success, true);
    assert.deepEqual({ fee: String(used.fee), change_pos: used.change_pos }, { fee: String(want.fee), change_pos: want.changePos }, `transaction ${index} (${want.txid}): fee and change position`);
    const chosen = attempt.aps && attempt.aps.use_aps ? attempt.selected[attempt.selected.length - 1] : attempt.selected[0];
    assert.ok(chosen, `transaction ${index}: a selected_coins event`);
    assert.equal(String(chosen.selected_value), String(want.inputsValue), `transaction ${index}: selected value = the inputs' value`);
    assert.ok(Number(chosen.target) > 0 && Number(chosen.target) <= Number(want.inputsValue));
  });
}

/**
 * mempool-monitor: added (txid, vsize, fee) = getmempoolentry right after each send; replaced = bumpfee's
 * original and replacement with their entries (and replaced_by_transaction on master); removed = the replaced
 * one, then the first block's transactions in block order; rejected = the fee-less transaction's txid and the
 * reason sendrawtransaction's error starts with. mempool-events (bpftrace, arguments 0–5) reads the same but the
 * replacement's fee and replaced_by_transaction (`checkMempoolEvents`).
 */
export async function checkMempool(observed: Observed, readsEveryReplacedArgument = true): Promise<void> {
  const { run } = observed;
  const r = run.result;
  const entry = (txid: string): { vsize: number; fee: string; entry_time: number } => {
    const e = r.mempoolEntries.get(txid);
    assert.ok(e, `getmempoolentry ${txid}`);
    return { vsize: e.vsize, fee: String(sats(e.fees.base)), entry_time: e.time };
  };
  const strip = (e: ToolEvent): Record<string, unknown> =>
    Object.fromEntries(Object.entries(withoutElapsed(e)).map(([k, v]) => [k, typeof v === 'number' && /fee/.test(k) ? String(v) : v]));
  const added = eventsOf(run, 'mempool:added').map(strip);
  const workloadTxids = [...r.sends.map((s) => s.txid), r.bumped.origTxid, r.bumped.txid];
  assert.deepEqual(added, workloadTxids.map((txid) => ({ event: 'mempool:added', txid, vsize: entry(txid).vsize, fee: entry(txid).fee })), 'added vs getmempoolentry');

  const orig = entry(r.bumped.origTxid);
  const replacement = entry(r.bumped.txid);
  assert.equal(orig.fee, String(r.bumped.origFee));
  assert.equal(replacement.fee, String(r.bumped.fee));
  const replaced = eventsOf(run, 'mempool:replaced').map(strip);
  assert.deepEqual(replaced, [
    {
      event: 'mempool:replaced',
      replaced_txid: r.bumped.origTxid,
      replaced_vsize: orig.vsize,
      replaced_fee: orig.fee,
      replaced_entry_time: orig.entry_time,
      replacement_id: r.bumped.txid,
      replacement_vsize: replacement.vsize,
      ...(readsEveryReplacedArgument
        ? {
            replacement_fee: replacement.fee,
            // The older node passes 7 arguments: no replaced_by_transaction, which the tool reports as null.
            replaced_by_transaction: observed.build.label === 'master' ? true : null,
          }
        : {}),
    },
  ], 'replaced vs bumpfee and getmempoolentry');

  const removed = eventsOf(run, 'mempool:removed').map(strip);
  // A block removes its transactions in the block's order.
  const blockTxids = (await r.node.rpc<{ tx: string[] }>('getblock', r.minedBlocks[0], 1)).tx.slice(1);
  assert.deepEqual([...blockTxids].sort(), [...r.sends.map((s) => s.txid), r.bumped.txid].sort(), 'the first block confirms the workload’s transactions');
  assert.deepEqual(
    removed,
    [
      { event: 'mempool:removed', txid: r.bumped.origTxid, reason: 'replaced', ...orig },
      ...blockTxids.map((txid) => ({ event: 'mempool:removed', txid, reason: 'block', ...entry(txid) })),
    ].map((e) => ({ event: e.event, txid: e.txid, reason: e.reason, vsize: e.vsize, fee: e.fee, entry_time: e.entry_time })),
    'removed: the bumped transaction (replaced), then the block’s',
  );

  const rejected = eventsOf(run, 'mempool:rejected').map(strip);
  const ours = rejected.filter((e) => e.txid === r.rejected.txid);
  assert.equal(ours.length, 1, `the workload's transaction ${r.rejected.txid} rejected once: ${JSON.stringify(rejected)}`);
  // Once in about ten runs the node rejected a second transaction (the cause is not known yet: a peer's relay?).
  // It must not be one the workload's block confirmed; it is printed for whoever looks next.
  const accepted = new Set(blockTxids);
  for (const other of rejected.filter((e) => e.txid !== r.rejected.txid)) {
    assert.ok(!accepted.has(String(other.txid)), `an accepted transaction of the workload was rejected: ${JSON.stringify(other)}`);
    console.log(`      another rejection on the node: ${JSON.stringify(other)}`);
  }
  // bitcoin-cli prints the reject reason, then ", " and the details.
  const message = r.rejected.error.split('\n').slice(-1)[0];
  assert.ok(message === ours[0].reason || message.startsWith(`${String(ours[0].reason)}, `), `reason ${String(ours[0].reason)} vs the RPC error ${message}`);
}

/** mempool-events: as mempool-monitor, without what bpftrace 0.17 cannot read (arguments 6 and 7 of mempool:replaced). */
export function checkMempoolEvents(observed: Observed): Promise<void> {
  return checkMempool(observed, false);
}

export type { PeerInfo };

// ---------------------------------------------------------------- trace-tracepoint (Trace this tracepoint)

/** The hits of a trace-tracepoint session, each argument's value by index. */
function traceHits(observed: Observed, tracepoint: string): unknown[][] {
  const spec = eventsOf(observed.run, 'tracepoint:spec')[0];
  assert.equal(spec?.tracepoint, tracepoint, 'the session traced the tracepoint asked for');
  const hits = eventsOf(observed.run, 'tracepoint:hit');
  for (const hit of hits) assert.equal(hit.tracepoint, tracepoint);
  const fired = lastFired(observed.run)[tracepoint];
  assert.equal(hits.length, fired, 'every hit the kernel counted was delivered');
  return hits.map((hit) => hit.args as unknown[]);
}

/** validation:block_connected read as hash,s32,u64,s32,s64,s64: hash, height, transactions, inputs, sigops vs getblock. */
export async function checkTracedBlocks(observed: Observed): Promise<void> {
  const blocks = await minedBlocks(observed);
  const got = traceHits(observed, 'validation:block_connected').map(([hash, height, transactions, inputs, sigops, duration]) => {
    assert.ok(Number(duration) > 0, 'a connect time');
    return { hash, height, transactions: Number(transactions), inputs, sigops: Number(sigops) };
  });
  const want = blocks.map((b) => ({ hash: b.hash, height: b.height, transactions: b.nTx, inputs: b.tx.reduce((n, tx) => n + tx.vin.length, 0), sigops: sigopCost(b) }));
  assert.ok(want.length > 0, 'the workload mined blocks');
  assert.deepEqual(got, want, 'traced block_connected hits vs getblock');
}

/** net:outbound_message read as s64,str71,str71,str71,u64,-: every message sent, in order per peer, vs debug.log. */
export function checkTracedOutboundMessages(observed: Observed): void {
  const { log } = observed;
  const events = traceHits(observed, 'net:outbound_message').map(([peerId, addr, connType, msgType, size, msg]) => {
    assert.equal(msg, null, 'the message bytes were not read');
    return { event: 'net:outbound_message', peer_id: peerId, peer_addr: addr, conn_type: connType, msg_type: msgType, msg_size: size } as ToolEvent;
  });
  const sent = log.messages.filter((m) => m.direction === 'outbound');
  assert.ok(sent.length > 100, `debug.log lists ${sent.length} messages sent`);
  assert.deepEqual(messagesByPeer(loggedMessagesOf(events)), messagesByPeer(sent), 'messages sent per peer, in order');
  assertPeersAsLogged(observed, events);
}
