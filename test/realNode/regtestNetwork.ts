// A small regtest network of real bitcoind processes for the real-node tier: each node gets a fresh datadir and
// ports from the tier's range (21000-21999), logs every P2P message (-debug=net) and every chainstate write
// (-debug=coindb), and is stopped (RPC `stop`, then SIGKILL) and deleted by `stop()`, whatever happened.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { RealNodeBuild } from './realNodeEnv';

/**
 * The tier's ports: every bitcoind it starts listens inside this range (P2P, P2P + 1 for Tor, RPC).
 * BITCOIN_USDT_REALNODE_PORTS=first-last moves it (another run on the same machine).
 */
export const PORT_RANGE = portRange(process.env.BITCOIN_USDT_REALNODE_PORTS);

function portRange(setting: string | undefined): { readonly first: number; readonly last: number } {
  if (!setting) return { first: 21000, last: 21999 };
  const match = /^(\d+)-(\d+)$/.exec(setting);
  const [first, last] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!(first >= 1024 && last <= 65535 && last - first >= 2)) throw new Error(`BITCOIN_USDT_REALNODE_PORTS=${setting}: expected first-last, e.g. 21000-21999`);
  return { first, last };
}
let nextPort: number = PORT_RANGE.first;

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise(true)));
  });
}

/** Three consecutive free ports of the range: P2P, the Tor port bitcoind may take next to it, and RPC. */
export async function allocatePorts(): Promise<{ p2p: number; rpc: number }> {
  for (let tries = 0; tries < (PORT_RANGE.last - PORT_RANGE.first) / 3; tries++) {
    if (nextPort + 2 > PORT_RANGE.last) nextPort = PORT_RANGE.first;
    const base = nextPort;
    nextPort += 3;
    if ((await portIsFree(base)) && (await portIsFree(base + 1)) && (await portIsFree(base + 2))) return { p2p: base, rpc: base + 2 };
  }
  throw new Error(`no three free ports left in ${PORT_RANGE.first}-${PORT_RANGE.last}`);
}

export class RpcError extends Error {
  constructor(
    readonly method: string,
    readonly stderr: string,
  ) {
    super(`bitcoin-cli ${method} failed: ${stderr.trim()}`);
  }
}

export interface PeerInfo {
  id: number;
  addr: string;
  addrbind?: string;
  connection_type: string;
  inbound: boolean;
  network: string;
  conntime: number;
}

export class RegtestNode {
  private process: ChildProcess | null = null;
  private exitCode: number | null | undefined;
  private stderr = '';

  private constructor(
    readonly build: RealNodeBuild,
    readonly name: string,
    readonly datadir: string,
    readonly p2pPort: number,
    readonly rpcPort: number,
    private readonly extraArgs: readonly string[],
  ) {}

  /** Starts a node on a fresh datadir: empty, or a copy of `template` (a stopped node's datadir) without its debug.log. */
  static async start(build: RealNodeBuild, name: string, extraArgs: readonly string[] = [], template?: string): Promise<RegtestNode> {
    const { p2p, rpc } = await allocatePorts();
    const datadir = mkdtempSync(join(tmpdir(), `realnode-${name}-`));
    if (template) {
      cpSync(template, datadir, { recursive: true });
      rmSync(join(datadir, 'regtest', 'debug.log'), { force: true });
    }
    const node = new RegtestNode(build, name, datadir, p2p, rpc, extraArgs);
    try {
      await node.launch();
    } catch (error) {
      await node.stop();
      throw error;
    }
    return node;
  }

  get pid(): number {
    if (!this.process?.pid) throw new Error(`${this.name} is not running`);
    return this.process.pid;
  }

  get debugLogPath(): string {
    return join(this.datadir, 'regtest', 'debug.log');
  }

  /** `127.0.0.1:<p2p port>`, how other nodes reach this one. */
  get address(): string {
    return `127.0.0.1:${this.p2pPort}`;
  }

  private async launch(): Promise<void> {
    const args = [
      '-regtest',
      `-datadir=${this.datadir}`,
      `-port=${this.p2pPort}`,
      `-rpcport=${this.rpcPort}`,
      // One -bind per node: without it the older node also binds the default onion port and two nodes collide.
      `-bind=127.0.0.1:${this.p2pPort}`,
      '-listenonion=0',
      '-debug=net',
      '-logips',
      '-debug=coindb',
      '-fallbackfee=0.0002',
      '-printtoconsole=0',
      '-natpmp=0',
      ...this.extraArgs,
    ];
    const child = spawn(this.build.bitcoind, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.process = child;
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    child.once('exit', (code) => (this.exitCode = code));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (this.exitCode !== undefined) throw new Error(`${this.name} (${this.build.bitcoind}) exited with ${this.exitCode}: ${this.stderr}`);
      try {
        await this.rpc('getblockchaininfo');
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`${this.name}: RPC not ready after 60 s: ${String(error)}`);
        await delay(100);
      }
    }
  }

  /** Runs `bitcoin-cli -regtest … method args…`; JSON results parsed, plain strings as they are. */
  rpc<T = unknown>(method: string, ...args: readonly (string | number | boolean | object)[]): Promise<T> {
    return this.cli<T>([], method, args);
  }

  /** The wallet RPC `method` of wallet `wallet`. */
  walletRpc<T = unknown>(wallet: string, method: string, ...args: readonly (string | number | boolean | object)[]): Promise<T> {
    return this.cli<T>([`-rpcwallet=${wallet}`], method, args);
  }

  private cli<T>(options: readonly string[], method: string, args: readonly (string | number | boolean | object)[]): Promise<T> {
    const cliArgs = [
      '-regtest',
      ...options,
      `-datadir=${this.datadir}`,
      `-rpcport=${this.rpcPort}`,
      '-rpcwait',
      '-rpcwaittimeout=30',
      method,
      ...args.map((arg) => (typeof arg === 'object' ? JSON.stringify(arg) : String(arg))),
    ];
    return new Promise((resolvePromise, reject) => {
      execFile(this.build.bitcoinCli, cliArgs, { maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) return reject(new RpcError(method, stderr || error.message));
        const text = stdout.trim();
        try {
          resolvePromise(JSON.parse(text) as T);
        } catch {
          resolvePromise(text as T);
        }
      });
    });
  }

  /** Many RPC calls in one JSON-RPC batch over HTTP (cookie auth): one round trip instead of one bitcoin-cli each. */
  async rpcBatch<T = unknown>(calls: readonly { method: string; params: readonly unknown[] }[]): Promise<T[]> {
    const cookie = readFileSync(join(this.datadir, 'regtest', '.cookie'), 'utf8').trim();
    const response = await fetch(`http://127.0.0.1:${this.rpcPort}/`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(cookie).toString('base64')}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(calls.map((call, id) => ({ jsonrpc: '1.0', id, method: call.method, params: call.params }))),
    });
    const replies = (await response.json()) as { id: number; result: T; error: { message: string } | null }[];
    return replies
      .sort((a, b) => a.id - b.id)
      .map((reply) => {
        if (reply.error) throw new Error(`RPC ${calls[reply.id].method} failed: ${reply.error.message}`);
        return reply.result;
      });
  }

  peers(): Promise<PeerInfo[]> {
    return this.rpc<PeerInfo[]>('getpeerinfo');
  }

  debugLog(): string {
    return readFileSync(this.debugLogPath, 'utf8');
  }

  /** Stops the node (RPC `stop`, SIGKILL after 30 s) and deletes its datadir unless `keepDatadir`. */
  async stop({ keepDatadir = false } = {}): Promise<void> {
    const child = this.process;
    if (child && this.exitCode === undefined) {
      const exited = new Promise<void>((resolvePromise) => child.once('exit', () => resolvePromise()));
      await this.rpc('stop').catch(() => child.kill('SIGTERM'));
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(killer);
    }
    if (!keepDatadir) rmSync(this.datadir, { recursive: true, force: true });
  }

  /** Deletes the datadir of a stopped node. */
  removeDatadir(): void {
    rmSync(this.datadir, { recursive: true, force: true });
  }
}

/** Polls `check` every 100 ms until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await delay(100);
  }
}

/** Several nodes; `stopAll()` stops and deletes every one of them (call it in an `after`/`finally`). */
export class RegtestNetwork {
  readonly nodes: RegtestNode[] = [];

  async start(build: RealNodeBuild, count: number, extraArgs: readonly string[] = [], template?: string): Promise<RegtestNode[]> {
    const started: RegtestNode[] = [];
    for (let index = 0; index < count; index++) {
      const node = await RegtestNode.start(build, `${build.label}-node${this.nodes.length}`, extraArgs, template);
      this.nodes.push(node);
      started.push(node);
    }
    return started;
  }

  /** `from` opens a manual connection to `to` (`addnode … onetry`) and both see it. Returns `from`'s peer id. */
  async connect(from: RegtestNode, to: RegtestNode): Promise<PeerInfo> {
    await from.rpc('addnode', to.address, 'onetry');
    return waitFor(`${from.name} connected to ${to.name}`, async () => {
      const peer = (await from.peers()).find((p) => p.addr === to.address);
      if (!peer) return undefined;
      // Both sides have finished the version handshake once the inbound side lists it too.
      const inbound = (await to.peers()).find((p) => p.inbound && p.addrbind === to.address);
      return inbound ? peer : undefined;
    });
  }

  /** `disconnectnode` of every peer of `node`, and waits until it has none. */
  async disconnectAll(node: RegtestNode): Promise<void> {
    for (const peer of await node.peers()) await node.rpc('disconnectnode', '', peer.id).catch(() => undefined);
    await waitFor(`${node.name} has no peers`, async () => (await node.peers()).length === 0);
  }

  async stopAll({ keepDatadirs = process.env.BITCOIN_USDT_KEEP_TEMP === '1' } = {}): Promise<void> {
    const nodes = this.nodes.splice(0);
    await Promise.all(nodes.map((node) => node.stop({ keepDatadir: keepDatadirs })));
  }
}
