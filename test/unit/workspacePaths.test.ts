// The webview may only name files inside the workspace folders.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveInsideWorkspace } from '../../src/files/workspacePaths';

const one = [{ name: 'photos', fsPath: '/home/u/photos' }];
const two = [...one, { name: 'more', fsPath: '/srv/more' }];

test('relative paths inside the folder resolve', () => {
  assert.equal(resolveInsideWorkspace(one, 'cats/chelsea.png'), '/home/u/photos/cats/chelsea.png');
  assert.equal(resolveInsideWorkspace(two, 'more/a.jpg'), '/srv/more/a.jpg');
});

test('escapes, absolute paths and odd input are refused', () => {
  for (const bad of [
    '../../etc/passwd',
    'cats/../../etc/passwd',
    '/etc/passwd',
    'C:\\Windows\\win.ini',
    '\\\\server\\x',
    '',
    'a\0b',
    '..',
  ]) {
    assert.equal(resolveInsideWorkspace(one, bad), undefined, JSON.stringify(bad));
  }
  assert.equal(resolveInsideWorkspace(two, 'elsewhere/a.jpg'), undefined);
  assert.equal(resolveInsideWorkspace(two, 'photos'), undefined);
});
