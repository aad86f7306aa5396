// The webview's HTML: a strict Content-Security-Policy, nonce-only scripts, local resources only.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** HTML for the CNN Lens panel, loading dist/webview.js and media/panel.css. */
export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'panel.css'));
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>CNN Lens</title>
</head>
<body>
<main><div id="top"></div><div id="prep"></div><div id="models-compare"></div><div id="jobs"></div><div id="arch"></div><div id="maps"></div></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
