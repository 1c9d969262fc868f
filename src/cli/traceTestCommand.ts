// `bitcoin-usdt trace-test <test.py> [--tools a,b] [--json] [-- test args]`: attaches the tools to every
// bitcoind of the build (one helper session per tool, without a PID), and only once every probe is attached
// runs the functional test as the invoking user, against that build (BITCOIND=, BITCOINCLI=). The test's
// output goes to the terminal, its exit status is this command's; the sessions end when the test ends and
// each is recorded as <test>-<tool>-<time>.ndjson.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, promises as fs, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { version } from '../../package.json';
import { BpftraceDecoder } from '../core/events/bpftraceDecoder';
import type { NodeEvent, NormalizedEvent } from '../core/events/eventTypes';
import { RecordingWriter } from '../core/events/recording';
import { FunctionalTestError, functionalTestName, planFunctionalTest } from '../core/functionalTest/functionalTest';
import {
  ProbeSessionReader,
  buildHelperArgv,
  createPrivateSocket,
  formatCommandForDisplay,
  withPrivilegePrefix,
} from '../core/probeSession';
import { TOOLS, findTool, streamedTracepoints, type ToolDefinition } from '../core/tools/toolCatalog';
import { checkToolTarget } from '../core/tools/toolTarget';
import { findProbesDir } from './runCommand';
import { CliFailure, CliUsageError, EXIT_OK, PROGRAM_NAME, type CliCommand, type CliIo } from './cliCommand';
import { terminalSafe as safe } from './toolEventOutput';

const HELP = `Usage: ${PROGRAM_NAME} trace-test <test.py> [--tools a,b] [--binary PATH] [--json] [--record-dir DIR] [-- test arguments]

Runs one of Bitcoin Core's functional tests (test/functional/<name>.py, or test_runner.py with its
arguments) with probe tools attached to every bitcoind the test starts: the tools attach to the build
first (one helper session per tool, as root through sudo unless you are root), then the test runs as
you, against that build (BITCOIND=, BITCOINCLI=). The test's output and result are printed as usual;
the exit status is the test's. Each tool's session is recorded as <test>-<tool>-<time>.ndjson.

Options:
  --tools a,b      bpftrace tools to attach (default: p2p-traffic; BCC tools trace one process and
                   cannot follow a test's nodes). Tools: ${TOOLS.filter((t) => t.frontEnd === 'bpftrace').map((t) => t.id).join(', ')}
  --binary PATH    The bitcoind to test (default: $BITCOIND)
  --json           Print every event (docs/events.md) on stdout; the test's own output goes to stderr
  --record-dir DIR Where the recordings go (default: the current directory)
  --bpftrace PATH  Absolute path of bpftrace
  -h, --help       Show this help

A test in a source tree without test/config.ini (the build writes one) gets a config.ini made for the
build (--configfile). Every event carries the pid of its bitcoind; the helper names each process with a
\`node\` event (node0, node1, … from the test's datadirs).

Examples:
  ${PROGRAM_NAME} trace-test test/functional/p2p_ping.py --binary build/bin/bitcoind
  ${PROGRAM_NAME} trace-test build/test/functional/test_runner.py --tools p2p-traffic,p2p-connections -- p2p_ping.py rpc_setban.py -j 2

Exit status: the test's (0 passed), 1 error, 2 bad usage.
`;

const PYTHON = '/usr/bin/python3';
const CONNECT_TIMEOUT_MS = 120_000;
const ATTACH_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 8_000;

export const traceTestCommand: CliCommand = {
  name: 'trace-test',
  summary: 'Run a functional test with probe tools attached to every bitcoind it starts',
  help: HELP,
  run: (args, io) => traceTest(args, io),
};

export interface TraceTestOptions {
  testPath: string;
  testArgs: string[];
  tools: ToolDefinition[];
  binary: string;
  json: boolean;
  recordDir: string;
  bpftrace: string | null;
}

export async function parseTraceTestArgs(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<TraceTestOptions> {
  const split = args.indexOf('--');
  const own = split < 0 ? [...args] : args.slice(0, split);
  const testArgs = split < 0 ? [] : args.slice(split + 1);
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      allowPositionals: true,
      options: {
        tools: { type: 'string' },
        binary: { type: 'string' },
        json: { type: 'boolean' },
        'record-dir': { type: 'string' },
        bpftrace: { type: 'string' },
      },
    });
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new CliUsageError('expected one test file (see trace-test --help)');
  const tools = (values.tools ?? 'p2p-traffic').split(',').filter((id) => id !== '').map((id) => {
    const tool = findTool(id);
    if (!tool) throw new CliUsageError(`unknown tool '${id}' (tools: ${TOOLS.map((t) => t.id).join(', ')})`);
    return tool;
  });
  if (tools.length === 0) throw new CliUsageError('--tools names no tool');
  if (new Set(tools.map((t) => t.id)).size !== tools.length) throw new CliUsageError('--tools names a tool twice');
  const binaryText = values.binary ?? env.BITCOIND;
  if (!binaryText) throw new CliUsageError('pass --binary PATH (or set BITCOIND) to name the bitcoind to test');
  const binary = await fs.realpath(resolve(binaryText)).catch(() => {
    throw new CliFailure(`binary ${binaryText} not found`);
  });
  if (values.bpftrace !== undefined && !values.bpftrace.startsWith('/')) throw new CliUsageError('--bpftrace must be an absolute path');
  return {
    testPath: resolve(positionals[0]), testArgs, tools, binary, json: values.json ?? false,
    recordDir: resolve(values['record-dir'] ?? '.'), bpftrace: values.bpftrace ?? null,
  };
}

/** One tool's helper session over every process of the binary, recorded. */
class ToolSession {
  attached = false;
  ended = false;
  error: string | null = null;
  readonly nodes = new Map<number, NodeEvent>();
  readonly messagesByPid = new Map<number, number>();
  private helper: ChildProcess | null = null;
  private onChange: () => void = () => undefined;
  readonly changed = (): Promise<void> => new Promise((r) => (this.onChange = r));
  done: Promise<void> = Promise.resolve();

  constructor(readonly tool: ToolDefinition, private readonly recorder: RecordingWriter, private readonly print: (events: readonly NormalizedEvent[]) => void) {}

  async start(options: TraceTestOptions, probesDir: string, io: CliIo): Promise<void> {
    const socket = await createPrivateSocket();
    const isRoot = process.geteuid?.() === 0;
    const argv = withPrivilegePrefix('auto', buildHelperArgv({
      pythonPath: PYTHON, probesDir, tool: this.tool.id, binary: options.binary, pid: null, socketPath: socket.path, bpftracePath: options.bpftrace,
    }), isRoot);
    io.err(`${PROGRAM_NAME}: running${isRoot ? '' : ' as root via sudo'}: ${formatCommandForDisplay(argv)}\n`);
    const helper = spawn(argv[0], argv.slice(1), { stdio: ['inherit', process.stderr, 'inherit'] });
    this.helper = helper;
    const exited = new Promise<number | null>((done) => {
      helper.once('exit', (code) => done(code));
      helper.once('error', () => done(null));
    });
    const connection = await Promise.race([
      socket.waitForConnection(CONNECT_TIMEOUT_MS),
      exited.then((code) => {
        throw new CliFailure(`the ${this.tool.id} helper exited (code ${code ?? '?'}) before connecting`);
      }),
    ]);
    const streamed = new Set(streamedTracepoints(this.tool));
    const reader = new ProbeSessionReader({
      decoder: new BpftraceDecoder({ streamedTracepoints: [...streamed] }),
      onBatch: (events) => {
        for (const event of events) {
          if (event.event === 'session:attached') this.attached = true;
          if (event.event === 'session:message' && event.level === 'error') this.error ??= event.message;
          if (event.event === 'node') this.nodes.set(event.pid, event);
          if (streamed.has(event.event) && 'pid' in event && typeof event.pid === 'number') {
            this.messagesByPid.set(event.pid, (this.messagesByPid.get(event.pid) ?? 0) + 1);
          }
        }
        this.recorder.write(events);
        this.print(events);
        this.onChange();
      },
    });
    reader.attach(connection);
    this.done = reader.done.then(async () => {
      this.ended = true;
      this.onChange();
      await socket.close();
    });
  }

  stop(): void {
    if (this.helper && this.helper.exitCode === null) this.helper.kill('SIGINT');
  }

  get recordingPath(): string {
    return this.recorder.path;
  }

  async recorderClose(): Promise<void> {
    await this.recorder.close().catch((error: Error) => (this.error ??= error.message));
  }
}

async function traceTest(args: readonly string[], io: CliIo): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    io.out(HELP);
    return EXIT_OK;
  }
  const options = await parseTraceTestArgs(args);
  for (const tool of options.tools) {
    const target = await checkToolTarget({ toolId: tool.id, binaryPath: options.binary, pid: null });
    if (target.refusal) throw new CliFailure(`refused: ${target.refusal}`);
  }
  const hasWallet = (await checkToolTarget({ toolId: 'coin-selection', binaryPath: options.binary, pid: null })).refusal === null;
  const configDir = mkdtempSync(join(tmpdir(), 'bitcoin-usdt-trace-test-'));
  const sessions: ToolSession[] = [];
  try {
    let plan;
    try {
      plan = planFunctionalTest({ testPath: options.testPath, bitcoind: options.binary, testArgs: options.testArgs, hasWallet, configDir });
    } catch (error) {
      if (error instanceof FunctionalTestError) throw new CliFailure(error.message);
      throw error;
    }
    if (plan.configIni) writeFileSync(plan.configIni.path, plan.configIni.text);
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
    const printEvents = (events: readonly NormalizedEvent[]): void => {
      if (options.json) io.out(events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    };
    const probesDir = findProbesDir();
    for (const tool of options.tools) {
      const path = join(options.recordDir, `${functionalTestName(options.testPath)}-${tool.id}-${stamp}.ndjson`);
      const recorder = await RecordingWriter.create(path, {
        tool: tool.id, started_at: new Date().toISOString(), binary: options.binary, pid: null, producer: `${PROGRAM_NAME} ${version}`,
      }).catch((error: Error) => {
        throw new CliFailure(error.message);
      });
      const session = new ToolSession(tool, recorder, printEvents);
      sessions.push(session);
      // One after another: at most one sudo prompt at a time.
      await session.start(options, probesDir, io);
    }
    const deadline = Date.now() + ATTACH_TIMEOUT_MS;
    for (const session of sessions) {
      while (!session.attached) {
        if (session.ended || session.error) throw new CliFailure(`${session.tool.id} did not attach: ${session.error ?? 'its session ended'}`);
        if (Date.now() > deadline) throw new CliFailure(`${session.tool.id} did not attach within ${ATTACH_TIMEOUT_MS / 1000} s`);
        await Promise.race([session.changed(), new Promise((r) => setTimeout(r, 500))]);
      }
    }
    io.err(`${PROGRAM_NAME}: ${options.tools.map((t) => t.id).join(', ')} attached to every process of ${options.binary}; running ${formatCommandForDisplay(plan.argv)}\n`);
    const test = spawn(plan.argv[0], plan.argv.slice(1), {
      stdio: ['inherit', options.json ? process.stderr : process.stdout, process.stderr],
      env: { ...process.env, ...plan.env },
    });
    const onAbort = (): void => void test.kill('SIGINT');
    io.signal.addEventListener('abort', onAbort);
    const testCode = await new Promise<number>((done) => {
      test.once('exit', (code, signal) => done(code ?? (signal ? 128 : 1)));
      test.once('error', (error) => {
        io.err(`${PROGRAM_NAME}: cannot start ${plan.argv[0]}: ${error.message}\n`);
        done(1);
      });
    });
    io.signal.removeEventListener('abort', onAbort);
    for (const session of sessions) session.stop();
    await Promise.race([Promise.all(sessions.map((s) => s.done)), new Promise((r) => setTimeout(r, STOP_GRACE_MS * 2))]);
    for (const session of sessions) await session.recorderClose();
    io.err(summary(plan.name, testCode, sessions));
    const failed = sessions.find((s) => s.error !== null);
    if (failed && testCode === 0) throw new CliFailure(`${failed.tool.id}: ${failed.error}`);
    return testCode;
  } finally {
    for (const session of sessions) session.stop();
    rmSync(configDir, { recursive: true, force: true });
  }
}

/** What each tool saw of each node, after the test. */
function summary(name: string, testCode: number, sessions: readonly ToolSession[]): string {
  const lines = [`${PROGRAM_NAME}: ${name} ${testCode === 0 ? 'passed' : `failed (exit code ${testCode})`}`];
  for (const session of sessions) {
    lines.push(`${PROGRAM_NAME}: ${session.tool.id}: recorded in ${session.recordingPath}`);
    for (const [pid, node] of session.nodes) {
      const count = session.messagesByPid.get(pid) ?? 0;
      lines.push(`  ${safe(node.node)} (pid ${pid}, ${safe(node.run ?? '?')}): ${count} event(s)`);
    }
  }
  return `${lines.join('\n')}\n`;
}
