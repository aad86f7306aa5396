// Precision: which file runs at int8 (the built-in model's int8 build, a user model's <model>.int8.onnx, or a
// specific error), GPU providers falling back to fp32 with a reason, and real worker runs reporting the
// precision that ran and matching a bare onnxruntime session of that file.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type * as Ort from 'onnxruntime-node';
import { InferenceClient } from '../../src/inference/client';
import type { WorkerConfig } from '../../src/inference/messages';
import { modelFor } from '../../src/inference/precision';
import { softmax } from '../../src/inference/postprocess';
import { prepareImage } from '../../src/inference/preprocess';
import { descriptorForModel, writeDescriptorFile } from '../../src/files/descriptorFile';
import type { ModelDescriptor } from '../../src/model/descriptor';
import { quantizedDescriptor, resolveDescriptor } from '../../src/files/modelPaths';
import { ModelFileError } from '../../src/model/onnxGraph';
import { cpuConfig } from './helpers/client';
import { imagenetLabels, tempDir } from './helpers/models';
import { DIST, IMAGES, ROOT, WORKER } from './helpers/paths';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof Ort;
const MODELS = path.join(ROOT, 'models');
const read = (f: string): Buffer => readFileSync(path.join(IMAGES, f));
const NO_HANG = { timeout: 180_000 };

let dir: string;
let labels: string[];
let fp32: WorkerConfig;

before(async () => {
  dir = tempDir('precision');
  labels = await imagenetLabels();
  fp32 = await cpuConfig();
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A user model (the built ResNet50 under another name) and, when asked, its int8 model beside it. */
function userModel(name: string, withInt8: boolean): string {
  const file = path.join(dir, `${name}.onnx`);
  symlinkSync(path.join(MODELS, 'resnet50.onnx'), file);
  if (withInt8) symlinkSync(path.join(MODELS, 'resnet50.int8.onnx'), path.join(dir, `${name}.int8.onnx`));
  return file;
}

test('the built-in model at int8: the descriptor stays the float one; its int8 model is the built one, checked by sha256', async () => {
  const d = await resolveDescriptor(DIST, '', 'caffe', 'int8');
  assert.equal(d.modelPath, path.join(MODELS, 'resnet50.onnx'));
  assert.equal(d.precision, undefined);
  const q = await quantizedDescriptor(d);
  assert.equal(q.modelPath, path.join(MODELS, 'resnet50.int8.onnx'));
  assert.equal(q.precision, 'int8');
  assert.match(q.sha256 ?? '', /^[0-9a-f]{64}$/);
  assert.deepEqual([q.preprocessing, q.labels], [d.preprocessing, d.labels]);
});

test('a user model at int8: <model>.int8.onnx with the float model’s preprocessing and labels, or an error that says how to make one', async () => {
  const without = userModel('plain', false);
  await assert.rejects(
    resolveDescriptor(DIST, without, 'torchvision', 'int8'),
    (e: Error) =>
      e instanceof ModelFileError &&
      e.message.includes('no int8 model for') &&
      e.message.includes('plain.int8.onnx') &&
      e.message.includes(`quantize --images <folder> --model ${without}`),
  );
  // fp32 does not look for it.
  await resolveDescriptor(DIST, without, 'torchvision');

  const file = userModel('mine', true);
  await writeDescriptorFile(file, {
    preprocessing: { resize: 256, crop: 224, channelOrder: 'BGR', scale: 1, mean: [1, 2, 3], std: [1, 1, 1] },
  });
  const d = await resolveDescriptor(DIST, file, 'torchvision', 'int8');
  const q = await quantizedDescriptor(d);
  assert.equal(q.modelPath, path.join(dir, 'mine.int8.onnx'));
  assert.equal(q.sha256, undefined);
  assert.equal(q.precision, 'int8');
  assert.deepEqual(q.preprocessing.mean, [1, 2, 3], 'the float model’s <model>.json applies');
  assert.equal(q.labels, d.labels);
});

test('descriptorForModel: a quantized file is int8, a float one is not marked', async () => {
  const q = await descriptorForModel(path.join(MODELS, 'resnet50.int8.onnx'), 'caffe', labels);
  assert.equal(q.precision, 'int8');
  const f = await descriptorForModel(path.join(MODELS, 'resnet50.onnx'), 'caffe', labels);
  assert.equal(f.precision, undefined);
  // A model that is int8 already is its own int8 model.
  assert.equal(await quantizedDescriptor(q), q);
});

test('modelFor: int8 runs the int8 file on the CPU; GPU providers run fp32 and say why; fp32 is fp32', async () => {
  const int8 = { ...fp32, precision: 'int8' as const };
  const cpu = await modelFor(int8, 'cpu');
  assert.deepEqual(
    [cpu.precision, path.basename(cpu.descriptor.modelPath), cpu.reason],
    ['int8', 'resnet50.int8.onnx', undefined],
  );
  for (const gpu of ['webgpu', 'cuda', 'dml', 'coreml']) {
    const c = await modelFor(int8, gpu);
    assert.equal(c.precision, 'fp32', gpu);
    assert.equal(c.descriptor, fp32.descriptor, gpu);
    assert.match(
      c.reason ?? '',
      new RegExp(`int8 was asked for, but ${gpu} runs quantized \\(QDQ\\) graphs`),
    );
  }
  const plain = await modelFor(fp32, 'cpu');
  assert.deepEqual([plain.precision, plain.descriptor, plain.reason], ['fp32', fp32.descriptor, undefined]);
});

/** Probabilities of a bare CPU session of `model` on the image as the descriptor prepares it. */
async function bare(model: string, d: ModelDescriptor, image: string): Promise<Float64Array> {
  const s = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  try {
    const { tensor } = await prepareImage(read(image), d.preprocessing, 1e8);
    const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', tensor, [1, 3, 224, 224]) });
    return softmax(out[s.outputNames[0]!]!.data as Float32Array);
  } finally {
    await s.release();
  }
}

test(
  'classify at int8: precision reported, probabilities those of the int8 file (not the fp32 one)',
  NO_HANG,
  async () => {
    const client = new InferenceClient(WORKER, { ...fp32, precision: 'int8' });
    try {
      const r = await client.classify('chelsea.png', read('chelsea.png'), { topK: 5 });
      assert.equal(r.precision, 'int8');
      const info = await client.runtimeInfo();
      assert.deepEqual(
        [info.precision, info.precisionReason, info.model],
        ['int8', undefined, path.join(MODELS, 'resnet50.int8.onnx')],
      );
      const int8 = await bare(path.join(MODELS, 'resnet50.int8.onnx'), fp32.descriptor, 'chelsea.png');
      const float = await bare(fp32.descriptor.modelPath, fp32.descriptor, 'chelsea.png');
      for (const p of r.top) {
        assert.ok(Math.abs(p.probability - int8[p.index]!) < 1e-5, `class ${p.index} as the int8 file`);
      }
      // The two files differ enough on this image that the check above tells them apart.
      assert.ok(Math.abs(float[285]! - int8[285]!) > 1e-3);
      assert.equal(r.top[0]!.index, 285);
    } finally {
      await client.dispose();
    }
  },
);

test('explore at int8: the int8 exploration graph, the same layer names as fp32', NO_HANG, async () => {
  const a = new InferenceClient(WORKER, { ...fp32, exploreIdleMs: 0 });
  const b = new InferenceClient(WORKER, { ...fp32, precision: 'int8', exploreIdleMs: 0 });
  try {
    const x = await a.explore('coffee.png', read('coffee.png'), { topK: 3 });
    const y = await b.explore('coffee.png', read('coffee.png'), { topK: 3 });
    assert.deepEqual([x.precision, y.precision], ['fp32', 'int8']);
    assert.deepEqual(
      y.layers.map((l) => l.name),
      x.layers.map((l) => l.name),
    );
    assert.notEqual(x.key, y.key, 'images are keyed per model file');
    // Rows that end in a ReLU stay non-negative at int8, where the quantizer folds the ReLU into the Q/DQ pair.
    const relu = x.layers.filter((l) => l.min === 0).map((l) => l.name);
    assert.ok(relu.includes('conv5_3 c 1×1, 2048'));
    for (const l of y.layers.filter((l) => relu.includes(l.name)))
      assert.ok(l.min >= 0, `${l.name} min ${l.min}`);
    const int8 = await bare(path.join(MODELS, 'resnet50.int8.onnx'), fp32.descriptor, 'coffee.png');
    assert.ok(Math.abs(y.top[0]!.probability - int8[y.top[0]!.index]!) < 1e-4);
  } finally {
    await Promise.all([a.dispose(), b.dispose()]);
  }
});

test(
  'a user model at int8 without its int8 file: the worker’s request fails as a model error naming the fix',
  NO_HANG,
  async () => {
    const file = userModel('lonely', false);
    const d = await descriptorForModel(file, 'torchvision', labels);
    const client = new InferenceClient(WORKER, { ...fp32, descriptor: d, precision: 'int8' });
    try {
      await assert.rejects(
        client.classify('chelsea.png', read('chelsea.png'), { topK: 1 }),
        (e: Error & { kind?: string }) => e.kind === 'model' && /lonely\.int8\.onnx/.test(e.message),
      );
    } finally {
      await client.dispose();
    }
    symlinkSync(path.join(MODELS, 'resnet50.int8.onnx'), path.join(dir, 'lonely.int8.onnx'));
    const again = new InferenceClient(WORKER, { ...fp32, descriptor: d, precision: 'int8' });
    try {
      const r = await again.classify('chelsea.png', read('chelsea.png'), { topK: 1 });
      assert.equal(r.precision, 'int8');
    } finally {
      await again.dispose();
    }
  },
);
