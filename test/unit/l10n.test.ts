// Localization: package.json's %keys% against package.nls.json; l10n/bundle.l10n.json against the l10n.t()
// calls in src/ (vscode.l10n) and webview/ (@vscode/l10n), extracted with @vscode/l10n-dev, offline, as
// `npm run l10n:export` does; no literal English where the host or the page shows text; and a bundle on the
// page reaching what the page shows.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import * as l10n from '@vscode/l10n';
import { getL10nJson } from '@vscode/l10n-dev';
import ts from 'typescript';
import { pageHtml } from '../../src/host/panel/page';
import type { SavedPanel } from '../../src/shared/savedPanel';
import { verdict } from '../../webview/figures';
import { loadTranslations } from '../../webview/l10n';
import { blockCounts } from '../../webview/text';

const root = path.join(__dirname, '..', '..');
const readJson = (file: string): unknown => JSON.parse(readFileSync(path.join(root, file), 'utf8'));

/** Every string in a JSON value, depth first. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** TypeScript files under a folder, relative to the repository root. */
function sources(folder: string): string[] {
  return readdirSync(path.join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.tsx?$/.test(f))
    .map((f) => path.join(folder, f))
    .sort();
}

test('package.json: every %key% is in package.nls.json, and every key there is used', () => {
  const manifest = readJson('package.json') as Record<string, unknown>;
  const nls = readJson('package.nls.json') as Record<string, unknown>;
  // vsce replaces only values that are exactly %key% with a key of word characters and dots.
  const used = strings(manifest).flatMap((s) => /^%([\w.]+)%$/.exec(s)?.[1] ?? []);
  const half = strings(manifest).filter((s) => /^%.*%$/.test(s) && !/^%[\w.]+%$/.test(s));
  assert.deepEqual(half, [], 'placeholders vsce would not replace');
  const missing = used.filter((key) => !(key in nls));
  assert.deepEqual(missing, [], 'keys package.json uses that package.nls.json lacks');
  const unused = Object.keys(nls).filter((key) => !used.includes(key));
  assert.deepEqual(unused, [], 'package.nls.json keys that package.json does not use');
  for (const [key, text] of Object.entries(nls)) {
    assert.equal(typeof text, 'string', `${key}: vsce and VS Code need a plain string`);
    assert.ok((text as string).trim(), `${key} is empty`);
  }
  assert.equal(manifest.l10n, './l10n', 'package.json "l10n" points VS Code at the bundles');
});

test('package.json: commands, settings and capabilities show no literal English', () => {
  const manifest = readJson('package.json') as {
    contributes: {
      commands: { title: string; category?: string }[];
      configuration: { title: string; properties: Record<string, Record<string, unknown>> };
    };
    capabilities: Record<string, { description?: string }>;
  };
  const isKey = (s: unknown): boolean => typeof s === 'string' && /^%[\w.]+%$/.test(s);
  const { commands, configuration } = manifest.contributes;
  for (const c of commands) assert.ok(isKey(c.title) && isKey(c.category), JSON.stringify(c));
  assert.ok(isKey(configuration.title));
  for (const [name, schema] of Object.entries(configuration.properties)) {
    for (const field of ['description', 'markdownDescription']) {
      if (field in schema) assert.ok(isKey(schema[field]), `${name}.${field}`);
    }
    for (const d of (schema.enumDescriptions as unknown[] | undefined) ?? []) assert.ok(isKey(d), name);
  }
  for (const [name, capability] of Object.entries(manifest.capabilities)) {
    assert.ok(isKey(capability.description), `capabilities.${name}.description`);
  }
});

test('l10n/bundle.l10n.json holds exactly the l10n.t() strings of src/ and webview/ (npm run l10n:export)', async () => {
  const files = [...sources('src'), ...sources('webview')];
  const extracted = await getL10nJson(
    files.map((f) => ({ extension: path.extname(f), contents: readFileSync(path.join(root, f), 'utf8') })),
  );
  const bundle = readJson('l10n/bundle.l10n.json');
  assert.deepEqual(bundle, extracted, 'l10n/bundle.l10n.json is out of date: run `npm run l10n:export`');
});

test('src/host: l10n.t() gets literal messages, and messages shown to the user go through it', () => {
  const checks: [RegExp, string][] = [
    // The exporter finds only string literals; anything else would be missing from the bundle.
    [/l10n\.t\((?!\s*['"`])/g, 'l10n.t() without a literal message'],
    // A message, dialog title or placeholder spelled out in English rather than through l10n.t().
    [
      /(?:show(?:Information|Warning|Error)Message|showError)\(\s*(?:['"]|`(?!\$\{))/g,
      'message not localized',
    ],
    [/\b(?:title|placeHolder|prompt|openLabel):\s*['"`]/g, 'title or prompt not localized'],
  ];
  const problems: string[] = [];
  for (const file of sources('src/host')) {
    const text = readFileSync(path.join(root, file), 'utf8');
    for (const [pattern, what] of checks) {
      for (const m of text.matchAll(pattern)) {
        const line = text.slice(0, m.index).split('\n').length;
        problems.push(`${what}: ${file}:${line}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

// ---- The webview ----------------------------------------------------------------------------------------

/** The webview's sources, parsed (no type check: this is about what the files say, not their types). */
function webviewFiles(): { file: string; source: ts.SourceFile }[] {
  return sources('webview').map((file) => ({
    file,
    source: ts.createSourceFile(
      file,
      readFileSync(path.join(root, file), 'utf8'),
      ts.ScriptTarget.Latest,
      true,
    ),
  }));
}

/** Every node under `node`, depth first. */
function* walk(node: ts.Node): Generator<ts.Node> {
  yield node;
  for (const child of node.getChildren()) yield* walk(child);
}

/** `file:line` of a node. */
function where(file: string, node: ts.Node): string {
  return `${file}:${node.getSourceFile().getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
}

/**
 * Words a sink may show as they are, with why. Everything else of two letters or more in a literal that
 * reaches the page's text is English that a translation would miss.
 */
const NOT_WORDS: Record<string, string> = {
  ms: 'a unit (milliseconds), as numbers and units are formatted by code',
  dB: 'a unit (decibels)',
  GFLOP: 'a unit (GFLOP/s)',
  fp32: 'a precision: the value of the cnnLens.precision setting',
  int8: 'a precision: the value of the cnnLens.precision setting',
  CPU: "an execution provider's name",
  RGB: "a channel order: the value of a descriptor's channelOrder",
  BGR: "a channel order: the value of a descriptor's channelOrder",
};

/** The literal text an expression shows: string and template literals, through `?:`, `+`, `??`, `||`, `&&`. */
function shownText(e: ts.Expression): { node: ts.Node; text: string }[] {
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return [{ node: e, text: e.text }];
  if (ts.isTemplateExpression(e)) {
    return [
      { node: e, text: [e.head.text, ...e.templateSpans.map((s) => s.literal.text)].join(' ') },
      ...e.templateSpans.flatMap((s) => shownText(s.expression)),
    ];
  }
  if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e)) return shownText(e.expression);
  if (ts.isConditionalExpression(e)) return [...shownText(e.whenTrue), ...shownText(e.whenFalse)];
  if (ts.isBinaryExpression(e)) {
    const k = e.operatorToken.kind;
    if (
      k === ts.SyntaxKind.PlusToken ||
      k === ts.SyntaxKind.QuestionQuestionToken ||
      k === ts.SyntaxKind.BarBarToken
    )
      return [...shownText(e.left), ...shownText(e.right)];
    if (k === ts.SyntaxKind.AmpersandAmpersandToken) return shownText(e.right);
  }
  return [];
}

/** Attributes whose value the user reads or hears. */
const TEXT_ATTRIBUTES = new Set(['title', 'aria-label', 'placeholder', 'alt', 'aria-roledescription']);
/** Properties of an element whose value the user reads or hears. */
const TEXT_PROPERTIES = new Set(['textContent', 'innerText', 'title', 'placeholder', 'ariaLabel']);

/** The expressions in a webview file whose text reaches the page. */
function sinks(source: ts.SourceFile): ts.Expression[] {
  const out: ts.Expression[] = [];
  for (const node of walk(source)) {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      // h(tag, attrs, ...children): the children are text or elements.
      if (ts.isIdentifier(callee) && callee.text === 'h') out.push(...node.arguments.slice(2));
      if (ts.isPropertyAccessExpression(callee)) {
        const name = callee.name.text;
        if (['append', 'replaceChildren', 'prepend', 'createTextNode'].includes(name))
          out.push(...node.arguments);
        const [attribute, value] = node.arguments;
        if (name === 'setAttribute' && attribute && value && ts.isStringLiteral(attribute)) {
          if (TEXT_ATTRIBUTES.has(attribute.text)) out.push(value);
        }
      }
    }
    // { title: '…', 'aria-label': '…' } (attributes for h()).
    if (ts.isPropertyAssignment(node) && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name))) {
      if (TEXT_ATTRIBUTES.has(node.name.text)) out.push(node.initializer);
    }
    // el.textContent = '…', el.title = '…'.
    if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isPropertyAccessExpression(node.left) &&
      TEXT_PROPERTIES.has(node.left.name.text)
    ) {
      out.push(node.right);
    }
  }
  return out;
}

test('webview: l10n.t() is @vscode/l10n as `l10n`, with literal messages, inside functions', () => {
  const problems: string[] = [];
  for (const { file, source } of webviewFiles()) {
    let imported = false;
    for (const node of walk(source)) {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        if (node.moduleSpecifier.text !== '@vscode/l10n') continue;
        const bindings = node.importClause?.namedBindings;
        if (bindings && ts.isNamespaceImport(bindings) && bindings.name.text === 'l10n') imported = true;
        else problems.push(`${where(file, node)}: import @vscode/l10n as \`import * as l10n\``);
      }
      if (!ts.isCallExpression(node) || !ts.isPropertyAccessExpression(node.expression)) continue;
      const { expression: object, name } = node.expression;
      if (!ts.isIdentifier(object) || object.text !== 'l10n' || name.text !== 't') continue;
      const [message] = node.arguments;
      if (!message || !(ts.isStringLiteral(message) || ts.isNoSubstitutionTemplateLiteral(message)))
        problems.push(`${where(file, node)}: l10n.t() without a literal message`);
      if (!imported)
        problems.push(`${where(file, node)}: l10n.t() in a file that does not import @vscode/l10n`);
      // At a module's top level it would run on import, before main.ts has loaded the translations.
      if (!ts.findAncestor(node, ts.isFunctionLike))
        problems.push(`${where(file, node)}: l10n.t() at the top level of a module`);
    }
  }
  assert.deepEqual(problems, []);
});

test('webview: text the page shows goes through l10n.t() (h() children, text attributes, textContent)', () => {
  const problems: string[] = [];
  for (const { file, source } of webviewFiles()) {
    for (const sink of sinks(source)) {
      for (const { node, text } of shownText(sink)) {
        const words = (text.match(/[A-Za-z][A-Za-z0-9]+/g) ?? []).filter((w) => !(w in NOT_WORDS));
        if (words.length > 0) problems.push(`${where(file, node)}: ${JSON.stringify(text)}`);
      }
    }
  }
  assert.deepEqual(problems, [], 'literal English where the page shows text: use l10n.t()');
});

/** A translation for the tests below, of a few of the page's messages. */
const GERMAN: Record<string, string> = {
  Architecture: 'Architektur',
  'Cannot classify {0}': '{0} kann nicht klassifiziert werden',
  'Images: {0} classified, {1} failed': 'Bilder: {0} klassifiziert, {1} fehlgeschlagen',
  '{0} {1} blocks': '{0} {1}-Blöcke',
  'beats random at insertion and at deletion': 'schlägt den Zufall beim Einfügen und beim Löschen',
};

test('page: the host’s bundle travels in <html data-l10n> and is what the webview’s l10n.t() uses', () => {
  const sources = { cspSource: 'https://x', script: 'https://x/webview.js', style: 'https://x/panel.css' };
  assert.match(pageHtml(sources), /<html lang="en">/, 'English: no bundle on the page');
  // Quotes and markup in a translation must not end the attribute.
  const bundle = { ...GERMAN, Log: 'Protokoll "<b>" & mehr' };
  const html = pageHtml({ ...sources, translations: { language: 'de', bundle } });
  const [, lang, attribute] = /<html lang="([^"]*)" data-l10n="([^"]*)">/.exec(html) ?? [];
  assert.equal(lang, 'de');
  const json = attribute
    ?.replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  assert.deepEqual(JSON.parse(json ?? ''), bundle);

  assert.equal(loadTranslations(undefined), false, 'no data-l10n: English');
  assert.equal(loadTranslations('{not json'), false, 'an unreadable bundle leaves English');
  assert.equal(l10n.t('Architecture'), 'Architecture');
  assert.equal(loadTranslations(json), true);
  // The page's own text functions: translated where the bundle has the message, English where it has not.
  const block = (kind: string): { kind: string } => ({ kind });
  assert.equal(
    blockCounts([block('bottleneck'), block('bottleneck'), block('bottleneck')] as never),
    '3 bottleneck-Blöcke',
  );
  assert.equal(blockCounts([block('bottleneck')] as never), '1 bottleneck block');
  const figures = { deletion_auc: 0.1, insertion_auc: 0.5, average_drop: 0, increase_in_confidence: 0 };
  const random = { deletion_auc: 0.3, insertion_auc: 0.3, average_drop: 0, increase_in_confidence: 0 };
  assert.equal(verdict(figures, random), 'schlägt den Zufall beim Einfügen und beim Löschen');
  assert.equal(
    l10n.t('Images: {0} classified, {1} failed', 1, 2),
    'Bilder: 1 klassifiziert, 2 fehlgeschlagen',
  );
});

const CHROMIUM = '/usr/bin/chromium';

test('page: dist/webview.js shows a bundle’s translations in headless Chromium, English elsewhere', async (t) => {
  const bundleJs = path.join(root, 'dist', 'webview.js');
  if (!existsSync(CHROMIUM)) return t.skip(`no Chromium at ${CHROMIUM} (e2e/setup.sh installs it)`);
  if (!existsSync(bundleJs)) return t.skip('no dist/webview.js (npm run -s build:bundles builds it)');
  const dir = mkdtempSync(path.join(tmpdir(), 'cnn-lens-l10n-'));
  try {
    // A restored run (the page renders it at once): a failure, current, and a result.
    const saved: SavedPanel = {
      version: 1,
      current: 0,
      results: [
        { file: 'a.jpg', uri: 'file:///a.jpg', error: 'not an image' },
        {
          file: 'b.jpg',
          uri: 'file:///b.jpg',
          top: [{ index: 281, label: 'tabby', probability: 0.9 }],
          provider: 'cpu',
          ms: { decode: 1, run: 2, total: 3 },
          width: 4,
          height: 5,
        },
      ],
    };
    let html = pageHtml({
      cspSource: 'file:',
      script: pathToFileURL(bundleJs).href,
      style: pathToFileURL(path.join(root, 'media', 'panel.css')).href,
      translations: { language: 'de', bundle: GERMAN },
    });
    // VS Code's API, stood in for by a script with the page's nonce (its CSP lets nothing else run).
    const nonce = /<script nonce="([^"]+)"/.exec(html)?.[1];
    assert.ok(nonce, 'the page loads its script by nonce');
    const api = `<script nonce="${nonce}">acquireVsCodeApi = () => ({ postMessage() {}, setState() {}, getState: () => (${JSON.stringify(saved)}) });</script>`;
    html = html.replace(`<script nonce="${nonce}"`, `${api}\n<script nonce="${nonce}"`);
    const page = path.join(dir, 'panel.html');
    writeFileSync(page, html);
    // The flags e2e/ uses on this machine: no sandbox as root, no network, a profile of its own.
    const { stdout } = await promisify(execFile)(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${path.join(dir, 'profile')}`,
        '--allow-file-access-from-files',
        '--dump-dom',
        pathToFileURL(page).href,
      ],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
    );
    assert.match(stdout, /<html lang="de"/);
    assert.match(stdout, /<vscode-tab-header [^>]*>Architektur<\/vscode-tab-header>/);
    assert.match(stdout, /<h2>a\.jpg kann nicht klassifiziert werden<\/h2>/);
    assert.match(stdout, /<h2>Bilder: 1 klassifiziert, 1 fehlgeschlagen<\/h2>/);
    // Messages the bundle does not have stay English.
    assert.match(stdout, /<button type="button">Runtime info<\/button>/);
    assert.match(stdout, /placeholder="Filter by label"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
