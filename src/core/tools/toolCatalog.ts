// The probe tools the helper can run, as the launcher, the CLI and the tree use them: probes/tools.json,
// read through toolManifest.ts.

import { MANIFEST_TOOLS, type ManifestTool, type ToolId } from './toolManifest';

export type { ToolId } from './toolManifest';

export interface ToolParameter {
  name: string;
  description: string;
  /** Anchored pattern the value must match (the helper checks it again). */
  pattern: string;
  /** The CLI option of `run` and its metavariable (`--threshold MS`). */
  option: string;
  metavar: string;
  default: string;
  /** The `--filter` key of a filter or sample the kernel applies (toolFilters.ts); not asked when launching. */
  filter?: string;
}

export interface ToolDefinition extends Omit<ManifestTool, 'parameters'> {
  parameters: readonly ToolParameter[];
}

export const TOOLS: readonly ToolDefinition[] = MANIFEST_TOOLS.map((tool) => ({
  ...tool,
  parameters: tool.parameters.map((p) => ({ ...p, pattern: `^(?:${p.pattern})$` })),
}));

export function findTool(id: string): ToolDefinition | undefined {
  return TOOLS.find((tool) => tool.id === id);
}

/** The program that runs a tool's probe, as its error lines are labelled: from the manifest's front end. */
export function toolFrontEnd(id: string): 'BCC' | 'bpftrace' {
  return findTool(id)?.frontEnd === 'bcc' ? 'BCC' : 'bpftrace';
}

/** The definition of a known tool. */
export function toolDefinition(id: ToolId): ToolDefinition {
  const tool = findTool(id);
  if (!tool) throw new Error(`tool ${id} is missing from probes/tools.json`);
  return tool;
}

/** Tracepoints whose every hit a tool streams (the decoder's loss accounting covers these). */
export function streamedTracepoints(tool: ToolDefinition): readonly string[] {
  return tool.mode === 'stream' ? tool.tracepoints : [];
}

export interface ToolAvailability {
  tool: ToolDefinition;
  available: boolean;
  /** Why not, when unavailable (e.g. "needs net:inbound_message, which this binary lacks"). */
  reason?: string;
  missing: string[];
}

/**
 * Which tools can run against a binary that has these tracepoints ("provider:name"). Generated tools
 * (trace-tracepoint) are not listed: they start from a tracepoint ("Trace this tracepoint"), not from this pick.
 */
export function toolsAvailableFor(tracepointNames: readonly string[]): ToolAvailability[] {
  const present = new Set(tracepointNames);
  return TOOLS.filter((tool) => !tool.generated).map((tool) => {
    const missing = tool.tracepoints.filter((name) => !present.has(name));
    if (missing.length === 0) return { tool, available: true, missing };
    const reason =
      present.size === 0
        ? 'the binary has no USDT tracepoints (build Bitcoin Core with -DWITH_USDT=ON)'
        : `needs ${missing.join(', ')}, which this binary lacks`;
    return { tool, available: false, reason, missing };
  });
}
