import { createHash } from 'node:crypto';

/** BIP155 network ids as they appear in addrv2. */
export const BIP155_NETWORKS: Readonly<Record<number, { name: string; length: number }>> = {
  1: { name: 'IPv4', length: 4 },
  2: { name: 'IPv6', length: 16 },
  3: { name: 'TorV2', length: 10 },
  4: { name: 'TorV3', length: 32 },
  5: { name: 'I2P', length: 32 },
  6: { name: 'CJDNS', length: 16 },
};

const IPV4_IN_IPV6 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

export function formatIpv4(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4)).join('.');
}

export function formatIpv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The 16-byte address field of `version` and `addr` (IPv4 is mapped into IPv6). */
export function formatLegacyAddress(bytes: Uint8Array): string {
  const isMappedIpv4 = IPV4_IN_IPV6.every((b, i) => bytes[i] === b);
  return isMappedIpv4 ? formatIpv4(bytes.subarray(12)) : formatIpv6(bytes);
}

function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** Tor v3: base32(pubkey || checksum[0..2] || version 3) + ".onion" (rend-spec-v3). */
export function formatTorV3(pubkey: Uint8Array): string {
  const version = Uint8Array.of(3);
  const checksum = createHash('sha3-256')
    .update(Buffer.from('.onion checksum'))
    .update(pubkey)
    .update(version)
    .digest()
    .subarray(0, 2);
  return `${base32(Uint8Array.from([...pubkey, ...checksum, ...version]))}.onion`;
}

export function formatAddrV2(networkId: number, bytes: Uint8Array): string {
  switch (networkId) {
    case 1:
      return formatIpv4(bytes);
    case 2:
    case 6:
      return formatIpv6(bytes);
    case 3:
      return `${base32(bytes)}.onion`;
    case 4:
      return formatTorV3(bytes);
    case 5:
      return `${base32(bytes)}.b32.i2p`;
    default:
      return `unknown network ${networkId}: ${Buffer.from(bytes).toString('hex')}`;
  }
}
