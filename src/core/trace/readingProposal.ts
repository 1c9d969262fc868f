// What "Trace this tracepoint" proposes for each argument: the note's argument spec (size and sign) says how
// wide an integer is; the call site's source says when an 8-byte value is a pointer to a string, to bytes or to
// a 32-byte hash. The user can change every proposal before the probe starts.

import type { ArgSpec } from '../elf/argSpec';
import {
  BPFTRACE_READABLE_ARGS,
  MAX_HEX_BYTES,
  MAX_STRING_BYTES,
  type IntegerReading,
  type TraceReading,
} from './traceReadings';

export interface ReadingProposal {
  reading: TraceReading;
  /** Why, in a few words ("`.c_str()` in the call site", "8-byte unsigned in the notes"). */
  why: string;
  /** The argument's expression at the call site, when the source was read. */
  expression?: string;
}

/** bpftrace 0.17 builds the printed tuple on the 512-byte BPF stack (measured; the helper holds the same numbers). */
export const STACK_BUDGET = 480;
export const STACK_PER_STRING = 144;
export const STACK_PER_FIELD = 16;

const HASH_NAME = /(hash|txid|wtxid|uint256|GetHash\(\)|GetWitnessHash\(\)|\bid\b)/i;

/**
 * The argument expressions of the TRACEPOINT( / TRACEn( call whose macro starts at `offset` in `text`, without
 * the context and event; null when the parentheses do not close.
 */
export function callSiteArguments(text: string, offset: number): string[] | null {
  const open = text.indexOf('(', offset);
  if (open < 0) return null;
  const args: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const end = skipLiteral(text, i);
      current += text.slice(i, end);
      i = end - 1;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
    else if (c === ')' && depth === 0) {
      args.push(current.trim());
      return args.slice(2).map((arg) => arg.replace(/\s+/g, ' '));
    } else if (c === ',' && depth === 0) {
      args.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  return null;
}

function skipLiteral(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i + 1;
  }
  return text.length;
}

/** A byte count written as a number or as a `#define NAME number` of the same file. */
function arrayLength(text: string, size: string): number | null {
  if (/^\d+$/.test(size)) return Number(size);
  if (!/^[A-Za-z_]\w*$/.test(size)) return null;
  const define = new RegExp(`#\\s*define\\s+${size}\\s+\\(?(\\d+)`).exec(text);
  return define ? Number(define[1]) : null;
}

/** What a declaration of the plain identifier `name` before `offset` says it points to. */
function declaredPointer(text: string, offset: number, name: string): { kind: 'string' } | { kind: 'bytes'; length: number | null } | null {
  const before = text.slice(Math.max(0, offset - 20000), offset);
  const id = name.replace(/[^\w]/g, '');
  const array = new RegExp(`\\b(?:const\\s+)?(unsigned\\s+char|uint8_t|std::byte|char|std::array<\\s*(?:unsigned char|uint8_t|std::byte)\\s*,)\\s*${id}\\s*\\[\\s*([^\\]]+?)\\s*\\]`, 'g');
  const pointer = new RegExp(`\\b(?:const\\s+)?(unsigned\\s+char|uint8_t|std::byte|char|std::string|uint256)\\s*(?:const\\s*)?([*&]?)\\s*${id}\\b\\s*[,)=;\\[]`, 'g');
  let found: { kind: 'string' } | { kind: 'bytes'; length: number | null } | null = null;
  for (const m of before.matchAll(array)) {
    found = m[1] === 'char' ? { kind: 'string' } : { kind: 'bytes', length: arrayLength(text, m[2]) };
  }
  for (const m of before.matchAll(pointer)) {
    if (m[1] === 'char' && m[2] === '*') found = { kind: 'string' };
    else if ((m[1] === 'unsigned char' || /^unsigned\s+char$/.test(m[1]) || m[1] === 'uint8_t' || m[1] === 'std::byte') && m[2] === '*') found = { kind: 'bytes', length: null };
  }
  return found;
}

function integerReading(spec: ArgSpec): IntegerReading {
  return `${spec.signed ? 's' : 'u'}${spec.size * 8}` as IntegerReading;
}

/** The proposal for one argument from its note spec and, when known, its call site expression. */
export function proposeReading(spec: ArgSpec, expression: string | undefined, sourceText?: string, callOffset?: number): ReadingProposal {
  const integer: ReadingProposal = {
    reading: { kind: integerReading(spec) },
    why: `${spec.size}-byte ${spec.signed ? 'signed' : 'unsigned'} in the notes`,
    ...(expression !== undefined ? { expression } : {}),
  };
  if (expression === undefined || spec.size !== 8 || spec.signed) return integer;
  const e = expression.replace(/\s+/g, '');
  const withExpression = (reading: TraceReading, why: string): ReadingProposal => ({ reading, why, expression });
  if (/\.c_str\(\)$/.test(e)) return withExpression({ kind: 'str', bytes: MAX_STRING_BYTES }, '`.c_str()` at the call site');
  if (/\.(data|begin)\(\)$/.test(e)) {
    const receiver = e.replace(/\.(data|begin)\(\)$/, '');
    if (/\.begin\(\)$/.test(e) || HASH_NAME.test(receiver)) return withExpression({ kind: 'hash' }, 'a 32-byte hash pointer at the call site');
    return withExpression({ kind: 'str', bytes: MAX_STRING_BYTES }, '`.data()` at the call site');
  }
  if (/^\((?:const)?char\*\)/.test(e) || /^\(constchar\*\)/.test(e)) return withExpression({ kind: 'str', bytes: MAX_STRING_BYTES }, '`char*` at the call site');
  if (/^\((?:const)?(?:unsignedchar|uint8_t|std::byte)\*\)/.test(e)) {
    const inner = e.replace(/^\([^)]*\)/, '');
    if (HASH_NAME.test(inner)) return withExpression({ kind: 'hash' }, 'a 32-byte hash pointer at the call site');
    return withExpression({ kind: 'hex', bytes: 32 }, 'a byte pointer at the call site (length unknown: 32 shown)');
  }
  if (sourceText !== undefined && callOffset !== undefined && /^[A-Za-z_]\w*(?:(?:->|\.)[A-Za-z_]\w*)*$/.test(e)) {
    // A variable, or a member (`p->addr`): its declaration before the call (a parameter, a local, a struct field).
    const declared = declaredPointer(sourceText, callOffset, e.split(/->|\./).at(-1) ?? e);
    if (declared?.kind === 'string') return withExpression({ kind: 'str', bytes: MAX_STRING_BYTES }, '`char*` declaration');
    if (declared?.kind === 'bytes') {
      if ((declared.length === 32 || declared.length === null) && HASH_NAME.test(e)) return withExpression({ kind: 'hash' }, 'a 32-byte hash pointer');
      const length = declared.length === null ? 32 : Math.min(MAX_HEX_BYTES, declared.length);
      return withExpression({ kind: 'hex', bytes: length }, declared.length === null ? 'a byte pointer (length unknown: 32 shown)' : `a ${declared.length}-byte array`);
    }
  }
  if (HASH_NAME.test(e) && !/\(/.test(e.replace(/GetHash\(\)|GetWitnessHash\(\)/g, ''))) {
    return withExpression({ kind: 'hash' }, 'named like a hash at the call site');
  }
  return integer;
}

/** The cost of a set of readings on bpftrace 0.17's BPF stack (the helper refuses more than STACK_BUDGET). */
export function stackCost(readings: readonly TraceReading[]): number {
  let cost = 0;
  for (const r of readings) {
    if (r.kind === 'str') cost += STACK_PER_STRING;
    else if (r.kind === 'hash') cost += 4 * STACK_PER_FIELD;
    else if (r.kind === 'hex') cost += (Math.floor(r.bytes / 8) + (r.bytes % 8)) * STACK_PER_FIELD;
    else if (r.kind !== 'skip') cost += STACK_PER_FIELD;
  }
  return cost;
}

/**
 * Proposals for every argument of a tracepoint, fitted to what bpftrace 0.17 can load: arguments past arg5 are
 * not read, and strings past the stack budget are left out (the user can pick which to read).
 */
export function proposeReadings(
  specs: readonly ArgSpec[],
  expressions: readonly string[] | null,
  sourceText?: string,
  callOffset?: number,
): ReadingProposal[] {
  const usable = expressions !== null && expressions.length === specs.length ? expressions : null;
  const proposals = specs.map((spec, i) => proposeReading(spec, usable?.[i], sourceText, callOffset));
  for (const [i, p] of proposals.entries()) {
    if (i >= BPFTRACE_READABLE_ARGS) proposals[i] = { ...p, reading: { kind: 'skip' }, why: `bpftrace 0.17 reads only arg0–arg${BPFTRACE_READABLE_ARGS - 1}` };
  }
  for (let i = proposals.length - 1; i >= 0 && stackCost(proposals.map((p) => p.reading)) > STACK_BUDGET; i--) {
    if (proposals[i].reading.kind === 'str') {
      proposals[i] = { ...proposals[i], reading: { kind: 'skip' }, why: `${proposals[i].why}; not read: bpftrace 0.17 prints at most two strings here` };
    }
  }
  return proposals;
}
