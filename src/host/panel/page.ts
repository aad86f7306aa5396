// The panel page's markup, apart from VS Code: the host fills in its webview's URIs, the benchmark
// (scripts/benchRender.ts) a local origin, so both load the same page.
import { randomBytes } from 'node:crypto';

/** Where the page's resources come from: the CSP source, the script and the stylesheet. */
export interface PageSources {
  cspSource: string;
  script: string;
  style: string;
  /** The display language's translations (`vscode.l10n.bundle`) and its code; absent: English. */
  translations?: { language: string; bundle: Record<string, string> };
}

/** Text safe inside a double-quoted attribute. */
function attribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The panel's HTML: a strict Content-Security-Policy (nothing but the page's own origin, data: images,
 * and the one script by nonce), and the empty top the webview bundle fills and puts its section tabs after.
 * Translations travel as `<html data-l10n>` (JSON), which webview/l10n.ts loads before the page renders.
 * The VSCode Elements components style themselves with constructed stylesheets, which the policy allows.
 */
export function pageHtml({ cspSource, script, style, translations }: PageSources): string {
  const nonce = randomBytes(16).toString('base64');
  const csp = [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  const html = translations
    ? `<html lang="${attribute(translations.language)}" data-l10n="${attribute(JSON.stringify(translations.bundle))}">`
    : '<html lang="en">';
  return `<!DOCTYPE html>
${html}
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>CNN Lens</title>
</head>
<body>
<main><div id="top"></div></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
