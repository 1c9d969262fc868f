// The readings "Trace this tracepoint" proposes for one tracepoint of a binary: from its notes (every call site
// must agree on the arguments) and, when a call site's source is at hand, from the expressions it passes.

import { promises as fs } from 'node:fs';
import type { StapsdtNote } from '../elf/stapsdtNotes';
import { readBitcoindNotes } from '../catalog/catalogMatch';
import type { CallSite } from '../source/callSiteFinder';
import { callSiteArguments, proposeReadings, type ReadingProposal } from './readingProposal';

export interface TraceProposal {
  tracepoint: string;
  proposals: ReadingProposal[];
  /** The call site whose source was read, if any. */
  callSite: CallSite | null;
}

export class TraceProposalError extends Error {}

/** UTF-16 offset of a 1-based line and column in `text`. */
export function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf('\n', offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return offset + column - 1;
}

/** The notes of `tracepoint` in `notes`; refuses one that is absent or whose call sites disagree on the arguments. */
export function notesOfTracepoint(notes: readonly StapsdtNote[], tracepoint: string): StapsdtNote[] {
  const matching = notes.filter((note) => `${note.provider}:${note.name}` === tracepoint);
  if (matching.length === 0) throw new TraceProposalError(`the binary has no tracepoint ${tracepoint}`);
  const shapes = new Set(matching.map((note) => note.args.map((a) => `${a.signed ? '-' : ''}${a.size}`).join(' ')));
  if (shapes.size > 1) {
    throw new TraceProposalError(`the call sites of ${tracepoint} pass different arguments (${[...shapes].join(' | ')}): it cannot be read one way`);
  }
  return matching;
}

/** Proposes a reading for every argument of `tracepoint` from the notes and the first call site found in the source. */
export async function proposeTrace(notes: readonly StapsdtNote[], tracepoint: string, callSites: readonly CallSite[]): Promise<TraceProposal> {
  const [note] = notesOfTracepoint(notes, tracepoint);
  for (const site of callSites) {
    let text: string;
    try {
      text = await fs.readFile(site.path, 'utf8');
    } catch {
      continue;
    }
    const offset = offsetOf(text, site.line, site.column);
    const expressions = callSiteArguments(text, offset);
    if (expressions === null || expressions.length !== note.args.length) continue;
    return { tracepoint, proposals: proposeReadings(note.args, expressions, text, offset), callSite: site };
  }
  return { tracepoint, proposals: proposeReadings(note.args, null), callSite: null };
}

/** proposeTrace for a binary on disk. */
export async function proposeTraceForBinary(binaryPath: string, tracepoint: string, callSites: readonly CallSite[]): Promise<TraceProposal> {
  const report = await readBitcoindNotes(binaryPath);
  return proposeTrace(report.notes, tracepoint, callSites);
}
