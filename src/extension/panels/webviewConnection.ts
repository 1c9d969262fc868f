import * as vscode from 'vscode';
import { pageErrorText } from '../../shared/panelProtocol';
import { webviewBuildRoot, webviewPageHtml, type WebviewPage } from './webviewPageHtml';

export interface WebviewConnectionOptions<Message> {
  readonly extensionUri: vscode.Uri;
  readonly page: WebviewPage;
  /** Checks what the page posts; `undefined` drops the message. */
  readonly parseMessage: (raw: unknown) => Message | undefined;
  readonly onMessage: (message: Message) => void;
  /**
   * The panel is visible again. Hidden, the page may be discarded (no retainContextWhenHidden) and then asks
   * again with `ready` when shown; VS Code may also keep it, so the panel re-posts its state if the page is ready.
   */
  readonly onVisible: () => void;
  readonly onDispose: () => void;
  /** Called every `flushIntervalMs` while connected, to post batched updates. */
  readonly flush: () => void;
  readonly flushIntervalMs: number;
}

/**
 * Loads a panel's page and wires its events to the owning controller. Disposing the result stops the flush
 * timer and the event listeners (not the panel).
 */
export function connectWebviewPanel<Message>(panel: vscode.WebviewPanel, options: WebviewConnectionOptions<Message>): vscode.Disposable {
  const { extensionUri, parseMessage } = options;
  panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.svg');
  panel.webview.options = { enableScripts: true, localResourceRoots: [webviewBuildRoot(extensionUri)] };
  panel.webview.html = webviewPageHtml(panel.webview, extensionUri, options.page);
  const listeners = [
    panel.webview.onDidReceiveMessage((raw: unknown) => {
      const message = parseMessage(raw);
      if (message) options.onMessage(message);
      else logUntaken(options.page.title, raw);
    }),
    panel.onDidChangeViewState(() => {
      if (panel.visible) options.onVisible();
    }),
    panel.onDidDispose(() => options.onDispose()),
  ];
  const timer = setInterval(() => options.flush(), options.flushIntervalMs);
  return new vscode.Disposable(() => {
    clearInterval(timer);
    for (const listener of listeners) listener.dispose();
  });
}

/** A page's uncaught script error (the page may have stopped drawing), or a message its panel does not take. */
function logUntaken(pageTitle: string, raw: unknown): void {
  const pageError = pageErrorText(raw);
  if (pageError !== undefined) console.error(`Bitcoin USDT: the ${pageTitle} page failed: ${pageError}`);
  else console.warn(`Bitcoin USDT: the ${pageTitle} page sent a message the panel does not take: ${JSON.stringify(raw)?.slice(0, 300)}`);
}
