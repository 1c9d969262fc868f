import * as vscode from 'vscode';
import { registerRecording } from '../recording/registerRecording';
import type { Services } from '../services';
import { P2P_PANEL_VIEW_TYPE, P2pPanelController } from './p2pPanelController';

/**
 * The P2P traffic panel and the recordings that feed it (automatic recording of live sessions,
 * Save recording…, Open recording…, the startup recording setting).
 */
export function registerP2pPanel(services: Services): void {
  const { context, hub } = services;
  const recordings = registerRecording(services);
  const controller = new P2pPanelController(context, hub, recordings);
  context.subscriptions.push(
    controller,
    vscode.commands.registerCommand('bitcoinUsdt.showP2pPanel', () => controller.show(true)),
    vscode.window.registerWebviewPanelSerializer(P2P_PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: (panel: vscode.WebviewPanel, state: unknown) => controller.restore(panel, state),
    }),
  );
  services.api.p2pPanel = controller;
}
