// Localization: package.json's %keys% against package.nls.json, and l10n/bundle.l10n.json against the
// vscode.l10n.t() calls in src/ (extracted with @vscode/l10n-dev, offline, as `npm run l10n:export` does).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { getL10nJson } from '@vscode/l10n-dev';

const root = path.join(__dirname, '..', '..');
const readJson = (file: string): unknown => JSON.parse(readFileSync(path.join(root, file), 'utf8'));

/** Every string in a JSON value, depth first. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** TypeScript files under a src/ folder, relative to the repository root. */
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

test('l10n/bundle.l10n.json holds exactly the vscode.l10n.t() strings of src/ (npm run l10n:export)', async () => {
  const files = sources('src');
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
