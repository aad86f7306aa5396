// The arithmetic behind the panel's measured views (webview/figures.ts) and the panel's new messages:
// the profile's ranking, receptive-field boxes, the crop's place in the original image (checked against the
// worker's real preprocessing), faithfulness in words, and run-time checks of what the webview may send.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { prepareImage } from '../../src/inference/preprocess';
import type { Profile, TimedRow } from '../../src/shared/profile';
import { cosineSimilarity, layerSimilarity, type LayerActivation } from '../../src/shared/exploration';
import type { LayerTable } from '../../src/shared/layerTable';
import { isWebviewMessage } from '../../src/shared/protocol';
import type { AgreementReport } from '../../src/shared/quantization';
import {
  agreementHeadline,
  beatsRandom,
  cropPlacement,
  cropToOriginal,
  deletionNote,
  enlargeOrigin,
  increaseInConfidenceText,
  msText,
  referenceFigure,
  profilerOverhead,
  receptiveField,
  slowestFirst,
  stageSimilarity,
  verdict,
  type FaithfulnessFigures,
} from '../../webview/figures';

const timed = (name: string, ms: number): TimedRow => ({
  name,
  stage: null,
  block: null,
  ms,
  share: 0,
  gflops: null,
  provider: 'CPUExecutionProvider',
  fallback: false,
  kernels: [],
});

test('profile rows: slowest first, ties in table order; overhead, share of the reference, ms text', () => {
  const rows = [timed('a', 1), timed('b', 3), timed('c', 1), timed('d', 2)];
  assert.deepEqual(
    slowestFirst(rows).map((r) => r.name),
    ['b', 'd', 'a', 'c'],
  );
  assert.deepEqual(
    rows.map((r) => r.name),
    ['a', 'b', 'c', 'd'],
    'the profile itself is left in table order',
  );
  const profile = { ms: 10.4, plain_ms: 10 } as Profile;
  assert.ok(Math.abs(profilerOverhead(profile)! - 0.04) < 1e-9);
  assert.equal(profilerOverhead({ ms: 1, plain_ms: 0 } as Profile), null);
  assert.deepEqual(referenceFigure(50, 200), { bar: 0.25, text: '25% of ref' });
  assert.equal(referenceFigure(null, 200), null);
  assert.equal(referenceFigure(50, 0), null);
  // A layer that beats the reference convolution is "≥ ref", never "105% of peak".
  assert.deepEqual(referenceFigure(210, 200), { bar: 1, text: '≥ ref' });
  assert.deepEqual(referenceFigure(200, 200), { bar: 1, text: '≥ ref' });
  assert.deepEqual([123.4, 12.34, 1.234, 0.04321].map(msText), ['123', '12.3', '1.23', '0.043']);
});

test('receptive field of an output position: centre + position × stride, clipped to the crop', () => {
  // conv4_1 a of ResNet50 as the layer table gives it: 99 pixels across, 16 apart, (0, 0) centred at 0.5.
  const row = { receptive_field: [99, 99], effective_stride: [16, 16], rf_center: [0.5, 0.5] };
  const inside = receptiveField(row, 8, 9, 224)!;
  assert.deepEqual(inside.center, [128.5, 144.5]);
  assert.deepEqual(inside.field, { left: 95, top: 79, width: 99, height: 99 });
  assert.deepEqual(inside.visible, inside.field);
  // Position (0, 0) reaches 49 pixels into the padding above and to the left.
  const corner = receptiveField(row, 0, 0, 224)!;
  assert.deepEqual(corner.field, { left: -49, top: -49, width: 99, height: 99 });
  assert.deepEqual(corner.visible, { left: 0, top: 0, width: 50, height: 50 });
  // Non-square fields and strides keep height and width apart.
  const tall = receptiveField(
    { receptive_field: [7, 3], effective_stride: [2, 1], rf_center: [3.5, 1.5] },
    1,
    2,
    224,
  )!;
  assert.deepEqual(tall.field, { left: 2, top: 2, width: 3, height: 7 });
  // Past global pooling there is no field to draw.
  assert.equal(
    receptiveField({ receptive_field: null, effective_stride: null, rf_center: null }, 0, 0, 224),
    undefined,
  );
});

test("the crop's place in the original image matches the worker's preprocessing", async () => {
  // A 300×200 black image with a white 20×20 square at x 200, y 50: find it in the crop the worker makes and
  // map it back.
  const width = 300;
  const height = 200;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 50; y < 70; y++)
    for (let x = 200; x < 220; x++) pixels.fill(255, (y * width + x) * 3, (y * width + x) * 3 + 3);
  const png = await sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  const p = {
    resize: 256,
    crop: 224,
    channelOrder: 'RGB' as const,
    scale: 1 / 255,
    mean: [0, 0, 0] as [number, number, number],
    std: [1, 1, 1] as [number, number, number],
  };
  const { tensor } = await prepareImage(png, p, 1e8);
  let [left, top, right, bottom] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let y = 0; y < p.crop; y++) {
    for (let x = 0; x < p.crop; x++) {
      if (tensor[y * p.crop + x]! < 0.5) continue;
      left = Math.min(left, x);
      top = Math.min(top, y);
      right = Math.max(right, x + 1);
      bottom = Math.max(bottom, y + 1);
    }
  }
  const placement = cropPlacement(width, height, p.resize, p.crop);
  const back = cropToOriginal({ left, top, width: right - left, height: bottom - top }, placement);
  for (const [got, want] of [
    [back.left, 200],
    [back.top, 50],
    [back.width, 20],
    [back.height, 20],
  ] as const) {
    assert.ok(Math.abs(got - want) <= 1.5, `square mapped back to ${JSON.stringify(back)}`);
  }
  // chelsea.png (451×300): the crop is the central 263×263 pixels, from x 94, y 19.
  const chelsea = cropPlacement(451, 300, 256, 224);
  const whole = cropToOriginal({ left: 0, top: 0, width: 224, height: 224 }, chelsea);
  assert.deepEqual([whole.left, whole.top, whole.width, whole.height].map(Math.round), [94, 19, 262, 263]);
});

test('faithfulness in words: which curves beat the random map', () => {
  const figures = (insertion: number, deletion: number): FaithfulnessFigures => ({
    insertion_auc: insertion,
    deletion_auc: deletion,
    average_drop: 30,
    increase_in_confidence: 0,
  });
  const random = figures(0.3, 0.3);
  assert.equal(verdict(figures(0.5, 0.1), random), 'beats random at insertion and at deletion');
  assert.equal(verdict(figures(0.5, 0.4), random), 'beats random at insertion, not at deletion');
  assert.equal(verdict(figures(0.2, 0.1), random), 'beats random at deletion, not at insertion');
  assert.equal(verdict(figures(0.2, 0.4), random), 'does not beat random at insertion or at deletion');
  // Equal is not beating it; Average Drop is better lower, Increase in Confidence higher.
  assert.equal(beatsRandom(random, random, 'insertion_auc'), false);
  assert.equal(beatsRandom({ ...random, average_drop: 10 }, random, 'average_drop'), true);
  assert.equal(beatsRandom({ ...random, increase_in_confidence: 1 }, random, 'increase_in_confidence'), true);
  // When the random map wins at deletion, the panel says so in words, with both areas; not when it loses.
  assert.match(
    deletionNote(figures(0.5, 0.4), random)!,
    /^The random map wins at deletion: .*\(0\.300 area\).*\(0\.400\)/,
  );
  assert.equal(deletionNote(figures(0.5, 0.1), random), undefined);
  // Increase in Confidence has a unit: the share of images (one here).
  assert.equal(increaseInConfidenceText(0), '0% of 1 image');
  assert.equal(increaseInConfidenceText(1), '100% of 1 image');
  assert.equal(increaseInConfidenceText(0.25, 8), '25% of 8 images');
});

test('the panel’s job and explanation messages: well-formed ones pass', () => {
  for (const m of [
    { type: 'profile', requestId: 7, batch: 1, runs: 10 },
    { type: 'profile', requestId: 7, batch: 64, runs: 200 },
    { type: 'compareQuantized', requestId: 7 },
    { type: 'compareRunPrecisions', requestId: 7 },
    { type: 'setPrecision', precision: 'int8' },
    { type: 'setPrecision', precision: 'fp32' },
    { type: 'cancelJob', job: 'profile' },
    { type: 'cancelJob', job: 'explain' },
    { type: 'listExplainableLayers', requestId: 7 },
    { type: 'explain', requestId: 7, method: 'gradcam', layer: 'conv4_x', metrics: false },
    { type: 'explain', requestId: 7, method: 'cam', layer: null, metrics: true },
    {
      type: 'explain',
      requestId: 7,
      method: 'occlusion',
      layer: null,
      patch: 32,
      stride: 16,
      metrics: false,
    },
    { type: 'explain', requestId: 7, method: 'scorecam', layer: 'conv5_x', channels: 8, metrics: true },
    { type: 'command', command: 'quantizeFolder' },
  ]) {
    assert.ok(isWebviewMessage(m), JSON.stringify(m));
  }
});

test('the panel’s job and explanation messages: malformed ones are refused', () => {
  for (const m of [
    { type: 'profile', requestId: 7, batch: 0, runs: 10 },
    { type: 'profile', requestId: 7, batch: 65, runs: 10 },
    { type: 'profile', requestId: 7, batch: 1.5, runs: 10 },
    { type: 'profile', requestId: 7, batch: 1, runs: 201 },
    { type: 'profile', requestId: 7, batch: '1', runs: 10 },
    { type: 'profile', requestId: 7, batch: 1 },
    { type: 'profile', requestId: 7, batch: 1, runs: 10, extra: true },
    { type: 'compareQuantized', requestId: 7, file: '/etc/passwd' },
    { type: 'setPrecision', precision: 'int4' },
    { type: 'setPrecision' },
    { type: 'cancelJob', job: 'everything' },
    { type: 'listExplainableLayers', requestId: 7, layer: 'x' },
    { type: 'explain', requestId: 7, method: 'lime', layer: null, metrics: false },
    { type: 'explain', requestId: 7, method: 'gradcam', layer: '', metrics: false },
    { type: 'explain', requestId: 7, method: 'gradcam', layer: 'x'.repeat(201), metrics: false },
    { type: 'explain', requestId: 7, method: 'gradcam', layer: 3, metrics: false },
    { type: 'explain', requestId: 7, method: 'gradcam', layer: 'conv4_x' },
    { type: 'explain', requestId: 7, method: 'gradcam', layer: 'conv4_x', metrics: 'yes' },
    { type: 'explain', requestId: 7, method: 'occlusion', layer: null, patch: 0, metrics: false },
    { type: 'explain', requestId: 7, method: 'occlusion', layer: null, stride: 2.5, metrics: false },
    { type: 'explain', requestId: 7, method: 'occlusion', layer: null, patch: 5000, metrics: false },
    { type: 'explain', requestId: 7, method: 'scorecam', layer: 'conv5_x', channels: -1, metrics: false },
    { type: 'explain', requestId: 7, method: 'gradcam', layer: 'conv4_x', metrics: false, classes: 1000 },
    { type: 'command', command: 'profile' },
  ]) {
    assert.equal(isWebviewMessage(m), false, JSON.stringify(m).slice(0, 120));
  }
});

test('agreement headline: a rate over 20 images or more, below that the count and why there is no rate', () => {
  const report = (images: number, changed: number): AgreementReport => ({
    images,
    top1_agreement: images ? (images - changed) / images : null,
    mean_abs_dp: images ? 0.01 : null,
    dp_bounded: 0,
    changed: Array.from({ length: changed }, (_, i) => ({
      name: `c${i}`,
      fp32: { index: 1, label: 'cat', probability: 0.9 },
      int8: { index: 2, label: 'dog', probability: 0.5 },
    })),
  });
  assert.deepEqual(agreementHeadline(report(1, 0)), {
    headline: 'n = 1: too few images to measure agreement',
    count: '(1 of 1 image kept fp32’s top-1 class; a rate needs 20 or more)',
  });
  assert.equal(agreementHeadline(report(11, 2)).headline, 'n = 11: too few images to measure agreement');
  assert.deepEqual(agreementHeadline(report(40, 1)), {
    headline: '97.5% top-1 agreement',
    count: '(39 of 40 images)',
  });
  assert.equal(agreementHeadline(report(0, 0)).headline, 'no images');
});

test('image comparison: cosine of per-channel means, not whole-layer means; a stage answers at its output', () => {
  const layer = (name: string, channel_means: number[]): LayerActivation => ({
    name,
    out_shape: [1, channel_means.length],
    mean: channel_means.reduce((a, b) => a + b, 0) / channel_means.length,
    max: Math.max(...channel_means),
    min: Math.min(...channel_means),
    zero_fraction: 0,
    histogram: [],
    channel_means,
  });
  // The same overall mean (1.0) from different channels: unrelated, however alike the means are.
  const a = [layer('conv1', [2, 0, 1, 1]), layer('conv2_1', [1, 1, 1, 1]), layer('conv2_2', [3, 1, 0, 0])];
  const b = [layer('conv1', [0, 2, 1, 1]), layer('conv2_1', [2, 2, 2, 2]), layer('conv2_2', [0, 0, 1, 3])];
  assert.equal(a[2]!.mean, b[2]!.mean);
  const s = layerSimilarity(a, b);
  assert.deepEqual(
    s.map((l) => [l.name, Number(l.cosine!.toFixed(3))]),
    [
      ['conv1', 0.333],
      ['conv2_1', 1], // twice as active, the same channels: alike
      ['conv2_2', 0],
    ],
  );
  assert.equal(cosineSimilarity([0, 0], [1, 2]), null, 'nothing active: no angle');
  assert.equal(cosineSimilarity([1], [1, 2]), null);
  const table = {
    rows: [
      { name: 'conv1', stage: 'conv1' },
      { name: 'conv2_1', stage: 'conv2_x' },
      { name: 'conv2_2', stage: 'conv2_x' },
    ],
  } as unknown as LayerTable;
  const stages = stageSimilarity([...s].reverse(), table);
  assert.deepEqual(
    [...stages].map(([stage, l]) => [stage, l.name]),
    [
      ['conv1', 'conv1'],
      ['conv2_x', 'conv2_2'],
    ],
  );
});

test("an enlarged feature-map tile grows down from its top, from its left or right edge at the grid's edges", () => {
  const grid = { left: 20, right: 620 };
  // 96 px growing 2.4×: 67 px each side about its centre.
  assert.equal(enlargeOrigin({ left: 20, right: 116 }, grid), 'left top', 'the first column');
  assert.equal(enlargeOrigin({ left: 300, right: 396 }, grid), 'center top');
  assert.equal(enlargeOrigin({ left: 524, right: 620 }, grid), 'right top', 'the last column');
});
