import { isToolPanelTool, TOOL_PANEL_TITLES } from '../../shared/toolPanelProtocol';

/** The command (and its argument) that shows the panel of a tool's sessions, with a label for menus. */
export interface ToolPanelCommand {
  readonly command: string;
  readonly args: readonly unknown[];
  readonly label: string;
}

/** Which panel shows a tool's events: P2P traffic, raw messages, the benchmark, or the tool's own panel. */
export function toolPanelCommand(tool: string): ToolPanelCommand | undefined {
  switch (tool) {
    case 'p2p-traffic':
    case 'p2p-monitor':
      return { command: 'bitcoinUsdt.showP2pPanel', args: [], label: 'Show P2P traffic panel' };
    case 'raw-p2p-msgs':
      return { command: 'bitcoinUsdt.showRawMessagesPanel', args: [], label: 'Show raw P2P messages panel' };
    case 'connectblock-benchmark':
      return { command: 'bitcoinUsdt.showBenchmarkPanel', args: [], label: 'Show ConnectBlock benchmark panel' };
    default:
      return isToolPanelTool(tool) ? { command: 'bitcoinUsdt.showToolPanel', args: [tool], label: `Show ${TOOL_PANEL_TITLES[tool]} panel` } : undefined;
  }
}
