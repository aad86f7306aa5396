// The webview's HTML (src/host/panel/page.ts) with this webview's URIs: local resources only.
import * as vscode from 'vscode';
import { pageHtml } from './page';

/** HTML for the CNN Lens panel, loading dist/webview.js and media/panel.css. */
export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  return pageHtml({
    cspSource: webview.cspSource,
    script: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js')).toString(),
    style: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'panel.css')).toString(),
  });
}
