// `bitcoin-usdt run <tool> (--pid N | --binary PATH)`: runs a probe tool through the privileged helper
// (sudo unless already root) and prints what it sees, like Bitcoin Core's contrib/tracing scripts, or
// (--json) one normalized event per line.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { version } from '../../package.json';
import { BpftraceDecoder } from '../core/events/bpftraceDecoder';
import type { NormalizedEvent, PeerTotals } from '../core/events/eventTypes';
import { RecordingWriter } from '../core/events/recording';
import { NodeResolver } from '../core/network/nodeResolver';
import { SessionAccount } from '../core/session/sessionAccount';
import {
  HELPER_SCRIPT,
  buildHelperArgv,
  createPrivateSocket,
  formatCommandForDisplay,
  ProbeSessionReader,
  withPrivilegePrefix,
} from '../core/probeSession';
import { TOOLS, findTool, streamedTracepoints, type ToolDefinition, type ToolParameter } from '../core/tools/toolCatalog';
import { FilterError, filterParameters } from '../core/tools/toolFilters';
import { checkToolTarget } from '../core/tools/toolTarget';
import {
  CliFailure,
  CliUsageError,
  EXIT_FAILURE,
  EXIT_OK,
  PROGRAM_NAME,
  errorLine,
  type CliCommand,
  type CliIo,
} from './cliCommand';
import { formatTextTable } from './textTable';
import { ToolTextFormatter, terminalSafe as safe } from './toolEventOutput';

const TOOL_ID_WIDTH = Math.max(...TOOLS.map((t) => t.id.length));

/** Options of `run` that set a tool's parameters (from probes/tools.json): option name → tool and parameter. */
export const PARAMETER_OPTIONS: ReadonlyMap<string, { tool: ToolDefinition; parameter: ToolParameter }> = new Map(
  TOOLS.flatMap((tool) => tool.parameters.map((parameter) => [parameter.option, { tool, parameter }] as const)),
);

function parameterHelp(): string {
  const width = Math.max(0, ...[...PARAMETER_OPTIONS.values()].map(({ parameter: p }) => `--${p.option} ${p.metavar}`.length));
  return TOOLS.filter((t) => t.parameters.length > 0)
    .map((t) => `${t.id}:\n${t.parameters.map((p) => `  ${`--${p.option} ${p.metavar}`.padEnd(width)}  ${p.description}`).join('\n')}\n`)
    .join('\n');
}

const HELP = `Usage: ${PROGRAM_NAME} run <tool> (--pid N | --binary PATH) [options]

Runs a probe tool against bitcoind. The probe runs as root through a small helper
(probes/${HELPER_SCRIPT}); unless you are root, it is started with sudo.

Tools:
${TOOLS.map((t) => `  ${t.id.padEnd(TOOL_ID_WIDTH)}  ${t.title}`).join('\n')}

Options:
  --pid N          Trace this bitcoind process (its binary is /proc/N/exe)
  --binary PATH    Trace every process running this binary, also those started later (bpftrace
                   tools); each event carries its pid, and a \`node\` event names each process
                   (node0, node1, … of a functional test, from its -datadir)
  --all-processes  Say that every process of --binary is meant (refused with --pid)
  --duration S     Stop S seconds after the probe is attached (default: until Ctrl-C)
  --follow         With --pid: when bitcoind exits, wait for it to start again and re-attach
  --json           One normalized event per line (see docs/events.md)
  --record FILE    Also save the session as a recording (NDJSON)
  --bpftrace PATH  Absolute path of bpftrace (default: /usr/bin, /usr/local/bin, /usr/sbin)
  --filter K=V     Stream only matching events, filtered in the kernel (repeatable; the fired counts and
                   the tool's own counts stay exact): p2p-traffic and raw-p2p-msgs peer=ID, type=TYPE; utxos
                   op=add|spent|uncache, txid=HEXPREFIX (up to 15 digits), sample=N (keep 1 in N)
  -h, --help       Show this help

Tool parameters (connectblock-benchmark: use with bitcoind -reindex or -reindex-chainstate):
${parameterHelp()}
Output: like Bitcoin Core's contrib/tracing scripts: one line per message, connection, flush, coin or
coin selection step; per-peer tables for p2p-monitor; BENCH lines every second, slow blocks, the
connect-time histogram and the total time for connectblock-benchmark. Notes go to stderr.

Examples:
  ${PROGRAM_NAME} run p2p-connections --pid 1234
  ${PROGRAM_NAME} run connectblock-benchmark --binary build/bin/bitcoind --start 800000 --end 810000 --threshold 100
  ${PROGRAM_NAME} run utxos --pid 1234 --json --duration 10
  ${PROGRAM_NAME} run p2p-traffic --binary build/bin/bitcoind --all-processes --json

Exit status: 0 success, 1 error, 2 bad usage.
`;

const PYTHON = '/usr/bin/python3';
const CONNECT_TIMEOUT_MS = 120_000; // time to type the sudo password
const STOP_GRACE_MS = 8_000;

export const runProbeCommand: CliCommand = {
  name: 'run',
  summary: `Run a probe tool (${TOOLS.map((t) => t.id).join(', ')}) against bitcoind`,
  help: HELP,
  run: (args, io) => runProbe(args, io),
};

/** Standalone entry: `runCommand(['p2p-traffic', '--pid', '123'])` with the process's own stdio. */
export async function runCommand(argv: string[]): Promise<number> {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const io: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), signal: abort.signal };
  try {
    return await runProbe(argv, io);
  } catch (error) {
    io.err(errorLine(error instanceof Error ? error.message : String(error)));
    return error instanceof CliUsageError ? 2 : EXIT_FAILURE;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export interface RunOptions {
  toolId: string;
  /** The tool's parameters (`--param name=value` of the helper), validated against the tool's patterns. */
  params: Record<string, string>;
  pid: number | null;
  binary: string;
  durationS: number | null;
  follow: boolean;
  json: boolean;
  record: string | null;
  bpftrace: string | null;
}

/** Parses and checks `run`'s arguments (throws CliUsageError / CliFailure). */
export async function parseRunArgs(args: readonly string[]): Promise<RunOptions> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        pid: { type: 'string' },
        binary: { type: 'string' },
        duration: { type: 'string' },
        follow: { type: 'boolean' },
        'all-processes': { type: 'boolean' },
        json: { type: 'boolean' },
        record: { type: 'string' },
        bpftrace: { type: 'string' },
        filter: { type: 'string', multiple: true },
        ...Object.fromEntries([...PARAMETER_OPTIONS.keys()].map((option) => [option, { type: 'string' } as const])),
      },
    });
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new CliUsageError('expected one tool name (see run --help)');
  const toolId = positionals[0];
  const tool = findTool(toolId);
  if (!tool) throw new CliUsageError(`unknown tool '${toolId}' (tools: ${TOOLS.map((t) => t.id).join(', ')})`);
  const params = toolParams(tool, Object.fromEntries([...PARAMETER_OPTIONS.keys()].map((option) => [option, (values as Record<string, string | boolean | undefined>)[option] as string | undefined])));
  try {
    Object.assign(params, filterParameters(tool, values.filter ?? []));
  } catch (error) {
    if (error instanceof FilterError) throw new CliUsageError(error.message);
    throw error;
  }
  let pid: number | null = null;
  if (values.pid !== undefined) {
    if (!/^[1-9]\d{0,9}$/.test(values.pid)) throw new CliUsageError(`--pid must be a positive number, not '${values.pid}'`);
    pid = Number(values.pid);
  }
  let durationS: number | null = null;
  if (values.duration !== undefined) {
    durationS = Number(values.duration);
    if (!Number.isFinite(durationS) || durationS <= 0) throw new CliUsageError('--duration must be a positive number of seconds');
  }
  if (values.follow && pid === null) throw new CliUsageError('--follow needs --pid');
  if (values['all-processes'] && pid !== null) throw new CliUsageError('--all-processes traces every process of --binary: it takes no --pid');
  if (values['all-processes'] && values.binary === undefined) throw new CliUsageError('--all-processes needs --binary PATH');
  if (values.bpftrace !== undefined && !values.bpftrace.startsWith('/')) throw new CliUsageError('--bpftrace must be an absolute path');
  let binary: string;
  if (values.binary !== undefined) {
    binary = await fs.realpath(resolve(values.binary)).catch(() => {
      throw new CliFailure(`binary ${values.binary} not found`);
    });
  } else if (pid !== null) {
    binary = await fs.realpath(`/proc/${pid}/exe`).catch(() => {
      throw new CliFailure(`cannot read /proc/${pid}/exe (no such process, or another user's): pass --binary`);
    });
  } else {
    throw new CliUsageError('pass --pid N or --binary PATH');
  }
  return {
    toolId, params, pid, binary, durationS, follow: values.follow ?? false, json: values.json ?? false,
    record: values.record ?? null, bpftrace: values.bpftrace ?? null,
  };
}

const WHOLE_NUMBER_PATTERN = '^(?:0|[1-9][0-9]{0,9})$';

/** The helper parameters of the tool from its options (`--start`, `--end`, `--threshold`), checked against its patterns. */
function toolParams(tool: ToolDefinition, options: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [option, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const target = PARAMETER_OPTIONS.get(option);
    if (!target || target.tool.id !== tool.id) throw new CliUsageError(`--${option} is only for ${target?.tool.id ?? 'another tool'}, not ${tool.id}`);
    const parameter = target.parameter;
    if (!new RegExp(parameter.pattern).test(value)) {
      throw new CliUsageError(
        parameter.pattern === WHOLE_NUMBER_PATTERN
          ? `--${option} must be a whole number from 0 to 9999999999 without leading zeros, not '${value}'`
          : `--${option} ${parameter.metavar}: not '${value}'. ${parameter.description}`,
      );
    }
    params[parameter.name] = value;
  }
  const start = Number(params.start ?? '0');
  const end = Number(params.end ?? '0');
  if (end !== 0 && end < start) throw new CliUsageError(`--end ${end} is below --start ${start} (0: no end)`);
  return params;
}

/** The probes/ directory shipped with this program (next to dist/, or the source tree in tests). */
export function findProbesDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'probes', HELPER_SCRIPT))) return join(dir, 'probes');
    dir = dirname(dir);
  }
  throw new CliFailure(`cannot find probes/${HELPER_SCRIPT} next to this program`);
}

async function runProbe(args: readonly string[], io: CliIo): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    io.out(HELP);
    return EXIT_OK;
  }
  const options = await parseRunArgs(args);
  const tool = findTool(options.toolId);
  if (!tool) throw new CliUsageError(`unknown tool '${options.toolId}'`);
  const target = await checkToolTarget({ toolId: tool.id, binaryPath: options.binary, pid: options.pid });
  if (target.refusal) throw new CliFailure(`refused: ${target.refusal}`);
  const probesDir = findProbesDir();
  const socket = await createPrivateSocket();
  const isRoot = process.geteuid?.() === 0;
  const argv = withPrivilegePrefix(
    'auto',
    buildHelperArgv({
      pythonPath: PYTHON, probesDir, tool: tool.id, binary: options.binary, pid: options.pid,
      follow: options.follow, socketPath: socket.path, bpftracePath: options.bpftrace, params: options.params,
    }),
    isRoot,
  );
  io.err(`${PROGRAM_NAME}: running${isRoot ? '' : ' as root via sudo'}: ${formatCommandForDisplay(argv)}\n`);

  let recorder: RecordingWriter | null = null;
  if (options.record) {
    recorder = await RecordingWriter.create(options.record, {
      tool: tool.id, started_at: new Date().toISOString(), binary: options.binary, pid: options.pid,
      producer: `${PROGRAM_NAME} ${version}`,
    }).catch((error: Error) => {
      void socket.close();
      throw new CliFailure(error.message);
    });
  }

  const child = spawn(argv[0], argv.slice(1), { stdio: ['inherit', process.stderr, 'inherit'] });
  const childExit = new Promise<number | null>((done) => {
    child.once('exit', (code, signal) => done(code ?? (signal ? 128 : null)));
    child.once('error', (error) => {
      io.err(errorLine(`cannot start ${argv[0]}: ${error.message}`));
      done(null);
    });
  });
  const printer = new EventPrinter(io, options.json, new ToolTextFormatter(tool.id, options.params));
  const stopper = new HelperStopper(child, socket.close);
  const onAbort = (): void => stopper.stop();
  io.signal.addEventListener('abort', onAbort);
  // --duration counts from the moment the probe is attached, not from before a password prompt or the compile.
  let durationTimer: NodeJS.Timeout | null = null;
  const startDurationOnAttach = (events: readonly NormalizedEvent[]): void => {
    if (options.durationS === null || durationTimer !== null || !events.some((e) => e.event === 'session:attached')) return;
    durationTimer = setTimeout(() => stopper.stop(), options.durationS * 1000);
  };

  try {
    const connection = await Promise.race([
      socket.waitForConnection(CONNECT_TIMEOUT_MS),
      childExit.then((code) => {
        throw new CliFailure(`the helper exited (code ${code ?? '?'}) before connecting`);
      }),
    ]);
    const streamed = new Set(streamedTracepoints(tool));
    const streamedEvents = new Set([...streamed, ...(tool.generated ? ['tracepoint:hit'] : [])]);
    const account = new SessionAccount();
    const nodes = new NodeResolver({
      sessionPid: options.pid ?? null,
      emit: (events) => {
        recorder?.write(events);
        printer.print(events);
      },
    });
    const reader = new ProbeSessionReader({
      decoder: new BpftraceDecoder({ streamedTracepoints: [...streamed], clientVersion: target.clientVersion }),
      onBatch: (events) => {
        startDurationOnAttach(events);
        for (const event of events) if (!account.take(event) && streamedEvents.has(event.event)) account.accepted();
        recorder?.write(events);
        printer.print(events);
        nodes.observe(events);
      },
    });
    reader.attach(connection);
    await reader.done;
    await nodes.idle();
    let graceTimer: NodeJS.Timeout | undefined;
    const code = await Promise.race([childExit, new Promise<null>((r) => (graceTimer = setTimeout(() => r(null), STOP_GRACE_MS)))]);
    clearTimeout(graceTimer);
    if (recorder) await recorder.close().catch((error: Error) => printer.fail(error.message));
    if (!options.json && tool.mode === 'stream') {
      const counts = account.counts();
      const fired = counts.fired.reduce((sum, f) => sum + f.count, 0);
      io.err(`${PROGRAM_NAME}: ${counts.delivered} events delivered, ${counts.lostEvents} lost, ${fired} fired\n`);
    }
    if (printer.failure) throw new CliFailure(printer.failure);
    if (code !== 0 && code !== null) throw new CliFailure(`the helper exited with code ${code}`);
    return EXIT_OK;
  } finally {
    if (durationTimer) clearTimeout(durationTimer);
    io.signal.removeEventListener('abort', onAbort);
    stopper.stop();
    await socket.close();
  }
}

/** Stops the helper: SIGINT (bpftrace then prints its final counts), then closes the socket if it lingers. */
class HelperStopper {
  private stopping = false;
  constructor(private readonly child: ChildProcess, private readonly closeSocket: () => Promise<void>) {}

  stop(): void {
    if (this.stopping || this.child.exitCode !== null) return;
    this.stopping = true;
    this.child.kill('SIGINT');
    setTimeout(() => void this.closeSocket(), STOP_GRACE_MS).unref();
  }
}

export class EventPrinter {
  failure: string | null = null;
  /** The last `fired` counts and kernel totals printed: the probes repeat them every 0.5–1 s, and unchanged ones say nothing new. */
  private readonly lastCounts = new Map<string, string>();
  /** The session filters in the kernel: its per-peer totals count every message, its messages only the matching ones. */
  private filtered = false;
  constructor(private readonly io: CliIo, private readonly json: boolean, private readonly toolText: ToolTextFormatter) {}

  fail(message: string): void {
    this.failure ??= message;
  }

  print(events: readonly NormalizedEvent[]): void {
    let out = '';
    for (const event of events) {
      if (event.event === 'session:message' && event.level === 'error') this.fail(event.message);
      if (event.event === 'session:start') this.filtered = event.filters !== undefined;
      if (event.event === 'fired' || event.event === 'p2p:peer_totals' || event.event === 'p2p:msg_type_totals') {
        const counts = JSON.stringify(event.event === 'fired' ? event.counts : event.event === 'p2p:peer_totals' ? event.peers : event.types);
        if (counts === this.lastCounts.get(event.event)) continue;
        this.lastCounts.set(event.event, counts);
      }
      if (this.json) {
        out += `${JSON.stringify(event)}\n`;
        continue;
      }
      const text = this.describe(event);
      if (text === null) continue;
      for (const line of text.split('\n')) {
        if (line.startsWith('#')) {
          if (out) this.io.out(out);
          out = '';
          this.io.err(`${line}\n`);
        } else out += `${line}\n`;
      }
    }
    if (out) this.io.out(out);
  }

  /** The lines for one event: the tool's own text and the session's notes ('#' lines go to stderr). */
  private describe(event: NormalizedEvent): string | null {
    const toolText = this.toolText.format(event);
    const note = this.sessionNote(event);
    const lines = event.event === 'session:attached' ? [note, toolText] : [toolText, note];
    const present = lines.filter((line): line is string => line !== null);
    return present.length > 0 ? present.join('\n') : null;
  }

  private sessionNote(event: NormalizedEvent): string | null {
    switch (event.event) {
      case 'net:inbound_message':
      case 'net:outbound_message': {
        const inbound = event.event === 'net:inbound_message';
        return `${inbound ? 'inbound' : 'outbound'} msg '${safe(event.msg_type)}' ${inbound ? 'from' : 'to'} peer ${event.peer_id} (${safe(event.conn_type)}, ${safe(event.peer_addr)}) with ${event.msg_size} bytes`;
      }
      case 'p2p:peer_totals':
        // Filtered (p2p-traffic): the kernel counts every message per peer; it keeps no addresses then.
        return this.filtered ? `every message per peer, filtered out or not (counted in the kernel):\n${peerTable(event.peers)}` : peerTable(event.peers);
      case 'p2p:msg_type_totals':
        return formatTextTable(
          ['msg_type', 'msgs_in', 'bytes_in', 'msgs_out', 'bytes_out'],
          event.types.map((t) => [safe(t.msg_type), String(t.msgs_in), String(t.bytes_in), String(t.msgs_out), String(t.bytes_out)]),
        ).trimEnd();
      case 'lost':
        return `# lost ${event.count} events (${event.source === 'reconciled' ? 'counted in the kernel, not reported by bpftrace' : 'reported by bpftrace'})`;
      case 'truncated':
        return `# ${event.count} ${event.field} value(s) reached the probe's string limit and may be cut`;
      case 'session:start':
        return `# ${event.tool} on ${safe(event.binary)}${event.pid ? ` (PID ${event.pid})` : ''}, ${event.bpftrace_version === 'BCC' ? 'BCC' : `bpftrace ${event.bpftrace_version ?? '?'}`}`;
      case 'session:attached':
        return `# attached ${event.probes} probes; Ctrl-C to stop`;
      case 'session:message':
        return event.level === 'info' && /^(bpftrace|BCC): /.test(event.message) ? null : `# ${event.level}: ${safe(event.message)}`;
      case 'session:end':
        return `# session ended: ${safe(event.reason)}`;
      case 'node':
        return `# node ${safe(event.node)} (pid ${event.pid}, ${safe(event.chain)}, p2p port ${event.p2p_port ?? '?'}, rpc port ${event.rpc_port ?? '?'})${event.datadir === null ? '' : `: ${safe(event.datadir)}`}`;
      case 'node:exit':
        return `# pid ${event.pid} exited`;
      default:
        return null;
    }
  }
}

function peerTable(peers: readonly PeerTotals[]): string {
  const rows = peers.map((p) => [
    String(p.peer_id), safe(p.conn_type), safe(p.peer_addr),
    String(p.msgs_in), String(p.bytes_in), String(p.msgs_out), String(p.bytes_out),
  ]);
  return formatTextTable(['peer', 'conn_type', 'peer_addr', 'msgs_in', 'bytes_in', 'msgs_out', 'bytes_out'], rows).trimEnd();
}
