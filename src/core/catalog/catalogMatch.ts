// Matches the USDT notes of one binary against the Bitcoin Core tracepoint catalog.

import type { ClientVersion } from '../elf/clientVersion';
import { readStapsdtNotes, type StapsdtNote, type StapsdtReport } from '../elf/stapsdtNotes';
import { checkInterface, describeInterfaceMismatch, type InterfaceMismatch } from './interfaceCheck';
import {
  CONTEXT_DOCS,
  TRACEPOINT_CATALOG,
  findTracepointDocById,
  type BitcoinCoreVersion,
  type TracepointDoc,
} from './tracepointCatalog';

export type TracepointStatus = 'documented' | 'undocumented';

export interface ArgumentCountMismatch {
  /** Counts the catalog accepts (the current one first). */
  readonly expected: readonly number[];
  /** Distinct counts found in this binary's notes for the tracepoint. */
  readonly actual: readonly number[];
}

export interface MatchedTracepoint {
  /** "provider:name", e.g. "net:inbound_message". */
  readonly id: string;
  readonly provider: string;
  readonly name: string;
  readonly status: TracepointStatus;
  /** Catalog entry when documented. */
  readonly doc: TracepointDoc | null;
  /** One note per call site, in file order. */
  readonly notes: readonly StapsdtNote[];
  /** True when any call site has a semaphore (v29+ TRACEPOINT). */
  readonly hasSemaphore: boolean;
  readonly argumentCountMismatch: ArgumentCountMismatch | null;
  /** How the notes' argument count, sizes or signs differ from the catalog for this build's version. */
  readonly interfaceMismatch: InterfaceMismatch | null;
}

export interface CatalogMatch {
  readonly path: string;
  /** Documented tracepoints in catalog order, then undocumented ones by id. */
  readonly tracepoints: readonly MatchedTracepoint[];
  /** Documented tracepoints this binary does not have. */
  readonly missing: readonly TracepointDoc[];
  /** Contexts of which every documented tracepoint is missing (while others are present). */
  readonly missingContexts: readonly string[];
  /** At least one documented Bitcoin Core tracepoint is present. */
  readonly isBitcoinCore: boolean;
  /** Some tracepoint has a semaphore: tracers must raise it (bpftrace does; BCC needs the PID). */
  readonly usesSemaphores: boolean;
  /** Oldest release that can have produced these tracepoints, e.g. "v29"; null when nothing documented matched. */
  readonly minimumVersion: BitcoinCoreVersion | null;
  readonly noteCount: number;
  /** The Bitcoin Core version read from the binary (CLIENT_BUILD in .rodata), null when unknown. */
  readonly clientVersion: ClientVersion | null;
  /** Set when the binary has no USDT tracepoints: what to tell the user, with the build flag. */
  readonly noUsdtMessage: string | null;
}

export const SEMAPHORE_NOTE =
  'these tracepoints use semaphores (Bitcoin Core v29+ style): they fire only while a tracer is attached. ' +
  'bpftrace raises the semaphores itself; BCC needs the PID of the running process (USDT(pid=…)).';

/**
 * The notes of a binary and, when it has Bitcoin Core tracepoints, its Bitcoin Core version (CLIENT_BUILD in
 * `.rodata`, a bounded scan of that one section).
 */
export function readBitcoindNotes(path: string): Promise<StapsdtReport> {
  return readStapsdtNotes(path, { clientVersionFor: BITCOIN_CORE_CONTEXTS });
}

/** The providers of Bitcoin Core's tracepoints. */
export const BITCOIN_CORE_CONTEXTS: readonly string[] = CONTEXT_DOCS.map((context) => context.context);

export function tracepointId(provider: string, name: string): string {
  return `${provider}:${name}`;
}

export { formatAddress } from '../elf/stapsdtNotes';

export function noUsdtMessage(path: string, hasNoteSection: boolean): string {
  const what = hasNoteSection ? 'its .note.stapsdt section holds no notes' : 'no .note.stapsdt section';
  return (
    `${path} has no USDT tracepoints (${what}). ` +
    'Rebuild Bitcoin Core with -DWITH_USDT=ON (CMake, v29+) or ./configure --enable-usdt (v22–v28).'
  );
}

export function matchCatalog(report: StapsdtReport): CatalogMatch {
  const version = report.clientVersion ?? null;
  const pointerBytes = report.elf.elfClass === 32 ? 4 : 8;
  const notesById = new Map<string, StapsdtNote[]>();
  for (const note of report.notes) {
    const id = tracepointId(note.provider, note.name);
    const group = notesById.get(id);
    if (group) group.push(note);
    else notesById.set(id, [note]);
  }

  const documented: MatchedTracepoint[] = [];
  const missing: TracepointDoc[] = [];
  for (const entry of TRACEPOINT_CATALOG) {
    const notes = notesById.get(entry.id);
    if (notes) documented.push(matched(entry.id, notes, entry, version, pointerBytes));
    else missing.push(entry);
  }
  const undocumented = [...notesById.keys()]
    .filter((id) => !findTracepointDocById(id))
    .sort()
    .map((id) => matched(id, notesById.get(id) ?? [], null, version, pointerBytes));

  const tracepoints = [...documented, ...undocumented];
  const usesSemaphores = tracepoints.some((tracepoint) => tracepoint.hasSemaphore);
  const presentContexts = new Set(documented.map((tracepoint) => tracepoint.provider));
  const missingContexts = documented.length === 0
    ? []
    : CONTEXT_DOCS.map((context) => context.context).filter((context) => !presentContexts.has(context));

  return {
    path: report.path,
    tracepoints,
    missing,
    missingContexts,
    isBitcoinCore: documented.length > 0,
    usesSemaphores,
    minimumVersion: minimumVersionOf(documented, usesSemaphores),
    noteCount: report.notes.length,
    clientVersion: version,
    noUsdtMessage: report.notes.length === 0 ? noUsdtMessage(report.path, report.hasNoteSection) : null,
  };
}

function matched(id: string, notes: StapsdtNote[], doc: TracepointDoc | null, version: ClientVersion | null, pointerBytes: 4 | 8): MatchedTracepoint {
  const first = notes[0];
  const interfaceMismatch = doc ? checkInterface(doc, notes, version, pointerBytes) : null;
  return {
    id,
    provider: first?.provider ?? id.split(':')[0] ?? '',
    name: first?.name ?? id.split(':')[1] ?? '',
    status: doc ? 'documented' : 'undocumented',
    doc,
    notes,
    hasSemaphore: notes.some((note) => note.semaphore !== null && note.semaphore !== 0n),
    argumentCountMismatch: interfaceMismatch?.count ?? null,
    interfaceMismatch,
  };
}

function minimumVersionOf(documented: readonly MatchedTracepoint[], usesSemaphores: boolean): BitcoinCoreVersion | null {
  if (documented.length === 0) return null;
  let newest: BitcoinCoreVersion = usesSemaphores ? 'v29' : 'v22';
  for (const tracepoint of documented) {
    const added = tracepoint.doc?.versionAdded;
    if (added && added > newest) newest = added;
  }
  return newest;
}

/** One line saying how the binary's argument count differs from the catalog, or null when it does not. */
export function describeArgumentCountMismatch(tracepoint: MatchedTracepoint): string | null {
  const mismatch = tracepoint.argumentCountMismatch;
  if (!mismatch) return null;
  const expected = mismatch.expected.join(' or ');
  return `${tracepoint.id}: the binary passes ${mismatch.actual.join('/')} argument(s), the catalog documents ${expected}`;
}

/** One line per way the tracepoint's interface differs from the catalog for this build (empty when none). */
export function describeInterfaceMismatches(tracepoint: MatchedTracepoint): string[] {
  return tracepoint.interfaceMismatch ? describeInterfaceMismatch(tracepoint.interfaceMismatch).map((line) => `${tracepoint.id}: ${line}`) : [];
}
