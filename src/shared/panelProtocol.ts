// The messages every panel's webview exchanges with its PanelHost (src/extension/panels/panelHost.ts), whatever
// it draws: the page says it is ready (with the UI state it saved), picks a session, answers render-report
// requests by their id; the host sends the session list. Each panel's own protocol (p2pProtocol.ts,
// rawMessagesProtocol.ts, benchmarkProtocol.ts, toolPanelProtocol.ts) adds its snapshot, delta and own requests.

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
}

// ---- host → webview ----

/** The session list changed (a session started or ended) without a new snapshot. */
export interface SessionsMessage {
  readonly type: 'sessions';
  readonly sessions: readonly SessionChoice[];
  readonly currentSessionId: string | null;
}

/** Asks the page what it drew; the page answers with a RenderReportResponse carrying the same id. */
export interface RenderReportRequest {
  readonly type: 'requestRenderReport';
  readonly requestId: number;
  /** true: time each update from now on (reported in the next report); false: report the timings and stop. */
  readonly timeUpdates?: boolean;
}

// ---- webview → host ----

export interface ReadyMessage<UiState> {
  readonly type: 'ready';
  /** The page's own saved UI state (vscode.getState), if it had one. */
  readonly uiState: UiState | null;
}

export interface SelectSessionMessage {
  readonly type: 'selectSession';
  readonly sessionId: string;
}

export interface RenderReportResponse<Report> {
  readonly type: 'renderReport';
  readonly requestId: number;
  readonly report: Report;
}

/** What every page may send. */
export type CommonFromWebview<UiState, Report> = ReadyMessage<UiState> | SelectSessionMessage | RenderReportResponse<Report>;

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
    case 'renderReport':
      return typeof value.requestId === 'number' && isRecord(value.report)
        ? { type: 'renderReport', requestId: value.requestId, report: value.report as unknown as Report }
        : undefined;
    default:
      return parseOwn(value);
  }
}
