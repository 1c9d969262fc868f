import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { decodeMessage, type DecodedField, type DecodedMessage } from '../../src/core/p2pMessages/messageDecoder';
import { formatTorV3 } from '../../src/core/p2pMessages/networkAddress';
import { GENESIS_COINBASE, GENESIS_HASH, GENESIS_HEADER, GENESIS_TXID, SEGWIT_TX, VERACK, VERSION_093, VERSION_22 } from '../fixtures/p2pMessageVectors';

function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

/** Splits a wire message into its command and payload, checking the header's length and checksum. */
function payloadOf(wire: string): { command: string; payload: Uint8Array } {
  const bytes = Buffer.from(wire, 'hex');
  const command = bytes.subarray(4, 16).toString('latin1').replace(/\0+$/, '');
  const length = bytes.readUInt32LE(16);
  const payload = bytes.subarray(24);
  assert.equal(payload.length, length, 'header length');
  const checksum = createHash('sha256').update(createHash('sha256').update(payload).digest()).digest().subarray(0, 4);
  assert.deepEqual(checksum, bytes.subarray(20, 24), 'header checksum: the vector is a real message');
  return { command, payload: Uint8Array.from(payload) };
}

function decoded(message: DecodedMessage): Extract<DecodedMessage, { status: 'decoded' }> {
  assert.equal(message.status, 'decoded', JSON.stringify(message));
  return message as Extract<DecodedMessage, { status: 'decoded' }>;
}

function find(fields: readonly DecodedField[], path: string): DecodedField {
  let current: readonly DecodedField[] = fields;
  let found: DecodedField | undefined;
  for (const name of path.split('/')) {
    found = current.find((f) => f.name === name);
    assert.ok(found, `no field ${path} (at ${name}) in ${JSON.stringify(current.map((f) => f.name))}`);
    current = found.children ?? [];
  }
  return found as DecodedField;
}

describe('P2P message decoder', () => {
  it('decodes a real version message from Bitcoin Core 22.0', () => {
    const { command, payload } = payloadOf(VERSION_22);
    const message = decoded(decodeMessage(command, payload));
    assert.equal(find(message.fields, 'version').value, '70016');
    assert.equal(find(message.fields, 'user_agent').value, '/Satoshi:22.0.0/');
    assert.equal(find(message.fields, 'start_height').value, '704550');
    assert.equal(find(message.fields, 'relay').value, 'true');
    assert.equal(find(message.fields, 'addr_recv').value, '31.223.3.100:2142');
    assert.match(find(message.fields, 'services').value, /^0x0000000000000409 \(NETWORK \| WITNESS \| NETWORK_LIMITED\)$/);
    assert.match(find(message.fields, 'timestamp').value, /^1633974245 \(2021-10-11T/);
    assert.deepEqual(message.warnings, []);
  });

  it('decodes a real version message from Bitcoin Core 0.9.3', () => {
    const { command, payload } = payloadOf(VERSION_093);
    const message = decoded(decodeMessage(command, payload));
    assert.equal(find(message.fields, 'user_agent').value, '/Satoshi:0.9.3/');
    assert.equal(find(message.fields, 'start_height').value, String(0x0505cf));
    assert.equal(find(message.fields, 'addr_recv').value, '198.27.100.9:8333');
    assert.equal(find(message.fields, 'addr_from').value, '203.0.113.192:8333');
  });

  it('decodes an empty verack and flags unexpected payload bytes', () => {
    const { command, payload } = payloadOf(VERACK);
    assert.equal(command, 'verack');
    assert.deepEqual(decoded(decodeMessage(command, payload)).warnings, []);
    assert.deepEqual(decoded(decodeMessage('verack', hex('00'))).warnings, ['1 unexpected payload bytes']);
  });

  it('decodes the genesis block: block hash, txid and the merkle root agree', () => {
    const block = decoded(decodeMessage('block', hex(GENESIS_HEADER + '01' + GENESIS_COINBASE)));
    assert.equal(find(block.fields, 'header').value, GENESIS_HASH);
    assert.equal(find(block.fields, 'header/merkle_root').value, GENESIS_TXID);
    assert.equal(find(block.fields, 'transactions').value, '1');
    assert.equal(find(block.fields, 'transactions/#0').value, GENESIS_TXID);
    assert.match(find(block.fields, 'transactions/#0/outputs/#0').value, /^50\.00000000 BTC p2pk$/);
    assert.match(find(block.fields, 'header/time').value, /2009-01-03T18:15:05/);
  });

  it('decodes a headers message', () => {
    const message = decoded(decodeMessage('headers', hex('01' + GENESIS_HEADER + '00')));
    assert.equal(find(message.fields, 'headers/#0').value, GENESIS_HASH);
    assert.equal(find(message.fields, 'headers/#0/bits').value, '0x1d00ffff');
  });

  it('decodes a segwit transaction: prevout in display order, values, txid differs from wtxid', () => {
    const message = decoded(decodeMessage('tx', hex(SEGWIT_TX)));
    assert.equal(find(message.fields, 'inputs/#0').value, 'bd9ff5b2f4fcaf8a7cfc7e9b05da5ef6d1ebd795aed1217a5240634b4ba69f02:0');
    assert.equal(find(message.fields, 'outputs/#0/value_sat').value, '9765625');
    assert.equal(find(message.fields, 'outputs/#1/value_sat').value, '9764625');
    assert.match(find(message.fields, 'outputs/#0').value, / p2pkh$/);
    assert.equal(find(message.fields, 'witness_items').value, '2');
    assert.notEqual(find(message.fields, 'txid').value, find(message.fields, 'wtxid').value);
    // The txid hashes the serialization without marker, flag and witness.
    const raw = Buffer.from(SEGWIT_TX, 'hex');
    const stripped = Buffer.concat([raw.subarray(0, 4), raw.subarray(6, raw.length - 4 - 1 - 72 - 1 - 33 - 1), raw.subarray(raw.length - 4)]);
    const txid = Buffer.from(createHash('sha256').update(createHash('sha256').update(stripped).digest()).digest()).reverse().toString('hex');
    assert.equal(find(message.fields, 'txid').value, txid);
  });

  it('decodes inv/getdata/notfound entries with type names and hashes in display order', () => {
    const genesisInternal = Buffer.from(GENESIS_HASH, 'hex').reverse().toString('hex');
    const payload = hex('02' + '02000000' + genesisInternal + '05000000' + Buffer.from(GENESIS_TXID, 'hex').reverse().toString('hex'));
    for (const type of ['inv', 'getdata', 'notfound']) {
      const message = decoded(decodeMessage(type, payload));
      assert.equal(message.summary, '2 entries: 1 MSG_BLOCK, 1 MSG_WTX');
      assert.equal(find(message.fields, 'inventory/MSG_BLOCK').value, GENESIS_HASH);
    }
  });

  it('decodes addrv2 with IPv4, IPv6 and a Tor v3 address whose checksum is right', () => {
    const onion = 'duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad';
    const pubkey = base32Decode(onion).subarray(0, 32);
    assert.equal(formatTorV3(pubkey), `${onion}.onion`);
    const entry = (networkId: number, address: Uint8Array, port: number) =>
      Buffer.concat([Buffer.from('29ab5f49', 'hex'), Buffer.from([0x09]), Buffer.from([networkId, address.length]), address, Buffer.from([port >> 8, port & 0xff])]);
    const payload = Buffer.concat([
      Buffer.from([3]),
      entry(1, Uint8Array.of(1, 2, 3, 4), 8333),
      entry(2, hex('20010db8000000000000000000000001'), 8333),
      entry(4, pubkey, 8333),
    ]);
    const message = decoded(decodeMessage('addrv2', Uint8Array.from(payload)));
    assert.equal(message.summary, '3 addresses: 1 IPv4, 1 IPv6, 1 TorV3');
    assert.equal(find(message.fields, 'addresses/#0').value, '1.2.3.4:8333');
    assert.equal(find(message.fields, 'addresses/#1').value, '[2001:db8::1]:8333');
    assert.equal(find(message.fields, 'addresses/#2').value, `${onion}.onion:8333`);
    assert.match(find(message.fields, 'addresses/#0/services').value, /NETWORK \| WITNESS/);
  });

  it('decodes a cmpctblock summary, feefilter, sendcmpct and ping', () => {
    const cmpct = decoded(decodeMessage('cmpctblock', hex(GENESIS_HEADER + '0102030405060708' + '02' + 'aaaaaaaaaaaa' + 'bbbbbbbbbbbb' + '01' + '00' + GENESIS_COINBASE)));
    assert.equal(cmpct.summary, `${GENESIS_HASH.slice(0, 16)}… 2 short ids, 1 prefilled`);
    assert.equal(find(cmpct.fields, 'prefilled_txs/index 0').value, GENESIS_TXID);
    assert.equal(decoded(decodeMessage('feefilter', hex('e803000000000000'))).summary, '1000 sat/kvB');
    assert.equal(decoded(decodeMessage('sendcmpct', hex('000200000000000000'))).summary, 'announce false, version 2');
    assert.equal(decoded(decodeMessage('pong', hex('0807060504030201'))).summary, 'nonce 0x102030405060708');
  });

  // BIP 434 (Bitcoin Core protocol.h / net_processing.cpp, v32.0): featureid as a CompactSize-prefixed string of 4
  // to 80 bytes, featuredata as a CompactSize-prefixed byte vector of at most 512, nothing after.
  it('decodes the BIP 434 feature message and refuses ids and data outside its limits', () => {
    const bytesOf = (text: string): number[] => [...Buffer.from(text, 'utf8')];
    const feature = (id: number[], data: number[]): Uint8Array => Uint8Array.from([id.length, ...id, ...(data.length < 0xfd ? [data.length] : [0xfd, data.length & 0xff, data.length >> 8]), ...data]);
    const withData = decoded(decodeMessage('feature', feature(bytesOf('example.org/erlay'), [0x01, 0x00, 0x00, 0x00, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11])));
    assert.equal(withData.summary, 'example.org/erlay, 12 bytes of data');
    assert.equal(find(withData.fields, 'featureid').value, 'example.org/erlay');
    assert.equal(find(withData.fields, 'featuredata').value, '01000000aabbccddeeff0011');
    assert.deepEqual(withData.warnings, []);
    const empty = decoded(decodeMessage('feature', feature(bytesOf('abcd'), [])));
    assert.equal(empty.summary, 'abcd, 0 bytes of data');
    assert.equal(find(empty.fields, 'featuredata').value, '(empty)');
    const longest = decoded(decodeMessage('feature', feature(bytesOf('x'.repeat(80)), new Array<number>(512).fill(7))));
    assert.equal(longest.summary, `${'x'.repeat(80)}, 512 bytes of data`);
    const refused = (payload: Uint8Array): string => {
      const result = decodeMessage('feature', payload);
      assert.equal(result.status, 'cannot-decode');
      return result.status === 'cannot-decode' ? result.reason : '';
    };
    assert.match(refused(feature(bytesOf('abc'), [])), /feature id of 3 bytes, BIP 434 asks for at least 4/);
    assert.match(refused(feature(bytesOf('x'.repeat(81)), [])), /feature id length 81 exceeds the protocol limit of 80/);
    assert.match(refused(feature(bytesOf('abcd'), new Array<number>(513).fill(0))), /feature data length 513 exceeds the protocol limit of 512/);
    assert.match(refused(feature(bytesOf('abcd'), [1, 2, 3]).subarray(0, 7)), /feature data/);
    // Bytes after the data: Bitcoin Core disconnects such a peer; the decoder says what it saw.
    const trailing = decoded(decodeMessage('feature', Uint8Array.from([...feature(bytesOf('abcd'), [9]), 0xff])));
    assert.deepEqual(trailing.warnings, ['1 trailing bytes after the feature payload']);
  });

  it('says "cannot decode" for every truncation of real messages, never throws', () => {
    const vectors: Array<[string, Uint8Array]> = [
      ['version', payloadOf(VERSION_22).payload],
      ['block', hex(GENESIS_HEADER + '01' + GENESIS_COINBASE)],
      ['tx', hex(SEGWIT_TX)],
      ['headers', hex('01' + GENESIS_HEADER + '00')],
    ];
    for (const [type, payload] of vectors) {
      for (let cut = 0; cut < payload.length; cut++) {
        const result = decodeMessage(type, payload.subarray(0, cut), payload.length);
        if (type === 'version' && cut >= payload.length - 1) continue; // relay is optional
        assert.equal(result.status, 'cannot-decode', `${type} cut at ${cut}`);
        if (result.status === 'cannot-decode') {
          assert.match(result.reason, new RegExp(`^cannot decode ${type}: .*captured ${cut} of ${payload.length} bytes`));
        }
      }
    }
  });

  it('bounds hostile counts and survives random bytes for every message type', () => {
    const huge = decodeMessage('inv', hex('ffffffffffffffffff'));
    assert.equal(huge.status, 'cannot-decode');
    const types = ['version', 'ping', 'pong', 'inv', 'getdata', 'notfound', 'addr', 'addrv2', 'headers', 'getheaders', 'getblocks', 'tx', 'block', 'cmpctblock', 'feefilter', 'sendcmpct', 'feature', 'verack'];
    for (let i = 0; i < 3000; i++) {
      const type = types[i % types.length];
      const result = decodeMessage(type, Uint8Array.from(randomBytes(i % 300)));
      assert.ok(['decoded', 'cannot-decode'].includes(result.status));
    }
    assert.deepEqual(decodeMessage('sendtxrcncl', hex('01')), { status: 'not-supported', msgType: 'sendtxrcncl' });
    assert.deepEqual(decodeMessage('__proto__', hex('01')), { status: 'not-supported', msgType: '__proto__' });
  });
});

function base32Decode(text: string): Uint8Array {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text) {
    buffer = (buffer << 5) | alphabet.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}
