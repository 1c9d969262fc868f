// Bitcoin Core's USDT tracepoints (v22 to v31 and master 31.99), as documented in the shared tracepoints.md and
// checked against the notes and call sites of real builds (master 31.99 of 2026-08-18, 28.99 of 2024-09-10).
// Argument indexes are 0-based (bpftrace `argN`); BCC's `bpf_usdt_readarg(i, …)` is 1-based.
// The `field` names are the names used in the event stream: keep them stable.

import type { ClientVersion } from '../elf/clientVersion';

export type TracepointContext = 'net' | 'validation' | 'utxocache' | 'mempool' | 'coin_selection';

/** A Bitcoin Core release (v32 is the one master 31.99 leads to). */
export type BitcoinCoreVersion = 'v22' | 'v23' | 'v24' | 'v25' | 'v29' | 'v30' | 'v31' | 'v32';

/** Whether a build has what release `since` introduced: 'maybe' for a development build just before it (N.99). */
export function versionAtLeast(version: ClientVersion, since: BitcoinCoreVersion): boolean | 'maybe' {
  const release = Number(since.slice(1));
  if (version.major >= release) return true;
  return version.major === release - 1 && version.minor === 99 ? 'maybe' : false;
}

/** A change of a tracepoint between releases, with the release it holds from and the evidence. */
export interface TracepointChange {
  readonly since: BitcoinCoreVersion;
  readonly change: string;
}

/** The C type of a tracepoint argument, as the documentation names it. */
export type ArgCType = 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool' | 'char*' | 'uchar*';

/**
 * How a value is read and shown: `hash` is a pointer to 32 raw bytes in internal (little-endian) order,
 * shown reversed as hex; `bytes` is a pointer to a raw buffer; `string` a NUL-terminated C string.
 */
export type ArgValueKind = 'integer' | 'boolean' | 'string' | 'hash' | 'bytes';

/** Named values of an integer argument (see NETWORK_NAMES and FLUSH_MODE_NAMES). */
export type ArgValueNames = 'network' | 'flushMode';

export interface TracepointArgDoc {
  /** 0-based position (bpftrace `argN`). */
  readonly index: number;
  /** Name of this value in the event stream (snake_case). */
  readonly field: string;
  readonly cType: ArgCType;
  readonly kind: ArgValueKind;
  readonly meaning: string;
  /** Human-readable limits, e.g. "≤ 68 chars" or "32 raw bytes, little-endian → shown reversed". */
  readonly limits?: string;
  /** Documented maximum length of a string, in characters (without the NUL). */
  readonly maxLength?: number;
  /** Length of the buffer a `hash` points to. */
  readonly byteLength?: number;
  readonly units?: string;
  readonly valueNames?: ArgValueNames;
  /** Only raw tools read it (message bytes): not part of the normal event stream. */
  readonly rawToolOnly?: boolean;
  /** Not passed by every release that has this tracepoint. */
  readonly notInOlderReleases?: string;
  /** Releases before `before` pass one of `cTypes` instead (the interface check accepts them there). */
  readonly olderCType?: { readonly before: BitcoinCoreVersion; readonly cTypes: readonly ArgCType[]; readonly note: string };
}

export interface TracepointDoc {
  /** "context:event", e.g. "net:inbound_message". */
  readonly id: string;
  readonly context: TracepointContext;
  readonly event: string;
  readonly versionAdded: BitcoinCoreVersion;
  /** When it fires and how to use it (one paragraph). */
  readonly description: string;
  readonly args: readonly TracepointArgDoc[];
  /**
   * Argument counts a binary may legitimately pass (older releases can pass fewer); the first is the
   * current count, equal to `args.length`.
   */
  readonly acceptedArgCounts: readonly number[];
  /** Releases before `before` pass `count` arguments. */
  readonly olderArgCount?: { readonly before: BitcoinCoreVersion; readonly count: number };
  /** Things that surprise users of this tracepoint. */
  readonly caveats: readonly string[];
  /** What changed in which release. */
  readonly changes: readonly TracepointChange[];
}

export interface ContextDoc {
  readonly context: TracepointContext;
  readonly title: string;
  readonly description: string;
  /** Releases that introduced tracepoints in this context. */
  readonly versions: readonly BitcoinCoreVersion[];
  /** Why every tracepoint of this context could be absent from a USDT build. */
  readonly absentHint?: string;
}

/** bpftrace 0.17 reads USDT arguments arg0 … arg5 only. */
export const BPFTRACE_017_MAX_ARG_INDEX = 5;

/** `network` argument of the connection tracepoints, indexed by value. */
export const NETWORK_NAMES: readonly string[] = ['unroutable', 'IPv4', 'IPv6', 'Onion', 'I2P', 'CJDNS'];

/**
 * `mode` argument of `utxocache:flush` (FlushStateMode), indexed by value, since v31 (Bitcoin Core #33680
 * renamed ALWAYS to FORCE_FLUSH and added FORCE_SYNC; validation.h of master 31.99).
 */
export const FLUSH_MODE_NAMES: readonly string[] = ['NONE', 'IF_NEEDED', 'PERIODIC', 'FORCE_FLUSH', 'FORCE_SYNC'];
/** The same before v31 (v23 to v30): mode 3 was ALWAYS, there was no mode 4. */
export const FLUSH_MODE_NAMES_BEFORE_V31: readonly string[] = ['NONE', 'IF_NEEDED', 'PERIODIC', 'ALWAYS'];

export interface ConnectionTypeDoc {
  readonly name: string;
  readonly description: string;
}

/** Values of the `conn_type` string argument. */
export const CONNECTION_TYPES: readonly ConnectionTypeDoc[] = [
  { name: 'inbound', description: 'A peer connected to us.' },
  { name: 'outbound-full-relay', description: 'Automatic outbound connection relaying blocks, transactions and addresses.' },
  { name: 'manual', description: 'Outbound connection requested with -addnode / -connect or the addnode RPC.' },
  { name: 'feeler', description: 'Short-lived outbound connection testing that an address is reachable.' },
  { name: 'block-relay-only', description: 'Automatic outbound connection relaying blocks only.' },
  { name: 'addr-fetch', description: 'Short-lived outbound connection asking for addresses.' },
  {
    name: 'private-broadcast',
    description: 'Short-lived outbound connection (through Tor or I2P) that only broadcasts one of our own transactions (v31+, -privatebroadcast).',
  },
];

/**
 * The FlushStateMode names of a build: before v31 mode 3 is ALWAYS, from v31 FORCE_FLUSH and mode 4 FORCE_SYNC.
 * A build of unknown version, or a development build just before v31 (30.99), gets the current names.
 */
export function flushModeNames(version: ClientVersion | null | undefined): readonly string[] {
  if (!version) return FLUSH_MODE_NAMES;
  return versionAtLeast(version, 'v31') === false ? FLUSH_MODE_NAMES_BEFORE_V31 : FLUSH_MODE_NAMES;
}

/** Name of a `utxocache:flush` mode in a build of this version (current names when unknown). */
export function flushModeName(mode: number, version?: ClientVersion | null): string {
  return flushModeNames(version)[mode] ?? `unknown (${mode})`;
}

export function networkName(network: number): string {
  return NETWORK_NAMES[network] ?? `unknown (${network})`;
}

export function valueName(names: ArgValueNames, value: number): string {
  return names === 'network' ? networkName(value) : flushModeName(value);
}

export const CONTEXT_DOCS: readonly ContextDoc[] = [
  {
    context: 'net',
    title: 'P2P network',
    description:
      'Messages sent to and received from peers (v22) and the life of connections: opened, evicted, ' +
      'closed, misbehaving (v29).',
    versions: ['v22', 'v29'],
  },
  {
    context: 'validation',
    title: 'Block validation',
    description: 'Fires after each block is connected to the chain: height, size and how long ConnectBlock took.',
    versions: ['v22'],
  },
  {
    context: 'utxocache',
    title: 'UTXO cache',
    description:
      'The in-memory UTXO cache: coins added, spent and uncached, and cache flushes to disk. Temporary copies ' +
      'of the cache (block template and mempool checks) fire these too.',
    versions: ['v23'],
  },
  {
    context: 'mempool',
    title: 'Mempool',
    description: 'Transactions added to, removed from, replaced in and rejected by the mempool.',
    versions: ['v25'],
  },
  {
    context: 'coin_selection',
    title: 'Wallet coin selection',
    description: 'The wallet choosing inputs and building transactions (CreateTransaction and Avoid Partial Spends).',
    versions: ['v24'],
    absentHint: 'the wallet is compiled out (CMake -DENABLE_WALLET=OFF, or ./configure --disable-wallet)',
  },
];

const HASH_LIMITS = '32 raw bytes, little-endian → shown reversed as hex';
const UNTRUSTED_STRING = 'Comes from the network: printable ASCII that may contain quotes, backslashes, < and commas.';

function peerIdArg(): TracepointArgDoc {
  return { index: 0, field: 'peer_id', cType: 'int64', kind: 'integer', meaning: 'Peer id (as in getpeerinfo)' };
}

function peerAddrArg(): TracepointArgDoc {
  return {
    index: 1,
    field: 'peer_addr',
    cType: 'char*',
    kind: 'string',
    meaning: 'Peer address and port (IPv4, IPv6, Tor v3, I2P, CJDNS)',
    limits: '≤ 68 chars normally (Tor v3 address with port); bpftrace cuts strings at 64 by default',
    maxLength: 68,
  };
}

function connTypeArg(): TracepointArgDoc {
  return {
    index: 2,
    field: 'conn_type',
    cType: 'char*',
    kind: 'string',
    meaning: 'Connection type (inbound, outbound-full-relay, manual, feeler, block-relay-only, addr-fetch; private-broadcast since v31)',
    limits: '≤ 20 chars',
    maxLength: 20,
  };
}

function networkArg(): TracepointArgDoc {
  return {
    index: 3,
    field: 'network',
    cType: 'uint32',
    kind: 'integer',
    meaning: 'Network of the peer address: 0 unroutable (localhost in tests), 1 IPv4, 2 IPv6, 3 Onion, 4 I2P, 5 CJDNS',
    limits: '0 … 5',
    valueNames: 'network',
  };
}

function messageArgs(): TracepointArgDoc[] {
  return [
    peerIdArg(),
    peerAddrArg(),
    connTypeArg(),
    {
      index: 3,
      field: 'msg_type',
      cType: 'char*',
      kind: 'string',
      meaning: `Message type (version, inv, ping, getdata, addrv2, …). ${UNTRUSTED_STRING}`,
      limits: '≤ 20 chars',
      maxLength: 20,
    },
    { index: 4, field: 'msg_size', cType: 'uint64', kind: 'integer', meaning: 'Message payload size', units: 'bytes' },
    {
      index: 5,
      field: 'msg',
      cType: 'uchar*',
      kind: 'bytes',
      meaning: 'Message payload bytes',
      limits: 'msg_size bytes; eBPF tools usually copy at most ~32 KB of it',
      rawToolOnly: true,
    },
  ];
}

function coinArgs(heightMeaning: string): TracepointArgDoc[] {
  return [
    { index: 0, field: 'txid', cType: 'uchar*', kind: 'hash', meaning: 'Transaction id of the coin', limits: HASH_LIMITS, byteLength: 32 },
    { index: 1, field: 'index', cType: 'uint32', kind: 'integer', meaning: 'Output index (vout)' },
    { index: 2, field: 'height', cType: 'uint32', kind: 'integer', meaning: heightMeaning },
    { index: 3, field: 'value', cType: 'int64', kind: 'integer', meaning: 'Value of the coin', units: 'satoshis' },
    { index: 4, field: 'is_coinbase', cType: 'bool', kind: 'boolean', meaning: 'Whether the coin is a coinbase output' },
  ];
}

const TEMPORARY_CACHE_CAVEAT =
  'Also fires for temporary copies of the UTXO cache (TestBlockValidity for getblocktemplate/generateblock, ' +
  'mempool consistency checks that run often on regtest): the main cache and copies cannot be told apart.';

function walletNameArg(): TracepointArgDoc {
  return { index: 0, field: 'wallet_name', cType: 'char*', kind: 'string', meaning: 'Name of the wallet ("" for the default wallet)' };
}

function doc(
  context: TracepointContext,
  event: string,
  versionAdded: BitcoinCoreVersion,
  description: string,
  args: TracepointArgDoc[],
  caveats: string[] = [],
  history: { changes?: TracepointChange[]; olderArgCount?: { before: BitcoinCoreVersion; count: number } } = {},
): TracepointDoc {
  return {
    id: `${context}:${event}`,
    context,
    event,
    versionAdded,
    description,
    args,
    acceptedArgCounts: [args.length, ...(history.olderArgCount ? [history.olderArgCount.count] : [])],
    ...(history.olderArgCount ? { olderArgCount: history.olderArgCount } : {}),
    caveats,
    changes: history.changes ?? [],
  };
}

function timeEstablishedArg(): TracepointArgDoc {
  return {
    index: 4,
    field: 'time_established',
    cType: 'int64',
    kind: 'integer',
    meaning: 'When the connection was established (a signed 64-bit count; doc/tracing.md says uint64)',
    units: 'UNIX seconds',
  };
}

export const TRACEPOINT_CATALOG: readonly TracepointDoc[] = [
  doc(
    'net',
    'inbound_message',
    'v22',
    'Fires for every P2P message received from a peer, after the header checks passed and before the message ' +
      'is processed. Passes the peer, its connection and the message. Use it to watch traffic per peer and ' +
      'message type (counts, bytes, rates), e.g. to see what a change does to relay behaviour.',
    messageArgs(),
    [
      'The message bytes (arg 5) can be large: eBPF tools copy at most ~32 KB; compare with msg_size to detect cut messages.',
      UNTRUSTED_STRING,
    ],
  ),
  doc(
    'net',
    'outbound_message',
    'v22',
    'Fires for every P2P message we send to a peer, when it is queued for sending. Passes the peer, its ' +
      'connection and the message. Pair it with net:inbound_message to follow request/reply sequences per peer.',
    messageArgs(),
    ['The message bytes (arg 5) can be large: eBPF tools copy at most ~32 KB; compare with msg_size to detect cut messages.'],
  ),
  doc(
    'net',
    'inbound_connection',
    'v29',
    'Fires when a peer opens a connection to us and it is accepted. Passes the new peer and how many inbound ' +
      'connections exist including this one. Use it to watch connection churn and which networks peers come from.',
    [
      peerIdArg(),
      peerAddrArg(),
      connTypeArg(),
      networkArg(),
      { index: 4, field: 'existing', cType: 'uint64', kind: 'integer', meaning: 'Number of inbound connections, including this one' },
    ],
  ),
  doc(
    'net',
    'outbound_connection',
    'v29',
    'Fires when we open an outbound connection (full-relay, block-relay-only, feeler, addr-fetch, manual). Passes ' +
      'the new peer and how many outbound connections exist including this one.',
    [
      peerIdArg(),
      peerAddrArg(),
      connTypeArg(),
      networkArg(),
      { index: 4, field: 'existing', cType: 'uint64', kind: 'integer', meaning: 'Number of outbound connections, including this one' },
    ],
  ),
  doc(
    'net',
    'evicted_inbound_connection',
    'v29',
    'Fires when an inbound connection is evicted to make room for a new one (the node is at its inbound limit; ' +
      'in builds after v31 also when the inbound slots for transaction-relaying peers are full). Passes the ' +
      'evicted peer and when the connection was established.',
    [peerIdArg(), peerAddrArg(), connTypeArg(), networkArg(), timeEstablishedArg()],
    [],
    {
      changes: [
        { since: 'v32', change: 'Also fires when the inbound slots for transaction-relaying peers are full (AttemptToEvictConnection(evict_tx_relay_peer_only), #28463; in master 31.99).' },
      ],
    },
  ),
  doc(
    'net',
    'closed_connection',
    'v29',
    'Fires when a connection to a peer is closed, for any reason (disconnect, eviction, misbehaviour, shutdown). ' +
      'Passes the peer and when the connection was established, so connection lifetimes can be measured.',
    [peerIdArg(), peerAddrArg(), connTypeArg(), networkArg(), timeEstablishedArg()],
  ),
  doc(
    'net',
    'misbehaving_connection',
    'v29',
    'Fires when a peer is marked as misbehaving. Passes the peer id and the reason. The peer is then normally ' +
      'disconnected and discouraged, but not when it has the noban permission or is a manual connection ' +
      '(a local peer is disconnected, not discouraged). Since v30 (and v29.3) invalid transactions no longer ' +
      'mark a peer as misbehaving: only blocks, headers and malformed messages do.',
    [
      peerIdArg(),
      { index: 1, field: 'message', cType: 'char*', kind: 'string', meaning: 'Why the peer is misbehaving', limits: '≤ 128 chars', maxLength: 128 },
    ],
    ['Not every misbehaving peer is disconnected: noban and manual peers stay (MaybeDiscourageAndDisconnect).'],
    {
      changes: [
        { since: 'v30', change: 'No longer fires for invalid transactions (MaybePunishNodeForTx removed, #33050; backported to v29.3).' },
      ],
    },
  ),
  doc(
    'validation',
    'block_connected',
    'v22',
    'Fires after each block is connected to the chain (after ConnectBlock). Passes the block hash, height, ' +
      'transaction, input and sigop counts and how long the connection took. Run bitcoind with -reindex or ' +
      '-reindex-chainstate to benchmark block validation.',
    [
      { index: 0, field: 'block_hash', cType: 'uchar*', kind: 'hash', meaning: 'Block header hash', limits: HASH_LIMITS, byteLength: 32 },
      { index: 1, field: 'height', cType: 'int32', kind: 'integer', meaning: 'Block height' },
      { index: 2, field: 'transactions', cType: 'uint64', kind: 'integer', meaning: 'Transactions in the block' },
      { index: 3, field: 'inputs', cType: 'int32', kind: 'integer', meaning: 'Inputs of all transactions in the block, the coinbase\'s one input included' },
      {
        index: 4,
        field: 'sigops',
        cType: 'int64',
        kind: 'integer',
        meaning: 'Signature operation cost of the block (legacy sigops ×4 + P2SH + witness), the coinbase\'s legacy sigops included',
        units: 'sigop cost (block limit 80,000)',
      },
      {
        index: 5,
        field: 'duration_ns',
        cType: 'int64',
        kind: 'integer',
        meaning: 'Time it took to connect the block',
        units: 'nanoseconds (since about v24; documented as µs before v28)',
        olderCType: {
          before: 'v29',
          cTypes: ['uint64'],
          note: 'Builds up to 28.99 pass a std::chrono duration object, which sdt.h marks unsigned (8@); 31.99 passes Ticks<nanoseconds>, a signed int64 (-8@).',
        },
      },
    ],
    [
      'The duration has been in nanoseconds since about v24 although the documentation said microseconds until ' +
        'v28: divide by 1e6 for milliseconds (contrib/tracing/connectblock_benchmark.bt divides by 1e9 and prints seconds as "ms").',
      'doc/tracing.md says sigops are a uint64 "excluding coinbase SigOps" and the duration a uint64: both are signed ' +
        '64-bit values, and the sigop cost includes the coinbase (GetTransactionSigOpCost over every transaction).',
    ],
    {
      changes: [
        { since: 'v29', change: 'duration_ns is a signed int64 (-8@); 28.99 passed it unsigned (8@).' },
      ],
    },
  ),
  doc(
    'utxocache',
    'flush',
    'v23',
    'Fires after the in-memory UTXO cache is flushed to disk. Passes how long the flush took, why it happened ' +
      '(mode), how many coins and bytes the cache held and whether pruning caused it. Use it to see how -dbcache ' +
      'and pruning affect flush frequency and cost.',
    [
      { index: 0, field: 'duration_us', cType: 'int64', kind: 'integer', meaning: 'Time the flush took', units: 'microseconds' },
      {
        index: 1,
        field: 'mode',
        cType: 'uint32',
        kind: 'integer',
        meaning: 'Flush state mode: 0 NONE, 1 IF_NEEDED, 2 PERIODIC, 3 FORCE_FLUSH, 4 FORCE_SYNC (v31+; before: 3 ALWAYS, no 4)',
        limits: '0 … 4 (0 … 3 before v31)',
        valueNames: 'flushMode',
      },
      { index: 2, field: 'coins_count', cType: 'uint64', kind: 'integer', meaning: 'Coins in the cache before the flush' },
      { index: 3, field: 'coins_mem_usage', cType: 'uint64', kind: 'integer', meaning: 'Memory used by the cache', units: 'bytes' },
      { index: 4, field: 'is_flush_for_prune', cType: 'bool', kind: 'boolean', meaning: 'Whether pruning caused the flush' },
    ],
    ['The names of the modes follow the build: mode 3 is ALWAYS before v31 and FORCE_FLUSH from v31; mode 4 (FORCE_SYNC) exists from v31.'],
    {
      changes: [
        { since: 'v31', change: 'Mode 3 ALWAYS is renamed FORCE_FLUSH and mode 4 FORCE_SYNC is added (#33680).' },
      ],
    },
  ),
  doc(
    'utxocache',
    'add',
    'v23',
    'Fires when a coin is added to a UTXO cache, e.g. for each output of a connected block. Passes the outpoint, ' +
      'height, value and coinbase flag.',
    coinArgs('Height of the block that created the coin'),
    [TEMPORARY_CACHE_CAVEAT],
  ),
  doc(
    'utxocache',
    'spent',
    'v23',
    'Fires when a coin is spent from a UTXO cache, e.g. for each input of a connected block. Passes the outpoint, ' +
      'height, value and coinbase flag.',
    coinArgs('Height of the block that created the coin'),
    [TEMPORARY_CACHE_CAVEAT, 'The name is "spent": the contrib/tracing README says "spend", which does not exist.'],
  ),
  doc(
    'utxocache',
    'uncache',
    'v23',
    'Fires when a coin is deliberately removed from a UTXO cache, e.g. a coin loaded to check a transaction that ' +
      'turned out invalid, so the cache does not fill with irrelevant coins.',
    coinArgs('Height of the block that created the coin'),
    [TEMPORARY_CACHE_CAVEAT],
  ),
  doc(
    'mempool',
    'added',
    'v25',
    'Fires when a transaction enters the mempool. Passes its txid, virtual size and fee; with mempool:removed it ' +
      'gives the mempool size and fee rates over time.',
    [
      { index: 0, field: 'txid', cType: 'uchar*', kind: 'hash', meaning: 'Transaction id', limits: HASH_LIMITS, byteLength: 32 },
      { index: 1, field: 'vsize', cType: 'int32', kind: 'integer', meaning: 'Virtual size', units: 'vbytes' },
      { index: 2, field: 'fee', cType: 'int64', kind: 'integer', meaning: 'Fee', units: 'satoshis' },
    ],
  ),
  doc(
    'mempool',
    'removed',
    'v25',
    'Fires when a transaction leaves the mempool, with the reason (expiry, sizelimit, reorg, block, conflict, ' +
      'replaced). A connected block removes its transactions at once, so this arrives in bursts of thousands.',
    [
      { index: 0, field: 'txid', cType: 'uchar*', kind: 'hash', meaning: 'Transaction id', limits: HASH_LIMITS, byteLength: 32 },
      {
        index: 1,
        field: 'reason',
        cType: 'char*',
        kind: 'string',
        meaning: 'Removal reason: expiry, sizelimit, reorg, block, conflict or replaced',
        limits: '≤ 9 chars',
        maxLength: 9,
      },
      { index: 2, field: 'vsize', cType: 'int32', kind: 'integer', meaning: 'Virtual size', units: 'vbytes' },
      { index: 3, field: 'fee', cType: 'int64', kind: 'integer', meaning: 'Fee', units: 'satoshis' },
      { index: 4, field: 'entry_time', cType: 'uint64', kind: 'integer', meaning: 'When the transaction entered the mempool', units: 'UNIX seconds' },
    ],
    ['A connected block removes thousands of transactions at once: size buffers for bursts.'],
  ),
  doc(
    'mempool',
    'replaced',
    'v25',
    'Fires when a mempool transaction is replaced (RBF), once per replaced transaction: a replacement that ' +
      'evicts several transactions fires several times with the same replacement data. Passes both sides: the ' +
      'replaced transaction\'s own vsize and base fee, and (since v29) the whole replacing sub-package\'s total ' +
      'vsize and modified fee.',
    [
      { index: 0, field: 'replaced_txid', cType: 'uchar*', kind: 'hash', meaning: 'Txid of the replaced transaction', limits: HASH_LIMITS, byteLength: 32 },
      { index: 1, field: 'replaced_vsize', cType: 'int32', kind: 'integer', meaning: 'Virtual size of the replaced transaction', units: 'vbytes' },
      { index: 2, field: 'replaced_fee', cType: 'int64', kind: 'integer', meaning: 'Base fee of the replaced transaction (without prioritisetransaction deltas)', units: 'satoshis' },
      {
        index: 3,
        field: 'replaced_entry_time',
        cType: 'uint64',
        kind: 'integer',
        meaning: 'When the replaced transaction entered the mempool',
        units: 'UNIX seconds',
      },
      {
        index: 4,
        field: 'replacement_id',
        cType: 'uchar*',
        kind: 'hash',
        meaning: 'Txid of the replacement transaction, or the package hash for a package replacement',
        limits: HASH_LIMITS,
        byteLength: 32,
      },
      {
        index: 5,
        field: 'replacement_vsize',
        cType: 'int32',
        kind: 'integer',
        meaning: 'Total virtual size of the replacing sub-package (one transaction: its vsize)',
        units: 'vbytes',
      },
      {
        index: 6,
        field: 'replacement_fee',
        cType: 'int64',
        kind: 'integer',
        meaning: 'Modified fee of the whole replacing sub-package (one transaction: its fee plus prioritisetransaction deltas)',
        units: 'satoshis',
        limits: 'arg 6: beyond bpftrace 0.17 (arg0 … arg5)',
      },
      {
        index: 7,
        field: 'replaced_by_transaction',
        cType: 'bool',
        kind: 'boolean',
        meaning: 'true: replacement_id is a txid; false: it is a package hash',
        limits: 'arg 7: beyond bpftrace 0.17 (arg0 … arg5)',
        notInOlderReleases: 'Releases before v29 (v25 to v28) pass 7 arguments: no replaced_by_transaction.',
      },
    ],
    [
      'bpftrace 0.17 reads only arg0 … arg5: replacement_fee (arg 6) and replaced_by_transaction (arg 7) need ' +
        'another front end (BCC, libbpf) or a newer bpftrace.',
      'v25 to v28 pass 7 arguments: a tool that reads the 8th fails to load there (BCC: "jump out of range").',
    ],
    {
      olderArgCount: { before: 'v29', count: 7 },
      changes: [
        {
          since: 'v29',
          change: 'An 8th argument, replaced_by_transaction, and replacement_id may be a package hash; the replacement ' +
            'vsize and fee become those of the whole sub-package (package RBF, 2024-11-07; the 28.99 build of ' +
            '2024-09-10 has 7 arguments).',
        },
      ],
    },
  ),
  doc(
    'mempool',
    'rejected',
    'v25',
    'Fires when a transaction is not accepted into the mempool. Passes its txid and the rejection reason.',
    [
      { index: 0, field: 'txid', cType: 'uchar*', kind: 'hash', meaning: 'Transaction id', limits: HASH_LIMITS, byteLength: 32 },
      {
        index: 1,
        field: 'reason',
        cType: 'char*',
        kind: 'string',
        meaning: 'Rejection reason, e.g. "min relay fee not met" or "mempool-script-verify-flag-failed (…)" (before v30: "mandatory-script-verify-flag-failed (…)" / "non-mandatory-script-verify-flag (…)")',
        limits: '≤ 116 chars since v30 (≤ 118 before)',
        maxLength: 118,
      },
    ],
    [],
    {
      changes: [
        {
          since: 'v30',
          change: 'Script failures are "mempool-script-verify-flag-failed (…)" (≤ 116 chars) instead of ' +
            '"mandatory-script-verify-flag-failed (…)" (≤ 118) / "non-mandatory-script-verify-flag (…)" (#33183).',
        },
      ],
    },
  ),
  doc(
    'coin_selection',
    'selected_coins',
    'v24',
    'Fires when the wallet has selected coins (SelectCoins completed). Passes the algorithm that won, the target, ' +
      'the waste metric and the selected value: use it to compare coin selection algorithms.',
    [
      walletNameArg(),
      { index: 1, field: 'algo', cType: 'char*', kind: 'string', meaning: 'Coin selection algorithm (bnb, knapsack, srd, cg, …)' },
      { index: 2, field: 'target', cType: 'int64', kind: 'integer', meaning: 'Selection target', units: 'satoshis' },
      { index: 3, field: 'waste', cType: 'int64', kind: 'integer', meaning: 'Waste metric of the solution', units: 'satoshis' },
      { index: 4, field: 'selected_value', cType: 'int64', kind: 'integer', meaning: 'Total value of the selected inputs', units: 'satoshis' },
    ],
  ),
  doc(
    'coin_selection',
    'normal_create_tx_internal',
    'v24',
    'Fires when the first (normal) CreateTransactionInternal completes. Passes whether it succeeded, the fee and ' +
      'where the change output went.',
    [
      walletNameArg(),
      { index: 1, field: 'success', cType: 'bool', kind: 'boolean', meaning: 'Whether CreateTransactionInternal succeeded' },
      { index: 2, field: 'fee', cType: 'int64', kind: 'integer', meaning: 'Expected transaction fee', units: 'satoshis' },
      { index: 3, field: 'change_pos', cType: 'int32', kind: 'integer', meaning: 'Position of the change output', limits: '−1: no change output' },
    ],
  ),
  doc(
    'coin_selection',
    'attempting_aps_create_tx',
    'v24',
    'Fires when CreateTransactionInternal is called a second time for the optimistic Avoid Partial Spends ' +
      'attempt: the following coin_selection events belong to that attempt.',
    [walletNameArg()],
  ),
  doc(
    'coin_selection',
    'aps_create_tx_internal',
    'v24',
    'Fires when the Avoid Partial Spends CreateTransactionInternal completes. Passes whether its solution will be ' +
      'used, whether it succeeded, the fee and the change position.',
    [
      walletNameArg(),
      { index: 1, field: 'use_aps', cType: 'bool', kind: 'boolean', meaning: 'Whether the Avoid Partial Spends solution will be used' },
      { index: 2, field: 'success', cType: 'bool', kind: 'boolean', meaning: 'Whether CreateTransactionInternal succeeded' },
      { index: 3, field: 'fee', cType: 'int64', kind: 'integer', meaning: 'Expected transaction fee', units: 'satoshis' },
      { index: 4, field: 'change_pos', cType: 'int32', kind: 'integer', meaning: 'Position of the change output', limits: '−1: no change output' },
    ],
  ),
];

/** Caveats that concern all tracepoints or the tooling around them. */
export const GENERAL_CAVEATS: readonly string[] = [
  'v29+ binaries use semaphores (TRACEPOINT macro): a tracepoint fires, and its arguments are computed, only ' +
    'while a tracer raised its 2-byte semaphore. bpftrace raises it itself (kernel uprobe reference counter); ' +
    'BCC needs USDT(pid=…) of a running bitcoind.',
  'v22 to v28 binaries (TRACEx macros) have no semaphores: the arguments are always computed.',
  'bpftrace cuts strings at 64 bytes by default: raise BPFTRACE_STRLEN for Tor v3 addresses (68 chars) and ' +
    'long rejection reasons (116 chars, 118 before v30); bpftrace 0.17 keeps strings on the 512-byte BPF stack, so a few long ' +
    'strings in one event can fail to load.',
  'bpftrace 0.17 reads only arg0 … arg5 on x86-64; tracepoints with more arguments (mempool:replaced) need ' +
    'another front end (BCC, libbpf) or a newer bpftrace for the rest.',
  'Every string from a tracepoint is untrusted input (message types come from the network).',
  'Printing each event from the kernel loses events under load: count in the kernel or check the loss counters.',
  'Binaries built without USDT have no .note.stapsdt section: CMake -DWITH_USDT=ON (v29+) or ./configure ' +
    '--enable-usdt (v22–v28). Official Linux release binaries include the tracepoints since v23.',
];

const CATALOG_BY_ID: ReadonlyMap<string, TracepointDoc> = new Map(TRACEPOINT_CATALOG.map((entry) => [entry.id, entry]));

/** The documentation of `context:event`, or undefined when Bitcoin Core has no such tracepoint. */
export function findTracepointDoc(context: string, event: string): TracepointDoc | undefined {
  return CATALOG_BY_ID.get(`${context}:${event}`);
}

/** Same as findTracepointDoc, with a "context:event" id. */
export function findTracepointDocById(id: string): TracepointDoc | undefined {
  return CATALOG_BY_ID.get(id);
}

export function findContextDoc(context: string): ContextDoc | undefined {
  return CONTEXT_DOCS.find((entry) => entry.context === context);
}

export function tracepointsOfContext(context: string): readonly TracepointDoc[] {
  return TRACEPOINT_CATALOG.filter((entry) => entry.context === context);
}
