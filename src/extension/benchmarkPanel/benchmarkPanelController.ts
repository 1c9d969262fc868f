import { BenchmarkRun, benchmarkParamsOf, DEFAULT_BENCHMARK_LIMITS } from '../../core/benchmark/benchmarkRun';
import { compareRuns } from '../../core/benchmark/runComparison';
import type { NormalizedEvent } from '../../core/events/eventTypes';
import {
  DEFAULT_BENCHMARK_UI_STATE,
  BENCHMARK_PAGE,
  type BenchmarkPage,
  type BenchmarkRenderReport,
  type BenchmarkState,
  type BenchmarkUiState,
} from '../../shared/benchmarkProtocol';
import type { SessionDescriptor } from '../eventHub';
import { PanelHost, type OwnMessage, type PanelServices } from '../panels/panelHost';

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
export class BenchmarkPanelController extends PanelHost<BenchmarkRun, BenchmarkPage> implements BenchmarkPanelTestApi {
  private sort: Pick<BenchmarkUiState, 'sortColumn' | 'sortDescending'> = DEFAULT_BENCHMARK_UI_STATE;

  constructor(services: PanelServices) {
    super(services, {
      id: 'benchmark',
      viewType: 'bitcoinUsdt.benchmarkPanel',
      page: { bundle: 'benchmarkPanel', title: 'ConnectBlock', extraStyles: ['uPlot.min.css'] },
      what: 'the benchmark panel',
      flushIntervalMs: 500,
      maxSessions: 8,
      protocol: BENCHMARK_PAGE,
      recordingKind: 'a connectblock-benchmark recording',
    });
  }

  get runA(): string | null {
    return this.current;
  }

  get runB(): string | null {
    return this.compared;
  }

  protected acceptsEvent(event: NormalizedEvent): boolean {
    return BENCHMARK_EVENTS.has(event.event);
  }

  protected createModel(descriptor: SessionDescriptor): BenchmarkRun {
    return new BenchmarkRun(descriptor.id, descriptor.label, descriptor.source, DEFAULT_BENCHMARK_LIMITS, benchmarkParamsOf(descriptor.params));
  }

  protected restoreUiState(saved: BenchmarkUiState): void {
    if (this.tracks(saved.runA)) this.current = saved.runA;
    this.compared = this.tracks(saved.runB) ? saved.runB : null;
    this.sort = saved;
  }

  protected pageReady(saved: BenchmarkUiState | null): void {
    if (!saved) return;
    if (this.tracks(saved.runA)) this.current = saved.runA;
    if (this.tracks(saved.runB)) this.compared = saved.runB;
    this.sort = saved;
  }

  /** Run B changed: the page gets the whole state (it draws the comparison itself). */
  protected override comparisonChanged(): void {
    this.refresh();
  }

  protected handlePageMessage(message: OwnMessage<BenchmarkPage>): void {
    switch (message.type) {
      case 'uiState':
        this.sort = message.uiState;
        return;
      case 'selectRun':
        if (message.run === 'A' && this.tracks(message.sessionId)) this.showRun(message.sessionId);
        else if (message.run === 'B') this.setCompared(message.sessionId);
        return;
    }
  }

  private uiState(): BenchmarkUiState {
    return { runA: this.current, runB: this.compared, sortColumn: this.sort.sortColumn, sortDescending: this.sort.sortDescending };
  }

  private state(): BenchmarkState {
    const sessions = this.sessionChoices();
    const a = this.shown?.model.view() ?? null;
    const b = this.compared ? (this.sessions.get(this.compared)?.model.view() ?? null) : null;
    return { sessions, runA: a, runB: b, comparison: a && b ? compareRuns(a, b) : null };
  }

  private shownRuns(): BenchmarkRun[] {
    // Run A is the node shown when one is selected (PanelHost.shown).
    const runs: BenchmarkRun[] = [];
    const a = this.shown?.model;
    const b = this.compared === null ? undefined : this.sessions.get(this.compared)?.model;
    for (const run of [a, b]) if (run) runs.push(run);
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
