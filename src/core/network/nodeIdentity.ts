// Who a bitcoind process is, from its command line and its datadir's bitcoin.conf (as the user who runs it
// can read them): datadir, chain, P2P and RPC ports, and a name. The functional test framework's layout
// (`<run>/node0`, `<run>/node1`, …) gives `node0`, `node1`; another datadir gives its folder name. Two pids
// with the same datadir are the same node (a restart). The shape is the `node` event of docs/events.md.

import { readFile, readlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { NodeEvent } from '../events/eventTypes';

const DEFAULT_P2P_PORTS: Record<string, number> = { main: 8333, test: 18333, testnet4: 48333, signet: 38333, regtest: 18444 };
const DEFAULT_RPC_PORTS: Record<string, number> = { main: 8332, test: 18332, testnet4: 48332, signet: 38332, regtest: 18443 };

/** `-name=value` / `-name` options of a command line (the last one wins, as in bitcoind), `-noname` as 0. */
function commandLineOptions(argv: readonly string[]): Map<string, string> {
  const options = new Map<string, string>();
  for (const arg of argv.slice(1)) {
    const match = /^--?([A-Za-z0-9_.]+)(?:=(.*))?$/s.exec(arg);
    if (!match) continue;
    const [, name, value] = match;
    if (name.startsWith('no') && value === undefined) options.set(name.slice(2), '0');
    else options.set(name, value ?? '1');
  }
  return options;
}

/** bitcoin.conf: top-level `name=value` lines, and those of the `[chain]` section. */
export function parseBitcoinConf(text: string): { top: Map<string, string>; sections: Map<string, Map<string, string>> } {
  const top = new Map<string, string>();
  const sections = new Map<string, Map<string, string>>();
  let current = top;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) {
      current = sections.get(section[1]) ?? new Map<string, string>();
      sections.set(section[1], current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return { top, sections };
}

function chainOf(options: Map<string, string>): string | null {
  const chain = options.get('chain');
  if (chain) return chain;
  if (options.get('regtest') === '1') return 'regtest';
  if (options.get('testnet4') === '1') return 'testnet4';
  if (options.get('testnet') === '1') return 'test';
  if (options.get('signet') === '1') return 'signet';
  return null;
}

function portOf(value: string | undefined): number | null {
  if (value === undefined) return null;
  const port = Number(value.replace(/^.*:/, ''));
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : null;
}

/** The name of a node by its datadir: `node3` in the functional test framework's layout, else the folder's name. */
export function nodeName(datadir: string | null, pid: number): string {
  if (datadir === null) return `pid ${pid}`;
  return basename(datadir.replace(/\/+$/, '')) || datadir;
}

/**
 * The node event of a process from its command line (argv) and, when readable, its bitcoin.conf (`confText`).
 * `cwd` resolves a relative -datadir.
 */
export function nodeIdentityFrom(pid: number, argv: readonly string[], cwd: string | null, confText: string | null): NodeEvent {
  const options = commandLineOptions(argv);
  let datadir = options.get('datadir') ?? null;
  if (datadir !== null && !datadir.startsWith('/') && cwd !== null) datadir = join(cwd, datadir);
  const conf = confText === null ? null : parseBitcoinConf(confText);
  const chain = chainOf(options) ?? (conf ? chainOf(conf.top) : null) ?? 'main';
  const lookup = (name: string): string | undefined => options.get(name) ?? conf?.sections.get(chain)?.get(name) ?? (chain === 'main' ? conf?.top.get(name) : undefined);
  const p2pPort = portOf(lookup('port')) ?? (lookup('listen') === '0' ? null : (DEFAULT_P2P_PORTS[chain] ?? null));
  const rpcPort = portOf(lookup('rpcport')) ?? DEFAULT_RPC_PORTS[chain] ?? null;
  return {
    event: 'node',
    pid,
    node: nodeName(datadir, pid),
    run: datadir === null ? null : dirname(datadir.replace(/\/+$/, '')),
    datadir,
    chain,
    p2p_port: p2pPort,
    rpc_port: rpcPort,
  };
}

/** Reads process `pid`'s identity from /proc (its command line, working directory) and its bitcoin.conf. */
export async function readNodeIdentity(pid: number, procRoot = '/proc'): Promise<NodeEvent> {
  const cmdline = await readFile(`${procRoot}/${pid}/cmdline`, 'utf8');
  const argv = cmdline.split('\0').filter((part) => part !== '');
  const options = commandLineOptions(argv);
  const cwd = await readlink(`${procRoot}/${pid}/cwd`).catch(() => null);
  let datadir = options.get('datadir') ?? null;
  if (datadir !== null && !datadir.startsWith('/') && cwd !== null) datadir = join(cwd, datadir);
  const confPath = options.get('conf') ?? (datadir === null ? null : join(datadir, 'bitcoin.conf'));
  const confText = confPath === null ? null : await readFile(confPath.startsWith('/') || datadir === null ? confPath : join(datadir, confPath), 'utf8').catch(() => null);
  return nodeIdentityFrom(pid, argv, cwd, confText);
}
