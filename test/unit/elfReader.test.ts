import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BufferByteSource, FileByteSource } from '../../src/core/elf/elfByteSource';
import { ElfReadError } from '../../src/core/elf/elfErrors';
import { readStapsdtNotes, readStapsdtNotesFromReader, type StapsdtReport } from '../../src/core/elf/stapsdtNotes';
import { CountingByteSource } from './helpers/countingByteSource';
import { assertMatchesReadelf, assertSemaphoreOffsets } from './helpers/readelfComparison';
import {
  SDT_PROGRAM_PROBES,
  SDT_PROGRAM_SEMAPHORES,
  buildSdtPrograms,
  makeTemporaryDirectory,
  readelfSections,
  readelfSymbols,
  type SdtProgram,
} from './helpers/readelfNotes';

const PYTHON = '/usr/bin/python3.11';
const LIBSTDCXX = '/usr/lib/x86_64-linux-gnu/libstdc++.so.6';
const TRACEE_BUILD = path.resolve(__dirname, '../tracee/build');
const TRACEE_FILES = [
  'tracee-v29',
  'tracee-legacy',
  'tracee-v29-nopie',
  'tracee-legacy-nopie',
  'tracee-v29-stripped',
  'tracee-legacy-stripped',
  'tracee-i686',
  'tracee-aarch64',
  'tracee-s390x',
];


describe('stapsdt notes of system binaries (compared with readelf -n)', () => {
  it(`${PYTHON}: 8 python probes with semaphores`, async () => {
    const report = await readStapsdtNotes(PYTHON);
    assert.deepEqual(report.elf, { elfClass: 64, endianness: 'little', machine: 'x86-64', type: 'EXEC' });
    assert.equal(report.notes.length, 8);
    assert.ok(report.notes.every((note) => note.provider === 'python'));
    await assertMatchesReadelf(PYTHON, report);
    assert.equal(await assertSemaphoreOffsets(PYTHON, report), 8);
    const probes = (await readelfSections(PYTHON)).find((section) => section.name === '.probes');
    assert.ok(probes, 'python3.11 keeps its semaphores in .probes');
    for (const note of report.notes) {
      assert.ok(note.semaphore !== null && note.semaphoreFileOffset !== null);
      assert.ok(note.semaphore >= probes.address && note.semaphore < probes.address + probes.size, `${note.name}: semaphore inside .probes`);
      assert.equal(note.semaphoreFileOffset - note.semaphore, probes.offset - probes.address);
    }
  });

  it(`${LIBSTDCXX}: 3 libstdcxx probes, no semaphores`, async () => {
    const report = await readStapsdtNotes(LIBSTDCXX);
    assert.equal(report.elf.type, 'DYN');
    assert.deepEqual(report.notes.map((note) => `${note.provider}:${note.name}`), ['libstdcxx:catch', 'libstdcxx:throw', 'libstdcxx:rethrow']);
    assert.ok(report.notes.every((note) => note.semaphore === null && note.semaphoreFileOffset === null));
    await assertMatchesReadelf(LIBSTDCXX, report);
  });

  it('a binary without USDT: hasNoteSection false, no notes', async () => {
    const report = await readStapsdtNotes('/bin/ls');
    assert.equal(report.hasNoteSection, false);
    assert.deepEqual(report.notes, []);
    assert.equal(report.fileSize, (await fs.stat('/bin/ls')).size);
  });
});

describe('stapsdt notes of self-compiled sdt programs', function () {
  this.timeout(120000);
  let directory: string;
  let programs: SdtProgram[];

  before(async () => {
    directory = await makeTemporaryDirectory('elf-reader-test-');
    programs = await buildSdtPrograms(directory);
  });
  after(async () => {
    if (directory) await fs.rm(directory, { recursive: true, force: true });
  });

  it('every build: identity, probes in order, values equal readelf, semaphore offsets equal the LOAD mapping', async () => {
    assert.equal(programs.length, 7);
    for (const program of programs) {
      const report = await readStapsdtNotes(program.file);
      assert.equal(report.elf.elfClass, program.elfClass, program.label);
      assert.equal(report.elf.endianness, program.endianness, program.label);
      assert.equal(report.elf.machine, program.machine, program.label);
      assert.deepEqual(report.notes.map((note) => `${note.provider}:${note.name}`), SDT_PROGRAM_PROBES, program.label);
      await assertMatchesReadelf(program.file, report);
      assert.equal(await assertSemaphoreOffsets(program.file, report), 2, `${program.label}: two semaphores`);
      for (const note of report.notes) {
        for (const arg of note.args) assert.notEqual(arg.operand.kind, 'unknown', `${program.label} ${note.name}: ${arg.raw}`);
      }
      assert.equal(report.notes[3].arguments, '', `${program.label}: the probe without arguments`);
      assert.deepEqual(report.notes[3].args, []);
    }
  });

  it('semaphore addresses and file offsets equal the symbols and the .probes section', async () => {
    for (const program of programs.filter((candidate) => !candidate.stripped)) {
      const report = await readStapsdtNotes(program.file);
      const symbols = await readelfSymbols(program.file);
      const probes = (await readelfSections(program.file)).find((section) => section.name === '.probes');
      assert.ok(probes, `${program.label}: .probes section`);
      const bytes = await fs.readFile(program.file);
      for (const [index, symbolName] of SDT_PROGRAM_SEMAPHORES.entries()) {
        const symbolAddress = symbols.get(symbolName);
        assert.ok(symbolAddress !== undefined, `${program.label}: symbol ${symbolName}`);
        const note = report.notes[index];
        assert.equal(note.semaphore, symbolAddress, `${program.label}: ${symbolName} address`);
        const expectedOffset: bigint = probes.offset + (symbolAddress - probes.address);
        assert.equal(note.semaphoreFileOffset, expectedOffset, `${program.label}: ${symbolName} file offset`);
        assert.equal(bytes.readUInt16LE(Number(expectedOffset)), 0, 'semaphores start at 0');
      }
    }
  });

  it('stripped and non-stripped builds of the same source agree on every note', async () => {
    const pie = await readStapsdtNotes(programs[0].file);
    const stripped = await readStapsdtNotes(programs[2].file);
    assert.deepEqual(stripped.notes, pie.notes);
  });

  it('non-PIE builds are EXEC with absolute addresses, PIE builds DYN', async () => {
    const pie = await readStapsdtNotes(programs[0].file);
    const nonPie = await readStapsdtNotes(programs[1].file);
    assert.equal(pie.elf.type, 'DYN');
    assert.equal(nonPie.elf.type, 'EXEC');
    assert.ok(nonPie.notes.every((note) => note.address >= 0x400000n));
    assert.ok(pie.notes.every((note) => note.address < 0x400000n));
  });

  it('applies the .stapsdt.base correction to pc and semaphore when the section moved (prelink)', async () => {
    for (const program of [programs[0], programs[3], programs[6]]) {
      const original = await readStapsdtNotes(program.file);
      const bytes = await fs.readFile(program.file);
      const moved = moveSectionAddress(bytes, '.stapsdt.base', 0x10000n);
      const report = await readStapsdtNotesFromReader(new BufferByteSource(moved), program.file);
      report.notes.forEach((note, index) => {
        const before = original.notes[index];
        assert.equal(note.notePc, before.notePc, program.label);
        assert.equal(note.address, before.address + 0x10000n, `${program.label}: pc shifted`);
        assert.equal(note.semaphore, before.semaphore === null ? null : before.semaphore + 0x10000n, `${program.label}: semaphore shifted`);
      });
    }
  });

  it('reads only headers and notes: a copy grown to 400 MB (sparse) costs the same few kilobytes', async () => {
    const copy = path.join(directory, 'huge-copy');
    await fs.copyFile(programs[0].file, copy);
    await fs.truncate(copy, 400 * 1024 * 1024);
    const counting = await openCounting(copy);
    try {
      const report = await readStapsdtNotesFromReader(counting, copy);
      assert.equal(report.fileSize, 400 * 1024 * 1024);
      assert.deepEqual(report.notes, (await readStapsdtNotes(programs[0].file)).notes);
      assert.ok(counting.bytesRead < 16 * 1024, `read ${counting.bytesRead} bytes of a 400 MB file`);
    } finally {
      await counting.close();
    }
  });
});

describe('synthetic ELF files of every class and byte order (compared with readelf -n)', () => {
  let directory: string;
  before(async () => {
    directory = await makeTemporaryDirectory('elf-synthetic-test-');
  });
  after(async () => {
    if (directory) await fs.rm(directory, { recursive: true, force: true });
  });

  const variants: Array<{ elfClass: 32 | 64; little: boolean; machineNumber: number; machine: string }> = [
    { elfClass: 32, little: false, machineNumber: 22, machine: 's390' },
    { elfClass: 32, little: true, machineNumber: 3, machine: 'i386' },
    { elfClass: 64, little: false, machineNumber: 22, machine: 's390x' },
    { elfClass: 64, little: true, machineNumber: 62, machine: 'x86-64' },
    { elfClass: 64, little: true, machineNumber: 4242, machine: 'EM_4242' },
  ];
  for (const variant of variants) {
    it(`ELF${variant.elfClass} ${variant.little ? 'little' : 'big'} endian, machine ${variant.machine}`, async () => {
      const file = path.join(directory, `synthetic-${variant.elfClass}-${variant.little ? 'le' : 'be'}-${variant.machineNumber}`);
      await fs.writeFile(file, buildSyntheticElf(variant.elfClass, variant.little, variant.machineNumber));
      const report = await readStapsdtNotes(file);
      assert.deepEqual(report.elf, { elfClass: variant.elfClass, endianness: variant.little ? 'little' : 'big', machine: variant.machine, type: 'EXEC' });
      await assertMatchesReadelf(file, report);
      assert.deepEqual(
        report.notes.map((note) => [note.provider, note.name, note.address, note.semaphore, note.semaphoreFileOffset]),
        [
          ['synthetic', 'first', 0x1000n, 0x20002n, 0x102n],
          ['synthetic', 'first', 0x1010n, 0x20002n, 0x102n],
          ['other', 'second', 0x1020n, null, null],
        ],
      );
      assert.deepEqual(report.notes[0].args.map((arg) => [arg.size, arg.signed]), [[4, true], [8, false]]);
    });
  }
});

describe('memory: bytes read from a large library', () => {
  it(`${LIBSTDCXX}: fewer than 256 KiB read`, async () => {
    const counting = await openCounting(LIBSTDCXX);
    try {
      const report = await readStapsdtNotesFromReader(counting, LIBSTDCXX);
      assert.equal(report.notes.length, 3);
      assert.ok(counting.bytesRead < 256 * 1024, `read ${counting.bytesRead} bytes`);
      assert.ok(counting.bytesRead < report.fileSize / 50);
    } finally {
      await counting.close();
    }
  });

  it(`${PYTHON}: fewer than 256 KiB read`, async () => {
    const counting = await openCounting(PYTHON);
    try {
      await readStapsdtNotesFromReader(counting, PYTHON);
      assert.ok(counting.bytesRead < 256 * 1024, `read ${counting.bytesRead} bytes`);
    } finally {
      await counting.close();
    }
  });
});

describe('test tracee builds (test/tracee/build, compared with readelf -n)', function () {
  this.timeout(120000);
  it('every tracee build matches readelf note for note, with semaphore file offsets', async () => {
    const exists = await fs.stat(TRACEE_BUILD).then((stat) => stat.isDirectory(), () => false);
    assert.ok(exists, `${TRACEE_BUILD} is missing: run \`make -C test/tracee\` first`);
    for (const name of TRACEE_FILES) {
      const file = path.join(TRACEE_BUILD, name);
      await fs.access(file).catch(() => assert.fail(`${file} is missing: run \`make -C test/tracee\` first`));
      const report = await readStapsdtNotes(file);
      assert.ok(report.notes.length > 0, `${name}: has stapsdt notes`);
      await assertMatchesReadelf(file, report);
      await assertSemaphoreOffsets(file, report);
      for (const note of report.notes) {
        for (const arg of note.args) assert.notEqual(arg.operand.kind, 'unknown', `${name} ${note.provider}:${note.name}: ${arg.raw}`);
      }
      const expectedIdentity: Record<string, Partial<StapsdtReport['elf']>> = {
        'tracee-i686': { elfClass: 32, machine: 'i386' },
        'tracee-aarch64': { elfClass: 64, machine: 'aarch64', endianness: 'little' },
        'tracee-s390x': { elfClass: 64, machine: 's390x', endianness: 'big' },
      };
      const identity = expectedIdentity[name] ?? { elfClass: 64, machine: 'x86-64', endianness: 'little' };
      for (const [key, value] of Object.entries(identity)) {
        assert.equal(report.elf[key as keyof StapsdtReport['elf']], value, `${name}: ${key}`);
      }
      if (name.includes('v29')) {
        assert.ok(report.notes.some((note) => note.semaphore !== null && note.semaphoreFileOffset !== null), `${name}: v29 builds have semaphores`);
      }
      if (!name.includes('stripped')) {
        const symbols = await readelfSymbols(file);
        const probes = (await readelfSections(file)).find((section) => section.name === '.probes');
        for (const note of report.notes.filter((candidate) => candidate.semaphore !== null)) {
          const symbolAddress = symbols.get(`${note.provider}_${note.name}_semaphore`);
          assert.equal(note.semaphore, symbolAddress, `${name} ${note.provider}:${note.name}: semaphore symbol`);
          assert.ok(probes && symbolAddress !== undefined, `${name}: .probes section and semaphore symbol`);
          assert.equal(note.semaphoreFileOffset, probes.offset + (symbolAddress - probes.address), `${name} ${note.provider}:${note.name}: semaphore file offset`);
        }
      }
      if (name.includes('legacy')) assert.ok(report.notes.every((note) => note.semaphore === null), `${name}: legacy builds have none`);
    }
  });
});

describe('errors from readStapsdtNotes', () => {
  it('a missing file is NOT_FOUND', async () => {
    await assert.rejects(readStapsdtNotes('/nonexistent/bitcoind'), (error: unknown) => error instanceof ElfReadError && error.code === 'NOT_FOUND' && error.path === '/nonexistent/bitcoind');
  });
});

async function openCounting(file: string): Promise<CountingByteSource & { close(): Promise<void> }> {
  const source = await FileByteSource.open(file);
  const counting = new CountingByteSource(source);
  return Object.assign(counting, { close: () => source.close() });
}

/**
 * A minimal ELF file written byte by byte: `.probes` (two 2-byte semaphores at 0x20000, file offset 0x100),
 * `.stapsdt.base` (0x10000), three stapsdt notes and a foreign note in `.note.stapsdt`, `.shstrtab`.
 */
function buildSyntheticElf(elfClass: 32 | 64, little: boolean, machineNumber: number): Buffer {
  const is64 = elfClass === 64;
  const writer = (target: Buffer) => ({
    u16: (at: number, value: number): void => void (little ? target.writeUInt16LE(value, at) : target.writeUInt16BE(value, at)),
    u32: (at: number, value: number): void => void (little ? target.writeUInt32LE(value, at) : target.writeUInt32BE(value, at)),
    word: (at: number, value: bigint): void => {
      if (!is64) void (little ? target.writeUInt32LE(Number(value), at) : target.writeUInt32BE(Number(value), at));
      else void (little ? target.writeBigUInt64LE(value, at) : target.writeBigUInt64BE(value, at));
    },
  });
  const wordSize = is64 ? 8 : 4;
  const pad = (buffer: Buffer): Buffer => Buffer.concat([buffer, Buffer.alloc((4 - (buffer.length % 4)) % 4)]);

  const notes: Buffer[] = [];
  const note = (owner: string, type: number, descriptor: Buffer): void => {
    const header = Buffer.alloc(12);
    const name = Buffer.from(`${owner}\0`);
    writer(header).u32(0, name.length);
    writer(header).u32(4, descriptor.length);
    writer(header).u32(8, type);
    notes.push(header, pad(name), pad(descriptor));
  };
  const stapsdt = (pc: bigint, semaphore: bigint, text: string): void => {
    const addresses = Buffer.alloc(wordSize * 3);
    [pc, 0x10000n, semaphore].forEach((value, index) => writer(addresses).word(index * wordSize, value));
    note('stapsdt', 3, Buffer.concat([addresses, Buffer.from(text)]));
  };
  stapsdt(0x1000n, 0x20002n, 'synthetic\0first\0-4@%r2 8@16(%r3)\0');
  stapsdt(0x1010n, 0x20002n, 'synthetic\0first\0-4@%r2 8@16(%r3)\0');
  note('GNU', 3, Buffer.alloc(20, 0xab));
  stapsdt(0x1020n, 0n, 'other\0second\0\0');
  const noteBytes = Buffer.concat(notes);

  const bytes = Buffer.alloc(0x1000);
  const fields = writer(bytes);
  noteBytes.copy(bytes, 0x300);
  const names = '\0.probes\0.stapsdt.base\0.note.stapsdt\0.shstrtab\0';
  const nameTableOffset = 0x300 + noteBytes.length;
  bytes.write(names, nameTableOffset, 'latin1');
  const nameIndex = (name: string): number => (name === '' ? 0 : names.indexOf(`\0${name}\0`) + 1);

  bytes.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, little ? 1 : 2, 1]);
  fields.u16(16, 2);
  fields.u16(18, machineNumber);
  fields.u32(20, 1);
  const tableOffset = 0x800;
  const entrySize = is64 ? 64 : 40;
  const sections: Array<{ name: string; type: number; flags: bigint; address: bigint; offset: number; size: number; alignment: number }> = [
    { name: '', type: 0, flags: 0n, address: 0n, offset: 0, size: 0, alignment: 0 },
    { name: '.probes', type: 1, flags: 3n, address: 0x20000n, offset: 0x100, size: 4, alignment: 2 },
    { name: '.stapsdt.base', type: 1, flags: 2n, address: 0x10000n, offset: 0x200, size: 1, alignment: 1 },
    { name: '.note.stapsdt', type: 7, flags: 0n, address: 0n, offset: 0x300, size: noteBytes.length, alignment: 4 },
    { name: '.shstrtab', type: 3, flags: 0n, address: 0n, offset: nameTableOffset, size: names.length, alignment: 1 },
  ];
  // Field offsets inside a section header: flags, addr, offset, size, addralign.
  const [flagsAt, addressAt, offsetAt, sizeAt, alignmentAt] = is64 ? [8, 16, 24, 32, 48] : [8, 12, 16, 20, 32];
  sections.forEach((section, index) => {
    const at = tableOffset + index * entrySize;
    fields.u32(at, nameIndex(section.name));
    fields.u32(at + 4, section.type);
    fields.word(at + flagsAt, section.flags);
    fields.word(at + addressAt, section.address);
    fields.word(at + offsetAt, BigInt(section.offset));
    fields.word(at + sizeAt, BigInt(section.size));
    fields.word(at + alignmentAt, BigInt(section.alignment));
  });
  // e_shoff, e_ehsize, e_shentsize, e_shnum, e_shstrndx
  const [shoffAt, ehsizeAt, shentsizeAt, shnumAt, shstrndxAt] = is64 ? [40, 52, 58, 60, 62] : [32, 40, 46, 48, 50];
  fields.word(shoffAt, BigInt(tableOffset));
  fields.u16(ehsizeAt, is64 ? 64 : 52);
  fields.u16(shentsizeAt, entrySize);
  fields.u16(shnumAt, sections.length);
  fields.u16(shstrndxAt, sections.length - 1);
  return bytes.subarray(0, tableOffset + sections.length * entrySize);
}

/** A copy of an ELF image whose named section's sh_addr is increased by `delta` (what prelink does). */
function moveSectionAddress(original: Buffer, sectionName: string, delta: bigint): Buffer {
  const bytes = Buffer.from(original);
  const is64 = bytes[4] === 2;
  const little = bytes[5] === 1;
  const u16 = (at: number): number => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number): number => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const word = (at: number): bigint => (is64 ? (little ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at)) : BigInt(u32(at)));
  const tableOffset = Number(is64 ? word(40) : word(32));
  const entrySize = u16(is64 ? 58 : 46);
  const count = u16(is64 ? 60 : 48);
  const nameTableIndex = u16(is64 ? 62 : 50);
  const nameTableOffset = Number(word(tableOffset + nameTableIndex * entrySize + (is64 ? 24 : 16)));
  for (let index = 0; index < count; index++) {
    const entry = tableOffset + index * entrySize;
    const nameStart = nameTableOffset + u32(entry);
    const name = bytes.toString('latin1', nameStart, bytes.indexOf(0, nameStart));
    if (name !== sectionName) continue;
    const addressAt = entry + (is64 ? 16 : 12);
    const moved = word(addressAt) + delta;
    if (is64) {
      if (little) bytes.writeBigUInt64LE(moved, addressAt);
      else bytes.writeBigUInt64BE(moved, addressAt);
    } else if (little) bytes.writeUInt32LE(Number(moved), addressAt);
    else bytes.writeUInt32BE(Number(moved), addressAt);
    return bytes;
  }
  throw new Error(`no section ${sectionName}`);
}
