// Defensive readers for the fields of normalized events. Recordings can be hand-made or damaged, and the
// event types of the newer tools are decoded elsewhere: a field of the wrong type reads as null.

/** Any normalized event: `event` names it, the other fields are read by name. */
export interface ToolEventLike {
  readonly event: string;
}

export function fieldsOf(event: ToolEventLike): Readonly<Record<string, unknown>> {
  return event as unknown as Readonly<Record<string, unknown>>;
}

const INT64_TEXT = /^-?\d{1,20}$/;

/** An Int64Field (safe number or decimal string) as its decimal string. */
export function int64Text(value: unknown): string | null {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : null;
  if (typeof value === 'string' && INT64_TEXT.test(value)) return value;
  return null;
}

/** A finite number (decimal strings are converted, possibly rounded: only for counts and sizes). */
export function numberField(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && INT64_TEXT.test(value)) return Number(value);
  return null;
}

export function stringField(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** true/false, or 0/1 as bpftrace prints a bool. */
export function boolField(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  return null;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Lower-case hex of 64 characters (a txid or block hash in display order). */
export function isHash(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/i.test(value);
}

/** The event's process (`pid`, in sessions over every process of a build) as a row field, or nothing. */
export function pidOf(f: Readonly<Record<string, unknown>>): { readonly pid?: number } {
  return typeof f.pid === 'number' && Number.isSafeInteger(f.pid) ? { pid: f.pid } : {};
}
