import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';

/** Only the build output of the webviews may be loaded into a panel. */
export function webviewRoot(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
}

export interface WebviewPageOptions {
  /** Name of the bundle in dist/webview (`<bundle>.js`, `<bundle>.css`), i.e. the media/<bundle>/ folder. */
  readonly bundle: string;
  readonly title: string;
  /** Also load uPlot's stylesheet. */
  readonly charts: boolean;
}

/**
 * A panel's page: a strict CSP, scripts only with a fresh nonce, styles and the bundle only from the
 * extension's dist/webview. No data goes into this HTML: everything arrives by postMessage.
 * (The same page as the P2P panel's p2pPanelHtml, for any bundle.)
 */
export function webviewPanelHtml(webview: vscode.Webview, extensionUri: vscode.Uri, options: WebviewPageOptions): string {
  if (!/^[A-Za-z0-9]+$/.test(options.bundle)) throw new Error(`bad webview bundle name ${options.bundle}`);
  const nonce = randomBytes(18).toString('base64');
  const root = webviewRoot(extensionUri);
  const asset = (name: string): string => webview.asWebviewUri(vscode.Uri.joinPath(root, name)).toString();
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  const title = options.title.replace(/[<>&"]/g, '');
  const chartStyles = options.charts ? `<link rel="stylesheet" href="${asset('uPlot.min.css')}">\n` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${chartStyles}<link rel="stylesheet" href="${asset(`${options.bundle}.css`)}">
<title>${title}</title>
</head>
<body>
<div id="app" class="app"><p class="loading">Loading…</p></div>
<script nonce="${nonce}" src="${asset(`${options.bundle}.js`)}"></script>
</body>
</html>`;
}
