// Names the other end of a traced node's loopback connection when it is not a traced node: the functional test
// framework's own P2P connection (a Python `P2PInterface`), another program, a bitcoind that is not traced.
// Read without root from /proc while the connection is open, the way `ss -tp` does it: the node's socket for the
// peer gives the connection's 4-tuple; the other end's socket (local address = the peer's address) is in the
// same network namespace's /proc/<node pid>/net/tcp{,6}; its inode leads to the process holding it through
// /proc/<pid>/fd (readable for the user's own processes). Only connections the network model could not pair are
// looked up, each once (the answer is cached per connection).
//
// A command line is text the process chose: the names made here are bounded and shown as text only.

import { readFile, readdir, readlink } from 'node:fs/promises';
import type { NetworkModel } from './networkModel';
import { parseProcTcp, readProcessTcpSockets, type TcpSocket } from './procSockets';

export interface SocketOwner {
  readonly pid: number;
  /** Its command line's arguments (possibly cut: bounded). */
  readonly commandLine: readonly string[];
}

/** What is at the other end of one connection: a process, a socket whose process cannot be read, or nothing (closed). */
export type OtherEnd = { readonly owner: SocketOwner } | { readonly owner: null; readonly socket: 'unreadable' | 'closed' };

const MAX_COMMAND_LINE_BYTES = 4096;
const MAX_NAME_CHARS = 60;

function clip(text: string): string {
  return text.length > MAX_NAME_CHARS ? `${text.slice(0, MAX_NAME_CHARS - 1)}…` : text;
}

function lastPathPart(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * A short name for the process at the other end: `test framework (feature_x.py)` for a script under a
 * `test/functional/` directory run by Python, `python3 script.py (pid N)` for another Python script,
 * `bitcoind (pid N), not traced` for a bitcoind the session does not trace, else `program (pid N)`.
 */
export function describeSocketOwner(owner: SocketOwner): string {
  const [program = '', ...args] = owner.commandLine;
  const name = clip(lastPathPart(program)) || '?';
  if (/^python[\d.]*$/.test(name)) {
    const script = args.find((arg) => !arg.startsWith('-') && arg.endsWith('.py'));
    if (script !== undefined) {
      if (/(^|\/)test\/functional\//.test(script)) return `test framework (${clip(lastPathPart(script))})`;
      return `${name} ${clip(lastPathPart(script))} (pid ${owner.pid})`;
    }
  }
  if (name === 'bitcoind' || name === 'bitcoin-node') return `${name} (pid ${owner.pid}), not traced`;
  return `${name} (pid ${owner.pid})`;
}

/** The processes holding the socket inodes asked for (a scan of /proc/<pid>/fd that stops once all are found). */
async function socketOwners(inodes: ReadonlySet<number>, procRoot: string): Promise<Map<number, number>> {
  const owners = new Map<number, number>();
  if (inodes.size === 0) return owners;
  const pids = (await readdir(procRoot).catch(() => [] as string[])).filter((entry) => /^\d+$/.test(entry));
  for (const pid of pids) {
    const fds = await readdir(`${procRoot}/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`${procRoot}/${pid}/fd/${fd}`).catch(() => '');
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match && inodes.has(Number(match[1])) && !owners.has(Number(match[1]))) owners.set(Number(match[1]), Number(pid));
    }
    if (owners.size === inodes.size) break;
  }
  return owners;
}

async function commandLineOf(pid: number, procRoot: string): Promise<string[]> {
  const raw = await readFile(`${procRoot}/${pid}/cmdline`).catch(() => Buffer.alloc(0));
  return raw.subarray(0, MAX_COMMAND_LINE_BYTES).toString('utf8').split('\0').filter((arg) => arg !== '');
}

/**
 * For each (node pid, peer address) of a connection open now: the process at the other end. The connection is the
 * node's established socket whose remote address is `peerAddr`; the other end is the socket with the reverse
 * 4-tuple in the node's network namespace.
 */
export async function findOtherEnds(queries: readonly { readonly nodePid: number; readonly peerAddr: string }[], procRoot = '/proc'): Promise<OtherEnd[]> {
  const nodeSockets = new Map<number, TcpSocket[]>();
  const namespaceSockets = new Map<number, TcpSocket[]>();
  for (const pid of new Set(queries.map((q) => q.nodePid))) {
    nodeSockets.set(pid, await readProcessTcpSockets(pid, procRoot).catch(() => []));
    const tables = await Promise.all(['tcp', 'tcp6'].map((name) => readFile(`${procRoot}/${pid}/net/${name}`, 'utf8').catch(() => '')));
    namespaceSockets.set(pid, tables.flatMap(parseProcTcp));
  }
  const otherSockets = queries.map(({ nodePid, peerAddr }) => {
    const own = nodeSockets.get(nodePid)?.find((s) => s.state === 'ESTABLISHED' && s.remote === peerAddr);
    if (!own) return undefined;
    return namespaceSockets.get(nodePid)?.find((s) => s.state === 'ESTABLISHED' && s.local === peerAddr && s.remote === own.local && s.inode !== 0);
  });
  const owners = await socketOwners(new Set(otherSockets.flatMap((s) => (s ? [s.inode] : []))), procRoot);
  const ends: OtherEnd[] = [];
  for (const socket of otherSockets) {
    const pid = socket ? owners.get(socket.inode) : undefined;
    if (!socket) ends.push({ owner: null, socket: 'closed' });
    else if (pid === undefined) ends.push({ owner: null, socket: 'unreadable' });
    else ends.push({ owner: { pid, commandLine: await commandLineOf(pid, procRoot) } });
  }
  return ends;
}

/**
 * Names the other ends of a network model's unpaired loopback connections, once per connection (`pid/peer id`),
 * and keeps the names for a new model (the panel's Clear).
 */
export class OtherEndNames {
  /** Per connection looked up: its name, or null (a traced node's end, or closed before the look-up). */
  private readonly names = new Map<string, string | null>();

  constructor(private readonly procRoot = '/proc') {}

  /** Looks up what is new and names it in `model`; true when a name was added. */
  async nameUnpaired(model: NetworkModel): Promise<boolean> {
    const wanted = model.unnamedLoopbackPeers();
    let named = false;
    const toLookUp = wanted.filter((peer) => {
      const known = this.names.get(`${peer.pid}/${peer.peerId}`);
      if (known === undefined) return true;
      if (known !== null) named = model.nameOtherEnd(peer.pid, peer.peerId, known) || named;
      return false;
    });
    if (toLookUp.length === 0) return named;
    const ends = await findOtherEnds(toLookUp.map((peer) => ({ nodePid: peer.pid, peerAddr: peer.addr })), this.procRoot);
    const tracedPids = model.tracedPids();
    toLookUp.forEach((peer, index) => {
      const end = ends[index];
      const name = end.owner !== null ? (tracedPids.has(end.owner.pid) ? null : describeSocketOwner(end.owner)) : end.socket === 'unreadable' ? 'not a traced node' : null;
      this.names.set(`${peer.pid}/${peer.peerId}`, name);
      if (name !== null) named = model.nameOtherEnd(peer.pid, peer.peerId, name) || named;
    });
    return named;
  }
}
