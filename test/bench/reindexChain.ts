// The regtest chain the reindex benchmark replays: made once with the real bitcoind and cached in
// .bench-cache/reindex-chain-<bitcoind version>-<blocks>x<transactions>/ (git-ignored).
//
// Every output pays to P2WSH(OP_TRUE), which anyone can spend with the witness `OP_TRUE` and no signature, so
// the transactions are built here in a few lines and mined with `generateblock` (no wallet, no mempool).
// Each transaction spends `inputsPerTx` confirmed outputs picked at random from the pool (old and new alike,
// so the reindex reads coins back from the database as well as from the cache) and creates `outputsPerTx`:
// the UTXO set grows by one per transaction, and the reindex's small -dbcache has to flush it on the way.
//
// `npx tsx test/bench/reindexChain.ts [--small]` makes (or finds) the chain and says how long it took.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { request, Agent } from 'node:http';
import { join, resolve } from 'node:path';
import { BenchFailure, runToEnd, sleep, waitForExit, withTimeout } from './benchProcesses';

export interface ChainSpec {
  /** Blocks mined to the OP_TRUE address first; the coinbases of all but the last 100 become the first pool. */
  matureBlocks: number;
  /** Blocks mined after those, each with `txsPerBlock` transactions. */
  blocks: number;
  txsPerBlock: number;
  inputsPerTx: number;
  outputsPerTx: number;
}

/**
 * Full size: 3,000 blocks of 25 transactions (2 inputs, 3 outputs) after 200 plain blocks: 75,000
 * transactions, 150,000 coins spent and ~228,000 added, so utxocache:add/spent fire ~380,000 times. Made in
 * well under a minute on the 2-core project machines. The size is bounded by contrib's log_utxos.bt, which
 * prints every coin with 34 printf calls and slows the reindex to a few thousand coins per second there.
 */
export const FULL_CHAIN: ChainSpec = { matureBlocks: 200, blocks: 3_000, txsPerBlock: 25, inputsPerTx: 2, outputsPerTx: 3 };
/** For the benchmark's self-check and the real-node test: made in seconds. */
export const SMALL_CHAIN: ChainSpec = { matureBlocks: 110, blocks: 40, txsPerBlock: 20, inputsPerTx: 2, outputsPerTx: 3 };

/** What the chain holds, so a reindex can be checked against it. */
export interface ChainManifest {
  bitcoindVersion: string;
  spec: ChainSpec;
  height: number;
  tipHash: string;
  /** Non-coinbase transactions. */
  transactions: number;
  /** utxocache:spent a full reindex fires: every input of every non-coinbase transaction. */
  coinsSpent: number;
  /** utxocache:add a full reindex fires: every spendable output of blocks 1..height (coinbases too). */
  coinsAdded: number;
  /** validation:block_connected a full reindex fires: blocks 1..height (the genesis block is not connected). */
  blocksConnected: number;
  makingSeconds: number;
  madeAt: string;
}

export const MANIFEST_FILE = 'chain.json';
/** The stopped node's datadir (regtest/blocks, chainstate, …) inside the cache folder. */
export const DATADIR = 'datadir';

/** ADDRESS_BCRT1_P2WSH_OP_TRUE of Bitcoin Core's functional test framework. */
const OP_TRUE_ADDRESS = 'bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85';
const OP_TRUE_SCRIPT = Buffer.concat([Buffer.from([0x00, 0x20]), createHash('sha256').update(Buffer.from([0x51])).digest()]);
/** The chain maker's RPC port, in the range this benchmark may use (27000–27999). */
export const MAKER_RPC_PORT = 27_110;

export function bitcoindVersion(bitcoind: string): Promise<string> {
  return runToEnd([bitcoind, '-version'], 30_000).then(({ stdout, code }) => {
    const match = /version v?(\S+)/.exec(stdout);
    if (code !== 0 || !match) throw new BenchFailure(`${bitcoind} -version did not print a version: ${stdout.slice(0, 200)}`);
    return match[1];
  });
}

export function chainCacheDir(repoRoot: string, version: string, spec: ChainSpec): string {
  // "31.99.0-gb88bffe550a3a017440aff6a189cdb5f79f9b060" → "31.99.0-gb88bffe550a3"
  const short = version.replace(/-g([0-9a-f]{12})[0-9a-f]*$/, '-g$1');
  return join(repoRoot, '.bench-cache', `reindex-chain-${short}-${spec.blocks}x${spec.txsPerBlock}`);
}

export async function readManifest(dir: string): Promise<ChainManifest | null> {
  try {
    return JSON.parse(await fs.readFile(join(dir, MANIFEST_FILE), 'utf8')) as ChainManifest;
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ transactions

interface Coin {
  txid: Buffer; // internal byte order
  vout: number;
  value: bigint;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}

function compactSize(n: number): Buffer {
  if (n < 0xfd) return Buffer.from([n]);
  const b = Buffer.alloc(3);
  b[0] = 0xfd;
  b.writeUInt16LE(n, 1);
  return b;
}

function sha256d(data: Buffer): Buffer {
  return createHash('sha256').update(createHash('sha256').update(data).digest()).digest();
}

/** A version-2 segwit transaction spending P2WSH(OP_TRUE) coins into `values.length` P2WSH(OP_TRUE) outputs. */
function opTrueTransaction(inputs: readonly Coin[], values: readonly bigint[]): { hex: string; txid: Buffer } {
  const ins = Buffer.concat([
    compactSize(inputs.length),
    ...inputs.flatMap((c) => [c.txid, u32(c.vout), Buffer.from([0]), u32(0xffffffff)]),
  ]);
  const outs = Buffer.concat([
    compactSize(values.length),
    ...values.flatMap((v) => [u64(v), compactSize(OP_TRUE_SCRIPT.length), OP_TRUE_SCRIPT]),
  ]);
  const version = u32(2);
  const lockTime = u32(0);
  const witness = Buffer.concat(inputs.map(() => Buffer.from([1, 1, 0x51])));
  const txid = sha256d(Buffer.concat([version, ins, outs, lockTime]));
  const hex = Buffer.concat([version, Buffer.from([0, 1]), ins, outs, witness, lockTime]).toString('hex');
  return { hex, txid };
}

/** xorshift32: the same chain for the same spec on every machine. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

// ------------------------------------------------------------------ the node

class Rpc {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private id = 0;

  constructor(
    private readonly port: number,
    private readonly auth: string,
  ) {}

  call<T>(method: string, params: unknown[] = []): Promise<T> {
    const body = JSON.stringify({ jsonrpc: '1.0', id: ++this.id, method, params });
    return new Promise((resolvePromise, reject) => {
      const req = request(
        {
          host: '127.0.0.1', port: this.port, method: 'POST', path: '/', agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Basic ${Buffer.from(this.auth).toString('base64')}` },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (t: string) => (text += t));
          res.on('end', () => {
            let reply: { result: T; error: { message: string } | null };
            try {
              reply = JSON.parse(text) as typeof reply;
            } catch {
              return reject(new BenchFailure(`RPC ${method}: HTTP ${res.statusCode} ${text.slice(0, 200)}`));
            }
            if (reply.error) reject(new BenchFailure(`RPC ${method}: ${reply.error.message}`));
            else resolvePromise(reply.result);
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

async function startMakerNode(bitcoind: string, datadir: string, rpcPort: number): Promise<{ node: ChildProcess; rpc: Rpc }> {
  const node = spawn(bitcoind, [
    '-regtest', `-datadir=${datadir}`, '-listen=0', '-server=1', `-rpcport=${rpcPort}`, '-rpcbind=127.0.0.1',
    '-rpcallowip=127.0.0.1', '-disablewallet', '-persistmempool=0', '-printtoconsole=0', '-rpcworkqueue=64',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  node.stderr?.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exited = waitForExit(node);
  const cookie = join(datadir, 'regtest', '.cookie');
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (node.exitCode !== null) throw new BenchFailure(`bitcoind exited (code ${node.exitCode}) while starting: ${stderr.trim()}`);
    if (existsSync(cookie)) {
      const rpc = new Rpc(rpcPort, (await fs.readFile(cookie, 'utf8')).trim());
      try {
        await rpc.call('getblockcount');
        void exited;
        return { node, rpc };
      } catch {
        rpc.close();
      }
    }
    if (Date.now() > deadline) {
      node.kill('SIGKILL');
      throw new BenchFailure(`bitcoind did not answer RPC on port ${rpcPort} within 60 s: ${stderr.trim()}`);
    }
    await sleep(200);
  }
}

/**
 * Makes the chain into `cacheDir` (through a temporary folder next to it, renamed at the end, so an
 * interrupted making leaves nothing half-made behind). Returns its manifest.
 */
export async function makeChain(
  bitcoind: string,
  cacheDir: string,
  spec: ChainSpec,
  log: (message: string) => void,
  rpcPort = MAKER_RPC_PORT,
): Promise<ChainManifest> {
  const started = Date.now();
  const version = await bitcoindVersion(bitcoind);
  await fs.mkdir(resolve(cacheDir, '..'), { recursive: true });
  const making = await fs.mkdtemp(join(resolve(cacheDir, '..'), `.making-${process.pid}-`));
  const datadir = join(making, DATADIR);
  await fs.mkdir(datadir);
  const { node, rpc } = await startMakerNode(bitcoind, datadir, rpcPort);
  try {
    await rpc.call('generatetoaddress', [spec.matureBlocks, OP_TRUE_ADDRESS]);
    let coinsAdded = spec.matureBlocks; // one spendable coinbase output each; the witness commitment is OP_RETURN
    const pool: Coin[] = [];
    for (let height = 1; height <= spec.matureBlocks - 100; height++) {
      const hash = await rpc.call<string>('getblockhash', [height]);
      const block = await rpc.call<{ tx: { txid: string; vout: { value: number; n: number; scriptPubKey: { hex: string } }[] }[] }>('getblock', [hash, 2]);
      const coinbase = block.tx[0];
      const out = coinbase.vout.find((o) => o.scriptPubKey.hex === OP_TRUE_SCRIPT.toString('hex'));
      if (!out) throw new BenchFailure(`block ${height}'s coinbase does not pay to OP_TRUE`);
      pool.push({ txid: Buffer.from(coinbase.txid, 'hex').reverse(), vout: out.n, value: BigInt(Math.round(out.value * 1e8)) });
    }
    const next = random(0x5eed);
    let transactions = 0;
    let coinsSpent = 0;
    let lastReport = Date.now();
    for (let b = 0; b < spec.blocks; b++) {
      const hexes: string[] = [];
      const created: Coin[] = [];
      for (let t = 0; t < spec.txsPerBlock && pool.length >= spec.inputsPerTx; t++) {
        const inputs: Coin[] = [];
        for (let i = 0; i < spec.inputsPerTx; i++) {
          const at = Math.floor(next() * pool.length);
          inputs.push(pool[at]);
          pool[at] = pool[pool.length - 1];
          pool.pop();
        }
        const total = inputs.reduce((sum, c) => sum + c.value, 0n);
        const share = total / BigInt(spec.outputsPerTx);
        const values = Array.from({ length: spec.outputsPerTx }, (_, i) => (i === 0 ? total - share * BigInt(spec.outputsPerTx - 1) : share));
        const tx = opTrueTransaction(inputs, values);
        hexes.push(tx.hex);
        values.forEach((value, vout) => created.push({ txid: tx.txid, vout, value }));
        transactions++;
        coinsSpent += inputs.length;
      }
      await rpc.call('generateblock', [OP_TRUE_ADDRESS, hexes]);
      pool.push(...created);
      coinsAdded += created.length + 1;
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        log(`reindex chain: ${b + 1}/${spec.blocks} blocks, ${transactions.toLocaleString('en-US')} transactions, ${((Date.now() - started) / 1000).toFixed(0)} s`);
      }
    }
    const height = await rpc.call<number>('getblockcount');
    const tipHash = await rpc.call<string>('getbestblockhash');
    if (height !== spec.matureBlocks + spec.blocks) throw new BenchFailure(`the chain ended at height ${height}, not ${spec.matureBlocks + spec.blocks}`);
    await rpc.call('stop');
    await withTimeout(waitForExit(node), 120_000, 'the chain maker node stopping');
    await fs.rm(join(datadir, 'regtest', 'debug.log'), { force: true });
    const manifest: ChainManifest = {
      bitcoindVersion: version,
      spec,
      height,
      tipHash,
      transactions,
      coinsSpent,
      coinsAdded,
      blocksConnected: height,
      makingSeconds: (Date.now() - started) / 1000,
      madeAt: new Date().toISOString(),
    };
    await fs.writeFile(join(making, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await fs.rm(cacheDir, { recursive: true, force: true });
    await fs.rename(making, cacheDir);
    return manifest;
  } finally {
    rpc.close();
    if (node.exitCode === null && node.signalCode === null) node.kill('SIGKILL');
    await fs.rm(making, { recursive: true, force: true });
  }
}

/** The cached chain for this bitcoind and spec, made first if it is missing. */
export async function ensureChain(
  bitcoind: string,
  repoRoot: string,
  spec: ChainSpec,
  log: (message: string) => void,
): Promise<{ dir: string; manifest: ChainManifest; made: boolean }> {
  const version = await bitcoindVersion(bitcoind);
  const dir = chainCacheDir(repoRoot, version, spec);
  const cached = await readManifest(dir);
  if (cached && JSON.stringify(cached.spec) === JSON.stringify(spec) && existsSync(join(dir, DATADIR))) return { dir, manifest: cached, made: false };
  log(`reindex chain: making ${spec.blocks.toLocaleString('en-US')} blocks × ${spec.txsPerBlock} transactions with ${bitcoind} into ${dir} (once)`);
  const manifest = await makeChain(bitcoind, dir, spec, log);
  log(`reindex chain: made in ${manifest.makingSeconds.toFixed(0)} s: height ${manifest.height}, ${manifest.transactions.toLocaleString('en-US')} transactions`);
  return { dir, manifest, made: true };
}

/** The bitcoind the benchmark uses: BITCOIND, else the unpacked real node. */
export function realBitcoind(repoRoot: string): string {
  const path = process.env.BITCOIND ?? join(repoRoot, '.real-node', 'master', 'bin', 'bitcoind');
  if (!existsSync(path)) {
    throw new BenchFailure(`${path} is missing: set BITCOIND to a bitcoind built with USDT, or run \`eval "$(bash scripts/unpack-real-node.sh)"\``);
  }
  return path;
}

if (require.main === module) {
  const repoRoot = resolve(__dirname, '..', '..');
  const spec = process.argv.includes('--small') ? SMALL_CHAIN : FULL_CHAIN;
  const log = (m: string): void => void process.stderr.write(`${m}\n`);
  ensureChain(realBitcoind(repoRoot), repoRoot, spec, log).then(
    ({ dir, manifest, made }) => {
      process.stdout.write(`${made ? 'made' : 'cached'}: ${dir}\n${JSON.stringify(manifest, null, 2)}\n`);
    },
    (error: unknown) => {
      process.stderr.write(`reindex chain: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}

