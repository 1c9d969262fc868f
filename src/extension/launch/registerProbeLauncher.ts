import * as vscode from 'vscode';
import type { Services } from '../services';
import type { ActiveProbeSession, LauncherApi } from './launcherApi';
import { pickLaunchRequests, type ProbeLaunchTarget } from './launchPickers';
import type { LiveProbeSession } from './liveProbeSession';
import { isLaunchRequest, type LaunchRequest } from './launchRequest';
import { LaunchRefused, PROBE_RUNNING_CONTEXT_KEY, ProbeLauncher } from './probeLauncher';
import { PROBE_STATUS_ACTIONS_COMMAND, ProbeStatusBar } from './probeStatusBar';
import { panelCommand, panelOfTool } from '../panels/panelRouting';
import { refusalNotices } from '../../core/tools/refusalNotices';
import { MANIFEST_TOOLS, type ManifestTool } from '../../core/tools/toolManifest';
import { currentFilterValues, FilterError, filterKeys, filterValueProblem, paramsWithFilters } from '../../core/tools/toolFilters';

export const FILTER_PROBE_COMMAND = 'bitcoinUsdt.filterProbe';

/** The tool of a session if it takes kernel filters (probes/tools.json parameters with a `filter` key). */
export function filterableTool(toolId: string): ManifestTool | undefined {
  const tool = MANIFEST_TOOLS.find((t) => t.id === toolId);
  return tool && filterKeys(tool).length > 0 ? tool : undefined;
}

/**
 * Start probe… / Stop probe, the terminal running the privileged helper, and the status bar item.
 * `bitcoinUsdt.startProbe` takes a tree node (asks for what it lacks; a "Probe tools" entry names the tool),
 * a LaunchRequest or an array of them (no questions: for tests and automation), or nothing; it resolves with
 * the session id (ids for several), or undefined when nothing started. Several probes run at once: those started
 * together share one helper terminal (one password), each its own session; `bitcoinUsdt.stopProbe` takes a
 * session id or "all", else asks which.
 */
export function registerProbeLauncher(services: Services): void {
  const { context, hub } = services;
  const statusBar = new ProbeStatusBar();
  const launcher = new ProbeLauncher(context.extensionPath, hub, statusBar);
  context.subscriptions.push(launcher);
  void vscode.commands.executeCommand('setContext', PROBE_RUNNING_CONTEXT_KEY, false);

  const alreadyShown = new WeakSet<LaunchRefused>();
  /**
   * Starts the requests together (one helper, one terminal, one password for those that pass the checks); a
   * refusal of one (said once per cause) does not hold back the others.
   */
  const startAll = async (requests: readonly LaunchRequest[], automated: boolean): Promise<string[]> => {
    const together = await launcher.startTogether(requests);
    const started = together.started.map((session) => session.descriptor.id);
    const firstRefusal: LaunchRefused | undefined = together.refused[0]?.error;
    const refusals = together.refused.map(({ request, error }) => ({ tool: request.tool, message: error.message, shared: error.shared }));
    for (const text of refusalNotices(refusals, requests.length)) launcher.notify({ level: 'error', text });
    if (firstRefusal) alreadyShown.add(firstRefusal);
    if (automated && firstRefusal && started.length === 0) throw firstRefusal;
    return started;
  };

  /**
   * A tree node or nothing: the pickers (several tools may be picked at once); a LaunchRequest: that probe
   * (resolves with its session id); an array of them: all of them (resolves with the session ids started).
   */
  const startProbe = async (argument?: ProbeLaunchTarget | LaunchRequest | readonly LaunchRequest[]): Promise<string | string[] | undefined> => {
    const many = Array.isArray(argument) && argument.every(isLaunchRequest);
    const automated = many || isLaunchRequest(argument);
    try {
      if (!vscode.workspace.isTrusted) {
        throw new LaunchRefused('Starting a probe runs a helper as root, which is disabled in untrusted workspaces. Trust this workspace first (Workspaces: Manage Workspace Trust).');
      }
      if (many) return await startAll(argument as readonly LaunchRequest[], true);
      if (automated) return (await startAll([argument as LaunchRequest], true))[0];
      const requests = await pickLaunchRequests(context.workspaceState, argument as ProbeLaunchTarget | undefined);
      if (!requests) return undefined;
      const started = await startAll(requests, false);
      return requests.length === 1 ? started[0] : started;
    } catch (error) {
      if (!(error instanceof LaunchRefused)) throw error;
      if (!alreadyShown.has(error)) launcher.notify({ level: 'error', text: error.message });
      if (automated) throw error;
      return undefined;
    }
  };

  /** The session the user means: the only one, or the one picked (with "all" offered when `offerAll`). */
  const pickSession = async (title: string, offerAll: boolean): Promise<LiveProbeSession | 'all' | undefined> => {
    const sessions = launcher.activeSessions;
    if (sessions.length <= 1) return sessions[0];
    type SessionItem = vscode.QuickPickItem & { readonly session: LiveProbeSession | 'all' };
    const items: SessionItem[] = [
      ...sessions.map((session) => ({
        label: `${session.state === 'connected' ? '$(pulse)' : '$(loading~spin)'} ${session.descriptor.label}`,
        description: session.state === 'connected' ? `${session.counters().delivered.toLocaleString('en-US')} events` : 'waiting for the helper',
        session,
      })),
      ...(offerAll ? [{ label: `$(debug-stop) All ${sessions.length} probes`, session: 'all' as const }] : []),
    ];
    return (await vscode.window.showQuickPick(items, { title, placeHolder: 'Which probe?' }))?.session;
  };

  /** Stop probe: a session id or "all" (automation); otherwise the only probe, or the one(s) picked. */
  const stopProbe = async (which?: unknown): Promise<void> => {
    if (which === 'all') return launcher.stop();
    if (typeof which === 'string') return launcher.stop(which);
    const picked = await pickSession('Stop probe', true);
    if (picked === 'all') await launcher.stop();
    else if (picked) await launcher.stop(picked.descriptor.id);
  };

  /**
   * Filter a running probe in the kernel: asks each of its tool's filters (prefilled with the current value,
   * empty = no filter), then stops the session and starts the same request with the new filters through the
   * launcher (the root command in a terminal as always). `sessionId`: which session (else the only one that
   * takes filters, or the one picked); `filters` (`KEY=VALUE`, tests and automation): no prompts, a key left
   * out is no filter, [] clears them. Resolves with the new session's id, or undefined when nothing started.
   */
  const filterProbe = async (sessionId?: unknown, filters?: unknown): Promise<string | undefined> => {
    const automated = Array.isArray(filters);
    if (automated && !filters.every((f) => typeof f === 'string')) throw new Error('bitcoinUsdt.filterProbe: the filters must be strings KEY=VALUE');
    const filterable = launcher.activeSessions.filter((s) => filterableTool(s.descriptor.tool));
    let session: LiveProbeSession | undefined;
    if (typeof sessionId === 'string') {
      session = filterable.find((s) => s.descriptor.id === sessionId);
      if (!session) {
        const text = 'That probe is no longer running or takes no kernel filters; start it again (Bitcoin USDT: Start probe…).';
        if (automated) throw new LaunchRefused(text);
        launcher.notify({ level: 'error', text });
        return undefined;
      }
    } else if (filterable.length <= 1) {
      session = filterable[0];
      if (!session) {
        const takers = MANIFEST_TOOLS.filter((t) => filterKeys(t).length > 0).map((t) => t.id).join(', ');
        launcher.notify({ level: 'error', text: `No running probe takes kernel filters (${takers} do): start one first (Bitcoin USDT: Start probe…).` });
        return undefined;
      }
    } else {
      const picked = await vscode.window.showQuickPick(
        filterable.map((s) => ({ label: s.descriptor.label, session: s })),
        { title: 'Filter a running probe in the kernel', placeHolder: 'Which probe?' },
      );
      session = picked?.session;
      if (!session) return undefined;
    }
    const id = session.descriptor.id;
    const request = launcher.requestOf(id);
    const tool = filterableTool(session.descriptor.tool);
    if (!request || !tool) return undefined;

    let chosen: string[];
    if (automated) chosen = filters as string[];
    else {
      const current = currentFilterValues(tool, request.params ?? {});
      const keys = filterKeys(tool);
      chosen = [];
      for (const [i, key] of keys.entries()) {
        const parameter = tool.parameters.find((p) => p.filter === key);
        const value = await vscode.window.showInputBox({
          title: `Kernel filter of ${session.descriptor.label} (${i + 1}/${keys.length}): ${key}`,
          prompt: `${parameter?.description ?? key} Empty: no filter.`,
          value: current[key],
          placeHolder: 'empty: no filter',
          ignoreFocusOut: true,
          validateInput: (typed) => filterValueProblem(tool, key, typed.trim()),
        });
        if (value === undefined) return undefined;
        chosen.push(`${key}=${value.trim()}`);
      }
    }
    let params: Record<string, string>;
    try {
      params = paramsWithFilters(tool, request.params ?? {}, chosen);
    } catch (error) {
      if (!(error instanceof FilterError)) throw error;
      throw new LaunchRefused(error.message);
    }
    if (!launcher.requestOf(id)) {
      launcher.notify({ level: 'error', text: `Probe ${tool.id} ended before its filters were chosen; start it again (Bitcoin USDT: Start probe…).` });
      return undefined;
    }
    await launcher.stop(id);
    return (await startAll([{ ...request, params }], automated))[0];
  };

  const showStatusActions = async (): Promise<void> => {
    const picked = await pickSession('Probe actions', false);
    if (!picked || picked === 'all') return;
    const session = picked;
    const panelId = panelOfTool(session.descriptor.tool);
    const panel = panelId ? panelCommand(panelId) : undefined;
    const others = launcher.activeSessions.length - 1;
    const actions = [
      ...(panel ? [{ label: `$(graph) ${panel.label}`, run: () => vscode.commands.executeCommand(panel.command, ...panel.args) }] : []),
      { label: '$(terminal) Show the helper terminal', run: () => session.terminal.show() },
      ...(filterableTool(session.descriptor.tool) ? [{ label: '$(filter) Filter in the kernel…', run: () => vscode.commands.executeCommand(FILTER_PROBE_COMMAND, session.descriptor.id) }] : []),
      { label: '$(debug-stop) Stop this probe', run: () => launcher.stop(session.descriptor.id) },
      ...(others > 0 ? [{ label: `$(debug-stop) Stop all ${others + 1} probes`, run: () => launcher.stop() }] : []),
    ];
    const chosen = await vscode.window.showQuickPick(actions, { title: session.descriptor.label, placeHolder: 'Probe actions' });
    await chosen?.run();
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('bitcoinUsdt.startProbe', startProbe),
    vscode.commands.registerCommand('bitcoinUsdt.stopProbe', stopProbe),
    vscode.commands.registerCommand(FILTER_PROBE_COMMAND, async (sessionId?: unknown, filters?: unknown) => {
      try {
        return await filterProbe(sessionId, filters);
      } catch (error) {
        if (!(error instanceof LaunchRefused)) throw error;
        if (!alreadyShown.has(error)) launcher.notify({ level: 'error', text: error.message });
        if (Array.isArray(filters)) throw error;
        return undefined;
      }
    }),
    vscode.commands.registerCommand(PROBE_STATUS_ACTIONS_COMMAND, showStatusActions),
  );

  const observed = (session: LiveProbeSession): ActiveProbeSession => ({
    descriptor: session.descriptor, state: session.state, command: session.command, terminal: session.terminal.terminal, counters: session.counters(),
  });
  const api: LauncherApi = {
    activeSession: () => {
      const session = launcher.activeSession;
      return session ? observed(session) : undefined;
    },
    activeSessions: () => launcher.activeSessions.map(observed),
    lastCommandLine: () => launcher.lastCommandLine,
    lastTerminal: () => launcher.lastTerminal,
    previewRootCommand: (request) => launcher.previewRootCommand(request),
    recentNotices: () => [...launcher.recentNotices],
    recentLog: () => [...launcher.recentLog],
    statusBarText: () => statusBar.text,
    onDidReceiveEvents: hub.onDidReceiveEvents,
    onDidEndSession: hub.onDidEndSession,
  };
  services.api.launcher = api;
}
