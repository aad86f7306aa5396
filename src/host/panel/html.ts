// The webview's HTML (src/host/panel/page.ts) with this webview's URIs: local resources only.
import * as vscode from 'vscode';
import { pageHtml } from './page';

/** HTML for the CNN Lens panel, loading dist/webview.js and media/panel.css, in VS Code's display language. */
export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  // No bundle in English, or where the extension has no translation for the display language.
  const bundle = vscode.l10n.bundle;
  return pageHtml({
    cspSource: webview.cspSource,
    script: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js')).toString(),
    style: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'panel.css')).toString(),
    translations: bundle && { language: vscode.env.language, bundle },
  });
}
