import * as vscode from 'vscode';
import { BenchmarkPanelController } from '../benchmarkPanel/benchmarkPanelController';
import { RawMessagesPanelController } from '../rawMessagesPanel/rawMessagesPanelController';
import { registerRecording } from '../recording/registerRecording';
import type { Services } from '../services';
import { registerToolPanels } from '../toolPanels/registerToolPanels';
import { SHOW_TRACEPOINT_IN_PANEL } from '../../core/liveCounts/callSiteHover';
import { tracepointPanelFilter } from '../../core/liveCounts/tracepointFilter';
import { showInformation } from '../notifications';
import { compareTwoRuns, type ComparablePanel } from './compareRuns';
import { NetworkPanelController } from '../networkPanel/networkPanelController';
import { P2pPanelController } from './p2pPanelController';
import type { PanelHost, PanelModel, PanelServices } from './panelHost';
import { PanelPlacement } from './panelPlacement';
import { panelOfTool } from './panelRouting';
import type { PageTypes } from '../../shared/panelProtocol';

/** A panel's show command and the serializer that restores it after a window reload. */
function registerPanel<P extends Pick<PanelHost<PanelModel, PageTypes>, 'viewType' | 'show' | 'restore' | 'dispose'>>(services: Services, panel: P, showCommand: string): P {
  services.context.subscriptions.push(
    panel,
    vscode.commands.registerCommand(showCommand, () => panel.show(true)),
    vscode.window.registerWebviewPanelSerializer(panel.viewType, {
      deserializeWebviewPanel: (webviewPanel: vscode.WebviewPanel, state: unknown) => panel.restore(webviewPanel, state),
    }),
  );
  return panel;
}

/**
 * Every panel (P2P traffic, raw messages, the ConnectBlock benchmark, the tool panels) and the recordings that
 * feed them (automatic recording of live sessions, Save recording…, Open recording…, the startup recording).
 */
export function registerPanels(services: Services): void {
  const panelServices: PanelServices = {
    context: services.context,
    hub: services.hub,
    recordings: registerRecording(services),
    placement: new PanelPlacement(),
  };
  const { api } = services;
  const p2p = registerPanel(services, new P2pPanelController(panelServices), 'bitcoinUsdt.showP2pPanel');
  api.p2pPanel = p2p;
  const rawMessages = registerPanel(services, new RawMessagesPanelController(panelServices), 'bitcoinUsdt.showRawMessagesPanel');
  api.rawMessagesPanel = rawMessages;
  const benchmark = registerPanel(services, new BenchmarkPanelController(panelServices), 'bitcoinUsdt.showBenchmarkPanel');
  services.context.subscriptions.push(vscode.commands.registerCommand('bitcoinUsdt.compareBenchmarkRuns', (target?: unknown) => benchmark.compareWith(target)));
  api.benchmarkPanel = benchmark;
  api.networkPanel = registerPanel(services, new NetworkPanelController(panelServices), 'bitcoinUsdt.showNetworkPanel');
  const toolPanels = registerToolPanels(services, panelServices);

  /** A call site's "Show in panel": the session's panel, filtered to the tracepoint where the panel can filter. */
  const showTracepointInPanel = (target: unknown): void => {
    const { sessionId, tool, tracepoint } = (typeof target === 'object' && target !== null ? target : {}) as Record<string, unknown>;
    if (typeof sessionId !== 'string' || typeof tool !== 'string' || typeof tracepoint !== 'string') return;
    const panel = panelOfTool(tool);
    const filter = tracepointPanelFilter(tool, tracepoint);
    let shown = false;
    if (panel === 'p2p') shown = p2p.showSession(sessionId);
    else if (panel === 'rawMessages') shown = filter?.panel === 'rawMessages' ? rawMessages.showDirection(sessionId, filter.direction) : rawMessages.showSession(sessionId);
    else if (panel === 'benchmark') shown = benchmark.showSession(sessionId);
    else if (panel !== undefined && panel !== 'network') shown = filter?.panel === 'tool' ? toolPanels.showFiltered(panel, sessionId, filter.kind) : toolPanels.showSession(panel, sessionId);
    if (!shown) void showInformation(`No panel shows that ${tool} session any more (a panel keeps a few sessions; open its recording to see it again).`);
  };
  services.context.subscriptions.push(vscode.commands.registerCommand(SHOW_TRACEPOINT_IN_PANEL, showTracepointInPanel));
  const comparable: ComparablePanel[] = [p2p, rawMessages, benchmark, ...toolPanels.all()];
  services.context.subscriptions.push(vscode.commands.registerCommand('bitcoinUsdt.compareRuns', (a?: unknown, b?: unknown) => compareTwoRuns(comparable, a, b)));
}
