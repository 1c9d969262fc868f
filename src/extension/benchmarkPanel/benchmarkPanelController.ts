import * as vscode from 'vscode';
import { BenchmarkRun, benchmarkParamsOf, DEFAULT_BENCHMARK_LIMITS } from '../../core/benchmark/benchmarkRun';
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
  type ToWebview,
} from '../../shared/benchmarkProtocol';
import type { SessionDescriptor } from '../eventHub';
import { PanelHost, type PanelServices, type PanelSession } from '../panels/panelHost';
import { showWarning } from '../notifications';

export const BENCHMARK_PANEL_VIEW_TYPE = 'bitcoinUsdt.benchmarkPanel';
/** Runs held for comparison (each is small and bounded); the oldest ended ones not shown go first. */
export const MAX_BENCHMARK_RUNS = 8;
const BENCHMARK_EVENTS: ReadonlySet<string> = new Set(['validation:block_connected', 'validation:block_rates', 'validation:connect_histogram', 'validation:connect_summary']);

/** What integration tests see of the panel. */
export interface BenchmarkPanelTestApi {
  readonly isOpen: boolean;
  readonly runA: string | null;
  readonly runB: string | null;
  renderReport(timeoutMs?: number): Promise<BenchmarkRenderReport>;
}

/**
 * The ConnectBlock benchmark panel: rates, connect-time histogram, slow blocks and totals of a
 * connectblock-benchmark run (A: the session shown), and optionally a second run (B) on the same axes. Sends
 * the whole (bounded) state at most twice a second while visible, and at once when the webview asks. Runs are
 * not replayed after a window reload: the panel shows what is tracked.
 */
export class BenchmarkPanelController extends PanelHost<BenchmarkRun, BenchmarkUiState, FromWebview, ToWebview, BenchmarkRenderReport> implements BenchmarkPanelTestApi {
  private runBId: string | null = null;
  private sort: Pick<BenchmarkUiState, 'sortColumn' | 'sortDescending'> = DEFAULT_BENCHMARK_UI_STATE;
  /** Set while "Compare with…" opens a recording: the session it starts becomes run B, not run A. */
  private openingForComparison = 0;

  constructor(services: PanelServices) {
    super(services, {
      id: 'benchmark',
      viewType: BENCHMARK_PANEL_VIEW_TYPE,
      page: { bundle: 'benchmarkPanel', title: 'ConnectBlock benchmark', extraStyles: ['uPlot.min.css'] },
      what: 'the benchmark panel',
      flushIntervalMs: 500,
      maxSessions: MAX_BENCHMARK_RUNS,
      parseUiState: parseBenchmarkUiState,
    });
  }

  get runA(): string | null {
    return this.current;
  }

  get runB(): string | null {
    return this.runBId;
  }

  protected acceptsEvent(event: NormalizedEvent): boolean {
    return BENCHMARK_EVENTS.has(event.event);
  }

  protected createModel(descriptor: SessionDescriptor): BenchmarkRun {
    return new BenchmarkRun(descriptor.id, descriptor.label, descriptor.source, DEFAULT_BENCHMARK_LIMITS, benchmarkParamsOf(descriptor.params));
  }

  protected parsePageMessage(raw: unknown): FromWebview | undefined {
    return parseBenchmarkFromWebview(raw);
  }

  protected override tracked(session: PanelSession<BenchmarkRun>): void {
    const id = session.descriptor.id;
    if (this.openingForComparison > 0 && this.current !== null) {
      this.setRunB(id);
      return;
    }
    if (this.runBId === id) this.runBId = null;
    this.select(id);
  }

  protected override pinned(id: string): boolean {
    return id === this.runBId;
  }

  private tracks(id: string | null): id is string {
    return id !== null && this.sessions.has(id);
  }

  protected restoreUiState(saved: BenchmarkUiState): void {
    if (this.tracks(saved.runA)) this.current = saved.runA;
    this.runBId = this.tracks(saved.runB) ? saved.runB : null;
    this.sort = saved;
  }

  protected pageReady(saved: BenchmarkUiState | null): void {
    if (!saved) return;
    if (this.tracks(saved.runA)) this.current = saved.runA;
    if (this.tracks(saved.runB)) this.runBId = saved.runB;
    this.sort = saved;
  }

  /**
   * Chooses run B: a tracked session id, a recording file to open, or (no argument) a pick among the
   * other runs and "Open recording…". Returns run B's session id.
   */
  async compareWith(target?: unknown): Promise<string | undefined> {
    if (typeof target === 'string' && this.sessions.has(target)) return this.setRunB(target);
    let uri = target instanceof vscode.Uri ? target : undefined;
    if (!uri) {
      interface RunPick extends vscode.QuickPickItem {
        readonly sessionId?: string;
      }
      const picks: RunPick[] = [...this.sessions.values()]
        .filter((r) => r.descriptor.id !== this.current)
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
    if (!this.sessions.has(sessionId)) {
      void showWarning('Bitcoin USDT: that recording holds no connectblock-benchmark events.');
      return undefined;
    }
    return this.setRunB(sessionId);
  }

  private setRunB(sessionId: string | null): string | undefined {
    this.runBId = sessionId === this.current ? null : sessionId;
    this.refresh();
    return this.runBId ?? undefined;
  }

  protected handlePageMessage(message: Exclude<FromWebview, { type: 'ready' | 'selectSession' | 'renderReport' }>): void {
    switch (message.type) {
      case 'uiState':
        this.sort = message.uiState;
        return;
      case 'selectRun':
        if (message.run === 'A' && this.tracks(message.sessionId)) {
          if (this.runBId === message.sessionId) this.runBId = null;
          if (message.sessionId === this.current) this.refresh();
          else this.select(message.sessionId);
        } else if (message.run === 'B') {
          this.setRunB(this.tracks(message.sessionId) ? message.sessionId : null);
        }
        return;
      case 'compareWith':
        void this.compareWith();
        return;
    }
  }

  private uiState(): BenchmarkUiState {
    return { runA: this.current, runB: this.runBId, sortColumn: this.sort.sortColumn, sortDescending: this.sort.sortDescending };
  }

  private state(): BenchmarkState {
    const sessions = this.sessionChoices();
    const a = this.shown?.model.view() ?? null;
    const b = this.runBId ? (this.sessions.get(this.runBId)?.model.view() ?? null) : null;
    return { sessions, runA: a, runB: b, comparison: a && b ? compareRuns(a, b) : null };
  }

  private shownRuns(): BenchmarkRun[] {
    const runs: BenchmarkRun[] = [];
    for (const id of [this.current, this.runBId]) {
      const run = id === null ? undefined : this.sessions.get(id)?.model;
      if (run) runs.push(run);
    }
    return runs;
  }

  protected postSnapshot(): void {
    this.sessionsChanged = false;
    for (const run of this.shownRuns()) run.takeChanged();
    this.post({ type: 'state', state: this.state(), uiState: this.uiState() });
  }

  protected postDelta(): void {
    let changed = this.sessionsChanged;
    for (const run of this.shownRuns()) if (run.takeChanged()) changed = true;
    if (changed) this.postSnapshot();
  }
}
