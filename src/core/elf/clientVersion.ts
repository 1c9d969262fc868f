// The Bitcoin Core version a bitcoind was built from, read from the binary itself: its CLIENT_BUILD string
// ("v31.99.0-gb88bffe550a3…" for a git build, "v29.0.0" for a release, from FormatFullVersion) lives in
// `.rodata` next to "Bitcoin Core". Only that one section is scanned, in bounded chunks.

import type { ElfSectionReader, SectionHeader } from './elfSections';

export interface ClientVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Release candidate number, null for none. */
  readonly rc: number | null;
  /** As found in the binary, e.g. "v31.99.0-gb88bffe550a3a017440aff6a189cdb5f79f9b0". */
  readonly text: string;
}

const SECTION = '.rodata';
const CHUNK_BYTES = 4 * 1024 * 1024;
/** A larger `.rodata` is scanned up to here only (a release bitcoind has 2–4 MB). */
export const MAX_VERSION_SCAN_BYTES = 64 * 1024 * 1024;
const OVERLAP = 128;
const MARKER = 'Bitcoin Core';
// v22.0.0 … v99.99.99, optional rcN, optional -g<commit>[-dirty], at the start of the text. The strings are not
// always NUL-terminated in .rodata (the linker merges them), so the commit is hex digits only.
const VERSION_AT_START = /^v(\d{2})\.(\d{1,2})\.(\d{1,2})(?:rc(\d{1,2}))?(?:-g[0-9a-f]{4,40}(?:-dirty)?)?/;
const LETTER_V = 0x76;
const MARKER_BYTES = Buffer.from(MARKER, 'latin1');

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

function isAlphanumeric(byte: number | undefined): boolean {
  return byte !== undefined && (isDigit(byte) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a));
}

/**
 * The CLIENT_BUILD version of a Bitcoin Core binary, or null when `.rodata` has none (not Bitcoin Core,
 * or a test program). When several candidates appear, the most frequent one wins, then the first.
 */
export async function readClientVersion(elf: ElfSectionReader, sections: readonly SectionHeader[]): Promise<ClientVersion | null> {
  const rodata = sections.find((section) => section.name === SECTION && section.size > 0n);
  if (!rodata) return null;
  const size = rodata.size < BigInt(MAX_VERSION_SCAN_BYTES) ? Number(rodata.size) : MAX_VERSION_SCAN_BYTES;
  const counts = new Map<string, { count: number; first: number; version: ClientVersion }>();
  let sawMarker = false;
  for (let start = 0; start < size; start += CHUNK_BYTES) {
    const from = Math.max(0, start - OVERLAP);
    const length = Math.min(size, start + CHUNK_BYTES) - from;
    const bytes = await elf.readRange(rodata.offset + BigInt(from), BigInt(length), `section ${SECTION}`);
    if (!sawMarker && bytes.includes(MARKER_BYTES)) sawMarker = true;
    // Native indexOf over the bytes, a regex only where "vNN." starts: a few ms for a 3.4 MB .rodata.
    for (let position = bytes.indexOf(LETTER_V); position >= 0; position = bytes.indexOf(LETTER_V, position + 1)) {
      if (!isDigit(bytes[position + 1]) || !isDigit(bytes[position + 2]) || bytes[position + 3] !== 0x2e) continue;
      if (position > 0 && isAlphanumeric(bytes[position - 1])) continue;
      // A match near a chunk's end may be cut: the next chunk, which starts OVERLAP bytes earlier, reads it whole.
      if (from + length < size && position >= length - OVERLAP) continue;
      const found = VERSION_AT_START.exec(bytes.toString('latin1', position, Math.min(length, position + OVERLAP)));
      if (!found) continue;
      const version = clientVersionOf(found);
      const entry = counts.get(version.text);
      if (entry) entry.count++;
      else counts.set(version.text, { count: 1, first: from + position, version });
    }
  }
  if (!sawMarker || counts.size === 0) return null;
  const best = [...counts.values()].sort((a, b) => b.count - a.count || a.first - b.first)[0];
  // A bare "v31.99.0" and "v31.99.0-g…" are the same build: report the longer text.
  const sameNumbers = [...counts.values()].filter((entry) => sameRelease(entry.version, best.version));
  return sameNumbers.sort((a, b) => b.version.text.length - a.version.text.length)[0].version;
}

function clientVersionOf(found: RegExpMatchArray): ClientVersion {
  return {
    major: Number(found[1]),
    minor: Number(found[2]),
    patch: Number(found[3]),
    rc: found[4] === undefined ? null : Number(found[4]),
    text: found[0],
  };
}

function sameRelease(a: ClientVersion, b: ClientVersion): boolean {
  return a.major === b.major && a.minor === b.minor && a.patch === b.patch && a.rc === b.rc;
}

/** "v31.99.0 (development build after v31)", "v29.1.0", "v30.0.0rc2". */
export function describeClientVersion(version: ClientVersion): string {
  const base = `v${version.major}.${version.minor}.${version.patch}${version.rc === null ? '' : `rc${version.rc}`}`;
  return isDevelopmentBuild(version) ? `${base} (development build after v${version.major})` : base;
}

/** Bitcoin Core's master between releases is N.99: newer than vN, not yet vN+1. */
export function isDevelopmentBuild(version: ClientVersion): boolean {
  return version.minor === 99;
}
