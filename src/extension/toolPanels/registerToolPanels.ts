import * as vscode from 'vscode';
import { access } from 'node:fs/promises';
import { ConnectionsAggregator, PeerMessageCounter } from '../../core/toolViews/connectionsView';
import { toolOfEvent } from '../../core/toolViews/toolViews';
import type { ToolEventLike } from '../../core/toolViews/eventFields';
import { isToolPanelTool, parseToolUiState, TOOL_PANEL_TITLES, TOOL_PANEL_TOOLS, type ToolFilter, type ToolPanelTool, type ToolRenderReport } from '../../shared/toolPanelProtocol';
import type { EventHub, SessionDescriptor } from '../eventHub';
import type { Services } from '../services';
import { TOOL_PANEL_VIEW_TYPE, ToolPanel, type ToolPanelHost } from './toolPanel';

/** Sessions of these tools feed the p2p-connections panel's message-count join. */
const P2P_TRAFFIC_TOOLS: ReadonlySet<string> = new Set(['p2p-traffic', 'p2p-monitor', 'raw-p2p-msgs']);
const LAST_RECORDING_KEY = 'bitcoinUsdt.toolPanel.lastRecording.';

/** What integration tests see of the tool panels (through the extension's exports). */
export interface ToolPanelsTestApi {
  isOpen(tool: ToolPanelTool): boolean;
  currentSessionId(tool: ToolPanelTool): string | null;
  /** Asks the tool's webview what it rendered (waits for the webview to be ready). */
  renderReport(tool: ToolPanelTool, timeoutMs?: number): Promise<ToolRenderReport>;
  /** Sets the filter in the tool's webview as if typed. */
  setFilter(tool: ToolPanelTool, filter: ToolFilter): void;
  /** Focuses the tool's panel (its editor group becomes active). */
  focus(tool: ToolPanelTool): void;
  close(tool: ToolPanelTool): void;
}

/** Recording files of sessions, as the P2P panel's API reports them (automatic and opened recordings). */
type RecordingLookup = () => readonly { readonly sessionId: string; readonly path: string }[];

/**
 * The tool panels (p2p-connections, utxocache-flush, utxos, mempool-monitor, coin-selection): one webview
 * per tool, opened when a session of that tool starts (live or replayed), by `bitcoinUsdt.showToolPanel`,
 * and restored after a window reload with the last session's recording.
 */
export class ToolPanels implements vscode.Disposable, ToolPanelsTestApi, ToolPanelHost {
  private readonly panels = new Map<ToolPanelTool, ToolPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  /** The newest P2P traffic session's per-peer message counts (joined into p2p-connections by peer id). */
  private traffic: { sessionId: string; label: string; counter: PeerMessageCounter } | null = null;

  constructor(
    private readonly context: vscode.ExtensionContext,
    hub: EventHub,
    private readonly recordings: RecordingLookup,
  ) {
    this.disposables.push(
      hub.onDidStartSession((session) => {
        if (isToolPanelTool(session.tool)) {
          this.panelFor(session.tool).track(session);
          if (session.tool === 'p2p-connections') this.joinTraffic();
        } else if (P2P_TRAFFIC_TOOLS.has(session.tool)) this.startTraffic(session);
      }),
      hub.onDidReceiveEvents(({ session, events }) => this.receive(session, events)),
      hub.onDidEndSession(({ session, reason }) => {
        for (const panel of this.panels.values()) panel.markEnded(session.id, reason);
      }),
    );
  }

  get extensionUri(): vscode.Uri {
    return this.context.extensionUri;
  }

  panelFor(tool: ToolPanelTool): ToolPanel {
    let panel = this.panels.get(tool);
    if (!panel) {
      panel = new ToolPanel(tool, this);
      this.panels.set(tool, panel);
    }
    return panel;
  }

  private receive(session: SessionDescriptor, events: readonly ToolEventLike[]): void {
    if (this.traffic?.sessionId === session.id) {
      if (this.traffic.counter.ingestAll(events)) this.joinTraffic();
      return;
    }
    if (isToolPanelTool(session.tool)) {
      this.panelFor(session.tool).session(session.id)?.aggregator.ingestAll(events);
      return;
    }
    // A session of another tool name (an older recording): the first event that belongs to a panel decides.
    for (const panel of this.panels.values()) {
      const tracked = panel.session(session.id);
      if (tracked) {
        tracked.aggregator.ingestAll(events);
        return;
      }
    }
    const tool = events.map((e) => toolOfEvent(e.event)).find((t) => t !== null);
    if (!tool) return;
    this.panelFor(tool).track(session).aggregator.ingestAll(events);
    if (tool === 'p2p-connections') this.joinTraffic();
  }

  private startTraffic(session: SessionDescriptor): void {
    this.traffic = { sessionId: session.id, label: session.label, counter: new PeerMessageCounter() };
    this.joinTraffic();
  }

  private joinTraffic(): void {
    const traffic = this.traffic;
    const joined = traffic ? { label: traffic.label, lookup: (peerId: string) => traffic.counter.lookup(peerId) } : null;
    for (const tracked of this.panels.get('p2p-connections')?.trackedSessions() ?? []) {
      if (tracked.aggregator instanceof ConnectionsAggregator) tracked.aggregator.setPeerTraffic(joined);
    }
  }

  rememberSession(tool: ToolPanelTool, sessionId: string): boolean {
    const path = this.recordings().find((r) => r.sessionId === sessionId)?.path;
    if (!path) return false;
    void this.context.workspaceState.update(LAST_RECORDING_KEY + tool, path);
    return true;
  }

  /** A panel restored after a window reload: its tool comes from the webview's saved state. */
  async restore(webviewPanel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const uiState = parseToolUiState(state);
    if (!uiState.tool) {
      webviewPanel.dispose();
      return;
    }
    const panel = this.panelFor(uiState.tool);
    if (panel.isOpen) {
      webviewPanel.dispose();
      return;
    }
    panel.restore(webviewPanel, uiState);
    if (panel.hasSessions) return;
    const last = this.context.workspaceState.get<string>(LAST_RECORDING_KEY + uiState.tool);
    if (typeof last !== 'string' || last === '') return;
    if (!(await access(last).then(() => true, () => false))) return;
    await vscode.commands.executeCommand('bitcoinUsdt.openRecording', vscode.Uri.file(last));
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
    if (chosen) this.panelFor(chosen).show(true);
  }

  isOpen(tool: ToolPanelTool): boolean {
    return this.panels.get(tool)?.isOpen ?? false;
  }

  currentSessionId(tool: ToolPanelTool): string | null {
    return this.panels.get(tool)?.currentSessionId ?? null;
  }

  renderReport(tool: ToolPanelTool, timeoutMs?: number): Promise<ToolRenderReport> {
    return this.panelFor(tool).renderReport(timeoutMs);
  }

  setFilter(tool: ToolPanelTool, filter: ToolFilter): void {
    this.panels.get(tool)?.setFilter(filter);
  }

  focus(tool: ToolPanelTool): void {
    this.panels.get(tool)?.focus();
  }

  close(tool: ToolPanelTool): void {
    this.panels.get(tool)?.close();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    for (const panel of this.panels.values()) panel.dispose();
    this.panels.clear();
  }
}

/** Registers the tool panels, `bitcoinUsdt.showToolPanel` and the panels' serializer (after registerP2pPanel). */
export function registerToolPanels(services: Services): void {
  const { context, hub, api } = services;
  const panels = new ToolPanels(context, hub, () => api.p2pPanel?.recordings() ?? []);
  context.subscriptions.push(
    panels,
    vscode.commands.registerCommand('bitcoinUsdt.showToolPanel', (tool?: unknown) => panels.showCommand(tool)),
    vscode.window.registerWebviewPanelSerializer(TOOL_PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: (panel: vscode.WebviewPanel, state: unknown) => panels.restore(panel, state),
    }),
  );
  api.toolPanels = panels;
}
