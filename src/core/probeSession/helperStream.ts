// The helper's connections merged into the one newline-delimited record stream the decoder reads.
//
// The helper connects twice or more (as the user, to the same private socket):
// - first the control connection: the helper's own records (`target`, `started`, `attached`, `stderr`,
//   `bpftrace_exit`, `reattached`, `exit`, `error`);
// - then, for each run of the probe, a data connection whose first line is
//   {"type": "helper", "data": {"event": "data_channel", "run": K}} and whose rest is the probe's stdout,
//   unchanged: the helper hands that socket to bpftrace (or the BCC program) as its stdout and never reads it.
//
// The merged stream keeps the order the decoder's accounts need:
// - the data of run K comes after the control record `started` of run K;
// - a control record never splits a data line: it waits until the data passed on so far ends with a newline;
// - `bpftrace_exit` of run K, and every control record after it, comes after the last byte of run K's data: it
//   waits for the data connection's end. The helper sends it only after bpftrace and its whole process group are
//   gone, so nothing can be written to that connection afterwards: its end means the run's data is complete;
// - a data connection that ends inside a line gets a newline (the cut line is then one malformed line);
// - the stream ends when the control connection and every data connection have ended.

import type { Socket } from 'node:net';
import { Readable } from 'node:stream';

const NEWLINE = 0x0a;
const NEWLINE_BUFFER = Buffer.from('\n');
/** The data connection's first line is short; anything longer is not the helper's. */
const MAX_HELLO_BYTES = 256;
/** A control record longer than this (the helper's are short) ends the session. */
const MAX_CONTROL_LINE_BYTES = 8 * 1024 * 1024;

interface ControlLine {
  line: Buffer;
  event: string | null;
  run: number | null;
}

interface DataChannel {
  socket: Socket;
  /** Chunks that arrived before the run's `started` record was passed on. */
  waiting: Buffer[];
  ended: boolean;
}

export class HelperStream extends Readable {
  private readonly sockets = new Set<Socket>();
  private controlPartial: Buffer[] = [];
  private controlPartialBytes = 0;
  private controlEnded = false;
  private readonly queue: ControlLine[] = [];
  private readonly runs = new Map<number, DataChannel>();
  private readonly seenRuns = new Set<number>();
  private currentRun: number | null = null;
  /** The last data byte passed on is not a newline: a control record must wait. */
  private midLine = false;
  private pausedForBackpressure = false;
  private finished = false;

  constructor(private readonly control: Socket) {
    super();
    this.track(control);
    control.on('data', (chunk: Buffer) => this.onControl(chunk));
    control.once('end', () => this.onControlEnd());
    control.once('close', () => this.onControlEnd());
    control.once('error', (err) => this.destroy(err));
  }

  /** A later connection to the private socket: a data connection, or destroyed when it does not say so first. */
  addConnection(socket: Socket): void {
    if (this.finished || this.destroyed) {
      socket.destroy();
      return;
    }
    this.track(socket);
    let hello: Buffer = Buffer.alloc(0);
    let channel: DataChannel | null = null;
    let run = -1;
    socket.on('data', (chunk: Buffer) => {
      if (channel) {
        this.onData(run, channel, chunk);
        return;
      }
      hello = hello.length === 0 ? chunk : Buffer.concat([hello, chunk]);
      const nl = hello.indexOf(NEWLINE);
      if (nl < 0) {
        if (hello.length > MAX_HELLO_BYTES) socket.destroy();
        return;
      }
      const claimed = dataChannelRun(hello.subarray(0, nl));
      if (claimed === null || this.seenRuns.has(claimed)) {
        socket.destroy();
        return;
      }
      run = claimed;
      this.seenRuns.add(run);
      channel = { socket, waiting: [], ended: false };
      this.runs.set(run, channel);
      const rest = hello.subarray(nl + 1);
      hello = Buffer.alloc(0);
      if (rest.length > 0) this.onData(run, channel, rest);
    });
    const ended = (): void => {
      if (channel && !channel.ended) this.onDataEnd(run, channel);
      this.maybeEnd();
    };
    socket.once('end', ended);
    socket.once('close', ended);
    socket.once('error', () => socket.destroy());
  }

  /**
   * Asks the helper to stop this session: shuts the writing side of the control connection. The helper stops
   * the probe and still delivers its final records, which this stream passes on to its end.
   */
  end(): void {
    if (!this.control.destroyed) this.control.end();
  }

  override _read(): void {
    if (!this.pausedForBackpressure) return;
    this.pausedForBackpressure = false;
    for (const socket of this.sockets) socket.resume();
    this.pump();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    callback(error);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private out(chunk: Buffer): void {
    if (this.finished || this.destroyed) return;
    if (!this.push(chunk) && !this.pausedForBackpressure) {
      this.pausedForBackpressure = true;
      for (const socket of this.sockets) socket.pause();
    }
  }

  // ------------------------------------------------------------------ control

  private onControl(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) {
        if (start < chunk.length) {
          this.controlPartial.push(Buffer.from(chunk.subarray(start)));
          this.controlPartialBytes += chunk.length - start;
          if (this.controlPartialBytes > MAX_CONTROL_LINE_BYTES) this.destroy(new Error('the helper sent a control record without an end'));
        }
        break;
      }
      const piece = chunk.subarray(start, nl + 1);
      const line = this.controlPartialBytes > 0 ? Buffer.concat([...this.controlPartial, piece]) : Buffer.from(piece);
      this.controlPartial = [];
      this.controlPartialBytes = 0;
      this.queue.push(classify(line));
      start = nl + 1;
    }
    this.pump();
  }

  private onControlEnd(): void {
    if (this.controlEnded) return;
    this.controlEnded = true;
    if (this.controlPartialBytes > 0) {
      this.queue.push(classify(Buffer.concat([...this.controlPartial, NEWLINE_BUFFER])));
      this.controlPartial = [];
      this.controlPartialBytes = 0;
    }
    this.pump();
  }

  /** Passes on the queued control records that may go now (see the order at the top). */
  private pump(): void {
    while (this.queue.length > 0 && !this.midLine && !this.pausedForBackpressure) {
      const next = this.queue[0];
      if (next.event === 'bpftrace_exit' && next.run !== null) {
        const channel = this.runs.get(next.run);
        if (!channel || !channel.ended) return;
        this.runs.delete(next.run);
        if (this.currentRun === next.run) this.currentRun = null;
      }
      this.queue.shift();
      this.out(next.line);
      if (next.event === 'started' && next.run !== null) {
        this.currentRun = next.run;
        const channel = this.runs.get(next.run);
        if (channel) this.release(channel);
      }
    }
    this.maybeEnd();
  }

  // ------------------------------------------------------------------ data

  private onData(run: number, channel: DataChannel, chunk: Buffer): void {
    if (this.currentRun !== run) {
      channel.waiting.push(chunk);
      channel.socket.pause();
      return;
    }
    this.passData(chunk);
  }

  private passData(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.out(chunk);
    const wasMidLine = this.midLine;
    this.midLine = chunk[chunk.length - 1] !== NEWLINE;
    if (wasMidLine && !this.midLine) this.pump();
  }

  private onDataEnd(run: number, channel: DataChannel): void {
    channel.ended = true;
    if (this.currentRun === run) this.closeRunData();
    this.pump();
  }

  /** The run's `started` record went out: its waiting data follows. */
  private release(channel: DataChannel): void {
    for (const chunk of channel.waiting.splice(0)) this.passData(chunk);
    if (channel.ended) this.closeRunData();
    else if (!this.pausedForBackpressure) channel.socket.resume();
  }

  private closeRunData(): void {
    if (this.midLine) {
      this.midLine = false;
      this.out(NEWLINE_BUFFER);
    }
  }

  private maybeEnd(): void {
    if (this.finished || !this.controlEnded || this.queue.length > 0) return;
    for (const channel of this.runs.values()) if (!channel.ended) return;
    // Data of runs whose `started` never came (a helper that died in between): pass it on rather than drop it.
    for (const [run, channel] of this.runs) {
      this.runs.delete(run);
      this.currentRun = run;
      this.release(channel);
    }
    this.closeRunData();
    this.finished = true;
    this.push(null);
  }
}

function classify(line: Buffer): ControlLine {
  try {
    const record: unknown = JSON.parse(line.toString('utf8'));
    if (isObject(record) && record.type === 'helper' && isObject(record.data)) {
      const { event, run } = record.data;
      return { line, event: typeof event === 'string' ? event : null, run: typeof run === 'number' && Number.isSafeInteger(run) ? run : null };
    }
  } catch {
    // not JSON: the decoder reports it as a malformed line
  }
  return { line, event: null, run: null };
}

function dataChannelRun(line: Buffer): number | null {
  const { event, run } = classify(line);
  return event === 'data_channel' && run !== null && run > 0 ? run : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
