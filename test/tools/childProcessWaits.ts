// Waiting on child processes in the tool-backed tests.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Resolves with the first match of `pattern` in what `stream` printed; rejects when `child` exits first or on timeout. */
export function waitForText(stream: NodeJS.ReadableStream | null, child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolvePromise, reject) => {
    let text = '';
    const finish = (error: Error | null, match?: RegExpMatchArray): void => {
      clearTimeout(timer);
      stream?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else if (match) resolvePromise(match);
    };
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${pattern} (got ${JSON.stringify(text.slice(-400))})`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      const match = text.match(pattern);
      if (match) finish(null, match);
    };
    const onExit = (): void => finish(new Error(`process exited while waiting for ${pattern}: ${text.slice(-400)}`));
    stream?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** The exit code of `child` (null after a signal); rejects when it has not exited within `timeoutMs`. */
export function exited(child: ChildProcess, timeoutMs: number, what: string): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise(code);
    });
  });
}

/** Live processes (zombies excluded) whose NUL-separated command line contains `needle`, with that command line. */
export function processesWith(needle: string): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/^.*\) /, '')[0];
      if (cmdline.includes(needle) && state !== 'Z') found.push({ pid: Number(entry), cmdline });
    } catch {
      // the process exited while we looked
    }
  }
  return found;
}

/** Polls `check` every 100 ms; rejects with `timed out: what` after `timeoutMs`. */
export async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
}
