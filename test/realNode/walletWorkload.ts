// The workload every real-node tool test runs while its probe is attached: two regtest nodes, a wallet on the
// traced node (`node`), blocks, sends, a fee bump (a replacement), a rejected transaction, connections opened
// and closed both ways, a chainstate flush (gettxoutsetinfo), and peers of the functional test framework that
// misbehave and get evicted. It returns what the node and its wallet said, the ground truth the tests compare
// the tools' events with.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { RegtestNetwork, RegtestNode, RpcError, waitFor, type PeerInfo } from './regtestNetwork';
import type { RealNodeBuild } from './realNodeEnv';

export const WALLET = 'usdt-test';
/** Enough mature coinbases for the sends (101 + 9). */
const SETUP_BLOCKS = 110;
/** -maxconnections for the traced node: 21 tx-relay inbound slots on master (as upstream's interface_usdt_net.py). */
export const MAX_CONNECTIONS = 53;
/** Framework peers the eviction step connects: two more than the master node's inbound slots. */
export const EVICTION_PEERS = 23;

export interface SendResult {
  txid: string;
  /** Satoshis (the wallet's `gettransaction` fee, made positive). */
  fee: bigint;
  /** Index of the change output, −1 without change. */
  changePos: number;
  /** Sum of the inputs' values, satoshis. */
  inputsValue: bigint;
  vsize: number;
}

export interface FrameworkPeers {
  peers: { local: string; pings_sent: number }[];
  dropped: string[];
}

export interface WorkloadResult {
  node: RegtestNode;
  peer: RegtestNode;
  /** Height before the workload's blocks. */
  startHeight: number;
  /** Hashes of the blocks the workload mined on `node`, in order. */
  minedBlocks: string[];
  /** The plain sends (sendtoaddress), then the transaction bumpfee replaced and its replacement. */
  sends: SendResult[];
  bumped: { origTxid: string; txid: string; origFee: bigint; fee: bigint; original: SendResult; replacement: SendResult };
  rejected: { txid: string; error: string };
  /** getpeerinfo of `node` while both connections between the nodes were open. */
  peersWhileConnected: PeerInfo[];
  misbehaving: FrameworkPeers;
  eviction: FrameworkPeers;
  /** The mempool entries (getmempoolentry) of every transaction the workload added, by txid, taken right after adding it. */
  mempoolEntries: Map<string, { vsize: number; fees: { base: number }; time: number }>;
}

export function sats(btc: number | string): bigint {
  const [whole, fraction = ''] = String(btc).replace(/^-/, '').split('.');
  const value = BigInt(whole) * 100_000_000n + BigInt((fraction + '00000000').slice(0, 8));
  return String(btc).startsWith('-') ? -value : value;
}

interface DecodedTx {
  txid: string;
  vsize: number;
  vin: { txid?: string; vout?: number; coinbase?: string }[];
  vout: { value: number; n: number; scriptPubKey: { address?: string; type: string } }[];
}

/**
 * A stopped node's datadir with the wallet and a chain of SETUP_BLOCKS blocks that pay it (mining them takes
 * ~15 s, so each test starts from a copy). The caller deletes it.
 */
export async function makeWalletTemplate(build: RealNodeBuild): Promise<string> {
  const node = await RegtestNode.start(build, `${build.label}-template`);
  try {
    await node.rpc('createwallet', WALLET);
    const address = await node.walletRpc<string>(WALLET, 'getnewaddress');
    await node.rpc('generatetoaddress', SETUP_BLOCKS, address);
  } catch (error) {
    await node.stop();
    throw error;
  }
  await node.stop({ keepDatadir: true });
  return node.datadir;
}

/** Starts the two nodes of a test: `node` from a copy of the wallet template, `peer` empty; nothing is connected yet. */
export async function startNetwork(network: RegtestNetwork, build: RealNodeBuild, template: string): Promise<{ node: RegtestNode; peer: RegtestNode }> {
  const [node, peer] = await Promise.all([
    network.start(build, 1, [`-maxconnections=${MAX_CONNECTIONS}`, `-wallet=${WALLET}`], template).then((nodes) => nodes[0]),
    network.start(build, 1).then((nodes) => nodes[0]),
  ]);
  return { node, peer };
}

async function sendResult(node: RegtestNode, txid: string): Promise<SendResult> {
  const tx = await node.walletRpc<{ fee: number; hex: string }>(WALLET, 'gettransaction', txid);
  const decoded = await node.rpc<DecodedTx>('decoderawtransaction', tx.hex);
  let changePos = -1;
  for (const output of decoded.vout) {
    if (!output.scriptPubKey.address) continue;
    const info = await node.walletRpc<{ ischange: boolean }>(WALLET, 'getaddressinfo', output.scriptPubKey.address);
    if (info.ischange) changePos = output.n;
  }
  let inputsValue = 0n;
  for (const input of decoded.vin) {
    const prevHex = (await node.walletRpc<{ hex: string }>(WALLET, 'gettransaction', input.txid as string)).hex;
    const prev = await node.rpc<DecodedTx>('decoderawtransaction', prevHex);
    inputsValue += sats(prev.vout[input.vout as number].value);
  }
  return { txid, fee: -sats(tx.fee), changePos, inputsValue, vsize: decoded.vsize };
}

function runFrameworkPeers(source: string, port: number, args: readonly string[]): Promise<FrameworkPeers> {
  return new Promise((resolvePromise, reject) => {
    execFile('python3', [join(__dirname, 'p2pPeers.py'), '--source', source, '--port', String(port), ...args], { timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`p2pPeers.py ${args.join(' ')} failed: ${stderr || error.message}`));
      resolvePromise(JSON.parse(stdout) as FrameworkPeers);
    });
  });
}

/** The workload proper (the probe is attached): see the file comment. Leaves `node` without peers. */
export async function runWorkload(network: RegtestNetwork, node: RegtestNode, peer: RegtestNode, source: string): Promise<WorkloadResult> {
  const mempoolEntries: WorkloadResult['mempoolEntries'] = new Map();
  const remember = async (txid: string): Promise<void> => {
    mempoolEntries.set(txid, await node.rpc('getmempoolentry', txid));
  };
  const startHeight = await node.rpc<number>('getblockcount');

  // Connections both ways: node → peer (manual) and peer → node (inbound at node); peer syncs the chain.
  await network.connect(node, peer);
  await network.connect(peer, node);
  await waitFor('peer synced', async () => (await peer.rpc<number>('getblockcount')) === startHeight);
  const peersWhileConnected = await node.peers();

  // Sends, a replaceable one bumped, a rejected one.
  const target = await node.walletRpc<string>(WALLET, 'getnewaddress');
  const sends: SendResult[] = [];
  for (const amount of [1, 12.5, 60]) {
    const txid = await node.walletRpc<string>(WALLET, 'sendtoaddress', target, amount);
    await remember(txid);
    sends.push(await sendResult(node, txid));
  }
  const origTxid = await node.walletRpc<string>(WALLET, 'sendtoaddress', target, 2.5, '', '', false, true);
  await remember(origTxid);
  const orig = await sendResult(node, origTxid);
  const bump = await node.walletRpc<{ txid: string; origfee: number; fee: number }>(WALLET, 'bumpfee', origTxid);
  await remember(bump.txid);
  const bumped = { origTxid, txid: bump.txid, origFee: sats(bump.origfee), fee: sats(bump.fee), original: orig, replacement: await sendResult(node, bump.txid) };
  if (orig.fee !== bumped.origFee) throw new Error(`bumpfee origfee ${bumped.origFee} != gettransaction fee ${orig.fee}`);
  // Relay is on a timer (seconds, random): wait until the peer has them, so tx messages are always in the trace.
  const relayed = [...sends.map((s) => s.txid), bump.txid];
  await waitFor('peer has the workload’s transactions in its mempool', async () => {
    const peerMempool = new Set(await peer.rpc<string[]>('getrawmempool'));
    return relayed.every((txid) => peerMempool.has(txid));
  });

  // A transaction without fee: the mempool rejects it (min relay fee not met).
  const coin = (await node.walletRpc<{ txid: string; vout: number; amount: number }[]>(WALLET, 'listunspent', 1)).find((c) => c.amount === 50);
  if (!coin) throw new Error('no 50 BTC coin left for the rejected transaction');
  const raw = await node.rpc<string>('createrawtransaction', [{ txid: coin.txid, vout: coin.vout }], [{ [target]: coin.amount }]);
  const signed = await node.walletRpc<{ hex: string; complete: boolean }>(WALLET, 'signrawtransactionwithwallet', raw);
  const rejectedTxid = (await node.rpc<DecodedTx>('decoderawtransaction', signed.hex)).txid;
  let rejectedError = '';
  try {
    await node.rpc('sendrawtransaction', signed.hex);
    throw new Error('the fee-less transaction was accepted');
  } catch (error) {
    if (!(error instanceof RpcError)) throw error;
    rejectedError = error.stderr.trim();
  }

  // Two blocks: the first confirms the mempool; the peer follows.
  const minedBlocks = await node.rpc<string[]>('generatetoaddress', 2, target);
  await waitFor('peer has the new blocks', async () => (await peer.rpc<number>('getblockcount')) === startHeight + 2);

  // A chainstate flush.
  await node.rpc('gettxoutsetinfo');

  // Peers of the functional test framework: one misbehaves, then enough to make the node evict inbound peers.
  const misbehaving = await runFrameworkPeers(source, node.p2pPort, ['misbehave']);
  const eviction = await runFrameworkPeers(source, node.p2pPort, ['evict', '--peers', String(EVICTION_PEERS)]);

  // Close every connection (disconnectnode) before the probe stops, so each peer's traffic is whole.
  await network.disconnectAll(node);
  await waitFor(`${peer.name} has no peers`, async () => (await peer.peers()).length === 0);

  return {
    node,
    peer,
    startHeight,
    minedBlocks,
    sends,
    bumped,
    rejected: { txid: rejectedTxid, error: rejectedError },
    peersWhileConnected,
    misbehaving,
    eviction,
    mempoolEntries,
  };
}
