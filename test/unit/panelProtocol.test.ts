// The panel's messages for models (open, preprocessing, compare) are checked at run time, and the
// wording of block counts in the layer table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { int as sharedInt } from '../../src/shared/format';
import type { BlockSummary } from '../../src/shared/layerTable';
import { isWebviewMessage } from '../../src/shared/protocol';
import type { Preprocessing } from '../../src/shared/preprocessing';
import { blockCounts, int } from '../../webview/text';

const TORCHVISION: Preprocessing = {
  resize: 256,
  crop: 224,
  channelOrder: 'RGB',
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

test('model messages from the webview: well-formed ones pass', () => {
  for (const m of [
    { type: 'listModels' },
    { type: 'listLabelFiles' },
    { type: 'cancelComparison' },
    { type: 'openModel', id: '' },
    { type: 'openModel', id: '/work/models/mobilenet_v2.onnx' },
    { type: 'savePreprocessing', preprocessing: TORCHVISION, labels: '' },
    {
      type: 'savePreprocessing',
      preprocessing: { ...TORCHVISION, channelOrder: 'BGR' },
      labels: 'labels.json',
    },
    { type: 'command', command: 'compareArchitectures' },
  ]) {
    assert.ok(isWebviewMessage(m), JSON.stringify(m));
  }
});

test('model messages from the webview: malformed ones are refused', () => {
  const bad = (preprocessing: unknown): unknown => ({ type: 'savePreprocessing', preprocessing, labels: '' });
  for (const m of [
    { type: 'listModels', extra: 1 },
    { type: 'cancelComparison', now: true },
    { type: 'openModel' },
    { type: 'openModel', id: 3 },
    { type: 'openModel', id: 'a\0b' },
    { type: 'openModel', id: 'x'.repeat(5000) },
    { type: 'savePreprocessing', preprocessing: TORCHVISION },
    { type: 'savePreprocessing', preprocessing: TORCHVISION, labels: 7 },
    bad(undefined),
    bad({ ...TORCHVISION, crop: 0 }),
    bad({ ...TORCHVISION, crop: 224.5 }),
    bad({ ...TORCHVISION, resize: 5000 }),
    bad({ ...TORCHVISION, scale: Number.NaN }),
    bad({ ...TORCHVISION, scale: Infinity }),
    bad({ ...TORCHVISION, scale: '1' }),
    bad({ ...TORCHVISION, mean: [0, 0] }),
    bad({ ...TORCHVISION, std: [1, 1, null] }),
    bad({ ...TORCHVISION, channelOrder: 'RGBA' }),
    bad({ ...TORCHVISION, extra: 1 }),
    { type: 'command', command: 'deleteEverything' },
  ]) {
    assert.equal(isWebviewMessage(m), false, JSON.stringify(m).slice(0, 120));
  }
});

function blocks(...kinds: string[]): BlockSummary[] {
  return kinds.map((kind, i) => ({ kind, block: `b${i}` }) as BlockSummary);
}

test('stage rows count blocks by kind, as the papers name them', () => {
  assert.equal(blockCounts(blocks('bottleneck', 'bottleneck', 'bottleneck')), '3 bottleneck blocks');
  assert.equal(blockCounts(blocks('basic')), '1 basic block');
  assert.equal(
    blockCounts(blocks('transition', 'dense layer', 'dense layer')),
    '1 transition + 2 dense layers',
  );
  assert.equal(blockCounts(blocks('inception module', 'inception module')), '2 inception modules');
  assert.equal(blockCounts(blocks('ShuffleNet V2 unit')), '1 ShuffleNet V2 unit');
  assert.equal(
    blockCounts(blocks('MBConv', 'Fused-MBConv', 'MBConv')),
    '2 MBConv blocks + 1 Fused-MBConv block',
  );
  assert.equal(blockCounts(blocks('branches', 'branches')), '2 branch blocks');
  assert.equal(blockCounts(blocks('conv group', 'conv group')), '2 conv groups');
});

test("the webview's number format is the shared one", () => {
  for (const n of [0, 7, 1234, 25_583_592, 3_857_973_248]) assert.equal(int(n), sharedInt(n));
});
