// Child process of measurement 4: lists the tracepoints of one ELF file with readStapsdtNotes and prints
// its in-process time, the bytes it read (/proc/self/io rchar) and its peak RSS. `baseline` loads the same
// modules and reads nothing: the cost of the Node process itself.

import { readFileSync } from 'node:fs';
import { readStapsdtNotes } from '../../src/core/elf/stapsdtNotes';

export interface DiscoveryWorkerFigures {
  ms: number;
  notes: number;
  names: string[];
  bytesRead: number;
  vmHwmKb: number;
}

function procField(file: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(readFileSync(file, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

async function main(args: string[]): Promise<void> {
  const [mode, path] = args;
  let result: DiscoveryWorkerFigures = { ms: 0, notes: 0, names: [], bytesRead: 0, vmHwmKb: 0 };
  if (mode === 'read') {
    const readBefore = procField('/proc/self/io', 'rchar');
    const started = process.hrtime.bigint();
    const report = await readStapsdtNotes(path);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const bytesRead = procField('/proc/self/io', 'rchar') - readBefore;
    result = { ms, notes: report.notes.length, names: report.notes.map((n) => `${n.provider}:${n.name}`), bytesRead, vmHwmKb: 0 };
  } else if (mode !== 'baseline') {
    throw new Error(`unknown mode ${mode}`);
  }
  result.vmHwmKb = procField('/proc/self/status', 'VmHWM');
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
