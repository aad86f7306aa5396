// Model and worker faults: each fails with a message that says what is wrong, repeatably, without a hang,
// and leaves a client on the good model working.
import assert from 'node:assert/strict';
import {
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { InferenceClient, InferenceError } from '../../src/inference/client';
import { loadDescriptor } from '../../src/files/descriptorFile';
import { TORCHVISION_PREPROCESSING, type ModelDescriptor } from '../../src/model/descriptor';
import { resolveDescriptor } from '../../src/files/modelPaths';
import { at } from './helpers/at';
import { GraphBuilder } from './helpers/onnxBuilder';
import { DIST, IMAGES, ROOT, WORKER } from './helpers/paths';
import { configFor } from './helpers/client';

const MODELS = path.join(ROOT, 'models');
const read = (f: string): Buffer => readFileSync(path.join(IMAGES, f));

let dir: string;
let good: ModelDescriptor;
let goodClient: InferenceClient;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cnnlens-faults-'));
  good = await resolveDescriptor(DIST, '', 'caffe');
  goodClient = new InferenceClient(WORKER, configFor(good));
});

after(async () => {
  await goodClient.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** A copy of the built model's descriptor and labels in its own folder, next to `model` as resnet50.onnx. */
async function builtInWith(name: string, model: Uint8Array): Promise<ModelDescriptor> {
  const folder = mkdtempSync(path.join(dir, `${name}-`));
  copyFileSync(path.join(MODELS, 'resnet50.json'), path.join(folder, 'resnet50.json'));
  copyFileSync(path.join(MODELS, 'labels.json'), path.join(folder, 'labels.json'));
  writeFileSync(path.join(folder, 'resnet50.onnx'), model);
  const d = await loadDescriptor(path.join(folder, 'resnet50.json'));
  assert.equal(d.sha256, good.sha256, 'the copied descriptor keeps the recorded sha256');
  return d;
}

/**
 * A user model (no sha256) built from a tiny graph, with a descriptor made by hand for a 224×224 crop: the
 * session's own checks must catch what `descriptorForModel` would have refused earlier.
 */
async function userModel(name: string, model: Uint8Array): Promise<ModelDescriptor> {
  const file = path.join(dir, `${name}.onnx`);
  writeFileSync(file, model);
  return {
    name,
    modelPath: file,
    outputKind: 'logits',
    preprocessing: TORCHVISION_PREPROCESSING,
    labels: good.labels,
  };
}

/** Conv → global pool → classifier over an input of `c`×`size`×`size`; `pool: false` leaves a feature map. */
function tinyModel(c: number, size: number, pool = true): Uint8Array {
  const g = new GraphBuilder({ name: 'input', c, h: size, w: size });
  const x = g.conv(g.input, 8, 3, { stride: 2, pad: 1 });
  g.output(pool ? g.fc(g.globalAveragePool(x), 1000) : g.conv(x, 1000, 1, { name: 'scores' }).name);
  return g.build();
}

/** The first `bytes` of a file. */
function head(file: string, bytes: number): Buffer {
  const buf = Buffer.alloc(bytes);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, bytes, 0);
  } finally {
    closeSync(fd);
  }
  return buf;
}

/**
 * A client on `descriptor` fails at load (runtimeInfo, which runs nothing) and on classify, twice, with
 * a model error matching `message`; a client on the good model still classifies afterwards.
 */
async function assertModelFault(descriptor: ModelDescriptor, message: RegExp): Promise<void> {
  const bad = new InferenceClient(WORKER, configFor(descriptor));
  try {
    const seen: string[] = [];
    const fails = (err: InferenceError): boolean => {
      assert.ok(err instanceof InferenceError);
      assert.equal(err.kind, 'model', err.message);
      assert.match(err.message, message);
      seen.push(err.message);
      return true;
    };
    await assert.rejects(bad.runtimeInfo(), fails);
    await assert.rejects(bad.classify('chelsea.png', read('chelsea.png'), { topK: 1 }), fails);
    await assert.rejects(bad.classify('coffee.png', read('coffee.png'), { topK: 1 }), fails);
    assert.equal(new Set(seen).size, 1, `the message changed between requests: ${seen.join(' | ')}`);
  } finally {
    await bad.dispose();
  }
  const r = await goodClient.classify('orange.jpg', read('orange.jpg'), { topK: 1 });
  assert.equal(r.top[0]?.label, 'orange');
}

const NO_HANG = { timeout: 60_000 };

test('model file missing: says to run "npm run build" or fix cnnLens.modelPath', NO_HANG, async () => {
  const missing = path.join(dir, 'gone', 'resnet50.onnx');
  await assertModelFault(
    { ...good, modelPath: missing },
    new RegExp(`^model file ${missing} is missing: run "npm run build" .*or fix cnnLens\\.modelPath$`),
  );
});

test('the built model truncated to 1 MB: the sha256 message', NO_HANG, async () => {
  const d = await builtInWith('truncated', head(good.modelPath, 2 ** 20));
  await assertModelFault(
    d,
    /does not match the sha256 recorded when it was built \(truncated or replaced\): run "npm run build"/,
  );
});

test('another valid ONNX model in place of the built one: the sha256 message', NO_HANG, async () => {
  const d = await builtInWith('replaced', tinyModel(3, 224));
  await assertModelFault(d, /does not match the sha256 recorded when it was built \(truncated or replaced\)/);
});

test('a truncated user model (no sha256 to check): "cannot load model", not a crash', NO_HANG, async () => {
  const d = await userModel('truncated-user', head(good.modelPath, 2 ** 20));
  await assertModelFault(
    d,
    /^cannot load model .*truncated-user\.onnx: the file is truncated: it ends in the middle of the model/,
  );
});

test('a user model with the wrong input shape is refused at load, naming the shape', NO_HANG, async () => {
  await assertModelFault(
    await userModel('input-32', tinyModel(3, 32)),
    /^model input "input" has shape \[N, 3, 32, 32\]; expected \[N, 3, 224, 224\]$/,
  );
  // A descriptor that says colour for a grayscale model (descriptorForModel reads the model's own).
  await assertModelFault(
    await userModel('input-gray', tinyModel(1, 224)),
    /^model input "input" has shape \[N, 1, 224, 224\]; expected \[N, 3, 224, 224\]$/,
  );
});

test(
  'a user model whose output is not [N, classes] or [N, classes, 1, 1] is refused at load, naming the shape',
  NO_HANG,
  async () => {
    await assertModelFault(
      await userModel('output-map', tinyModel(3, 224, false)),
      /^model output "scores:out" has shape \[N, 1000, 112, 112\]; CNN Lens classifies with outputs \[N, classes\] or \[N, classes, 1, 1\].*this model's outputs are "scores:out" \[N, 1000, 112, 112\]$/,
    );
  },
);

test(
  'killing the worker with 10 requests pending fails all 10 clearly; the next request works',
  NO_HANG,
  async () => {
    await goodClient.runtimeInfo(); // a live worker with its session loaded
    const worker = (goodClient as unknown as { worker: Worker }).worker;
    const files = Array.from({ length: 10 }, (_, i) =>
      at(['chelsea.png', 'coffee.png', 'orange.jpg'], i % 3),
    );
    const pending = files.map((f) => goodClient.classify(f, read(f), { topK: 1 }));
    await worker.terminate();
    const settled = await Promise.allSettled(pending);
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      const err = (s as PromiseRejectedResult).reason as InferenceError;
      assert.equal(err.kind, 'internal');
      assert.match(
        err.message,
        /^the inference worker stopped unexpectedly \(exit code 1\); the next request/,
      );
    }
    const r = await goodClient.classify('coffee.png', read('coffee.png'), { topK: 1 });
    assert.equal(r.top[0]?.label, 'espresso');
    assert.notEqual((goodClient as unknown as { worker: Worker }).worker, worker);
  },
);
