// Runs the integration tests (dist/test/integration/index.js) inside a real VS Code without internet: the VS Code
// server from code-server (installed by scripts/setup-vscode-server.sh) driven by headless Chromium.
// Usage: node dist/test/runIntegration.js [--grep <pattern>] [--keep] [--mode trusted|untrusted|reload|bench|soak]
// Environment: BITCOIN_USDT_WORKSPACE_SETTINGS (JSON object for <workspace>/.vscode/settings.json),
// BITCOIN_USDT_TEST_GREP, BITCOIN_USDT_INTEGRATION_TIMEOUT_MS, BITCOIN_USDT_KEEP_TEMP=1,
// BITCOIN_USDT_INTEGRATION_MODE (like --mode), BITCOIN_USDT_BENCH_OUT (where `bench` and `soak` write their figures,
// JSON), BITCOIN_USDT_SOAK_DURATION_MS (how long `soak` runs; default 10 minutes).
// Modes: `trusted` (the default) runs every suite with workspace trust disabled. `untrusted` enables workspace trust
// without trusting the test workspace and runs only the suites tagged @untrusted-workspace (untrusted.test.ts).
// `reload` runs only the suites tagged @window-reload (reload.test.ts): its first phase reloads the window itself,
// the tests run again in the new extension host and the second phase reports the exit code.
// `bench` runs only the suites tagged @bench (panelBench.test.ts): the panels' timings, for `npm run bench`.
// `soak` runs only the suites tagged @soak (vscodeSoak.test.ts): a live p2p-traffic flood into the P2P panel, for
// `npm run bench -- --only soak`.
// `nonroot` (as root) runs only the suites tagged @nonroot (nonroot.test.ts) with VS Code as the unprivileged user
// bitcoin-usdt-test, who may use sudo with a password (test/nonrootUser.ts sets it up and removes it again).
// `realnode` opens the real Bitcoin Core source tree (BITCOIN_SOURCE) as the workspace, lists the real bitcoind
// (BITCOIND) through the user setting bitcoinUsdt.bitcoindPaths, and runs only the suites tagged @real-node
// (realNodeGoToSource.test.ts, realNodeLiveCounts.test.ts, realNodeTraceFunctionalTest.test.ts). Set the variables with
// `eval "$(bash scripts/unpack-real-node.sh)"`. A mode's --grep must contain its tag: `--mode realnode --grep
// "functional test @real-node"` runs that one suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, unlink, writeFile, chmod } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { format } from 'node:util';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { reloadPhaseOneFile } from './integration/reloadState';
import { chownTree, cleanUpTestUser, prepareTestUser, stageRepository, type TestUser } from './nonrootUser';
import { soakDurationMs, soakHarnessTimeoutMs } from './integration/soakSettings';

export const repoRoot = resolve(__dirname, '..', '..');
export const vscodeServerDir = join(repoRoot, '.vscode-test', 'server', 'node_modules', 'code-server', 'lib', 'vscode');
export const screenshotsDir = join(repoRoot, '.vscode-test', 'screenshots');
export const integrationLogsDir = join(repoRoot, '.vscode-test', 'logs');
// BITCOIN_USDT_TRACEE_DIR: another built tracee folder (with build/tracee-v29), for trying the runner out.
const traceeDir = process.env.BITCOIN_USDT_TRACEE_DIR ?? join(repoRoot, 'test', 'tracee');
const traceeBinary = join(traceeDir, 'build', 'tracee-v29');

export const chromiumExecutable = '/usr/bin/chromium';
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export type IntegrationMode = 'trusted' | 'untrusted' | 'reload' | 'bench' | 'soak' | 'nonroot' | 'realnode';

const integrationModes: readonly IntegrationMode[] = ['trusted', 'untrusted', 'reload', 'bench', 'soak', 'nonroot', 'realnode'];

/** The mocha grep of each mode but the default: a test file of a mode tags its suites with it. */
export const integrationModeTags: Readonly<Record<Exclude<IntegrationMode, 'trusted'>, string>> = {
  untrusted: '@untrusted-workspace',
  reload: '@window-reload',
  bench: '@bench',
  soak: '@soak',
  nonroot: '@nonroot',
  realnode: '@real-node',
};

/** Workspace settings a hostile repository could ship: tests check the extension ignores them. */
export const defaultWorkspaceSettings: Record<string, unknown> = {
  'bitcoinUsdt.privilege': 'none',
  'bitcoinUsdt.bpftracePath': '/tmp/not-trusted/bpftrace',
  'bitcoinUsdt.pythonPath': '/tmp/not-trusted/python3',
};

export const defaultUserSettings: Record<string, unknown> = {
  'security.workspace.trust.enabled': false,
  'bitcoinUsdt.privilege': 'auto',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
};

/**
 * A workspace like a Bitcoin Core checkout: the USDT tracee as build/bin/bitcoind, its sources under src/,
 * and the given .vscode/settings.json. Throws when the tracee has not been built.
 */
export async function prepareTestWorkspace(workspaceDir: string, workspaceSettings: Record<string, unknown>): Promise<void> {
  if (!existsSync(traceeBinary)) {
    throw new Error(`${traceeBinary} is missing: run \`make -C test/tracee\` (scripts/setup.sh does it)`);
  }
  await mkdir(join(workspaceDir, 'build', 'bin'), { recursive: true });
  await mkdir(join(workspaceDir, 'src'), { recursive: true });
  await mkdir(join(workspaceDir, '.vscode'), { recursive: true });
  const bitcoind = join(workspaceDir, 'build', 'bin', 'bitcoind');
  await copyFile(traceeBinary, bitcoind);
  await chmod(bitcoind, 0o755);
  for (const name of await readdir(traceeDir)) {
    if (name.endsWith('.c') || name.endsWith('.h')) {
      await copyFile(join(traceeDir, name), join(workspaceDir, 'src', name));
    }
  }
  await writeFile(join(workspaceDir, '.vscode', 'settings.json'), JSON.stringify(workspaceSettings, null, 2));
}

/** Where the untrusted run's workspace settings point `bitcoinUsdt.bitcoindPaths` (relative to the workspace). */
export const untrustedExtraBinary = join('extra', 'bitcoind');

/**
 * The untrusted run's workspace also lists a second copy of the tracee in `bitcoinUsdt.bitcoindPaths`, a setting
 * the extension declares restricted: VS Code must hide it while the workspace is not trusted.
 */
async function prepareUntrustedExtras(workspaceDir: string, workspaceSettings: Record<string, unknown>): Promise<Record<string, unknown>> {
  const extra = join(workspaceDir, untrustedExtraBinary);
  await mkdir(join(extra, '..'), { recursive: true });
  await copyFile(traceeBinary, extra);
  await chmod(extra, 0o755);
  return { ...workspaceSettings, 'bitcoinUsdt.bitcoindPaths': [untrustedExtraBinary] };
}

async function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('could not find a free port'));
      });
    });
  });
}

/** Appends to the run's log file; lines that arrive after the run closed the log are dropped. */
export class RunLog {
  private readonly stream: WriteStream;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path);
    this.stream.on('error', () => undefined);
  }

  write(text: string): void {
    if (!this.stream.writableEnded) this.stream.write(text);
  }

  async close(): Promise<void> {
    await new Promise((resolveEnd) => this.stream.end(resolveEnd));
  }
}

export interface VscodeServerOptions {
  port: number;
  host: string;
  serverDataDir: string;
  userDataDir: string;
  extensionsDir: string;
  userSettings: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  log: RunLog;
  /** Run the server as this user (the runner is root), from the repository's view at `stagedRepo`: its data directories become the user's. */
  runAs?: { user: TestUser; stagedRepo: string };
}

/** Starts `node out/server-main.js` in its own process group; resolves once it answers HTTP. */
export async function startVscodeServer(options: VscodeServerOptions): Promise<ChildProcess> {
  if (!existsSync(join(vscodeServerDir, 'out', 'server-main.js'))) {
    throw new Error(`VS Code server not installed in ${vscodeServerDir}: run scripts/setup-vscode-server.sh`);
  }
  await mkdir(join(options.userDataDir, 'User'), { recursive: true });
  await mkdir(options.serverDataDir, { recursive: true });
  await mkdir(options.extensionsDir, { recursive: true });
  const settingsText = JSON.stringify(options.userSettings, null, 2);
  await writeFile(join(options.userDataDir, 'User', 'settings.json'), settingsText);
  // The server's remote ("Machine") settings: machine-scoped settings such as bitcoinUsdt.privilege may come from here too.
  await mkdir(join(options.userDataDir, 'Machine'), { recursive: true });
  await writeFile(join(options.userDataDir, 'Machine', 'settings.json'), settingsText);
  const user = options.runAs?.user;
  if (user) for (const dir of [options.userDataDir, options.serverDataDir, options.extensionsDir]) chownTree(dir, user);
  const server = spawn(
    process.execPath,
    [
      'out/server-main.js',
      '--host', options.host,
      '--port', String(options.port),
      '--without-connection-token',
      '--accept-server-license-terms',
      '--server-data-dir', options.serverDataDir,
      '--user-data-dir', options.userDataDir,
      '--extensions-dir', options.extensionsDir,
    ],
    {
      cwd: options.runAs ? join(options.runAs.stagedRepo, relative(repoRoot, vscodeServerDir)) : vscodeServerDir,
      env: user ? { ...options.env, HOME: user.home, USER: user.name, LOGNAME: user.name } : options.env,
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  runningServers.add(server);
  server.once('exit', () => runningServers.delete(server));
  server.stdout?.on('data', (chunk: Buffer) => options.log.write(`[server] ${chunk.toString()}`));
  server.stderr?.on('data', (chunk: Buffer) => options.log.write(`[server:err] ${chunk.toString()}`));
  const exited = new Promise<never>((_, reject) => {
    server.once('exit', (code, signal) => reject(new Error(`VS Code server exited early (code ${code}, signal ${signal})`)));
    server.once('error', reject);
  });
  exited.catch(() => undefined);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ready = await Promise.race([
      fetch(`http://${options.host}:${options.port}/version`).then((r) => r.ok, () => false),
      exited,
    ]);
    if (ready) return server;
    await delay(250);
  }
  stopProcessGroup(server);
  throw new Error('VS Code server did not answer within 60 s');
}

const runningServers = new Set<ChildProcess>();

// The server runs in its own process group, so a runner stopped by a signal must take it down itself.
process.once('exit', () => {
  for (const server of runningServers) {
    if (server.pid !== undefined && server.exitCode === null && server.signalCode === null) {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.once(signal, () => process.exit(code));
}

/** Kills the whole process group (server, extension host, pty host...). */
export function stopProcessGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const pid = child.pid;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const forceKill = setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 3000);
  forceKill.unref();
  child.once('exit', () => clearTimeout(forceKill));
}

export function workbenchUrl(host: string, port: number, folder: string, payload: [string, string][]): string {
  const query = new URLSearchParams({ folder, payload: JSON.stringify(payload) });
  return `http://${host}:${port}/?${query.toString()}`;
}

export function remoteUri(host: string, port: number, absolutePath: string): string {
  return `vscode-remote://${host}:${port}${absolutePath}`;
}

/** Formats a browser console message with its arguments (VS Code logs with `%c` styles and `%s` placeholders). */
async function consoleMessageText(message: ConsoleMessage): Promise<string> {
  const values = await Promise.all(message.args().map((arg) => arg.jsonValue().catch(() => '[unserializable]')));
  if (values.length === 0) return message.text();
  const parts: string[] = [];
  let rest = values;
  if (typeof rest[0] === 'string' && rest[0].includes('%c')) {
    const styleCount = (rest[0].match(/%c/g) ?? []).length;
    parts.push(rest[0].replace(/%c/g, '').trim());
    rest = rest.slice(1 + styleCount);
  }
  if (rest.length > 0) parts.push(format(...rest));
  return parts.join(' ');
}

/** Copies what the test entry appended to `path` since `offset` to our stdout; returns the new offset. */
async function forwardTestOutput(path: string, offset: number): Promise<number> {
  const content = await readFile(path).catch(() => undefined);
  if (!content || content.length <= offset) return offset;
  process.stdout.write(content.subarray(offset));
  return content.length;
}

const screenshotNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/;

/** A screenshot request may ask for another window size (JSON `{"width": 1600, "height": 1000}`): the window has it for that screenshot. */
async function requestedWindowSize(requestPath: string): Promise<{ width: number; height: number } | undefined> {
  try {
    const asked = JSON.parse(await readFile(requestPath, 'utf8')) as { width?: unknown; height?: unknown };
    const fits = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 400 && n <= 4000;
    return fits(asked.width) && fits(asked.height) ? { width: asked.width, height: asked.height } : undefined;
  } catch {
    return undefined;
  }
}

const NOTIFICATIONS_REQUEST = '.notifications-request';
/** <name>.window-size-request: the window takes the size it asks for (JSON as a screenshot's), or its usual size again. */
const WINDOW_SIZE_REQUEST = '.window-size-request';
/** The browser window's size unless a test asks for another. */
const USUAL_WINDOW_SIZE = { width: 1400, height: 900 };

/**
 * Answers <name>.notifications-request with <name>.notifications.json: the text of every notification the
 * workbench shows and the links VS Code rendered in it (anchors inside the message, not the toolbar).
 */
async function answerNotificationsRequest(page: Page, requestsDir: string, name: string, log: RunLog): Promise<void> {
  const shown = screenshotNamePattern.test(name)
    ? await page.$$eval('.notification-list-item', (items) => items.map((item) => {
      const message = item.querySelector('.notification-list-item-message');
      return {
        text: message?.textContent ?? '',
        links: [...(message?.querySelectorAll('a') ?? [])].map((a) => a.getAttribute('href') ?? a.getAttribute('data-href') ?? a.textContent ?? ''),
      };
    }))
    : null;
  if (shown) {
    await writeFile(join(requestsDir, `${name}.notifications.partial`), JSON.stringify(shown));
    await rename(join(requestsDir, `${name}.notifications.partial`), join(requestsDir, `${name}.notifications.json`));
  } else {
    log.write(`[runner] ignored notifications request with bad name ${JSON.stringify(name)}\n`);
  }
  await unlink(join(requestsDir, `${name}${NOTIFICATIONS_REQUEST}`)).catch(() => undefined);
}

/** Saves <directory>/<name>.png for every <name>.request a test of this run wrote into requestsDir, then removes the request. */
async function serveScreenshotRequests(page: Page, requestsDir: string, directory: string, log: RunLog): Promise<void> {
  let names: string[];
  try {
    names = await readdir(requestsDir);
  } catch {
    return;
  }
  for (const fileName of names) {
    if (fileName.endsWith(NOTIFICATIONS_REQUEST)) {
      await answerNotificationsRequest(page, requestsDir, fileName.slice(0, -NOTIFICATIONS_REQUEST.length), log);
      continue;
    }
    if (fileName.endsWith(WINDOW_SIZE_REQUEST)) {
      const requestPath = join(requestsDir, fileName);
      const size = (await requestedWindowSize(requestPath)) ?? USUAL_WINDOW_SIZE;
      await page.setViewportSize(size);
      await delay(1_500); // the workbench and the webviews lay out again
      log.write(`[runner] window ${size.width}×${size.height}\n`);
      await unlink(requestPath).catch(() => undefined);
      continue;
    }
    if (!fileName.endsWith('.request')) continue;
    const name = fileName.slice(0, -'.request'.length);
    const requestPath = join(requestsDir, fileName);
    if (screenshotNamePattern.test(name)) {
      const size = await requestedWindowSize(requestPath);
      const usual = page.viewportSize();
      if (size) {
        await page.setViewportSize(size);
        await delay(1_500); // the workbench and the webviews lay out again
      }
      try {
        await page.screenshot({ path: join(directory, `${name}.png`) });
      } finally {
        if (size && usual) await page.setViewportSize(usual);
      }
      log.write(`[runner] screenshot ${name}.png${size ? ` at ${size.width}×${size.height}` : ''}\n`);
    } else {
      log.write(`[runner] ignored screenshot request with bad name ${JSON.stringify(name)}\n`);
    }
    await unlink(requestPath).catch(() => undefined);
  }
}

async function printLogTail(path: string, lines: number): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const tail = text.split('\n').slice(-lines).join('\n');
  process.stderr.write(`\n----- last ${lines} lines of ${path} -----\n${tail}\n----- end of log -----\n`);
}

interface RunnerArguments {
  grep: string | undefined;
  keepTemp: boolean;
  mode: IntegrationMode;
}

function parseMode(value: string | undefined): IntegrationMode {
  const mode = integrationModes.find((m) => m === value);
  if (!mode) throw new Error(`unknown mode ${JSON.stringify(value)} (expected ${integrationModes.join(', ')})`);
  return mode;
}

function parseArguments(argv: string[]): RunnerArguments {
  const parsed: RunnerArguments = {
    grep: process.env.BITCOIN_USDT_TEST_GREP,
    keepTemp: process.env.BITCOIN_USDT_KEEP_TEMP === '1',
    mode: parseMode(process.env.BITCOIN_USDT_INTEGRATION_MODE || 'trusted'),
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--grep') parsed.grep = argv[++i];
    else if (argv[i] === '--keep') parsed.keepTemp = true;
    else if (argv[i] === '--mode') parsed.mode = parseMode(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]} (expected --grep <pattern>, --keep or --mode <mode>)`);
  }
  if (parsed.mode !== 'trusted') {
    // Each mode runs exactly its own suites: a --grep must name the mode's tag (one suite of the mode: its title).
    const tag = integrationModeTags[parsed.mode];
    if (parsed.grep && !parsed.grep.includes(tag)) throw new Error(`--grep with --mode ${parsed.mode} must include the mode's tag ${tag} (e.g. part of a suite title ending in it)`);
    parsed.grep ??= tag;
  }
  return parsed;
}

/** The user settings of a mode: `untrusted` turns workspace trust on, never asks, and trusts no folder. */
export function userSettingsFor(mode: IntegrationMode): Record<string, unknown> {
  if (mode !== 'untrusted') return defaultUserSettings;
  return {
    ...defaultUserSettings,
    'security.workspace.trust.enabled': true,
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.emptyWindow': false,
    'security.workspace.trust.untrustedFiles': 'open',
  };
}

function workspaceSettingsFromEnvironment(): Record<string, unknown> {
  const text = process.env.BITCOIN_USDT_WORKSPACE_SETTINGS;
  if (text === undefined || text === '') return defaultWorkspaceSettings;
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error('BITCOIN_USDT_WORKSPACE_SETTINGS must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** `realnode` mode: the real source tree to open and the real bitcoind to list (fails when they are not set). */
function realNodeWorkspace(): { source: string; bitcoind: string } {
  const source = process.env.BITCOIN_SOURCE;
  const bitcoind = process.env.BITCOIND;
  const how = 'set BITCOIND and BITCOIN_SOURCE (eval "$(bash scripts/unpack-real-node.sh)")';
  if (!source || !existsSync(join(source, 'src'))) throw new Error(`--mode realnode: BITCOIN_SOURCE=${source ?? ''} is not a source tree; ${how}`);
  if (!bitcoind || !existsSync(bitcoind)) throw new Error(`--mode realnode: BITCOIND=${bitcoind ?? ''} does not exist; ${how}`);
  return { source, bitcoind };
}

/**
 * The environment with every path inside the repository (the real node that unpack-real-node.sh put in
 * .real-node: BITCOIND, BITCOIN_CLI, BITCOIN_SOURCE, …) as the extension host reaches it: in nonroot mode the
 * test user sees the repository at its staged read-only view, as a clone under /root is closed to it.
 */
function asSeenFrom(environment: NodeJS.ProcessEnv, repo: string, view: string): NodeJS.ProcessEnv {
  if (view === repo) return { ...environment };
  const prefix = `${repo}/`;
  return Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, value?.startsWith(prefix) ? join(view, value.slice(prefix.length)) : value]));
}

async function runIntegrationTests(): Promise<number> {
  const args = parseArguments(process.argv.slice(2));
  // The untrusted and reload suites take well under a minute: a hang there should not hold CI for long.
  const timeoutMinutes = args.mode === 'trusted' ? 15 : args.mode === 'bench' || args.mode === 'realnode' ? 10 : args.mode === 'nonroot' ? 5 : 3;
  const defaultTimeoutMs = args.mode === 'soak' ? soakHarnessTimeoutMs(soakDurationMs()) : timeoutMinutes * 60_000;
  const timeoutMs = Number(process.env.BITCOIN_USDT_INTEGRATION_TIMEOUT_MS ?? defaultTimeoutMs);
  const testsEntry = join(repoRoot, 'dist', 'test', 'integration', 'index.js');
  if (!existsSync(testsEntry)) throw new Error(`${testsEntry} is missing: run \`npm run build\``);
  if (!existsSync(join(repoRoot, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run `npm run build`');

  await mkdir(screenshotsDir, { recursive: true });
  const tempRoot = await mkdtemp(join(tmpdir(), 'bitcoin-usdt-integration-'));
  // nonroot: VS Code runs as the test user and sees the repository at a staged path; screenshots go through a
  // directory of the run (the staged repository is read-only) and are copied to screenshotsDir at the end.
  let testUser: TestUser | undefined;
  let extensionRoot = repoRoot;
  const runScreenshotsDir = args.mode === 'nonroot' ? join(tempRoot, 'screenshots') : screenshotsDir;
  const workspaceDir = join(tempRoot, 'workspace');
  const resultsFile = join(tempRoot, 'mocha-results.json');
  const outputFile = join(tempRoot, 'mocha-output.txt');
  // Per run, so that runs side by side do not serve each other's screenshot requests.
  const screenshotRequestsDir = join(tempRoot, 'screenshot-requests');
  await mkdir(screenshotRequestsDir);
  await mkdir(integrationLogsDir, { recursive: true });
  const log = new RunLog(join(integrationLogsDir, `integration-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`));
  console.log(`[runner] log: ${log.path}`);
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  let exitCode = 1;
  try {
    if (args.mode === 'nonroot') {
      process.once('exit', () => void cleanUpTestUser());
      testUser = prepareTestUser();
      extensionRoot = stageRepository(repoRoot);
      await mkdir(runScreenshotsDir);
      console.log(`[runner] VS Code runs as ${testUser.name} (uid ${testUser.uid}); the repository is mounted read-only at ${extensionRoot}`);
    }
    const workspaceSettings = workspaceSettingsFromEnvironment();
    await prepareTestWorkspace(workspaceDir, workspaceSettings);
    const realNode = args.mode === 'realnode' ? realNodeWorkspace() : null;
    if (args.mode === 'untrusted') {
      await writeFile(join(workspaceDir, '.vscode', 'settings.json'), JSON.stringify(await prepareUntrustedExtras(workspaceDir, workspaceSettings), null, 2));
    }
    console.log(`[runner] mode ${args.mode}${args.grep !== undefined ? `, grep ${JSON.stringify(args.grep)}` : ''}`);
    const reloadStateDir = join(tempRoot, 'reload-state');
    if (args.mode === 'reload') await mkdir(reloadStateDir);
    const host = '127.0.0.1';
    const port = await findFreePort();
    const env: NodeJS.ProcessEnv = {
      ...asSeenFrom(process.env, repoRoot, extensionRoot),
      BITCOIN_USDT_REPO: extensionRoot,
      BITCOIN_USDT_TEST_WORKSPACE: workspaceDir,
      BITCOIN_USDT_SCREENSHOT_DIR: runScreenshotsDir,
      BITCOIN_USDT_SCREENSHOT_REQUESTS: screenshotRequestsDir,
      BITCOIN_USDT_TEST_RESULTS_FILE: resultsFile,
      BITCOIN_USDT_TEST_OUTPUT_FILE: outputFile,
      BITCOIN_USDT_INTEGRATION_MODE: args.mode,
      ...(args.mode === 'reload' ? { BITCOIN_USDT_RELOAD_STATE_DIR: reloadStateDir } : {}),
      ...(args.grep !== undefined ? { BITCOIN_USDT_TEST_GREP: args.grep } : {}),
      ...(testUser ? { BITCOIN_USDT_TEST_USER: testUser.name, BITCOIN_USDT_SUDO_PASSWORD: testUser.password } : {}),
    };
    if (testUser) chownTree(tempRoot, testUser);
    const started = Date.now();
    server = await startVscodeServer({
      host,
      port,
      serverDataDir: join(tempRoot, 'server-data'),
      userDataDir: join(tempRoot, 'user-data'),
      extensionsDir: join(tempRoot, 'extensions'),
      userSettings: realNode ? { ...userSettingsFor(args.mode), 'bitcoinUsdt.bitcoindPaths': [realNode.bitcoind] } : userSettingsFor(args.mode),
      env,
      log,
      ...(testUser ? { runAs: { user: testUser, stagedRepo: extensionRoot } } : {}),
    });
    console.log(`[runner] VS Code server on port ${port} (ready in ${Date.now() - started} ms), workspace ${workspaceDir}`);

    browser = await chromium.launch({ executablePath: chromiumExecutable, headless: true, args: chromiumArgs });
    const page = await browser.newPage({ viewport: USUAL_WINDOW_SIZE });
    page.on('console', (message) => {
      void consoleMessageText(message).then((text) => log.write(`[browser:${message.type()}] ${text}\n`));
    });
    page.on('pageerror', (error) => log.write(`[browser:pageerror] ${error.stack ?? error.message}\n`));

    let reportExit: (code: number) => void = () => undefined;
    const testsFinished = new Promise<number>((resolveExit) => {
      reportExit = resolveExit;
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => reportExit(Number(code)));
    const url = workbenchUrl(host, port, realNode ? realNode.source : workspaceDir, [
      ['extensionDevelopmentPath', remoteUri(host, port, extensionRoot)],
      ['extensionTestsPath', remoteUri(host, port, join(extensionRoot, relative(repoRoot, testsEntry)))],
    ]);
    log.write(`[runner] opening ${url}\n`);
    // The workbench page loads its scripts from the server: on a loaded machine (load average 30 on 2 cores, a
    // large workspace such as the real source tree) that took longer than playwright's default 30 s.
    await page.goto(url, { timeout: 180_000 });

    let stopPolling = false;
    let outputOffset = 0;
    const polling = (async () => {
      while (!stopPolling) {
        await serveScreenshotRequests(page, screenshotRequestsDir, runScreenshotsDir, log).catch((error: Error) => log.write(`[runner] screenshot failed: ${error.message}\n`));
        outputOffset = await forwardTestOutput(outputFile, outputOffset);
        await delay(200);
      }
      await forwardTestOutput(outputFile, outputOffset);
    })();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolveTimeout) => {
      timer = setTimeout(() => resolveTimeout('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([testsFinished, timedOut]);
    clearTimeout(timer);
    stopPolling = true;
    await polling;
    if (outcome === 'timeout') {
      console.error(`[runner] integration tests did not finish within ${timeoutMs / 1000} s`);
      await page.screenshot({ path: join(screenshotsDir, 'timeout.png') }).catch(() => undefined);
      exitCode = 1;
    } else {
      if (outcome !== 0) await page.screenshot({ path: join(screenshotsDir, 'failure.png') }).catch(() => undefined);
      exitCode = await reconcileWithResults(resultsFile, outcome);
      if (args.mode === 'reload' && !existsSync(join(reloadStateDir, reloadPhaseOneFile))) {
        console.error(`[runner] reload: the first phase never asked for the reload (no ${reloadPhaseOneFile})`);
        exitCode = 1;
      }
    }
  } catch (error) {
    console.error(`[runner] ${error instanceof Error ? error.message : String(error)}`);
    exitCode = 1;
  } finally {
    await browser?.close().catch(() => undefined);
    if (server) {
      const exited = new Promise((resolveExit) => server?.once('exit', resolveExit));
      stopProcessGroup(server);
      await Promise.race([exited, delay(5000)]);
    }
    if (args.mode === 'nonroot') {
      await cp(runScreenshotsDir, screenshotsDir, { recursive: true }).catch(() => undefined);
      for (const problem of cleanUpTestUser()) {
        console.error(`[runner] cleanup: ${problem}`);
        exitCode = 1;
      }
    }
    await log.close();
    if (exitCode !== 0) await printLogTail(log.path, 80);
    if (args.keepTemp) console.log(`[runner] kept ${tempRoot}`);
    else await rm(tempRoot, { recursive: true, force: true });
  }
  return exitCode;
}

/** Prints mocha's counts (for scripts/test.sh) and fails the run when the tests never reported any. */
async function reconcileWithResults(resultsFile: string, exitCode: number): Promise<number> {
  let results: { passes: number; failures: number } | undefined;
  try {
    results = JSON.parse(await readFile(resultsFile, 'utf8')) as { passes: number; failures: number };
  } catch {
    console.error('[runner] the test entry wrote no results: did mocha start inside the extension host?');
    return exitCode === 0 ? 1 : exitCode;
  }
  console.log(`[runner] integration: ${results.passes} passing, ${results.failures} failing (exit code ${exitCode})`);
  if (results.passes === 0 && results.failures === 0) return 1;
  return results.failures > 0 && exitCode === 0 ? 1 : exitCode;
}

if (require.main === module) {
  runIntegrationTests().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
