import * as vscode from 'vscode';
import { ConnectionsAggregator, PeerMessageCounter } from '../../core/toolViews/connectionsView';
import type { ToolViewAggregator } from '../../core/toolViews/toolViewBase';
import { isToolPanelTool, parseToolUiState, TOOL_PANEL_TITLES, TOOL_PANEL_TOOLS, type ToolFilter, type ToolPanelTool, type ToolRenderReport } from '../../shared/toolPanelProtocol';
import type { NodeChoice } from '../../shared/panelProtocol';
import type { SessionDescriptor } from '../eventHub';
import type { PanelServices } from '../panels/panelHost';
import { panelOfTool } from '../panels/panelRouting';
import type { Services } from '../services';
import { TOOL_PANEL_VIEW_TYPE, ToolPanel } from './toolPanel';

/** What integration tests see of the tool panels (through the extension's exports). */
export interface ToolPanelsTestApi {
  isOpen(tool: ToolPanelTool): boolean;
  currentSessionId(tool: ToolPanelTool): string | null;
  /** Asks the tool's webview what it rendered (waits for the webview to be ready). */
  renderReport(tool: ToolPanelTool, timeoutMs?: number): Promise<ToolRenderReport>;
  /** Sets the filter in the tool's webview as if typed. */
  setFilter(tool: ToolPanelTool, filter: ToolFilter): void;
  /** The nodes of the session the tool's panel shows (a session over every process of a build; empty: one process). */
  nodeChoices(tool: ToolPanelTool): NodeChoice[];
  /** The node the tool's panel shows (its key), null: all nodes. */
  selectedNode(tool: ToolPanelTool): string | null;
  /** Picks a node in the tool's page selector as the user would (null: all nodes). */
  pickNode(tool: ToolPanelTool, key: string | null): void;
  /** Presses the header's "Kernel filter…" button of a tool's panel as the user would. */
  pressKernelFilter(tool: ToolPanelTool): void;
  /** Focuses the tool's panel (its editor group becomes active). */
  focus(tool: ToolPanelTool): void;
  close(tool: ToolPanelTool): void;
}

/**
 * The tool panels: one ToolPanel per tool whose manifest panel is `tool` (TOOL_PANEL_TOOLS), shown by
 * `bitcoinUsdt.showToolPanel`, sharing one webview type (the restored page's saved state names its tool); and the join of the newest P2P traffic session's per-peer message counts into p2p-connections.
 */
export class ToolPanels implements vscode.Disposable, ToolPanelsTestApi {
  private readonly panels: Readonly<Record<ToolPanelTool, ToolPanel>>;
  private readonly disposables: vscode.Disposable[] = [];
  /** The newest P2P traffic session's per-peer message counts (joined into p2p-connections by peer id). */
  private traffic: { sessionId: string; label: string; counter: PeerMessageCounter } | null = null;

  constructor(services: PanelServices) {
    const join = (aggregator: ToolViewAggregator): void => this.joinTrafficInto(aggregator);
    this.panels = Object.fromEntries(
      TOOL_PANEL_TOOLS.map((tool) => [tool, new ToolPanel(tool, services, tool === 'p2p-connections' ? join : undefined)]),
    ) as Record<ToolPanelTool, ToolPanel>;
    const { hub } = services;
    this.disposables.push(
      hub.onDidStartSession((session) => {
        const panel = panelOfTool(session.tool);
        if (panel === 'p2p' || panel === 'rawMessages') this.startTraffic(session);
      }),
      hub.onDidReceiveEvents(({ session, events }) => {
        if (this.traffic?.sessionId === session.id && this.traffic.counter.ingestAll(events)) this.joinTraffic();
      }),
    );
  }

  private startTraffic(session: SessionDescriptor): void {
    this.traffic = { sessionId: session.id, label: session.label, counter: new PeerMessageCounter() };
    this.joinTraffic();
  }

  private joinTrafficInto(aggregator: ToolViewAggregator): void {
    const traffic = this.traffic;
    const joined = traffic ? { label: traffic.label, lookup: (peerId: string, pid: number | null) => traffic.counter.lookup(peerId, pid) } : null;
    if (aggregator instanceof ConnectionsAggregator) aggregator.setPeerTraffic(joined);
  }

  private joinTraffic(): void {
    for (const tracked of this.panels['p2p-connections'].trackedSessions()) this.joinTrafficInto(tracked.model);
  }

  /** A panel restored after a window reload: its tool comes from the webview's saved state. */
  async restore(webviewPanel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const tool = parseToolUiState(state).tool;
    if (!tool) webviewPanel.dispose();
    else await this.panels[tool].restore(webviewPanel, state);
  }

  async showCommand(tool?: unknown): Promise<void> {
    let chosen: ToolPanelTool | undefined = isToolPanelTool(tool) ? tool : undefined;
    if (!chosen) {
      const picked = await vscode.window.showQuickPick(
        TOOL_PANEL_TOOLS.map((t) => ({ label: TOOL_PANEL_TITLES[t], description: t, tool: t })),
        { title: 'Show which tool panel?' },
      );
      chosen = picked?.tool;
    }
    if (chosen) this.panels[chosen].show(true);
  }

  /** Every tool panel ("Compare two runs…" looks for a run in each). */
  all(): readonly ToolPanel[] {
    return Object.values(this.panels);
  }

  isOpen(tool: ToolPanelTool): boolean {
    return this.panels[tool].isOpen;
  }

  currentSessionId(tool: ToolPanelTool): string | null {
    return this.panels[tool].currentSessionId;
  }

  renderReport(tool: ToolPanelTool, timeoutMs?: number): Promise<ToolRenderReport> {
    return this.panels[tool].renderReport(timeoutMs);
  }

  /** Shows a session in its tool's panel with the filter `kind`; false when that panel does not track it. */
  showFiltered(tool: ToolPanelTool, sessionId: string, kind: string): boolean {
    return this.panels[tool].showFiltered(sessionId, kind);
  }

  /** Shows a session in its tool's panel; false when that panel does not track it. */
  showSession(tool: ToolPanelTool, sessionId: string): boolean {
    return this.panels[tool].showSession(sessionId);
  }

  setFilter(tool: ToolPanelTool, filter: ToolFilter): void {
    this.panels[tool].setFilter(filter);
  }

  nodeChoices(tool: ToolPanelTool): NodeChoice[] {
    return this.panels[tool].nodeChoices();
  }

  selectedNode(tool: ToolPanelTool): string | null {
    return this.panels[tool].selectedNode;
  }

  pickNode(tool: ToolPanelTool, key: string | null): void {
    this.panels[tool].pickNode(key);
  }

  pressKernelFilter(tool: ToolPanelTool): void {
    this.panels[tool].pressKernelFilter();
  }

  focus(tool: ToolPanelTool): void {
    this.panels[tool].focus();
  }

  close(tool: ToolPanelTool): void {
    this.panels[tool].close();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    for (const panel of Object.values(this.panels)) panel.dispose();
  }
}

/** Registers the tool panels, `bitcoinUsdt.showToolPanel` and their serializer. */
export function registerToolPanels(services: Services, panelServices: PanelServices): ToolPanels {
  const panels = new ToolPanels(panelServices);
  services.context.subscriptions.push(
    panels,
    vscode.commands.registerCommand('bitcoinUsdt.showToolPanel', (tool?: unknown) => panels.showCommand(tool)),
    vscode.window.registerWebviewPanelSerializer(TOOL_PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: (panel: vscode.WebviewPanel, state: unknown) => panels.restore(panel, state),
    }),
  );
  services.api.toolPanels = panels;
  return panels;
}
