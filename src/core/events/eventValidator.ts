// The runtime check of a normalized event where one enters from outside the decoder (a recording file):
// tuple events against their field tables in eventSchema.ts, the session and account events against the
// small table below. An event name this version does not know passes unchecked (docs/events.md: readers
// skip events they do not know; no model reads one).

import { fieldsByEvent, type FieldSpec, type RecordSpec } from './eventSchema';
import type { NormalizedEvent } from './eventTypes';
import { HASH_PATTERN, HEX_PATTERN, isIntegerOfKind } from './tupleDecoder';

type Shape = 'number' | 'string' | 'boolean' | 'object' | 'array' | 'number|null' | 'string|undefined';

/** The events that are not tuple records: required fields and their JSON shape. */
const OTHER_EVENTS: Readonly<Record<string, Readonly<Record<string, Shape>>>> = {
  fired: { counts: 'object' },
  lost: { count: 'number', source: 'string|undefined' },
  truncated: { field: 'string', count: 'number' },
  'session:start': { tool: 'string', binary: 'string', pid: 'number|null' },
  'session:attached': { probes: 'number', pid: 'number|null' },
  'session:message': { level: 'string', message: 'string' },
  'session:end': { reason: 'string' },
  node: { pid: 'number', node: 'string', run: 'string', datadir: 'string', chain: 'string', p2p_port: 'number|null', rpc_port: 'number|null' },
  'node:exit': { pid: 'number' },
  'p2p:peer_totals': { peers: 'array' },
  'p2p:msg_type_totals': { types: 'array' },
  'validation:block_rates': { interval_ns: 'number', totals: 'object' },
  'validation:connect_histogram': { buckets: 'array' },
  'validation:connect_summary': { totals: 'object', start_height: 'number', end_height: 'number' },
  'utxocache:ops': { counts: 'object', per_second: 'object', interval_ns: 'number' },
};

const TUPLE_EVENTS = fieldsByEvent();

function shapeOk(v: unknown, shape: Shape): boolean {
  switch (shape) {
    case 'number|null':
      return v === null || typeof v === 'number';
    case 'string|undefined':
      return v === undefined || typeof v === 'string';
    case 'array':
      return Array.isArray(v);
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    default:
      return typeof v === shape;
  }
}

/** Why `v` is not a value of `field`, or null when it is. */
export function fieldProblem(field: FieldSpec, v: unknown): string | null {
  switch (field.kind) {
    case 'u64':
    case 'i64':
    case 'u32':
    case 'i32':
      return isIntegerOfKind(v, field.kind) ? null : `${field.name} is not a ${field.kind} integer`;
    case 'bool':
      return typeof v === 'boolean' ? null : `${field.name} is not a boolean`;
    case 'string':
      return typeof v === 'string' ? null : `${field.name} is not a string`;
    case 'hash':
      return typeof v === 'string' && HASH_PATTERN.test(v) ? null : `${field.name} is not 64 lowercase hex digits`;
    case 'hex':
      return typeof v === 'string' && HEX_PATTERN.test(v) ? null : `${field.name} is not lowercase hex`;
  }
}

function recordProblem(spec: RecordSpec, value: Record<string, unknown>): string | null {
  for (const field of spec.fields) {
    if (field.optional && value[field.name] === undefined) continue;
    if (field.nullable && value[field.name] === null) continue;
    const problem = fieldProblem(field, value[field.name]);
    if (problem !== null) return problem;
  }
  return null;
}

/** The event, or why it is not one (a short reason naming the field). */
export function validateEvent(value: Record<string, unknown>): NormalizedEvent | string {
  const name = value.event;
  if (typeof name !== 'string') return 'not an event (no "event" field)';
  if (value.elapsed_ns !== undefined && typeof value.elapsed_ns !== 'number') return `${name}: elapsed_ns is not a number`;
  const specs = TUPLE_EVENTS.get(name);
  if (specs !== undefined) {
    // An event two tools print (net:*_message) is valid when it has either tool's fields.
    const problems = specs.map((spec) => recordProblem(spec, value));
    if (problems.some((p) => p === null)) return value as unknown as NormalizedEvent;
    return `${name}: ${problems[0]}`;
  }
  const shape = Object.hasOwn(OTHER_EVENTS, name) ? OTHER_EVENTS[name] : undefined;
  if (shape !== undefined) {
    for (const [field, expected] of Object.entries(shape)) {
      if (!shapeOk(value[field], expected)) return `${name}: ${field} is not ${expected.replace('|', ' or ')}`;
    }
  }
  return value as unknown as NormalizedEvent;
}
