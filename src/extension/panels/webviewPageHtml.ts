import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';

/** Only the build output of the webviews may be loaded into a panel. */
export function webviewBuildRoot(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
}

export interface WebviewPage {
  /** Bundle name in dist/webview: `<bundle>.js` and `<bundle>.css` (built from media/<bundle>/main.ts). */
  readonly bundle: string;
  readonly title: string;
  /** Extra style sheets from dist/webview loaded before the bundle's own (e.g. uPlot.min.css). */
  readonly extraStyles?: readonly string[];
}

/**
 * The page of every webview panel: a strict CSP, scripts only with a fresh nonce, styles, fonts and images
 * only from the extension's dist/webview. No data goes into this HTML: everything arrives by postMessage.
 */
export function webviewPageHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: WebviewPage): string {
  if (!/^[A-Za-z0-9]+$/.test(page.bundle)) throw new Error(`bad webview bundle name ${page.bundle}`);
  const nonce = randomBytes(18).toString('base64');
  const root = webviewBuildRoot(extensionUri);
  const asset = (name: string): string => webview.asWebviewUri(vscode.Uri.joinPath(root, name)).toString();
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  const styles = [...(page.extraStyles ?? []), `${page.bundle}.css`].map((name) => `<link rel="stylesheet" href="${asset(name)}">`).join('\n');
  const title = page.title.replace(/[^A-Za-z0-9 .,()-]/g, '');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles}
<title>${title}</title>
</head>
<body>
<div id="app" class="app"><p class="loading">Loading…</p></div>
<script nonce="${nonce}" src="${asset(`${page.bundle}.js`)}"></script>
</body>
</html>`;
}
