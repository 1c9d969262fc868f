// Before anything runs as root: does the target binary (or the PID's executable) have the tracepoints the tool
// attaches to? Read from its ELF notes, so a bash or python process is refused with a clear message instead of
// bpftrace's "couldn't get argument 0 for …".

import type { ClientVersion } from '../elf/clientVersion';
import { isElfReadError } from '../elf/elfErrors';
import { readBitcoindNotes } from '../catalog/catalogMatch';
import { findTracepointDocById } from '../catalog/tracepointCatalog';
import { findTool } from './toolCatalog';

export interface ToolTarget {
  readonly toolId: string;
  /** The real path of the binary (for a PID: its /proc/PID/exe). */
  readonly binaryPath: string;
  readonly pid: number | null;
  /**
   * Whether the helper will act for root (who alone may run a BCC tool on every process of a binary without
   * semaphores). Default: this process runs as root and not through sudo.
   */
  readonly forRoot?: boolean;
}

export interface ToolTargetCheck {
  /** Why the tool cannot run against this target, in words for the user; null when it can. */
  readonly refusal: string | null;
  /**
   * The refusal without the tool's part when the cause is the binary itself (not an ELF file, no Bitcoin Core
   * tracepoints): the same for every tool, so several tools refused for it are said in one message. Null when the
   * refusal is about this tool (missing tracepoints, BCC on every process), or there is none.
   */
  readonly sharedRefusal: string | null;
  /** The binary's Bitcoin Core version (names of values follow it), null when unknown. */
  readonly clientVersion: ClientVersion | null;
}

/** Reads the target's notes: can the tool run there, and which Bitcoin Core version is it? */
export async function checkToolTarget(target: ToolTarget): Promise<ToolTargetCheck> {
  let clientVersion: ClientVersion | null = null;
  const refused = await toolTargetRefusal(target, (version) => (clientVersion = version));
  const refusal = typeof refused === 'string' || refused === null ? refused : refused.refusal;
  const sharedRefusal = typeof refused === 'string' || refused === null ? null : refused.shared;
  return { refusal, sharedRefusal, clientVersion };
}

/** A refusal whose cause is the binary, not the tool: `shared` says it for every tool. */
interface BinaryRefusal {
  readonly refusal: string;
  readonly shared: string;
}

async function toolTargetRefusal(target: ToolTarget, onVersion: (version: ClientVersion | null) => void): Promise<string | BinaryRefusal | null> {
  const tool = findTool(target.toolId);
  if (!tool) return `unknown probe tool ${JSON.stringify(target.toolId)}`;
  const what = target.pid === null ? target.binaryPath : `process ${target.pid} (${target.binaryPath})`;
  const needs = `${tool.id} needs ${tool.tracepoints.join(', ')}`;
  let present: Set<string>;
  let hasNoteSection: boolean;
  let report: Awaited<ReturnType<typeof readBitcoindNotes>>;
  try {
    report = await readBitcoindNotes(target.binaryPath);
    onVersion(report.clientVersion ?? null);
    present = new Set(report.notes.map((note) => `${note.provider}:${note.name}`));
    hasNoteSection = report.hasNoteSection;
  } catch (error) {
    if (!isElfReadError(error)) throw error;
    const notBitcoind = `${what} is not a bitcoind with USDT tracepoints (${error.message})`;
    return { refusal: `${notBitcoind}; ${needs}`, shared: notBitcoind };
  }
  const missing = tool.tracepoints.filter((id) => !present.has(id));
  if (missing.length === 0) return target.pid === null && tool.frontEnd === 'bcc' ? bccEveryProcessRefusal(tool.id, target, report) : null;
  const usage = 'Pick the PID of a running bitcoind, or a bitcoind built with -DWITH_USDT=ON (CMake, v29+) or --enable-usdt (v22–v28).';
  if (present.size === 0) {
    const why = hasNoteSection ? 'its .note.stapsdt section holds no notes' : 'no .note.stapsdt section';
    const notBitcoind = `${what} is not a bitcoind with USDT tracepoints (${why})`;
    return { refusal: `${notBitcoind}; ${needs}. ${usage}`, shared: `${notBitcoind}. ${usage}` };
  }
  if (![...present].some((id) => findTracepointDocById(id))) {
    // Provider names come from the binary: no control characters into a terminal or a message.
    const providers = [...new Set([...present].map((id) => id.split(':')[0].replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')))].slice(0, 5).join(', ');
    const notBitcoind = `${what} is not a bitcoind with USDT tracepoints (its ${present.size} USDT tracepoint(s) are of ${providers}, none of Bitcoin Core's)`;
    return { refusal: `${notBitcoind}; ${needs}. ${usage}`, shared: `${notBitcoind}. ${usage}` };
  }
  const added = missing.map((id) => findTracepointDocById(id)?.versionAdded).filter((version): version is NonNullable<typeof version> => !!version);
  const hint = added.length > 0 ? ` (added in ${[...new Set(added)].join(', ')}: the build may be older)` : '';
  return `${what} lacks the tracepoint(s) ${missing.join(', ')} that ${tool.id} attaches to${hint}`;
}

/**
 * A BCC tool on every process of a binary: BCC raises a v29+ build's semaphores in one process, and only root
 * may trace every process with it (the helper refuses both; said here, before anything starts).
 */
function bccEveryProcessRefusal(
  toolId: string,
  target: ToolTarget,
  report: { readonly notes: readonly { readonly semaphore: bigint | null }[] },
): string | null {
  const pick = 'Pick the PID of a running bitcoind instead of every process';
  if (report.notes.some((note) => note.semaphore !== null && note.semaphore !== 0n)) {
    return `A BCC tool (${toolId}) traces one process: this build's tracepoints have semaphores (Bitcoin Core v29+), which BCC raises in one running process. ${pick}.`;
  }
  const forRoot = target.forRoot ?? (process.getuid?.() === 0 && process.env.SUDO_UID === undefined);
  return forRoot ? null : `A BCC tool (${toolId}) traces one process: only root may trace every process of a binary with it. ${pick}.`;
}
