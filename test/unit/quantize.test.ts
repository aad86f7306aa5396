// The int8 quantizer: folding keeps the function, QDQ models run in onnxruntime close to float, weights are
// per-channel int8, and the built int8 ResNet50 agrees with fp32 on photos calibration never saw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { prepareImage } from '../../src/inference/preprocess';
import { softmax } from '../../src/inference/postprocess';
import { loadDescriptor } from '../../src/files/descriptorFile';
import { foldForQuantization } from '../../src/model/quantize/fold';
import { quantizeQdq } from '../../src/model/quantize/qdq';
import { RangeCollector, uint8Params } from '../../src/model/quantize/ranges';
import { readFloats } from '../../src/model/quantize/tensors';
import { buildResNet } from './helpers/onnxBuilder';

const MODELS = path.resolve(__dirname, '..', '..', 'models');
const IMAGES = path.resolve(__dirname, '..', 'fixtures', 'images');

/** A small ResNet with random weights (the builder writes zeros) and positive BatchNorm variances. */
function randomResNet(): Uint8Array {
  const model = onnx.ModelProto.decode(
    buildResNet({
      kind: 'basic',
      blocks: [1, 1],
      widths: [8, 16],
      stem: 8,
      size: 32,
      classes: 10,
      padNodes: true,
    }).build(),
  );
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  for (const t of model.graph!.initializer!) {
    if (t.dataType !== 1) continue;
    const n = (t.dims ?? []).reduce((a: number, b) => a * Number(b), 1);
    const positive = /\/(var|scale)$/.test(t.name ?? '');
    const values = Float32Array.from({ length: n }, () => (positive ? 0.5 + Math.abs(rand()) : rand() * 0.3));
    t.rawData = new Uint8Array(values.buffer);
  }
  return onnx.ModelProto.encode(model).finish();
}

async function run(
  bytes: Uint8Array,
  x: Float32Array,
  outputs?: string[],
): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  const out = await s.run({ input: new ort.Tensor('float32', x, [1, 3, 32, 32]) }, outputs ?? s.outputNames);
  await s.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

const input = Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37) * 2);

test('folding BatchNorm and zero Pad into convolutions keeps the function', async () => {
  const bytes = randomResNet();
  const model = onnx.ModelProto.decode(bytes);
  const folded = foldForQuantization(model);
  assert.ok(folded.batchNorms >= 5);
  assert.equal(folded.pads, 1, 'the Pad before conv1 (the one before the max pool stays: its padding is -∞)');
  assert.ok(!model.graph!.node!.some((n) => n.opType === 'BatchNormalization'));
  const a = Object.values(await run(bytes, input))[0]!;
  const b = Object.values(await run(onnx.ModelProto.encode(model).finish(), input))[0]!;
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) < 1e-4 * (1 + Math.abs(a[i]!)), `logit ${i}`);
});

test('QDQ: per-channel int8 weights, uint8 activations; the quantized model stays close to float', async () => {
  const model = onnx.ModelProto.decode(randomResNet());
  foldForQuantization(model);
  const folded = onnx.ModelProto.encode(model).finish();
  const tensors = model.graph!.node!.flatMap((n) => n.output ?? []);
  const probe = onnx.ModelProto.decode(folded);
  probe.graph!.output!.push(...tensors.map((name) => ({ name, type: { tensorType: { elemType: 1 } } })));
  const probeBytes = onnx.ModelProto.encode(probe).finish();
  const collector = new RangeCollector();
  const samples = [0.3, 0.7, 1.1].map((f) => Float32Array.from(input, (v, i) => v * f + Math.cos(i * f)));
  for (const pass of [0, 1]) {
    for (const x of samples) {
      const out = await run(probeBytes, x, tensors);
      for (const t of tensors) {
        if (pass === 0) collector.observeExtremes(t, out[t]!);
        else collector.observeHistogram(t, out[t]!);
      }
    }
  }
  const first = model.graph!.node!.find((n) => n.opType === 'Conv')!.name!;
  const q = quantizeQdq(model, collector.ranges(99.999), { floatNodes: new Set([first, 'fc1000']) });
  assert.ok(!q.quantized.includes(first) && !q.quantized.includes('fc1000'));
  assert.ok(q.quantized.filter((n) => n.startsWith('res')).length >= 5, 'the block convolutions run in int8');
  const inits = new Map(model.graph!.initializer!.map((t) => [t.name!, t]));
  const wq = [...inits.values()].find((t) => t.name!.endsWith('/W_q'))!;
  assert.equal(wq.dataType, onnx.TensorProto.DataType.INT8);
  const scales = readFloats(inits.get(wq.name!.replace('/W_q', '/W_scale'))!);
  assert.equal(scales.length, Number(wq.dims![0]), 'one scale per output channel');
  const fp = Object.values(await run(folded, samples[1]!))[0]!;
  const int8 = Object.values(await run(onnx.ModelProto.encode(model).finish(), samples[1]!))[0]!;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < fp.length; i++) {
    dot += fp[i]! * int8[i]!;
    na += fp[i]! ** 2;
    nb += int8[i]! ** 2;
  }
  assert.ok(dot / Math.sqrt(na * nb) > 0.99, `cosine ${dot / Math.sqrt(na * nb)}`);
});

test('uint8 parameters keep 0 exact', () => {
  const { scale, zeroPoint } = uint8Params(-1.3, 5.2);
  assert.equal(Math.round(0 / scale) + zeroPoint, zeroPoint);
  assert.ok(Math.abs((0 - zeroPoint) * scale + 1.3) < scale, 'the low end is representable');
  assert.equal(uint8Params(0, 6).zeroPoint, 0, 'a ReLU output starts at level 0');
});

test(
  'models/resnet50.int8.onnx agrees with fp32 on the test photos (never used for calibration)',
  {
    skip:
      !existsSync(path.join(MODELS, 'resnet50.int8.onnx')) && 'the int8 model is not built (npm run build)',
  },
  async () => {
    const d = await loadDescriptor(path.join(MODELS, 'resnet50.json'));
    const calibration = await fs.readdir(path.join(MODELS, 'calibration'));
    const fp32 = await ort.InferenceSession.create(path.join(MODELS, 'resnet50.onnx'));
    const int8 = await ort.InferenceSession.create(path.join(MODELS, 'resnet50.int8.onnx'));
    for (const file of await fs.readdir(IMAGES)) {
      if (!/\.(png|jpe?g)$/.test(file)) continue;
      assert.ok(
        !calibration.some((c) => c.includes(file.replace(/\..*$/, ''))),
        `${file} is not a calibration photo`,
      );
      const x = (await prepareImage(await fs.readFile(path.join(IMAGES, file)), d.preprocessing, 1e8)).tensor;
      const feed = { input: new ort.Tensor('float32', x, [1, 3, 224, 224]) };
      const a = softmax((await fp32.run(feed)).logits!.data as Float32Array);
      const b = softmax((await int8.run(feed)).logits!.data as Float32Array);
      const top = (p: ArrayLike<number>): number => Array.from(p).indexOf(Math.max(...Array.from(p)));
      assert.equal(top(b), top(a), `${file}: top-1 unchanged`);
      assert.ok(Math.abs(a[top(a)]! - b[top(a)]!) < 0.05, `${file}: top-1 probability within 0.05`);
    }
    await fp32.release();
    await int8.release();
  },
);
