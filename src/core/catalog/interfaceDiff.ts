// Compares the tracepoint interfaces of two builds (say master and a branch): tracepoints added, removed, or
// whose arguments (count, size, sign) or semaphore changed. What a tracing script depends on.

import { describeClientVersion } from '../elf/clientVersion';
import type { StapsdtNote, StapsdtReport } from '../elf/stapsdtNotes';
import { markdownCode, markdownText } from '../../shared/untrustedText';
import { argShape, describeShape } from './interfaceCheck';
import { findTracepointDocById } from './tracepointCatalog';

/** One tracepoint of one build: its argument shapes per distinct call-site signature. */
export interface TracepointInterface {
  readonly id: string;
  /** Distinct argument shape lists over its call sites, e.g. [["8", "-4", "-8"]]. */
  readonly signatures: readonly (readonly string[])[];
  readonly callSites: number;
  readonly hasSemaphore: boolean;
}

export interface TracepointChangeDetail {
  readonly id: string;
  readonly before: TracepointInterface;
  readonly after: TracepointInterface;
  /** One readable line per difference. */
  readonly differences: readonly string[];
}

export interface BuildSummary {
  readonly path: string;
  readonly version: string | null;
  readonly tracepoints: number;
}

export interface InterfaceDiff {
  readonly a: BuildSummary;
  readonly b: BuildSummary;
  /** In B, not in A. */
  readonly added: readonly TracepointInterface[];
  /** In A, not in B. */
  readonly removed: readonly TracepointInterface[];
  readonly changed: readonly TracepointChangeDetail[];
  readonly unchanged: readonly string[];
  /** True when anything was added, removed or changed. */
  readonly interfaceChanged: boolean;
}

/** The interface of each tracepoint of a build, by id, sorted. */
export function tracepointInterfaces(report: StapsdtReport): Map<string, TracepointInterface> {
  const notesById = new Map<string, StapsdtNote[]>();
  for (const note of report.notes) {
    const id = `${note.provider}:${note.name}`;
    notesById.set(id, [...(notesById.get(id) ?? []), note]);
  }
  const result = new Map<string, TracepointInterface>();
  for (const id of [...notesById.keys()].sort()) {
    const notes = notesById.get(id) ?? [];
    const signatures = new Map<string, string[]>();
    for (const note of notes) {
      const shapes = note.args.map(argShape);
      signatures.set(shapes.join(' '), shapes);
    }
    result.set(id, {
      id,
      signatures: [...signatures.values()],
      callSites: notes.length,
      hasSemaphore: notes.some((note) => note.semaphore !== null && note.semaphore !== 0n),
    });
  }
  return result;
}

export function diffInterfaces(a: StapsdtReport, b: StapsdtReport): InterfaceDiff {
  const before = tracepointInterfaces(a);
  const after = tracepointInterfaces(b);
  const added = [...after.values()].filter((tracepoint) => !before.has(tracepoint.id));
  const removed = [...before.values()].filter((tracepoint) => !after.has(tracepoint.id));
  const changed: TracepointChangeDetail[] = [];
  const unchanged: string[] = [];
  for (const old of before.values()) {
    const now = after.get(old.id);
    if (!now) continue;
    const differences = describeDifferences(old, now);
    if (differences.length > 0) changed.push({ id: old.id, before: old, after: now, differences });
    else unchanged.push(old.id);
  }
  return {
    a: summary(a, before.size),
    b: summary(b, after.size),
    added,
    removed,
    changed,
    unchanged,
    interfaceChanged: added.length + removed.length + changed.length > 0,
  };
}

function summary(report: StapsdtReport, tracepoints: number): BuildSummary {
  return { path: report.path, version: report.clientVersion ? describeClientVersion(report.clientVersion) : null, tracepoints };
}

function fieldName(id: string, index: number): string {
  const field = findTracepointDocById(id)?.args[index]?.field;
  return field ? `arg ${index} (${field})` : `arg ${index}`;
}

function describeDifferences(before: TracepointInterface, after: TracepointInterface): string[] {
  const differences: string[] = [];
  if (before.signatures.length === 1 && after.signatures.length === 1) {
    const [old] = before.signatures;
    const [now] = after.signatures;
    if (old.length !== now.length) differences.push(`argument count ${old.length} → ${now.length}`);
    for (let index = 0; index < Math.max(old.length, now.length); index++) {
      const was = old[index];
      const is = now[index];
      if (was === is) continue;
      if (was === undefined) differences.push(`${fieldName(before.id, index)} added: ${describeShape(is)}`);
      else if (is === undefined) differences.push(`${fieldName(before.id, index)} removed (was ${describeShape(was)})`);
      else differences.push(`${fieldName(before.id, index)}: ${describeShape(was)} → ${describeShape(is)}`);
    }
  } else {
    const text = (signatures: readonly (readonly string[])[]): string => signatures.map((shapes) => `[${shapes.join(' ')}]`).join(', ');
    if (text(before.signatures) !== text(after.signatures)) {
      differences.push(`argument shapes per call site ${text(before.signatures)} → ${text(after.signatures)}`);
    }
  }
  if (before.hasSemaphore !== after.hasSemaphore) {
    differences.push(after.hasSemaphore ? 'now gated by a semaphore (BCC needs a PID)' : 'no longer gated by a semaphore');
  }
  return differences;
}

/** The diff as a Markdown document; every name from a binary is escaped (nothing in it is markup). */
export function formatInterfaceDiffMarkdown(diff: InterfaceDiff): string {
  const build = (label: string, summary: BuildSummary): string =>
    `- **${label}**: ${markdownCode(summary.path)}${summary.version ? ` — Bitcoin Core ${markdownText(summary.version)}` : ''}, ${summary.tracepoints} tracepoint(s)`;
  const shapes = (tracepoint: TracepointInterface): string =>
    tracepoint.signatures.map((signature) => markdownCode(signature.join(' ') || '(no arguments)')).join(', ');
  const lines = ['# Tracepoint interface: A → B', '', build('A', diff.a), build('B', diff.b), ''];
  lines.push(
    diff.interfaceChanged
      ? `**The interface changed**: ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged.length} unchanged.`
      : `**Same interface**: ${diff.unchanged.length} tracepoint(s), every argument of the same size and sign.`,
    '',
  );
  if (diff.removed.length > 0) {
    lines.push('## Removed (in A, not in B)', '');
    for (const tracepoint of diff.removed) lines.push(`- ${markdownCode(tracepoint.id)} — arguments ${shapes(tracepoint)}`);
    lines.push('');
  }
  if (diff.added.length > 0) {
    lines.push('## Added (in B, not in A)', '');
    for (const tracepoint of diff.added) lines.push(`- ${markdownCode(tracepoint.id)} — arguments ${shapes(tracepoint)}`);
    lines.push('');
  }
  if (diff.changed.length > 0) {
    lines.push('## Changed', '');
    for (const change of diff.changed) {
      lines.push(`- ${markdownCode(change.id)}`);
      // Differences are built from catalog field names and numbers only: no text from the binaries.
      for (const difference of change.differences) lines.push(`  - ${difference}`);
    }
    lines.push('');
  }
  lines.push(
    'Argument shapes as the notes write them: `-8` a signed 8-byte value, `8` unsigned (or a pointer on 64-bit), ' +
      '`1` a bool. Read from each binary\'s `.note.stapsdt` section.',
    '',
  );
  return lines.join('\n');
}

/** The diff as plain JSON (for CI). */
export function interfaceDiffJson(diff: InterfaceDiff): object {
  const tracepoint = (entry: TracepointInterface): object => ({
    id: entry.id,
    arguments: entry.signatures.map((signature) => [...signature]),
    call_sites: entry.callSites,
    semaphore: entry.hasSemaphore,
  });
  return {
    a: diff.a,
    b: diff.b,
    interface_changed: diff.interfaceChanged,
    added: diff.added.map(tracepoint),
    removed: diff.removed.map(tracepoint),
    changed: diff.changed.map((change) => ({ id: change.id, before: tracepoint(change.before), after: tracepoint(change.after), differences: change.differences })),
    unchanged: diff.unchanged,
  };
}
