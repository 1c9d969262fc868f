// The view of any tool on the tool panel that has no view of its own: its records as their field tables in
// eventSchema.ts describe them (a bounded ring of the newest, counts per event), every value as text. The
// page draws one column per field name from the tables sent in the view (media/toolPanel/views/genericView.ts).

import { fieldProblem } from '../events/eventValidator';
import { recordsOfToolByEvent, type FieldSpec, type RecordSpec } from '../events/eventSchema';
import { MAX_SENT_ROWS, type GenericView, type SchemaRecordTable, type SchemaRow, type ToolFilter, type ToolPanelTool } from '../../shared/toolPanelProtocol';
import { int64Text, pidOf, type ToolEventLike } from './eventFields';
import { BoundedRing } from './secondBuckets';
import { filterNeedle, ToolViewBase, type ToolViewOptions } from './toolViewBase';

/** Hex digits shown of a `hex` field (a raw message can be megabytes); the rest is summed up after `…`. */
const MAX_HEX_DIGITS = 256;

/** A field's value as the page shows it, or undefined when it is not a value of the field. */
function valueText(field: FieldSpec, value: unknown): string | null | undefined {
  if (value === undefined && field.optional) return null;
  if (value === null && field.nullable) return null;
  if (fieldProblem(field, value) !== null) return undefined;
  switch (field.kind) {
    case 'u64':
    case 'i64':
    case 'u32':
    case 'i32':
      return int64Text(value) ?? undefined;
    case 'bool':
      return value === true ? 'yes' : 'no';
    case 'hex': {
      const hex = value as string;
      return hex.length <= MAX_HEX_DIGITS ? hex : `${hex.slice(0, MAX_HEX_DIGITS)}… (${hex.length / 2} bytes)`;
    }
    default:
      return value as string;
  }
}

interface RecordOfTool {
  readonly spec: RecordSpec;
  /** Indexes of the string and hash fields: what the text filter searches. */
  readonly searched: readonly number[];
}

export class GenericAggregator extends ToolViewBase {
  private readonly records: ReadonlyMap<string, RecordOfTool>;
  private readonly tables: readonly SchemaRecordTable[];
  private readonly rows: BoundedRing<SchemaRow>;
  private readonly byEvent = new Map<string, number>();
  private count = 0;

  constructor(
    readonly tool: ToolPanelTool,
    options: ToolViewOptions & { maxRows?: number } = {},
  ) {
    super(options);
    const specs = [...recordsOfToolByEvent(tool).values()];
    this.records = new Map(
      specs.map((spec) => [spec.event, { spec, searched: spec.fields.flatMap((f, i) => (f.kind === 'string' || f.kind === 'hash' ? [i] : [])) }]),
    );
    this.tables = specs.map((spec) => ({ event: spec.event, doc: spec.doc, fields: spec.fields.map((f) => ({ name: f.name, kind: f.kind, doc: f.doc })) }));
    for (const spec of specs) this.byEvent.set(spec.event, 0);
    this.rows = new BoundedRing<SchemaRow>(options.maxRows ?? 20_000);
  }

  protected ingestToolEvent(event: ToolEventLike, f: Readonly<Record<string, unknown>>, elapsedNs: number): 'accepted' | 'ignored' | 'other' {
    const record = this.records.get(event.event);
    if (record === undefined) return 'other';
    const values: (string | null)[] = [];
    for (const field of record.spec.fields) {
      const text = valueText(field, f[field.name]);
      if (text === undefined) return 'ignored';
      values.push(text);
    }
    this.count++;
    this.byEvent.set(event.event, (this.byEvent.get(event.event) ?? 0) + 1);
    this.rows.push({ seq: this.count, elapsedNs, event: event.event, values, ...pidOf(f) });
    return 'accepted';
  }

  protected buildView(filter: ToolFilter): GenericView {
    const needle = filterNeedle(filter);
    const { items, matching } = this.rows.newestMatching(MAX_SENT_ROWS, (row) => {
      if (filter.kind !== '' && row.event !== filter.kind) return false;
      if (needle === '') return true;
      const searched = this.records.get(row.event)?.searched ?? [];
      return searched.some((i) => row.values[i]?.toLowerCase().includes(needle) ?? false);
    });
    return {
      tool: 'generic',
      records: this.tables,
      rows: items,
      matchingRows: matching,
      totalRows: this.count,
      forgottenRows: this.rows.droppedCount,
      byEvent: [...this.byEvent].map(([name, count]) => ({ name, count })),
    };
  }
}
