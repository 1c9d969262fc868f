// NDJSON recordings: a RecordingHeader line, then one NormalizedEvent per line (docs/events.md).

import { constants as fsConstants, createReadStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { validateEvent } from './eventValidator';
import { RECORDING_FORMAT, RECORDING_VERSION, type NormalizedEvent, type RecordingHeader } from './eventTypes';

export class RecordingError extends Error {}

/**
 * Longest line a reader keeps (a p2p:peer_totals of thousands of peers is a few MB). A longer line is
 * reported as malformed and skipped without being held in memory, so a hostile or broken file (one endless
 * line, /dev/zero) cannot exhaust the extension host's memory.
 */
export const MAX_RECORDING_LINE_BYTES = 16 * 1024 * 1024;

export interface RecordingWriterOptions {
  /** Flush buffered lines at least this often (ms). */
  flushIntervalMs?: number;
  /** Flush when this many bytes are buffered. */
  flushBytes?: number;
  /**
   * Most bytes waiting for the disk (buffered or being written). Beyond it, events are not recorded but
   * counted, and a `lost` event with `source: "recording"` records how many once the disk has caught up:
   * a disk slower than the stream must not fill the extension host's memory.
   */
  maxQueuedBytes?: number;
}

/** Appends events to a recording file; buffers and flushes periodically. */
export class RecordingWriter {
  private buffer: string[] = [];
  private bufferedBytes = 0;
  /** Bytes handed to the disk and not written yet. */
  private writingBytes = 0;
  /** Events not recorded since the last `lost` line; and in all. */
  private droppedSinceNote = 0;
  private droppedTotal = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private failure: RecordingError | null = null;
  private eventsWritten = 0;

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    private readonly options: Required<RecordingWriterOptions>,
  ) {}

  /** Creates (or truncates) `path` and writes the header line. */
  static async create(path: string, header: Omit<RecordingHeader, 'format' | 'version'>, options: RecordingWriterOptions = {}): Promise<RecordingWriter> {
    let handle: FileHandle;
    try {
      const { O_WRONLY, O_CREAT, O_TRUNC, O_APPEND } = fsConstants;
      handle = await fs.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644);
    } catch (err) {
      throw new RecordingError(`cannot create recording ${path}: ${(err as Error).message}`);
    }
    const writer = new RecordingWriter(handle, path, {
      flushIntervalMs: options.flushIntervalMs ?? 500,
      flushBytes: options.flushBytes ?? 256 * 1024,
      maxQueuedBytes: options.maxQueuedBytes ?? 64 * 1024 * 1024,
    });
    const full: RecordingHeader = { format: RECORDING_FORMAT, version: RECORDING_VERSION, ...header };
    writer.pushLine(JSON.stringify(full));
    await writer.flush();
    return writer;
  }

  get count(): number {
    return this.eventsWritten;
  }

  /** Events not recorded because the disk fell behind (each counted in a `lost` line of the file). */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** The first write error, if any: after it, writes are dropped and `close` rejects with it. */
  get error(): RecordingError | null {
    return this.failure;
  }

  write(events: Iterable<NormalizedEvent>): void {
    if (this.failure) return;
    const limit = this.options.maxQueuedBytes;
    for (const event of events) {
      if (this.droppedSinceNote > 0 && this.bufferedBytes + this.writingBytes <= limit / 2) this.noteDropped();
      if (this.droppedSinceNote > 0 || this.bufferedBytes + this.writingBytes >= limit) {
        this.droppedSinceNote++;
        this.droppedTotal++;
        continue;
      }
      this.pushLine(JSON.stringify(event));
      this.eventsWritten++;
    }
    if (this.bufferedBytes >= this.options.flushBytes) void this.flush();
    else if (!this.timer && this.buffer.length > 0) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushIntervalMs);
      this.timer.unref?.();
    }
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.buffer.length === 0 || this.failure) return this.writing;
    const chunk = this.buffer.join('');
    const bytes = this.bufferedBytes;
    this.buffer = [];
    this.bufferedBytes = 0;
    this.writingBytes += bytes;
    this.writing = this.writing.then(async () => {
      try {
        if (!this.failure) await this.handle.write(chunk);
      } catch (err) {
        this.failure = new RecordingError(`recording to ${this.path} stopped: ${(err as Error).message}`);
      } finally {
        this.writingBytes -= bytes;
      }
    });
    return this.writing;
  }

  async close(): Promise<void> {
    if (this.droppedSinceNote > 0 && !this.failure) {
      await this.flush();
      this.noteDropped();
    }
    await this.flush();
    await this.handle.close().catch(() => undefined);
    if (this.failure) throw this.failure;
  }

  private noteDropped(): void {
    const note: NormalizedEvent = { event: 'lost', count: this.droppedSinceNote, source: 'recording' };
    this.pushLine(JSON.stringify(note));
    this.droppedSinceNote = 0;
  }

  private pushLine(line: string): void {
    this.buffer.push(line, '\n');
    this.bufferedBytes += line.length + 1;
  }
}

export interface MalformedRecordingLine {
  line: number;
  reason: string;
}

export interface RecordingContents {
  header: RecordingHeader;
  events: NormalizedEvent[];
  malformed: MalformedRecordingLine[];
}

/**
 * Streams a recording: validates the header, then calls `onEvent` for each event. Malformed lines are
 * counted (with their line numbers) and skipped. Throws RecordingError for a missing or foreign header or
 * an unsupported version.
 */
export async function readRecording(
  path: string,
  onEvent: (event: NormalizedEvent, lineNumber: number) => void,
  onHeader?: (header: RecordingHeader) => void,
): Promise<{ header: RecordingHeader; events: number; malformed: MalformedRecordingLine[] }> {
  // Only regular files: a FIFO or a device (a setting could name /dev/zero) would block or never end.
  const fileStat = await fs.stat(path).catch((err: Error) => {
    throw new RecordingError(`cannot read recording ${path}: ${err.message}`);
  });
  if (!fileStat.isFile()) throw new RecordingError(`cannot read recording ${path}: not a regular file`);
  const stream = createReadStream(path);
  let header: RecordingHeader | null = null;
  let lineNumber = 0;
  let events = 0;
  const malformed: MalformedRecordingLine[] = [];
  const onLine = (line: string): void => {
    lineNumber++;
    if (header === null) {
      header = parseHeader(line, path);
      onHeader?.(header);
      return;
    }
    if (line.trim() === '') return;
    const reason = checkEventLine(line);
    if (typeof reason === 'string') {
      malformed.push({ line: lineNumber, reason });
      return;
    }
    events++;
    onEvent(reason, lineNumber);
  };
  const tooLong = (): void => {
    lineNumber++;
    if (header === null) throw new RecordingError(`${path} is not a recording: the first line is longer than ${MAX_RECORDING_LINE_BYTES} bytes`);
    malformed.push({ line: lineNumber, reason: `longer than ${MAX_RECORDING_LINE_BYTES} bytes, skipped` });
  };
  let partial: Buffer[] = [];
  let partialBytes = 0;
  let skipping = false;
  const finishLine = (last: Buffer): void => {
    if (skipping) {
      skipping = false;
      return;
    }
    const bytes = partialBytes > 0 ? Buffer.concat([...partial, last]) : last;
    partial = [];
    partialBytes = 0;
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
    onLine(bytes.toString('utf8', 0, end));
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
        const piece = chunk.subarray(start, nl);
        start = nl + 1;
        if (!skipping && partialBytes + piece.length > MAX_RECORDING_LINE_BYTES) {
          partial = [];
          partialBytes = 0;
          tooLong();
          continue;
        }
        finishLine(piece);
      }
      const rest = chunk.subarray(start);
      if (rest.length === 0 || skipping) continue;
      if (partialBytes + rest.length > MAX_RECORDING_LINE_BYTES) {
        partial = [];
        partialBytes = 0;
        skipping = true;
        tooLong();
        continue;
      }
      partial.push(Buffer.from(rest));
      partialBytes += rest.length;
    }
    if (partialBytes > 0 && !skipping) finishLine(Buffer.alloc(0));
  } catch (err) {
    if (err instanceof RecordingError) throw err;
    throw new RecordingError(`cannot read recording ${path}: ${(err as Error).message}`);
  } finally {
    stream.destroy();
  }
  if (header === null) throw new RecordingError(`${path} is empty: not a recording`);
  return { header, events, malformed };
}

/** Reads a whole recording into memory (for small files and tests). */
export async function loadRecording(path: string): Promise<RecordingContents> {
  const events: NormalizedEvent[] = [];
  const result = await readRecording(path, (event) => events.push(event));
  return { header: result.header, events, malformed: result.malformed };
}

function parseHeader(line: string, path: string): RecordingHeader {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new RecordingError(`${path} is not a recording: the first line is not JSON`);
  }
  if (!isObject(value) || value.format !== RECORDING_FORMAT) {
    throw new RecordingError(`${path} is not a recording: the first line lacks "format": "${RECORDING_FORMAT}"`);
  }
  if (typeof value.version !== 'number' || value.version !== RECORDING_VERSION) {
    throw new RecordingError(
      `${path} is a recording of format version ${String(value.version)}; this version reads version ${RECORDING_VERSION}`,
    );
  }
  return {
    format: RECORDING_FORMAT,
    version: value.version,
    tool: typeof value.tool === 'string' ? value.tool : 'unknown',
    started_at: typeof value.started_at === 'string' ? value.started_at : '',
    binary: typeof value.binary === 'string' ? value.binary : null,
    pid: typeof value.pid === 'number' ? value.pid : null,
    producer: typeof value.producer === 'string' ? value.producer : '',
  };
}

function checkEventLine(line: string): NormalizedEvent | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not JSON (the line may have been cut)';
  }
  if (!isObject(value) || typeof value.event !== 'string') return 'not an event (no "event" field)';
  return validateEvent(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
