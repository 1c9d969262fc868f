import { MANIFEST_TOOLS } from '../../core/tools/toolManifest';
import { isToolPanelTool, TOOL_PANEL_TITLES, type ToolPanelTool } from '../../shared/toolPanelProtocol';

/** The panels: three of their own, the Network panel (every node of the network tools' sessions), and one generic tool panel per tool that has one. */
export type PanelId = 'p2p' | 'rawMessages' | 'benchmark' | 'network' | ToolPanelTool;

/**
 * Which panel shows a tool's sessions; undefined: none (a session of an unknown tool, such as an older
 * recording, goes to the panel whose events it carries). The one place that maps tools to panels, from
 * the manifest's `panel` field.
 */
export function panelOfTool(tool: string): PanelId | undefined {
  // The manifest's `panel` (probes/tools.json): `tool` is the generic tool panel, one per tool.
  const panel = MANIFEST_TOOLS.find((t) => t.id === tool)?.panel;
  if (panel === 'tool') return isToolPanelTool(tool) ? tool : undefined;
  return panel;
}

/** The command (and its argument) that shows a panel, with a label for menus. */
export interface PanelCommand {
  readonly command: string;
  readonly args: readonly unknown[];
  readonly label: string;
}

export function panelCommand(panel: PanelId): PanelCommand {
  switch (panel) {
    case 'p2p':
      return { command: 'bitcoinUsdt.showP2pPanel', args: [], label: 'Show P2P traffic panel' };
    case 'rawMessages':
      return { command: 'bitcoinUsdt.showRawMessagesPanel', args: [], label: 'Show raw P2P messages panel' };
    case 'benchmark':
      return { command: 'bitcoinUsdt.showBenchmarkPanel', args: [], label: 'Show ConnectBlock benchmark panel' };
    case 'network':
      return { command: 'bitcoinUsdt.showNetworkPanel', args: [], label: 'Show Network panel' };
    default:
      return { command: 'bitcoinUsdt.showToolPanel', args: [panel], label: `Show ${TOOL_PANEL_TITLES[panel]} panel` };
  }
}
