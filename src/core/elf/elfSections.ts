import type { ElfByteSource } from './elfByteSource';
import { ElfReadError } from './elfErrors';

export interface ElfIdentity {
  elfClass: 32 | 64;
  endianness: 'little' | 'big';
  /** 'x86-64' | 'aarch64' | 's390x' | 'i386' | a few others | 'EM_<n>' */
  machine: string;
  type: 'REL' | 'EXEC' | 'DYN' | 'CORE' | 'OTHER';
}

export interface ElfHeader {
  identity: ElfIdentity;
  machineNumber: number;
  programHeaderOffset: bigint;
  programHeaderEntrySize: number;
  programHeaderCount: number;
  sectionHeaderOffset: bigint;
  sectionHeaderEntrySize: number;
  sectionHeaderCount: number;
  sectionNameTableIndex: number;
}

export interface SectionHeader {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  address: bigint;
  offset: bigint;
  size: bigint;
  link: number;
  addressAlignment: bigint;
}

export interface ProgramHeader {
  type: number;
  offset: bigint;
  virtualAddress: bigint;
  fileSize: bigint;
  memorySize: bigint;
}

export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHF_ALLOC = 0x2n;
export const PT_LOAD = 1;

/** No section the reader loads (notes, section names) may be larger than this. */
export const MAX_SECTION_BYTES = 64 * 1024 * 1024;
/** Upper bound for the section header table (65,535 entries of 64 bytes need 4 MiB). */
export const MAX_TABLE_BYTES = 64 * 1024 * 1024;

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const SHN_XINDEX = 0xffff;
const PN_XNUM = 0xffff;

const MACHINE_NAMES: Record<number, string> = {
  3: 'i386',
  20: 'ppc',
  21: 'ppc64',
  40: 'arm',
  62: 'x86-64',
  183: 'aarch64',
  243: 'riscv',
};

/** Reads fields of one ELF structure in the file's byte order and class. */
export class ElfFields {
  constructor(
    readonly bytes: Buffer,
    readonly littleEndian: boolean,
    readonly elfClass: 32 | 64,
  ) {}

  u16(offset: number): number {
    return this.littleEndian ? this.bytes.readUInt16LE(offset) : this.bytes.readUInt16BE(offset);
  }

  u32(offset: number): number {
    return this.littleEndian ? this.bytes.readUInt32LE(offset) : this.bytes.readUInt32BE(offset);
  }

  u64(offset: number): bigint {
    return this.littleEndian ? this.bytes.readBigUInt64LE(offset) : this.bytes.readBigUInt64BE(offset);
  }

  /** An address, offset or size: 4 bytes in ELF32, 8 in ELF64. */
  word(offset: number): bigint {
    return this.elfClass === 64 ? this.u64(offset) : BigInt(this.u32(offset));
  }
}

export class ElfSectionReader {
  private constructor(
    readonly source: ElfByteSource,
    readonly path: string,
    readonly header: ElfHeader,
  ) {}

  get littleEndian(): boolean {
    return this.header.identity.endianness === 'little';
  }

  get elfClass(): 32 | 64 {
    return this.header.identity.elfClass;
  }

  static async open(source: ElfByteSource, path: string): Promise<ElfSectionReader> {
    const header = await readElfHeader(source, path);
    return new ElfSectionReader(source, path, header);
  }

  /** Reads `length` bytes at `offset`, refusing anything larger than `limit` or past the end of the file. */
  async readRange(offset: bigint, length: bigint, what: string, limit = MAX_SECTION_BYTES): Promise<Buffer> {
    if (length > BigInt(limit)) {
      throw this.error('MALFORMED', `${what} claims ${describeSize(length)}, more than the ${describeSize(BigInt(limit))} this reader accepts`);
    }
    if (offset + length > BigInt(this.source.size)) {
      throw this.error(
        'TRUNCATED',
        `${what} ends at byte ${offset + length} but the file has only ${this.source.size} bytes`,
      );
    }
    const bytes = await readFromSource(this.source, this.path, Number(offset), Number(length));
    if (bytes.length !== Number(length)) {
      throw this.error('TRUNCATED', `${what} could not be read whole: the file ended after ${bytes.length} of ${length} bytes`);
    }
    return bytes;
  }

  /** The section header table with names; [] when the file has none. */
  async readSections(): Promise<SectionHeader[]> {
    const { sectionHeaderOffset: tableOffset, sectionHeaderEntrySize: entrySize } = this.header;
    if (tableOffset === 0n) return [];
    const minimumEntrySize = this.elfClass === 64 ? 64 : 40;
    if (entrySize < minimumEntrySize) {
      throw this.error('MALFORMED', `section header entries claim ${entrySize} bytes, less than the ${minimumEntrySize} an ELF${this.elfClass} entry needs`);
    }
    let count = this.header.sectionHeaderCount;
    let nameTableIndex = this.header.sectionNameTableIndex;
    if (count === 0 || nameTableIndex === SHN_XINDEX) {
      // Extended numbering: the real values live in section 0.
      const first = this.parseSectionHeader(await this.readRange(tableOffset, BigInt(entrySize), 'section header 0', MAX_TABLE_BYTES), 0, 0);
      if (count === 0) {
        if (first.size === 0n) return [];
        if (first.size * BigInt(entrySize) > BigInt(MAX_TABLE_BYTES)) {
          throw this.error('MALFORMED', `the section header table claims ${first.size} sections, more than this reader accepts`);
        }
        count = Number(first.size);
      }
      if (nameTableIndex === SHN_XINDEX) nameTableIndex = first.link;
    }
    const table = await this.readRange(tableOffset, BigInt(count) * BigInt(entrySize), 'the section header table', MAX_TABLE_BYTES);
    const sections: Array<SectionHeader & { nameOffset: number }> = [];
    for (let index = 0; index < count; index++) {
      sections.push(this.parseSectionHeader(table, index * entrySize, index));
    }
    const withoutNameOffsets = (): SectionHeader[] => sections.map(({ nameOffset: _nameOffset, ...section }) => section);
    if (nameTableIndex === 0) return withoutNameOffsets();
    if (nameTableIndex >= count) {
      throw this.error('MALFORMED', `the section name table index ${nameTableIndex} is out of range (the file has ${count} sections)`);
    }
    const nameTableHeader = sections[nameTableIndex];
    if (nameTableHeader.type === SHT_NOBITS) {
      throw this.error('MALFORMED', `the section name table (section ${nameTableIndex}) has no data in the file`);
    }
    const nameTable = await this.readRange(nameTableHeader.offset, nameTableHeader.size, 'the section name table');
    for (const section of sections) {
      section.name = readCString(nameTable, section.nameOffset) ?? '';
    }
    return withoutNameOffsets();
  }

  async readProgramHeaders(): Promise<ProgramHeader[]> {
    const { programHeaderOffset: tableOffset, programHeaderEntrySize: entrySize } = this.header;
    let count = this.header.programHeaderCount;
    if (tableOffset === 0n || count === 0) return [];
    const minimumEntrySize = this.elfClass === 64 ? 56 : 32;
    if (entrySize < minimumEntrySize) {
      throw this.error('MALFORMED', `program header entries claim ${entrySize} bytes, less than the ${minimumEntrySize} an ELF${this.elfClass} entry needs`);
    }
    if (count === PN_XNUM) {
      if (this.header.sectionHeaderOffset === 0n) return [];
      count = (await this.readSectionZero()).info;
    }
    const table = await this.readRange(tableOffset, BigInt(count) * BigInt(entrySize), 'the program header table', MAX_TABLE_BYTES);
    const fields = new ElfFields(table, this.littleEndian, this.elfClass);
    const headers: ProgramHeader[] = [];
    for (let index = 0; index < count; index++) {
      const at = index * entrySize;
      headers.push(
        this.elfClass === 64
          ? { type: fields.u32(at), offset: fields.u64(at + 8), virtualAddress: fields.u64(at + 16), fileSize: fields.u64(at + 32), memorySize: fields.u64(at + 40) }
          : { type: fields.u32(at), offset: fields.word(at + 4), virtualAddress: fields.word(at + 8), fileSize: fields.word(at + 16), memorySize: fields.word(at + 20) },
      );
    }
    return headers;
  }

  error(code: 'TRUNCATED' | 'MALFORMED', detail: string): ElfReadError {
    const advice = code === 'TRUNCATED' ? 'the file is incomplete (an interrupted copy or build?)' : 'the file is damaged or not a normal ELF binary';
    return new ElfReadError(code, this.path, `${this.path}: ${detail}; ${advice}`);
  }

  private async readSectionZero(): Promise<{ info: number }> {
    const entry = await this.readRange(this.header.sectionHeaderOffset, BigInt(this.header.sectionHeaderEntrySize), 'section header 0', MAX_TABLE_BYTES);
    const fields = new ElfFields(entry, this.littleEndian, this.elfClass);
    return { info: fields.u32(this.elfClass === 64 ? 44 : 28) };
  }

  private parseSectionHeader(table: Buffer, at: number, index: number): SectionHeader & { nameOffset: number } {
    const fields = new ElfFields(table, this.littleEndian, this.elfClass);
    if (this.elfClass === 64) {
      return {
        index,
        nameOffset: fields.u32(at),
        name: '',
        type: fields.u32(at + 4),
        flags: fields.u64(at + 8),
        address: fields.u64(at + 16),
        offset: fields.u64(at + 24),
        size: fields.u64(at + 32),
        link: fields.u32(at + 40),
        addressAlignment: fields.u64(at + 48),
      };
    }
    return {
      index,
      nameOffset: fields.u32(at),
      name: '',
      type: fields.u32(at + 4),
      flags: fields.word(at + 8),
      address: fields.word(at + 12),
      offset: fields.word(at + 16),
      size: fields.word(at + 20),
      link: fields.u32(at + 24),
      addressAlignment: fields.word(at + 32),
    };
  }
}

async function readElfHeader(source: ElfByteSource, path: string): Promise<ElfHeader> {
  if (source.size === 0) {
    throw new ElfReadError('NOT_ELF', path, `${path} is empty (0 bytes), not an ELF file: pick a built bitcoind binary`);
  }
  const start = await readFromSource(source, path, 0, Math.min(source.size, 64));
  const magicLength = Math.min(start.length, ELF_MAGIC.length);
  if (!start.subarray(0, magicLength).equals(ELF_MAGIC.subarray(0, magicLength))) {
    throw new ElfReadError('NOT_ELF', path, `${path} is not an ELF file (it starts with ${describeStart(start)}): pick a compiled bitcoind binary, not a script or source file`);
  }
  const truncated = (detail: string): ElfReadError =>
    new ElfReadError('TRUNCATED', path, `${path}: ${detail}; the file is incomplete (an interrupted copy or build?)`);
  const malformed = (detail: string): ElfReadError =>
    new ElfReadError('MALFORMED', path, `${path}: ${detail}; the file is damaged or not a normal ELF binary`);
  if (start.length < 6) throw truncated(`the ELF header is cut off after ${start.length} bytes`);
  const classByte = start[4];
  const dataByte = start[5];
  if (classByte !== 1 && classByte !== 2) throw malformed(`unknown ELF class ${classByte} (expected 1 for ELF32 or 2 for ELF64)`);
  if (dataByte !== 1 && dataByte !== 2) throw malformed(`unknown ELF byte order ${dataByte} (expected 1 for little or 2 for big endian)`);
  const elfClass = classByte === 2 ? 64 : 32;
  const headerSize = elfClass === 64 ? 64 : 52;
  if (start.length < headerSize) throw truncated(`the ELF${elfClass} header needs ${headerSize} bytes but the file has only ${start.length}`);
  const fields = new ElfFields(start, dataByte === 1, elfClass);
  const typeNumber = fields.u16(16);
  const machineNumber = fields.u16(18);
  const identity: ElfIdentity = {
    elfClass,
    endianness: dataByte === 1 ? 'little' : 'big',
    machine: machineName(machineNumber, elfClass),
    type: typeNumber === 1 ? 'REL' : typeNumber === 2 ? 'EXEC' : typeNumber === 3 ? 'DYN' : typeNumber === 4 ? 'CORE' : 'OTHER',
  };
  if (elfClass === 64) {
    return {
      identity,
      machineNumber,
      programHeaderOffset: fields.u64(32),
      sectionHeaderOffset: fields.u64(40),
      programHeaderEntrySize: fields.u16(54),
      programHeaderCount: fields.u16(56),
      sectionHeaderEntrySize: fields.u16(58),
      sectionHeaderCount: fields.u16(60),
      sectionNameTableIndex: fields.u16(62),
    };
  }
  return {
    identity,
    machineNumber,
    programHeaderOffset: fields.word(28),
    sectionHeaderOffset: fields.word(32),
    programHeaderEntrySize: fields.u16(42),
    programHeaderCount: fields.u16(44),
    sectionHeaderEntrySize: fields.u16(46),
    sectionHeaderCount: fields.u16(48),
    sectionNameTableIndex: fields.u16(50),
  };
}

export function machineName(machineNumber: number, elfClass: 32 | 64): string {
  if (machineNumber === 22) return elfClass === 64 ? 's390x' : 's390';
  return MACHINE_NAMES[machineNumber] ?? `EM_${machineNumber}`;
}

export async function readFromSource(source: ElfByteSource, path: string, offset: number, length: number): Promise<Buffer> {
  try {
    return await source.read(offset, length);
  } catch (error) {
    if (error instanceof ElfReadError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new ElfReadError('IO', path, `cannot read ${path}: ${detail.split('\n')[0]}`, { cause: error });
  }
}

/** The NUL-terminated string at `offset`, or undefined when it runs off the end of the buffer. */
export function readCString(bytes: Buffer, offset: number): string | undefined {
  if (offset < 0 || offset >= bytes.length) return undefined;
  const end = bytes.indexOf(0, offset);
  if (end < 0) return undefined;
  return bytes.toString('utf8', offset, end);
}

export function describeSize(bytes: bigint): string {
  const mebibyte = 1024n * 1024n;
  if (bytes >= 1024n * mebibyte) return `${(Number(bytes) / Number(1024n * mebibyte)).toFixed(1)} GiB`;
  if (bytes >= mebibyte) return `${(Number(bytes) / Number(mebibyte)).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}

function describeStart(start: Buffer): string {
  const shown = start.subarray(0, 16);
  let text = '';
  for (const byte of shown) {
    if (byte === 0x22 || byte === 0x5c) text += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
    else text += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `"${text}${start.length > shown.length ? '…' : ''}"`;
}
