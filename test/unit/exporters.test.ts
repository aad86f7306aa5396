// Models as other exporters write them (#17): channels-last, one-channel, float16 and uint8 inputs, graphs
// that end in Softmax, LogSoftmax or Sigmoid, in-graph rescaling, nodes out of order, constants that are
// not parameters. Real onnxruntime sessions through the real worker, against the same model run bare.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type * as Ort from 'onnxruntime-node';
import { descriptorForModel, metadataNames } from '../../src/files/descriptorFile';
import { InferenceClient } from '../../src/inference/client';
import { fromFloat16, toFloat16 } from '../../src/inference/feed';
import { isDistribution, softmax, toScores } from '../../src/inference/postprocess';
import { prepareImage } from '../../src/inference/preprocess';
import { imageInput, notClassScores, outputKindOf, scalesPixels } from '../../src/model/modelFile';
import { parseOnnx, topologicalOrder } from '../../src/model/onnxGraph';
import { buildLayerTable } from '../../src/model/structure/table';
import { configFor } from './helpers/client';
import { fixtureGraph, runnable } from './helpers/fixtures';
import { EXPORTER_CLASSES, exporterModel, type ExporterModelOptions } from './helpers/exporterModel';
import { tempDir, writeModel } from './helpers/models';
import { IMAGES, WORKER } from './helpers/paths';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof Ort;
const NO_HANG = { timeout: 120_000 };
// A fresh copy each time: the client hands the bytes over to the worker.
const photo = (): Buffer => readFileSync(path.join(IMAGES, 'chelsea.png'));

let dir: string;
before(() => {
  dir = tempDir('exporters');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The model's own scores for the photo, computed without CNN Lens's feed: the crop prepared as the
 * descriptor says, laid out and typed here by hand, run in a bare session, the output read as the model
 * defines it (softmax only for logits).
 */
async function ownScores(file: string, o: ExporterModelOptions): Promise<number[]> {
  const d = await descriptorForModel(file, 'raw', []);
  const { tensor } = await prepareImage(photo(), d.preprocessing, 1e8);
  const size = d.preprocessing.crop;
  const plane = size * size;
  const c = o.channels ?? 3;
  const pixel = (ch: number, i: number): number =>
    c === 1
      ? 0.299 * tensor[i]! + 0.587 * tensor[plane + i]! + 0.114 * tensor[2 * plane + i]!
      : tensor[ch * plane + i]!;
  const values = new Float32Array(c * plane);
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < plane; i++) {
      values[o.layout === 'NHWC' ? i * c + ch : ch * plane + i] = pixel(ch, i);
    }
  }
  const dims = o.layout === 'NHWC' ? [1, size, size, c] : [1, c, size, size];
  const feed =
    o.type === 'float16'
      ? new ort.Tensor('float16', toFloat16(values), dims)
      : o.type === 'uint8'
        ? new ort.Tensor(
            'uint8',
            Uint8Array.from(values, (v) => Math.round(v)),
            dims,
          )
        : new ort.Tensor('float32', values, dims);
  const session = await ort.InferenceSession.create(file);
  try {
    const out = (await session.run({ image: feed })).scores!;
    const raw = out.type === 'float16' ? fromFloat16(out.data as Uint16Array) : (out.data as Float32Array);
    const ending = o.ending ?? 'none';
    if (ending === 'none') return [...softmax(raw)];
    return ending === 'LogSoftmax' ? [...raw].map(Math.exp) : [...raw];
  } finally {
    await session.release();
  }
}

const CASES: [string, ExporterModelOptions][] = [
  ['logits, NCHW float32', {}],
  ['Softmax-ended (Keras, ultralytics)', { ending: 'Softmax' }],
  ['LogSoftmax-ended', { ending: 'LogSoftmax' }],
  ['Sigmoid multi-label head', { ending: 'Sigmoid' }],
  ['channels-last NHWC, Softmax (Keras via tf2onnx)', { layout: 'NHWC', ending: 'Softmax' }],
  ['one channel (grayscale)', { channels: 1 }],
  ['one channel, channels last', { channels: 1, layout: 'NHWC', ending: 'Softmax' }],
  ['float16 input and output', { type: 'float16', ending: 'Softmax' }],
  ['uint8 input with in-graph rescaling', { type: 'uint8', layout: 'NHWC', rescaling: true }],
  ['float32 0–255 with in-graph rescaling (Keras EfficientNet)', { rescaling: true, ending: 'Softmax' }],
  ['nodes out of topological order (fp16 converters)', { reversed: true, ending: 'Softmax' }],
];

for (const [name, o] of CASES) {
  test(`classify: ${name} gives the model's own probabilities`, NO_HANG, async () => {
    const peak = 3;
    const file = writeModel(dir, `${name.replace(/\W+/g, '_')}.onnx`, exporterModel({ ...o, peak }));
    const d = await descriptorForModel(file, 'raw', []);
    assert.equal(d.format?.layout, o.layout ?? 'NCHW');
    assert.equal(d.format?.channels, o.channels ?? 3);
    assert.equal(d.format?.type, o.type ?? 'float32');
    const ending = o.ending ?? 'none';
    const kinds = {
      none: 'logits',
      Softmax: 'probabilities',
      LogSoftmax: 'log-probabilities',
      Sigmoid: 'sigmoid',
    };
    assert.equal(d.outputKind, kinds[ending]);
    if (o.rescaling || o.type === 'uint8') {
      assert.equal(d.preprocessing.scale, 1, 'pixels fed 0–255 to a model that scales them itself');
      assert.match(d.assumed ?? '', /raw255/);
    }
    const expected = await ownScores(file, o);
    const client = new InferenceClient(WORKER, configFor(d));
    try {
      const r = await client.classify('chelsea.png', photo(), { topK: EXPORTER_CLASSES });
      assert.equal(r.top[0]!.index, peak, 'the peaked class first');
      const tolerance = o.type === 'float16' ? 2e-3 : 1e-5;
      for (const p of r.top) {
        assert.ok(
          Math.abs(p.probability - expected[p.index]!) <= tolerance,
          `class ${p.index}: shown ${p.probability}, the model's own ${expected[p.index]}`,
        );
      }
      if (ending !== 'Sigmoid') {
        const sum = r.top.reduce((s, p) => s + p.probability, 0);
        assert.ok(Math.abs(sum - 1) < 1e-2, `a distribution over the classes (sum ${sum})`);
      }
    } finally {
      await client.dispose();
    }
  });
}

test('a Softmax-ended model is never softmaxed twice: its peaked class keeps its probability', () => {
  const probabilities = Float32Array.of(0.003, 0.994, 0.001, 0.002);
  assert.deepEqual(
    [...toScores(probabilities, 'probabilities')].map((v) => +v.toFixed(3)),
    [0.003, 0.994, 0.001, 0.002],
  );
  // Declared logits that are already a distribution are shown as they are too.
  assert.ok(isDistribution(probabilities));
  assert.ok(Math.abs(toScores(probabilities, 'logits')[1]! - 0.994) < 1e-6);
  assert.ok(toScores(Float32Array.of(2, 1, 0), 'logits')[0]! < 0.7, 'logits get softmax');
  assert.ok(
    Math.abs(toScores(Float32Array.of(Math.log(0.25), Math.log(0.75)), 'log-probabilities')[1]! - 0.75) <
      1e-6,
  );
  const sigmoid = toScores(Float32Array.of(0.9, 0.8), 'sigmoid');
  assert.deepEqual(
    [...sigmoid].map((v) => +v.toFixed(2)),
    [0.9, 0.8],
    'multi-label scores as they are',
  );
});

test('float16 conversion: exact values, rounding to nearest even, subnormals, infinities', () => {
  const bits = toFloat16(
    Float32Array.of(1, -2, 0.1, 65504, 1e6, 1e-8, 5.960464477539063e-8, 0.5 + 2 ** -12, NaN),
  );
  assert.deepEqual([...bits.slice(0, 8)], [0x3c00, 0xc000, 0x2e66, 0x7bff, 0x7c00, 0x0000, 0x0001, 0x3800]);
  assert.ok(Number.isNaN(fromFloat16(bits)[8]!));
  const back = fromFloat16(toFloat16(Float32Array.from({ length: 1000 }, (_, i) => (i - 500) / 37)));
  back.forEach((v, i) =>
    assert.ok(Math.abs(v - (i - 500) / 37) <= Math.abs((i - 500) / 37) * 2 ** -11 + 1e-7),
  );
});

test('image inputs: channels last, one channel, float16 and uint8 accepted; other channel counts and types refused', () => {
  const input = (o: ExporterModelOptions) => imageInput(parseOnnx(exporterModel(o)));
  assert.deepEqual(
    { ...input({ layout: 'NHWC' }) },
    { name: 'image', batch: 'N', height: 32, width: 32, layout: 'NHWC', channels: 3, type: 'float32' },
  );
  assert.equal(input({ channels: 1 }).channels, 1);
  assert.equal(input({ type: 'float16' }).type, 'float16');
  const five = parseOnnx(exporterModel());
  five.inputs[0]!.shape = ['N', 5, 32, 32];
  assert.throws(() => imageInput(five), /5 channels; CNN Lens feeds colour \(3-channel\) or grayscale/);
  const ints = parseOnnx(exporterModel());
  ints.inputs[0]!.elemType = 7;
  assert.throws(
    () => imageInput(ints),
    /holds int64 values; CNN Lens feeds images as float32, float16 or uint8/,
  );
});

test('output kinds from the graph: Softmax, LogSoftmax, Sigmoid, logits; through Cast and Flatten', () => {
  for (const [ending, kind] of [
    ['Softmax', 'probabilities'],
    ['LogSoftmax', 'log-probabilities'],
    ['Sigmoid', 'sigmoid'],
    ['none', 'logits'],
  ] as const) {
    assert.equal(outputKindOf(parseOnnx(exporterModel({ ending, type: 'float16' })), 'scores'), kind);
  }
});

test('in-graph pixel scaling is detected; torchvision transform_input is not', () => {
  assert.ok(scalesPixels(parseOnnx(exporterModel({ rescaling: true, layout: 'NHWC' })), 'image'));
  assert.ok(!scalesPixels(parseOnnx(exporterModel()), 'image'));
  assert.ok(!scalesPixels(fixtureGraph('googlenet.ti'), 'input'));
});

test('nodes out of order are read in topological order, and the table is the same as the ordered one', () => {
  const ordered = parseOnnx(exporterModel({ ending: 'Softmax' }));
  const reversed = parseOnnx(exporterModel({ ending: 'Softmax', reversed: true }));
  assert.deepEqual(
    reversed.nodes.map((n) => n.op),
    ordered.nodes.map((n) => n.op),
  );
  const a = buildLayerTable(ordered);
  const b = buildLayerTable(reversed);
  assert.deepEqual(
    b.rows.map((r) => [r.name, r.kernel, r.macs]),
    a.rows.map((r) => [r.name, r.kernel, r.macs]),
  );
  assert.ok(
    a.rows.some((r) => r.kernel?.join('×') === '3×3' && r.macs > 0),
    'the first conv has its kernel and MACs',
  );
  assert.equal(topologicalOrder({ nodes: [] }).length, 0);
});

test('a model whose output is not class scores is told what it looks like', () => {
  assert.match(notClassScores('x', [1, 7]), /^model output "x" has shape \[1, 7\]; CNN Lens classifies/);
  assert.match(
    notClassScores('x', [1, 5, 5], '"x" [1, 5, 5]'),
    /detects with YOLO anchors .* and segments with \[N, classes, H, W\]; this model's outputs are "x" \[1, 5, 5\]/,
  );
});

test('class names from ultralytics metadata', () => {
  assert.deepEqual(metadataNames("{0: 'person', 1: \"bicycle\", 2: 'o\\'clock'}", 3), [
    'person',
    'bicycle',
    "o'clock",
  ]);
  assert.equal(metadataNames("{0: 'person'}", 2), undefined, 'names for every class or none');
  assert.equal(metadataNames(undefined, 2), undefined);
});

for (const [name, o] of [
  ['channels-last, Softmax-ended', { layout: 'NHWC', ending: 'Softmax' }],
  ['one channel', { channels: 1 }],
  ['float16 input and output', { type: 'float16', ending: 'Softmax' }],
] as [string, ExporterModelOptions][]) {
  test(`explore and explain work on a model written ${name}`, NO_HANG, async () => {
    const file = writeModel(
      dir,
      `explain_${name.replace(/\W+/g, '_')}.onnx`,
      exporterModel({ ...o, peak: 2 }),
    );
    const client = new InferenceClient(WORKER, configFor(await descriptorForModel(file, 'raw', [])));
    try {
      const explored = await client.explore('chelsea.png', photo(), { topK: EXPORTER_CLASSES });
      assert.equal(explored.top[0]!.index, 2, 'the peaked class first');
      assert.ok(explored.layers.length > 0, 'per-layer activations');
      const cam = await client.explain(explored.key, { method: 'cam' });
      assert.equal(cam.classes[0]!.index, 2, 'CAM of the top class');
      assert.ok(cam.rows > 1 && cam.classes[0]!.grid.every(Number.isFinite), 'a map over the features');
      const occlusion = await client.explain(explored.key, { method: 'occlusion', classes: 1 });
      assert.equal(occlusion.classes[0]!.index, 2);
      const grad = await client.explain(explored.key, { method: 'gradcam' });
      assert.equal(grad.classes[0]!.index, 2, 'Grad-CAM targets the logit of the top class');
    } finally {
      await client.dispose();
    }
  });
}

test(
  "TF 'same' padding computed in the graph (timm's tf_efficientnet_b0): Grad-CAM at every stage",
  NO_HANG,
  async () => {
    const bytes = gunzipSync(
      readFileSync(path.join(__dirname, '..', 'fixtures', 'exporters', 'tf_efficientnet_b0.timm.onnx.gz')),
    );
    const file = writeModel(dir, 'tf_efficientnet_b0.onnx', runnable(bytes));
    const client = new InferenceClient(WORKER, configFor(await descriptorForModel(file, 'torchvision', [])));
    try {
      const stages = (await client.explainableLayers()).filter(
        (l) => l.kind === 'stage' && l.layer !== 'head',
      );
      assert.equal(stages.length, 6, 'stem and five stages, none of them padding only');
      assert.deepEqual(
        stages.filter((l) => l.reason !== null).map((l) => `${l.layer}: ${l.reason}`),
        [],
      );
    } finally {
      await client.dispose();
    }
  },
);
