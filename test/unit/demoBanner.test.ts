// `npm run demo`'s banner names the entries the workbench shows: the Explorer context menu's and the Command
// Palette's titles from package.json and package.nls.json; a step whose menu entry is gone fails the demo.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT } from './helpers/paths';

type DemoBanner = (root: string, url: string) => string;

/** scripts/demoBanner.mjs, a plain-JS script without type declarations, loaded as the demo loads it. */
async function loadDemoBanner(): Promise<DemoBanner> {
  const module = (await import(pathToFileURL(path.join(ROOT, 'scripts/demoBanner.mjs')).href)) as {
    demoBanner: DemoBanner;
  };
  return module.demoBanner;
}

const nls = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.nls.json'), 'utf8')) as Record<
  string,
  string
>;

test("the banner's steps carry the Explorer menu's and the Command Palette's titles", async () => {
  const banner = (await loadDemoBanner())(ROOT, 'http://127.0.0.1:8080/?folder=%2Fws');
  assert.match(banner, /^CNN Lens demo: open http:\/\/127\.0\.0\.1:8080\/\?folder=%2Fws$/m);
  assert.match(banner, new RegExp(`right-click chelsea\\.png .*→ "${nls['command.classify.title']}"$`, 'm'));
  assert.match(banner, new RegExp(`right-click photos .*→ "${nls['command.classifyFolder.title']}"$`, 'm'));
  const palette = `${nls['command.category']}: ${nls['command.openArchitecture.title']}`;
  assert.match(banner, new RegExp(`F1 \\(Command Palette\\) → "${palette}"$`, 'm'));
});

test('a step whose command left the Explorer menu fails instead of naming an entry that does not exist', async () => {
  const demoBanner = await loadDemoBanner();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-demo-'));
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      contributes: { menus: Record<string, { command: string }[]> };
    };
    const menus = pkg.contributes.menus;
    menus['explorer/context'] = menus['explorer/context']!.filter(
      (e) => e.command !== 'cnnLens.classifyFolder',
    );
    fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify(pkg));
    fs.copyFileSync(path.join(ROOT, 'package.nls.json'), path.join(root, 'package.nls.json'));
    assert.throws(
      () => demoBanner(root, 'http://127.0.0.1:8080/'),
      /cnnLens\.classifyFolder is not in the explorer\/context menu/,
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
