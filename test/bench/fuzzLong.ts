// Mutation fuzzing of every parser that reads untrusted input: recordings (NDJSON), the helper's stream
// (bpftrace `-f json` lines through BpftraceDecoder, then the P2P aggregator), the ELF .note.stapsdt reader
// and the P2P message decoder. Each loop mutates real inputs (flipped bits, interesting bytes, inserted,
// deleted and duplicated runs, truncation) with a seeded PRNG and checks the documented contract: no throw
// except the documented error type, no hang, good input around bad input kept. test/unit/recordingFuzz.test.ts
// runs a few thousand cases per target; `runLongFuzz` (for `npm run bench`) runs as many as asked.

import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BufferByteSource } from '../../src/core/elf/elfByteSource';
import { ElfReadError } from '../../src/core/elf/elfErrors';
import { readStapsdtNotesFromReader } from '../../src/core/elf/stapsdtNotes';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import type { NetMessageEvent, NormalizedEvent } from '../../src/core/events/eventTypes';
import { readRecording, RecordingError, RecordingWriter } from '../../src/core/events/recording';
import { P2pAggregator } from '../../src/core/p2p/p2pAggregator';
import { decodeMessage } from '../../src/core/p2pMessages/messageDecoder';
import { GENESIS_COINBASE, GENESIS_HEADER, SEGWIT_TX, VERSION_22 } from '../fixtures/p2pMessageVectors';

const REPO = resolve(__dirname, '..', '..');

export interface FuzzOptions {
  /** Mutated inputs to try. */
  readonly cases: number;
  readonly seed?: number;
}

export interface FuzzResult {
  readonly target: string;
  readonly cases: number;
  /** Cases the parser accepted (possibly with warnings) versus refused with its documented error. */
  readonly accepted: number;
  readonly refused: number;
  readonly milliseconds: number;
}

/** A violation of a parser's contract, with what is needed to reproduce it. */
export class FuzzFailure extends Error {}

const CASE_TIMEOUT_MS = 5000;

/** mulberry32: small, fast, seeded. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x22, 0x5c, 0x2c, 0x3a, 0x7b, 0x7d, 0x5b, 0x5d, 0xc3, 0xe2];

/**
 * 1 to 4 mutations of `input` inside [from, to): bit flips, interesting bytes, inserted/deleted/duplicated
 * runs, or a cut. `keepNewlines`: never create or remove a 0x0a/0x0d byte (keeps line numbers meaningful).
 */
export function mutate(input: Uint8Array, random: () => number, from = 0, to = input.length, keepNewlines = false): Buffer {
  let bytes = Buffer.from(input);
  const pick = (n: number): number => Math.floor(random() * n);
  const span = (): number => from + pick(Math.max(1, Math.min(to, bytes.length) - from));
  const isNewline = (b: number | undefined): boolean => b === 0x0a || b === 0x0d;
  const safe = (b: number): number => (keepNewlines && isNewline(b) ? 0x20 : b);
  const rounds = 1 + pick(4);
  for (let round = 0; round < rounds && bytes.length > 0; round++) {
    const at = span();
    if (keepNewlines && isNewline(bytes[at])) continue;
    switch (pick(7)) {
      case 0:
        bytes[at] = safe(bytes[at] ^ (1 << pick(8)));
        break;
      case 1:
        bytes[at] = safe(INTERESTING_BYTES[pick(INTERESTING_BYTES.length)]);
        break;
      case 2: {
        const inserted = Buffer.alloc(1 + pick(16));
        for (let i = 0; i < inserted.length; i++) inserted[i] = safe(pick(256));
        bytes = Buffer.concat([bytes.subarray(0, at), inserted, bytes.subarray(at)]);
        break;
      }
      case 3: {
        const length = 1 + pick(16);
        const removed = bytes.subarray(at, at + length);
        if (keepNewlines && removed.some((b) => isNewline(b))) break;
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + length)]);
        break;
      }
      case 4: {
        const length = 1 + pick(64);
        const run = bytes.subarray(at, at + length);
        if (keepNewlines && run.some((b) => isNewline(b))) break;
        bytes = Buffer.concat([bytes.subarray(0, at), run, run, bytes.subarray(at)]);
        break;
      }
      case 5:
        // A 32- or 64-bit field overwritten with an extreme value (sizes, offsets, counts).
        for (let i = 0; i < (random() < 0.5 ? 4 : 8) && at + i < bytes.length; i++) bytes[at + i] = safe(random() < 0.5 ? 0xff : 0x7f);
        break;
      default:
        if (!keepNewlines) bytes = bytes.subarray(0, at);
        break;
    }
  }
  return bytes;
}

async function withinTime<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FuzzFailure(`${what} did not finish within ${CASE_TIMEOUT_MS} ms (hang)`)), CASE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

// ---------------------------------------------------------------------------------------------- recordings

function recordingMessage(i: number): NetMessageEvent {
  const hostile = ['<img src=x onerror="document.title=\'pwned\'">', 'javascript:alert(1)', '\u202Eevil', 'a"b\\c', '\u0000\u001b[31m'];
  return {
    event: i % 2 === 0 ? 'net:inbound_message' : 'net:outbound_message',
    elapsed_ns: 1000 * i,
    peer_id: i % 5 === 4 ? '9223372036854775807' : i % 5,
    peer_addr: `${hostile[i % hostile.length]}:${8333 + (i % 3)}`,
    conn_type: 'inbound',
    msg_type: ['inv', 'tx', 'ping', hostile[i % hostile.length].slice(0, 12)][i % 4],
    msg_size: 37 + i,
  };
}

/** A good recording of `count` events (written by the real RecordingWriter) as bytes. */
export async function goodRecording(count: number): Promise<{ bytes: Buffer; events: NormalizedEvent[] }> {
  const directory = await mkdtemp(join(tmpdir(), 'bitcoin-usdt-fuzz-'));
  try {
    const path = join(directory, 'good.ndjson');
    const writer = await RecordingWriter.create(path, { tool: 'p2p-traffic', started_at: '2026-01-01T00:00:00.000Z', binary: '/x/bitcoind', pid: 7, producer: 'fuzz' });
    const events: NormalizedEvent[] = [
      { event: 'session:start', tool: 'p2p-traffic', binary: '/x/bitcoind', pid: 7, bpftrace_version: '0.17.0' },
      ...Array.from({ length: count }, (_, i) => recordingMessage(i)),
      { event: 'lost', elapsed_ns: 1000 * count, count: 3, source: 'reconciled' },
      { event: 'session:end', reason: 'stopped', exit_code: 0 },
    ];
    writer.write(events);
    await writer.close();
    return { bytes: readFileSync(path), events };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/**
 * Runs `cases` cases of a recording fuzzer, each writing its mutated recording to one file in a fresh directory
 * and saying whether readRecording accepted or refused it; `started` is when the fuzzer started (for the time).
 */
async function fuzzRecordingCases(target: string, cases: number, started: number, oneCase: (c: number, path: string) => Promise<'accepted' | 'refused'>): Promise<FuzzResult> {
  const directory = await mkdtemp(join(tmpdir(), 'bitcoin-usdt-fuzz-'));
  const path = join(directory, 'mutated.ndjson');
  let accepted = 0;
  let refused = 0;
  try {
    for (let c = 0; c < cases; c++) {
      if ((await oneCase(c, path)) === 'accepted') accepted++;
      else refused++;
    }
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
  return { target, cases, accepted, refused, milliseconds: Date.now() - started };
}

/**
 * Mutates event lines of a good recording (never the header, never line breaks) and reads it back with
 * readRecording: it must not throw; every line left alone must come back identical at its line number;
 * every mutated line is either an event or reported as malformed with its line number. Every event read
 * is then fed to a P2pAggregator, which must not throw either.
 */
export async function fuzzRecordingLines(options: FuzzOptions): Promise<FuzzResult> {
  const started = Date.now();
  const random = seededRandom(options.seed ?? 1);
  const { bytes } = await goodRecording(24);
  const lines = bytes.toString('latin1').split('\n').slice(0, -1).map((l) => Buffer.from(l, 'latin1'));
  return fuzzRecordingCases('recording lines', options.cases, started, async (c, path) => {
    const mutatedIndexes = new Set<number>();
    const out = lines.map((line, index) => {
      if (index === 0 || random() > 0.25) return line;
      mutatedIndexes.add(index);
      return mutate(line, random, 0, line.length, true);
    });
    await writeFile(path, Buffer.concat(out.flatMap((l) => [l, Buffer.from('\n')])));
    const seen = new Map<number, NormalizedEvent>();
    const aggregator = new P2pAggregator();
    const result = await withinTime(readRecording(path, (event, lineNumber) => {
      seen.set(lineNumber, event);
      aggregator.ingest(event);
    }), `case ${c}`).catch((error: unknown) => {
      throw new FuzzFailure(`recording case ${c} (seed ${options.seed ?? 1}): readRecording threw ${String(error)}`);
    });
    aggregator.snapshot();
    for (let index = 1; index < lines.length; index++) {
      const lineNumber = index + 1;
      const malformed = result.malformed.some((m) => m.line === lineNumber);
      const blank = out[index].toString('latin1').trim() === '';
      if (!mutatedIndexes.has(index)) {
        const expected: unknown = JSON.parse(lines[index].toString('utf8'));
        if (malformed || JSON.stringify(seen.get(lineNumber)) !== JSON.stringify(expected)) {
          throw new FuzzFailure(`recording case ${c}: the untouched line ${lineNumber} was not kept`);
        }
      } else if (!blank && malformed === seen.has(lineNumber)) {
        throw new FuzzFailure(`recording case ${c}: mutated line ${lineNumber} is ${malformed ? 'both malformed and an event' : 'neither an event nor reported'}`);
      }
    }
    return result.malformed.length > 0 ? 'refused' : 'accepted';
  });
}

/** Mutates whole recordings (header included, line breaks too): readRecording resolves or throws RecordingError only. */
export async function fuzzRecordingFiles(options: FuzzOptions): Promise<FuzzResult> {
  const started = Date.now();
  const random = seededRandom(options.seed ?? 2);
  const { bytes } = await goodRecording(8);
  const headerEnd = bytes.indexOf(0x0a);
  return fuzzRecordingCases('recording files', options.cases, started, async (c, path) => {
    // Half of the cases aim at the header line.
    const mutated = random() < 0.5 ? mutate(bytes, random, 0, headerEnd + 1) : mutate(bytes, random);
    await writeFile(path, mutated);
    try {
      await withinTime(readRecording(path, () => undefined), `file case ${c}`);
      return 'accepted';
    } catch (error) {
      if (!(error instanceof RecordingError)) throw new FuzzFailure(`recording file case ${c}: threw ${String(error)} instead of RecordingError`);
      if (!/is empty: not a recording|is not a recording: |is a recording of format version .*; this version reads version|cannot read recording/.test(error.message)) {
        throw new FuzzFailure(`recording file case ${c}: unexpected message ${error.message}`);
      }
      return 'refused';
    }
  });
}

// ------------------------------------------------------------------------------------- the helper's stream

/** Real helper streams recorded from bpftrace 0.17 (p2p-traffic with hostile strings, p2p-monitor, a follow). */
function realHelperStreams(): Buffer[][] {
  const files = ['p2p-traffic-helper.ndjson', 'p2p-monitor-helper.ndjson', 'p2p-traffic-follow.ndjson', 'p2p-traffic-unreported-loss.ndjson'];
  return files.map((file) => {
    const text = readFileSync(join(REPO, 'test', 'fixtures', 'bpftrace', file));
    const lines: Buffer[] = [];
    let start = 0;
    for (let nl = text.indexOf(0x0a); nl >= 0; nl = text.indexOf(0x0a, start)) {
      if (nl > start) lines.push(text.subarray(start, nl));
      start = nl + 1;
    }
    return lines;
  });
}

/**
 * Replays real helper streams with mutated lines through BpftraceDecoder (then a P2pAggregator): decodeLine
 * never throws; a mutated line gives events or one warning; the stream always ends with exactly one
 * session:end.
 */
export function fuzzHelperStream(options: FuzzOptions): FuzzResult {
  const started = Date.now();
  const random = seededRandom(options.seed ?? 3);
  const streams = realHelperStreams();
  let accepted = 0;
  let refused = 0;
  let done = 0;
  while (done < options.cases) {
    const decoder = new BpftraceDecoder();
    const aggregator = new P2pAggregator();
    const events: NormalizedEvent[] = [];
    const lines = streams[Math.floor(random() * streams.length)];
    for (let i = 0; i < lines.length; i++) {
      const mutated = random() < 0.3;
      const line = mutated ? mutate(lines[i], random, 0, lines[i].length, true) : lines[i];
      if (mutated) done++;
      let produced: NormalizedEvent[];
      try {
        produced = decoder.decodeLine(line);
      } catch (error) {
        throw new FuzzFailure(`decoder threw ${String(error)} on ${JSON.stringify(line.toString('latin1'))}`);
      }
      if (mutated) {
        if (produced.some((e) => e.event === 'session:message' && e.message.startsWith('ignored a malformed line'))) refused++;
        else accepted++;
      }
      events.push(...produced);
      aggregator.ingestAll(produced);
    }
    events.push(...decoder.finish('fuzz'));
    aggregator.ingestAll(events.slice(-3));
    aggregator.snapshot();
    aggregator.delta();
    // A mutated `exit` record may still end the session early; what counts is exactly one end, never none.
    const ends = events.filter((e) => e.event === 'session:end').length;
    if (ends !== 1) throw new FuzzFailure(`a fuzzed stream had ${ends} session:end events`);
  }
  return { target: 'helper stream (bpftrace JSON)', cases: done, accepted, refused, milliseconds: Date.now() - started };
}

// --------------------------------------------------------------------------------------------- ELF reader

interface ElfRegion {
  readonly from: number;
  readonly to: number;
}

/** The parts the reader looks at: ELF header, section header table, .shstrtab and .note.stapsdt. */
function elfRegions(bytes: Buffer): ElfRegion[] {
  const shoff = Number(bytes.readBigUInt64LE(0x28));
  const shentsize = bytes.readUInt16LE(0x3a);
  const shnum = bytes.readUInt16LE(0x3c);
  const shstrndx = bytes.readUInt16LE(0x3e);
  const entry = (i: number): { name: number; offset: number; size: number } => {
    const at = shoff + i * shentsize;
    return { name: bytes.readUInt32LE(at), offset: Number(bytes.readBigUInt64LE(at + 24)), size: Number(bytes.readBigUInt64LE(at + 32)) };
  };
  const names = entry(shstrndx);
  const regions: ElfRegion[] = [{ from: 0, to: 64 }, { from: shoff, to: shoff + shentsize * shnum }, { from: names.offset, to: names.offset + names.size }];
  for (let i = 0; i < shnum; i++) {
    const section = entry(i);
    const name = bytes.toString('latin1', names.offset + section.name, bytes.indexOf(0, names.offset + section.name));
    if (name === '.note.stapsdt') regions.push({ from: section.offset, to: section.offset + section.size });
  }
  return regions;
}

/**
 * Mutates the real v29 and legacy tracees where the reader looks: readStapsdtNotesFromReader resolves or
 * rejects with ElfReadError (a code and a message), within the time limit, and never returns more notes
 * than the section can hold.
 */
export async function fuzzElfReader(options: FuzzOptions): Promise<FuzzResult> {
  const started = Date.now();
  const random = seededRandom(options.seed ?? 4);
  const binaries = ['tracee-v29', 'tracee-legacy'].map((name) => {
    const path = join(REPO, 'test', 'tracee', 'build', name);
    try {
      return readFileSync(path);
    } catch {
      throw new Error(`${path} is missing: run \`make -C test/tracee\` first`);
    }
  });
  const regions = binaries.map(elfRegions);
  let accepted = 0;
  let refused = 0;
  for (let c = 0; c < options.cases; c++) {
    const which = c % binaries.length;
    const region = regions[which][Math.floor(random() * regions[which].length)];
    const mutated = mutate(binaries[which], random, region.from, region.to);
    try {
      const report = await withinTime(readStapsdtNotesFromReader(new BufferByteSource(mutated), `<case ${c}>`), `ELF case ${c}`);
      if (report.notes.length > mutated.length / 12) throw new FuzzFailure(`ELF case ${c}: ${report.notes.length} notes from ${mutated.length} bytes`);
      accepted++;
    } catch (error) {
      if (error instanceof FuzzFailure) throw error;
      if (!(error instanceof ElfReadError) || error.message.length === 0) throw new FuzzFailure(`ELF case ${c}: threw ${String(error)} instead of ElfReadError`);
      refused++;
    }
  }
  return { target: 'ELF .note.stapsdt reader', cases: options.cases, accepted, refused, milliseconds: Date.now() - started };
}

// -------------------------------------------------------------------------------------- P2P message decoder

/** Mutated real messages (and their types): decodeMessage returns decoded / cannot-decode / not-supported, never throws. */
export function fuzzMessageDecoder(options: FuzzOptions): FuzzResult {
  const started = Date.now();
  const random = seededRandom(options.seed ?? 5);
  const vectors: Array<[string, Uint8Array]> = [
    ['version', hex(VERSION_22).subarray(24)],
    ['block', hex(GENESIS_HEADER + '01' + GENESIS_COINBASE)],
    ['headers', hex('01' + GENESIS_HEADER + '00')],
    ['tx', hex(SEGWIT_TX)],
    ['tx', hex(GENESIS_COINBASE)],
    ['inv', hex('02' + '01000000' + '11'.repeat(32) + '02000040' + '22'.repeat(32))],
    ['ping', hex('0102030405060708')],
  ];
  const otherTypes = ['addr', 'addrv2', 'getdata', 'notfound', 'getheaders', 'cmpctblock', 'feefilter', 'sendcmpct', 'pong', 'verack'];
  let accepted = 0;
  let refused = 0;
  for (let c = 0; c < options.cases; c++) {
    const [realType, payload] = vectors[c % vectors.length];
    const type = random() < 0.2 ? otherTypes[Math.floor(random() * otherTypes.length)] : realType;
    const mutated = mutate(payload, random);
    let result;
    try {
      result = decodeMessage(type, mutated, random() < 0.1 ? mutated.length + 1000 : mutated.length);
    } catch (error) {
      throw new FuzzFailure(`message case ${c} (${type}, ${Buffer.from(mutated).toString('hex')}): threw ${String(error)}`);
    }
    if (result.status === 'decoded') accepted++;
    else if (result.status === 'cannot-decode' || result.status === 'not-supported') refused++;
    else throw new FuzzFailure(`message case ${c}: unexpected status ${JSON.stringify(result)}`);
  }
  return { target: 'P2P message decoder', cases: options.cases, accepted, refused, milliseconds: Date.now() - started };
}

// --------------------------------------------------------------------------------------------- bench entry

export interface LongFuzzOptions {
  /** Cases per target (default 100,000). */
  readonly casesPerTarget?: number;
  readonly seed?: number;
  readonly log?: (line: string) => void;
}

/** The long fuzz run for `npm run bench`: every target, many cases. Throws FuzzFailure on the first violation. */
export async function runLongFuzz(options: LongFuzzOptions = {}): Promise<FuzzResult[]> {
  const cases = options.casesPerTarget ?? 100_000;
  const seed = options.seed ?? Date.now() % 1_000_000;
  const log = options.log ?? ((line: string) => console.log(line));
  log(`[fuzz] ${cases} cases per target, seed ${seed}`);
  const results: FuzzResult[] = [];
  const report = (result: FuzzResult): void => {
    results.push(result);
    log(`[fuzz] ${result.target}: ${result.cases} cases, ${result.accepted} accepted, ${result.refused} refused with the documented error, ${result.milliseconds} ms`);
  };
  report(fuzzMessageDecoder({ cases, seed }));
  report(fuzzHelperStream({ cases, seed: seed + 1 }));
  report(await fuzzElfReader({ cases: Math.ceil(cases / 5), seed: seed + 2 }));
  report(await fuzzRecordingLines({ cases: Math.ceil(cases / 20), seed: seed + 3 }));
  report(await fuzzRecordingFiles({ cases: Math.ceil(cases / 20), seed: seed + 4 }));
  return results;
}
