import type { ElfByteSource } from '../../../src/core/elf/elfByteSource';

/** An `ElfByteSource` that counts the reads and the bytes the ELF reader asks of the source it wraps. */
export class CountingByteSource implements ElfByteSource {
  bytesRead = 0;
  reads = 0;
  constructor(private readonly inner: ElfByteSource) {}
  get size(): number {
    return this.inner.size;
  }
  async read(offset: number, length: number): Promise<Buffer> {
    const bytes = await this.inner.read(offset, length);
    this.bytesRead += bytes.length;
    this.reads++;
    return bytes;
  }
}
