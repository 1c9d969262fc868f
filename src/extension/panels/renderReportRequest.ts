import type * as vscode from 'vscode';

/**
 * A panel's render-report requests (what its webview actually drew; used by tests and diagnostics): the
 * requests waiting for the page's answer, by request id.
 */
export class RenderReportRequests<T> {
  private readonly pending = new Map<number, (report: T) => void>();
  private nextRequestId = 1;

  constructor(
    private readonly page: {
      /** "the P2P panel" */
      readonly what: string;
      readonly panel: () => vscode.WebviewPanel | undefined;
      readonly ready: () => boolean;
    },
  ) {}

  /**
   * Asks the page for its render report with `post(requestId)`. Waits until the page is ready, brings a hidden
   * panel to the front without taking focus (only a visible page draws), and asks again every second until it
   * answers: a page being rebuilt drops messages.
   */
  async request(timeoutMs: number, post: (requestId: number) => void): Promise<T> {
    const { what } = this.page;
    const pending = this.pending;
    const deadline = Date.now() + timeoutMs;
    let panel = this.page.panel();
    while (!(panel && this.page.ready())) {
      if (Date.now() > deadline) throw new Error(panel ? `${what} webview did not get ready` : `${what} is not open`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      panel = this.page.panel();
    }
    if (!panel.visible) panel.reveal(undefined, true);
    const requestId = this.nextRequestId++;
    return new Promise<T>((resolve, reject) => {
      const retry = setInterval(() => post(requestId), 1_000);
      const timer = setTimeout(() => {
        clearInterval(retry);
        pending.delete(requestId);
        reject(new Error(`${what} did not answer the render report request within ${timeoutMs} ms`));
      }, Math.max(1, deadline - Date.now()));
      pending.set(requestId, (report) => {
        clearInterval(retry);
        clearTimeout(timer);
        pending.delete(requestId);
        resolve(report);
      });
      post(requestId);
    });
  }

  /** The page's answer to request `requestId` (ignored when nobody waits for it any more). */
  answer(requestId: number, report: T): void {
    this.pending.get(requestId)?.(report);
  }
}
