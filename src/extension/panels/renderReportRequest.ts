import type * as vscode from 'vscode';

/**
 * Asks a panel's webview for its render report (what it actually drew; used by tests and diagnostics).
 * Waits until the page is ready, brings a hidden panel to the front without taking focus (only a visible
 * page draws), and asks again every second until it answers: a page being rebuilt drops messages.
 */
export async function requestRenderReport<T>(request: {
  /** "the P2P panel" */
  readonly what: string;
  readonly timeoutMs: number;
  readonly panel: () => vscode.WebviewPanel | undefined;
  readonly ready: () => boolean;
  readonly pending: Map<number, (report: T) => void>;
  readonly nextRequestId: () => number;
  readonly post: (requestId: number) => void;
}): Promise<T> {
  const { what, timeoutMs, pending } = request;
  const deadline = Date.now() + timeoutMs;
  let panel = request.panel();
  while (!(panel && request.ready())) {
    if (Date.now() > deadline) throw new Error(panel ? `${what} webview did not get ready` : `${what} is not open`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    panel = request.panel();
  }
  if (!panel.visible) panel.reveal(undefined, true);
  const requestId = request.nextRequestId();
  return new Promise<T>((resolve, reject) => {
    const retry = setInterval(() => request.post(requestId), 1_000);
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
    request.post(requestId);
  });
}
