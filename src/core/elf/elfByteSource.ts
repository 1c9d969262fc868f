import { constants as fsConstants, promises as fsPromises } from 'node:fs';
import { ElfReadError } from './elfErrors';

/**
 * Random access to the bytes of a file. `read` returns at most `length` bytes starting at `offset`;
 * fewer only when the end of the source is reached.
 */
export interface ElfByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

export class BufferByteSource implements ElfByteSource {
  constructor(private readonly bytes: Buffer) {}

  get size(): number {
    return this.bytes.length;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const start = Math.min(Math.max(0, offset), this.bytes.length);
    const end = Math.min(start + Math.max(0, length), this.bytes.length);
    return Buffer.from(this.bytes.subarray(start, end));
  }
}

export class FileByteSource implements ElfByteSource {
  private constructor(
    private readonly handle: fsPromises.FileHandle,
    readonly size: number,
    private readonly path: string,
  ) {}

  /** Opens a regular file for reading; every failure is an ElfReadError with a code that says why. */
  static async open(path: string): Promise<FileByteSource> {
    // stat before open: opening a FIFO or a device could block or have side effects.
    const pathStat = await fsPromises.stat(path).catch((error: unknown) => {
      throw elfErrorFromFileSystemError(path, error);
    });
    if (!pathStat.isFile()) throw notARegularFile(path, pathStat.isDirectory());
    let handle: fsPromises.FileHandle;
    try {
      handle = await fsPromises.open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    } catch (error) {
      throw elfErrorFromFileSystemError(path, error);
    }
    try {
      const handleStat = await handle.stat();
      if (!handleStat.isFile()) throw notARegularFile(path, handleStat.isDirectory());
      return new FileByteSource(handle, handleStat.size, path);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error instanceof ElfReadError ? error : elfErrorFromFileSystemError(path, error);
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const start = Math.min(Math.max(0, offset), this.size);
    const wanted = Math.min(Math.max(0, length), this.size - start);
    const buffer = Buffer.alloc(wanted);
    let filled = 0;
    try {
      while (filled < wanted) {
        const { bytesRead } = await this.handle.read(buffer, filled, wanted - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
    } catch (error) {
      throw elfErrorFromFileSystemError(this.path, error);
    }
    return filled === wanted ? buffer : buffer.subarray(0, filled);
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

function notARegularFile(path: string, isDirectory: boolean): ElfReadError {
  return new ElfReadError(
    'NOT_A_FILE',
    path,
    isDirectory
      ? `${path} is a directory, not an executable: pick the bitcoind binary inside it`
      : `${path} is not a regular file (device, socket or pipe): pick the bitcoind binary itself`,
  );
}

export function elfErrorFromFileSystemError(path: string, error: unknown): ElfReadError {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const detail = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new ElfReadError('NOT_FOUND', path, `${path} does not exist: check the path`, { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new ElfReadError(
        'PERMISSION',
        path,
        `cannot read ${path}: permission denied (check the file's read permission and its folders')`,
        { cause: error },
      );
    case 'EISDIR':
      return notARegularFile(path, true);
    default:
      return new ElfReadError('IO', path, `cannot read ${path}: ${detail.split('\n')[0]}`, { cause: error });
  }
}
