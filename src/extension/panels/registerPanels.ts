import * as vscode from 'vscode';
import { BenchmarkPanelController } from '../benchmarkPanel/benchmarkPanelController';
import { RawMessagesPanelController } from '../rawMessagesPanel/rawMessagesPanelController';
import { registerRecording } from '../recording/registerRecording';
import type { Services } from '../services';
import { registerToolPanels } from '../toolPanels/registerToolPanels';
import { P2pPanelController } from './p2pPanelController';
import type { PanelHost, PanelModel, PanelServices } from './panelHost';
import { PanelPlacement } from './panelPlacement';

/** A panel's show command and the serializer that restores it after a window reload. */
function registerPanel<P extends Pick<PanelHost<PanelModel, unknown, { readonly type: string }, unknown, unknown>, 'viewType' | 'show' | 'restore' | 'dispose'>>(services: Services, panel: P, showCommand: string): P {
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
  api.p2pPanel = registerPanel(services, new P2pPanelController(panelServices), 'bitcoinUsdt.showP2pPanel');
  api.rawMessagesPanel = registerPanel(services, new RawMessagesPanelController(panelServices), 'bitcoinUsdt.showRawMessagesPanel');
  const benchmark = registerPanel(services, new BenchmarkPanelController(panelServices), 'bitcoinUsdt.showBenchmarkPanel');
  services.context.subscriptions.push(vscode.commands.registerCommand('bitcoinUsdt.compareBenchmarkRuns', (target?: unknown) => benchmark.compareWith(target)));
  api.benchmarkPanel = benchmark;
  registerToolPanels(services, panelServices);
}
