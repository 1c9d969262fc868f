// trace-tracepoint: every hit of the traced tracepoint (bounded ring of the newest), one typed column per
// argument from the session's `tracepoint:spec`.

import { MAX_SENT_ROWS, type TraceColumn, type TraceRow, type TraceView, type ToolFilter } from '../../shared/toolPanelProtocol';
import { parseTraceSpec, readingLabel, readingOfSpec } from '../trace/traceReadings';
import { int64Text, pidOf, type ToolEventLike } from './eventFields';
import { BoundedRing } from './secondBuckets';
import { filterNeedle, ToolViewBase, type ToolViewOptions } from './toolViewBase';

export class TraceAggregator extends ToolViewBase {
  readonly tool = 'trace-tracepoint' as const;
  private readonly hits: BoundedRing<TraceRow>;
  private tracepoint: string | null = null;
  private columns: TraceColumn[] = [];
  private count = 0;

  constructor(options: ToolViewOptions & { maxHits?: number } = {}) {
    super(options);
    this.hits = new BoundedRing<TraceRow>(options.maxHits ?? 20_000);
  }

  protected ingestToolEvent(event: ToolEventLike, f: Readonly<Record<string, unknown>>, elapsedNs: number): 'accepted' | 'ignored' | 'other' {
    if (event.event === 'tracepoint:spec') {
      const spec = parseTraceSpec({ tracepoint: f.tracepoint, args: f.args });
      if (spec === null) return 'ignored';
      this.tracepoint = spec.tracepoint;
      this.columns = spec.args.map((arg) => ({ index: arg.index, kind: arg.kind, bytes: arg.bytes, label: readingLabel(readingOfSpec(arg)) }));
      return 'other'; // a description, not a hit
    }
    if (event.event !== 'tracepoint:hit' || !Array.isArray(f.args)) return event.event === 'tracepoint:hit' ? 'ignored' : 'other';
    if (this.tracepoint !== null && f.tracepoint !== this.tracepoint) return 'ignored';
    const values: (string | null)[] = [];
    for (const value of f.args as unknown[]) {
      if (value === null) values.push(null);
      else if (typeof value === 'string') values.push(value);
      else {
        const text = int64Text(value);
        if (text === null) return 'ignored';
        values.push(text);
      }
    }
    if (this.columns.length > 0 && values.length !== this.columns.length) return 'ignored';
    this.count++;
    this.hits.push({ seq: this.count, elapsedNs, values, ...pidOf(f) });
    return 'accepted';
  }

  protected buildView(filter: ToolFilter): TraceView {
    const needle = filterNeedle(filter);
    const { items, matching } = this.hits.newestMatching(MAX_SENT_ROWS, (row) =>
      needle === '' || row.values.some((value) => value !== null && value.toLowerCase().includes(needle)),
    );
    return {
      tool: 'trace-tracepoint',
      tracepoint: this.tracepoint,
      columns: this.columns,
      rows: items,
      matchingRows: matching,
      totalHits: this.count,
      forgottenHits: this.hits.droppedCount,
    };
  }
}

