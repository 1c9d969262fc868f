// Turns the privileged helper's lines (bpftrace `-f json` records plus the helper's own records) into
// normalized events. Stateful: it keeps the kernel-side counts to account for every lost event, and the
// map snapshots of aggregating tools. It never throws on input: a bad line becomes a warning.

import { describeFilters } from '../tools/toolFilters';
import { flushModeNames } from '../catalog/tracepointCatalog';
import type { ClientVersion } from '../elf/clientVersion';
import { JsonObject, JsonSyntaxError, JsonValue, byteLength, jsonToPlain, parseBpftraceJson } from './bpftraceJson';
import type {
  Int64Field,
  MessageTypeTotals,
  NetMessageEvent,
  NormalizedEvent,
  PeerTotals,
} from './eventTypes';
import { toolFrontEnd } from '../tools/toolCatalog';
import { createToolRecordDecoder, type ToolRecordContext, type ToolRecordDecoder, type TraceSpec } from './toolRecordDecoders';
import { parseTraceSpec } from '../trace/traceReadings';
import { recordsOfTool } from './eventSchema';
import { TupleShapeError, decodeTuple } from './tupleDecoder';

/** p2p-traffic's message tuples (`in`, `out`), for lines the fast path does not take. */
const P2P_TRAFFIC_RECORDS = recordsOfTool('p2p-traffic');

/** bpftrace runs with BPFTRACE_STRLEN=72: 71 bytes of text and the NUL. A 71-byte string may have been cut. */
export const PROBE_STRING_LIMIT_BYTES = 71;

export interface DecoderOptions {
  /** Tracepoints whose every hit the tool streams as an event (loss accounting applies to them). */
  streamedTracepoints?: readonly string[];
  stringLimitBytes?: number;
  /** The tool whose records to decode (default: the tool named by the helper's `target` record). */
  toolId?: string;
  /** Decode every line with the exact JSON reader, without the fast path for message tuples (for tests). */
  exactOnly?: boolean;
  /** The traced build's Bitcoin Core version (names of flush modes follow it); unknown: the current names. */
  clientVersion?: ClientVersion | null;
}

export interface DecoderStats {
  delivered: number;
  lostReported: number;
  lostReconciled: number;
  malformedLines: number;
  truncatedStrings: number;
  /** Cumulative over the session (all bpftrace runs), per tracepoint. */
  fired: Record<string, number>;
}

const EXCERPT_CHARS = 80;
/** stderr lines bpftrace 0.17 prints on every run that do not mean anything went wrong here. */
const HARMLESS_STDERR = [
  /couldn't set RLIMIT_MEMLOCK/,
  /uprobe_events\): No such file/,
  /failed to detach probe/,
  /^(raw-p2p-msgs|mempool-monitor)\.py: (attached \d+ probes|stopped by signal|target process \d+ exited|the reader closed stdout)/,
];

/** A traceback longer than this is cut into messages of this many lines (a runaway program cannot hold memory). */
const MAX_TRACEBACK_LINES = 200;

const PEER_MAPS = ['@msgs_in', '@bytes_in', '@msgs_out', '@bytes_out'] as const;
const TYPE_MAPS = ['@type_msgs_in', '@type_bytes_in', '@type_msgs_out', '@type_bytes_out'] as const;
const STRING_MAPS = ['@peer_addr', '@conn_type'] as const;

export class BpftraceDecoder {
  private readonly streamed: Set<string>;
  /** A generated probe's checked request (trace-tracepoint), from the helper's `target` record. */
  private trace: TraceSpec | null = null;
  private readonly stringLimit: number;
  private readonly fastPath: boolean;
  private readonly flushModes: readonly string[];
  private toolDecoder: ToolRecordDecoder | undefined;
  private readonly toolContext: ToolRecordContext = {
    elapsedNs: (value) => this.elapsedNs(value),
    lastElapsedNs: () => this.lastElapsed,
    delivered: (pid) => this.countDelivered(pid),
    flushModeNames: () => this.flushModes,
    traceSpec: () => this.trace,
    checkCutAt: (field, value, limitBytes) => {
      const out: NormalizedEvent[] = [];
      this.checkCut(field, value, out, limitBytes);
      return out;
    },
    checkCut: (field, value) => {
      const out: NormalizedEvent[] = [];
      this.checkCut(field, value, out);
      return out;
    },
    reconcile: (printed) => {
      const already = this.runToolReconciled ?? 0;
      const unreported = printed - this.runDelivered - this.runLostReported - already;
      this.runToolReconciled = already + unreported;
      if (unreported === 0) return [];
      this.lostReconciled += unreported;
      return [{ event: 'lost', elapsed_ns: this.lastElapsed, count: unreported, source: 'reconciled' }];
    },
  };

  // Loss accounting for the current bpftrace run, and totals over earlier runs (--follow re-attaches).
  // Fired counts are kept per process: pid (decimal; '' for a map keyed by the tracepoint alone) → tracepoint → n.
  private runFired = new Map<string, Map<string, number>>();
  /** With a kernel filter or sample (the `target` record's `filters`): what passed it, per tracepoint, every process together (@selected). */
  private runSelected = new Map<string, number>();
  private filtered = false;
  private runDelivered = 0;
  private runDeliveredByPid = new Map<number, number>();
  private runLostReported = 0;
  private runReconciled = true;
  /** What the tool's own reconcile() counted as lost in this run; null while it has not reconciled. */
  private runToolReconciled: number | null = null;
  private readonly earlierFired = new Map<string, Map<string, number>>();

  private delivered = 0;
  private lostReported = 0;
  private lostReconciled = 0;
  private malformed = 0;
  private truncatedTotal = 0;
  private readonly truncatedPending = new Map<string, number>();

  private readonly maps = new Map<string, JsonObject>();
  private mapsChanged = false;
  private lastElapsed = 0;
  private elapsedOffset = 0;
  private firstStartNs: bigint | null = null;
  /**
   * A BCC program's clock at its first attach (its records count from before the compile): subtracted from every
   * elapsed_ns, so the session's time counts from the moment the probe attached, as bpftrace's `elapsed` does.
   */
  private attachShiftNs: number | null = null;
  private attachedOnce = false;
  private sessionPid: number | null = null;
  /** The helper's `target` named no pid: it names each process itself with a `node` record. */
  private everyProcess = false;
  /** Pids the helper named with a `node` record, and pids whose events were streamed. */
  private readonly namedPids = new Set<number>();
  private readonly streamingPids = new Set<number>();
  private ended = false;
  /** A Python traceback being read from stderr, line by line (a BCC program's); null outside one. */
  private traceback: string[] | null = null;
  /** Who wrote the probe's stderr lines, named in their messages (a BCC tool's Python traceback is not bpftrace's). */
  private frontEnd: 'BCC' | 'bpftrace' = 'bpftrace';

  constructor(options: DecoderOptions = {}) {
    this.streamed = new Set(options.streamedTracepoints ?? ['net:inbound_message', 'net:outbound_message']);
    this.stringLimit = options.stringLimitBytes ?? PROBE_STRING_LIMIT_BYTES;
    this.fastPath = options.exactOnly !== true;
    this.flushModes = flushModeNames(options.clientVersion);
    this.toolDecoder = options.toolId === undefined ? undefined : createToolRecordDecoder(options.toolId);
  }

  get stats(): DecoderStats {
    const fired: Record<string, number> = {};
    for (const [k, v] of this.cumulativeFired()) fired[k] = v;
    return {
      delivered: this.delivered,
      lostReported: this.lostReported,
      lostReconciled: this.lostReconciled,
      malformedLines: this.malformed,
      truncatedStrings: this.truncatedTotal,
      fired,
    };
  }

  /** Decodes one line (without its newline). Returns the events it produced, possibly none. */
  decodeLine(line: string | Uint8Array): NormalizedEvent[] {
    if (typeof line !== 'string') {
      const bytes = Buffer.isBuffer(line) ? line : Buffer.from(line.buffer, line.byteOffset, line.byteLength);
      return this.decodeRange(bytes, 0, bytes.length);
    }
    return this.decodeExact(line);
  }

  /** Decodes the line `bytes[start, end)` (without its newline), without copying it. */
  decodeRange(bytes: Buffer, start: number, end: number): NormalizedEvent[] {
    const out: NormalizedEvent[] = [];
    this.decodeRangeInto(bytes, start, end, out);
    return out;
  }

  /** Like `decodeRange`, appending the events to `out`; returns how many it appended. */
  decodeRangeInto(bytes: Buffer, start: number, end: number, out: NormalizedEvent[]): number {
    if (this.fastPath && this.toolDecoder === undefined) {
      const added = this.scanMessage(bytes, start, end, out);
      if (added > 0) return added;
    }
    const events = this.decodeExact(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
    for (let i = 0; i < events.length; i++) out.push(events[i]);
    return events.length;
  }

  private decodeExact(line: string | Uint8Array): NormalizedEvent[] {
    if (typeof line === 'string' ? line.trim() === '' : isBlank(line)) return [];
    let value: JsonValue;
    try {
      value = parseBpftraceJson(line);
    } catch (err) {
      const why = err instanceof JsonSyntaxError ? err.message : String(err);
      return [this.malformedLine(line, `not JSON (${why})`)];
    }
    if (!(value instanceof JsonObject)) return [this.malformedLine(line, 'not a record')];
    const type = value.get('type');
    const data = value.get('data');
    try {
      if (this.toolDecoder && (type === 'value' || type === 'map' || type === 'hist')) {
        const events = this.toolDecoder({ type, data }, this.toolContext);
        if (events) return events;
      }
      switch (type) {
        case 'value':
          return this.onValue(data, line);
        case 'map':
          return this.onMap(data, line);
        case 'lost_events':
          return this.onLost(data, line);
        case 'attached_probes':
          return this.onAttached(data);
        case 'helper':
          return this.onHelper(data, line);
        case 'printf':
          return typeof data === 'string' ? [{ event: 'session:message', level: 'info', message: data.trimEnd() }] : [];
        default:
          return [this.malformedLine(line, `unknown record type ${JSON.stringify(type)}`)];
      }
    } catch (err) {
      return [this.malformedLine(line, err instanceof Error ? err.message : String(err))];
    }
  }

  /**
   * The fast path for p2p-traffic's message tuple,
   * `{"type": "value", "data": ["in"|"out",<int>,<int>,<int>,"…","…","…",<int>]}` exactly as bpftrace prints it.
   * Taken only when every string is printable ASCII without escapes and every integer has at most 15 digits
   * without a leading zero: then the event equals the exact parser's. Appends to `out` and returns how many
   * events it appended; 0 (nothing appended) for anything else.
   */
  private scanMessage(b: Buffer, start: number, end: number, out: NormalizedEvent[]): number {
    if (end - start < VALUE_PREFIX.bytes.length + 20) return 0;
    const scan = this.scanner;
    scan.pos = start;
    scan.end = end;
    if (!scan.skipBytes(b, VALUE_PREFIX)) return 0;
    let p = scan.pos;
    let outbound: boolean;
    if (b[p] === 0x69 && b[p + 1] === 0x6e && b[p + 2] === 0x22) {
      outbound = false;
      p += 3;
    } else if (b[p] === 0x6f && b[p + 1] === 0x75 && b[p + 2] === 0x74 && b[p + 3] === 0x22) {
      outbound = true;
      p += 4;
    } else return 0;
    if (b[p] !== 0x2c) return 0;
    scan.pos = p + 1;
    const elapsed = scan.int(b);
    if (elapsed === null || !scan.comma(b)) return 0;
    const pid = scan.int(b);
    if (pid === null || pid < 0 || pid > 0xffffffff || !scan.comma(b)) return 0;
    const peerId = scan.int(b);
    if (peerId === null || !scan.comma(b)) return 0;
    // A peer's address and connection type repeat on each of its messages: compare the bytes of both
    // fields with the peer's last ones (already checked then) before scanning them.
    const slot = peerId & (PEER_SLOTS - 1);
    const last = this.lastPeerStrings[slot];
    let addr: string | null;
    let connType: string | null;
    if (last !== undefined && last.peerId === peerId && scan.skipBytes(b, last.bytes)) {
      addr = last.addr;
      connType = last.connType;
    } else {
      const fieldsStart = scan.pos;
      addr = scan.string(b);
      if (addr === null || !scan.comma(b)) return 0;
      connType = scan.string(b);
      if (connType === null || !scan.comma(b)) return 0;
      this.lastPeerStrings[slot] = { peerId, addr, connType, bytes: new ByteSequence(b.subarray(fieldsStart, scan.pos)) };
    }
    const msgType = scan.string(b);
    if (msgType === null || !scan.comma(b)) return 0;
    const size = scan.int(b);
    if (size === null || scan.pos + 2 !== end || b[scan.pos] !== 0x5d || b[scan.pos + 1] !== 0x7d) return 0;
    const event: NetMessageEvent = {
      event: outbound ? 'net:outbound_message' : 'net:inbound_message',
      elapsed_ns: this.elapsedNs(elapsed),
      pid,
      peer_id: peerId,
      peer_addr: addr,
      conn_type: connType,
      msg_type: msgType,
      msg_size: size,
    };
    this.countDelivered(pid);
    const before = out.length;
    out.push(event);
    // ASCII: as many bytes as characters, so only strings at the limit can have been cut.
    if (addr.length >= this.stringLimit) this.checkCut('peer_addr', addr, out);
    if (connType.length >= this.stringLimit) this.checkCut('conn_type', connType, out);
    if (msgType.length >= this.stringLimit) this.checkCut('msg_type', msgType, out);
    return out.length - before;
  }

  private readonly scanner = new MessageScanner();
  private readonly lastPeerStrings: Array<LastPeerStrings | undefined> = new Array<LastPeerStrings | undefined>(PEER_SLOTS).fill(undefined);

  /** Call when the stream ends without the helper's `exit` record: settles the accounts. */
  finish(reason = 'stream ended'): NormalizedEvent[] {
    if (this.ended) return [];
    this.ended = true;
    return [...this.endRun(), { event: 'session:end', reason }];
  }

  // ------------------------------------------------------------------ bpftrace records

  private onValue(data: JsonValue | undefined, line: string | Uint8Array): NormalizedEvent[] {
    if (!Array.isArray(data)) return [this.malformedLine(line, 'value without a tuple')];
    const kind = data[0];
    const spec = typeof kind === 'string' ? P2P_TRAFFIC_RECORDS.get(kind) : undefined;
    if (spec !== undefined) {
      let decoded;
      try {
        decoded = decodeTuple(spec, data, this.toolContext);
      } catch (err) {
        if (!(err instanceof TupleShapeError)) throw err;
        return [this.malformedLine(line, `message tuple with unexpected field types (${err.message})`)];
      }
      const event = decoded.event as NetMessageEvent;
      this.countDelivered(event.pid);
      return [event, ...decoded.cuts];
    }
    if (kind === 'totals' && data.length === 2 && isInt(data[1])) {
      return [...this.totalsSnapshot(this.elapsedNs(data[1])), ...this.truncationReport()];
    }
    return [this.malformedLine(line, 'unknown tuple')];
  }

  private onMap(data: JsonValue | undefined, line: string | Uint8Array): NormalizedEvent[] {
    if (!(data instanceof JsonObject)) return [this.malformedLine(line, 'map without data')];
    const out: NormalizedEvent[] = [];
    for (const [name, contents] of data.entries) {
      if (name === '@sample_seq') continue; // utxos' sampler position (printed at exit), not a count
      if (!(contents instanceof JsonObject)) {
        out.push(this.malformedLine(line, `map ${name} is not keyed`));
        continue;
      }
      if (name === '@fired') {
        this.runFired = new Map();
        for (const [key, count] of contents.entries) {
          if (typeof count !== 'number') continue;
          const [pid, tracepoint] = splitPidKey(key);
          let counts = this.runFired.get(pid);
          if (counts === undefined) this.runFired.set(pid, (counts = new Map()));
          counts.set(tracepoint, count);
        }
        this.runReconciled = false;
        out.push(this.firedEvent());
        out.push(...this.truncationReport());
      } else if (name === '@selected') {
        this.runSelected = new Map();
        for (const [tracepoint, count] of contents.entries) {
          if (typeof count === 'number') this.runSelected.set(tracepoint, count);
        }
        this.runReconciled = false;
      } else {
        this.maps.set(name, contents);
        this.mapsChanged = true;
      }
    }
    return out;
  }

  private onLost(data: JsonValue | undefined, line: string | Uint8Array): NormalizedEvent[] {
    const count = data instanceof JsonObject ? data.get('events') : undefined;
    if (typeof count !== 'number') return [this.malformedLine(line, 'lost_events without a count')];
    this.lostReported += count;
    this.runLostReported += count;
    this.runReconciled = false;
    return [{ event: 'lost', elapsed_ns: this.lastElapsed, count, source: 'bpftrace' }];
  }

  /** bpftrace prints this before attaching: the helper's `attached` record says when it is done. */
  private onAttached(data: JsonValue | undefined): NormalizedEvent[] {
    const probes = data instanceof JsonObject ? data.get('probes') : undefined;
    this.probeCount = typeof probes === 'number' ? probes : 0;
    const atAttach = data instanceof JsonObject ? data.get('elapsed_ns') : undefined;
    if (typeof atAttach === 'number' && Number.isSafeInteger(atAttach) && atAttach >= 0) {
      if (this.attachShiftNs === null) {
        this.attachShiftNs = atAttach;
        this.elapsedOffset -= atAttach;
      }
      this.runClockAtAttachNs = atAttach;
      // The helper's `attached` record of this run may have come first (it travels on the control connection).
      this.setClockZero();
    }
    return [];
  }

  private probeCount = 0;

  // ------------------------------------------------------------------ helper records

  private onHelper(data: JsonValue | undefined, line: string | Uint8Array): NormalizedEvent[] {
    if (!(data instanceof JsonObject)) return [this.malformedLine(line, 'helper record without data')];
    const field = (name: string): JsonValue | undefined => data.get(name);
    const str = (name: string): string => {
      const v = field(name);
      return typeof v === 'string' ? v : '';
    };
    const num = (name: string): number | null => {
      const v = field(name);
      return typeof v === 'number' ? v : null;
    };
    switch (field('event')) {
      case 'target': {
        this.sessionPid = num('pid');
        this.everyProcess = this.sessionPid === null;
        this.toolDecoder ??= createToolRecordDecoder(str('tool'));
        this.frontEnd = toolFrontEnd(str('tool'));
        const version = str('bpftrace_version');
        const filterField = field('filters');
        const filters: Record<string, string> = {};
        if (filterField instanceof JsonObject) {
          for (const [name, value] of filterField.entries) if (typeof value === 'string') filters[name] = value;
        }
        this.filtered = Object.keys(filters).length > 0;
        const trace = field('trace') === undefined ? null : parseTraceSpec(jsonToPlain(field('trace')));
        if (field('trace') !== undefined && trace === null) return [this.malformedLine(line, 'target record with an invalid trace spec')];
        if (trace) {
          this.trace = trace;
          this.streamed.add(trace.tracepoint);
        }
        return [{
          event: 'session:start',
          tool: str('tool'),
          binary: str('binary'),
          pid: this.sessionPid,
          ...(version ? { bpftrace_version: version } : {}),
          ...(this.filtered ? { filters } : {}),
        }, ...(this.filtered ? [{
          event: 'session:message' as const,
          level: 'info' as const,
          message: `filtered in the kernel: ${describeFilters(filters)} (only these events are streamed; the counts kept in the kernel stay exact over all)`,
        }] : []), ...(trace ? [{ event: 'tracepoint:spec' as const, tracepoint: trace.tracepoint, args: trace.args }] : [])];
      }
      case 'started': {
        const mono = field('monotonic_ns');
        if (isInt(mono)) {
          const ns = BigInt(mono);
          if (this.firstStartNs === null) this.firstStartNs = ns;
          this.elapsedOffset = Number(ns - this.firstStartNs) - (this.attachShiftNs ?? 0);
        }
        this.runClockAtAttachNs = 0;
        this.runAttachMonoNs = null;
        return [];
      }
      case 'stderr': {
        const text = str('line');
        const traceback = this.takeTracebackLine(text);
        if (traceback !== undefined) return traceback;
        const harmless = HARMLESS_STDERR.some((re) => re.test(text));
        return [{ event: 'session:message', level: harmless ? 'info' : 'warning', message: `${this.frontEnd}: ${text}` }];
      }
      case 'attached': {
        const mono = field('monotonic_ns');
        if (isInt(mono)) {
          this.runAttachMonoNs = BigInt(mono);
          this.setClockZero();
        }
        // The first attach's wall clock (the helper's): elapsed_ns 0. Re-attached runs keep the first origin.
        const realtime = field('realtime_ns');
        const wallClock = !this.attachedOnce && isInt(realtime) ? Number(BigInt(realtime) / 1000n) / 1000 : null;
        this.attachedOnce = true;
        return [{ event: 'session:attached', probes: this.probeCount, pid: this.sessionPid, ...(wallClock !== null ? { wall_clock_ms: wallClock } : {}) }];
      }
      case 'error':
        return [{ event: 'session:message', level: 'error', message: str('message') }];
      case 'bpftrace_exit':
        return [...this.endTraceback(), ...this.endRun()];
      case 'reattached': {
        this.sessionPid = num('pid');
        this.maps.clear();
        return [
          ...this.endRun(),
          { event: 'session:message', level: 'info', message: `re-attached to PID ${this.sessionPid ?? '?'}` },
        ];
      }
      case 'node': {
        const pid = num('pid');
        if (pid === null) return [this.malformedLine(line, 'node record without a pid')];
        this.namedPids.add(pid);
        const port = (name: string): number | null => {
          const v = num(name);
          return v !== null && Number.isInteger(v) && v > 0 && v < 65536 ? v : null;
        };
        return [{
          event: 'node',
          elapsed_ns: this.helperElapsedNs(field('monotonic_ns')),
          pid,
          node: str('node'),
          run: str('run'),
          datadir: str('datadir'),
          chain: str('chain'),
          p2p_port: port('p2p_port'),
          rpc_port: port('rpc_port'),
        }];
      }
      case 'node:exit': {
        const pid = num('pid');
        if (pid === null) return [this.malformedLine(line, 'node:exit record without a pid')];
        return [{ event: 'node:exit', elapsed_ns: this.helperElapsedNs(field('monotonic_ns')), pid }];
      }
      case 'exit': {
        if (this.ended) return [];
        this.ended = true;
        const code = num('code');
        return [...this.endRun(), ...this.unnamedProcesses(), { event: 'session:end', reason: str('reason') || 'helper exited', exit_code: code }];
      }
      default:
        return [this.malformedLine(line, `unknown helper event ${JSON.stringify(field('event'))}`)];
    }
  }

  /**
   * A Python traceback becomes one message, its cause (the exception line), with the whole text in `details`
   * (the extension writes that to its output channel): undefined for a line that is not part of one.
   */
  private takeTracebackLine(text: string): NormalizedEvent[] | undefined {
    const starts = text === 'Traceback (most recent call last):';
    if (this.traceback === null) {
      if (!starts) return undefined;
      this.traceback = [text];
      return [];
    }
    this.traceback.push(text);
    const continues = starts || text === '' || /^\s/.test(text) || /^(During handling of the above exception|The above exception was the direct cause)/.test(text);
    if (continues && this.traceback.length < MAX_TRACEBACK_LINES) return [];
    return this.endTraceback();
  }

  private endTraceback(): NormalizedEvent[] {
    const lines = this.traceback;
    this.traceback = null;
    if (lines === null) return [];
    const cause = [...lines].reverse().find((line) => line !== '' && !/^\s/.test(line) && line !== 'Traceback (most recent call last):') ?? lines[lines.length - 1];
    return [{
      event: 'session:message',
      level: 'warning',
      message: `${this.frontEnd}: ${cause} (a Python traceback of ${lines.length} lines; the whole text is in the output channel)`,
      details: lines.join('\n'),
    }];
  }

  // ------------------------------------------------------------------ accounting

  /** One streamed event arrived: the run's fired counts must be reconciled with it at its end. */
  private countDelivered(pid?: number): void {
    this.delivered++;
    this.runDelivered++;
    if (pid !== undefined) {
      this.runDeliveredByPid.set(pid, (this.runDeliveredByPid.get(pid) ?? 0) + 1);
      if (this.everyProcess) this.streamingPids.add(pid);
    }
    this.runReconciled = false;
  }

  /**
   * At the end of an every-process session: a warning for each process that fired tracepoints (its kernel
   * counts, or streamed events) but never got the helper's `node` record (it ended before the helper could
   * read its command line). Its events stay under its pid (views show it as `pid N`).
   */
  private unnamedProcesses(): NormalizedEvent[] {
    if (!this.everyProcess) return [];
    const fired = new Map<number, number>();
    for (const pid of this.streamingPids) fired.set(pid, 0);
    for (const [pid, counts] of this.cumulativeFiredByPid()) {
      if (pid === '') continue;
      let sum = 0;
      for (const count of counts.values()) sum += count;
      fired.set(Number(pid), sum);
    }
    const out: NormalizedEvent[] = [];
    for (const [pid, count] of [...fired].sort((a, b) => a[0] - b[0])) {
      if (this.namedPids.has(pid)) continue;
      const what = count > 0 ? `fired ${count} tracepoint${count === 1 ? '' : 's'}` : 'sent events';
      out.push({ event: 'session:message', level: 'warning', message: `process ${pid} ${what} but was never named: it ended before the helper could read its command line (its node is unknown; its events are shown as pid ${pid})` });
    }
    return out;
  }

  /** A bpftrace run ended: its last fired counts are final. Emits what was lost without a report. */
  private endRun(): NormalizedEvent[] {
    const out: NormalizedEvent[] = [...this.totalsSnapshot(this.lastElapsed, true), ...this.truncationReport()];
    if (!this.runReconciled && this.runToolReconciled === null) {
      let fired = 0;
      const byPid: Record<string, number> = {};
      let perProcess = false;
      if (this.filtered) {
        // With a filter only what passed it was printed: that is what must arrive (not told apart by process).
        for (const [tracepoint, count] of this.runSelected) if (this.streamed.has(tracepoint)) fired += count;
      } else {
        for (const [pid, counts] of this.runFired) {
          let firedHere = 0;
          for (const [tracepoint, count] of counts) if (this.streamed.has(tracepoint)) firedHere += count;
          fired += firedHere;
          if (pid !== '') {
            perProcess = true;
            const lostHere = firedHere - (this.runDeliveredByPid.get(Number(pid)) ?? 0);
            if (lostHere !== 0) byPid[pid] = lostHere;
          }
        }
      }
      const attributed = this.streamed.size > 0 && perProcess && Object.keys(byPid).length > 0;
      // A tool that streams no tracepoint in full counts in the kernel: what bpftrace lost were prints of
      // cumulative maps, made good by the next print. (Its own records it reconciles itself: reconcile().)
      const delivered = this.streamed.size > 0 ? this.runDelivered : 0;
      const unreported = fired - delivered - this.runLostReported;
      if (this.streamed.size > 0 && this.runFired.size === 0 && this.runDelivered > 0) {
        out.push({
          event: 'session:message',
          level: 'warning',
          message: 'bpftrace stopped without its final counts: losses after the last count are unknown',
        });
      } else if (unreported !== 0 || attributed) {
        this.lostReconciled += unreported;
        out.push({
          event: 'lost', elapsed_ns: this.lastElapsed, count: unreported, source: 'reconciled',
          ...(attributed ? { by_pid: byPid } : {}),
        });
      }
    }
    for (const [pid, counts] of this.runFired) {
      let earlier = this.earlierFired.get(pid);
      if (earlier === undefined) this.earlierFired.set(pid, (earlier = new Map()));
      for (const [tracepoint, count] of counts) earlier.set(tracepoint, (earlier.get(tracepoint) ?? 0) + count);
    }
    this.runFired = new Map();
    this.runSelected = new Map();
    this.runDelivered = 0;
    this.runDeliveredByPid = new Map();
    this.runLostReported = 0;
    this.runReconciled = true;
    this.runToolReconciled = null;
    return out;
  }

  /** Fired counts over the session: pid ('' when not per process) → tracepoint → n. */
  private cumulativeFiredByPid(): Map<string, Map<string, number>> {
    const all = new Map<string, Map<string, number>>();
    for (const source of [this.earlierFired, this.runFired]) {
      for (const [pid, counts] of source) {
        let sum = all.get(pid);
        if (sum === undefined) all.set(pid, (sum = new Map()));
        for (const [tracepoint, count] of counts) sum.set(tracepoint, (sum.get(tracepoint) ?? 0) + count);
      }
    }
    return all;
  }

  private cumulativeFired(): Map<string, number> {
    const all = new Map<string, number>();
    for (const counts of this.cumulativeFiredByPid().values()) {
      for (const [tracepoint, count] of counts) all.set(tracepoint, (all.get(tracepoint) ?? 0) + count);
    }
    return all;
  }

  private firedEvent(): NormalizedEvent {
    const byPid: Record<string, Record<string, number>> = {};
    let perProcess = false;
    for (const [pid, counts] of this.cumulativeFiredByPid()) {
      if (pid === '') continue;
      perProcess = true;
      byPid[pid] = Object.fromEntries(counts);
    }
    return {
      event: 'fired',
      elapsed_ns: this.lastElapsed,
      counts: Object.fromEntries(this.cumulativeFired()),
      ...(perProcess ? { by_pid: byPid } : {}),
    };
  }

  /**
   * Counts a string that reached the probe's limit. The first cut of each field is reported at once (into
   * `out`); later ones are summed and reported with the periodic fired counts and at the end.
   */
  private checkCut(field: string, value: string, out: NormalizedEvent[] | null, limit = this.stringLimit): void {
    if (value.length < limit / 4 || byteLength(value) < limit) return;
    if (out === null) {
      const key = `${field}\u0000${value}`;
      if (this.cutMapValues.has(key)) return;
      this.cutMapValues.add(key);
    }
    this.truncatedTotal++;
    if (out !== null && !this.cutFieldsReported.has(field)) {
      this.cutFieldsReported.add(field);
      out.push({ event: 'truncated', elapsed_ns: this.lastElapsed, field, count: 1 });
      return;
    }
    this.truncatedPending.set(field, (this.truncatedPending.get(field) ?? 0) + 1);
  }

  private readonly cutFieldsReported = new Set<string>();
  /** Map snapshots repeat values: each cut map key or value is counted once. */
  private readonly cutMapValues = new Set<string>();

  private truncationReport(): NormalizedEvent[] {
    const out: NormalizedEvent[] = [];
    for (const [field, count] of this.truncatedPending) {
      out.push({ event: 'truncated', elapsed_ns: this.lastElapsed, field, count });
    }
    this.truncatedPending.clear();
    return out;
  }

  // ------------------------------------------------------------------ aggregated maps (p2p-monitor; p2p-traffic with a filter)

  private totalsSnapshot(elapsedNs: number, onlyIfChanged = false): NormalizedEvent[] {
    if (!this.mapsChanged && (onlyIfChanged || this.maps.size === 0)) return [];
    if (this.maps.size === 0) return [];
    this.mapsChanged = false;
    const peers = new Map<string, PeerTotals>();
    const peer = (key: string): PeerTotals | null => {
      const [pid, idText] = splitPidKey(key);
      const id = parseDecimal(idText);
      if (id === null) return null;
      let p = peers.get(key);
      if (!p) {
        p = { ...(pid === '' ? {} : { pid: Number(pid) }), peer_id: id, peer_addr: '', conn_type: '', msgs_in: 0, bytes_in: 0, msgs_out: 0, bytes_out: 0 };
        peers.set(key, p);
      }
      return p;
    };
    for (const name of PEER_MAPS) {
      const field = name.slice(1) as 'msgs_in' | 'bytes_in' | 'msgs_out' | 'bytes_out';
      for (const [key, value] of this.maps.get(name)?.entries ?? []) {
        const p = peer(key);
        if (p && typeof value === 'number') p[field] = value;
      }
    }
    for (const name of STRING_MAPS) {
      const field = name.slice(1) as 'peer_addr' | 'conn_type';
      for (const [key, value] of this.maps.get(name)?.entries ?? []) {
        const p = peer(key);
        if (p && typeof value === 'string') {
          p[field] = value;
          this.checkCut(field, value, null);
        }
      }
    }
    const types = new Map<string, MessageTypeTotals>();
    for (const name of TYPE_MAPS) {
      const field = name.slice(6) as 'msgs_in' | 'bytes_in' | 'msgs_out' | 'bytes_out';
      for (const [key, value] of this.maps.get(name)?.entries ?? []) {
        if (typeof value !== 'number') continue;
        let t = types.get(key);
        if (!t) {
          const [pid, msgType] = splitPidKey(key);
          t = { ...(pid === '' ? {} : { pid: Number(pid) }), msg_type: msgType, msgs_in: 0, bytes_in: 0, msgs_out: 0, bytes_out: 0 };
          types.set(key, t);
          this.checkCut('msg_type', msgType, null);
        }
        t[field] = value;
      }
    }
    const byId = (a: PeerTotals, b: PeerTotals): number => (a.pid ?? 0) - (b.pid ?? 0) || compareInt64(a.peer_id, b.peer_id);
    const out: NormalizedEvent[] = [{ event: 'p2p:peer_totals', elapsed_ns: elapsedNs, peers: [...peers.values()].sort(byId) }];
    // p2p-traffic's kernel counts under a filter are per peer only.
    if (TYPE_MAPS.some((name) => this.maps.has(name))) out.push({ event: 'p2p:msg_type_totals', elapsed_ns: elapsedNs, types: [...types.values()] });
    return out;
  }

  // ------------------------------------------------------------------ helpers

  /**
   * Session time of a helper record's CLOCK_MONOTONIC stamp. bpftrace starts the clock of `elapsed` once its
   * probes are attached, when the helper stamps its `attached` record: before that, 0.
   */
  private helperElapsedNs(mono: JsonValue | undefined): number {
    if (!isInt(mono)) return this.lastElapsed;
    if (this.clockZeroNs === null) return 0;
    return Math.max(0, Number(BigInt(mono) - this.clockZeroNs));
  }

  /** CLOCK_MONOTONIC at session time 0 (from the helper's `attached` record), or null before it. */
  private clockZeroNs: bigint | null = null;
  /** CLOCK_MONOTONIC of the current run's attach (the helper's `attached` record), or null before it. */
  private runAttachMonoNs: bigint | null = null;
  /** The current run's own clock at its attach: a BCC program's (attached_probes' elapsed_ns); bpftrace's is 0. */
  private runClockAtAttachNs = 0;

  /**
   * The run attached at `runAttachMonoNs`, when its records read `runClockAtAttachNs`: session time
   * `runClockAtAttachNs + elapsedOffset` (0 for the first run). Its two records come on different connections, in
   * either order: called after each.
   */
  private setClockZero(): void {
    if (this.runAttachMonoNs === null) return;
    this.clockZeroNs = this.runAttachMonoNs - BigInt(this.runClockAtAttachNs + this.elapsedOffset);
  }

  private elapsedNs(value: Int64Field): number {
    const ns = (typeof value === 'number' ? value : Number(value)) + this.elapsedOffset;
    this.lastElapsed = ns;
    return ns;
  }

  private malformedLine(line: string | Uint8Array, why: string): NormalizedEvent {
    this.malformed++;
    const text = typeof line === 'string' ? line : Buffer.from(line).toString('utf8');
    const excerpt = text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
    return { event: 'session:message', level: 'warning', message: `ignored a malformed line (${why}): ${JSON.stringify(excerpt)}` };
  }
}

/**
 * Bytes to compare a line against, as little-endian 32-bit words and the bytes after the last whole word:
 * comparing four bytes at a time through a DataView is about four times faster than byte by byte.
 */
class ByteSequence {
  readonly bytes: Uint8Array;
  readonly words: Uint32Array;

  constructor(bytes: Uint8Array) {
    this.bytes = new Uint8Array(bytes);
    this.words = new Uint32Array(this.bytes.length >>> 2);
    const view = new DataView(this.bytes.buffer);
    for (let i = 0; i < this.words.length; i++) this.words[i] = view.getUint32(i * 4, true);
  }
}

const VALUE_PREFIX = new ByteSequence(Buffer.from('{"type": "value", "data": ["', 'latin1'));
const POWERS_OF_TEN = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
const INTERN_SLOTS = 1024;
const INTERN_MAX_LENGTH = 128;
const PEER_SLOTS = 256;

/** A peer's last address and connection type, and the bytes they were scanned from (`"addr","conn",`). */
interface LastPeerStrings {
  peerId: number;
  addr: string;
  connType: string;
  bytes: ByteSequence;
}

/**
 * Scans the fields of a message tuple. Strings come from a small direct-mapped table keyed by a hash of
 * their bytes, so the addresses, connection types and message types that repeat on every message are not
 * allocated again (and are the same string objects, which makes the aggregator's map lookups cheap).
 */
class MessageScanner {
  pos = 0;
  end = 0;
  private readonly interned: Array<string | undefined> = new Array<string | undefined>(INTERN_SLOTS).fill(undefined);

  comma(b: Buffer): boolean {
    if (b[this.pos] !== 0x2c) return false;
    this.pos++;
    return true;
  }

  /** An integer of at most 15 digits without a leading zero (always exact as a number), else null. */
  int(b: Buffer): number | null {
    const end = this.end;
    const negative = b[this.pos] === 0x2d;
    if (negative) this.pos++;
    const digitsStart = this.pos;
    // The first 9 digits in a small integer, the next 6 in another: no floating-point steps per digit.
    let value = this.digits(b, Math.min(end, digitsStart + 9));
    if (this.pos === digitsStart + 9 && this.pos < end) {
      const lowStart = this.pos;
      const low = this.digits(b, Math.min(end, digitsStart + 15));
      if (this.pos > lowStart) value = value * POWERS_OF_TEN[this.pos - lowStart] + low;
    }
    const p = this.pos;
    if (p === digitsStart || (b[digitsStart] === 0x30 && p - digitsStart > 1)) return null;
    if (p < end) {
      const next = b[p];
      if ((next >= 0x30 && next <= 0x39) || next === 0x2e || next === 0x65 || next === 0x45 || next === 0x2b || next === 0x2d) return null;
    }
    return negative ? -value : value;
  }

  /** The decimal digits from `pos` up to `limit` (exclusive) as a number; `pos` moves past them. */
  private digits(b: Buffer, limit: number): number {
    let p = this.pos;
    let value = 0;
    while (p < limit) {
      const digit = b[p] - 0x30;
      if (digit < 0 || digit > 9) break;
      value = value * 10 + digit;
      p++;
    }
    this.pos = p;
    return value;
  }

  /** Whether the next bytes are `expected`: then skips them. */
  skipBytes(b: Buffer, expected: ByteSequence): boolean {
    const start = this.pos;
    const bytes = expected.bytes;
    const length = bytes.length;
    if (start + length > this.end) return false;
    const view = this.viewOf(b);
    const words = expected.words;
    for (let i = 0; i < words.length; i++) if (view.getUint32(start + i * 4, true) !== words[i]) return false;
    for (let i = words.length * 4; i < length; i++) if (b[start + i] !== bytes[i]) return false;
    this.pos = start + length;
    return true;
  }

  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private viewBytes: Buffer | null = null;

  /** A DataView of `b` (whose offsets are b's), kept while the same buffer is scanned. */
  private viewOf(b: Buffer): DataView<ArrayBufferLike> {
    if (this.viewBytes !== b) {
      this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      this.viewBytes = b;
    }
    return this.view;
  }

  /** A string of printable ASCII without escapes, else null. */
  string(b: Buffer): string | null {
    let p = this.pos;
    const end = this.end;
    if (p >= end || b[p] !== 0x22) return null;
    const start = ++p;
    let hash = 0;
    for (;;) {
      if (p >= end) return null;
      const c = b[p];
      if (c === 0x22) break;
      if (c === 0x5c || c < 0x20 || c >= 0x7f) return null;
      hash = (Math.imul(hash, 31) + c) | 0;
      p++;
    }
    this.pos = p + 1;
    const length = p - start;
    if (length > INTERN_MAX_LENGTH) return b.toString('latin1', start, p);
    const slot = (hash ^ (hash >>> 10) ^ length) & (INTERN_SLOTS - 1);
    const known = this.interned[slot];
    if (known !== undefined && known.length === length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (known.charCodeAt(i) !== b[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return known;
    }
    const text = b.toString('latin1', start, p);
    this.interned[slot] = text;
    return text;
  }
}

function isBlank(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a) return false;
  return true;
}

function isInt(v: JsonValue | undefined): v is Int64Field {
  return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v));
}

/** A map key bpftrace printed for `[pid, rest]` ("4242,net:inbound_message") as [pid, rest]; ['', key] without a pid. */
function splitPidKey(key: string): [string, string] {
  const comma = key.indexOf(',');
  if (comma > 0 && /^\d{1,10}$/.test(key.slice(0, comma))) return [key.slice(0, comma), key.slice(comma + 1)];
  return ['', key];
}

function parseDecimal(key: string): Int64Field | null {
  if (!/^-?\d{1,20}$/.test(key)) return null;
  const n = Number(key);
  return Number.isSafeInteger(n) ? n : BigInt(key).toString();
}

function compareInt64(a: Int64Field, b: Int64Field): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
