import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** One stapsdt note as `readelf -n --wide` prints it (raw values, no base correction). */
export interface ReadelfStapsdtNote {
  provider: string;
  name: string;
  location: bigint;
  base: bigint;
  semaphore: bigint;
  arguments: string;
}

export interface ReadelfSection {
  name: string;
  type: string;
  address: bigint;
  offset: bigint;
  size: bigint;
}

export interface ReadelfSegment {
  type: string;
  offset: bigint;
  virtualAddress: bigint;
  fileSize: bigint;
}

async function runReadelf(args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('readelf', args, {
    env: { ...process.env, LC_ALL: 'C' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

export async function readelfStapsdtNotes(file: string): Promise<ReadelfStapsdtNote[]> {
  const lines = (await runReadelf(['-n', '--wide', file])).split('\n');
  const notes: ReadelfStapsdtNote[] = [];
  for (let index = 0; index < lines.length; index++) {
    const provider = /NT_STAPSDT.*Provider: (.*)$/.exec(lines[index]);
    if (!provider) continue;
    const name = /^\s+Name: (.*)$/.exec(lines[index + 1] ?? '');
    const location = /^\s+Location: (0x[0-9a-f]+), Base: (0x[0-9a-f]+), Semaphore: (0x[0-9a-f]+)$/.exec(lines[index + 2] ?? '');
    const args = /^\s+Arguments: ?(.*)$/.exec(lines[index + 3] ?? '');
    if (!name || !location || !args) throw new Error(`unexpected readelf output near line ${index + 1} for ${file}: ${lines.slice(index, index + 4).join(' | ')}`);
    notes.push({
      provider: provider[1],
      name: name[1],
      location: BigInt(location[1]),
      base: BigInt(location[2]),
      semaphore: BigInt(location[3]),
      arguments: args[1],
    });
    index += 3;
  }
  return notes;
}

export async function readelfSections(file: string): Promise<ReadelfSection[]> {
  const sections: ReadelfSection[] = [];
  for (const line of (await runReadelf(['-S', '--wide', file])).split('\n')) {
    const match = /^\s+\[\s*\d+\]\s+(\S*)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s/.exec(line);
    if (match) {
      sections.push({ name: match[1], type: match[2], address: BigInt(`0x${match[3]}`), offset: BigInt(`0x${match[4]}`), size: BigInt(`0x${match[5]}`) });
    }
  }
  return sections;
}

export async function readelfLoadSegments(file: string): Promise<ReadelfSegment[]> {
  const segments: ReadelfSegment[] = [];
  for (const line of (await runReadelf(['-l', '--wide', file])).split('\n')) {
    const match = /^\s+(LOAD)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s/.exec(line);
    if (match) {
      segments.push({ type: match[1], offset: BigInt(match[2]), virtualAddress: BigInt(match[3]), fileSize: BigInt(match[5]) });
    }
  }
  return segments;
}

/** Symbol name → value from `readelf -s --wide` (both .symtab and .dynsym). */
export async function readelfSymbols(file: string): Promise<Map<string, bigint>> {
  const symbols = new Map<string, bigint>();
  for (const line of (await runReadelf(['-s', '--wide', file])).split('\n')) {
    const match = /^\s+\d+:\s+([0-9a-f]+)\s+\d+\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S+)/.exec(line);
    if (match) symbols.set(match[2].replace(/@.*$/, ''), BigInt(`0x${match[1]}`));
  }
  return symbols;
}

/** The file offset an address maps to, computed from readelf's LOAD segments. */
export function fileOffsetFromReadelfSegments(address: bigint, segments: ReadelfSegment[]): bigint | undefined {
  const segment = segments.find((candidate) => candidate.virtualAddress <= address && address < candidate.virtualAddress + candidate.fileSize);
  return segment && segment.offset + (address - segment.virtualAddress);
}

// Small USDT programs compiled by the tests themselves, independent of test/tracee.

const SEMAPHORE_SOURCE = `
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include <stdint.h>
unsigned short demo_fire_semaphore __attribute__((section(".probes"))) = 0;
unsigned short demo_second_semaphore __attribute__((section(".probes"))) = 0;
long global_counter = 7;
double dval = 1.5;
void plain_probes(int argc, char **argv);
int main(int argc, char **argv) {
  int64_t big = argc * 1000000007LL;
  int8_t small = (int8_t)argc;
  uint16_t half = (uint16_t)(argc * 3);
  float f = argc * 0.5f;
  if (demo_fire_semaphore) STAP_PROBE9(demo, fire, argc, argv[0], big, small, half, 5, global_counter, f, dval);
  if (demo_second_semaphore) STAP_PROBE1(demo, second, -3);
  plain_probes(argc, argv);
  return 0;
}
`;

const PLAIN_SOURCE = `
#include <sys/sdt.h>
static char buf[64];
struct s { long a[8]; } gs;
void plain_probes(int argc, char **argv) {
  DTRACE_PROBE2(plain, two, argv, buf[argc]);
  DTRACE_PROBE(plain, noargs);
  for (int i = 0; i < argc; i++) DTRACE_PROBE2(plain, loop, i, gs.a[i]);
  DTRACE_PROBE2(plain, loop, argc + 1, &gs.a[argc]);
}
`;

export interface SdtProgram {
  label: string;
  file: string;
  elfClass: 32 | 64;
  endianness: 'little' | 'big';
  machine: string;
  stripped: boolean;
}

/** Notes every SdtProgram has, in order: provider:name. */
export const SDT_PROGRAM_PROBES = ['demo:fire', 'demo:second', 'plain:two', 'plain:noargs', 'plain:loop', 'plain:loop'];
export const SDT_PROGRAM_SEMAPHORES = ['demo_fire_semaphore', 'demo_second_semaphore'];

const SDT_HEADER_DIRECTORY = '/usr/include/x86_64-linux-gnu/sys';

/** Compiles the two-file USDT program for x86-64 (PIE, non-PIE, stripped), i686, aarch64 and s390x. */
export async function buildSdtPrograms(directory: string): Promise<SdtProgram[]> {
  const includeDirectory = path.join(directory, 'include');
  await fs.mkdir(path.join(includeDirectory, 'sys'), { recursive: true });
  for (const header of ['sdt.h', 'sdt-config.h']) {
    await fs.symlink(path.join(SDT_HEADER_DIRECTORY, header), path.join(includeDirectory, 'sys', header)).catch(() => undefined);
  }
  const semaphoreFile = path.join(directory, 'semaphores.c');
  const plainFile = path.join(directory, 'plain.c');
  await fs.writeFile(semaphoreFile, SEMAPHORE_SOURCE);
  await fs.writeFile(plainFile, PLAIN_SOURCE);
  const variants: Array<Omit<SdtProgram, 'file'> & { compiler: string; flags: string[] }> = [
    { label: 'x86-64 PIE -O2', compiler: 'gcc', flags: ['-O2'], elfClass: 64, endianness: 'little', machine: 'x86-64', stripped: false },
    { label: 'x86-64 non-PIE -O0', compiler: 'gcc', flags: ['-O0', '-no-pie'], elfClass: 64, endianness: 'little', machine: 'x86-64', stripped: false },
    { label: 'x86-64 PIE stripped', compiler: 'gcc', flags: ['-O2', '-s'], elfClass: 64, endianness: 'little', machine: 'x86-64', stripped: true },
    { label: 'i686 (ELF32)', compiler: 'i686-linux-gnu-gcc', flags: ['-O2'], elfClass: 32, endianness: 'little', machine: 'i386', stripped: false },
    { label: 'i686 non-PIE -O0', compiler: 'i686-linux-gnu-gcc', flags: ['-O0', '-no-pie'], elfClass: 32, endianness: 'little', machine: 'i386', stripped: false },
    { label: 'aarch64', compiler: 'aarch64-linux-gnu-gcc', flags: ['-O2'], elfClass: 64, endianness: 'little', machine: 'aarch64', stripped: false },
    { label: 's390x (big endian)', compiler: 's390x-linux-gnu-gcc', flags: ['-O2'], elfClass: 64, endianness: 'big', machine: 's390x', stripped: false },
  ];
  const programs: SdtProgram[] = [];
  for (const [index, { compiler, flags, ...program }] of variants.entries()) {
    const file = path.join(directory, `sdt-program-${index}`);
    try {
      await execFileAsync(compiler, [...flags, '-I', includeDirectory, '-o', file, semaphoreFile, plainFile]);
    } catch (error) {
      throw new Error(`could not compile the ${program.label} USDT test program with ${compiler}: ${(error as Error).message}`);
    }
    programs.push({ ...program, file });
  }
  return programs;
}

export async function makeTemporaryDirectory(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}
