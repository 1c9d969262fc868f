import * as vscode from 'vscode';
import { BenchmarkRun } from '../../core/benchmark/benchmarkRun';
import { compareRuns } from '../../core/benchmark/runComparison';
import type { NormalizedEvent } from '../../core/events/eventTypes';
import {
  DEFAULT_BENCHMARK_UI_STATE,
  parseBenchmarkFromWebview,
  parseBenchmarkUiState,
  type BenchmarkRenderReport,
  type BenchmarkState,
  type BenchmarkUiState,
  type FromWebview,
  type SessionChoice,
  type ToWebview,
} from '../../shared/benchmarkProtocol';
import type { EventHub, SessionDescriptor } from '../eventHub';
import { webviewBuildRoot } from '../panels/webviewPageHtml';
import { connectWebviewPanel } from '../panels/webviewConnection';
import { RenderReportRequests } from '../panels/renderReportRequest';

export const BENCHMARK_PANEL_VIEW_TYPE = 'bitcoinUsdt.benchmarkPanel';
export const BENCHMARK_TOOL = 'connectblock-benchmark';
/** Runs held for comparison (each is small and bounded); the oldest ended ones not shown go first. */
export const MAX_BENCHMARK_RUNS = 8;
const FLUSH_INTERVAL_MS = 500;
const BENCHMARK_EVENTS: ReadonlySet<string> = new Set(['validation:block_connected', 'validation:block_rates', 'validation:connect_histogram', 'validation:connect_summary']);

/** What integration tests see of the panel. */
export interface BenchmarkPanelTestApi {
  readonly isOpen: boolean;
  readonly runA: string | null;
  readonly runB: string | null;
  renderReport(timeoutMs?: number): Promise<BenchmarkRenderReport>;
}

interface TrackedRun {
  readonly descriptor: SessionDescriptor;
  readonly run: BenchmarkRun;
}

function isBenchmarkEvent(event: NormalizedEvent): boolean {
  return BENCHMARK_EVENTS.has(event.event);
}

/**
 * The ConnectBlock benchmark panel: rates, connect-time histogram, slow blocks and totals of a
 * connectblock-benchmark run (A), and optionally a second run (B) on the same axes. Sends the whole
 * (bounded) state at most twice a second while visible, and at once when the webview asks.
 */
export class BenchmarkPanelController implements vscode.Disposable, BenchmarkPanelTestApi {
  private panel: vscode.WebviewPanel | undefined;
  private connection: vscode.Disposable | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private readonly runs = new Map<string, TrackedRun>();
  private uiState: BenchmarkUiState = DEFAULT_BENCHMARK_UI_STATE;
  /** Set while "Compare with…" opens a recording: the session it starts becomes run B, not run A. */
  private openingForComparison = 0;
  private dirty = true;
  private readonly renderReports = new RenderReportRequests<BenchmarkRenderReport>({ what: 'the benchmark panel', panel: () => this.panel, ready: () => this.ready });

  constructor(
    private readonly context: vscode.ExtensionContext,
    hub: EventHub,
  ) {
    this.disposables.push(
      hub.onDidStartSession((session) => {
        if (session.tool === BENCHMARK_TOOL) this.track(session);
      }),
      hub.onDidReceiveEvents(({ session, events }) => {
        let tracked = this.runs.get(session.id);
        if (!tracked && events.some(isBenchmarkEvent)) tracked = this.track(session);
        tracked?.run.ingestAll(events);
      }),
      hub.onDidEndSession(({ session, reason }) => {
        const tracked = this.runs.get(session.id);
        if (!tracked) return;
        tracked.run.markEnded(reason);
        this.dirty = true;
      }),
    );
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  get runA(): string | null {
    return this.uiState.runA;
  }

  get runB(): string | null {
    return this.uiState.runB;
  }

  private track(session: SessionDescriptor): TrackedRun {
    const tracked: TrackedRun = { descriptor: session, run: new BenchmarkRun(session.id, session.label, session.source) };
    this.runs.set(session.id, tracked);
    if (this.openingForComparison > 0 && this.uiState.runA !== null) this.uiState = { ...this.uiState, runB: session.id };
    else this.uiState = { ...this.uiState, runA: session.id, runB: this.uiState.runB === session.id ? null : this.uiState.runB };
    for (const [id, other] of this.runs) {
      if (this.runs.size <= MAX_BENCHMARK_RUNS) break;
      if (other.run.isEnded && id !== this.uiState.runA && id !== this.uiState.runB) this.runs.delete(id);
    }
    this.dirty = true;
    this.show(true); // a new session was asked for: bring its panel to the front
    this.postState();
    return tracked;
  }

  /** Opens the panel beside the editor; `reveal`: also bring an open but hidden panel to the front. */
  show(reveal = false): void {
    if (this.panel) {
      if (reveal) this.panel.reveal(undefined, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      BENCHMARK_PANEL_VIEW_TYPE,
      'ConnectBlock benchmark',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [webviewBuildRoot(this.context.extensionUri)], retainContextWhenHidden: false },
    );
    this.attach(panel);
  }

  /** Takes over a panel restored after a window reload (runs are not persisted: it shows what is tracked). */
  restore(panel: vscode.WebviewPanel, state: unknown): void {
    const saved = parseBenchmarkUiState(state);
    this.uiState = { ...saved, runA: saved.runA && this.runs.has(saved.runA) ? saved.runA : this.uiState.runA, runB: saved.runB && this.runs.has(saved.runB) ? saved.runB : null };
    this.attach(panel);
  }

  /**
   * Chooses run B: a tracked session id, a recording file to open, or (no argument) a pick among the
   * other runs and "Open recording…". Returns run B's session id.
   */
  async compareWith(target?: unknown): Promise<string | undefined> {
    if (typeof target === 'string' && this.runs.has(target)) return this.setRunB(target);
    let uri = target instanceof vscode.Uri ? target : undefined;
    if (!uri) {
      interface RunPick extends vscode.QuickPickItem {
        readonly sessionId?: string;
      }
      const picks: RunPick[] = [...this.runs.values()]
        .filter((r) => r.descriptor.id !== this.uiState.runA)
        .reverse()
        .map((r) => ({ label: r.descriptor.label, description: `${r.descriptor.source}, started ${r.descriptor.startedAt}`, sessionId: r.descriptor.id }));
      picks.push({ label: '$(folder-opened) Open recording…', description: 'a connectblock-benchmark recording (.ndjson)' });
      const picked = await vscode.window.showQuickPick(picks, { title: 'Compare the benchmark with which run?' });
      if (!picked) return undefined;
      if (picked.sessionId) return this.setRunB(picked.sessionId);
      const files = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Compare with', filters: { 'Bitcoin USDT recordings': ['ndjson'], 'All files': ['*'] } });
      uri = files?.[0];
      if (!uri) return undefined;
    }
    this.show(true);
    this.openingForComparison++;
    let sessionId: string | undefined;
    try {
      sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', uri);
    } finally {
      this.openingForComparison--;
    }
    if (sessionId === undefined) return undefined;
    if (!this.runs.has(sessionId)) {
      void vscode.window.showWarningMessage('Bitcoin USDT: that recording holds no connectblock-benchmark events.');
      return undefined;
    }
    return this.setRunB(sessionId);
  }

  private setRunB(sessionId: string | null): string | undefined {
    this.uiState = { ...this.uiState, runB: sessionId === this.uiState.runA ? null : sessionId };
    this.dirty = true;
    this.postState();
    return this.uiState.runB ?? undefined;
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.detach();
    this.panel = panel;
    this.ready = false;
    this.connection = connectWebviewPanel(panel, {
      extensionUri: this.context.extensionUri,
      page: { bundle: 'benchmarkPanel', title: 'ConnectBlock benchmark', extraStyles: ['uPlot.min.css'] },
      parseMessage: parseBenchmarkFromWebview,
      onMessage: (message) => this.handleMessage(message),
      onVisible: () => {
        if (this.ready) this.postState();
      },
      onDispose: () => {
        if (this.panel === panel) this.detach();
      },
      flush: () => this.flush(),
      flushIntervalMs: FLUSH_INTERVAL_MS,
    });
  }

  private detach(): void {
    this.connection?.dispose();
    this.connection = undefined;
    this.panel = undefined;
    this.ready = false;
  }

  private handleMessage(message: FromWebview): void {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        if (message.uiState) {
          const saved = message.uiState;
          this.uiState = {
            ...saved,
            runA: saved.runA && this.runs.has(saved.runA) ? saved.runA : this.uiState.runA,
            runB: saved.runB && this.runs.has(saved.runB) ? saved.runB : this.uiState.runB,
          };
        }
        this.postState();
        return;
      case 'uiState':
        this.uiState = { ...this.uiState, sortColumn: message.uiState.sortColumn, sortDescending: message.uiState.sortDescending };
        return;
      case 'selectRun':
        if (message.run === 'A' && message.sessionId && this.runs.has(message.sessionId)) {
          this.uiState = { ...this.uiState, runA: message.sessionId, runB: this.uiState.runB === message.sessionId ? null : this.uiState.runB };
          this.postState();
        } else if (message.run === 'B') {
          this.setRunB(message.sessionId && this.runs.has(message.sessionId) ? message.sessionId : null);
        }
        return;
      case 'compareWith':
        void this.compareWith();
        return;
      case 'renderReport':
        this.renderReports.answer(message.requestId, message.report);
        return;
    }
  }

  private state(): BenchmarkState {
    const sessions: SessionChoice[] = [...this.runs.values()].map(({ descriptor, run }) => ({
      id: descriptor.id,
      label: descriptor.label,
      source: descriptor.source,
      startedAt: descriptor.startedAt,
      ended: run.isEnded,
    }));
    const a = this.uiState.runA ? this.runs.get(this.uiState.runA)?.run.view() ?? null : null;
    const b = this.uiState.runB ? this.runs.get(this.uiState.runB)?.run.view() ?? null : null;
    return { sessions, runA: a, runB: b, comparison: a && b ? compareRuns(a, b) : null };
  }

  private postState(): void {
    if (!this.panel || !this.ready) return;
    this.dirty = false;
    for (const id of [this.uiState.runA, this.uiState.runB]) if (id) this.runs.get(id)?.run.takeChanged();
    const message: ToWebview = { type: 'state', state: this.state(), uiState: this.uiState };
    void this.panel.webview.postMessage(message).then(undefined, () => undefined);
  }

  private flush(): void {
    if (!this.panel || !this.ready || !this.panel.visible) return;
    let changed = this.dirty;
    for (const id of [this.uiState.runA, this.uiState.runB]) if (id && this.runs.get(id)?.run.takeChanged()) changed = true;
    if (changed) this.postState();
  }

  renderReport(timeoutMs = 10_000): Promise<BenchmarkRenderReport> {
    return this.renderReports.request(timeoutMs, (requestId) => void this.panel?.webview.postMessage({ type: 'requestRenderReport', requestId } satisfies ToWebview));
  }

  dispose(): void {
    this.panel?.dispose();
    this.detach();
    for (const d of this.disposables) d.dispose();
    this.runs.clear();
  }
}
