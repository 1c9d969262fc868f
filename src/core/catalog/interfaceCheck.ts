// The tracepoint interface of a build (argument count, and each argument's size and sign, from its notes)
// against what the catalog documents for that build's Bitcoin Core version.

import type { ArgSpec } from '../elf/argSpec';
import type { ClientVersion } from '../elf/clientVersion';
import type { StapsdtNote } from '../elf/stapsdtNotes';
import { versionAtLeast, type ArgCType, type BitcoinCoreVersion, type TracepointDoc } from './tracepointCatalog';

/** How a note writes an argument: `-8` signed 8 bytes, `4` unsigned 4 bytes, `8f` a double. */
export function argShape(arg: Pick<ArgSpec, 'size' | 'signed' | 'float'>): string {
  return `${arg.signed ? '-' : ''}${arg.size}${arg.float ? 'f' : ''}`;
}

/** The shape sdt.h writes for a C type; pointers take the ELF class's address size. */
export function shapeOfCType(cType: ArgCType, pointerBytes: 4 | 8): string {
  switch (cType) {
    case 'int32':
      return '-4';
    case 'uint32':
      return '4';
    case 'int64':
      return '-8';
    case 'uint64':
      return '8';
    case 'bool':
      return '1';
    case 'char*':
    case 'uchar*':
      return String(pointerBytes);
  }
}

export interface ArgShapeMismatch {
  readonly index: number;
  readonly field: string;
  /** Shapes the catalog accepts for this build, e.g. ["-8"]. */
  readonly expected: readonly string[];
  /** Shapes found in the notes (one per distinct call site shape). */
  readonly actual: readonly string[];
}

export interface InterfaceMismatch {
  /** Set when the argument count differs: the counts the catalog accepts for this build, and those found. */
  readonly count: { readonly expected: readonly number[]; readonly actual: readonly number[] } | null;
  readonly args: readonly ArgShapeMismatch[];
}

/** Does a build of `version` have what release `since` introduced? Unknown version: both answers are accepted. */
function holds(version: ClientVersion | null, since: BitcoinCoreVersion): boolean | 'maybe' {
  return version === null ? 'maybe' : versionAtLeast(version, since);
}

/** The argument counts the catalog accepts for a build of this version. */
export function expectedArgCounts(doc: TracepointDoc, version: ClientVersion | null): number[] {
  const older = doc.olderArgCount;
  if (!older) return [doc.args.length];
  const newer = holds(version, older.before);
  if (newer === true) return [doc.args.length];
  if (newer === false) return [older.count];
  return [doc.args.length, older.count];
}

/** The argument shapes the catalog accepts at `index` for a build of this version. */
export function expectedArgShapes(doc: TracepointDoc, index: number, version: ClientVersion | null, pointerBytes: 4 | 8): string[] {
  const arg = doc.args[index];
  if (!arg) return [];
  const current = shapeOfCType(arg.cType, pointerBytes);
  const older = arg.olderCType;
  if (!older) return [current];
  const newer = holds(version, older.before);
  const olderShapes = older.cTypes.map((cType) => shapeOfCType(cType, pointerBytes));
  if (newer === true) return [current];
  if (newer === false) return olderShapes;
  return [...new Set([current, ...olderShapes])];
}

/** What differs between a documented tracepoint's notes and the catalog for this version; null when nothing. */
export function checkInterface(
  doc: TracepointDoc,
  notes: readonly StapsdtNote[],
  version: ClientVersion | null,
  pointerBytes: 4 | 8,
): InterfaceMismatch | null {
  const expectedCounts = expectedArgCounts(doc, version);
  const actualCounts = [...new Set(notes.map((note) => note.args.length))].sort((a, b) => a - b);
  const count = actualCounts.every((actual) => expectedCounts.includes(actual)) ? null : { expected: expectedCounts, actual: actualCounts };
  const args: ArgShapeMismatch[] = [];
  const checked = Math.min(doc.args.length, ...actualCounts);
  for (let index = 0; index < checked; index++) {
    const expected = expectedArgShapes(doc, index, version, pointerBytes);
    const actual = [...new Set(notes.map((note) => note.args[index]).filter((arg) => arg !== undefined).map(argShape))];
    if (actual.some((shape) => !expected.includes(shape))) {
      args.push({ index, field: doc.args[index].field, expected, actual });
    }
  }
  return count === null && args.length === 0 ? null : { count, args };
}

/** `-8` → "signed 8 bytes", `4` → "unsigned 4 bytes". */
export function describeShape(shape: string): string {
  const float = shape.endsWith('f');
  const size = shape.replace(/^-/, '').replace(/f$/, '');
  return `${float ? 'float' : shape.startsWith('-') ? 'signed' : 'unsigned'} ${size} byte${size === '1' ? '' : 's'}`;
}

/** One line per difference, e.g. "arg 4 (sigops): the binary passes unsigned 8 bytes, the catalog documents signed 8 bytes". */
export function describeInterfaceMismatch(mismatch: InterfaceMismatch): string[] {
  const lines: string[] = [];
  if (mismatch.count) {
    lines.push(`the binary passes ${mismatch.count.actual.join('/')} argument(s), the catalog documents ${mismatch.count.expected.join(' or ')}`);
  }
  for (const arg of mismatch.args) {
    lines.push(
      `arg ${arg.index} (${arg.field}): the binary passes ${arg.actual.map(describeShape).join(' / ')}, ` +
        `the catalog documents ${arg.expected.map(describeShape).join(' or ')}`,
    );
  }
  return lines;
}
