// Lets a test inside the extension host ask the offline runner (test/runIntegration.ts) for a screenshot of the
// workbench: it writes <requests>/<name>.request, the runner saves <screenshots>/<name>.png and deletes the request.
// <requests> is private to one run (BITCOIN_USDT_SCREENSHOT_REQUESTS), <screenshots> is .vscode-test/screenshots.
import { existsSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Saves a screenshot of the whole workbench as .vscode-test/screenshots/<name>.png and returns its path.
 * Returns undefined when the tests do not run under the offline runner (e.g. under @vscode/test-cli).
 * `windowSize`: the browser window has this size for the screenshot (then its usual one again).
 */
export async function screenshot(name: string, timeoutMs = 20_000, windowSize?: { readonly width: number; readonly height: number }): Promise<string | undefined> {
  const directory = process.env.BITCOIN_USDT_SCREENSHOT_DIR;
  const requestsDir = process.env.BITCOIN_USDT_SCREENSHOT_REQUESTS;
  if (!directory || !requestsDir) return undefined;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/.test(name)) throw new Error(`bad screenshot name ${JSON.stringify(name)}`);
  const requestPath = join(requestsDir, `${name}.request`);
  const imagePath = join(directory, `${name}.png`);
  await rm(imagePath, { force: true });
  await writeFile(requestPath, windowSize ? JSON.stringify(windowSize) : new Date().toISOString());
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!existsSync(requestPath)) {
      if ((await stat(imagePath).catch(() => undefined))?.isFile()) return imagePath;
      throw new Error(`the runner dropped the screenshot request ${name}`);
    }
    await delay(100);
  }
  await rm(requestPath, { force: true });
  throw new Error(`no screenshot ${name} within ${timeoutMs} ms`);
}

/**
 * Gives the browser window `size` until asked again (undefined: its usual size), and waits until the workbench has
 * laid out again. Returns false when the tests do not run under the offline runner.
 */
export async function setWindowSize(name: string, size: { readonly width: number; readonly height: number } | undefined, timeoutMs = 20_000): Promise<boolean> {
  const requestsDir = process.env.BITCOIN_USDT_SCREENSHOT_REQUESTS;
  if (!requestsDir) return false;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/.test(name)) throw new Error(`bad request name ${JSON.stringify(name)}`);
  const requestPath = join(requestsDir, `${name}.window-size-request`);
  await writeFile(requestPath, size ? JSON.stringify(size) : 'usual');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!existsSync(requestPath)) return true;
    await delay(100);
  }
  await rm(requestPath, { force: true });
  throw new Error(`the window did not take the size asked for (${name}) within ${timeoutMs} ms`);
}

export interface ShownNotification {
  readonly text: string;
  /** What VS Code rendered as links in the message (their targets). */
  readonly links: readonly string[];
}

/**
 * The notifications the workbench shows now, read from its DOM by the offline runner. Returns undefined when
 * the tests do not run under the offline runner.
 */
export async function shownNotifications(name: string, timeoutMs = 20_000): Promise<ShownNotification[] | undefined> {
  const requestsDir = process.env.BITCOIN_USDT_SCREENSHOT_REQUESTS;
  if (!requestsDir) return undefined;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/.test(name)) throw new Error(`bad request name ${JSON.stringify(name)}`);
  const answer = join(requestsDir, `${name}.notifications.json`);
  await rm(answer, { force: true });
  await writeFile(join(requestsDir, `${name}.notifications-request`), new Date().toISOString());
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = await readFile(answer, 'utf8').catch(() => undefined);
    if (text !== undefined) return JSON.parse(text) as ShownNotification[];
    await delay(100);
  }
  throw new Error(`no answer to the notifications request ${name} within ${timeoutMs} ms`);
}
