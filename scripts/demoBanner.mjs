// What `npm run demo` prints once the workbench answers: where to open it and the first steps, each named by
// the title the workbench shows. The titles come from package.json's menus and package.nls.json, so a renamed
// command renames its step, and a step whose menu entry is gone fails the demo instead of misleading.
import fs from 'node:fs';
import path from 'node:path';

/** `package.json` and `package.nls.json` of the extension at `root`. */
function manifest(root) {
  const read = (file) => JSON.parse(fs.readFileSync(path.join(root, file), 'utf8'));
  return { pkg: read('package.json'), nls: read('package.nls.json') };
}

/** A `%key%` resolved through package.nls.json; other text as it is. */
function localized(nls, text) {
  const key = /^%(.+)%$/.exec(text)?.[1];
  return key === undefined ? text : nls[key];
}

/** The title of `command` in the menu `menu` (a `contributes.menus` key); throws when the menu lacks it. */
function menuTitle({ pkg, nls }, menu, command) {
  const entries = pkg.contributes.menus[menu] ?? [];
  if (!entries.some((e) => e.command === command)) throw new Error(`${command} is not in the ${menu} menu`);
  return localized(nls, pkg.contributes.commands.find((c) => c.command === command).title);
}

/** The Command Palette's "Category: Title" for `command`; throws when the palette hides it. */
function paletteTitle({ pkg, nls }, command) {
  const hidden = (pkg.contributes.menus.commandPalette ?? []).some(
    (e) => e.command === command && e.when === 'false',
  );
  const contributed = pkg.contributes.commands.find((c) => c.command === command);
  if (hidden || contributed === undefined) throw new Error(`${command} is not in the Command Palette`);
  return `${localized(nls, contributed.category)}: ${localized(nls, contributed.title)}`;
}

/** The banner for the workbench at `url` with the demo workspace (e2e/codeServer.mjs's layout) open. */
export function demoBanner(root, url) {
  const m = manifest(root);
  const explorer = (command) => `"${menuTitle(m, 'explorer/context', command)}"`;
  return [
    `CNN Lens demo: open ${url}`,
    `  - Explorer: right-click chelsea.png (or any image) → ${explorer('cnnLens.classify')}`,
    '  - Explorer: right-click photos (six photos) or repeat-set (the same ones repeated, for throughput) → ' +
      explorer('cnnLens.classifyFolder'),
    `  - F1 (Command Palette) → "${paletteTitle(m, 'cnnLens.openArchitecture')}"`,
    'Ctrl+C stops the server.',
  ].join('\n');
}
