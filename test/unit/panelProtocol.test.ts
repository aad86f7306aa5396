// The panel's messages for models (open, preprocessing, compare) are checked at run time; replies to
// requests a newer one replaced are dropped; the state saved across reloads is small and checked when read
// back; the wording of block counts in the layer table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { int as sharedInt } from '../../src/shared/format';
import type { BlockSummary } from '../../src/shared/layerTable';
import type { FeatureMaps } from '../../src/shared/exploration';
import {
  isWebviewMessage,
  type HostMessage,
  type ImageEntry,
  type WebviewRequest,
} from '../../src/shared/protocol';
import { parseSavedPanel, savedPanel } from '../../src/shared/savedPanel';
import type { Preprocessing } from '../../src/shared/preprocessing';
import { Requests } from '../../webview/requests';
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
    { type: 'listModels', requestId: 1 },
    { type: 'listLabelFiles', requestId: 2 },
    { type: 'cancelComparison' },
    { type: 'openModel', id: '' },
    { type: 'openModel', id: '/work/models/mobilenet_v2.onnx' },
    { type: 'savePreprocessing', preprocessing: TORCHVISION, labels: '', requestId: 3 },
    {
      type: 'savePreprocessing',
      preprocessing: { ...TORCHVISION, channelOrder: 'BGR' },
      labels: 'labels.json',
      requestId: Date.now(),
    },
    { type: 'command', command: 'compareArchitectures' },
  ]) {
    assert.ok(isWebviewMessage(m), JSON.stringify(m));
  }
});

test('model messages from the webview: malformed ones are refused', () => {
  const bad = (preprocessing: unknown): unknown => ({
    type: 'savePreprocessing',
    preprocessing,
    labels: '',
    requestId: 1,
  });
  for (const m of [
    { type: 'listModels', requestId: 1, extra: 1 },
    { type: 'listModels' },
    { type: 'listModels', requestId: 0 },
    { type: 'listModels', requestId: 1.5 },
    { type: 'listModels', requestId: '1' },
    { type: 'cancelComparison', now: true },
    { type: 'openModel' },
    { type: 'openModel', id: 3 },
    { type: 'openModel', id: 'a\0b' },
    { type: 'openModel', id: 'x'.repeat(5000) },
    { type: 'savePreprocessing', preprocessing: TORCHVISION, requestId: 1 },
    { type: 'savePreprocessing', preprocessing: TORCHVISION, labels: 7, requestId: 1 },
    { type: 'savePreprocessing', preprocessing: TORCHVISION, labels: '' },
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

test('a reply to a request that a newer one of its type replaced is stale and dropped', () => {
  const sent: WebviewRequest[] = [];
  const requests = new Requests((m) => sent.push(m), 100);
  requests.send({ type: 'featureMaps', layer: 'conv1', count: 16, offset: 0 });
  requests.send({ type: 'listImages' });
  // The user opens another layer before conv1's maps arrive.
  requests.send({ type: 'featureMaps', layer: 'conv5_3', count: 16, offset: 0 });
  assert.deepEqual(
    sent.map((m) => [m.type, m.requestId]),
    [
      ['featureMaps', 100],
      ['listImages', 101],
      ['featureMaps', 102],
    ],
  );
  const maps = (layer: string, requestId: number): HostMessage => ({
    type: 'featureMaps',
    maps: { layer } as FeatureMaps,
    requestId,
  });
  assert.equal(requests.isCurrent(maps('conv1', 100)), false, 'the late reply for conv1 is dropped');
  assert.equal(
    requests.isCurrent({ type: 'featureMapsError', layer: 'conv1', message: 'x', requestId: 100 }),
    false,
  );
  assert.equal(requests.isCurrent(maps('conv5_3', 102)), true);
  // Another type's newest request is unaffected, and so are messages the host sends unasked.
  assert.equal(requests.isCurrent({ type: 'images', files: [], truncated: false, requestId: 101 }), true);
  assert.equal(requests.isCurrent({ type: 'status', busy: 'Loading…' }), true);
  assert.equal(requests.isCurrent({ type: 'job', job: 'profile', state: null }), true);
  // A job's states answer the request that started it: an older explanation's are dropped.
  requests.send({ type: 'explain', method: 'gradcam', layer: 'conv4_x', metrics: false });
  requests.send({ type: 'explain', method: 'cam', layer: null, metrics: false });
  const explain = (requestId: number): HostMessage => ({
    type: 'job',
    job: 'explain',
    state: null,
    requestId,
  });
  assert.equal(requests.isCurrent(explain(103)), false);
  assert.equal(requests.isCurrent(explain(104)), true);
});

test('the saved panel keeps the run without previews; what the host reads back is checked', () => {
  const result: ImageEntry = {
    file: 'photos/cat-01.png',
    uri: 'file:///work/photos/cat-01.png',
    top: [{ index: 285, label: 'Egyptian cat', probability: 0.9 }],
    provider: 'cpu',
    precision: 'fp32',
    ms: { decode: 5, run: 20, total: 26 },
    width: 451,
    height: 300,
    preview: 'data:image/jpeg;base64,AAAA',
  };
  const failure: ImageEntry = {
    file: 'photos/damaged.png',
    uri: 'file:///work/photos/damaged.png',
    error: 'x',
  };
  const saved = savedPanel([result, failure], 1, '/work/models/squeezenet1_1.onnx');
  assert.equal(JSON.stringify(saved).includes('data:image'), false, 'no previews are saved');
  // The page's storage round-trips it as JSON.
  const back = parseSavedPanel(JSON.parse(JSON.stringify(saved)));
  assert.deepEqual(back, saved);
  assert.deepEqual(parseSavedPanel(savedPanel([result], 0, undefined))?.model, undefined);
  // An index past the end (an interrupted save) is clamped; anything else malformed is refused.
  assert.equal(parseSavedPanel({ ...saved, current: 7 })?.current, 1);
  for (const bad of [
    undefined,
    null,
    'state',
    { ...saved, version: 2 },
    // What older versions saved: { state, architecture, exploration }.
    { state: { results: [], total: 0, current: 0 } },
    { ...saved, current: -1 },
    { ...saved, model: 3 },
    { ...saved, results: [{ ...result, uri: undefined }] },
    { ...saved, results: [{ ...result, top: [{ index: 'x', label: 'a', probability: 1 }] }] },
    { ...saved, results: [{ ...result, ms: null }] },
    { ...saved, results: [{ ...failure, error: 7 }] },
    { ...saved, results: [null] },
  ]) {
    assert.equal(parseSavedPanel(bad), undefined, JSON.stringify(bad)?.slice(0, 100));
  }
});

test('saved panel: the compared pair, the quantize report, finished jobs and the open tab come back after a reload; broken ones are dropped', () => {
  const entry = (file: string): ImageEntry => ({
    file,
    uri: `file:///work/${file}`,
    top: [{ index: 285, label: 'Egyptian cat', probability: 0.9 }],
    provider: 'cpu',
    ms: { decode: 5, run: 20, total: 26 },
    width: 10,
    height: 10,
  });
  const quantize = {
    status: 'done' as const,
    folder: 'photos',
    out: 'resnet50.int8.onnx',
    model: 'ResNet50',
    int8Active: false,
    report: {
      out: '/work/resnet50.int8.onnx',
      calibration: { images: ['a.png'], percentile: 99.999 },
      held_out: ['b.png'],
      skipped: [],
      float_nodes: ['fc'],
      quantized_nodes: 70,
      agreement: { images: 1, top1_agreement: 1, mean_abs_dp: 0.01, changed: [] } as never,
      ms: 1234,
    },
  };
  const results = [entry('a.png'), entry('b.png'), entry('c.png')];
  const saved = savedPanel(results, 0, undefined, { compare: [2, 0], quantize, section: 'architecture' });
  const back = parseSavedPanel(JSON.parse(JSON.stringify(saved)));
  assert.deepEqual(back?.compare, [2, 0]);
  assert.deepEqual(back?.quantize, quantize);
  assert.equal(back?.section, 'architecture');
  for (const section of ['layers', 3, null]) {
    assert.equal(parseSavedPanel({ ...saved, section })?.section, undefined, String(section));
  }
  // A pair beyond the run, or of one entry, and a report of another shape are dropped; the run stays.
  for (const compare of [[0, 3], [1, 1], [0], 'x']) {
    const b = parseSavedPanel({ ...saved, compare });
    assert.equal(b?.compare, undefined, JSON.stringify(compare));
    assert.equal(b?.results.length, 3);
  }
  // Finished jobs come back with the model they ran on; one of another shape is dropped, the others stay.
  const profile = {
    status: 'done' as const,
    profile: {
      model: 'ResNet50',
      provider: 'cpu',
      precision: 'fp32' as const,
      batch: 1,
      runs: 10,
      ms: 40,
      plain_ms: 38,
      peak_gflops: 120,
      rows: [],
      blocks: [],
      stages: [],
      other: [],
    },
  };
  const agreementDone = {
    status: 'done' as const,
    report: { images: 3, top1_agreement: null, mean_abs_dp: null, dp_bounded: 0, changed: [] },
    failed: [],
    cancelled: false,
  };
  const quantization = {
    status: 'done' as const,
    file: 'a.png',
    report: { rows: [], top_fp32: [], top_int8: [], provider: 'cpu', ms: { fp32: 1, int8: 1, total: 2 } },
  };
  const jobs = { model: '', profile, agreement: agreementDone, quantization };
  const withJobs = parseSavedPanel(JSON.parse(JSON.stringify({ ...saved, jobs })));
  assert.deepEqual(withJobs?.jobs, jobs);
  assert.deepEqual(parseSavedPanel({ ...saved, jobs: { ...jobs, profile: { status: 'done' } } })?.jobs, {
    model: '',
    agreement: agreementDone,
    quantization,
  });
  for (const bad of [
    { profile },
    { model: 3, profile },
    { model: '' },
    { model: '', profile: { ...profile, status: 'running' } },
  ]) {
    assert.equal(parseSavedPanel({ ...saved, jobs: bad })?.jobs, undefined, JSON.stringify(bad).slice(0, 80));
  }
  assert.equal(parseSavedPanel({ ...saved, quantize: { ...quantize, report: null } })?.quantize, undefined);
  assert.equal(
    parseSavedPanel({ ...saved, quantize: { ...quantize, status: 'running' } })?.quantize,
    undefined,
  );
});
