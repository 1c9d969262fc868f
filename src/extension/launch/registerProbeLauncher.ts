import * as vscode from 'vscode';
import type { Services } from '../services';
import type { LauncherApi } from './launcherApi';
import { pickLaunchRequest, type ProbeLaunchTarget } from './launchPickers';
import { isLaunchRequest, type LaunchRequest } from './launchRequest';
import { LaunchRefused, PROBE_RUNNING_CONTEXT_KEY, ProbeLauncher } from './probeLauncher';
import { PROBE_STATUS_ACTIONS_COMMAND, ProbeStatusBar } from './probeStatusBar';
import { panelCommand, panelOfTool } from '../panels/panelRouting';
import { showWarning } from '../notifications';

/**
 * Start probe… / Stop probe, the terminal running the privileged helper, and the status bar item.
 * `bitcoinUsdt.startProbe` takes a tree node (asks for what it lacks; a "Probe tools" entry names the tool),
 * a LaunchRequest (no questions: for tests and automation), or nothing; it resolves with the session id, or
 * undefined when nothing started.
 */
export function registerProbeLauncher(services: Services): void {
  const { context, hub } = services;
  const statusBar = new ProbeStatusBar();
  const launcher = new ProbeLauncher(context.extensionPath, hub, statusBar);
  context.subscriptions.push(launcher);
  void vscode.commands.executeCommand('setContext', PROBE_RUNNING_CONTEXT_KEY, false);

  const startProbe = async (argument?: ProbeLaunchTarget | LaunchRequest): Promise<string | undefined> => {
    const automated = isLaunchRequest(argument);
    try {
      if (!vscode.workspace.isTrusted) {
        throw new LaunchRefused('Starting a probe runs a helper as root, which is disabled in untrusted workspaces. Trust this workspace first (Workspaces: Manage Workspace Trust).');
      }
      if (!automated && launcher.activeSession) {
        const stopFirst = await showWarning(`A probe is already running (${launcher.activeSession.descriptor.label}).`, {}, 'Stop it and start another');
        if (!stopFirst) return undefined;
        await launcher.stop();
      }
      const request = automated ? argument : await pickLaunchRequest(context.workspaceState, argument);
      if (!request) return undefined;
      const session = await launcher.start(request);
      return session.descriptor.id;
    } catch (error) {
      if (!(error instanceof LaunchRefused)) throw error;
      launcher.notify({ level: 'error', text: error.message });
      if (automated) throw error;
      return undefined;
    }
  };

  const showStatusActions = async (): Promise<void> => {
    const session = launcher.activeSession;
    if (!session) return;
    const panelId = panelOfTool(session.descriptor.tool);
    const panel = panelId ? panelCommand(panelId) : undefined;
    const actions = [
      ...(panel ? [{ label: `$(graph) ${panel.label}`, run: () => vscode.commands.executeCommand(panel.command, ...panel.args) }] : []),
      { label: '$(terminal) Show the helper terminal', run: () => session.terminal.show() },
      { label: '$(debug-stop) Stop probe', run: () => launcher.stop() },
    ];
    const picked = await vscode.window.showQuickPick(actions, { title: session.descriptor.label, placeHolder: 'Probe actions' });
    await picked?.run();
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('bitcoinUsdt.startProbe', startProbe),
    vscode.commands.registerCommand('bitcoinUsdt.stopProbe', () => launcher.stop()),
    vscode.commands.registerCommand(PROBE_STATUS_ACTIONS_COMMAND, showStatusActions),
  );

  const api: LauncherApi = {
    activeSession: () => {
      const session = launcher.activeSession;
      return session
        ? { descriptor: session.descriptor, state: session.state, command: session.command, terminal: session.terminal.terminal, counters: session.counters() }
        : undefined;
    },
    lastCommandLine: () => launcher.lastCommandLine,
    lastTerminal: () => launcher.lastTerminal,
    previewRootCommand: (request) => launcher.previewRootCommand(request),
    recentNotices: () => [...launcher.recentNotices],
    statusBarText: () => statusBar.text,
    onDidReceiveEvents: hub.onDidReceiveEvents,
    onDidEndSession: hub.onDidEndSession,
  };
  services.api.launcher = api;
}
