// The messages every panel's webview exchanges with its PanelHost (src/extension/panels/panelHost.ts), whatever
// it draws: the page says it is ready (with the UI state it saved), picks a session, answers render-report
// requests by their id; the host sends the session list. Each panel's own protocol (p2pProtocol.ts,
// rawMessagesProtocol.ts, benchmarkProtocol.ts, toolPanelProtocol.ts) adds its snapshot, delta and own requests.

/** Per-second counts of each key: consecutive 1-second buckets starting at `startSecond` (seconds since the session started). */
export type SecondBuckets<Key extends string> = { readonly startSecond: number } & { readonly [K in Key]: readonly number[] };

/** One session in a panel's session picker. */
export interface SessionChoice {
  readonly id: string;
  readonly label: string;
  readonly source: 'live' | 'recording';
  readonly tool: string;
  readonly startedAt: string;
  readonly ended: boolean;
  /** A live session's state until its helper connects ("waiting for the password (in the probe terminal)"). */
  readonly startingText?: string;
  /** A running live session whose tool takes kernel filters: the header offers "Kernel filter…". */
  readonly filterable?: boolean;
}

/**
 * One node of a session over every process of a build (src/core/network/sessionNodes.ts): a datadir, whatever
 * its pids (a restart is the same node).
 */
export interface NodeChoice {
  /** The datadir, or `pid:N` for a process without a `node` event. */
  readonly key: string;
  /** `node0`, `node1`… (the functional test framework's datadir), the datadir's name, or `pid N`. */
  readonly name: string;
  /** The name shown: with the test run (the datadir's parent's name) when the session has nodes of several runs. */
  readonly label: string;
  readonly run: string | null;
  readonly pids: readonly number[];
  /** One of its processes still runs. */
  readonly running: boolean;
}

/** What the selector shows (render reports). */
export interface NodeSelectorReport {
  readonly shown: boolean;
  /** The options' texts, "All nodes" first. */
  readonly options: readonly string[];
  /** The selected option's text. */
  readonly selected: string;
  /** The text next to it (the loss no node is named for, processes past the limit). */
  readonly note: string;
}

// ---- host → webview ----

/**
 * The nodes of the session shown when it covers every process of a build (empty: one process, no selector),
 * and the node the page shows (null: all nodes, with a node column).
 */
export interface NodesMessage {
  readonly type: 'nodes';
  readonly nodes: readonly NodeChoice[];
  readonly selected: string | null;
  /** Events lost that name no node (a loss of all nodes together). */
  readonly unattributedLost: number;
  /** Processes past the node limit, shown only under all nodes. */
  readonly processesWithoutNode: number;
}

/** The session list changed (a session started or ended) without a new snapshot. */
export interface SessionsMessage {
  readonly type: 'sessions';
  readonly sessions: readonly SessionChoice[];
  readonly currentSessionId: string | null;
}

/** Picks a node in the page's selector as the user would (tests): the page then sends `selectNode`. */
export interface PickNodeMessage {
  readonly type: 'pickNode';
  readonly nodeKey: string | null;
}

/** Asks the page what it drew; the page answers with a RenderReportResponse carrying the same id. */
export interface RenderReportRequest {
  readonly type: 'requestRenderReport';
  readonly requestId: number;
  /** true: time each update from now on (reported in the next report); false: report the timings and stop. */
  readonly timeUpdates?: boolean;
}

/** Presses the header's "Kernel filter…" button as the user would (tests): the page then sends `filterInKernel`. */
export interface PressKernelFilterMessage {
  readonly type: 'pressKernelFilter';
}

// ---- webview → host ----

export interface ReadyMessage<UiState> {
  readonly type: 'ready';
  /** The page's own saved UI state (vscode.getState), if it had one. */
  readonly uiState: UiState | null;
}

/** The page's UI state changed in a way its host acts on (a filter, a selection, an order). */
export interface UiStateMessage<UiState> {
  readonly type: 'uiState';
  readonly uiState: UiState;
}

export interface SelectSessionMessage {
  readonly type: 'selectSession';
  readonly sessionId: string;
}

/** Shows one node of the session (null: all nodes). */
export interface SelectNodeMessage {
  readonly type: 'selectNode';
  readonly nodeKey: string | null;
}

/** Filter the session shown in the kernel (bitcoinUsdt.filterProbe): the host asks for the filters and restarts it. */
export interface FilterInKernelMessage {
  readonly type: 'filterInKernel';
  readonly sessionId: string;
}

export interface RenderReportResponse<Report> {
  readonly type: 'renderReport';
  readonly requestId: number;
  readonly report: Report;
}

/**
 * An uncaught error in the page's script (the page may have stopped drawing): the host logs it. Not part of
 * CommonFromWebview: the connection handles it before the panel's own parsing.
 */
export interface PageErrorMessage {
  readonly type: 'pageError';
  readonly message: string;
}

/** A page error's text from a posted message (bounded), or undefined when it is not one. */
export function pageErrorText(value: unknown): string | undefined {
  return isRecord(value) && value.type === 'pageError' && typeof value.message === 'string' ? value.message.slice(0, 4000) : undefined;
}

/**
 * The message types of one panel's page, named once in its protocol module (e.g. `P2pPage`) and used by the
 * host (PanelHost) and the page (PageConnection) alike.
 */
export interface PageTypes<UiState extends object = object, FromPage extends { readonly type: string } = { readonly type: string }, ToPage extends { readonly type: string } = { readonly type: string }, Report = unknown> {
  /** What the page keeps across hide/show and window reloads (vscode.setState). */
  readonly uiState: UiState;
  readonly fromPage: FromPage;
  readonly toPage: ToPage;
  /** What the page says it drew (render reports, for tests and diagnostics). */
  readonly report: Report;
}

/** A page's protocol: the validators of what the page keeps and posts. */
export interface PageProtocol<Page extends PageTypes> {
  parseUiState(state: unknown): Page['uiState'];
  /** Narrows what the page posted (parsePanelMessage with the panel's own messages); undefined: not a message of this page. */
  parseFromPage(value: unknown): Page['fromPage'] | undefined;
}

/**
 * A page's protocol from the validator of its UI state and that of its own messages (parsePanelMessage takes
 * the common ones).
 */
export function pageProtocol<UiState extends object, Own extends { readonly type: string }, ToPage extends { readonly type: string }, Report>(
  parseUiState: (state: unknown) => UiState,
  parseOwn: (message: Record<string, unknown>) => Own | undefined,
): PageProtocol<PageTypes<UiState, CommonFromWebview<UiState, Report> | Own, ToPage, Report>> {
  return { parseUiState, parseFromPage: (value) => parsePanelMessage<UiState, Report, Own>(value, parseUiState, parseOwn) };
}

/** What every page's render report says of its safety: elements that could load, run or link something (media/shared/dom.ts activeElementCounts). */
export interface ActiveElementCounts {
  /** <img>, <script>, <iframe>, <object>, <embed>, <a>, <style>, <link>, <svg>… elements inside the panel's UI. */
  readonly activeElementsInPanel: number;
  /** <img> elements anywhere in the document (the panel has none of its own). */
  readonly imgElementsInDocument: number;
}

/** What every page may send. */
export type CommonFromWebview<UiState, Report> =
  | ReadyMessage<UiState>
  | SelectSessionMessage
  | SelectNodeMessage
  | RenderReportResponse<Report>
  | SelectComparisonMessage
  | CompareWithMessage
  | FilterInKernelMessage;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A session id from webview state or a message: a string (bounded), otherwise null. */
export function sessionIdOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value.slice(0, 200) : null;
}

/**
 * Narrows an untyped postMessage payload from a page: the common messages here, the panel's own through
 * `parseOwn`; unknown shapes give undefined. The render report is the page's own description of what it drew
 * (tests and diagnostics read it), so only its envelope is checked.
 */
export function parsePanelMessage<UiState, Report, Own>(
  value: unknown,
  parseUiState: (state: unknown) => UiState,
  parseOwn: (message: Record<string, unknown>) => Own | undefined = () => undefined,
): CommonFromWebview<UiState, Report> | Own | undefined {
  if (!isRecord(value)) return undefined;
  switch (value.type) {
    case 'ready':
      return { type: 'ready', uiState: value.uiState === null || value.uiState === undefined ? null : parseUiState(value.uiState) };
    case 'selectSession':
      return typeof value.sessionId === 'string' ? { type: 'selectSession', sessionId: value.sessionId } : undefined;
    case 'selectNode':
      return value.nodeKey === null ? { type: 'selectNode', nodeKey: null } : typeof value.nodeKey === 'string' ? { type: 'selectNode', nodeKey: value.nodeKey.slice(0, 4096) } : undefined;
    case 'renderReport':
      return typeof value.requestId === 'number' && isRecord(value.report)
        ? { type: 'renderReport', requestId: value.requestId, report: value.report as unknown as Report }
        : undefined;
    case 'selectComparison':
      return value.sessionId === null || typeof value.sessionId === 'string' ? { type: 'selectComparison', sessionId: sessionIdOrNull(value.sessionId) } : undefined;
    case 'compareWith':
      return { type: 'compareWith' };
    case 'filterInKernel':
      return typeof value.sessionId === 'string' ? { type: 'filterInKernel', sessionId: value.sessionId.slice(0, 200) } : undefined;
    default:
      return parseOwn(value);
  }
}

// ---- A/B: two runs of a panel compared (src/core/comparison/, media/shared/comparisonView.ts) ----

/** One row of a compared count table: a key's count (and amount, e.g. bytes) in run A and run B. */
export interface ComparedRow {
  readonly key: string;
  readonly a: number;
  readonly b: number;
  /** b − a. */
  readonly delta: number;
  /** b / a; null when a is 0. */
  readonly ratio: number | null;
  /** The key's share of its table in each run (0–1): distributions compare by share, not only by count. */
  readonly shareA: number;
  readonly shareB: number;
  readonly amountA: number | null;
  readonly amountB: number | null;
  /** Why the row stands out: only one run has it, or it differs by at least the comparison's threshold. */
  readonly highlight: 'onlyA' | 'onlyB' | 'more' | 'fewer' | null;
}

export interface ComparedTable {
  /** "message type", "peer", "reason", … */
  readonly title: string;
  /** What an amount is ("bytes"); null: the table counts only. */
  readonly amountUnit: string | null;
  readonly rows: readonly ComparedRow[];
  /** Keys left out past the row limit (the largest are kept). */
  readonly omittedRows: number;
}

/** A per-second rate of both runs on one time axis: whole seconds since each run's start. */
export interface ComparedRate {
  readonly title: string;
  readonly unit: string;
  readonly seconds: readonly number[];
  readonly a: readonly (number | null)[];
  readonly b: readonly (number | null)[];
  readonly meanA: number;
  readonly meanB: number;
  readonly highlight: boolean;
}

/** A distribution of both runs on the union of their power-of-2 buckets, with its quantiles. */
export interface ComparedDistribution {
  readonly title: string;
  readonly unit: string;
  readonly buckets: readonly { readonly min: number; readonly max: number; readonly a: number; readonly b: number }[];
  readonly quantiles: readonly { readonly name: 'p50' | 'p90' | 'max'; readonly a: number | null; readonly b: number | null; readonly highlight: boolean }[];
}

/** One side of a comparison. */
export interface ComparedRunInfo {
  readonly sessionId: string;
  readonly label: string;
  readonly source: 'live' | 'recording';
  readonly tool: string;
  /** Seconds from the run's start to its last event. */
  readonly durationSeconds: number;
}

/** Two runs of one panel compared: totals, count tables, aligned rates, distributions. */
export interface RunComparison {
  readonly a: ComparedRunInfo;
  readonly b: ComparedRunInfo;
  /** A row counts as different (more/fewer) from this ratio on (and its larger count from minCount on). */
  readonly threshold: { readonly ratio: number; readonly minCount: number };
  readonly totals: readonly ComparedRow[];
  readonly tables: readonly ComparedTable[];
  readonly rates: readonly ComparedRate[];
  readonly distributions: readonly ComparedDistribution[];
}

/** Host → page: the run compared with the one shown (null: none) and the comparison, or null when off. */
export interface ComparisonMessage {
  readonly type: 'comparison';
  readonly comparedSessionId: string | null;
  readonly comparison: RunComparison | null;
}

/** Page → host: compare with another tracked session (null: stop comparing). */
export interface SelectComparisonMessage {
  readonly type: 'selectComparison';
  readonly sessionId: string | null;
}

/** Page → host: pick the run to compare with (a tracked session or a recording). */
export interface CompareWithMessage {
  readonly type: 'compareWith';
}

/** What a page's comparison section drew (render reports). */
export interface ComparisonReport {
  readonly shown: boolean;
  readonly runA: string;
  readonly runB: string;
  /** Per table: its title and the rows drawn as text cells. */
  readonly tables: readonly { readonly title: string; readonly rows: readonly (readonly string[])[]; readonly highlighted: number }[];
  readonly totals: readonly (readonly string[])[];
  readonly rateCharts: number;
  readonly distributions: readonly { readonly title: string; readonly quantiles: readonly string[] }[];
  /**
   * Where each table of the count tables and distributions lies on the page (CSS px, the table element's own box,
   * which may reach beyond its grid cell), and the right edge of what the section shows: tables must not overlap.
   */
  readonly tableBoxes: readonly TableBox[];
  readonly visibleRight: number;
}

export interface TableBox {
  /** The heading of the table's box (a count table's title; a distribution's title and "quantiles" or "buckets"). */
  readonly title: string;
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}
