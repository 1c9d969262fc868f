// A page's connection to its PanelHost: the VS Code webview API (acquired once), the UI state the page keeps
// across hide/show and window reloads (vscode.setState), messages from the host, and the `ready` that asks the
// host for a snapshot (src/shared/panelProtocol.ts).
import { DataFrameClock } from './dataFrameClock';
import type { PageErrorMessage, PageProtocol, PageTypes, ReadyMessage, RenderReportRequest, RenderReportResponse } from '../../src/shared/panelProtocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** A piece of a page shared by the panels (the session header, the node selector, the A/B comparison) that takes the host's messages about itself. */
export interface PagePart {
  /** Acts on `message` if it is one of this part's (true), or leaves it to the page (false). */
  take(message: { readonly type: string }): boolean;
}

/** What the page does with the host's messages besides its own. */
export interface PageHandlers<Page extends PageTypes> {
  /** Draws what is pending and says what the page shows (answers `requestRenderReport`). */
  readonly report: (request: RenderReportRequest) => Page['report'];
  /** Shared parts that take their own messages before the page sees them. */
  readonly parts?: readonly PagePart[];
}

export class PageConnection<Page extends PageTypes> {
  private readonly vscode = acquireVsCodeApi();
  /** The page's UI state: what it saved before (validated), or the defaults. */
  ui: Page['uiState'];
  /** When the page's data reached the screen (for its render report); started with the page's script. */
  readonly dataFrames = new DataFrameClock();
  private readonly parseUiState: (state: unknown) => Page['uiState'];

  constructor(protocol: PageProtocol<Page>) {
    this.parseUiState = (state) => protocol.parseUiState(state);
    const report = (message: string): void => {
      const error: PageErrorMessage = { type: 'pageError', message };
      this.vscode.postMessage(error);
    };
    window.addEventListener('error', (event) => report(event.error instanceof Error ? (event.error.stack ?? event.error.message) : String(event.message)));
    window.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) =>
      report(event.reason instanceof Error ? (event.reason.stack ?? event.reason.message) : String(event.reason)),
    );
    this.ui = this.parseUiState(this.vscode.getState());
  }

  /** The page had saved state of its own (false: a fresh page, which takes the host's copy). */
  get hasSavedState(): boolean {
    const saved = this.vscode.getState();
    return saved !== undefined && saved !== null;
  }

  post(message: Page['fromPage']): void {
    this.vscode.postMessage(message);
  }

  /** Updates and keeps the UI state; `message`: also tell the host (e.g. `{ type: 'uiState', uiState }`). */
  saveUi(next: Partial<Page['uiState']>, message?: (ui: Page['uiState']) => Page['fromPage']): void {
    this.ui = { ...this.ui, ...next };
    this.vscode.setState(this.ui);
    if (message) this.post(message(this.ui));
  }

  /** Keeps `ui` as it is now (after the page changed it without telling the host). */
  keepUi(): void {
    this.vscode.setState(this.ui);
  }

  /**
   * Answers render-report requests, hands each other well-formed message from the host to the shared part it
   * belongs to or else to `handle`, then says `ready` with the saved UI state.
   */
  start(handle: (message: Page['toPage']) => void, handlers: PageHandlers<Page>): void {
    const parts = handlers.parts ?? [];
    window.addEventListener('message', (event: MessageEvent<Page['toPage']>) => {
      const message = event.data;
      if (typeof message !== 'object' || message === null || typeof message.type !== 'string') return;
      if (message.type === 'requestRenderReport') {
        const request = message as unknown as RenderReportRequest;
        const response: RenderReportResponse<Page['report']> = { type: 'renderReport', requestId: request.requestId, report: handlers.report(request) };
        this.vscode.postMessage(response);
      } else if (!parts.some((part) => part.take(message))) {
        handle(message);
      }
    });
    const saved = this.vscode.getState();
    const ready: ReadyMessage<Page['uiState']> = { type: 'ready', uiState: saved === undefined || saved === null ? null : this.parseUiState(saved) };
    this.vscode.postMessage(ready);
  }
}

/** Calls `rebuild` when VS Code switches the colour theme (it swaps the body's class). */
export function onThemeChange(rebuild: () => void): void {
  new MutationObserver(rebuild).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
