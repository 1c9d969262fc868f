import * as vscode from 'vscode';
import { EventHub } from './eventHub';
import type { Services } from './services';
import type { ExtensionApi } from './testApi';
import { registerTracepointTree } from './tree/registerTracepointTree';
import { registerProbeLauncher } from './launch/registerProbeLauncher';
import { registerPanels } from './panels/registerPanels';
import { registerLiveCounts } from './liveCounts/liveCounts';
import { registerTraceThis } from './traceThis/registerTraceThis';
import { registerFunctionalTest } from './functionalTest/registerFunctionalTest';

/** Composition root: build the services, let each feature register itself, nothing else. */
export function activate(context: vscode.ExtensionContext): ExtensionApi {
  const hub = new EventHub();
  context.subscriptions.push(hub);
  const api: ExtensionApi = {};
  const services: Services = { context, hub, api };
  const liveCounts = registerLiveCounts(services);
  const tree = registerTracepointTree(services, liveCounts);
  registerProbeLauncher(services);
  registerPanels(services);
  registerTraceThis(services, tree.model, tree.callSites);
  registerFunctionalTest(services, tree.selectedBinary);
  return api;
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
