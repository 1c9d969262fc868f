// `node dist/cli.js run <tool> --pid <tracee pid> --json …` against a test tracee run, for real: the command
// line starts the privileged helper (we are root: no sudo), which runs the probe against the tracee. Returns
// what the command printed and what the tracee says it passed (--expect) and fired (--summary).

import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readNdjson } from '../unit/helpers/toolRecordStream';
import { exited, waitForText } from './childProcessWaits';

export const ROOT = resolve(__dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');

export type Fields = Record<string, unknown> & { event: string };

export interface TraceeSummary {
  fired: Record<string, number>;
  peers: Record<string, { peer_addr: string; conn_type: string; msgs_in: number; bytes_in: number; msgs_out: number; bytes_out: number }>;
}

export interface CliRun {
  code: number | null;
  events: Fields[];
  stderr: string;
  expect: Fields[];
  summary: TraceeSummary;
}

/**
 * Starts the tracee (it waits for SIGUSR1), then `cli.js run <cliArgs> --pid N --json`; fires once the command
 * says every probe is attached (session:attached). bpftrace -p exits when the tracee does, the command with it.
 */
export async function runCliOnTracee(tracee: string, traceeArgs: readonly string[], cliArgs: readonly string[]): Promise<CliRun> {
  assert.ok(existsSync(tracee), `${tracee} is missing: run \`make -C test/tracee\` first`);
  assert.ok(existsSync(CLI), 'dist/cli.js is missing: run `npm run build` first');
  const work = mkdtempSync(join(tmpdir(), 'cli-run-'));
  const expectPath = join(work, 'expect.ndjson');
  const summaryPath = join(work, 'summary.json');
  const traceeProcess = spawn(tracee, [...traceeArgs, '--wait-signal', '--expect', expectPath, '--summary', summaryPath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let cli: ChildProcess | null = null;
  try {
    const [, pid] = await waitForText(traceeProcess.stdout, traceeProcess, /ready pid=(\d+)/, 10_000);
    const traceeDone = waitForText(traceeProcess.stdout, traceeProcess, /done fired=\d+/, 100_000);
    traceeDone.catch(() => undefined);
    cli = spawn(process.execPath, [CLI, 'run', ...cliArgs, '--pid', pid, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    cli.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    cli.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await waitForText(cli.stdout, cli, /"event":"session:attached"/, 30_000);
    traceeProcess.kill('SIGUSR1');
    await traceeDone;
    const code = await exited(cli, 30_000, 'the command line');
    return {
      code,
      events: readNdjson(stdout) as Fields[],
      stderr,
      expect: readNdjson(readFileSync(expectPath, 'utf8')) as Fields[],
      summary: JSON.parse(readFileSync(summaryPath, 'utf8')) as TraceeSummary,
    };
  } finally {
    traceeProcess.kill('SIGKILL');
    if (cli && cli.exitCode === null) cli.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
}
