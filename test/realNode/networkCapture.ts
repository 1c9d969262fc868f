// A real regtest network traced node by node, for the network views' pairing tests: N nodes of a real
// bitcoind in the functional test framework's layout (`<run>/node0`, `<run>/node1`, …; -debug=net -logips
// -logtimemicros), each traced by its own real `bitcoin-usdt run <tool> --pid N --json --record` (as root,
// through the helper); the nodes connect in a ring (node k opens a manual connection to node k+1, so two nodes
// have a connection each way), mine, send a transaction, ping, and stop. What the nodes themselves say is kept
// next to the recordings: each node's getpeerinfo (peer id, addr and addrbind, the socket's local address)
// while every connection is open, and the P2P lines of each debug.log.
// Used by scripts/make-network-captures.ts (the committed fixtures) and test/realNode/network.test.ts (live).

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { exited, waitForText } from '../tools/childProcessWaits';
import { CLI } from './toolRun';

export interface CapturedPeer {
  id: number;
  addr: string;
  addrbind: string;
  inbound: boolean;
  connection_type: string;
}

/** What the capture wrote, per node (file names relative to the output folder). */
export interface CaptureManifest {
  nodes: {
    node: string;
    pid: number;
    p2p_port: number;
    recordings: Record<string, string>;
    debug_log: string;
    peers: CapturedPeer[];
  }[];
}

export interface CaptureOptions {
  bitcoind: string;
  bitcoinCli: string;
  /** Where the recordings, the debug.log excerpts and capture.json go. */
  outDir: string;
  /** A scratch folder for the run (datadirs, the private copy of bitcoind). */
  workDir: string;
  nodes: number;
  /** Ports: node k listens on base + 3k (P2P) and base + 3k + 2 (RPC). */
  portBase: number;
  /** Tools traced on every node (p2p-traffic first). */
  tools: readonly string[];
}

/** Lines of debug.log the pairing is checked against (messages, connections), with their microsecond times. */
const KEPT_LOG_LINE = /\] (received: |sending |Added connection to |connection from |Resetting socket for peer=)/;

class Node {
  process: ChildProcess | null = null;
  constructor(
    readonly index: number,
    readonly datadir: string,
    readonly p2pPort: number,
    readonly rpcPort: number,
    private readonly options: CaptureOptions,
    private readonly bitcoind: string,
  ) {}

  get name(): string {
    return `node${this.index}`;
  }

  async start(): Promise<void> {
    mkdirSync(this.datadir, { recursive: true });
    this.process = spawn(
      this.bitcoind,
      [
        '-regtest', `-datadir=${this.datadir}`, `-port=${this.p2pPort}`, `-rpcport=${this.rpcPort}`, `-bind=127.0.0.1:${this.p2pPort}`,
        '-listenonion=0', '-debug=net', '-logips', '-logtimemicros', '-printtoconsole=0', '-natpmp=0', '-fallbackfee=0.0002',
      ],
      { stdio: 'ignore' },
    );
    await this.rpc('-rpcwait', '-rpcwaittimeout=60', 'getblockchaininfo');
  }

  get pid(): number {
    if (!this.process?.pid) throw new Error(`${this.name} is not running`);
    return this.process.pid;
  }

  rpc<T = unknown>(...args: string[]): Promise<T> {
    const options = args.filter((a) => a.startsWith('-'));
    const rest = args.filter((a) => !a.startsWith('-'));
    return new Promise((resolvePromise, reject) => {
      execFile(this.options.bitcoinCli, ['-regtest', `-datadir=${this.datadir}`, `-rpcport=${this.rpcPort}`, ...options, ...rest], (error, stdout, stderr) => {
        if (error) return reject(new Error(`${this.name}: bitcoin-cli ${rest.join(' ')}: ${stderr || error.message}`));
        const text = stdout.trim();
        try {
          resolvePromise(JSON.parse(text) as T);
        } catch {
          resolvePromise(text as T);
        }
      });
    });
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await this.rpc('stop').catch(() => child.kill('SIGTERM'));
    await exited(child, 60_000, `${this.name} after stop`).catch(() => child.kill('SIGKILL'));
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

/** Runs the capture; every process it starts is stopped before it returns or throws. */
export async function captureNetwork(options: CaptureOptions): Promise<CaptureManifest> {
  mkdirSync(options.outDir, { recursive: true });
  mkdirSync(join(options.workDir, 'bin'), { recursive: true });
  // A private copy of bitcoind: uprobes of other tests' tracers on the shared binary stay out of this run.
  const bitcoind = join(options.workDir, 'bin', 'bitcoind');
  copyFileSync(options.bitcoind, bitcoind);
  const run = join(options.workDir, 'run');
  const nodes = Array.from({ length: options.nodes }, (_, k) => new Node(k, join(run, `node${k}`), options.portBase + 3 * k, options.portBase + 3 * k + 2, options, bitcoind));
  const tracers: { child: ChildProcess; stderr: () => string }[] = [];
  let peersByNode: CapturedPeer[][] = [];
  try {
    for (const node of nodes) await node.start();
    for (const node of nodes) {
      for (const tool of options.tools) {
        const file = join(options.outDir, `${node.name}.${tool}.ndjson`);
        const child = spawn(process.execPath, [CLI, 'run', tool, '--pid', String(node.pid), '--json', '--record', file], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        tracers.push({ child, stderr: () => stderr });
        await waitForText(child.stdout, child, /"event":"session:attached"/, 120_000).catch((error: unknown) => {
          throw new Error(`${tool} on ${node.name} did not attach: ${String(error)}\n${stderr}`);
        });
        child.stdout?.resume();
      }
    }

    // A ring of manual connections: with two nodes, one each way between them.
    for (const node of nodes) {
      const next = nodes[(node.index + 1) % nodes.length];
      await node.rpc('addnode', `127.0.0.1:${next.p2pPort}`, 'onetry');
    }
    const expectedPeers = 2;
    for (const node of nodes) {
      await waitUntil(`${node.name} has ${expectedPeers} peers with the handshake done`, async () => {
        const peers = await node.rpc<{ version: number }[]>('getpeerinfo');
        return peers.length === expectedPeers && peers.every((p) => p.version > 0);
      });
    }
    peersByNode = await Promise.all(nodes.map((node) => node.rpc<CapturedPeer[]>('getpeerinfo')));

    // Traffic: blocks, a wallet transaction relayed to every node, pings.
    const miner = nodes[0];
    await miner.rpc('createwallet', 'w');
    const address = await miner.rpc<string>('-rpcwallet=w', 'getnewaddress');
    await miner.rpc('generatetoaddress', '101', address);
    const tip = async (node: Node): Promise<string> => node.rpc<string>('getbestblockhash');
    await waitUntil("every node at the miner's tip", async () => new Set(await Promise.all(nodes.map(tip))).size === 1);
    const txid = await miner.rpc<string>('-rpcwallet=w', 'sendtoaddress', address, '1');
    await waitUntil('every node has the transaction', async () => (await Promise.all(nodes.map((n) => n.rpc<string[]>('getrawmempool')))).every((pool) => pool.includes(txid)));
    for (const node of nodes) await node.rpc('ping');
    await delay(1_000);
    await miner.rpc('generatetoaddress', '1', address);
    await waitUntil('every node at the new tip', async () => new Set(await Promise.all(nodes.map(tip))).size === 1);
    await delay(1_500);
  } finally {
    for (const { child } of tracers) if (child.exitCode === null) child.kill('SIGINT');
    for (const { child, stderr } of tracers) {
      const code = await exited(child, 60_000, 'a tracer after SIGINT').catch(() => {
        child.kill('SIGKILL');
        return -1;
      });
      if (code !== 0) process.stderr.write(`tracer exited ${code}: ${stderr()}\n`);
    }
    for (const node of nodes) await node.stop();
  }

  const manifest: CaptureManifest = { nodes: [] };
  for (const node of nodes) {
    const log = readFileSync(join(node.datadir, 'regtest', 'debug.log'), 'utf8')
      .split('\n')
      .filter((line) => KEPT_LOG_LINE.test(line))
      .join('\n');
    const logFile = `${node.name}.debug.log`;
    writeFileSync(join(options.outDir, logFile), `${log}\n`);
    manifest.nodes.push({
      node: node.name,
      pid: node.process?.pid ?? 0,
      p2p_port: node.p2pPort,
      recordings: Object.fromEntries(options.tools.map((tool) => [tool, `${node.name}.${tool}.ndjson`])),
      debug_log: logFile,
      peers: peersByNode[node.index].map(({ id, addr, addrbind, inbound, connection_type }) => ({ id, addr, addrbind, inbound, connection_type })),
    });
  }
  writeFileSync(join(options.outDir, 'capture.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}
