// `bitcoin-usdt tracepoints <binary>`: lists a binary's USDT tracepoints, matched against the Bitcoin Core
// catalog, as a table or (--json) as one JSON object per note.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  SEMAPHORE_NOTE,
  describeInterfaceMismatches,
  matchCatalog,
  readBitcoindNotes,
  noUsdtMessage,
  type CatalogMatch,
  type MatchedTracepoint,
} from '../core/catalog/catalogMatch';
import { diffInterfaces, formatInterfaceDiffMarkdown, interfaceDiffJson } from '../core/catalog/interfaceDiff';
import { findContextDoc } from '../core/catalog/tracepointCatalog';
import { describeClientVersion } from '../core/elf/clientVersion';
import { isElfReadError } from '../core/elf/elfErrors';
import { formatAddress, type StapsdtNote, type StapsdtReport } from '../core/elf/stapsdtNotes';
import { findCallSites, type CallSite, type CallSiteIndex } from '../core/source/callSiteFinder';
import { CliFailure, CliUsageError, EXIT_OK, PROGRAM_NAME, type CliCommand, type CliIo } from './cliCommand';
import { formatTextTable } from './textTable';

/** `--diff`: the two builds' tracepoint interfaces differ. */
export const EXIT_INTERFACE_CHANGED = 3;

const HELP = `Usage: ${PROGRAM_NAME} tracepoints [options] <binary>
       ${PROGRAM_NAME} tracepoints --diff [--json] <binary A> <binary B>

Lists the USDT tracepoints of a binary (normally bitcoind built with -DWITH_USDT=ON) and matches them
against the documented Bitcoin Core tracepoints for the binary's version (read from the binary): every
argument's count, size and sign. Warnings name what differs.

With --diff, compares the tracepoint interfaces of two builds (say master and a branch): tracepoints
added, removed, or whose arguments (count, size, sign) or semaphore changed, as Markdown (or --json).

Options:
  --json          One JSON object per note (call site): provider, name, address, semaphore, arguments,
                  semaphore_file_offset, documented, fields, … (addresses as "0x…" strings);
                  with --diff: the differences as one JSON object
  --source <dir>  Also find the TRACEPOINT(…)/TRACEn(…) call sites in this source tree (repeatable)
  --diff          Compare two binaries' tracepoint interfaces
  -h, --help      Show this help

Exit status: 0 tracepoints listed (--diff: same interface), 1 error (file missing, not ELF, no USDT
tracepoints), 2 bad usage, ${EXIT_INTERFACE_CHANGED} (--diff) the interface changed.
`;

/** One element of the --json array (one per note). */
export interface TracepointNoteJson {
  provider: string;
  name: string;
  /** "0x…", after the .stapsdt.base correction. */
  address: string;
  /** "0x…" or null when the call site has no semaphore (v22–v28). */
  semaphore: string | null;
  /** Argument specs as written in the note. */
  arguments: string;
  semaphore_file_offset: string | null;
  note_pc: string;
  base: string;
  documented: boolean;
  version_added: string | null;
  /** Catalog field name per argument (null past the documented ones); null when undocumented. */
  fields: (string | null)[] | null;
  args: { index: number; spec: string; size: number; signed: boolean; float: boolean; field: string | null }[];
  argument_count_mismatch: boolean;
  /** Present with --source: where the tracepoint is called in the sources. */
  call_sites?: { path: string; line: number; column: number }[];
}

export const tracepointsCommand: CliCommand = {
  name: 'tracepoints',
  summary: 'List the USDT tracepoints of a binary, matched against the Bitcoin Core catalog',
  help: HELP,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const options = parseTracepointsArgs(args);
    if (options.help) {
      io.out(HELP);
      return EXIT_OK;
    }
    if (options.diff) {
      const [a, b] = await Promise.all([readReport(options.binary), readReport(options.other)]);
      for (const report of [a, b]) {
        if (report.notes.length === 0) throw new CliFailure(noUsdtMessage(report.path, report.hasNoteSection));
      }
      const diff = diffInterfaces(a, b);
      io.out(options.json ? `${JSON.stringify(interfaceDiffJson(diff), null, 2)}\n` : formatInterfaceDiffMarkdown(diff));
      return diff.interfaceChanged ? EXIT_INTERFACE_CHANGED : EXIT_OK;
    }
    const report = await readReport(options.binary);
    const match = matchCatalog(report);
    if (match.noUsdtMessage) throw new CliFailure(match.noUsdtMessage);
    const callSites = options.sources.length > 0 ? await scanSources(options.sources, io.signal) : null;
    io.out(options.json ? `${JSON.stringify(tracepointNotesJson(match, callSites), null, 2)}\n` : formatTracepointTable(match, callSites));
    return EXIT_OK;
  },
};

interface TracepointsOptions {
  binary: string;
  /** With --diff: binary B. */
  other: string;
  diff: boolean;
  json: boolean;
  help: boolean;
  sources: string[];
}

function parseTracepointsArgs(args: readonly string[]): TracepointsOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        diff: { type: 'boolean', default: false },
        source: { type: 'string', multiple: true, default: [] },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new CliUsageError(`tracepoints: ${error instanceof Error ? error.message : String(error)} (see --help)`);
  }
  const { values, positionals } = parsed;
  const help = values.help === true;
  const diff = values.diff === true;
  if (diff && !help) {
    if (positionals.length !== 2) {
      throw new CliUsageError(`tracepoints --diff: expected <binary A> <binary B>, got ${positionals.length} argument(s) (see --help)`);
    }
    if ((values.source ?? []).length > 0) throw new CliUsageError('tracepoints --diff: --source does not apply (see --help)');
  } else {
    if (!help && positionals.length === 0) throw new CliUsageError('tracepoints: missing <binary> argument (see --help)');
    if (positionals.length > 1) {
      throw new CliUsageError(`tracepoints: expected one <binary>, got ${positionals.length} arguments (see --help)`);
    }
  }
  return { binary: positionals[0] ?? '', other: positionals[1] ?? '', diff, json: values.json === true, help, sources: values.source ?? [] };
}

async function readReport(binary: string): Promise<StapsdtReport> {
  try {
    return await readBitcoindNotes(binary);
  } catch (error) {
    if (isElfReadError(error)) throw new CliFailure(error.message);
    throw error;
  }
}

async function scanSources(sources: readonly string[], signal: AbortSignal): Promise<CallSiteIndex> {
  for (const source of sources) {
    const stats = await fs.stat(source).catch(() => null);
    if (!stats) throw new CliFailure(`--source ${source}: does not exist`);
    if (!stats.isDirectory() && !stats.isFile()) throw new CliFailure(`--source ${source}: not a directory or file`);
  }
  return findCallSites(sources, { signal });
}

/** The --json output: one object per note, documented tracepoints first. */
export function tracepointNotesJson(match: CatalogMatch, callSites: CallSiteIndex | null): TracepointNoteJson[] {
  const result: TracepointNoteJson[] = [];
  for (const tracepoint of match.tracepoints) {
    const sites = callSites?.get(tracepoint.id) ?? [];
    for (const note of tracepoint.notes) {
      const fields = tracepoint.doc ? note.args.map((_, index) => tracepoint.doc?.args[index]?.field ?? null) : null;
      result.push({
        provider: note.provider,
        name: note.name,
        address: formatAddress(note.address),
        semaphore: note.semaphore === null ? null : formatAddress(note.semaphore),
        arguments: note.arguments,
        semaphore_file_offset: note.semaphoreFileOffset === null ? null : formatAddress(note.semaphoreFileOffset),
        note_pc: formatAddress(note.notePc),
        base: formatAddress(note.base),
        documented: tracepoint.status === 'documented',
        version_added: tracepoint.doc?.versionAdded ?? null,
        fields,
        args: note.args.map((arg, index) => ({
          index,
          spec: arg.raw,
          size: arg.size,
          signed: arg.signed,
          float: arg.float,
          field: fields?.[index] ?? null,
        })),
        argument_count_mismatch: tracepoint.argumentCountMismatch !== null,
        ...(callSites ? { call_sites: sites.map((site) => ({ path: site.path, line: site.line, column: site.column })) } : {}),
      });
    }
  }
  return result;
}

/** The table output, with warnings, missing tracepoints and the semaphore note after it. */
export function formatTracepointTable(match: CatalogMatch, callSites: CallSiteIndex | null): string {
  const header = ['CONTEXT', 'EVENT', 'ADDRESS', 'SEMAPHORE', 'SITES', 'STATUS'];
  if (callSites) header.push('SOURCE');
  header.push('ARGS');
  const rows = match.tracepoints.map((tracepoint) => {
    const row = [
      printable(tracepoint.provider),
      printable(tracepoint.name),
      addressCell(tracepoint.notes),
      semaphoreCell(tracepoint.notes),
      String(tracepoint.notes.length),
      tracepoint.status === 'documented' ? 'documented' : 'UNDOCUMENTED',
    ];
    if (callSites) row.push(sourceCell(callSites.get(tracepoint.id)));
    row.push(argsCell(tracepoint));
    return row;
  });

  const table = formatTextTable(header, rows);
  const after: string[] = [];
  for (const tracepoint of match.tracepoints) {
    for (const mismatch of describeInterfaceMismatches(tracepoint)) after.push(`warning: ${printable(mismatch)}`);
  }
  if (match.isBitcoinCore) {
    for (const context of match.missingContexts) {
      const hint = findContextDoc(context)?.absentHint;
      after.push(`missing: every ${context} tracepoint${hint ? `; maybe ${hint}` : ''}`);
    }
    const missingOthers = match.missing.filter((doc) => !match.missingContexts.includes(doc.context));
    for (const doc of missingOthers) {
      const older = match.minimumVersion !== null && doc.versionAdded > match.minimumVersion;
      after.push(`missing: ${doc.id} (added in ${doc.versionAdded}${older ? '; this build may be older' : ''})`);
    }
  } else {
    after.push(
      `note: none of the ${match.missing.length} documented Bitcoin Core tracepoints is in this binary ` +
        '(UNDOCUMENTED rows are other USDT providers).',
    );
  }
  if (match.usesSemaphores) after.push(`note: ${SEMAPHORE_NOTE}`);
  return `${summaryLine(match)}\n\n${table}${after.length > 0 ? `\n${after.join('\n')}\n` : ''}`;
}

function summaryLine(match: CatalogMatch): string {
  const documented = match.tracepoints.filter((tracepoint) => tracepoint.status === 'documented').length;
  const undocumented = match.tracepoints.length - documented;
  const parts = [
    `${match.tracepoints.length} tracepoint(s) at ${match.noteCount} call site(s)`,
    `${documented} documented`,
    `${undocumented} undocumented`,
    `${match.missing.length} documented missing`,
  ];
  const version = match.clientVersion
    ? `; Bitcoin Core ${describeClientVersion(match.clientVersion)}`
    : match.minimumVersion ? `; Bitcoin Core ${match.minimumVersion} or newer` : '';
  return `${printable(match.path)}: ${parts.join(', ')}${version}`;
}

function addressCell(notes: readonly StapsdtNote[]): string {
  const first = notes[0];
  if (!first) return '-';
  return notes.length > 1 ? `${formatAddress(first.address)} (+${notes.length - 1})` : formatAddress(first.address);
}

function semaphoreCell(notes: readonly StapsdtNote[]): string {
  const semaphores = [...new Set(notes.map((note) => note.semaphore).filter((value): value is bigint => value !== null))];
  if (semaphores.length === 0) return '-';
  return semaphores.map(formatAddress).join(',');
}

function sourceCell(sites: readonly CallSite[] | undefined): string {
  const first = sites?.[0];
  if (!sites || !first) return '-';
  const relative = path.relative(process.cwd(), first.path);
  const shown = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : first.path;
  const location = `${printable(shown)}:${first.line}`;
  return sites.length > 1 ? `${location} (+${sites.length - 1})` : location;
}

function argsCell(tracepoint: MatchedTracepoint): string {
  const note = tracepoint.notes[0];
  if (!note) return '';
  if (!tracepoint.doc) return printable(note.arguments);
  const docArgs = tracepoint.doc.args;
  return note.args.map((_, index) => docArgs[index]?.field ?? `arg${index}?`).join(' ');
}

/** Escapes control characters so a hostile binary cannot drive the terminal. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (character) => `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
