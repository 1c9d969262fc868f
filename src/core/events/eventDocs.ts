// The field tables of docs/events.md, generated from eventSchema.ts (test/unit/eventSchema.test.ts compares
// them with the doc; `npx tsx scripts/update-event-docs.ts` rewrites the generated section).

import { RECORD_SPECS, type FieldSpec, type RecordSpec } from './eventSchema';
import { MANIFEST_TOOLS } from '../tools/toolManifest';

export const GENERATED_BEGIN = '<!-- BEGIN fields generated from src/core/events/eventSchema.ts: npx tsx scripts/update-event-docs.ts -->';
export const GENERATED_END = '<!-- END generated fields -->';

function kindText(field: FieldSpec): string {
  switch (field.kind) {
    case 'u64':
    case 'i64':
      return `Int64 (${field.kind})`;
    case 'string':
      return field.limit === undefined ? 'string' : `string ≤ ${field.limit - 1} bytes`;
    case 'hash':
      return 'hash (64 hex)';
    case 'hex':
      return `hex (\`${field.countField}\` bytes)`;
    default:
      return field.kind;
  }
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The generated section, markers included. */
export function eventFieldTables(): string {
  const lines = [GENERATED_BEGIN, ''];
  for (const tool of MANIFEST_TOOLS) {
    const records = (RECORD_SPECS as readonly RecordSpec[]).filter((r) => r.tool === tool.id);
    if (records.length === 0) continue;
    lines.push(`### ${tool.title} (tool \`${tool.id}\`, ${tool.frontEnd === 'bcc' ? 'BCC' : 'bpftrace'})`, '');
    lines.push('| event | tuple | field | kind | meaning |', '|---|---|---|---|---|');
    for (const record of records) {
      const fields = record.fields.map((f) => `| \`${record.event}\` | \`${record.tag}\` | \`${f.name}\` | ${kindText(f)}${f.derived ? ', derived' : ''}${f.context ? ', probe context' : ''}${f.optional ? ', optional in older recordings' : ''} | ${cell(f.doc)} |`);
      lines.push(`| \`${record.event}\` | \`${record.tag}\` | \`elapsed_ns\` | number | ${cell(record.doc)} |`, ...fields);
    }
    lines.push('');
  }
  lines.push(GENERATED_END);
  return lines.join('\n');
}

/** `doc` with its generated section replaced by `eventFieldTables()`. */
export function withGeneratedTables(doc: string): string {
  const begin = doc.indexOf(GENERATED_BEGIN);
  const end = doc.indexOf(GENERATED_END);
  if (begin < 0 || end < begin) throw new Error('docs/events.md has no generated section markers');
  return doc.slice(0, begin) + eventFieldTables() + doc.slice(end + GENERATED_END.length);
}
