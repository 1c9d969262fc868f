// Helpers shared by integration test files (compiled into each test bundle that imports them).
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../src/extension/testApi';

export const repoRoot = process.env.BITCOIN_USDT_REPO ?? resolve(__dirname, '..', '..', '..');

/** Activates the extension under test (once) and returns its test API. */
export async function extensionApi(): Promise<ExtensionApi> {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; publisher: string };
  const extension = vscode.extensions.getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`);
  assert.ok(extension, 'extension not installed');
  return extension.activate();
}

/** Calls `probe` every 100 ms until it returns a value; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the test tracee (a bitcoind with every tracepoint) with `args`; resolves once it printed `ready pid=`. */
export async function startTracee(binary: string, args: readonly string[]): Promise<{ pid: number; child: ChildProcess }> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = await new Promise<number>((resolvePid, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the tracee did not print "ready" within 10 s: ${output}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ready pid=(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePid(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the tracee exited with ${code} before it was ready: ${output}`));
    });
  });
  return { pid, child };
}
