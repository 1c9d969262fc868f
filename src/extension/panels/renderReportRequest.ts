import type * as vscode from 'vscode';

/**
 * Asks a webview for its render report (what it actually drew; used by tests and diagnostics) and asks
 * again every second until it answers: a page that is being rebuilt after being hidden drops messages.
 * Only a visible page draws, so a hidden panel is brought to the front (without taking focus) first.
 */
export function requestRenderReport<T>(request: {
  readonly panel: vscode.WebviewPanel;
  readonly pending: Map<number, (report: T) => void>;
  readonly requestId: number;
  readonly deadline: number;
  readonly timeoutMs: number;
  /** "the P2P panel" */
  readonly what: string;
  readonly post: () => void;
}): Promise<T> {
  const { pending, requestId } = request;
  if (!request.panel.visible) request.panel.reveal(undefined, true);
  return new Promise<T>((resolve, reject) => {
    const retry = setInterval(request.post, 1_000);
    const timer = setTimeout(() => {
      clearInterval(retry);
      pending.delete(requestId);
      reject(new Error(`${request.what} did not answer the render report request within ${request.timeoutMs} ms`));
    }, Math.max(1, request.deadline - Date.now()));
    pending.set(requestId, (report) => {
      clearInterval(retry);
      clearTimeout(timer);
      pending.delete(requestId);
      resolve(report);
    });
    request.post();
  });
}
