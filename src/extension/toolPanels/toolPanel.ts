import type { NormalizedEvent } from '../../core/events/eventTypes';
import { TOOL_PROFILES } from '../../core/toolViews/toolProfiles';
import { createToolViewAggregator, toolOfEvent, type ToolViewAggregator } from '../../core/toolViews/toolViews';
import {
  EMPTY_FILTER,
  TOOL_PAGE,
  type ToolPage,
  TOOL_PANEL_TITLES,
  type ToolFilter,
  type ToolPanelTool,
  type ToolUiState,
} from '../../shared/toolPanelProtocol';
import type { SessionDescriptor } from '../eventHub';
import { PanelHost, type OwnMessage, type PanelServices, type PanelSession } from '../panels/panelHost';

export const TOOL_PANEL_VIEW_TYPE = 'bitcoinUsdt.toolPanel';
/** Live sessions are re-sent at least this often, so time windows ("last minute") move without events. */
const LIVE_REFRESH_MS = 1_000;
const LAST_RECORDING_KEY = 'bitcoinUsdt.toolPanel.lastRecording.';

export type ToolPanelSession = PanelSession<ToolViewAggregator>;

/**
 * One tool's panel (the generic page, media/toolPanel): one of the tool's sessions (live or replayed), sent
 * as a fresh bounded snapshot for the page's filter at most every 250 ms while visible and something changed.
 */
export class ToolPanel extends PanelHost<ToolViewAggregator, ToolPage> {
  private filter: ToolFilter = EMPTY_FILTER;
  private lastPostAt = 0;

  constructor(
    readonly tool: ToolPanelTool,
    services: PanelServices,
    /** Called with each new session's aggregator (the connections panel joins P2P traffic into it). */
    private readonly onTrack: (aggregator: ToolViewAggregator) => void = () => undefined,
  ) {
    super(services, {
      id: tool,
      viewType: TOOL_PANEL_VIEW_TYPE,
      page: { bundle: 'toolPanel', title: TOOL_PANEL_TITLES[tool], extraStyles: ['uPlot.min.css'] },
      what: `the ${tool} panel`,
      flushIntervalMs: 250,
      maxSessions: 8,
      protocol: TOOL_PAGE,
      lastRecordingKey: LAST_RECORDING_KEY + tool,
      profile: TOOL_PROFILES[tool],
      recordingKind: `a ${tool} recording`,
    });
  }

  *trackedSessions(): Iterable<ToolPanelSession> {
    yield* this.sessions.values();
  }

  protected acceptsEvent(event: NormalizedEvent): boolean {
    return toolOfEvent(event.event) === this.tool;
  }

  protected createModel(descriptor: SessionDescriptor): ToolViewAggregator {
    const startedAtMs = Date.parse(descriptor.startedAt);
    const aggregator = createToolViewAggregator(this.tool, { startedAtMs: Number.isNaN(startedAtMs) ? null : startedAtMs });
    this.onTrack(aggregator);
    return aggregator;
  }

  protected restoreUiState(saved: ToolUiState): void {
    this.filter = saved.filter;
  }

  protected pageReady(saved: ToolUiState | null): void {
    // A page re-created after being hidden brings the state it saved then: the host's is newer once it shows a session.
    if (!saved || this.current !== null) return;
    this.filter = saved.filter;
    if (saved.sessionId && this.sessions.has(saved.sessionId)) this.current = saved.sessionId;
  }

  protected handlePageMessage(message: OwnMessage<ToolPage>): void {
    this.filter = message.filter;
    this.refresh();
  }

  /**
   * The session clock now, for live sessions (time windows keep moving without events): from the attach (the
   * helper's wall clock), so neither the password nor the compile counts; 0 until attached.
   */
  private nowElapsedNs(shown: ToolPanelSession): number {
    if (shown.descriptor.source !== 'live' || shown.ended || !shown.model.attached) return 0;
    const origin = shown.model.timeOriginMs;
    return origin === null ? 0 : Math.max(0, (Date.now() - origin) * 1e6);
  }

  protected postSnapshot(shown: ToolPanelSession | undefined): void {
    this.sessionsChanged = false;
    this.lastPostAt = Date.now();
    this.post({
      type: 'snapshot',
      tool: this.tool,
      sessionId: shown ? shown.descriptor.id : null,
      sessions: this.sessionChoices(),
      snapshot: shown ? shown.model.snapshot(this.filter, this.nowElapsedNs(shown)) : null,
      filter: this.filter,
    });
  }

  protected postDelta(shown: ToolPanelSession | undefined): void {
    const liveClock = shown !== undefined && shown.descriptor.source === 'live' && !shown.ended && Date.now() - this.lastPostAt >= LIVE_REFRESH_MS;
    if (this.sessionsChanged || liveClock || (shown?.model.hasChanges ?? false)) this.postSnapshot(shown);
  }

  /** Shows a session with the filter `kind` (one tracepoint's events); false when the panel does not track the session. */
  showFiltered(sessionId: string, kind: string): boolean {
    if (!this.sessions.has(sessionId)) return false;
    this.filter = { text: '', kind };
    return this.showSession(sessionId);
  }

  /** Sets the webview's filter as if typed (tests and commands). */
  setFilter(filter: ToolFilter): void {
    this.post({ type: 'setFilter', filter });
  }
}
