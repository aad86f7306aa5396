// Quantizing the current model with the user's images, in the worker: BatchNorm/Pad folding, two-pass
// percentile calibration on most of the images, QDQ with per-channel int8 weights (first convolution and
// classifier in float, as for the built-in int8 ResNet50), the file written atomically, then fp32 against
// the new int8 model on the images calibration never saw.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import type { ModelDescriptor } from '../model/descriptor';
import { withOutputs } from '../model/explorationModel';
import { readImageFile } from '../files/imageFiles';
import { int8PathFor } from '../files/modelPaths';
import { externalPath } from '../model/onnxGraph';
import { PERCENTILE, prepareForQuantization } from '../model/quantize/pipeline';
import { quantizeQdq } from '../model/quantize/qdq';
import { RangeCollector } from '../model/quantize/ranges';
import {
  agreement,
  type PrecisionPair,
  type QuantizeProgress,
  type QuantizeReport,
} from '../shared/quantization';
import type { QuantizeImage, WorkerConfig } from './messages';
import { classifyBoth, pairSessions } from './precisionPairs';
import { ImageError, prepareImage } from './preprocess';
import { checkModelFile, ModelError } from './session';
import { writeAtomic } from '../files/writeAtomic';
import { imageTensor } from './feed';
import { threadsFor } from './cpus';

/** The most of the images that may be held back: calibration needs most of them. */
const MAX_HOLD_OUT = 0.9;
const TOP_K = 5;

/** What to quantize with, and where to write. */
export interface QuantizeJob {
  images: QuantizeImage[];
  /** Share of the images (0…0.9) kept out of calibration for the agreement check. */
  holdOut: number;
  /** Where to write the int8 model; default `<model>.int8.onnx` beside the model. */
  out?: string;
}

/** How the job reports and is stopped. */
export interface JobHooks {
  progress: (p: QuantizeProgress) => void;
  /** Asked between images; true ends the job without writing anything. */
  cancelled: () => boolean;
}

/** Quantizes the config's model; see the file comment. */
export async function quantizeModel(
  cfg: WorkerConfig,
  log: (m: string) => void,
  job: QuantizeJob,
  hooks: JobHooks,
): Promise<QuantizeReport> {
  const started = performance.now();
  const d = cfg.descriptor;
  const out = await outputPath(d.modelPath, d.precision, job.out);
  if (!(job.holdOut >= 0 && job.holdOut <= MAX_HOLD_OUT)) {
    throw new ModelError(`the held-out share must be 0…${MAX_HOLD_OUT} (got ${job.holdOut})`);
  }
  await checkModelFile(d);
  const skipped: QuantizeReport['skipped'] = [];
  const ctx: Context = {
    cfg,
    hooks,
    /** The image's input tensor, or undefined (and the image listed as skipped) when it cannot be decoded. */
    tensorOf: async (image) => {
      if (hooks.cancelled()) throw new Error('cancelled');
      try {
        return (await prepareImage(await bytesOf(image), d.preprocessing, cfg.maxPixels)).tensor;
      } catch (err) {
        skipped.push({ name: image.name, reason: (err as Error).message });
        return undefined;
      }
    },
  };

  const { calibration, heldOut } = await split(job.images, job.holdOut, ctx);
  if (calibration.length === 0) throw new ImageError('no images to calibrate with');

  const file = await fs.readFile(d.modelPath);
  // A plain Uint8Array: protobufjs reads a Buffer with the deprecated Buffer() for empty fields.
  const model = onnx.ModelProto.decode(new Uint8Array(file.buffer, file.byteOffset, file.byteLength));
  await inlineExternalData(model, path.dirname(d.modelPath));
  const { floatNodes, tensors } = prepareForQuantization(model);
  const { ranges, used } = await calibrate(model, tensors, calibration, ctx);

  if (hooks.cancelled()) throw new Error('cancelled');
  hooks.progress({ phase: 'writing', done: 0, total: 1 });
  const result = quantizeQdq(model, ranges, { floatNodes });
  const bytes = onnx.ModelProto.encode(model).finish();
  await writeAtomic(out, bytes);
  log(
    `quantized ${d.modelPath}: ${result.quantized.length} nodes in int8 (${[...floatNodes].join(', ')} float), ` +
      `calibrated on ${used.length} images; wrote ${out}`,
  );

  const int8 = {
    ...d,
    name: `${d.name} (int8)`,
    modelPath: out,
    sha256: undefined,
    precision: 'int8' as const,
  };
  const pairs =
    heldOut.length > 0 ? await evaluate({ descriptor: int8, model: bytes }, heldOut, log, ctx) : [];
  return {
    out,
    calibration: { images: used, percentile: PERCENTILE },
    held_out: pairs.map((p) => p.name),
    skipped,
    float_nodes: [...floatNodes],
    quantized_nodes: result.quantized.length,
    agreement: agreement(pairs),
    ms: performance.now() - started,
  };
}

/** What the calibration and evaluation steps share. */
interface Context {
  cfg: WorkerConfig;
  hooks: JobHooks;
  tensorOf: (image: QuantizeImage) => Promise<Float32Array | undefined>;
}

/**
 * Every float tensor the folded model computes, over every calibration image, twice (extremes, then
 * histograms between them): the ranges at PERCENTILE, and the images that could be decoded.
 */
async function calibrate(
  model: onnx.IModelProto,
  tensors: string[],
  images: QuantizeImage[],
  ctx: Context,
): Promise<{ ranges: Map<string, [number, number]>; used: string[] }> {
  const d = ctx.cfg.descriptor;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof Ort;
  // Unoptimised, so that every tensor is computed as written.
  const probe = await ort.InferenceSession.create(
    withOutputs(onnx.ModelProto.encode(model).finish(), tensors),
    {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'disabled',
      intraOpNumThreads: threadsFor(ctx.cfg.threads),
      logSeverityLevel: 3,
    },
  );
  const collector = new RangeCollector();
  let usable = images;
  try {
    const input = d.input ?? probe.inputNames[0]!;
    for (const phase of ['ranges', 'histograms'] as const) {
      const decoded: QuantizeImage[] = [];
      for (const [i, image] of usable.entries()) {
        ctx.hooks.progress({ phase, done: i, total: usable.length });
        const tensor = await ctx.tensorOf(image);
        if (!tensor) continue; // only the first pass meets an image that cannot be decoded
        decoded.push(image);
        const outs = await probe.run({ [input]: imageTensor(ort, d, tensor, 1) });
        for (const t of tensors) {
          const v = outs[t];
          if (v?.type !== 'float32') continue; // shapes and indices are not quantized
          if (phase === 'ranges') collector.observeExtremes(t, v.data as Float32Array);
          else collector.observeHistogram(t, v.data as Float32Array);
        }
      }
      if (decoded.length === 0) throw new ImageError('none of the calibration images could be decoded');
      usable = decoded;
    }
  } finally {
    await probe.release();
  }
  return { ranges: collector.ranges(PERCENTILE), used: usable.map((i) => i.name) };
}

/** fp32 against the new int8 model (its bytes, not yet reread from disk) on the held-out images. */
async function evaluate(
  int8: { descriptor: ModelDescriptor; model: Uint8Array },
  images: QuantizeImage[],
  log: (m: string) => void,
  ctx: Context,
): Promise<PrecisionPair[]> {
  const [fp32Session, int8Session] = await pairSessions(ctx.cfg, log, int8);
  const pairs: PrecisionPair[] = [];
  try {
    for (const [i, image] of images.entries()) {
      ctx.hooks.progress({ phase: 'evaluating', done: i, total: images.length });
      const tensor = await ctx.tensorOf(image);
      if (tensor)
        pairs.push({ name: image.name, ...(await classifyBoth(fp32Session, int8Session, tensor, TOP_K)) });
    }
  } finally {
    await Promise.all([fp32Session.session.release(), int8Session.session.release()]);
  }
  return pairs;
}

/**
 * Where the int8 model goes. The built-in ResNet50 has its int8 model already (built by `npm run build`,
 * described by `<model>.int8.json`): without an explicit path that one is refused, and it is never
 * overwritten, nor is the float model itself.
 */
async function outputPath(modelPath: string, precision: string | undefined, asked?: string): Promise<string> {
  if (precision === 'int8') {
    throw new ModelError(`${modelPath} is quantized already: quantize its float model`);
  }
  const companion = int8PathFor(modelPath);
  const built = await fs.access(companion.replace(/\.onnx$/, '.json')).then(
    () => true,
    () => false,
  );
  const out = asked ? path.resolve(asked) : companion;
  if (out === path.resolve(modelPath))
    throw new ModelError('the int8 model cannot replace the float model it comes from');
  if (built && out === companion) {
    throw new ModelError(
      `${path.basename(modelPath)} already has its int8 model (${companion}, built by "npm run build" from ` +
        'models/calibration): give an output path to write another one',
    );
  }
  return out;
}

/**
 * A deterministic split that depends neither on the order the images came in nor on where the folder is:
 * by a hash of each file's name. The held-out images are the first that decode in that order (one that
 * cannot be decoded is listed as skipped and the next one is held out instead), so an undecodable file
 * never leaves the check with nothing; they are decoded again when evaluated, rather than kept in memory.
 */
async function split(
  images: QuantizeImage[],
  holdOut: number,
  ctx: Context,
): Promise<{ calibration: QuantizeImage[]; heldOut: QuantizeImage[] }> {
  const hash = (s: string): string => createHash('sha256').update(s).digest('hex');
  const ordered = images
    .map((image) => ({ image, key: `${hash(path.basename(image.name))} ${image.name}` }))
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .map((x) => x.image);
  // At least one held-out image when any is asked for and there is more than one image.
  let n = Math.round(images.length * holdOut);
  if (holdOut > 0 && n === 0 && images.length > 1) n = 1;
  const heldOut: QuantizeImage[] = [];
  let next = 0;
  while (heldOut.length < n && ordered.length - next > 1) {
    const image = ordered[next++]!;
    if (await ctx.tensorOf(image)) heldOut.push(image);
  }
  return { heldOut, calibration: ordered.slice(next) };
}

function bytesOf(image: QuantizeImage): Promise<Uint8Array> {
  return 'bytes' in image ? Promise.resolve(image.bytes) : readImageFile(image.path);
}

/** Loads tensors kept in external data files into the model, so the quantizer can read and rewrite them. */
async function inlineExternalData(model: onnx.IModelProto, dir: string): Promise<void> {
  const handles = new Map<string, fs.FileHandle>();
  try {
    for (const t of model.graph?.initializer ?? []) {
      if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
      const entry = (key: string): string | undefined =>
        t.externalData?.find((e) => e.key === key)?.value ?? undefined;
      const file = externalPath(dir, entry('location') ?? '');
      let handle = handles.get(file);
      if (!handle) {
        handle = await fs.open(file, 'r');
        handles.set(file, handle);
      }
      const offset = Number(entry('offset') ?? 0);
      const length = Number(entry('length') ?? (await handle.stat()).size - offset);
      const raw = Buffer.alloc(length);
      const { bytesRead } = await handle.read(raw, 0, length, offset);
      if (bytesRead !== length) {
        throw new ModelError(
          `external data of ${t.name ?? '?'} in ${file} ends early (${bytesRead} of ${length} bytes)`,
        );
      }
      t.rawData = raw;
      t.externalData = [];
      t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
    }
  } finally {
    await Promise.all([...handles.values()].map((h) => h.close()));
  }
}
