// Labels files: a JSON array of names, or a text file with one name per line (as ONNX model zoo's
// synset.txt), named by a model's descriptor and checked against the model's class count.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { descriptorForModel, loadLabels } from '../../src/files/descriptorFile';
import { fixtureBytes } from './helpers/fixtures';
import { tempDir, writeModel } from './helpers/models';

const dir = tempDir('labels-');
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

test('a .txt labels file: one name per line, CRLF and a BOM and trailing blank lines tolerated', async () => {
  assert.deepEqual(
    await loadLabels(write('a.txt', '\uFEFFtench\r\ngoldfish\r\n great white shark \r\n\r\n')),
    ['tench', 'goldfish', 'great white shark'],
  );
  assert.deepEqual(await loadLabels(write('b.txt', 'n01440764 tench, Tinca tinca\nn01443537 goldfish')), [
    'n01440764 tench, Tinca tinca',
    'n01443537 goldfish',
  ]);
});

test('a .txt labels file with a blank line between names, or none at all, is refused with the line', async () => {
  await assert.rejects(loadLabels(write('gap.txt', 'tench\n\ngoldfish\n')), /gap\.txt: line 2 is blank/);
  await assert.rejects(loadLabels(write('empty.txt', '\n\n')), /empty\.txt has no labels/);
  await assert.rejects(loadLabels(write('names.json', '{"0": "tench"}')), /not a JSON array of strings/);
});

test("a descriptor naming a .txt labels file: the model's classes get its names, a wrong count is refused", async () => {
  const model = writeModel(dir, 'mobilenet_v2.onnx', fixtureBytes('mobilenet_v2.ts'));
  const names = Array.from({ length: 1000 }, (_, i) => `thing ${i}`);
  write('classes.txt', `${names.join('\n')}\n`);
  write(
    'mobilenet_v2.json',
    JSON.stringify({ model: 'mobilenet_v2.onnx', preprocessing: 'torchvision', labels: 'classes.txt' }),
  );
  const d = await descriptorForModel(model, 'torchvision', []);
  assert.deepEqual(d.labels, names);

  write('classes.txt', names.slice(1).join('\n'));
  await assert.rejects(
    descriptorForModel(model, 'torchvision', []),
    /name 999 classes, but the model outputs 1000/,
  );
});
