import { matchCatalog, readBitcoindNotes, type CatalogMatch } from '../../core/catalog/catalogMatch';
import { isElfReadError, type ElfErrorCode } from '../../core/elf/elfErrors';
import type { StapsdtReport } from '../../core/elf/stapsdtNotes';
import type { DiscoveredBinary } from '../binaries/binaryRegistry';

/** What reading one binary gave: its notes matched against the catalog, or why it could not be read. */
export type BinaryInspection =
  | { readonly kind: 'read'; readonly report: StapsdtReport; readonly match: CatalogMatch }
  | { readonly kind: 'failed'; readonly code: ElfErrorCode | 'UNEXPECTED'; readonly message: string };

/** Never rejects: a failure is a value the tree shows as a node. */
export async function inspectBinary(binary: DiscoveredBinary): Promise<BinaryInspection> {
  try {
    const report = await readBitcoindNotes(binary.path);
    return { kind: 'read', report, match: matchCatalog(report) };
  } catch (error) {
    if (isElfReadError(error)) return { kind: 'failed', code: error.code, message: error.message };
    const detail = error instanceof Error ? error.message : String(error);
    return { kind: 'failed', code: 'UNEXPECTED', message: `Could not read the tracepoints of ${binary.path}: ${detail}` };
  }
}
