// The node's state at the moment a probe attaches, from its own RPC: the connections already open
// (getpeerinfo) and the mempool's size (getmempoolinfo). Only where the user can read the node's RPC cookie
// (the datadir from the process's command line, or its owner's ~/.bitcoin); otherwise the reason, in words.

import { promises as fs } from 'node:fs';
import { request } from 'node:http';
import * as path from 'node:path';
import { networkNameOfPeerInfo } from '../events/bpftraceToolEventTypes';
import type { NodeStateAtAttachEvent } from '../events/eventTypes';

export interface PeerAtAttach {
  readonly peer_id: number;
  readonly peer_addr: string;
  readonly conn_type: string;
  /** getpeerinfo's `network` named as the tracepoint rows name it (`unroutable`, `ipv4`, … ). */
  readonly network_name: string;
  readonly inbound: boolean;
  /** UNIX seconds the connection was established. */
  readonly conntime: number;
}

export type NodeStateAtAttach =
  | { readonly available: true; readonly peers: readonly PeerAtAttach[]; readonly mempool: { readonly size: number; readonly bytes: number } }
  | { readonly available: false; readonly reason: string };

/**
 * The hub event of node `pid`'s state at the attach. It carries the pid as the probe's events of that process do,
 * so the connections open at the attach are the same peers (pid, peer id) as their messages and their close.
 */
export function nodeStateAtAttachEvent(pid: number, state: NodeStateAtAttach): NodeStateAtAttachEvent {
  return state.available
    ? { event: 'node:state_at_attach', pid, available: true, peers: state.peers, mempool: state.mempool }
    : { event: 'node:state_at_attach', pid, available: false, reason: state.reason };
}

interface RpcEndpoint {
  readonly port: number;
  readonly cookieFile: string;
}

const CHAINS: Readonly<Record<string, { readonly dir: string; readonly port: number }>> = {
  main: { dir: '', port: 8332 },
  test: { dir: 'testnet3', port: 18332 },
  testnet4: { dir: 'testnet4', port: 48332 },
  signet: { dir: 'signet', port: 38332 },
  regtest: { dir: 'regtest', port: 18443 },
};
const RPC_TIMEOUT_MS = 5000;
const MAX_PEERS = 1000;

/** The RPC port and cookie file of a bitcoind, from its command line (and, for the default datadir, its owner's home). */
export function rpcEndpointOf(args: readonly string[], ownerHome: string | null): RpcEndpoint | string {
  const options = new Map<string, string>();
  for (const arg of args.slice(1)) {
    const match = /^--?([a-z0-9]+)(?:=(.*))?$/.exec(arg);
    if (match) options.set(match[1], match[2] ?? '1');
  }
  const chain = options.get('regtest') === '1' ? 'regtest' : options.get('testnet4') === '1' ? 'testnet4' : options.get('testnet') === '1' ? 'test' : options.get('signet') === '1' ? 'signet' : options.get('chain') ?? 'main';
  const known = CHAINS[chain];
  if (!known) return `its chain ${JSON.stringify(chain)} is not one this extension knows`;
  const datadir = options.get('datadir') ?? (ownerHome ? path.join(ownerHome, '.bitcoin') : null);
  if (!datadir || !path.isAbsolute(datadir)) return 'its data directory is not an absolute path on its command line';
  const port = Number(options.get('rpcport') ?? known.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return 'its -rpcport is not a port';
  const cookie = options.get('rpccookiefile') ?? '.cookie';
  return { port, cookieFile: path.isAbsolute(cookie) ? cookie : path.join(datadir, known.dir, cookie) };
}

/** getpeerinfo and getmempoolinfo of the bitcoind with this PID, or why they cannot be asked. */
export async function readNodeStateAtAttach(pid: number): Promise<NodeStateAtAttach> {
  let args: string[];
  let ownerHome: string | null = null;
  try {
    args = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((a) => a !== '');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(await fs.readFile(`/proc/${pid}/status`, 'utf8'))?.[1]);
    const passwd = await fs.readFile('/etc/passwd', 'utf8').catch(() => '');
    ownerHome = passwd.split('\n').map((line) => line.split(':')).find((f) => Number(f[2]) === uid)?.[5] ?? null;
  } catch (error) {
    return { available: false, reason: `process ${pid} cannot be read (${error instanceof Error ? error.message : String(error)})` };
  }
  const endpoint = rpcEndpointOf(args, ownerHome);
  if (typeof endpoint === 'string') return { available: false, reason: endpoint };
  let cookie: string;
  try {
    cookie = (await fs.readFile(endpoint.cookieFile, 'utf8')).trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { available: false, reason: `its RPC cookie ${endpoint.cookieFile} is ${code === 'EACCES' ? 'not readable by you' : 'not there (RPC off, or -rpcpassword)'}` };
  }
  try {
    const [peers, mempool] = await Promise.all([rpc(endpoint.port, cookie, 'getpeerinfo'), rpc(endpoint.port, cookie, 'getmempoolinfo')]);
    if (!Array.isArray(peers) || typeof mempool !== 'object' || mempool === null) return { available: false, reason: 'its RPC answered something unexpected' };
    const m = mempool as Record<string, unknown>;
    return {
      available: true,
      peers: peers.slice(0, MAX_PEERS).flatMap((p: Record<string, unknown>) =>
        typeof p.id === 'number' && typeof p.addr === 'string'
          ? [{ peer_id: p.id, peer_addr: p.addr, conn_type: typeof p.connection_type === 'string' ? p.connection_type : '', network_name: typeof p.network === 'string' ? networkNameOfPeerInfo(p.network) : '', inbound: p.inbound === true, conntime: typeof p.conntime === 'number' ? p.conntime : 0 }]
          : []),
      mempool: { size: typeof m.size === 'number' ? m.size : 0, bytes: typeof m.bytes === 'number' ? m.bytes : 0 },
    };
  } catch (error) {
    return { available: false, reason: `its RPC on 127.0.0.1:${endpoint.port} did not answer (${error instanceof Error ? error.message : String(error)})` };
  }
}

function rpc(port: number, cookie: string, method: string): Promise<unknown> {
  const body = JSON.stringify({ jsonrpc: '1.0', id: method, method, params: [] });
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, method: 'POST', path: '/', timeout: RPC_TIMEOUT_MS,
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(cookie).toString('base64')}`, 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.length > 16 << 20) req.destroy(new Error('answer too large'));
      });
      res.on('end', () => {
        try {
          const parsed = JSON.parse(text) as { result?: unknown; error?: { message?: string } | null };
          if (parsed.error) reject(new Error(parsed.error.message ?? 'RPC error'));
          else resolve(parsed.result);
        } catch {
          reject(new Error(`HTTP ${res.statusCode ?? '?'}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
