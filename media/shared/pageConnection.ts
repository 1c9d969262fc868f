// A page's connection to its PanelHost: the VS Code webview API (acquired once), the UI state the page keeps
// across hide/show and window reloads (vscode.setState), messages from the host, and the `ready` that asks the
// host for a snapshot (src/shared/panelProtocol.ts).
import type { PageErrorMessage, ReadyMessage } from '../../src/shared/panelProtocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export class PageConnection<UiState, ToPage extends { readonly type: string }, FromPage extends { readonly type: string }> {
  private readonly vscode = acquireVsCodeApi();
  /** The page's UI state: what it saved before (validated), or the defaults. */
  ui: UiState;

  constructor(private readonly parseUiState: (state: unknown) => UiState) {
    const report = (message: string): void => {
      const error: PageErrorMessage = { type: 'pageError', message };
      this.vscode.postMessage(error);
    };
    window.addEventListener('error', (event) => report(event.error instanceof Error ? (event.error.stack ?? event.error.message) : String(event.message)));
    window.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) =>
      report(event.reason instanceof Error ? (event.reason.stack ?? event.reason.message) : String(event.reason)),
    );
    this.ui = parseUiState(this.vscode.getState());
  }

  /** The page had saved state of its own (false: a fresh page, which takes the host's copy). */
  get hasSavedState(): boolean {
    const saved = this.vscode.getState();
    return saved !== undefined && saved !== null;
  }

  post(message: FromPage): void {
    this.vscode.postMessage(message);
  }

  /** Updates and keeps the UI state; `message`: also tell the host (e.g. `{ type: 'uiState', uiState }`). */
  saveUi(next: Partial<UiState>, message?: (ui: UiState) => FromPage): void {
    this.ui = { ...this.ui, ...next };
    this.vscode.setState(this.ui);
    if (message) this.post(message(this.ui));
  }

  /** Keeps `ui` as it is now (after the page changed it without telling the host). */
  keepUi(): void {
    this.vscode.setState(this.ui);
  }

  /** Hands each well-formed message from the host to `handle`, then says `ready` with the saved UI state. */
  start(handle: (message: ToPage) => void): void {
    window.addEventListener('message', (event: MessageEvent<ToPage>) => {
      const message = event.data;
      if (typeof message === 'object' && message !== null && typeof message.type === 'string') handle(message);
    });
    const saved = this.vscode.getState();
    const ready: ReadyMessage<UiState> = { type: 'ready', uiState: saved === undefined || saved === null ? null : this.parseUiState(saved) };
    this.vscode.postMessage(ready);
  }
}

/** Calls `rebuild` when VS Code switches the colour theme (it swaps the body's class). */
export function onThemeChange(rebuild: () => void): void {
  new MutationObserver(rebuild).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
