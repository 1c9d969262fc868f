import * as vscode from 'vscode';
import type { Services } from '../services';
import { BENCHMARK_PANEL_VIEW_TYPE, BenchmarkPanelController } from './benchmarkPanelController';

/** The ConnectBlock benchmark panel: opens by itself when a connectblock-benchmark session (live or recording) starts. */
export function registerBenchmarkPanel(services: Services): BenchmarkPanelController {
  const { context, hub } = services;
  const controller = new BenchmarkPanelController(context, hub);
  context.subscriptions.push(
    controller,
    vscode.commands.registerCommand('bitcoinUsdt.showBenchmarkPanel', () => controller.show(true)),
    vscode.commands.registerCommand('bitcoinUsdt.compareBenchmarkRuns', (target?: unknown) => controller.compareWith(target)),
    vscode.window.registerWebviewPanelSerializer(BENCHMARK_PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => controller.restore(panel, state),
    }),
  );
  services.api.benchmarkPanel = controller;
  return controller;
}
