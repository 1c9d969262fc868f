// The typed view of probes/tools.json, the one list of probe tools: the helper (probes/bitcoin-usdt-helper.py)
// reads the same file to decide what it may run. TypeScript cannot derive literal types from a JSON import,
// so the ids are listed once more here with their panels as `TOOL_PANELS`; the module refuses to load (and
// test/unit/toolManifest.test.ts fails) when the two disagree. A registry keyed by tool is a `Record<ToolId, …>`: the compiler lists what a new tool lacks.

import manifest from '../../../probes/tools.json';

/**
 * Every tool and the panel that shows its sessions (`tool`: the generic tool panel), in the manifest's order.
 * The ids give `ToolId`, the tools with `tool` give `ToolPanelTool`; the manifest must say the same.
 */
export const TOOL_PANELS = {
  'p2p-traffic': 'p2p',
  'p2p-monitor': 'p2p',
  'p2p-connections': 'tool',
  'connectblock-benchmark': 'benchmark',
  'utxocache-flush': 'tool',
  utxos: 'tool',
  'coin-selection': 'tool',
  'raw-p2p-msgs': 'rawMessages',
  'mempool-monitor': 'tool',
  'mempool-events': 'tool',
  'trace-tracepoint': 'tool',
} as const satisfies Readonly<Record<string, PanelKind>>;

export type ToolId = keyof typeof TOOL_PANELS;

export const TOOL_IDS = Object.keys(TOOL_PANELS) as readonly ToolId[];

/** The tools shown on the generic tool panel (one panel per tool). */
export type ToolPanelTool = { [T in ToolId]: (typeof TOOL_PANELS)[T] extends 'tool' ? T : never }[ToolId];

export const TOOL_PANEL_TOOLS: readonly ToolPanelTool[] = TOOL_IDS.filter((id): id is ToolPanelTool => TOOL_PANELS[id] === 'tool');

/** Which program runs the probe: bpftrace with a `.bt` script, or a BCC program (`.py`). */
export type FrontEnd = 'bpftrace' | 'bcc';

/** Which panel shows the tool's sessions: `tool` is the generic tool panel. */
export type PanelKind = 'p2p' | 'rawMessages' | 'benchmark' | 'tool';

export interface ManifestParameter {
  /** The helper's `--param` name, and the bpftrace positional parameter in manifest order ($2, $3, …). */
  name: string;
  /** The CLI option (`--<option> <metavar>`) of `run`. */
  option: string;
  metavar: string;
  description: string;
  /** Regular expression the whole value must match (the helper checks it again, with re.fullmatch). */
  pattern: string;
  /** Passed to the probe when the parameter is not given. */
  default: string;
  /** The `--filter` key it belongs to: a filter or sample the kernel applies (see toolFilters.ts). */
  filter?: string;
}

export interface ManifestTool {
  id: ToolId;
  title: string;
  description: string;
  /** File name inside probes/; empty for a generated tool. */
  script: string;
  /** The helper writes the probe itself from the parameters and the binary's notes (trace-tracepoint). */
  generated?: boolean;
  frontEnd: FrontEnd;
  /** Tracepoints (provider:name) the probe attaches to; all must exist in the binary. */
  tracepoints: readonly string[];
  /** `stream`: one event per tracepoint hit (losses possible, all counted); `aggregate`: counted in the kernel. */
  mode: 'stream' | 'aggregate';
  /** Normalized events the tool produces. */
  produces: readonly string[];
  panel: PanelKind;
  parameters: readonly ManifestParameter[];
}

const FRONT_ENDS: readonly string[] = ['bpftrace', 'bcc'];
const PANELS: readonly string[] = ['p2p', 'rawMessages', 'benchmark', 'tool'];

function checkedManifest(): readonly ManifestTool[] {
  const tools = manifest.tools;
  const ids = tools.map((t) => t.id);
  if (ids.join(',') !== TOOL_IDS.join(',')) {
    throw new Error(`probes/tools.json lists ${ids.join(', ')} but toolManifest.ts's TOOL_IDS ${TOOL_IDS.join(', ')}`);
  }
  for (const tool of tools) {
    if (!FRONT_ENDS.includes(tool.frontEnd)) throw new Error(`probes/tools.json: ${tool.id} has front end ${tool.frontEnd}`);
    if (!PANELS.includes(tool.panel)) throw new Error(`probes/tools.json: ${tool.id} has panel ${tool.panel}`);
    if (tool.panel !== TOOL_PANELS[tool.id as ToolId]) throw new Error(`probes/tools.json gives ${tool.id} the panel ${tool.panel} but toolManifest.ts's TOOL_PANELS ${TOOL_PANELS[tool.id as ToolId]}`);
    if (tool.mode !== 'stream' && tool.mode !== 'aggregate') throw new Error(`probes/tools.json: ${tool.id} has mode ${tool.mode}`);
  }
  return tools as readonly ManifestTool[];
}

export const MANIFEST_TOOLS: readonly ManifestTool[] = checkedManifest();

export function isToolId(value: unknown): value is ToolId {
  return typeof value === 'string' && (TOOL_IDS as readonly string[]).includes(value);
}

/** The tool's title, the same in the CLI, the launch pickers and its panel. */
export const TOOL_TITLES: Readonly<Record<ToolId, string>> = Object.fromEntries(
  MANIFEST_TOOLS.map((t) => [t.id, t.title]),
) as Record<ToolId, string>;
