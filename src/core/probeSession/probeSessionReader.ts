// Reads the helper's newline-delimited records from the socket, decodes them and hands out batches of
// normalized events (a few per second), with live counters.

import type { Readable } from 'node:stream';
import { BpftraceDecoder } from '../events/bpftraceDecoder';
import type { NormalizedEvent } from '../events/eventTypes';
import { RAW_MAX_LINE_BYTES } from '../events/bccDecoder';
import { FiringOrder } from '../events/firingOrder';

export interface ProbeSessionCounters {
  /** Message/tracepoint events delivered so far. */
  delivered: number;
  /** Lost so far (reported by bpftrace plus reconciled). */
  lost: number;
  /** Events per second over the last completed second. */
  eventsPerSecond: number;
  malformedLines: number;
  bytesRead: number;
}

export interface ProbeSessionReaderOptions {
  decoder?: BpftraceDecoder;
  onBatch: (events: NormalizedEvent[], counters: ProbeSessionCounters) => void;
  batchIntervalMs?: number;
  maxBatchEvents?: number;
  maxLineBytes?: number;
}

const NEWLINE = 0x0a;

export class ProbeSessionReader {
  readonly decoder: BpftraceDecoder;
  private readonly onBatch: ProbeSessionReaderOptions['onBatch'];
  private readonly batchIntervalMs: number;
  private readonly maxBatchEvents: number;
  private readonly maxLineBytes: number;
  private pending: NormalizedEvent[] = [];
  /** The decoder's events of the line being read, before they pass through `order` into `pending`. */
  private decoded: NormalizedEvent[] = [];
  private readonly order: FiringOrder;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private discardingLongLine = false;
  private timer: NodeJS.Timeout | null = null;
  private bytesRead = 0;
  private oversizedLines = 0;
  private rateWindowStart = Date.now();
  private rateWindowCount = 0;
  private lastRate = 0;
  private finished = false;
  private resolveDone: () => void = () => undefined;
  /** Resolves when the stream ended and the last batch was handed out. */
  readonly done: Promise<void>;

  constructor(options: ProbeSessionReaderOptions) {
    this.decoder = options.decoder ?? new BpftraceDecoder();
    this.order = new FiringOrder();
    this.onBatch = options.onBatch;
    this.batchIntervalMs = options.batchIntervalMs ?? 200;
    this.maxBatchEvents = options.maxBatchEvents ?? 1000;
    // raw-p2p-msgs sends whole messages (up to 4,000,000 bytes) as hex on one line
    this.maxLineBytes = options.maxLineBytes ?? RAW_MAX_LINE_BYTES;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Reads until the stream ends or errors. */
  attach(stream: Readable): void {
    // One chunk per event-loop turn: a flood from the probe must not stall the extension host
    // (the socket's backpressure then slows the helper, and the kernel counts what it drops).
    stream.on('data', (chunk: Buffer) => {
      this.push(chunk);
      stream.pause();
      setImmediate(() => stream.resume());
    });
    stream.once('end', () => this.end());
    stream.once('close', () => this.end());
    stream.once('error', (err: Error) => {
      this.add([{ event: 'session:message', level: 'error', message: `probe socket error: ${err.message}` }]);
      this.end();
    });
  }

  get counters(): ProbeSessionCounters {
    const stats = this.decoder.stats;
    const now = Date.now();
    if (now - this.rateWindowStart >= 1000) {
      this.lastRate = Math.round((this.rateWindowCount * 1000) / (now - this.rateWindowStart));
      this.rateWindowStart = now;
      this.rateWindowCount = 0;
    }
    return {
      delivered: stats.delivered,
      lost: stats.lostReported + stats.lostReconciled,
      eventsPerSecond: this.lastRate,
      malformedLines: stats.malformedLines + this.oversizedLines,
      bytesRead: this.bytesRead,
    };
  }

  push(chunk: Buffer): void {
    if (this.finished) return;
    this.bytesRead += chunk.length;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) {
        this.keepPartial(chunk.subarray(start));
        break;
      }
      const lineStart = start;
      start = nl + 1;
      if (this.discardingLongLine) {
        this.discardingLongLine = false;
        continue;
      }
      const length = nl - lineStart;
      if (this.partialBytes > 0) {
        if (this.partialBytes + length > this.maxLineBytes) {
          this.dropLongLine();
          continue;
        }
        const line = Buffer.concat([...this.partial, chunk.subarray(lineStart, nl)]);
        this.partial = [];
        this.partialBytes = 0;
        this.add(this.decoder.decodeLine(line));
      } else if (length > this.maxLineBytes) {
        this.dropLongLine();
      } else {
        if (this.decoder.decodeRangeInto(chunk, lineStart, nl, this.decoded) > 0) {
          this.add(this.decoded);
          this.decoded.length = 0;
        }
      }
    }
  }

  /** Ends the session: settles the decoder's accounts and hands out the last batch. */
  end(): void {
    if (this.finished) return;
    if (this.partialBytes > 0 && !this.discardingLongLine) this.add(this.decoder.decodeLine(Buffer.concat(this.partial)));
    this.partial = [];
    this.partialBytes = 0;
    this.add(this.decoder.finish('the helper closed the connection'));
    this.order.releaseAll(this.pending);
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.handOut();
    this.resolveDone();
  }

  /** A tick: hands out the events decoded so far, except streamed ones that arrived since the last tick. */
  flush(): void {
    const before = this.pending.length;
    this.order.tick(this.pending);
    this.rateWindowCount += this.pending.length - before;
    this.handOut();
  }

  /** Hands out every event decoded so far, the held ones too (for a caller that looks at all of them now). */
  drain(): void {
    this.order.releaseAll(this.pending);
    this.handOut();
  }

  private handOut(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.onBatch(batch, this.counters);
  }

  private keepPartial(rest: Buffer): void {
    if (rest.length === 0 || this.discardingLongLine) return;
    if (this.partialBytes + rest.length > this.maxLineBytes) {
      this.partial = [];
      this.partialBytes = 0;
      this.discardingLongLine = true;
      this.countOversized();
      return;
    }
    this.partial.push(Buffer.from(rest));
    this.partialBytes += rest.length;
  }

  private dropLongLine(): void {
    this.partial = [];
    this.partialBytes = 0;
    this.countOversized();
  }

  private countOversized(): void {
    this.oversizedLines++;
    this.add([{ event: 'session:message', level: 'warning', message: `ignored a line longer than ${this.maxLineBytes} bytes` }]);
  }

  private add(events: NormalizedEvent[]): void {
    if (events.length === 0) return;
    const before = this.pending.length;
    for (const e of events) this.order.push(e, this.pending);
    this.rateWindowCount += this.pending.length - before;
    if (this.pending.length >= this.maxBatchEvents) this.handOut();
    else if (!this.timer && !this.finished && (this.pending.length > 0 || this.order.holding > 0)) this.armTimer();
  }

  private armTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
      if (this.order.holding > 0 && !this.finished) this.armTimer();
    }, this.batchIntervalMs);
  }
}
