import { parseArgSpecs, type ArgSpec } from './argSpec';
import { readClientVersion, type ClientVersion } from './clientVersion';
import { FileByteSource, type ElfByteSource } from './elfByteSource';
import { ElfReadError } from './elfErrors';
import {
  ElfFields,
  ElfSectionReader,
  PT_LOAD,
  SHF_ALLOC,
  SHT_NOBITS,
  SHT_NOTE,
  type ElfIdentity,
  type ProgramHeader,
  type SectionHeader,
} from './elfSections';

export type { ElfIdentity } from './elfSections';
export type { ElfByteSource } from './elfByteSource';

export interface StapsdtNote {
  provider: string;
  name: string;
  /** Probe address after the `.stapsdt.base` correction. */
  address: bigint;
  /** Probe address as written in the note. */
  notePc: bigint;
  base: bigint;
  /** Semaphore address (after the same correction), null when the probe has none. */
  semaphore: bigint | null;
  /** Where the semaphore lives in the file: what the kernel's uprobe reference counter needs. */
  semaphoreFileOffset: bigint | null;
  /** Argument specs as written in the note. */
  arguments: string;
  args: ArgSpec[];
}

export interface StapsdtReport {
  path: string;
  elf: ElfIdentity;
  hasNoteSection: boolean;
  notes: StapsdtNote[];
  fileSize: number;
  /** Bitcoin Core version from the binary's `.rodata` (CLIENT_BUILD), null when it has none; absent when not read. */
  clientVersion?: ClientVersion | null;
}

export const STAPSDT_SECTION = '.note.stapsdt';
export const STAPSDT_BASE_SECTION = '.stapsdt.base';
const STAPSDT_OWNER = 'stapsdt';
const NT_STAPSDT = 3;

export interface ReadNotesOptions {
  /**
   * Also read the Bitcoin Core version (CLIENT_BUILD) from `.rodata` when the notes have a tracepoint of one of
   * these providers: a bounded scan of that one section (a few MB), so only for what looks like a bitcoind.
   */
  readonly clientVersionFor?: readonly string[];
}

/** Lists the USDT probes of an ELF file, reading only its headers and the note section (and `.rodata`, see options). */
export async function readStapsdtNotes(path: string, options: ReadNotesOptions = {}): Promise<StapsdtReport> {
  const source = await FileByteSource.open(path);
  try {
    return await readStapsdtNotesFromReader(source, path, options);
  } finally {
    await source.close();
  }
}

/** Same as readStapsdtNotes over any byte source (a Buffer in tests, a counting wrapper, …). */
export async function readStapsdtNotesFromReader(reader: ElfByteSource, path = '<memory>', options: ReadNotesOptions = {}): Promise<StapsdtReport> {
  const elf = await ElfSectionReader.open(reader, path);
  const sections = await elf.readSections();
  const noteSections = sections.filter((section) => section.name === STAPSDT_SECTION);
  const baseSection = sections.find((section) => section.name === STAPSDT_BASE_SECTION);
  const notes: StapsdtNote[] = [];
  let programHeaders: ProgramHeader[] | undefined;
  const semaphoreFileOffset = async (semaphore: bigint): Promise<bigint | null> => {
    const inSection = fileOffsetFromSections(semaphore, sections);
    if (inSection !== undefined) return inSection < BigInt(reader.size) ? inSection : null;
    programHeaders ??= await elf.readProgramHeaders();
    const inSegment = fileOffsetFromSegments(semaphore, programHeaders);
    return inSegment !== undefined && inSegment < BigInt(reader.size) ? inSegment : null;
  };

  for (const section of noteSections) {
    if (section.type === SHT_NOBITS || section.size === 0n) continue;
    if (section.type !== SHT_NOTE) {
      throw elf.error('MALFORMED', `section ${STAPSDT_SECTION} has type ${section.type}, not SHT_NOTE (7)`);
    }
    const bytes = await elf.readRange(section.offset, section.size, `section ${STAPSDT_SECTION}`);
    for (const raw of parseNoteEntries(bytes, section.addressAlignment === 8n ? 8 : 4, elf)) {
      const addressMask = (1n << BigInt(elf.elfClass)) - 1n;
      const shift = baseSection && baseSection.address !== raw.base ? baseSection.address - raw.base : 0n;
      const address = (raw.pc + shift) & addressMask;
      const semaphore = raw.semaphore === 0n ? null : (raw.semaphore + shift) & addressMask;
      notes.push({
        provider: raw.provider,
        name: raw.name,
        address,
        notePc: raw.pc,
        base: raw.base,
        semaphore,
        semaphoreFileOffset: semaphore === null ? null : await semaphoreFileOffset(semaphore),
        arguments: raw.arguments,
        args: parseArgSpecs(raw.arguments, elf.header.identity.machine),
      });
    }
  }
  const providers = new Set(options.clientVersionFor ?? []);
  const clientVersion = notes.some((note) => providers.has(note.provider)) ? await readClientVersion(elf, sections) : null;
  return { path, elf: elf.header.identity, hasNoteSection: noteSections.length > 0, notes, fileSize: reader.size, clientVersion };
}

/** `0x` and lowercase hex digits, no padding. */
export function formatAddress(value: bigint): string {
  return `0x${value.toString(16)}`;
}

interface RawStapsdtNote {
  pc: bigint;
  base: bigint;
  semaphore: bigint;
  provider: string;
  name: string;
  arguments: string;
}

function parseNoteEntries(bytes: Buffer, alignment: 4 | 8, elf: ElfSectionReader): RawStapsdtNote[] {
  const fields = new ElfFields(bytes, elf.littleEndian, elf.elfClass);
  const addressSize = elf.elfClass / 8;
  const align = (value: number): number => Math.ceil(value / alignment) * alignment;
  const notes: RawStapsdtNote[] = [];
  let position = 0;
  while (position < bytes.length) {
    const remaining = bytes.length - position;
    if (remaining < 12) {
      if (bytes.subarray(position).every((byte) => byte === 0)) break;
      throw elf.error('MALFORMED', `${STAPSDT_SECTION} ends with ${remaining} bytes that are not a whole note`);
    }
    const nameSize = fields.u32(position);
    const descriptorSize = fields.u32(position + 4);
    const type = fields.u32(position + 8);
    const nameStart = position + 12;
    const descriptorStart = nameStart + align(nameSize);
    const descriptorEnd = descriptorStart + descriptorSize;
    if (nameStart + nameSize > bytes.length || descriptorEnd > bytes.length) {
      throw elf.error(
        'MALFORMED',
        `the note at byte ${position} of ${STAPSDT_SECTION} claims a ${nameSize}-byte owner and a ${descriptorSize}-byte descriptor, past the section's end (${bytes.length} bytes)`,
      );
    }
    const owner = bytes.toString('latin1', nameStart, nameStart + nameSize).replace(/\0+$/, '');
    if (owner === STAPSDT_OWNER && type === NT_STAPSDT) {
      notes.push(parseStapsdtDescriptor(bytes.subarray(descriptorStart, descriptorEnd), fields, descriptorStart, addressSize, position, elf));
    }
    position = align(descriptorEnd);
  }
  return notes;
}

function parseStapsdtDescriptor(
  descriptor: Buffer,
  fields: ElfFields,
  descriptorStart: number,
  addressSize: number,
  notePosition: number,
  elf: ElfSectionReader,
): RawStapsdtNote {
  const corrupt = (detail: string): ElfReadError =>
    elf.error('MALFORMED', `the stapsdt note at byte ${notePosition} of ${STAPSDT_SECTION} ${detail}`);
  if (descriptor.length < addressSize * 3 + 3) {
    throw corrupt(`has a ${descriptor.length}-byte descriptor, too short for three addresses and three strings`);
  }
  const strings: string[] = [];
  let cursor = addressSize * 3;
  for (const what of ['provider', 'name', 'arguments']) {
    const end = descriptor.indexOf(0, cursor);
    if (end < 0) throw corrupt(`has no terminating NUL after its ${what}`);
    strings.push(descriptor.toString('utf8', cursor, end));
    cursor = end + 1;
  }
  return {
    pc: fields.word(descriptorStart),
    base: fields.word(descriptorStart + addressSize),
    semaphore: fields.word(descriptorStart + addressSize * 2),
    provider: strings[0],
    name: strings[1],
    arguments: strings[2],
  };
}

function fileOffsetFromSections(address: bigint, sections: SectionHeader[]): bigint | undefined {
  const containing = sections.find(
    (section) =>
      (section.flags & SHF_ALLOC) !== 0n &&
      section.type !== SHT_NOBITS &&
      section.address <= address &&
      address < section.address + section.size,
  );
  return containing && containing.offset + (address - containing.address);
}

function fileOffsetFromSegments(address: bigint, segments: ProgramHeader[]): bigint | undefined {
  const containing = segments.find(
    (segment) => segment.type === PT_LOAD && segment.virtualAddress <= address && address < segment.virtualAddress + segment.fileSize,
  );
  return containing && containing.offset + (address - containing.virtualAddress);
}
