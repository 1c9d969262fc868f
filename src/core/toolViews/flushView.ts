// utxocache-flush: every flush of the UTXO cache (bounded ring of the newest), counts by mode.

import { MAX_SENT_ROWS, type FlushRow, type FlushView, type ToolFilter } from '../../shared/toolPanelProtocol';
import { FLUSH_MODE_NAMES } from '../catalog/tracepointCatalog';
import type { UtxoCacheFlushEvent } from '../events/bpftraceToolEventTypes';
import { boolField, numberField, stringField, type ToolEventLike } from './eventFields';
import { BoundedRing } from './secondBuckets';
import { filterNeedle, ToolViewBase, type ToolViewOptions } from './toolViewBase';

/** The decoder's name for the mode (it follows the build's version); else the current name. */
export function flushModeName(mode: number, given: string | null): string {
  if (given !== null && given !== '') return given;
  return (FLUSH_MODE_NAMES as readonly string[])[mode] ?? `UNKNOWN(${mode})`;
}

export class FlushAggregator extends ToolViewBase {
  readonly tool = 'utxocache-flush' as const;
  private readonly flushes: BoundedRing<FlushRow>;
  private readonly byMode = new Map<string, number>();
  private count = 0;
  private totalDurationUs = 0;
  private maxDurationUs = 0;

  constructor(options: ToolViewOptions & { maxFlushes?: number } = {}) {
    super(options);
    this.flushes = new BoundedRing<FlushRow>(options.maxFlushes ?? 10_000);
  }

  protected ingestToolEvent(event: ToolEventLike, f: Readonly<Record<string, unknown>>, elapsedNs: number): 'accepted' | 'ignored' | 'other' {
    if (event.event !== 'utxocache:flush') return 'other';
    const durationUs = numberField(f.duration_us);
    const coinsCount = numberField(f.coins_count);
    const memBytes = numberField(f.coins_mem_usage);
    const mode = numberField(f.mode);
    if (durationUs === null || coinsCount === null || memBytes === null || mode === null) return 'ignored';
    const modeName = flushModeName(mode, stringField(f.mode_name));
    this.count++;
    this.totalDurationUs += durationUs;
    this.maxDurationUs = Math.max(this.maxDurationUs, durationUs);
    if (this.byMode.has(modeName) || this.byMode.size < 32) this.byMode.set(modeName, (this.byMode.get(modeName) ?? 0) + 1);
    // Decoded events were checked against the schema (decoder, recording reader): every field goes to the page.
    this.flushes.push({ ...(event as UtxoCacheFlushEvent), mode_name: modeName, is_flush_for_prune: boolField(f.is_flush_for_prune) === true, seq: this.count, elapsedNs });
    return 'accepted';
  }

  protected buildView(filter: ToolFilter): FlushView {
    const needle = filterNeedle(filter);
    const kind = filter.kind;
    const { items, matching } = this.flushes.newestMatching(MAX_SENT_ROWS, (row) => {
      if (kind === 'prune' && !row.is_flush_for_prune) return false;
      if (kind !== '' && kind !== 'prune' && row.mode_name !== kind) return false;
      return needle === '' || row.mode_name.toLowerCase().includes(needle);
    });
    return {
      tool: 'utxocache-flush',
      rows: items,
      matchingRows: matching,
      totalFlushes: this.count,
      forgottenFlushes: this.flushes.droppedCount,
      byMode: [...this.byMode].map(([name, count]) => ({ name, count })),
      totalDurationUs: this.totalDurationUs,
      maxDurationUs: this.maxDurationUs,
    };
  }
}
