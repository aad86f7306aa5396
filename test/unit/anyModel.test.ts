// Any image-classifier ONNX, not only the built-in ResNet50: descriptors from the model's own input,
// `<model>.json` descriptors, a specific error for each kind of file CNN Lens cannot feed (at the
// descriptor and in the worker, which keeps working), and real onnxruntime sessions (Inception v3 at
// 299, weights in an external .data file, [N, K, 1, 1] scores, a fixed batch of 1) against bare runs.
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { onnx } from 'onnx-proto';
import type * as Ort from 'onnxruntime-node';
import { InferenceClient, InferenceError } from '../../src/inference/client';
import type { WorkerConfig } from '../../src/inference/messages';
import { softmax } from '../../src/inference/postprocess';
import { prepareImage, toTensor } from '../../src/inference/preprocess';
import { descriptorForModel, writeDescriptorFile } from '../../src/files/descriptorFile';
import {
  PREPROCESSING_PRESETS,
  TORCHVISION_PREPROCESSING,
  type ModelDescriptor,
} from '../../src/model/descriptor';
import { type Preprocessing, type PresetName } from '../../src/shared/preprocessing';
import { fixtureBytes, runnable } from './helpers/fixtures';
import {
  imagenetLabels,
  signedWeights,
  tempDir,
  vectorModel,
  writeExternal,
  writeModel,
} from './helpers/models';
import { valueInfo } from './helpers/exporterModel';
import { GraphBuilder } from './helpers/onnxBuilder';
import { IMAGES, WORKER } from './helpers/paths';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof Ort;
const read = (f: string): Buffer => readFileSync(path.join(IMAGES, f));
const NO_HANG = { timeout: 120_000 };

let labels: string[];
let dir: string;

before(async () => {
  labels = await imagenetLabels();
  dir = tempDir('any');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const config = (descriptor: ModelDescriptor, batchSize = 8): WorkerConfig => ({
  descriptor,
  provider: 'cpu',
  threads: 0,
  batchSize,
  maxPixels: 100_000_000,
});

/** Conv → global pool → classifier over `c`×`h`×`w`; `head: 'conv'` ends in a 1×1 conv ([N, K, 1, 1]). */
function tinyModel(
  o: {
    c?: number;
    h?: number;
    w?: number;
    classes?: number;
    head?: 'fc' | 'conv';
    batch?: number | string;
  } = {},
): Uint8Array {
  const g = new GraphBuilder({ name: 'input', c: o.c ?? 3, h: o.h ?? 32, w: o.w ?? o.h ?? 32 }, o.batch);
  const x = g.globalAveragePool(g.relu(g.conv(g.input, 8, 3, { stride: 2, pad: 1 })));
  const classes = o.classes ?? 10;
  g.output(o.head === 'conv' ? g.conv(x, classes, 1, { name: 'scores' }).name : g.fc(x, classes));
  return signedWeights(g.build());
}

/** The tiny model with a second graph input. */
function twoInputModel(): Uint8Array {
  const model = onnx.ModelProto.decode(tinyModel());
  model.graph!.input!.push(valueInfo('mask', ['N', 1]));
  return onnx.ModelProto.encode(model).finish();
}

function close(got: ArrayLike<number>, want: number[], tolerance = 1e-6): void {
  assert.equal(got.length, want.length);
  want.forEach((w, i) => assert.ok(Math.abs(got[i]! - w) <= tolerance, `[${i}] ${got[i]} vs ${w}`));
}

/** Softmax top-k of a bare onnxruntime session over the same preprocessed image. */
async function bareTop(
  model: string | Uint8Array,
  p: Preprocessing,
  image: string,
  k: number,
): Promise<{ index: number; probability: number }[]> {
  const session =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model)
      : await ort.InferenceSession.create(model);
  try {
    const { tensor } = await prepareImage(read(image), p, 1e8);
    const out = await session.run({
      [session.inputNames[0]!]: new ort.Tensor('float32', tensor, [1, 3, p.crop, p.crop]),
    });
    const probs = softmax(out[session.outputNames[0]!]!.data as Float32Array);
    return Array.from(probs, (probability, index) => ({ index, probability }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, k);
  } finally {
    await session.release();
  }
}

test('presets: torchvision, caffe (BGR minus means), tf ([-1, 1]), raw ([0, 1]) and raw255 on one pixel', () => {
  assert.deepEqual(Object.keys(PREPROCESSING_PRESETS).sort(), [
    'caffe',
    'raw',
    'raw255',
    'tf',
    'torchvision',
  ]);
  const pixel = Uint8Array.from([0, 51, 255]); // R, G, B
  const t = (name: PresetName): Float32Array => toTensor(pixel, PREPROCESSING_PRESETS[name]);
  close(t('tf'), [-1, 51 / 127.5 - 1, 1], 1e-6);
  close(t('raw'), [0, 0.2, 1], 1e-6);
  close(t('raw255'), [0, 51, 255], 1e-6);
  close(t('caffe'), [255 - 103.939, 51 - 116.779, 0 - 123.68], 1e-4);
  close(t('torchvision'), [-0.485 / 0.229, (0.2 - 0.456) / 0.224, (1 - 0.406) / 0.225], 1e-5);
});

test('descriptorForModel: a fixed input sets crop and resize (Inception v3: 299 → 342); labels follow the class count', async () => {
  const inception = writeModel(dir, 'inception_v3.onnx', fixtureBytes('inception_v3.ts'));
  const d = await descriptorForModel(inception, 'torchvision', labels);
  assert.deepEqual([d.preprocessing.crop, d.preprocessing.resize], [299, 342]);
  assert.deepEqual(
    { ...d.preprocessing, crop: 0, resize: 0 },
    { ...TORCHVISION_PREPROCESSING, crop: 0, resize: 0 },
  );
  assert.equal(d.labels, labels, '1000 classes: the ImageNet labels');
  assert.equal(d.assumed, undefined);
  assert.deepEqual([d.name, d.modelPath, d.outputKind], ['inception_v3.onnx', inception, 'logits']);

  const mobile = writeModel(dir, 'mobilenet_v2.onnx', fixtureBytes('mobilenet_v2.ts'));
  const tf = await descriptorForModel(mobile, 'tf', labels);
  assert.deepEqual(tf.preprocessing, { ...PREPROCESSING_PRESETS.tf, crop: 224, resize: 256 });

  const tiny = writeModel(dir, 'tiny10.onnx', tinyModel({ h: 32, classes: 10 }));
  const t = await descriptorForModel(tiny, 'raw', labels);
  assert.deepEqual([t.preprocessing.crop, t.preprocessing.resize], [32, 37]);
  assert.deepEqual(
    t.labels,
    Array.from({ length: 10 }, (_, i) => `class ${i}`),
  );
});

test('symbolic H and W: 224×224 is assumed and said so; a crop in <model>.json is used instead', async () => {
  const sub = path.join(dir, 'dynhw');
  mkdirSync(sub);
  const file = writeModel(sub, 'resnet18.onnx', fixtureBytes('resnet18.dynhw'));
  const d = await descriptorForModel(file, 'torchvision', labels);
  assert.deepEqual([d.preprocessing.crop, d.preprocessing.resize], [224, 256]);
  assert.match(d.assumed ?? '', /height and width are symbolic; assumed 224×224 \(a crop in resnet18\.json/);
  const own = { ...TORCHVISION_PREPROCESSING, crop: 256, resize: 292 };
  writeFileSync(
    path.join(sub, 'resnet18.json'),
    JSON.stringify({ model: 'resnet18.onnx', preprocessing: own }),
  );
  const s = await descriptorForModel(file, 'torchvision', labels);
  assert.deepEqual(s.preprocessing, own);
  assert.match(s.assumed ?? '', /symbolic; using the crop 256×256 of resnet18\.json/);
});

test('<model>.json: name, a preset name, labels inline or in a file beside it; bad ones are refused with the reason', async () => {
  const sub = path.join(dir, 'sidecar');
  mkdirSync(path.join(sub, 'meta'), { recursive: true });
  const file = writeModel(sub, 'tiny.onnx', tinyModel({ h: 48, classes: 3 }));
  const json = path.join(sub, 'tiny.json');
  const write = (d: object): void => writeFileSync(json, JSON.stringify({ model: 'tiny.onnx', ...d }));

  write({
    name: 'Tiny',
    preprocessing: 'caffe',
    labels: ['cat', 'dog', 'fish'],
    outputKind: 'probabilities',
  });
  const d = await descriptorForModel(file, 'torchvision', labels);
  assert.deepEqual(
    [d.name, d.preprocessing.channelOrder, d.preprocessing.crop, d.preprocessing.resize, d.outputKind],
    ['Tiny', 'BGR', 48, 55, 'probabilities'],
  );
  assert.deepEqual(d.labels, ['cat', 'dog', 'fish']);

  writeFileSync(path.join(sub, 'meta', 'names.json'), JSON.stringify(['a', 'b', 'c']));
  write({ preprocessing: 'tf', labels: 'meta/names.json' });
  assert.deepEqual((await descriptorForModel(file, 'torchvision', labels)).labels, ['a', 'b', 'c']);

  const refused: [object, RegExp][] = [
    [
      { preprocessing: 'raw', labels: ['a', 'b'] },
      /the labels of .*tiny\.json name 2 classes, but the model outputs 3/,
    ],
    [
      { preprocessing: { ...TORCHVISION_PREPROCESSING } },
      /tiny\.json sets crop 224, but the model's input "input" is 48×48: set crop to 48/,
    ],
    [
      { preprocessing: 'bogus' },
      /unknown preprocessing preset "bogus" in .*tiny\.json \(one of torchvision, caffe, tf, raw, raw255\)/,
    ],
    [
      { preprocessing: { ...TORCHVISION_PREPROCESSING, crop: 48, resize: 55, std: [1, 0, 1] } },
      /invalid preprocessing in .*tiny\.json: std must be 3 non-zero numbers/,
    ],
  ];
  for (const [content, message] of refused) {
    write(content);
    await assert.rejects(descriptorForModel(file, 'torchvision', labels), message);
  }
  writeFileSync(json, '{ not json');
  await assert.rejects(
    descriptorForModel(file, 'torchvision', labels),
    /cannot read the model descriptor .*tiny\.json/,
  );
});

test('writeDescriptorFile: <model>.json with relative paths that reads back; other fields kept; a foreign file is never overwritten', async () => {
  const sub = path.join(dir, 'write');
  mkdirSync(path.join(sub, 'labels'), { recursive: true });
  const file = writeModel(sub, 'net.onnx', tinyModel({ h: 40, classes: 3 }));
  const labelsFile = path.join(sub, 'labels', 'three.json');
  writeFileSync(labelsFile, JSON.stringify(['x', 'y', 'z']));
  const preprocessing: Preprocessing = { ...PREPROCESSING_PRESETS.tf, crop: 40, resize: 46 };

  const written = await writeDescriptorFile(file, { preprocessing, labelsFile, name: 'Net' });
  assert.equal(written, path.join(sub, 'net.json'));
  assert.deepEqual(JSON.parse(readFileSync(written, 'utf8')), {
    name: 'Net',
    model: 'net.onnx',
    preprocessing,
    labels: 'labels/three.json',
  });
  const d = await descriptorForModel(file, 'torchvision', labels);
  assert.deepEqual([d.name, d.preprocessing, d.labels], ['Net', preprocessing, ['x', 'y', 'z']]);

  // A second save changes the preprocessing and keeps what it was not given.
  const json = JSON.parse(readFileSync(written, 'utf8')) as Record<string, unknown>;
  writeFileSync(written, JSON.stringify({ ...json, outputKind: 'probabilities' }));
  const bgr: Preprocessing = { ...PREPROCESSING_PRESETS.caffe, crop: 40, resize: 46 };
  await writeDescriptorFile(file, { preprocessing: bgr });
  assert.deepEqual(JSON.parse(readFileSync(written, 'utf8')), {
    name: 'Net',
    model: 'net.onnx',
    preprocessing: bgr,
    labels: 'labels/three.json',
    outputKind: 'probabilities',
  });

  await assert.rejects(
    writeDescriptorFile(file, { preprocessing: { ...bgr, crop: 0 } }),
    /invalid preprocessing in the edit: crop must be a whole number/,
  );
  for (const foreign of ['{"compilerOptions": {"strict": true}}', 'just text', '[1, 2]']) {
    const other = writeModel(sub, 'other.onnx', tinyModel());
    writeFileSync(path.join(sub, 'other.json'), foreign);
    await assert.rejects(
      writeDescriptorFile(other, { preprocessing }),
      /other\.json exists and is not a CNN Lens model descriptor .*it was not overwritten/,
    );
    assert.equal(readFileSync(path.join(sub, 'other.json'), 'utf8'), foreign);
  }
});

/** Files CNN Lens cannot feed, each with the sentence that says why. */
function badModels(): { name: string; file: string; message: RegExp }[] {
  const sub = mkdtempSync(path.join(dir, 'bad-'));
  const good = tinyModel();
  const short = writeExternal(sub, 'short.onnx', runnable(fixtureBytes('googlenet.dynamo')));
  truncateSync(path.join(sub, 'short.onnx.data'), 4096);
  const missing = writeExternal(sub, 'missing.onnx', good, 64);
  unlinkSync(path.join(sub, 'missing.onnx.data'));
  return [
    {
      name: 'text',
      file: writeModel(sub, 'notes.onnx', new TextEncoder().encode('these are my notes\n')),
      message: /^cannot load model .*notes\.onnx: the file is not an ONNX model \(/,
    },
    {
      name: 'empty',
      file: writeModel(sub, 'empty.onnx', new Uint8Array(0)),
      message: /^cannot load model .*empty\.onnx: the file is empty \(0 bytes\)$/,
    },
    {
      name: 'truncated',
      file: writeModel(sub, 'cut.onnx', good.subarray(0, good.length - 100)),
      message: /^cannot load model .*cut\.onnx: the file is truncated: it ends in the middle of the model/,
    },
    {
      name: 'missing .data',
      file: missing,
      message:
        /^cannot load model .*missing\.onnx: the model keeps its weights in "missing\.onnx\.data" beside it, and that file is missing/,
    },
    {
      name: 'short .data',
      file: short,
      message:
        /the external data file "short\.onnx\.data" is 4,096 bytes, but tensor .* needs [\d,]+: the file is truncated/,
    },
    {
      name: 'no image input',
      file: writeModel(sub, 'mlp.onnx', vectorModel(784, 10)),
      message:
        /^model input "x" has shape \[N, 784\]: not an image input; CNN Lens feeds images as \[N, C, H, W\] or \[N, H, W, C\]$/,
    },
    {
      name: 'five channels',
      file: writeModel(sub, 'five.onnx', tinyModel({ c: 5, h: 28 })),
      message:
        /^model input "input" has shape \[N, 5, 28, 28\]: 5 channels; CNN Lens feeds colour \(3-channel\) or grayscale \(1-channel\) images/,
    },
    {
      name: 'two inputs',
      file: writeModel(sub, 'two.onnx', twoInputModel()),
      message:
        /^the model has 2 inputs \(input \[N, 3, 32, 32\], mask \[N, 1\]\); CNN Lens feeds one image tensor/,
    },
    {
      name: 'not square',
      file: writeModel(sub, 'wide.onnx', tinyModel({ h: 240, w: 320 })),
      message: /^model input "input" is 240×320 \(H×W\); CNN Lens feeds square center crops/,
    },
  ];
}

test('files CNN Lens cannot feed: descriptorForModel names what is wrong with each', async () => {
  for (const bad of badModels()) {
    await assert.rejects(descriptorForModel(bad.file, 'torchvision', labels), (err: Error) => {
      assert.match(err.message, bad.message, bad.name);
      return true;
    });
  }
});

test(
  'the same files given to the worker directly: a model error each time, and the worker keeps working',
  NO_HANG,
  async () => {
    const goodFile = writeModel(dir, 'good.onnx', tinyModel());
    const good = new InferenceClient(WORKER, config(await descriptorForModel(goodFile, 'raw', labels)));
    try {
      for (const bad of badModels()) {
        const d: ModelDescriptor = {
          name: bad.name,
          modelPath: bad.file,
          outputKind: 'logits',
          preprocessing: { ...TORCHVISION_PREPROCESSING, crop: 32, resize: 37 },
          labels: [],
        };
        const client = new InferenceClient(WORKER, config(d));
        try {
          const fails = (err: InferenceError): boolean => {
            assert.ok(err instanceof InferenceError, bad.name);
            assert.equal(err.kind, 'model', `${bad.name}: ${err.message}`);
            assert.match(err.message, bad.message, bad.name);
            return true;
          };
          await assert.rejects(client.runtimeInfo(), fails);
          await assert.rejects(client.classify('chelsea.png', read('chelsea.png'), { topK: 1 }), fails);
          await assert.rejects(client.explore('chelsea.png', read('chelsea.png'), { topK: 1 }), fails);
        } finally {
          await client.dispose();
        }
      }
      const r = await good.classify('coffee.png', read('coffee.png'), { topK: 3 });
      assert.equal(r.top.length, 3);
    } finally {
      await good.dispose();
    }
  },
);

test(
  'Inception v3 (299×299 input) classifies through the worker exactly as a bare onnxruntime run',
  NO_HANG,
  async () => {
    const file = writeModel(
      dir,
      'inception_run.onnx',
      signedWeights(runnable(fixtureBytes('inception_v3.ts'))),
    );
    const d = await descriptorForModel(file, 'torchvision', labels);
    assert.equal(d.preprocessing.crop, 299);
    const client = new InferenceClient(WORKER, config(d));
    try {
      const r = await client.classify('chelsea.png', read('chelsea.png'), { topK: 5 });
      const want = await bareTop(file, d.preprocessing, 'chelsea.png', 5);
      assert.deepEqual(
        r.top.map((p) => p.index),
        want.map((p) => p.index),
      );
      r.top.forEach((p, i) => {
        assert.ok(Math.abs(p.probability - want[i]!.probability) <= 1e-5, `${p.label}`);
        assert.equal(p.label, labels[p.index]);
      });
    } finally {
      await client.dispose();
    }
  },
);

test(
  'weights in an external .data file (dynamo GoogLeNet): classified by path, equal to the inline model',
  NO_HANG,
  async () => {
    const sub = mkdtempSync(path.join(dir, 'external-'));
    const inline = signedWeights(runnable(fixtureBytes('googlenet.dynamo')));
    const file = writeExternal(sub, 'googlenet.onnx', inline);
    assert.ok(readFileSync(file).length < inline.length / 20, 'the weights really are in the .data file');
    const d = await descriptorForModel(file, 'torchvision', labels);
    const client = new InferenceClient(WORKER, config(d));
    try {
      const r = await client.classify('orange.jpg', read('orange.jpg'), { topK: 5 });
      const want = await bareTop(inline, d.preprocessing, 'orange.jpg', 5);
      r.top.forEach((p, i) => {
        assert.equal(p.index, want[i]!.index);
        assert.ok(Math.abs(p.probability - want[i]!.probability) <= 1e-5, p.label);
      });
    } finally {
      await client.dispose();
    }
  },
);

test(
  'scores as [N, K, 1, 1] (a conv head) classify; a fixed batch of 1 runs one image per run',
  NO_HANG,
  async () => {
    const convHead = writeModel(dir, 'convhead.onnx', tinyModel({ head: 'conv', classes: 7 }));
    const d = await descriptorForModel(convHead, 'raw', labels);
    assert.equal(d.labels.length, 7);
    const a = new InferenceClient(WORKER, config(d));
    try {
      const r = await a.classify('chelsea.png', read('chelsea.png'), { topK: 7 });
      const want = await bareTop(convHead, d.preprocessing, 'chelsea.png', 7);
      assert.deepEqual(
        r.top.map((p) => [p.index, p.label]),
        want.map((p) => [p.index, `class ${p.index}`]),
      );
      assert.ok(Math.abs(r.top.reduce((s, p) => s + p.probability, 0) - 1) < 1e-6);
    } finally {
      await a.dispose();
    }

    const fixed = writeModel(dir, 'batch1.onnx', tinyModel({ batch: 1 }));
    const b = new InferenceClient(WORKER, config(await descriptorForModel(fixed, 'raw', labels), 8));
    try {
      const files = ['chelsea.png', 'coffee.png', 'orange.jpg', 'chelsea.png'];
      const results = await Promise.all(files.map((f) => b.classify(f, read(f), { topK: 1 })));
      assert.deepEqual(
        results.map((r) => r.batch),
        [1, 1, 1, 1],
      );
      assert.deepEqual(results[0]!.top, results[3]!.top);
    } finally {
      await b.dispose();
    }
  },
);
