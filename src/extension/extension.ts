import * as vscode from 'vscode';
import { EventHub } from './eventHub';
import type { Services } from './services';
import { registerTracepointTree } from './tree/registerTracepointTree';
import { registerProbeLauncher } from './launch/registerProbeLauncher';
import { registerP2pPanel } from './panels/registerP2pPanel';

/** Composition root: build the services, let each feature register itself, nothing else. */
export function activate(context: vscode.ExtensionContext): void {
  const hub = new EventHub();
  context.subscriptions.push(hub);
  const services: Services = { context, hub };
  registerTracepointTree(services);
  registerProbeLauncher(services);
  registerP2pPanel(services);
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
