import * as vscode from 'vscode';
import { EventHub } from './eventHub';
import type { Services } from './services';
import type { ExtensionApi } from './testApi';
import { registerTracepointTree } from './tree/registerTracepointTree';
import { registerProbeLauncher } from './launch/registerProbeLauncher';
import { registerP2pPanel } from './panels/registerP2pPanel';
import { registerRawMessagesPanel } from './rawMessagesPanel/registerRawMessagesPanel';
import { registerBenchmarkPanel } from './benchmarkPanel/registerBenchmarkPanel';
import { registerToolPanels } from './toolPanels/registerToolPanels';

/** Composition root: build the services, let each feature register itself, nothing else. */
export function activate(context: vscode.ExtensionContext): ExtensionApi {
  const hub = new EventHub();
  context.subscriptions.push(hub);
  const api: ExtensionApi = {};
  const services: Services = { context, hub, api };
  registerTracepointTree(services);
  registerProbeLauncher(services);
  registerP2pPanel(services);
  registerRawMessagesPanel(services);
  registerBenchmarkPanel(services);
  registerToolPanels(services);
  return api;
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
