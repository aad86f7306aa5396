// The check on paths the webview names ("Pick image…"): only image files inside the workspace folder,
// also after following symbolic links. Runs against the real workspace API of the extension host.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { resolvePickedImage } from '../../src/host/workspaceImages';

describe('resolvePickedImage (webview-named paths)', () => {
  let root: string;
  let outside: string;
  /** Links this suite adds to the workspace, removed afterwards. */
  const links: string[] = [];

  function link(name: string, target: string): void {
    const at = path.join(root, name);
    fs.symlinkSync(target, at);
    links.push(at);
  }

  before(() => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'no workspace folder is open');
    root = folder.uri.fsPath;
    // An image outside the workspace, and links to it (and to its folder) from inside.
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-outside-'));
    fs.copyFileSync(path.join(root, 'chelsea.png'), path.join(outside, 'secret.png'));
    link('escape.png', path.join(outside, 'secret.png'));
    link('escape-dir', outside);
    // A link that stays inside the workspace.
    link('alias.png', path.join(root, 'chelsea.png'));
  });

  after(() => {
    for (const at of links) fs.rmSync(at, { force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('resolves a workspace image to its file', async () => {
    const uri = await resolvePickedImage('chelsea.png');
    assert.ok(uri, 'chelsea.png should resolve');
    assert.equal(uri.fsPath, path.join(root, 'chelsea.png'));
    assert.equal((await resolvePickedImage('photos/cat.png'))?.fsPath, path.join(root, 'photos/cat.png'));
  });

  const refused: [what: string, file: () => string][] = [
    ['a relative path out of the workspace', () => '../../etc/passwd'],
    ['.. that would come back inside', () => 'photos/../chelsea.png'],
    ['an absolute path', () => '/etc/passwd'],
    ['an absolute path to a workspace image', () => path.join(root, 'chelsea.png')],
    ['a file that is not an image', () => 'notes.txt'],
    ['an image that does not exist', () => 'missing.png'],
    ['a NUL byte', () => 'chelsea.png\0.png'],
    ['an empty path', () => ''],
    ['a symbolic link to an image outside the workspace', () => 'escape.png'],
    ['an image under a linked folder outside the workspace', () => 'escape-dir/secret.png'],
  ];
  for (const [what, file] of refused) {
    it(`refuses ${what}`, async () => {
      assert.equal(await resolvePickedImage(file()), undefined, JSON.stringify(file()));
    });
  }

  it('accepts a symbolic link whose target is inside the workspace', async () => {
    assert.equal((await resolvePickedImage('alias.png'))?.fsPath, path.join(root, 'alias.png'));
  });
});
