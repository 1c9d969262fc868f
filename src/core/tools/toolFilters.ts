// Filters and samples applied in the kernel (`--filter KEY=VALUE` on the CLI, the filter control of the panels):
// each is one or more of the tool's parameters in probes/tools.json, marked with the key it belongs to. Only
// matching events are streamed; the kernel's fired counts and the tool's own counts stay exact over everything.

import type { ManifestTool } from './toolManifest';

/** The longest txid prefix the kernel compares: 15 hex digits (60 bits, a positive bpftrace integer). */
export const MAX_TXID_PREFIX_DIGITS = 15;

export class FilterError extends Error {}

/** The `--filter` keys a tool takes, in manifest order. */
export function filterKeys(tool: ManifestTool): string[] {
  const keys: string[] = [];
  for (const p of tool.parameters) if (p.filter !== undefined && !keys.includes(p.filter)) keys.push(p.filter);
  return keys;
}

/** The tool's parameters for `KEY=VALUE` filters; throws FilterError with what is wrong and what would be right. */
export function filterParameters(tool: ManifestTool, filters: readonly string[]): Record<string, string> {
  const keys = filterKeys(tool);
  const params: Record<string, string> = {};
  for (const item of filters) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? '' : item.slice(eq + 1);
    if (!keys.includes(key)) {
      throw new FilterError(
        keys.length === 0 ? `${tool.id} takes no filter` : `${tool.id} has no filter '${key}' (filters: ${keys.map((k) => `${k}=…`).join(', ')})`,
      );
    }
    if (eq < 0 || value === '') throw new FilterError(`--filter ${key} needs a value: ${key}=VALUE`);
    if (key === 'txid') {
      const hex = value.toLowerCase();
      if (!new RegExp(`^[0-9a-f]{1,${MAX_TXID_PREFIX_DIGITS}}$`).test(hex)) {
        throw new FilterError(`--filter txid= takes the first 1 to ${MAX_TXID_PREFIX_DIGITS} hex digits of a txid, not '${value}'`);
      }
      params.txid_high = BigInt(`0x${hex}`).toString();
      params.txid_bits = String(4 * hex.length);
      continue;
    }
    const parameter = tool.parameters.find((p) => p.filter === key);
    if (!parameter || !new RegExp(`^(?:${parameter.pattern})$`).test(value)) {
      throw new FilterError(`--filter ${key}=${value}: ${parameter?.description ?? 'not a valid value'}`);
    }
    params[parameter.name] = value;
  }
  return params;
}

/** "peer 3, type tx, sampled 1 in 10": a session's filters (the `session:start` event's) for headers and the CLI. */
export function describeFilters(filters: Readonly<Record<string, string>> | undefined): string {
  if (!filters) return '';
  const parts: string[] = [];
  if (filters.peer !== undefined) parts.push(`peer ${filters.peer}`);
  if (filters.msg_type !== undefined) parts.push(`type ${filters.msg_type}`);
  if (filters.op !== undefined) parts.push(`operation ${filters.op}`);
  if (filters.txid_bits !== undefined && filters.txid_high !== undefined) {
    const digits = Number(filters.txid_bits) / 4;
    parts.push(`txid ${BigInt(filters.txid_high).toString(16).padStart(digits, '0')}…`);
  }
  if (filters.sample !== undefined) parts.push(`sampled 1 in ${filters.sample}`);
  return parts.join(', ');
}

/**
 * The value of each of the tool's filters in a session's parameters, as `--filter KEY=VALUE` takes it: '' where
 * the parameter is absent or at its default (no filter). The filter control prefills its prompts with these.
 */
export function currentFilterValues(tool: ManifestTool, params: Readonly<Record<string, string>>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const key of filterKeys(tool)) {
    if (key === 'txid') {
      const bits = Number(params.txid_bits ?? '0');
      values.txid = bits > 0 && params.txid_high !== undefined ? BigInt(params.txid_high).toString(16).padStart(bits / 4, '0') : '';
      continue;
    }
    const parameter = tool.parameters.find((p) => p.filter === key);
    const value = parameter ? params[parameter.name] : undefined;
    values[key] = value === undefined || value === parameter?.default ? '' : value;
  }
  return values;
}

/**
 * The session's parameters with its filters replaced: every filter parameter dropped (back to "everything"),
 * then those of `filters` (`KEY=VALUE`; `KEY=` is no filter) set; the other parameters unchanged. Throws
 * FilterError as filterParameters does.
 */
export function paramsWithFilters(tool: ManifestTool, params: Readonly<Record<string, string>>, filters: readonly string[]): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (tool.parameters.find((p) => p.name === name)?.filter === undefined) kept[name] = value;
  }
  return { ...kept, ...filterParameters(tool, filters.filter((item) => !item.endsWith('='))) };
}

/** Why `value` cannot be the filter `key` (the prompt's validation message), or undefined when it can ('' = no filter). */
export function filterValueProblem(tool: ManifestTool, key: string, value: string): string | undefined {
  if (value === '') return undefined;
  try {
    filterParameters(tool, [`${key}=${value}`]);
    return undefined;
  } catch (error) {
    if (error instanceof FilterError) return error.message;
    throw error;
  }
}
