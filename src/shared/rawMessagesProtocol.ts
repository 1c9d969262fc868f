// The typed messages between the extension host and the Raw P2P messages webview (one interface per message,
// `ToWebview` / `FromWebview` unions narrowed by `type`, as in p2pProtocol.ts).
//
// The host keeps the messages and their bytes (bounded); the webview asks for what it shows: a window of the
// filtered message list, a range of the selected message's bytes, the selected message's decoded tree.
// Numbers: peer ids cross as decimal strings; sizes (≤ 4 MB) and elapsed nanoseconds as numbers.

import type { DataFrameTimes } from './panelTiming';
import { isRecord, pageProtocol, sessionIdOrNull, type CommonFromWebview, type PageProtocol, type PageTypes, type ComparisonMessage, type ComparisonReport, type PressKernelFilterMessage, type RenderReportRequest, type SessionChoice, type ActiveElementCounts, type UiStateMessage } from './panelProtocol';

export type RawDirection = 'in' | 'out';

export interface RawMessageRow {
  /** Position in the session's message stream (1-based), stable while the message is kept. */
  readonly seq: number;
  readonly elapsedNs: number;
  readonly direction: RawDirection;
  readonly peerId: string;
  readonly peerAddr: string;
  readonly connType: string;
  readonly msgType: string;
  /** Size the tracepoint reported (bytes). */
  readonly size: number;
  /** Bytes captured; fewer than `size` means the message arrived cut. */
  readonly captured: number;
  readonly cut: boolean;
}

export interface RawMessageFilter {
  /** '' = every message type */
  readonly msgType: string;
  /** '' = every peer */
  readonly peerId: string;
  /** '' = both directions */
  readonly direction: '' | RawDirection;
  /** Case-insensitive substring of type, address, connection type or peer id. */
  readonly text: string;
}

export const EMPTY_FILTER: RawMessageFilter = { msgType: '', peerId: '', direction: '', text: '' };

export interface NamedCount {
  readonly name: string;
  readonly count: number;
}

export interface RawCounters {
  /** Messages received from the probe since the session started. */
  readonly messagesSeen: number;
  /** Messages still held (with their bytes). */
  readonly messagesKept: number;
  readonly bytesKept: number;
  readonly bytesLimit: number;
  /** Oldest messages dropped to stay within the memory bound. */
  readonly messagesDropped: number;
  /** Messages that arrived cut (captured < size). */
  readonly messagesCut: number;
  /** Events that fired but never arrived (lost in the ring buffer or reconciled against kernel counts). */
  readonly lostEvents: number;
  readonly truncatedStrings: number;
  /** Events with fields of the wrong type, skipped. */
  readonly ignoredEvents: number;
  readonly fired: readonly NamedCount[];
}

export interface SessionNote {
  readonly level: 'info' | 'warning' | 'error';
  readonly message: string;
}

export interface RawSessionStatus {
  readonly tool: string;
  readonly binary: string | null;
  readonly pid: number | null;
  readonly ended: boolean;
  readonly endReason: string | null;
  readonly notes: readonly SessionNote[];
  /** Probes attached (null: not yet). */
  readonly attachedProbes: number | null;
  /** The helper connected (its target record arrived). */
  readonly helperConnected: boolean;
  /** The filters the kernel applies ("peer 3, type tx"); null: every message is streamed. */
  readonly kernelFilter: string | null;
}

/** Choices for the filter drop-downs (bounded). */
export interface RawFilterChoices {
  readonly msgTypes: readonly string[];
  readonly peers: readonly { readonly id: string; readonly addr: string }[];
}

export interface RawSummary {
  readonly counters: RawCounters;
  readonly session: RawSessionStatus;
  readonly choices: RawFilterChoices;
  /** Messages matching the current filter. */
  readonly matching: number;
}

export interface DecodedNode {
  readonly name: string;
  readonly value: string;
  readonly children?: readonly DecodedNode[];
}

/**
 * What the host's decoder made of the selected message. `partial`: the message arrived cut and was decoded
 * as far as its bytes go (`reason` says where it stopped).
 */
export interface DecodedView {
  readonly status: 'decoded' | 'partial' | 'cannot-decode' | 'not-supported' | 'no-bytes';
  readonly msgType: string;
  readonly summary: string;
  readonly fields: readonly DecodedNode[];
  readonly warnings: readonly string[];
  readonly reason: string | null;
}

export interface SelectedMessage {
  readonly row: RawMessageRow;
  /** false: the message was dropped (memory bound) or belongs to another session. */
  readonly available: boolean;
  readonly decoded: DecodedView | null;
}

export type { SessionChoice } from './panelProtocol';

export interface RawUiState {
  readonly filter: RawMessageFilter;
  readonly selectedSeq: number | null;
  /** Keep the list scrolled to the newest message. */
  readonly follow: boolean;
  readonly sessionId: string | null;
}

export const DEFAULT_RAW_UI_STATE: RawUiState = { filter: EMPTY_FILTER, selectedSeq: null, follow: true, sessionId: null };

/** Rows and hex bytes per request: what a webview may ask for at once. */
export const MAX_LIST_WINDOW = 500;
export const MAX_HEX_RANGE = 64 * 1024;
export const HEX_BYTES_PER_ROW = 16;

export interface RawRenderReport extends ActiveElementCounts {
  readonly sessionId: string | null;
  /** The A/B section (media/shared/comparisonView.ts). */
  readonly comparison: ComparisonReport;
  readonly matching: number;
  /** Message rows in the DOM (the list is virtualized: only those in view). */
  readonly listRowsInDom: number;
  readonly firstRows: readonly { readonly seq: number; readonly msgType: string; readonly peer: string; readonly direction: string; readonly size: string; readonly captured: string; readonly cut: boolean }[];
  readonly selectedSeq: number | null;
  /** The lowest contrast of any text in the selected row (time, direction, peer, type, size) on its background; null: no selected row in view. */
  readonly selectedRowContrast: number | null;
  /** The theme kind VS Code gave the page (its body class: vscode-light, vscode-dark, vscode-high-contrast, vscode-high-contrast-light). */
  readonly themeKind: string;
  /** Hex rows in the DOM (virtualized) and the total number of rows the message has. */
  readonly hexRowsInDom: number;
  readonly hexTotalRows: number;
  readonly firstHexRows: readonly string[];
  readonly decodedStatus: string;
  readonly decodedSummary: string;
  readonly decodedBanner: string;
  /** name = value of the first tree lines (top level and visible children). */
  readonly decodedLines: readonly string[];
  /** The session line (state, kernel filter, messages, bytes held). */
  readonly sessionState: string;
  /** The header offers "Kernel filter…" (a running raw-p2p-msgs session). */
  readonly kernelFilterShown: boolean;
  readonly lostText: string;
  readonly droppedText: string;
  readonly cutText: string;
  readonly lostAlarm: boolean;
  readonly elementCount: number;
  readonly dataFrames: DataFrameTimes;
}

// ---- host → webview ----

export interface SnapshotMessage {
  readonly type: 'snapshot';
  readonly sessionId: string | null;
  readonly sessions: readonly SessionChoice[];
  readonly summary: RawSummary | null;
  readonly uiState: RawUiState;
}

export interface SummaryMessage {
  readonly type: 'summary';
  readonly sessionId: string;
  readonly sessions: readonly SessionChoice[] | null;
  readonly summary: RawSummary;
}

export interface ListWindowMessage {
  readonly type: 'listWindow';
  readonly sessionId: string;
  readonly requestId: number;
  readonly start: number;
  readonly matching: number;
  readonly rows: readonly RawMessageRow[];
}

export interface SelectedMessageMessage {
  readonly type: 'selected';
  readonly sessionId: string;
  readonly selected: SelectedMessage | null;
  /** Position of the selected message in the matching list (null: it does not match the filter). */
  readonly index: number | null;
}

export interface HexRangeMessage {
  readonly type: 'hexRange';
  readonly sessionId: string;
  readonly seq: number;
  readonly offset: number;
  /** Lower-case hex of the bytes from `offset` (empty when the message is gone). */
  readonly hex: string;
}

export type ToWebview = SnapshotMessage | SummaryMessage | ListWindowMessage | SelectedMessageMessage | HexRangeMessage | RenderReportRequest | ComparisonMessage | PressKernelFilterMessage;

// ---- webview → host ----

export interface ListWindowRequest {
  readonly type: 'requestListWindow';
  readonly requestId: number;
  /** -1: the newest rows (follow mode). */
  readonly start: number;
  readonly count: number;
}

export interface HexRangeRequest {
  readonly type: 'requestHexRange';
  readonly seq: number;
  readonly offset: number;
  readonly length: number;
}

export type FromWebview = CommonFromWebview<RawUiState, RawRenderReport> | UiStateMessage<RawUiState> | ListWindowRequest | HexRangeRequest;

function boundedInteger(value: unknown, min: number, max: number): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : undefined;
}

export function parseFilter(value: unknown): RawMessageFilter {
  if (!isRecord(value)) return EMPTY_FILTER;
  const direction = value.direction === 'in' || value.direction === 'out' ? value.direction : '';
  return {
    msgType: typeof value.msgType === 'string' ? value.msgType.slice(0, 100) : '',
    peerId: typeof value.peerId === 'string' && /^-?\d{1,20}$/.test(value.peerId) ? value.peerId : '',
    direction,
    text: typeof value.text === 'string' ? value.text.slice(0, 500) : '',
  };
}

/** Validates a UI state from webview storage or postMessage; falls back field by field. */
export function parseRawUiState(value: unknown): RawUiState {
  if (!isRecord(value)) return DEFAULT_RAW_UI_STATE;
  return {
    filter: parseFilter(value.filter),
    selectedSeq: boundedInteger(value.selectedSeq, 1, Number.MAX_SAFE_INTEGER) ?? null,
    follow: typeof value.follow === 'boolean' ? value.follow : true,
    sessionId: sessionIdOrNull(value.sessionId),
  };
}


export type RawPage = PageTypes<RawUiState, FromWebview, ToWebview, RawRenderReport>;
export const RAW_PAGE: PageProtocol<RawPage> = pageProtocol<RawUiState, UiStateMessage<RawUiState> | ListWindowRequest | HexRangeRequest, ToWebview, RawRenderReport>(parseRawUiState, (message) => {
  switch (message.type) {
    case 'uiState':
      return { type: 'uiState', uiState: parseRawUiState(message.uiState) };
    case 'requestListWindow': {
      const requestId = boundedInteger(message.requestId, 0, Number.MAX_SAFE_INTEGER);
      const start = boundedInteger(message.start, -1, Number.MAX_SAFE_INTEGER);
      const count = boundedInteger(message.count, 0, MAX_LIST_WINDOW);
      return requestId !== undefined && start !== undefined && count !== undefined ? { type: 'requestListWindow', requestId, start, count } : undefined;
    }
    case 'requestHexRange': {
      const seq = boundedInteger(message.seq, 1, Number.MAX_SAFE_INTEGER);
      const offset = boundedInteger(message.offset, 0, Number.MAX_SAFE_INTEGER);
      const length = boundedInteger(message.length, 0, MAX_HEX_RANGE);
      return seq !== undefined && offset !== undefined && length !== undefined ? { type: 'requestHexRange', seq, offset, length } : undefined;
    }
    default:
      return undefined;
  }
});
/** Narrows an untyped postMessage payload from the page; unknown shapes give undefined. */
export const parseRawFromWebview = RAW_PAGE.parseFromPage;
