import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { BufferByteSource, FileByteSource, elfErrorFromFileSystemError, type ElfByteSource } from '../../src/core/elf/elfByteSource';
import { ElfReadError, type ElfErrorCode } from '../../src/core/elf/elfErrors';
import { MAX_SECTION_BYTES } from '../../src/core/elf/elfSections';
import { readStapsdtNotes, readStapsdtNotesFromReader, type StapsdtReport } from '../../src/core/elf/stapsdtNotes';
import { buildSdtPrograms, makeTemporaryDirectory, type SdtProgram } from './helpers/readelfNotes';

const PYTHON = '/usr/bin/python3.11';
const CASE_TIMEOUT_MS = 2000;

/** Where the structures the reader needs sit in an ELF image (parsed here, independently of the reader). */
interface ElfLayout {
  is64: boolean;
  little: boolean;
  headerSize: number;
  tableOffset: number;
  entrySize: number;
  count: number;
  nameTableIndex: number;
  sections: Array<{ name: string; entry: number; offset: number; size: number }>;
}

function layoutOf(bytes: Buffer): ElfLayout {
  const is64 = bytes[4] === 2;
  const little = bytes[5] === 1;
  const u16 = (at: number): number => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number): number => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const word = (at: number): number => (is64 ? Number(little ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at)) : u32(at));
  const tableOffset = word(is64 ? 40 : 32);
  const entrySize = u16(is64 ? 58 : 46);
  const count = u16(is64 ? 60 : 48);
  const nameTableIndex = u16(is64 ? 62 : 50);
  const entryAt = (index: number): number => tableOffset + index * entrySize;
  const offsetField = is64 ? 24 : 16;
  const sizeField = is64 ? 32 : 20;
  const nameTableOffset = word(entryAt(nameTableIndex) + offsetField);
  const sections = [];
  for (let index = 0; index < count; index++) {
    const entry = entryAt(index);
    const nameStart = nameTableOffset + u32(entry);
    sections.push({
      name: bytes.toString('latin1', nameStart, bytes.indexOf(0, nameStart)),
      entry,
      offset: word(entry + offsetField),
      size: word(entry + sizeField),
    });
  }
  return { is64, little, headerSize: is64 ? 64 : 52, tableOffset, entrySize, count, nameTableIndex, sections };
}

function section(layout: ElfLayout, name: string): ElfLayout['sections'][number] {
  const found = layout.sections.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no section ${name}`);
  return found;
}

function writeU16(bytes: Buffer, layout: ElfLayout, at: number, value: number): void {
  if (layout.little) bytes.writeUInt16LE(value, at);
  else bytes.writeUInt16BE(value, at);
}

function writeU32(bytes: Buffer, layout: ElfLayout, at: number, value: number): void {
  if (layout.little) bytes.writeUInt32LE(value, at);
  else bytes.writeUInt32BE(value, at);
}

function writeWord(bytes: Buffer, layout: ElfLayout, at: number, value: bigint): void {
  if (!layout.is64) writeU32(bytes, layout, at, Number(value & 0xffffffffn));
  else if (layout.little) bytes.writeBigUInt64LE(value, at);
  else bytes.writeBigUInt64BE(value, at);
}

class RecordingSource implements ElfByteSource {
  largestRequest = 0;
  bytesRead = 0;
  constructor(
    private readonly inner: ElfByteSource,
    readonly size = inner.size,
  ) {}
  async read(offset: number, length: number): Promise<Buffer> {
    this.largestRequest = Math.max(this.largestRequest, length);
    const end = Math.min(offset + length, this.size);
    const bytes = await this.inner.read(offset, Math.max(0, end - offset));
    this.bytesRead += bytes.length;
    return bytes;
  }
}

type Outcome = { report: StapsdtReport } | { error: ElfReadError };

/** Runs the reader; any rejection other than an ElfReadError, or a hang, fails the test. */
async function outcomeOf(run: () => Promise<StapsdtReport>, label: string): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: no answer within ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS);
  });
  try {
    return { report: await Promise.race([run(), timeout]) };
  } catch (error) {
    if (error instanceof ElfReadError) {
      assert.ok(error.message.length > 0 && !error.message.includes('\n'), `${label}: one-line message`);
      return { error };
    }
    throw new Error(`${label}: rejected with ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

async function expectError(run: () => Promise<StapsdtReport>, code: ElfErrorCode, label: string, messagePattern?: RegExp): Promise<ElfReadError> {
  const outcome = await outcomeOf(run, label);
  assert.ok('error' in outcome, `${label}: expected ${code}, got a report with ${'report' in outcome ? outcome.report.notes.length : 0} notes`);
  assert.equal(outcome.error.code, code, `${label}: ${outcome.error.message}`);
  if (messagePattern) assert.match(outcome.error.message, messagePattern, label);
  return outcome.error;
}

/** Deterministic pseudo-random numbers so that a failing case can be replayed. */
function randomGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

describe('ELF reader on corrupt and unusual input', function () {
  this.timeout(180000);
  let directory: string;
  let programs: SdtProgram[];
  let pieBytes: Buffer;
  let pieReport: StapsdtReport;

  before(async () => {
    directory = await makeTemporaryDirectory('elf-corrupt-test-');
    programs = await buildSdtPrograms(directory);
    pieBytes = await fs.readFile(programs[0].file);
    pieReport = await readStapsdtNotes(programs[0].file);
    assert.equal(pieReport.notes.length, 6);
  });
  after(async () => {
    if (directory) await fs.rm(directory, { recursive: true, force: true });
  });

  describe('files that are not ELF binaries', () => {
    it('a missing file: NOT_FOUND', async () => {
      await expectError(() => readStapsdtNotes(path.join(directory, 'missing')), 'NOT_FOUND', 'missing', /does not exist/);
      await expectError(() => readStapsdtNotes(path.join(directory, 'missing', 'below')), 'NOT_FOUND', 'missing parent');
    });

    it('a directory: NOT_A_FILE', async () => {
      await expectError(() => readStapsdtNotes(directory), 'NOT_A_FILE', 'directory', /is a directory/);
    });

    it('a FIFO and a device: NOT_A_FILE, without blocking', async () => {
      const fifo = path.join(directory, 'fifo');
      await promisify(execFile)('mkfifo', [fifo]);
      await expectError(() => readStapsdtNotes(fifo), 'NOT_A_FILE', 'fifo', /not a regular file/);
      await expectError(() => readStapsdtNotes('/dev/null'), 'NOT_A_FILE', '/dev/null');
    });

    it('a text file: NOT_ELF, naming how it starts', async () => {
      const script = path.join(directory, 'script.sh');
      await fs.writeFile(script, '#!/bin/sh\necho "hello"\n');
      const error = await expectError(() => readStapsdtNotes(script), 'NOT_ELF', 'text', /is not an ELF file \(it starts with "#!\/bin\/sh\\x0aecho \\"…"\)/);
      assert.equal(error.path, script);
    });

    it('an empty file: NOT_ELF', async () => {
      const empty = path.join(directory, 'empty');
      await fs.writeFile(empty, '');
      await expectError(() => readStapsdtNotes(empty), 'NOT_ELF', 'empty', /is empty/);
    });

    it('file system errors map to codes (root cannot be denied here, so EACCES is simulated)', () => {
      const denied = Object.assign(new Error('EACCES: permission denied, open /x'), { code: 'EACCES' });
      const mapped = elfErrorFromFileSystemError('/x', denied);
      assert.equal(mapped.code, 'PERMISSION');
      assert.match(mapped.message, /permission denied/);
      assert.equal(elfErrorFromFileSystemError('/x', Object.assign(new Error('EIO'), { code: 'EIO' })).code, 'IO');
      assert.equal(elfErrorFromFileSystemError('/x', Object.assign(new Error('EISDIR'), { code: 'EISDIR' })).code, 'NOT_A_FILE');
    });

    it('a reader that throws: IO', async () => {
      const failing: ElfByteSource = { size: 4096, read: async () => Promise.reject(new Error('disk on fire')) };
      await expectError(() => readStapsdtNotesFromReader(failing, 'failing'), 'IO', 'failing reader', /disk on fire/);
    });

    it('random bytes, with and without the ELF magic', async () => {
      const random = randomGenerator(7);
      for (let round = 0; round < 400; round++) {
        const bytes = Buffer.alloc(Math.floor(random() * 2048));
        for (let index = 0; index < bytes.length; index++) bytes[index] = Math.floor(random() * 256);
        if (round % 2 === 0 && bytes.length >= 6) {
          bytes.set([0x7f, 0x45, 0x4c, 0x46, 1 + (round % 4 === 0 ? 1 : 0), 1 + (round % 8 < 4 ? 1 : 0)]);
        }
        const outcome = await outcomeOf(() => readStapsdtNotesFromReader(new BufferByteSource(bytes)), `random bytes round ${round}`);
        const startsLikeElf = bytes.length > 0 && bytes.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]).subarray(0, Math.min(4, bytes.length)));
        if (!startsLikeElf) {
          assert.ok('error' in outcome && outcome.error.code === 'NOT_ELF', `random bytes round ${round}: expected NOT_ELF`);
        }
      }
      const randomFile = path.join(directory, 'random.bin');
      await fs.writeFile(randomFile, Buffer.from(Array.from({ length: 5000 }, () => Math.floor(random() * 256))));
      await expectError(() => readStapsdtNotes(randomFile), 'NOT_ELF', 'random file');
    });
  });

  describe('truncated binaries', () => {
    it('200 truncated copies on disk: TRUNCATED until everything needed is present, then the same notes', async () => {
      const layout = layoutOf(pieBytes);
      const noteSection = section(layout, '.note.stapsdt');
      const nameTable = layout.sections[layout.nameTableIndex];
      const tableEnd = layout.tableOffset + layout.count * layout.entrySize;
      const needed = Math.max(tableEnd, noteSection.offset + noteSection.size, nameTable.offset + nameTable.size);
      const cuts = new Set<number>();
      for (let cut = 0; cut <= layout.headerSize + 4; cut++) cuts.add(cut);
      for (let step = 0; step < 40; step++) cuts.add(noteSection.offset + Math.floor((noteSection.size * step) / 40));
      for (let step = 0; step < 50; step++) cuts.add(layout.tableOffset + Math.floor(((tableEnd - layout.tableOffset) * step) / 50));
      for (let step = 0; cuts.size < 200; step++) cuts.add(Math.floor((pieBytes.length * step) / 97));
      cuts.add(needed - 1);
      cuts.add(needed);
      const copy = path.join(directory, 'truncated');
      let rejected = 0;
      for (const cut of [...cuts].sort((a, b) => a - b)) {
        await fs.writeFile(copy, pieBytes.subarray(0, cut));
        const label = `cut at ${cut} of ${pieBytes.length}`;
        const outcome = await outcomeOf(() => readStapsdtNotes(copy), label);
        if (cut >= needed) {
          assert.ok('report' in outcome, `${label}: all structures present, expected a report`);
          assert.deepEqual(outcome.report.notes, pieReport.notes, label);
        } else {
          assert.ok('error' in outcome, `${label}: expected an error`);
          assert.equal(outcome.error.code, cut === 0 ? 'NOT_ELF' : 'TRUNCATED', `${label}: ${outcome.error.message}`);
          rejected++;
        }
      }
      assert.ok(cuts.size >= 200 && rejected > 150, `${cuts.size} cuts, ${rejected} rejected`);
    });

    it(`${PYTHON} truncated in memory at 300 offsets (header, section table, note section)`, async () => {
      const source = await FileByteSource.open(PYTHON);
      try {
        const full = await readStapsdtNotesFromReader(source, PYTHON);
        const head = await source.read(0, 64);
        const tableOffset = Number(head.readBigUInt64LE(40));
        const tableEnd = tableOffset + head.readUInt16LE(58) * head.readUInt16LE(60);
        const noteStart = 0x683278;
        const cuts: number[] = [];
        for (let cut = 0; cut < 70; cut++) cuts.push(cut);
        for (let step = 0; step < 100; step++) cuts.push(tableOffset + Math.floor(((tableEnd - tableOffset) * step) / 100));
        for (let step = 0; step < 100; step++) cuts.push(noteStart + step * 7);
        for (let step = 0; step < 30; step++) cuts.push(Math.floor((source.size * step) / 30));
        for (const cut of cuts) {
          const recording = new RecordingSource(source, cut);
          const outcome = await outcomeOf(() => readStapsdtNotesFromReader(recording, PYTHON), `python cut at ${cut}`);
          if ('error' in outcome) assert.ok(['TRUNCATED', 'NOT_ELF'].includes(outcome.error.code), `cut at ${cut}: ${outcome.error.message}`);
          else assert.deepEqual(outcome.report.notes.map((note) => note.name), full.notes.map((note) => note.name));
          assert.ok(cut >= tableEnd || 'error' in outcome, `cut at ${cut} inside the section table must fail`);
        }
      } finally {
        await source.close();
      }
    });
  });

  describe('headers that lie', () => {
    const patched = (patch: (bytes: Buffer, layout: ElfLayout) => void): RecordingSource => {
      const bytes = Buffer.from(pieBytes);
      patch(bytes, layoutOf(bytes));
      return new RecordingSource(new BufferByteSource(bytes));
    };
    const read = (source: ElfByteSource) => () => readStapsdtNotesFromReader(source, 'patched');

    it('a note whose namesz points past the section end: MALFORMED', async () => {
      const source = patched((bytes, layout) => writeU32(bytes, layout, section(layout, '.note.stapsdt').offset, 0xfffffff0));
      await expectError(read(source), 'MALFORMED', 'namesz', /past the section's end/);
    });

    it('a later note whose descsz points past the section end: MALFORMED', async () => {
      const source = patched((bytes, layout) => {
        const notes = section(layout, '.note.stapsdt');
        const u32 = (at: number): number => (layout.little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
        const align = (value: number): number => Math.ceil(value / 4) * 4;
        const second = notes.offset + 12 + align(u32(notes.offset)) + align(u32(notes.offset + 4));
        writeU32(bytes, layout, second + 4, notes.size);
      });
      await expectError(read(source), 'MALFORMED', 'descsz', /note at byte \d+ of \.note\.stapsdt/);
    });

    it('a stapsdt descriptor without its NUL terminators: MALFORMED', async () => {
      const source = patched((bytes, layout) => {
        const notes = section(layout, '.note.stapsdt');
        const u32 = (at: number): number => (layout.little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
        const descriptorStart = notes.offset + 12 + Math.ceil(u32(notes.offset) / 4) * 4;
        bytes.fill(0x41, descriptorStart + 24, descriptorStart + u32(notes.offset + 4));
      });
      await expectError(read(source), 'MALFORMED', 'no NUL', /terminating NUL/);
    });

    it('a note section claiming 4 GiB: MALFORMED, nothing large allocated', async () => {
      const source = patched((bytes, layout) => writeWord(bytes, layout, section(layout, '.note.stapsdt').entry + 32, 0xffff0000n));
      await expectError(read(source), 'MALFORMED', '4 GiB', /more than the 64\.0 MiB/);
      assert.ok(source.largestRequest < 64 * 1024, `largest read ${source.largestRequest}`);
    });

    it('a note section claiming 2^63 bytes, and one starting past the end of the file', async () => {
      await expectError(read(patched((bytes, layout) => writeWord(bytes, layout, section(layout, '.note.stapsdt').entry + 32, 1n << 63n))), 'MALFORMED', '2^63');
      await expectError(read(patched((bytes, layout) => writeWord(bytes, layout, section(layout, '.note.stapsdt').entry + 24, 0xffffffff00n))), 'TRUNCATED', 'offset past end', /ends at byte/);
    });

    it('a note section 1 KiB larger than the file: TRUNCATED', async () => {
      await expectError(read(patched((bytes, layout) => writeWord(bytes, layout, section(layout, '.note.stapsdt').entry + 32, BigInt(pieBytes.length + 1024)))), 'TRUNCATED', 'bigger than file');
    });

    it('e_shnum out of range: TRUNCATED; e_shstrndx out of range: MALFORMED; e_shentsize too small: MALFORMED', async () => {
      await expectError(read(patched((bytes, layout) => writeU16(bytes, layout, 60, 0xfff0))), 'TRUNCATED', 'e_shnum', /section header table ends at byte/);
      await expectError(read(patched((bytes, layout) => writeU16(bytes, layout, 62, layout.count + 5))), 'MALFORMED', 'e_shstrndx', /section name table index/);
      await expectError(read(patched((bytes, layout) => writeU16(bytes, layout, 58, 8))), 'MALFORMED', 'e_shentsize');
      await expectError(read(patched((bytes, layout) => writeWord(bytes, layout, 40, 1n << 62n))), 'TRUNCATED', 'e_shoff');
    });

    it('a bad ELF class or byte order: MALFORMED; a short header: TRUNCATED', async () => {
      await expectError(read(patched((bytes) => (bytes[4] = 9))), 'MALFORMED', 'class', /unknown ELF class 9/);
      await expectError(read(patched((bytes) => (bytes[5] = 0))), 'MALFORMED', 'data', /byte order/);
      await expectError(() => readStapsdtNotesFromReader(new BufferByteSource(pieBytes.subarray(0, 40))), 'TRUNCATED', 'short header', /header needs 64 bytes/);
      await expectError(() => readStapsdtNotesFromReader(new BufferByteSource(pieBytes.subarray(0, 3))), 'TRUNCATED', '3 bytes');
    });

    it('no section header table at all: no notes, no error', async () => {
      const outcome = await outcomeOf(read(patched((bytes, layout) => writeWord(bytes, layout, 40, 0n))), 'e_shoff 0');
      assert.ok('report' in outcome);
      assert.equal(outcome.report.hasNoteSection, false);
    });

    it('the semaphore offset falls back to the program headers when no section covers it', async () => {
      const source = patched((bytes, layout) => writeWord(bytes, layout, section(layout, '.probes').entry + 8, 0n));
      const outcome = await outcomeOf(read(source), 'probes not allocated');
      assert.ok('report' in outcome);
      assert.deepEqual(
        outcome.report.notes.map((note) => note.semaphoreFileOffset),
        pieReport.notes.map((note) => note.semaphoreFileOffset),
      );
    });
  });

  describe('mutation fuzzing', () => {
    for (const index of [0, 3, 6]) {
      it(`3000 mutated copies of a real binary's header, tables and notes (program ${index})`, async () => {
        const program = programs[index];
        const original = await fs.readFile(program.file);
        const layout = layoutOf(original);
        const noteSection = section(layout, '.note.stapsdt');
        const nameTable = layout.sections[layout.nameTableIndex];
        const regions: Array<[number, number]> = [
          [0, layout.headerSize],
          [layout.tableOffset, layout.count * layout.entrySize],
          [noteSection.offset, noteSection.size],
          [nameTable.offset, nameTable.size],
        ];
        const interesting = [0n, 1n, 0xffn, 0xffffn, 0xffffffffn, 0x7fffffffn, 0x80000000n, BigInt(original.length), BigInt(original.length - 1), 1n << 63n, (1n << 64n) - 1n];
        const random = randomGenerator(1000 + index);
        const counts = { reports: 0, errors: new Map<ElfErrorCode, number>() };
        for (let round = 0; round < 3000; round++) {
          const bytes = Buffer.from(original);
          const mutations = 1 + Math.floor(random() * 6);
          for (let mutation = 0; mutation < mutations; mutation++) {
            const [start, length] = regions[Math.floor(random() * regions.length)];
            const at = start + Math.floor(random() * length);
            const kind = random();
            if (kind < 0.4) bytes[at] ^= 1 << Math.floor(random() * 8);
            else if (kind < 0.7) bytes[at] = Math.floor(random() * 256);
            else {
              const aligned = at - (at % (layout.is64 ? 8 : 4));
              const value = interesting[Math.floor(random() * interesting.length)];
              if (aligned + 8 <= bytes.length && layout.is64) writeWord(bytes, layout, aligned, value);
              else if (aligned + 4 <= bytes.length) writeU32(bytes, layout, aligned, Number(value & 0xffffffffn));
            }
          }
          const source = new RecordingSource(new BufferByteSource(bytes));
          const outcome = await outcomeOf(() => readStapsdtNotesFromReader(source, 'fuzz'), `${program.label} round ${round}`);
          assert.ok(source.largestRequest <= MAX_SECTION_BYTES, `round ${round}: asked for ${source.largestRequest} bytes`);
          if ('report' in outcome) counts.reports++;
          else counts.errors.set(outcome.error.code, (counts.errors.get(outcome.error.code) ?? 0) + 1);
        }
        assert.ok(counts.reports > 0 && counts.errors.size > 0, `mix of outcomes: ${counts.reports} reports, ${JSON.stringify([...counts.errors])}`);
      });
    }

    it(`1000 mutated views of ${PYTHON} (mutations overlaid on reads, the 6.8 MB file is never copied)`, async () => {
      const source = await FileByteSource.open(PYTHON);
      try {
        const head = await source.read(0, 64);
        const tableOffset = Number(head.readBigUInt64LE(40));
        const tableSize = head.readUInt16LE(58) * head.readUInt16LE(60);
        const regions: Array<[number, number]> = [[0, 64], [tableOffset, tableSize], [0x683278, 0x290]];
        const random = randomGenerator(99);
        for (let round = 0; round < 1000; round++) {
          const mutations = new Map<number, number>();
          const count = 1 + Math.floor(random() * 4);
          for (let mutation = 0; mutation < count; mutation++) {
            const [start, length] = regions[Math.floor(random() * regions.length)];
            mutations.set(start + Math.floor(random() * length), Math.floor(random() * 256));
          }
          const mutated: ElfByteSource = {
            size: source.size,
            read: async (offset, length) => {
              const bytes = await source.read(offset, length);
              for (const [at, value] of mutations) if (at >= offset && at < offset + bytes.length) bytes[at - offset] = value;
              return bytes;
            },
          };
          const recording = new RecordingSource(mutated);
          await outcomeOf(() => readStapsdtNotesFromReader(recording, PYTHON), `python mutation round ${round}`);
          assert.ok(recording.largestRequest <= MAX_SECTION_BYTES);
        }
      } finally {
        await source.close();
      }
    });
  });
});
