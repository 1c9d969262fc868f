// Measurement 4: listing the tracepoints of a large binary. The test tracee is grown to the size of a
// bitcoind with debug info by moving its section header table behind hundreds of MB of zeros (written, not
// sparse), as a linker puts it after .debug_*: a reader that walks or maps the file pays for its size.

import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { figure, type Figure, type TableRow } from './benchStats';
import { BenchFailure, bundleWorker, runToEnd, waitForExit } from './benchProcesses';
import type { BenchContext } from './benchContext';
import type { DiscoveryWorkerFigures } from './discoveryWorker';

const GNU_TIME = '/usr/bin/time';

export interface DiscoveryRun {
  round: number;
  tool: 'readStapsdtNotes' | 'node-baseline' | 'readelf -n';
  wallMs: number;
  maxRssKb: number;
  inProcessMs?: number;
  bytesRead?: number;
  notes: number;
}

export interface DiscoveryResults {
  fileBytes: number;
  sameNotesAsOriginal: boolean;
  sameNotesAsReadelf: boolean;
  notes: number;
  runs: DiscoveryRun[];
  figures: Record<string, Figure>;
}

/** Copies an ELF64 little-endian file to `size` bytes, its section header table moved to the end. */
async function growElf(source: string, target: string, size: number): Promise<void> {
  const original = await fs.readFile(source);
  if (original.readUInt32BE(0) !== 0x7f454c46 || original[4] !== 2 || original[5] !== 1) {
    throw new BenchFailure(`${source} is not a 64-bit little-endian ELF file`);
  }
  const shoff = Number(original.readBigUInt64LE(0x28));
  const shentsize = original.readUInt16LE(0x3a);
  const shnum = original.readUInt16LE(0x3c);
  const table = original.subarray(shoff, shoff + shentsize * shnum);
  const newShoff = Math.floor((size - table.length) / 8) * 8;
  if (newShoff < original.length) throw new BenchFailure(`cannot grow ${source} to ${size} bytes: it is larger`);
  const header = Buffer.from(original);
  header.writeBigUInt64LE(BigInt(newShoff), 0x28);
  const handle = await fs.open(target, 'w');
  try {
    await handle.write(header, 0, header.length, 0);
    const zeros = Buffer.alloc(1 << 20);
    for (let at = header.length; at < newShoff; at += zeros.length) {
      await handle.write(zeros, 0, Math.min(zeros.length, newShoff - at), at);
    }
    await handle.write(table, 0, table.length, newShoff);
  } finally {
    await handle.close();
  }
}

interface TimedRun {
  wallMs: number;
  maxRssKb: number;
  stdout: string;
}

/** Runs argv under GNU time -v (peak RSS) and measures its wall time. */
async function timed(argv: readonly string[], cwd: string): Promise<TimedRun> {
  const useTime = existsSync(GNU_TIME);
  const full = useTime ? [GNU_TIME, '-v', ...argv] : [...argv];
  const started = process.hrtime.bigint();
  const child = spawn(full[0], full.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const { code } = await waitForExit(child);
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (code !== 0) throw new BenchFailure(`${argv.join(' ')} failed (code ${code}): ${stderr.trim().slice(0, 500)}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  return { wallMs, maxRssKb: rss ? Number(rss[1]) : NaN, stdout };
}

function readelfNoteNames(output: string): string[] {
  const names: string[] = [];
  let provider: string | null = null;
  for (const line of output.split('\n')) {
    const p = /^\s+Provider: (.*)$/.exec(line);
    if (p) provider = p[1];
    const n = /^\s+Name: (.*)$/.exec(line);
    if (n && provider !== null) {
      names.push(`${provider}:${n[1]}`);
      provider = null;
    }
  }
  return names;
}

export async function runDiscoveryBench(ctx: BenchContext): Promise<DiscoveryResults> {
  const big = join(ctx.workDir, 'bitcoind-large');
  ctx.log(`discovery: writing a ${Math.round(ctx.discoveryBytes / 2 ** 20)} MB ELF file (section headers at the end)`);
  await growElf(ctx.traceeCopy, big, ctx.discoveryBytes);
  const fileBytes = (await fs.stat(big)).size;
  const worker = await bundleWorker(join(__dirname, 'discoveryWorker.ts'), join(ctx.workDir, 'discoveryWorker.js'));
  const nodeRun = (args: string[]): Promise<TimedRun> => timed([process.execPath, worker, ...args], ctx.repoRoot);
  const parse = (run: TimedRun): DiscoveryWorkerFigures => JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as DiscoveryWorkerFigures;

  const original = parse(await nodeRun(['read', ctx.traceeCopy]));
  const readelfOnce = await runToEnd(['readelf', '-n', big]);
  const readelfNames = readelfNoteNames(readelfOnce.stdout);

  const runs: DiscoveryRun[] = [];
  let bigNames: string[] = [];
  for (let round = 1; round <= ctx.runs; round++) {
    const ours = await nodeRun(['read', big]);
    const figures = parse(ours);
    bigNames = figures.names;
    runs.push({
      round, tool: 'readStapsdtNotes', wallMs: ours.wallMs, maxRssKb: ours.maxRssKb,
      inProcessMs: figures.ms, bytesRead: figures.bytesRead, notes: figures.notes,
    });
    const baseline = await nodeRun(['baseline']);
    runs.push({ round, tool: 'node-baseline', wallMs: baseline.wallMs, maxRssKb: baseline.maxRssKb, notes: 0 });
    const readelf = await timed(['readelf', '-n', big], ctx.workDir);
    runs.push({ round, tool: 'readelf -n', wallMs: readelf.wallMs, maxRssKb: readelf.maxRssKb, notes: readelfNoteNames(readelf.stdout).length });
    ctx.log(
      `discovery: round ${round}/${ctx.runs}: readStapsdtNotes ${figures.ms.toFixed(1)} ms in process ` +
        `(${Math.round(ours.wallMs)} ms with Node start), readelf ${Math.round(readelf.wallMs)} ms`,
    );
  }
  const sorted = (names: readonly string[]): string => [...names].sort().join(',');
  const of = (tool: DiscoveryRun['tool']): DiscoveryRun[] => runs.filter((r) => r.tool === tool);
  const ours = of('readStapsdtNotes');
  return {
    fileBytes,
    notes: bigNames.length,
    sameNotesAsOriginal: sorted(bigNames) === sorted(original.names) && bigNames.length > 0,
    sameNotesAsReadelf: sorted(bigNames) === sorted(readelfNames),
    runs,
    figures: {
      'readStapsdtNotes.inProcessMs': figure(ours.map((r) => r.inProcessMs ?? NaN), 'ms'),
      'readStapsdtNotes.bytesRead': figure(ours.map((r) => r.bytesRead ?? NaN), 'bytes'),
      'readStapsdtNotes.wallMs': figure(ours.map((r) => r.wallMs), 'ms'),
      'readStapsdtNotes.maxRssMB': figure(ours.map((r) => r.maxRssKb / 1024), 'MB'),
      'nodeBaseline.wallMs': figure(of('node-baseline').map((r) => r.wallMs), 'ms'),
      'nodeBaseline.maxRssMB': figure(of('node-baseline').map((r) => r.maxRssKb / 1024), 'MB'),
      'readelf.wallMs': figure(of('readelf -n').map((r) => r.wallMs), 'ms'),
      'readelf.maxRssMB': figure(of('readelf -n').map((r) => r.maxRssKb / 1024), 'MB'),
    },
  };
}

export function discoveryTableRows(results: DiscoveryResults): TableRow[] {
  const section =
    `5. discovery: ${Math.round(results.fileBytes / 2 ** 20)} MB ELF, ${results.notes} notes ` +
    `(same as original: ${results.sameNotesAsOriginal ? 'yes' : 'NO'}, same as readelf: ${results.sameNotesAsReadelf ? 'yes' : 'NO'})`;
  const f = results.figures;
  const rssDelta = f['readStapsdtNotes.maxRssMB'].median - f['nodeBaseline.maxRssMB'].median;
  return [
    { section, name: 'readStapsdtNotes, in process', figure: f['readStapsdtNotes.inProcessMs'] },
    { section, name: 'readStapsdtNotes, bytes read (rchar)', figure: f['readStapsdtNotes.bytesRead'] },
    { section, name: 'node + readStapsdtNotes, wall', figure: f['readStapsdtNotes.wallMs'] },
    { section, name: 'node + readStapsdtNotes, peak RSS', figure: f['readStapsdtNotes.maxRssMB'], note: `+${rssDelta.toFixed(1)} MB over Node alone` },
    { section, name: 'node alone (same modules), wall', figure: f['nodeBaseline.wallMs'] },
    { section, name: 'node alone (same modules), peak RSS', figure: f['nodeBaseline.maxRssMB'] },
    { section, name: 'readelf -n, wall', figure: f['readelf.wallMs'] },
    { section, name: 'readelf -n, peak RSS', figure: f['readelf.maxRssMB'] },
  ];
}
