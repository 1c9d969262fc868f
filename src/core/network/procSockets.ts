// A process's TCP sockets, read the way `ss -tp` does it: the socket inodes behind /proc/<pid>/fd and their
// lines in /proc/<pid>/net/tcp and tcp6 (the process's network namespace). Readable without root for the
// user's own processes. Addresses are written as Bitcoin Core writes a peer's address (`127.0.0.1:18444`,
// `[::1]:18444`; an IPv4-mapped IPv6 address as IPv4), so they compare with the tracepoints' `peer_addr`.

import { readFile, readdir, readlink } from 'node:fs/promises';
import { formatIpv6 } from '../p2pMessages/networkAddress';

export interface TcpSocket {
  readonly local: string;
  readonly remote: string;
  /** The kernel's TCP state name: `ESTABLISHED`, `LISTEN`, … */
  readonly state: string;
  readonly inode: number;
}

const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING',
};

/** `0100007F:4E20` (tcp) or 32 hex digits + port (tcp6), in the kernel's host-order words, to an address:port. */
export function procAddress(hex: string): string {
  const [addressHex, portHex] = hex.split(':');
  const port = parseInt(portHex, 16);
  const words = addressHex.match(/.{8}/g) ?? [];
  // Each 32-bit word is printed in host byte order (little-endian here): reverse its bytes.
  const bytes = words.flatMap((word) => (word.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return `${bytes.join('.')}:${port}`;
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return `${bytes.slice(12).join('.')}:${port}`;
  return `[${formatIpv6(Uint8Array.from(bytes))}]:${port}`;
}

/** Parses the text of /proc/net/tcp or tcp6 (header line first). */
export function parseProcTcp(text: string): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    sockets.push({ local: procAddress(fields[1]), remote: procAddress(fields[2]), state: TCP_STATES[fields[3]] ?? fields[3], inode: Number(fields[9]) });
  }
  return sockets;
}

/** The TCP sockets process `pid` holds open. Rejects when the process is gone or not readable (another user's). */
export async function readProcessTcpSockets(pid: number, procRoot = '/proc'): Promise<TcpSocket[]> {
  const fdDir = `${procRoot}/${pid}/fd`;
  const inodes = new Set<number>();
  for (const fd of await readdir(fdDir)) {
    const target = await readlink(`${fdDir}/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.add(Number(match[1]));
  }
  const tables = await Promise.all(['tcp', 'tcp6'].map((name) => readFile(`${procRoot}/${pid}/net/${name}`, 'utf8').catch(() => '')));
  return tables.flatMap(parseProcTcp).filter((socket) => inodes.has(socket.inode));
}
