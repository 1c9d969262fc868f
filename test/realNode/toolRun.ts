// Runs a probe tool for real against a running bitcoind: `node dist/cli.js run <tool> --pid N --json` (as root:
// no sudo, the real helper, the real bpftrace or BCC), until the test's workload is done; then Ctrl-C (SIGINT),
// as a user stops it.

import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exited, waitForText } from '../tools/childProcessWaits';

export const ROOT = resolve(__dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');

export type ToolEvent = Record<string, unknown> & { event: string };

export interface ToolRun<T> {
  events: ToolEvent[];
  /** What the workload returned. */
  result: T;
  code: number | null;
  stderr: string;
}

/** Builds dist/ (the CLI) once per tier. */
export function buildCli(): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    execFile(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (error, _out, err) => {
      if (error) return reject(new Error(`node scripts/build.mjs failed: ${err}`));
      if (!existsSync(CLI)) return reject(new Error(`${CLI} was not built`));
      resolvePromise();
    });
  });
}

/** Attaches `tool` to `pid`, runs `workload` once every probe is attached, then stops the tool with SIGINT. */
export async function withTool<T>(tool: string, pid: number, workload: () => Promise<T>, extraArgs: readonly string[] = []): Promise<ToolRun<T>> {
  const cli = spawn(process.execPath, [CLI, 'run', tool, '--pid', String(pid), '--json', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  cli.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  cli.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    await waitForText(cli.stdout, cli, /"event":"session:attached"/, 90_000).catch((error: unknown) => {
      throw new Error(`${tool} did not attach: ${String(error)}\nstderr: ${stderr}`);
    });
    const result = await workload();
    cli.kill('SIGINT');
    const code = await exited(cli, 30_000, `${tool} after SIGINT`);
    const events = stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as ToolEvent);
    return { events, result, code, stderr };
  } finally {
    if (cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
  }
}

/** The tool's events of these kinds. */
export function eventsOf(run: ToolRun<unknown>, ...kinds: string[]): ToolEvent[] {
  return run.events.filter((event) => kinds.includes(event.event));
}

/** An event without its session time and the process that hit the tracepoint (the node's logs know neither). */
export function withoutElapsed({ elapsed_ns: _elapsed, pid: _pid, ...rest }: ToolEvent): Record<string, unknown> {
  return rest;
}
