// Opening model files as "Open in CNN Lens" does (src/host/models.ts loadModel, in the real extension host with
// the real worker): each kind of bad file gets its own message, which the panel and the notification show;
// a good one loads with its layer table.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { onnx } from 'onnx-proto';
import * as vscode from 'vscode';
import { DEFAULTS } from '../../src/host/config';
import { loadModel, type Paths } from '../../src/host/models';
import { exporterModel } from '../../test/unit/helpers/exporterModel';
import { buildResNet } from '../../test/unit/helpers/onnxBuilder';

const extensionId = 'cnn-lens.cnn-lens';

/** A one-node graph (Identity) whose input has the given dims. */
function identityModel(dims: (number | string)[]): Uint8Array {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'identity',
      node: [{ opType: 'Identity', name: 'id', input: ['x'], output: ['y'] }],
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: 1 } } }],
    },
  }).finish();
}

describe('Open in CNN Lens: model files, good and bad', () => {
  let paths: Paths;
  let dir: string;
  let repo: string;

  before(() => {
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension, `extension ${extensionId} is not loaded`);
    repo = extension.extensionPath;
    paths = { bundleDir: path.join(repo, 'dist') };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-models-'));
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Loads a model as "Open in CNN Lens" does, with nothing to report to. */
  const load = (file: string, signal = new AbortController().signal): ReturnType<typeof loadModel> =>
    loadModel(paths, DEFAULTS, file, {
      signal,
      report: () => undefined,
      log: () => undefined,
      status: () => undefined,
    });

  /** Writes `bytes` as `name` and opens it; resolves to the error message, or fails if it opened. */
  async function openError(name: string, bytes: Uint8Array | string): Promise<string> {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    try {
      const loaded = await load(file);
      await loaded.client.dispose();
    } catch (err) {
      return (err as Error).message;
    }
    assert.fail(`${name} opened`);
  }

  const fixture = (name: string): Buffer =>
    gunzipSync(fs.readFileSync(path.join(repo, 'test/fixtures/models', `${name}.onnx.gz`)));

  it('a web page saved as .onnx (a failed download): not an ONNX model', async () => {
    const page = '<!DOCTYPE html><html><body>404 Not Found</body></html>\n';
    assert.match(await openError('download.onnx', page), /not an ONNX model/);
  });

  it('an image named .onnx: not an ONNX model', async () => {
    const png = fs.readFileSync(path.join(repo, 'test/fixtures/images/chelsea.png'));
    assert.match(await openError('picture.onnx', png), /not an ONNX model/);
  });

  it('an empty file', async () => {
    assert.match(await openError('empty.onnx', ''), /empty/);
  });

  it('a truncated model', async () => {
    const bytes = fixture('squeezenet1_1.ts');
    assert.match(await openError('cut.onnx', bytes.subarray(0, bytes.length >> 1)), /truncated/);
  });

  it('weights in a .data file that is missing', async () => {
    assert.match(
      await openError('efficientnet_b0.onnx', fixture('efficientnet_b0.dynamo')),
      /keeps its weights in "[^"]+\.data".*missing/,
    );
  });

  it('an input that is not an image', async () => {
    assert.match(await openError('tabular.onnx', identityModel(['N', 10])), /not an image input/);
  });

  it('a channels-last input is taken; an output that is no class scores is named', async () => {
    assert.match(
      await openError('nhwc.onnx', identityModel(['N', 224, 224, 3])),
      /^model output "y" has shape \[N, 224, 224, 3\]; CNN Lens classifies .* this model's outputs are "y" \[N, 224, 224, 3\]$/,
    );
  });

  it('an input of five channels', async () => {
    assert.match(
      await openError('five.onnx', identityModel(['N', 5, 28, 28])),
      /5 channels; CNN Lens feeds colour/,
    );
  });

  it('a good model loads: its layer table, its session', async () => {
    const file = path.join(dir, 'tiny_resnet.onnx');
    const spec = { kind: 'basic', blocks: [1, 1], widths: [8, 16], stem: 8, size: 32, classes: 5 } as const;
    fs.writeFileSync(
      file,
      buildResNet({ ...spec, blocks: [...spec.blocks], widths: [...spec.widths] }).build(),
    );
    const loaded = await load(file);
    try {
      assert.equal(loaded.table.family, 'ResNet');
      assert.deepEqual(loaded.table.model.input?.shape, ['N', 3, 32, 32]);
      assert.equal(loaded.config.descriptor.labels.length, 5);
      assert.ok(loaded.provider.length > 0);
    } finally {
      await loaded.client.dispose();
    }
  });

  it('a Keras-style model (channels-last input, Softmax at the end) loads and classifies with its own probabilities', async () => {
    const file = path.join(dir, 'keras_style.onnx');
    fs.writeFileSync(file, exporterModel({ layout: 'NHWC', ending: 'Softmax', peak: 1 }));
    const loaded = await load(file);
    try {
      assert.deepEqual(loaded.config.descriptor.format, { layout: 'NHWC', channels: 3, type: 'float32' });
      assert.equal(loaded.config.descriptor.outputKind, 'probabilities');
      const photo = fs.readFileSync(path.join(repo, 'test', 'fixtures', 'images', 'chelsea.png'));
      const r = await loaded.client.classify('chelsea.png', photo, { topK: 5 });
      assert.equal(r.top[0]!.index, 1);
      const sum = r.top.reduce((a, p) => a + p.probability, 0);
      assert.ok(Math.abs(sum - 1) < 1e-3, `the model's own distribution, not softmaxed again (sum ${sum})`);
      assert.ok(r.top[0]!.probability > 0.5, 'the peaked class keeps its probability');
    } finally {
      await loaded.client.dispose();
    }
  });

  it('cancelling stops the load and disposes its client', async () => {
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(load('', abort.signal), /cancelled/);
  });
});
