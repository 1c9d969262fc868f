import type { NormalizedEvent } from '../../core/events/eventTypes';
import { P2P_PROFILE } from '../../core/p2p/p2pProfile';
import { RawMessageStore } from '../../core/rawMessages/rawMessageStore';
import {
  DEFAULT_RAW_UI_STATE,
  EMPTY_FILTER,
  HEX_BYTES_PER_ROW,
  MAX_HEX_RANGE,
  RAW_PAGE,
  type RawPage,
  type RawDirection,
  type RawRenderReport,
  type RawUiState,
  type SelectedMessage,
} from '../../shared/rawMessagesProtocol';
import { PanelHost, type OwnMessage, type PanelServices, type PanelSession } from '../panels/panelHost';


/** What integration tests see of the panel. */
export interface RawMessagesPanelTestApi {
  readonly isOpen: boolean;
  readonly currentSessionId: string | null;
  /** Asks the webview what it rendered (waits for the webview to be ready). */
  renderReport(timeoutMs?: number): Promise<RawRenderReport>;
  /** Filters and selects as the webview would (for tests that cannot click into the webview). */
  applyUiState(uiState: Partial<RawUiState>): void;
  /** Presses the header's "Kernel filter…" button as the user would: the page sends `filterInKernel`. */
  pressKernelFilter(): void;
}

type RawSession = PanelSession<RawMessageStore>;

/**
 * The Raw P2P messages panel: the messages of a raw-p2p-msgs session with their bytes (bounded in the core
 * store), a filtered list the webview reads window by window, the selected message's bytes range by range
 * and its decoded tree (decoded here, never in the webview). Message bytes are not replayed after a window
 * reload: the panel comes back empty.
 */
export class RawMessagesPanelController extends PanelHost<RawMessageStore, RawPage> implements RawMessagesPanelTestApi {
  private uiState: RawUiState = DEFAULT_RAW_UI_STATE;

  constructor(services: PanelServices) {
    super(services, {
      id: 'rawMessages',
      viewType: 'bitcoinUsdt.rawMessagesPanel',
      page: { bundle: 'rawMessagesPanel', title: 'Raw P2P messages', extraStyles: ['uPlot.min.css'] },
      what: 'the raw messages panel',
      flushIntervalMs: 250,
      // Each may hold up to 64 MiB of message bytes.
      maxSessions: 2,
      protocol: RAW_PAGE,
      profile: P2P_PROFILE,
      recordingKind: 'a raw-p2p-msgs recording',
    });
  }

  protected acceptsEvent(event: NormalizedEvent): boolean {
    return (event.event === 'net:inbound_message' || event.event === 'net:outbound_message') && 'msg' in event;
  }

  protected createModel(): RawMessageStore {
    const store = new RawMessageStore();
    store.setFilter(this.uiState.filter);
    return store;
  }

  protected restoreUiState(saved: RawUiState): void {
    this.uiState = { ...saved, selectedSeq: null };
  }

  protected override willSelect(next: RawSession, previous: string | null): void {
    if (previous !== next.descriptor.id) this.uiState = { ...this.uiState, selectedSeq: null, follow: true };
    next.model.setFilter(this.uiState.filter);
  }

  protected pageReady(saved: RawUiState | null): void {
    // A page re-created after being hidden brings the state it saved then; once the host shows a session
    // its own state is newer (a session may have started since), so the page's is used only until then.
    if (!saved || this.current !== null) return;
    this.uiState = saved;
    if (saved.sessionId && this.sessions.has(saved.sessionId)) this.current = saved.sessionId;
    this.shown?.model.setFilter(saved.filter);
  }

  /** Shows a session with only one direction's messages (a call site's "Show in panel"); false when the panel does not track it. */
  showDirection(sessionId: string, direction: RawDirection): boolean {
    if (!this.sessions.has(sessionId)) return false;
    this.uiState = { ...this.uiState, filter: { ...EMPTY_FILTER, direction } };
    return this.showSession(sessionId);
  }

  applyUiState(uiState: Partial<RawUiState>): void {
    this.setUiState({ ...this.uiState, ...uiState });
    this.refresh();
  }

  private setUiState(next: RawUiState): void {
    const previous = this.uiState;
    this.uiState = next;
    const shown = this.shown;
    if (!shown) return;
    if (JSON.stringify(previous.filter) !== JSON.stringify(next.filter)) {
      shown.model.setFilter(next.filter);
      this.post({ type: 'summary', sessionId: shown.descriptor.id, sessions: null, summary: shown.model.summary() });
    }
    if (previous.selectedSeq !== next.selectedSeq) this.postSelected(shown);
  }

  protected handlePageMessage(message: OwnMessage<RawPage>): void {
    if (message.type === 'uiState') {
      this.setUiState(message.uiState);
      return;
    }
    const shown = this.shown;
    if (!shown) return;
    const store = shown.model;
    if (message.type === 'requestListWindow') {
      const window = store.window(message.start, message.count);
      this.post({ type: 'listWindow', sessionId: shown.descriptor.id, requestId: message.requestId, start: window.start, matching: store.matchingCount, rows: window.rows });
    } else {
      const offset = message.offset - (message.offset % HEX_BYTES_PER_ROW);
      const bytes = store.bytes(message.seq, offset, Math.min(message.length, MAX_HEX_RANGE));
      this.post({ type: 'hexRange', sessionId: shown.descriptor.id, seq: message.seq, offset, hex: bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex') : '' });
    }
  }

  private selectedMessage(shown: RawSession): SelectedMessage | null {
    const seq = this.uiState.selectedSeq;
    if (seq === null) return null;
    const row = shown.model.row(seq);
    if (!row) return null;
    return { row, available: true, decoded: shown.model.decoded(seq) ?? null };
  }

  private postSelected(shown: RawSession): void {
    const selected = this.selectedMessage(shown);
    this.post({ type: 'selected', sessionId: shown.descriptor.id, selected, index: selected ? (shown.model.indexOf(selected.row.seq) ?? null) : null });
  }

  protected postSnapshot(shown: RawSession | undefined): void {
    this.sessionsChanged = false;
    shown?.model.takeChanged();
    this.post({
      type: 'snapshot',
      sessionId: shown ? shown.descriptor.id : null,
      sessions: this.sessionChoices(),
      summary: shown ? shown.model.summary() : null,
      uiState: { ...this.uiState, sessionId: this.current },
    });
    if (shown) this.postSelected(shown);
  }

  protected postDelta(shown: RawSession | undefined): void {
    if (!shown) {
      if (this.sessionsChanged) this.refresh();
      return;
    }
    const sessionsChanged = this.sessionsChanged;
    if (!shown.model.takeChanged() && !sessionsChanged) return;
    this.sessionsChanged = false;
    this.post({ type: 'summary', sessionId: shown.descriptor.id, sessions: sessionsChanged ? this.sessionChoices() : null, summary: shown.model.summary() });
  }
}
