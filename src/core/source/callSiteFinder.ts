// Finds Bitcoin Core tracepoint call sites in C/C++ sources: `TRACEPOINT(context, event, …)` (v29+) and
// `TRACE<n>(context, event, …)` (v22–v28). One scan indexes every call site of every tracepoint.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface CallSite {
  /** "context:event" */
  readonly tracepoint: string;
  readonly context: string;
  readonly event: string;
  /** The macro used: "TRACEPOINT" or "TRACE<n>". */
  readonly macro: string;
  readonly path: string;
  /** 1-based line of the macro token. */
  readonly line: number;
  /** 1-based column (UTF-16 code units, as editors count) of the macro token. */
  readonly column: number;
}

/** "context:event" → its call sites, sorted by path, line and column. */
export type CallSiteIndex = ReadonlyMap<string, readonly CallSite[]>;

export interface CallSiteScan {
  readonly index: CallSiteIndex;
  readonly filesScanned: number;
  readonly bytesScanned: number;
}

export interface FindCallSitesOptions {
  readonly signal?: AbortSignal;
  /** Files read at the same time (default 16). */
  readonly concurrency?: number;
}

export const SOURCE_EXTENSIONS: readonly string[] = ['.cpp', '.h', '.c', '.hpp'];

/** Directory names never descended into (in addition to every name starting with "."). */
export const SKIPPED_DIRECTORY_NAMES: ReadonlySet<string> = new Set([
  'node_modules',
  'depends',
  'dist',
  'out',
  'CMakeFiles',
  '__pycache__',
  'autom4te.cache',
  'target',
]);

/** build, build-fuzz, build_msan, build.release, … */
const BUILD_DIRECTORY = /^build(?:[-_.].*)?$/i;

const CALL_SITE = /\b(TRACEPOINT|TRACE\d{1,2})\s*\(\s*([A-Za-z_]\w*)\s*,\s*([A-Za-z_]\w*)\b/g;
const COMMENT_LINE_START = /^\s*(?:\/\/|\*)/;
const PREFILTER = 'TRACE';
const PREFILTER_BYTES = Buffer.from(PREFILTER, 'latin1');
const DEFAULT_CONCURRENCY = 16;

export function isSkippedDirectory(name: string): boolean {
  return name.startsWith('.') || SKIPPED_DIRECTORY_NAMES.has(name) || BUILD_DIRECTORY.test(name);
}

export function isSourceFile(name: string): boolean {
  return SOURCE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

export async function findCallSites(roots: readonly string[], options: FindCallSitesOptions = {}): Promise<CallSiteIndex> {
  return (await scanCallSites(roots, options)).index;
}

/** Like findCallSites, with the number of files and bytes read. */
export async function scanCallSites(roots: readonly string[], options: FindCallSitesOptions = {}): Promise<CallSiteScan> {
  const { signal } = options;
  const files: string[] = [];
  for (const root of roots) {
    await collectSourceFiles(path.resolve(root), files, signal, true);
  }
  const uniqueFiles = [...new Set(files)];

  const found: CallSite[] = [];
  let bytesScanned = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < uniqueFiles.length) {
      signal?.throwIfAborted();
      const file = uniqueFiles[next++];
      let bytes: Buffer;
      try {
        bytes = await fs.readFile(file, { signal });
      } catch (error) {
        if (signal?.aborted) throw error;
        continue; // deleted or unreadable since the walk: not a call site
      }
      bytesScanned += bytes.length;
      if (!bytes.includes(PREFILTER_BYTES)) continue;
      found.push(...findCallSitesInText(bytes.toString('utf8'), file));
    }
  };
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  await Promise.all(Array.from({ length: Math.min(concurrency, uniqueFiles.length) }, () => worker()));
  signal?.throwIfAborted();

  return { index: indexCallSites(found), filesScanned: uniqueFiles.length, bytesScanned };
}

export function indexCallSites(sites: readonly CallSite[]): CallSiteIndex {
  const sorted = [...sites].sort(compareCallSites);
  const index = new Map<string, CallSite[]>();
  for (const site of sorted) {
    const group = index.get(site.tracepoint);
    if (group) group.push(site);
    else index.set(site.tracepoint, [site]);
  }
  return index;
}

function compareCallSites(a: CallSite, b: CallSite): number {
  if (a.path !== b.path) return a.path < b.path ? -1 : 1;
  return a.line - b.line || a.column - b.column;
}

async function collectSourceFiles(entry: string, files: string[], signal: AbortSignal | undefined, isRoot: boolean): Promise<void> {
  signal?.throwIfAborted();
  let entries;
  try {
    entries = await fs.readdir(entry, { withFileTypes: true });
  } catch (error) {
    if (isRoot && (error as NodeJS.ErrnoException).code === 'ENOTDIR') {
      if (isSourceFile(entry)) files.push(entry);
    }
    return; // a root that does not exist or a directory we cannot read has no call sites
  }
  const subdirectories: string[] = [];
  for (const dirent of entries) {
    // Symbolic links are not followed: they can loop and usually point into trees scanned anyway.
    if (dirent.isDirectory()) {
      if (!isSkippedDirectory(dirent.name)) subdirectories.push(path.join(entry, dirent.name));
    } else if (dirent.isFile() && isSourceFile(dirent.name)) {
      files.push(path.join(entry, dirent.name));
    }
  }
  for (const subdirectory of subdirectories) {
    await collectSourceFiles(subdirectory, files, signal, false);
  }
}

/**
 * Call sites in one file's text. Comments, string and character literals and `#define` lines (with their
 * continuation lines) are ignored, and so are lines starting with `//` or `*`: macro definitions and
 * commented-out calls do not count.
 */
export function findCallSitesInText(text: string, filePath: string): CallSite[] {
  if (!text.includes(PREFILTER)) return [];
  const code = blankDefines(blankCommentsAndLiterals(text));
  const lineStarts = lineStartOffsets(code);
  const sites: CallSite[] = [];
  CALL_SITE.lastIndex = 0;
  for (let match = CALL_SITE.exec(code); match !== null; match = CALL_SITE.exec(code)) {
    const [, macro, context, event] = match;
    const lineIndex = lineIndexOf(lineStarts, match.index);
    // Belt and braces for comment styles the blanking may miss: ` * TRACEPOINT(…)` in a doc block.
    if (COMMENT_LINE_START.test(text.slice(lineStarts[lineIndex], match.index))) continue;
    sites.push({
      tracepoint: `${context}:${event}`,
      context,
      event,
      macro,
      path: filePath,
      line: lineIndex + 1,
      column: match.index - lineStarts[lineIndex] + 1,
    });
  }
  return sites;
}

/**
 * Replaces comments and the contents of string/character literals by spaces, keeping every newline and
 * every offset, so positions in the result are positions in the original text.
 */
export function blankCommentsAndLiterals(text: string): string {
  const out = text.split('');
  const length = text.length;
  const blank = (from: number, to: number): void => {
    for (let i = from; i < to && i < length; i++) {
      if (out[i] !== '\n' && out[i] !== '\r') out[i] = ' ';
    }
  };
  let i = 0;
  while (i < length) {
    const character = text[i];
    const nextCharacter = text[i + 1];
    if (character === '/' && nextCharacter === '/') {
      const end = lineCommentEnd(text, i + 2);
      blank(i, end);
      i = end;
    } else if (character === '/' && nextCharacter === '*') {
      const close = text.indexOf('*/', i + 2);
      const end = close === -1 ? length : close + 2;
      blank(i, end);
      i = end;
    } else if (character === '"' && text[i - 1] === 'R' && isStringPrefix(text, i - 1)) {
      const open = text.indexOf('(', i + 1);
      const delimiter = open === -1 ? '' : text.slice(i + 1, open);
      if (open === -1 || delimiter.length > 16 || /[\s\\()"]/.test(delimiter)) {
        i++;
        continue;
      }
      const close = text.indexOf(`)${delimiter}"`, open + 1);
      const end = close === -1 ? length : close + delimiter.length + 2;
      blank(i + 1, end - 1);
      i = end;
    } else if (character === '"' || (character === "'" && !isDigitSeparator(text, i))) {
      let end = i + 1;
      while (end < length && text[end] !== character && text[end] !== '\n') {
        end += text[end] === '\\' ? 2 : 1;
      }
      blank(i + 1, Math.min(end, length));
      i = end + 1;
    } else {
      i++;
    }
  }
  return out.join('');
}

/** End of a `//` comment: the next newline not escaped by a backslash (line splicing). */
function lineCommentEnd(text: string, from: number): number {
  let newline = text.indexOf('\n', from);
  while (newline !== -1) {
    const before = text[newline - 1] === '\r' ? newline - 2 : newline - 1;
    if (text[before] !== '\\') return newline;
    newline = text.indexOf('\n', newline + 1);
  }
  return text.length;
}

/** `R` at `rIndex` starts a raw string literal: nothing or an encoding prefix (u8, u, U, L) before it. */
function isStringPrefix(text: string, rIndex: number): boolean {
  let start = rIndex;
  while (start > 0 && isIdentifierCharacter(text[start - 1])) start--;
  const prefix = text.slice(start, rIndex);
  return prefix === '' || prefix === 'u8' || prefix === 'u' || prefix === 'U' || prefix === 'L';
}

/** A quote inside a number (1'000'000, 0xFF'FF) separates digits; elsewhere it starts a character literal. */
function isDigitSeparator(text: string, quoteIndex: number): boolean {
  let start = quoteIndex;
  while (start > 0 && (isIdentifierCharacter(text[start - 1]) || text[start - 1] === "'")) start--;
  return start < quoteIndex && /[0-9]/.test(text[start]);
}

function isIdentifierCharacter(character: string | undefined): boolean {
  return character !== undefined && /[A-Za-z0-9_]/.test(character);
}

/** Blanks `#define` directives, including their backslash-continued lines. */
function blankDefines(code: string): string {
  if (!code.includes('define')) return code;
  const lines = code.split('\n');
  let continuing = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (continuing || /^\s*#\s*define\b/.test(line)) {
      continuing = /\\\s*$/.test(line);
      lines[i] = ' '.repeat(line.length);
    }
  }
  return lines.join('\n');
}

function lineStartOffsets(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineIndexOf(lineStarts: readonly number[], offset: number): number {
  let low = 0;
  let high = lineStarts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (lineStarts[middle] <= offset) low = middle;
    else high = middle - 1;
  }
  return low;
}
