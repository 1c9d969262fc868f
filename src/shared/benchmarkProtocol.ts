// The typed messages between the extension host and the ConnectBlock benchmark webview (one interface per
// message, `ToWebview` / `FromWebview` unions narrowed by `type`).
//
// Numbers: heights, block/transaction/input/sigop counts and nanosecond times cross as numbers. They are
// sums over the blocks of one chain (≈ 10^9 transactions, connect times of hours ≈ 10^13 ns), far below 2^53.
// Block hashes cross as 64 hex digits in display order.

import type { ChartReport } from './chartAxis';
import type { DataFrameTimes } from './panelTiming';
import { isRecord, pageProtocol, sessionIdOrNull, type CommonFromWebview, type PageProtocol, type PageTypes, type NodeSelectorReport, type NodesMessage, type PickNodeMessage, type RenderReportRequest, type SessionChoice, type ActiveElementCounts, type UiStateMessage } from './panelProtocol';

export interface RateSeries {
  /** Seconds since the run's first block (or first rate snapshot), one entry per point. */
  readonly seconds: readonly number[];
  readonly blocksPerS: readonly number[];
  readonly transactionsPerS: readonly number[];
  readonly inputsPerS: readonly number[];
  readonly sigopsPerS: readonly number[];
  /** Seconds each point covers (1 normally; larger after long runs were thinned to stay bounded). */
  readonly pointSeconds: number;
}

export interface HistogramBucket {
  /** Microseconds, inclusive; null: bpftrace's bucket of negative values. */
  readonly min: number | null;
  readonly max: number;
  readonly count: number;
}

export interface SlowBlock {
  readonly height: number;
  readonly hash: string;
  readonly transactions: number;
  readonly inputs: number;
  readonly sigops: number;
  readonly durationNs: number;
  readonly elapsedNs: number;
}

export interface BenchmarkTotals {
  readonly blocks: number;
  readonly transactions: number;
  readonly inputs: number;
  readonly sigops: number;
  /** Sum of the counted blocks' connect times. */
  readonly connectTimeNs: number;
  /** Blocks over the threshold (streamed one by one). */
  readonly printed: number;
}

export interface BenchmarkSummary {
  readonly startHeight: number;
  /** 0: no end height. */
  readonly endHeight: number;
  readonly thresholdMs: number;
  readonly totals: BenchmarkTotals;
  /** From the first counted block to the last one; null when no block was counted. */
  readonly wallTimeNs: number | null;
}

/** The probe's parameters: from the session while it runs (live), from the summary once it has one. */
export interface BenchmarkParams {
  readonly startHeight: number;
  /** 0: no end height. */
  readonly endHeight: number;
  readonly thresholdMs: number;
}

export interface SessionNote {
  readonly level: 'info' | 'warning' | 'error';
  readonly message: string;
}

export interface BenchmarkRunView {
  readonly sessionId: string;
  readonly label: string;
  readonly source: 'live' | 'recording';
  readonly ended: boolean;
  readonly endReason: string | null;
  /** Probes attached (null: not yet). */
  readonly attachedProbes: number | null;
  /** The helper connected (its target record arrived). */
  readonly helperConnected: boolean;
  readonly rates: RateSeries;
  /** Connect times in µs (power-of-2 buckets), cumulative. */
  readonly histogram: readonly HistogramBucket[];
  /** 'kernel': bpftrace's histogram of every counted block; 'blocks': built from the streamed blocks only. */
  readonly histogramSource: 'kernel' | 'blocks' | 'none';
  /** The slowest blocks over the threshold (bounded), slowest first. */
  readonly slowBlocks: readonly SlowBlock[];
  /** Blocks over the threshold received (the table keeps the slowest of them). */
  readonly slowBlocksReceived: number;
  readonly totals: BenchmarkTotals | null;
  readonly summary: BenchmarkSummary | null;
  /** Heights and threshold: the summary's, else the session's launch parameters; null when neither is known yet. */
  readonly params: BenchmarkParams | null;
  /**
   * Before the summary: from the first counted block to the newest one seen so far (per-second rate snapshots
   * included, so to about a second); null when no block was counted yet.
   */
  readonly wallTimeSoFarNs: number | null;
  readonly lostEvents: number;
  readonly ignoredEvents: number;
  /** The kernel's cumulative count per tracepoint. */
  readonly fired: readonly { readonly name: string; readonly count: number }[];
  readonly notes: readonly SessionNote[];
  readonly lastElapsedNs: number;
}

/** Two runs on common axes: rates by seconds since each run's start, histogram buckets united. */
export interface BenchmarkComparison {
  readonly seconds: readonly number[];
  readonly blocksPerS: readonly [readonly (number | null)[], readonly (number | null)[]];
  readonly transactionsPerS: readonly [readonly (number | null)[], readonly (number | null)[]];
  readonly inputsPerS: readonly [readonly (number | null)[], readonly (number | null)[]];
  readonly sigopsPerS: readonly [readonly (number | null)[], readonly (number | null)[]];
  /** Bucket ranges present in either run, ascending, with both runs' counts (0 where absent). */
  readonly histogram: readonly { readonly min: number | null; readonly max: number; readonly countA: number; readonly countB: number }[];
}

export type { SessionChoice } from './panelProtocol';

export interface BenchmarkState {
  readonly sessions: readonly SessionChoice[];
  readonly runA: BenchmarkRunView | null;
  readonly runB: BenchmarkRunView | null;
  readonly comparison: BenchmarkComparison | null;
}

export type SlowBlockColumn = 'height' | 'hash' | 'transactions' | 'inputs' | 'sigops' | 'duration';
export const SLOW_BLOCK_COLUMNS: readonly SlowBlockColumn[] = ['height', 'hash', 'transactions', 'inputs', 'sigops', 'duration'];

export interface BenchmarkUiState {
  readonly runA: string | null;
  readonly runB: string | null;
  readonly sortColumn: SlowBlockColumn;
  readonly sortDescending: boolean;
}

export const DEFAULT_BENCHMARK_UI_STATE: BenchmarkUiState = { runA: null, runB: null, sortColumn: 'duration', sortDescending: true };

export interface BenchmarkRenderReport extends ActiveElementCounts {
  readonly runA: string | null;
  /** The node selector of run A (a session over every process of a build). */
  readonly nodes: NodeSelectorReport;
  readonly runB: string | null;
  readonly chartCanvasCount: number;
  readonly rateChartSeries: number;
  readonly histogramBars: number;
  readonly slowBlockRows: number;
  readonly firstSlowBlocks: readonly { readonly height: string; readonly hash: string; readonly duration: string }[];
  readonly totalTimeText: string;
  readonly blockCountText: string;
  readonly totalTimeTextB: string;
  readonly blockCountTextB: string;
  readonly lostText: string;
  readonly lostAlarm: boolean;
  readonly notes: readonly string[];
  /** Run A's summary card as shown, by item (blocks, total, wall, perBlock, transactions, inputs, sigops, heights, threshold). */
  readonly summaryA: Readonly<Record<string, string>>;
  /** The rate charts' and the histogram's legends and y-axis labels as drawn. */
  readonly charts: readonly ChartReport[];
  readonly dataFrames: DataFrameTimes;
}

// ---- host → webview ----

export interface StateMessage {
  readonly type: 'state';
  readonly state: BenchmarkState;
  readonly uiState: BenchmarkUiState;
}

export type ToWebview = StateMessage | NodesMessage | PickNodeMessage | RenderReportRequest;

// ---- webview → host ----

export interface SelectRunMessage {
  readonly type: 'selectRun';
  readonly run: 'A' | 'B';
  /** null: no run B (compare off). */
  readonly sessionId: string | null;
}

/** "Compare with…" is the common CompareWithMessage (panelProtocol.ts). */
export type FromWebview = CommonFromWebview<BenchmarkUiState, BenchmarkRenderReport> | UiStateMessage<BenchmarkUiState> | SelectRunMessage;

export function parseBenchmarkUiState(value: unknown): BenchmarkUiState {
  if (!isRecord(value)) return DEFAULT_BENCHMARK_UI_STATE;
  return {
    runA: sessionIdOrNull(value.runA),
    runB: sessionIdOrNull(value.runB),
    sortColumn: SLOW_BLOCK_COLUMNS.find((c) => c === value.sortColumn) ?? DEFAULT_BENCHMARK_UI_STATE.sortColumn,
    sortDescending: typeof value.sortDescending === 'boolean' ? value.sortDescending : true,
  };
}


export type BenchmarkPage = PageTypes<BenchmarkUiState, FromWebview, ToWebview, BenchmarkRenderReport>;
export const BENCHMARK_PAGE: PageProtocol<BenchmarkPage> = pageProtocol<BenchmarkUiState, UiStateMessage<BenchmarkUiState> | SelectRunMessage, ToWebview, BenchmarkRenderReport>(parseBenchmarkUiState, (message) => {
  switch (message.type) {
    case 'uiState':
      return { type: 'uiState', uiState: parseBenchmarkUiState(message.uiState) };
    case 'selectRun':
      return message.run === 'A' || message.run === 'B' ? { type: 'selectRun', run: message.run, sessionId: sessionIdOrNull(message.sessionId) } : undefined;
    default:
      return undefined;
  }
});
/** Narrows an untyped postMessage payload from the page; unknown shapes give undefined. */
export const parseBenchmarkFromWebview = BENCHMARK_PAGE.parseFromPage;
