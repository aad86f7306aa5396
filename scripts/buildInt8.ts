// Builds models/resnet50.int8.onnx from models/resnet50.onnx: BatchNorm and Pad folded into the convolutions,
// activation ranges calibrated on the photos in models/calibration (percentile), QDQ with per-channel int8
// weights, the first convolution and the classifier left in float. Skipped when up to date.
// Usage: tsx scripts/buildInt8.ts [--force]
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type * as Ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { prepareImage } from '../src/inference/preprocess';
import { loadDescriptor } from '../src/files/descriptorFile';
import { sha256File } from '../src/files/sha256';
import type { DescriptorFile } from '../src/model/descriptor';
import { PERCENTILE, prepareForQuantization } from '../src/model/quantize/pipeline';
import { quantizeQdq } from '../src/model/quantize/qdq';
import { RangeCollector } from '../src/model/quantize/ranges';
import { writeAtomic } from '../src/files/writeAtomic';

const ROOT = path.resolve(__dirname, '..');
const MODELS = path.join(ROOT, 'models');
const FP32_DESCRIPTOR = path.join(MODELS, 'resnet50.json');
const CALIBRATION = path.join(MODELS, 'calibration');
const OUT_MODEL = 'resnet50.int8.onnx';
const OUT_DESCRIPTOR = path.join(MODELS, 'resnet50.int8.json');
const SOURCES = [path.join(ROOT, 'src', 'model', 'quantize'), __filename];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { force: { type: 'boolean', default: false } } });
  const started = performance.now();
  const fp32 = await loadDescriptor(FP32_DESCRIPTOR);
  const images = (await fs.readdir(CALIBRATION)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
  const buildKey = await fingerprint(fp32.sha256 ?? '', images);
  if (!values.force && (await upToDate(buildKey))) {
    process.stdout.write(`int8 model up to date (models/${OUT_MODEL})\n`);
    return;
  }
  const model = onnx.ModelProto.decode(await fs.readFile(fp32.modelPath));
  const { folded, floatNodes, tensors } = prepareForQuantization(model);
  const foldedBytes = onnx.ModelProto.encode(model).finish();

  // Calibration: every activation the folded model computes, over every calibration photo, twice.
  const probe = onnx.ModelProto.decode(foldedBytes);
  probe.graph!.output!.push(...tensors.map((name) => ({ name, type: { tensorType: { elemType: 1 } } })));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof Ort;
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(probe).finish(), {
    graphOptimizationLevel: 'disabled',
  });
  const crop = fp32.preprocessing.crop;
  const inputs: Float32Array[] = [];
  for (const f of images) {
    const prepared = await prepareImage(
      await fs.readFile(path.join(CALIBRATION, f)),
      fp32.preprocessing,
      1e8,
    );
    inputs.push(prepared.tensor);
  }
  const collector = new RangeCollector();
  for (const pass of ['extremes', 'histogram'] as const) {
    for (const tensor of inputs) {
      const out = await session.run({
        [fp32.input ?? 'input']: new ort.Tensor('float32', tensor, [1, 3, crop, crop]),
      });
      for (const t of tensors) {
        const data = out[t]!.data as Float32Array;
        if (pass === 'extremes') collector.observeExtremes(t, data);
        else collector.observeHistogram(t, data);
      }
    }
  }
  await session.release();

  const result = quantizeQdq(model, collector.ranges(PERCENTILE), { floatNodes });
  const bytes = onnx.ModelProto.encode(model).finish();
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await writeAtomic(path.join(MODELS, OUT_MODEL), bytes);
  const descriptor: DescriptorFile & { precision: 'int8'; calibration: object } = {
    name: 'ResNet50 v1 (Keras, ImageNet), int8',
    model: OUT_MODEL,
    sha256,
    input: fp32.input,
    output: fp32.output,
    outputKind: fp32.outputKind,
    preprocessing: 'caffe',
    labels: 'labels.json',
    buildKey,
    precision: 'int8',
    calibration: {
      images: images.length,
      percentile: PERCENTILE,
      float: [...floatNodes],
      quantized: result.quantized.length,
    },
  };
  await writeAtomic(OUT_DESCRIPTOR, JSON.stringify(descriptor, null, 2) + '\n');
  process.stdout.write(
    `built models/${OUT_MODEL}: ${folded.batchNorms} BatchNorms and ${folded.pads} Pads folded, ` +
      `${result.quantized.length} nodes quantized (${[...floatNodes].join(', ')} float), ${result.activations} ` +
      `activations calibrated on ${images.length} photos, ${(bytes.length / 2 ** 20).toFixed(1)} MB, ` +
      `${Math.round(performance.now() - started)} ms\n`,
  );
}

async function fingerprint(fp32Sha: string, images: string[]): Promise<string> {
  const hash = createHash('sha256');
  const part = (label: string, bytes: Uint8Array | string): void => {
    const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    hash.update(`${label}\0${b.length}\0`).update(b);
  };
  part('fp32', fp32Sha);
  part('percentile', String(PERCENTILE));
  for (const f of images) part(f, await fs.readFile(path.join(CALIBRATION, f)));
  for (const pkg of ['onnx-proto', 'onnxruntime-node', 'sharp']) {
    part(pkg, await fs.readFile(path.join(ROOT, 'node_modules', pkg, 'package.json')));
  }
  for (const src of SOURCES) {
    const files = (await fs.stat(src)).isDirectory()
      ? (await fs.readdir(src))
          .filter((f) => f.endsWith('.ts'))
          .sort()
          .map((f) => path.join(src, f))
      : [src];
    for (const f of files) part(path.relative(ROOT, f), await fs.readFile(f));
  }
  return hash.digest('hex');
}

async function upToDate(buildKey: string): Promise<boolean> {
  try {
    const d = JSON.parse(await fs.readFile(OUT_DESCRIPTOR, 'utf8')) as DescriptorFile;
    return d.buildKey === buildKey && (await sha256File(path.join(MODELS, OUT_MODEL))) === d.sha256;
  } catch {
    return false;
  }
}

main().catch((err: unknown) => {
  console.error(`buildInt8: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
