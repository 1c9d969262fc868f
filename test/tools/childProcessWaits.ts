// Waiting on child processes in the tool-backed tests.
import type { ChildProcess } from 'node:child_process';

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
