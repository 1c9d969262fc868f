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
   * Asks the page for its render report with `post(requestId)`. Brings a hidden panel to the front without taking
   * focus (a page is not kept while hidden: only a visible one loads, gets ready and draws), waits until the page
   * is ready, and asks again every second until it answers: a page being rebuilt drops messages.
   */
  async request(timeoutMs: number, post: (requestId: number) => void): Promise<T> {
    const { what } = this.page;
    const pending = this.pending;
    const deadline = Date.now() + timeoutMs;
    let panel = this.page.panel();
    while (!(panel && panel.visible && this.page.ready())) {
      if (Date.now() > deadline) throw new Error(panel ? `${what} webview did not get ready${panel.visible ? '' : ' (it stayed hidden)'}` : `${what} is not open`);
      if (panel && !panel.visible) panel.reveal(undefined, true);
      await new Promise((resolve) => setTimeout(resolve, 50));
      panel = this.page.panel();
    }
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
