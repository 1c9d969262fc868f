import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FunctionalTestError, isTestRunner, planFunctionalTest, type FunctionalTestPlan } from '../../core/functionalTest/functionalTest';
import {
  TEST_TERMINAL_SHELL_PATH,
  functionalTestTerminalArgs,
  isFunctionalTestFile,
  listedFunctionalTests,
  testClassLines,
  testOfActiveEditor,
  testTerminalCommand,
} from '../../core/functionalTest/functionalTestTerminal';
import { parseExitStatus } from '../../core/process/privilegedTerminalScript';
import { findTool } from '../../core/tools/toolCatalog';
import { checkToolTarget } from '../../core/tools/toolTarget';
import { pickBinary, pickMany, readAvailability } from '../launch/launchPickers';
import type { LaunchRequest } from '../launch/launchRequest';
import { showError, showInformation } from '../notifications';
import type { Services } from '../services';

export const TRACE_FUNCTIONAL_TEST_COMMAND = 'bitcoinUsdt.traceFunctionalTest';
/** The tool ticked at first: every message between the nodes (the Network panel's connections and sequence). */
const DEFAULT_TOOL = 'p2p-traffic';
const STATUS_POLL_MS = 250;
/** How long the probes may take to deliver their final counts once the test ended. */
const STOP_TIMEOUT_MS = 30_000;
const UNTRUSTED_MESSAGE =
  'Trace functional test starts probes as root, which is disabled in untrusted workspaces. Trust this workspace first (Workspaces: Manage Workspace Trust).';

/** What the command runs when asked by a CodeLens, a test or automation (what is left out is asked). */
export interface TraceFunctionalTestRequest {
  /** `…/test/functional/p2p_ping.py`, or `test_runner.py` (its arguments in testArgs). */
  readonly testPath: string;
  readonly binaryPath?: string;
  /** bpftrace tools that can trace every process (default: asked, p2p-traffic ticked). */
  readonly tools?: readonly string[];
  /** The test's own arguments (`--portseed=…`, `--tmpdir=…`; test names and options for test_runner.py). */
  readonly testArgs?: readonly string[];
}

/** How a traced test run ended (the command's result). */
export interface FunctionalTestRunResult {
  readonly name: string;
  readonly testPath: string;
  readonly binaryPath: string;
  readonly sessionIds: readonly string[];
  readonly terminalName: string;
  /** The test's exit status (0: passed); undefined when its terminal was closed before it ended. */
  readonly exitStatus: number | undefined;
}

/** What integration tests see. */
export interface FunctionalTestApi {
  /** The terminal of the test running now, or of the last one. */
  lastTerminal(): vscode.Terminal | undefined;
}

class RunAbandoned extends Error {}

function isRequest(value: unknown): value is TraceFunctionalTestRequest {
  if (typeof value !== 'object' || value === null || value instanceof vscode.Uri) return false;
  const candidate = value as Record<string, unknown>;
  const strings = (v: unknown): boolean => v === undefined || (Array.isArray(v) && v.every((s) => typeof s === 'string'));
  return typeof candidate.testPath === 'string' && (candidate.binaryPath === undefined || typeof candidate.binaryPath === 'string') &&
    strings(candidate.tools) && strings(candidate.testArgs);
}

/** A quick pick of the workspace's functional tests (test/functional/*.py of each folder, and a build's test_runner.py). */
async function pickTest(): Promise<string | undefined> {
  const found = await vscode.workspace.findFiles('{test/functional/*.py,build/test/functional/test_runner.py}', undefined, 2_000);
  const tests = listedFunctionalTests(found.filter((uri) => uri.scheme === 'file').map((uri) => uri.fsPath));
  if (tests.length === 0) {
    void showError('No functional test found: open the Bitcoin Core source (its test/functional/*.py), or open a test file and run this command from it.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    tests.map((test) => ({ label: path.basename(test), description: isTestRunner(test) ? 'with arguments (test names, -j N, …)' : undefined, detail: vscode.workspace.asRelativePath(test), test })),
    { title: 'Trace functional test: which test?', placeHolder: 'A test of test/functional/', matchOnDescription: true },
  );
  return picked?.test;
}

/** The bpftrace tools the build can run over every process, ticked p2p-traffic. */
async function pickTools(binaryPath: string): Promise<string[] | undefined> {
  const availability = await readAvailability(binaryPath);
  if (!availability) return undefined;
  const usable = availability.filter((a) => a.available && a.tool.frontEnd === 'bpftrace');
  if (usable.length === 0) {
    void showError(`${binaryPath} has none of the tracepoints of the tools that trace every process (build Bitcoin Core with -DWITH_USDT=ON).`);
    return undefined;
  }
  const items = usable.map((a) => ({ label: a.tool.id, description: a.tool.title, detail: a.tool.description }));
  const picked = await pickMany(items, `Trace functional test: tools for every bitcoind of ${path.basename(binaryPath)}`,
    'Tick the tools to attach before the test starts (BCC tools trace one process and are not offered)', items.filter((i) => i.label === DEFAULT_TOOL));
  return picked && picked.length > 0 ? picked.map((item) => item.label) : undefined;
}

/** Resolves when every session has attached; rejects when one ends first. Subscribed before the probes start. */
function attachWaiter(services: Services): { wait(sessionIds: readonly string[]): Promise<void>; dispose(): void } {
  const attached = new Set<string>();
  const ended = new Map<string, string>();
  let check: () => void = () => undefined;
  const subscriptions = [
    services.hub.onDidReceiveEvents(({ session, events }) => {
      if (events.some((e) => e.event === 'session:attached')) attached.add(session.id);
      check();
    }),
    services.hub.onDidEndSession(({ session, reason }) => {
      ended.set(session.id, `${session.tool}: ${reason}`);
      check();
    }),
  ];
  return {
    wait: (sessionIds) => new Promise<void>((resolve, reject) => {
      check = () => {
        const gone = sessionIds.find((id) => ended.has(id) && !attached.has(id));
        if (gone !== undefined) reject(new RunAbandoned(`The probes did not attach (${ended.get(gone)}): the test was not started.`));
        else if (sessionIds.every((id) => attached.has(id))) resolve();
      };
      check();
    }),
    dispose: () => subscriptions.forEach((s) => s.dispose()),
  };
}

/** Stops the sessions still running and waits (bounded) until each has ended and delivered its final counts. */
async function stopSessions(services: Services, sessionIds: readonly string[]): Promise<void> {
  const running = (): string[] => sessionIds.filter((id) => services.hub.activeSessions.some((s) => s.id === id));
  const allEnded = new Promise<void>((resolve) => {
    const subscription = services.hub.onDidEndSession(() => {
      if (running().length > 0) return;
      subscription.dispose();
      resolve();
    });
    if (running().length === 0) {
      subscription.dispose();
      resolve();
    }
  });
  for (const id of running()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', id);
  await Promise.race([allEnded, new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS))]);
}

/**
 * Runs the planned test in a terminal of its own, as the user, and resolves with its exit status when it ends
 * (undefined when the terminal was closed first).
 */
function runInTerminal(plan: FunctionalTestPlan, testPath: string, privateDir: string, onTerminal: (terminal: vscode.Terminal) => void): Promise<{ terminalName: string; exitStatus: number | undefined }> {
  const statusFile = path.join(privateDir, 'exit-status');
  const terminal = vscode.window.createTerminal({
    name: `Functional test: ${plan.name}`,
    shellPath: TEST_TERMINAL_SHELL_PATH,
    shellArgs: functionalTestTerminalArgs(path.basename(testPath), statusFile, testTerminalCommand(plan)),
    cwd: path.dirname(testPath),
    iconPath: new vscode.ThemeIcon('beaker'),
  });
  onTerminal(terminal);
  terminal.show(false);
  const readStatus = (): Promise<number | undefined> => fs.readFile(statusFile, 'utf8').then(parseExitStatus, () => undefined);
  return new Promise((resolve) => {
    let done = false;
    let poll: NodeJS.Timeout | undefined;
    const finish = (exitStatus: number | undefined): void => {
      if (done) return;
      done = true;
      if (poll) clearTimeout(poll);
      closed.dispose();
      resolve({ terminalName: terminal.name, exitStatus });
    };
    const closed = vscode.window.onDidCloseTerminal((gone) => {
      if (gone === terminal) void readStatus().then(finish);
    });
    const pollStatus = async (): Promise<void> => {
      const status = await readStatus();
      if (status !== undefined) finish(status);
      else if (!done) poll = setTimeout(() => void pollStatus(), STATUS_POLL_MS);
    };
    poll = setTimeout(() => void pollStatus(), STATUS_POLL_MS);
  });
}

/**
 * Trace functional test… (command palette, and a CodeLens on each `class …(BitcoinTestFramework):` line of a test
 * file): attaches the chosen bpftrace tools to every process of the chosen build through the launcher (one
 * terminal, one password), and once every probe is attached runs the test as the user in a terminal of its own
 * against that build; the probes stop when the test ends, and their recordings are named after the test.
 */
export function registerFunctionalTest(services: Services, selectedBinary: () => string | undefined): void {
  const { context } = services;
  let lastTerminal: vscode.Terminal | undefined;

  const traceFunctionalTest = async (argument?: TraceFunctionalTestRequest | vscode.Uri): Promise<FunctionalTestRunResult | undefined> => {
    const automated = isRequest(argument) && argument.tools !== undefined && argument.binaryPath !== undefined;
    const fail = (message: string): undefined => {
      if (automated) throw new Error(message);
      void showError(message);
      return undefined;
    };
    if (!vscode.workspace.isTrusted) return fail(UNTRUSTED_MESSAGE);
    const request: Partial<TraceFunctionalTestRequest> = argument instanceof vscode.Uri ? { testPath: argument.fsPath } : isRequest(argument) ? argument : {};

    const testPath = request.testPath ?? testOfActiveEditor(vscode.window.activeTextEditor?.document.uri.fsPath) ?? (await pickTest());
    if (!testPath) return undefined;
    if (!isFunctionalTestFile(testPath)) return fail(`${testPath} is not a functional test (a .py file in a test/functional directory of Bitcoin Core).`);
    let testArgs = request.testArgs;
    if (testArgs === undefined && isTestRunner(testPath)) {
      const typed = await vscode.window.showInputBox({
        title: 'Trace functional test: test_runner.py arguments',
        prompt: 'Test names and options, separated by spaces (each word is one argument; no shell)',
        value: 'p2p_ping.py',
        ignoreFocusOut: true,
      });
      if (typed === undefined) return undefined;
      testArgs = typed.split(/\s+/).filter((word) => word !== '');
    }
    const binaryPath = request.binaryPath ?? selectedBinary() ?? (await pickBinary(context.workspaceState, 'Trace functional test: which build of bitcoind?'));
    if (!binaryPath) return undefined;
    const tools = request.tools ?? (await pickTools(binaryPath));
    if (!tools) return undefined;
    if (tools.length === 0) return fail('No tool to attach: name at least one.');
    for (const id of tools) {
      const tool = findTool(id);
      if (!tool || tool.generated) return fail(`Unknown probe tool ${JSON.stringify(id)}.`);
      if (tool.frontEnd !== 'bpftrace') return fail(`${id} is a BCC tool: it traces one process and cannot follow a test's nodes. Pick bpftrace tools.`);
    }

    const privateDir = await fs.mkdtemp(path.join(tmpdir(), 'bitcoin-usdt-functional-test-'));
    const waiter = attachWaiter(services);
    let sessionIds: string[] = [];
    try {
      await fs.chmod(privateDir, 0o700);
      const hasWallet = (await checkToolTarget({ toolId: 'coin-selection', binaryPath, pid: null })).refusal === null;
      let plan: FunctionalTestPlan;
      try {
        plan = planFunctionalTest({ testPath, bitcoind: binaryPath, testArgs: testArgs ?? [], hasWallet, configDir: privateDir });
      } catch (error) {
        if (error instanceof FunctionalTestError) return fail(`Cannot run ${path.basename(testPath)}: ${error.message}`);
        throw error;
      }
      if (plan.configIni) await fs.writeFile(plan.configIni.path, plan.configIni.text, { mode: 0o600 });

      const requests: LaunchRequest[] = tools.map((tool) => ({ tool, binaryPath, pid: 'all', recordingName: plan.name }));
      let started: string[] | undefined;
      try {
        started = await vscode.commands.executeCommand<string[] | undefined>('bitcoinUsdt.startProbe', requests);
      } catch (error) {
        // The launcher has said why.
        if (automated) throw error;
        return undefined;
      }
      sessionIds = started ?? [];
      if (sessionIds.length < tools.length) {
        throw new RunAbandoned(`${tools.length - sessionIds.length} of the ${tools.length} probes could not start: the test was not started.`);
      }
      await vscode.commands.executeCommand('bitcoinUsdt.showNetworkPanel');
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `Trace ${plan.name}: waiting for the probes to attach (the password goes into the probe terminal)` },
        () => waiter.wait(sessionIds),
      );
      waiter.dispose();
      const { terminalName, exitStatus } = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `Trace ${plan.name}: the test runs` },
        () => runInTerminal(plan, testPath, privateDir, (terminal) => (lastTerminal = terminal)),
      );
      await stopSessions(services, sessionIds);
      const outcome = exitStatus === 0 ? 'passed' : exitStatus === undefined ? 'was stopped (its terminal was closed)' : `failed (exit status ${exitStatus})`;
      void showInformation(`${plan.name} ${outcome}. ${tools.join(', ')} traced it: the recording${tools.length > 1 ? 's are' : ' is'} named after the test (Save recording…).`);
      return { name: plan.name, testPath, binaryPath, sessionIds, terminalName, exitStatus };
    } catch (error) {
      await stopSessions(services, sessionIds);
      if (error instanceof RunAbandoned) return fail(error.message);
      throw error;
    } finally {
      waiter.dispose();
      await fs.rm(privateDir, { recursive: true, force: true });
    }
  };

  const lensesChanged = new vscode.EventEmitter<void>();
  const codeLenses: vscode.CodeLensProvider = {
    onDidChangeCodeLenses: lensesChanged.event,
    provideCodeLenses(document) {
      // Like every launch: nothing is offered in an untrusted workspace.
      if (!vscode.workspace.isTrusted || document.uri.scheme !== 'file' || !isFunctionalTestFile(document.uri.fsPath)) return [];
      return testClassLines(document.getText()).map((found) => {
        const position = new vscode.Position(found.line, found.column);
        return new vscode.CodeLens(new vscode.Range(position, position), {
          title: '$(debug-start) Trace this functional test',
          tooltip: `Run ${path.basename(document.uri.fsPath)} as you with probes attached to every bitcoind it starts, shown in the Network panel`,
          command: TRACE_FUNCTIONAL_TEST_COMMAND,
          arguments: [{ testPath: document.uri.fsPath } satisfies TraceFunctionalTestRequest],
        });
      });
    },
  };

  context.subscriptions.push(
    lensesChanged,
    vscode.commands.registerCommand(TRACE_FUNCTIONAL_TEST_COMMAND, traceFunctionalTest),
    vscode.languages.registerCodeLensProvider({ scheme: 'file', pattern: '**/test/functional/*.py' }, codeLenses),
    vscode.workspace.onDidGrantWorkspaceTrust(() => lensesChanged.fire()),
  );
  services.api.functionalTest = { lastTerminal: () => lastTerminal };
}
