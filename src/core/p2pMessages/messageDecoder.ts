import { createHash } from 'node:crypto';
import { ByteReader, DecodeError, hashToDisplayHex, toHex } from './byteReader';
import { BIP155_NETWORKS, formatAddrV2, formatLegacyAddress } from './networkAddress';

/** One line of a decoded message, as a tree for display. */
export interface DecodedField {
  readonly name: string;
  readonly value: string;
  readonly children?: readonly DecodedField[];
}

export type DecodedMessage =
  | { readonly status: 'decoded'; readonly msgType: string; readonly summary: string; readonly fields: readonly DecodedField[]; readonly warnings: readonly string[] }
  | { readonly status: 'cannot-decode'; readonly msgType: string; readonly reason: string }
  | { readonly status: 'not-supported'; readonly msgType: string };

/** Protocol limits from Bitcoin Core's net_processing / protocol.h: bound every count. */
const MAX_INV_SZ = 50_000;
const MAX_ADDR_TO_SEND = 1_000;
const MAX_HEADERS_RESULTS = 2_000;
const MAX_LOCATOR_SZ = 101;
const MAX_SUBVERSION_LENGTH = 256;
const MAX_PROTOCOL_MESSAGE_LENGTH = 4_000_000;
/** BIP 434 `feature` (Bitcoin Core protocol.h, v32.0 / PR 35221): the feature id has 4 to 80 bytes, its data at most 512. */
const MIN_FEATUREID_LENGTH = 4;
const MAX_FEATUREID_LENGTH = 80;
const MAX_FEATUREDATA_LENGTH = 512;
/** A transaction has at most this many inputs/outputs/witness items in a 4 MB message. */
const MAX_TX_ITEMS = MAX_PROTOCOL_MESSAGE_LENGTH / 9;
/** How many list entries are shown; the count is always shown in full. */
const LIST_DISPLAY_LIMIT = 200;

const INV_TYPES: Readonly<Record<number, string>> = {
  0: 'ERROR',
  1: 'MSG_TX',
  2: 'MSG_BLOCK',
  3: 'MSG_FILTERED_BLOCK',
  4: 'MSG_CMPCT_BLOCK',
  5: 'MSG_WTX',
  0x40000001: 'MSG_WITNESS_TX',
  0x40000002: 'MSG_WITNESS_BLOCK',
  0x40000003: 'MSG_FILTERED_WITNESS_BLOCK',
};

const SERVICE_FLAGS: ReadonlyArray<[bigint, string]> = [
  [1n, 'NETWORK'],
  [1n << 2n, 'BLOOM'],
  [1n << 3n, 'WITNESS'],
  [1n << 6n, 'COMPACT_FILTERS'],
  [1n << 10n, 'NETWORK_LIMITED'],
  [1n << 11n, 'P2P_V2'],
];

const EMPTY_MESSAGES = new Set(['verack', 'getaddr', 'mempool', 'sendheaders', 'wtxidrelay', 'sendaddrv2', 'filterclear']);

function sha256d(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(createHash('sha256').update(bytes).digest()).digest();
}

function field(name: string, value: string | number | bigint | boolean, children?: DecodedField[]): DecodedField {
  return children ? { name, value: String(value), children } : { name, value: String(value) };
}

export function formatServices(services: bigint): string {
  const names = SERVICE_FLAGS.filter(([bit]) => (services & bit) !== 0n).map(([, name]) => name);
  const known = SERVICE_FLAGS.reduce((acc, [bit]) => acc | bit, 0n);
  if ((services & ~known) !== 0n) names.push(`0x${(services & ~known).toString(16)}`);
  return `0x${services.toString(16).padStart(16, '0')}${names.length ? ` (${names.join(' | ')})` : ''}`;
}

function formatTime(seconds: bigint | number): string {
  const ms = Number(seconds) * 1000;
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? `${seconds} (${new Date(ms).toISOString()})` : String(seconds);
}

function formatBtc(sat: bigint): string {
  const sign = sat < 0n ? '-' : '';
  const abs = sat < 0n ? -sat : sat;
  return `${sign}${abs / 100_000_000n}.${(abs % 100_000_000n).toString().padStart(8, '0')} BTC`;
}

/** Shows at most LIST_DISPLAY_LIMIT children and says how many were left out. */
function listField(name: string, count: number, items: DecodedField[]): DecodedField {
  const shown = items.slice(0, LIST_DISPLAY_LIMIT);
  if (count > shown.length) shown.push(field('…', `${count - shown.length} more not shown`));
  return field(name, count, shown);
}

function readHeader(reader: ByteReader): { hash: string; fields: DecodedField[] } {
  const raw = reader.bytesOf(80, 'block header');
  const r = new ByteReader(raw);
  const version = r.i32();
  const prev = hashToDisplayHex(r.bytesOf(32));
  const merkle = hashToDisplayHex(r.bytesOf(32));
  const time = r.u32();
  const bits = r.u32();
  const nonce = r.u32();
  const hash = hashToDisplayHex(sha256d(raw));
  return {
    hash,
    fields: [
      field('hash', hash),
      field('version', `0x${(version >>> 0).toString(16)}`),
      field('prev_block', prev),
      field('merkle_root', merkle),
      field('time', formatTime(time)),
      field('bits', `0x${bits.toString(16).padStart(8, '0')}`),
      field('nonce', nonce),
    ],
  };
}

interface DecodedTx {
  txid: string;
  wtxid: string;
  fields: DecodedField[];
  inputs: number;
  outputs: number;
  size: number;
}

function scriptType(script: Uint8Array): string {
  const n = script.length;
  if (n === 25 && script[0] === 0x76 && script[1] === 0xa9 && script[2] === 0x14 && script[23] === 0x88 && script[24] === 0xac) return 'p2pkh';
  if (n === 23 && script[0] === 0xa9 && script[1] === 0x14 && script[22] === 0x87) return 'p2sh';
  if (n === 22 && script[0] === 0x00 && script[1] === 0x14) return 'p2wpkh';
  if (n === 34 && script[0] === 0x00 && script[1] === 0x20) return 'p2wsh';
  if (n === 34 && script[0] === 0x51 && script[1] === 0x20) return 'p2tr';
  if (n === 4 && script[0] === 0x51 && script[1] === 0x02 && script[2] === 0x4e && script[3] === 0x73) return 'p2a (anchor)';
  if (n > 0 && script[0] === 0x6a) return 'op_return';
  if ((n === 35 || n === 67) && script[n - 1] === 0xac) return 'p2pk';
  return 'nonstandard';
}

function readTransaction(reader: ByteReader): DecodedTx {
  const start = reader.position;
  const version = reader.i32('tx version');
  let segwit = false;
  let inputCount = reader.compactSize('input count', MAX_TX_ITEMS);
  let bodyStart = start + 4;
  if (inputCount === 0) {
    const flag = reader.u8('segwit flag');
    if (flag !== 1) throw new DecodeError(`segwit flag is ${flag}, expected 1`);
    segwit = true;
    bodyStart = reader.position;
    inputCount = reader.compactSize('input count', MAX_TX_ITEMS);
  }
  const inputs: DecodedField[] = [];
  for (let i = 0; i < inputCount; i++) {
    const prevTxid = hashToDisplayHex(reader.bytesOf(32, `input ${i} prevout`));
    const prevIndex = reader.u32(`input ${i} prevout index`);
    const scriptLength = reader.compactSize(`input ${i} script length`, MAX_PROTOCOL_MESSAGE_LENGTH);
    const script = reader.bytesOf(scriptLength, `input ${i} script`);
    const sequence = reader.u32(`input ${i} sequence`);
    if (i < LIST_DISPLAY_LIMIT) {
      inputs.push(field(`#${i}`, `${prevTxid}:${prevIndex}`, [field('script_sig', `${scriptLength} bytes ${toHex(script.subarray(0, 80))}${scriptLength > 80 ? '…' : ''}`), field('sequence', `0x${sequence.toString(16).padStart(8, '0')}`)]));
    }
  }
  const outputCount = reader.compactSize('output count', MAX_TX_ITEMS);
  const outputs: DecodedField[] = [];
  for (let i = 0; i < outputCount; i++) {
    const value = reader.i64(`output ${i} value`);
    const scriptLength = reader.compactSize(`output ${i} script length`, MAX_PROTOCOL_MESSAGE_LENGTH);
    const script = reader.bytesOf(scriptLength, `output ${i} script`);
    if (i < LIST_DISPLAY_LIMIT) outputs.push(field(`#${i}`, `${formatBtc(value)} ${scriptType(script)}`, [field('value_sat', value), field('script_pubkey', toHex(script.subarray(0, 80)) + (scriptLength > 80 ? '…' : ''))]));
  }
  const bodyEnd = reader.position;
  let witnessItems = 0;
  if (segwit) {
    for (let i = 0; i < inputCount; i++) {
      const items = reader.compactSize(`input ${i} witness count`, MAX_TX_ITEMS);
      witnessItems += items;
      for (let j = 0; j < items; j++) reader.bytesOf(reader.compactSize(`witness item length`, MAX_PROTOCOL_MESSAGE_LENGTH), 'witness item');
    }
  }
  const lockTime = reader.u32('lock time');
  const end = reader.position;
  const whole = reader.slice(start, end);
  const stripped = segwit
    ? Uint8Array.from([...whole.subarray(0, 4), ...reader.slice(bodyStart, bodyEnd), ...whole.subarray(whole.length - 4)])
    : whole;
  const txid = hashToDisplayHex(sha256d(stripped));
  const wtxid = segwit ? hashToDisplayHex(sha256d(whole)) : txid;
  const weight = stripped.length * 3 + whole.length;
  return {
    txid,
    wtxid,
    inputs: inputCount,
    outputs: outputCount,
    size: whole.length,
    fields: [
      field('txid', txid),
      ...(segwit ? [field('wtxid', wtxid)] : []),
      field('version', version),
      field('size', `${whole.length} bytes, vsize ${Math.ceil(weight / 4)} vB, weight ${weight} WU`),
      listField('inputs', inputCount, inputs),
      listField('outputs', outputCount, outputs),
      ...(segwit ? [field('witness_items', witnessItems)] : []),
      field('lock_time', lockTime),
    ],
  };
}

type Decoder = (reader: ByteReader) => { summary: string; fields: DecodedField[] };

function legacyAddress(reader: ByteReader, label: string, withTime: boolean): { text: string; fields: DecodedField[] } {
  const time = withTime ? reader.u32(`${label} time`) : undefined;
  const services = reader.u64(`${label} services`);
  const ip = formatLegacyAddress(reader.bytesOf(16, `${label} address`));
  const port = reader.u16be(`${label} port`);
  const text = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
  return { text, fields: [...(time !== undefined ? [field('time', formatTime(time))] : []), field('services', formatServices(services)), field('address', text)] };
}

function inventory(reader: ByteReader): { summary: string; fields: DecodedField[] } {
  const count = reader.compactSize('inventory count', MAX_INV_SZ);
  const byType = new Map<string, number>();
  const entries: DecodedField[] = [];
  for (let i = 0; i < count; i++) {
    const type = reader.u32('inventory type');
    const name = INV_TYPES[type] ?? `type 0x${type.toString(16)}`;
    const hash = hashToDisplayHex(reader.bytesOf(32, 'inventory hash'));
    byType.set(name, (byType.get(name) ?? 0) + 1);
    if (i < LIST_DISPLAY_LIMIT) entries.push(field(name, hash));
  }
  const breakdown = [...byType].map(([name, n]) => `${n} ${name}`).join(', ');
  return { summary: `${count} entr${count === 1 ? 'y' : 'ies'}${breakdown ? `: ${breakdown}` : ''}`, fields: [listField('inventory', count, entries)] };
}

function locator(reader: ByteReader): { summary: string; fields: DecodedField[] } {
  const version = reader.u32('version');
  const count = reader.compactSize('locator count', MAX_LOCATOR_SZ);
  const hashes: DecodedField[] = [];
  for (let i = 0; i < count; i++) hashes.push(field(`#${i}`, hashToDisplayHex(reader.bytesOf(32, 'locator hash'))));
  const stop = hashToDisplayHex(reader.bytesOf(32, 'stop hash'));
  return { summary: `${count} locator hashes${count ? `, tip ${hashes[0].value.slice(0, 16)}…` : ''}`, fields: [field('version', version), listField('locator', count, hashes), field('hash_stop', stop)] };
}

function pingPong(r: ByteReader): { summary: string; fields: DecodedField[] } {
  const nonce = r.u64('nonce');
  return { summary: `nonce 0x${nonce.toString(16)}`, fields: [field('nonce', `0x${nonce.toString(16).padStart(16, '0')}`)] };
}

const DECODERS: Readonly<Record<string, Decoder>> = {
  version(r) {
    const version = r.i32('version');
    const services = r.u64('services');
    const timestamp = r.i64('timestamp');
    const recv = legacyAddress(r, 'addr_recv', false);
    const from = legacyAddress(r, 'addr_from', false);
    const nonce = r.u64('nonce');
    const userAgent = r.varString('user agent', MAX_SUBVERSION_LENGTH);
    const startHeight = r.i32('start height');
    const relay = r.remaining > 0 ? r.u8('relay') !== 0 : undefined;
    return {
      summary: `${version} ${userAgent} height ${startHeight}`,
      fields: [
        field('version', version),
        field('services', formatServices(services)),
        field('timestamp', formatTime(timestamp)),
        field('addr_recv', recv.text, recv.fields),
        field('addr_from', from.text, from.fields),
        field('nonce', `0x${nonce.toString(16).padStart(16, '0')}`),
        field('user_agent', userAgent),
        field('start_height', startHeight),
        ...(relay !== undefined ? [field('relay', relay)] : []),
      ],
    };
  },
  ping: pingPong,
  pong: pingPong,
  inv: inventory,
  getdata: inventory,
  notfound: inventory,
  addr(r) {
    const count = r.compactSize('address count', MAX_ADDR_TO_SEND);
    const entries: DecodedField[] = [];
    for (let i = 0; i < count; i++) {
      const address = legacyAddress(r, `address ${i}`, true);
      if (i < LIST_DISPLAY_LIMIT) entries.push(field(`#${i}`, address.text, address.fields));
    }
    return { summary: `${count} address${count === 1 ? '' : 'es'}`, fields: [listField('addresses', count, entries)] };
  },
  addrv2(r) {
    const count = r.compactSize('address count', MAX_ADDR_TO_SEND);
    const entries: DecodedField[] = [];
    const byNetwork = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const time = r.u32('time');
      const services = BigInt(r.compactSize('services'));
      const networkId = r.u8('network id');
      const length = r.compactSize('address length', 512);
      const network = BIP155_NETWORKS[networkId];
      if (network && network.length !== length) throw new DecodeError(`address ${i}: ${network.name} address has ${length} bytes, expected ${network.length}`);
      const address = formatAddrV2(networkId, r.bytesOf(length, 'address'));
      const port = r.u16be('port');
      const networkName = network?.name ?? `network ${networkId}`;
      byNetwork.set(networkName, (byNetwork.get(networkName) ?? 0) + 1);
      const text = networkId === 2 || networkId === 6 ? `[${address}]:${port}` : `${address}:${port}`;
      if (i < LIST_DISPLAY_LIMIT) entries.push(field(`#${i}`, text, [field('network', networkName), field('time', formatTime(time)), field('services', formatServices(services))]));
    }
    const breakdown = [...byNetwork].map(([name, n]) => `${n} ${name}`).join(', ');
    return { summary: `${count} address${count === 1 ? '' : 'es'}${breakdown ? `: ${breakdown}` : ''}`, fields: [listField('addresses', count, entries)] };
  },
  headers(r) {
    const count = r.compactSize('header count', MAX_HEADERS_RESULTS);
    const headers: DecodedField[] = [];
    for (let i = 0; i < count; i++) {
      const header = readHeader(r);
      const txCount = r.compactSize('header tx count');
      if (i < LIST_DISPLAY_LIMIT) headers.push(field(`#${i}`, header.hash, [...header.fields, field('tx_count', txCount)]));
    }
    return { summary: `${count} header${count === 1 ? '' : 's'}${count ? `, last ${headers[Math.min(count, LIST_DISPLAY_LIMIT) - 1].value.slice(0, 16)}…` : ''}`, fields: [listField('headers', count, headers)] };
  },
  getheaders: locator,
  getblocks: locator,
  tx(r) {
    const tx = readTransaction(r);
    return { summary: `${tx.txid.slice(0, 16)}… ${tx.inputs} in, ${tx.outputs} out, ${tx.size} bytes`, fields: tx.fields };
  },
  block(r) {
    const header = readHeader(r);
    const count = r.compactSize('transaction count', MAX_TX_ITEMS);
    const txs: DecodedField[] = [];
    for (let i = 0; i < count; i++) {
      const tx = readTransaction(r);
      if (i < LIST_DISPLAY_LIMIT) txs.push(field(`#${i}`, tx.txid, tx.fields));
    }
    return { summary: `${header.hash.slice(0, 16)}… ${count} transactions`, fields: [field('header', header.hash, header.fields), listField('transactions', count, txs)] };
  },
  cmpctblock(r) {
    const header = readHeader(r);
    const nonce = r.u64('nonce');
    const shortIdCount = r.compactSize('short id count', MAX_TX_ITEMS);
    r.bytesOf(shortIdCount * 6, 'short ids');
    const prefilledCount = r.compactSize('prefilled count', MAX_TX_ITEMS);
    const prefilled: DecodedField[] = [];
    let index = -1;
    for (let i = 0; i < prefilledCount; i++) {
      index += r.compactSize('prefilled index') + 1;
      const tx = readTransaction(r);
      if (i < LIST_DISPLAY_LIMIT) prefilled.push(field(`index ${index}`, tx.txid, tx.fields));
    }
    return {
      summary: `${header.hash.slice(0, 16)}… ${shortIdCount} short ids, ${prefilledCount} prefilled`,
      fields: [field('header', header.hash, header.fields), field('nonce', `0x${nonce.toString(16).padStart(16, '0')}`), field('short_ids', shortIdCount), listField('prefilled_txs', prefilledCount, prefilled)],
    };
  },
  feefilter(r) {
    const feeRate = r.i64('fee rate');
    return { summary: `${feeRate} sat/kvB`, fields: [field('fee_rate', `${feeRate} sat/kvB (${Number(feeRate) / 1000} sat/vB)`)] };
  },
  /**
   * BIP 434 peer feature negotiation: sent between version and verack by peers of protocol version 70017 or
   * newer, one message per feature; an unknown feature id is ignored by the receiver.
   */
  feature(r) {
    const idLength = r.compactSize('feature id length', MAX_FEATUREID_LENGTH);
    if (idLength < MIN_FEATUREID_LENGTH) throw new DecodeError(`feature id of ${idLength} bytes, BIP 434 asks for at least ${MIN_FEATUREID_LENGTH}`);
    const id = new TextDecoder('utf-8', { fatal: false }).decode(r.bytesOf(idLength, 'feature id'));
    const dataLength = r.compactSize('feature data length', MAX_FEATUREDATA_LENGTH);
    const data = r.bytesOf(dataLength, 'feature data');
    return {
      summary: `${id}, ${dataLength} byte${dataLength === 1 ? '' : 's'} of data`,
      fields: [field('featureid', id), field('featuredata', dataLength > 0 ? toHex(data) : '(empty)')],
    };
  },
  sendcmpct(r) {
    const announce = r.u8('announce') !== 0;
    const version = r.u64('version');
    return { summary: `announce ${announce}, version ${version}`, fields: [field('announce', announce), field('version', version)] };
  },
};

/**
 * Decodes a message payload (the bytes a `net:*_message` tracepoint passes, without the 24-byte
 * header). Never throws: a payload that does not parse gives `cannot-decode` with the reason.
 * `declaredSize` is the size the tracepoint reported; when fewer bytes were captured, the message
 * is decoded as far as the bytes go and says so.
 */
export function decodeMessage(msgType: string, payload: Uint8Array, declaredSize = payload.length): DecodedMessage {
  const truncatedNote = declaredSize > payload.length ? `captured ${payload.length} of ${declaredSize} bytes` : undefined;
  if (EMPTY_MESSAGES.has(msgType)) {
    const warnings = payload.length > 0 ? [`${payload.length} unexpected payload bytes`] : [];
    return { status: 'decoded', msgType, summary: '(no payload)', fields: [], warnings };
  }
  const decoder = Object.prototype.hasOwnProperty.call(DECODERS, msgType) ? DECODERS[msgType] : undefined;
  if (!decoder) return { status: 'not-supported', msgType };
  const reader = new ByteReader(payload);
  try {
    const { summary, fields } = decoder(reader);
    const warnings: string[] = [];
    if (reader.remaining > 0) warnings.push(`${reader.remaining} trailing bytes after the ${msgType} payload`);
    if (truncatedNote) warnings.push(truncatedNote);
    return { status: 'decoded', msgType, summary, fields, warnings };
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    const reason = truncatedNote ? `${error.message} (${truncatedNote})` : error.message;
    return { status: 'cannot-decode', msgType, reason: `cannot decode ${msgType}: ${reason}` };
  }
}
