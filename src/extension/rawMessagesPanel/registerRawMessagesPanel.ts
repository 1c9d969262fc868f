import * as vscode from 'vscode';
import type { Services } from '../services';
import { RAW_MESSAGES_PANEL_VIEW_TYPE, RawMessagesPanelController } from './rawMessagesPanelController';

/** The Raw P2P messages panel: opens by itself when a raw-p2p-msgs session (live or recording) starts. */
export function registerRawMessagesPanel(services: Services): RawMessagesPanelController {
  const { context, hub } = services;
  const controller = new RawMessagesPanelController(context, hub);
  context.subscriptions.push(
    controller,
    vscode.commands.registerCommand('bitcoinUsdt.showRawMessagesPanel', () => controller.show(true)),
    vscode.window.registerWebviewPanelSerializer(RAW_MESSAGES_PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => controller.restore(panel, state),
    }),
  );
  services.api.rawMessagesPanel = controller;
  return controller;
}
