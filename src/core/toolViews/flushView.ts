// utxocache-flush: every flush of the UTXO cache (bounded ring of the newest), counts by mode.

import { MAX_SENT_ROWS, type FlushRow, type FlushView, type ToolFilter } from '../../shared/toolPanelProtocol';
import { FLUSH_MODE_NAMES } from '../catalog/tracepointCatalog';
import { boolField, numberField, stringField, pidOf, type ToolEventLike } from './eventFields';
import { BoundedRing } from './secondBuckets';
import { filterNeedle, ToolViewBase, type ToolViewOptions } from './toolViewBase';

/** The decoder's name for the mode (it follows the build's version); else the current name. */
export function flushModeName(mode: number | null, given: string | null): string {
  if (given !== null && given !== '') return given;
  if (mode === null) return 'unknown';
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
    if (durationUs === null || coinsCount === null || memBytes === null) return 'ignored';
    const mode = numberField(f.mode);
    const modeName = flushModeName(mode, stringField(f.mode_name));
    this.count++;
    this.totalDurationUs += durationUs;
    this.maxDurationUs = Math.max(this.maxDurationUs, durationUs);
    if (this.byMode.has(modeName) || this.byMode.size < 32) this.byMode.set(modeName, (this.byMode.get(modeName) ?? 0) + 1);
    this.flushes.push({ seq: this.count, elapsedNs, durationUs, mode, modeName, coinsCount, memBytes, forPrune: boolField(f.is_flush_for_prune) === true, ...pidOf(f) });
    return 'accepted';
  }

  protected buildView(filter: ToolFilter): FlushView {
    const needle = filterNeedle(filter);
    const kind = filter.kind;
    const { items, matching } = this.flushes.newestMatching(MAX_SENT_ROWS, (row) => {
      if (kind === 'prune' && !row.forPrune) return false;
      if (kind !== '' && kind !== 'prune' && row.modeName !== kind) return false;
      return needle === '' || row.modeName.toLowerCase().includes(needle);
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
