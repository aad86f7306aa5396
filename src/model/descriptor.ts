// The model descriptor: everything about a model that is not in its ONNX graph. Preprocessing is a
// property of the model (Keras/caffe weights want BGR minus means; torchvision wants RGB /255 mean/std);
// the input size is the graph's, so that Inception v3 gets its 299×299 crop without being told.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Precision } from '../shared/quantization';
import { fixedSize, imageInput, outputClasses, readModelGraph } from './modelFile';
import { ModelFileError, type OnnxGraph } from './onnxGraph';

/** How an image becomes the model's input tensor (NCHW float32). */
export interface Preprocessing {
  /** Shorter side is resized to this (bilinear), then a center crop of `crop`×`crop` is taken. */
  resize: number;
  crop: number;
  /** Channel order of the tensor's C axis. */
  channelOrder: 'RGB' | 'BGR';
  /** Pixel values (0…255) are multiplied by `scale`, then `(v - mean[c]) / std[c]` per tensor channel. */
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
}

/** A model file plus what it takes to use it. Written next to the built model as `<name>.json`. */
export interface ModelDescriptor {
  name: string;
  /** Absolute path of the .onnx file. */
  modelPath: string;
  /** sha256 (hex) of the .onnx file recorded when it was built; absent for user models. */
  sha256?: string;
  /** Graph input and output names; absent means "the session's first input/output". */
  input?: string;
  output?: string;
  /** Whether the output holds logits (softmax applied by us) or probabilities already. */
  outputKind: 'logits' | 'probabilities';
  preprocessing: Preprocessing;
  /** Class names in index order. */
  labels: string[];
  /** What was assumed because the model leaves it open (symbolic input height and width); absent if nothing. */
  assumed?: string;
  /** 'int8' for a quantized (QDQ or integer-op) model file; absent for float models. */
  precision?: Precision;
}

/** The preprocessing presets a user can pick for a model without a descriptor. */
export type PresetName = 'torchvision' | 'caffe' | 'tf' | 'raw';

/** Keras ResNet50 v1 ImageNet weights ("caffe" mode). */
export const CAFFE_PREPROCESSING: Preprocessing = {
  resize: 256,
  crop: 224,
  channelOrder: 'BGR',
  scale: 1,
  mean: [103.939, 116.779, 123.68],
  std: [1, 1, 1],
};

/** torchvision ImageNet models. */
export const TORCHVISION_PREPROCESSING: Preprocessing = {
  resize: 256,
  crop: 224,
  channelOrder: 'RGB',
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/** Presets by name, at the 224×224 crop; `descriptorForModel` sets the crop from the model. */
export const PREPROCESSING_PRESETS: Readonly<Record<PresetName, Preprocessing>> = {
  torchvision: TORCHVISION_PREPROCESSING,
  caffe: CAFFE_PREPROCESSING,
  // TensorFlow/Keras "tf" mode (Inception, MobileNet): RGB scaled to [-1, 1].
  tf: { resize: 256, crop: 224, channelOrder: 'RGB', scale: 1 / 127.5, mean: [1, 1, 1], std: [1, 1, 1] },
  raw: { resize: 256, crop: 224, channelOrder: 'RGB', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] },
};

/** Every preset name, for settings and command-line checks. */
export const PRESET_NAMES = Object.keys(PREPROCESSING_PRESETS) as PresetName[];

/** The crop used when the model's input size is symbolic and no descriptor sets one. */
const DEFAULT_CROP = 224;

/** On-disk form of a descriptor (`models/resnet50.json`, `<model>.json`): paths relative to the file. */
export interface DescriptorFile {
  name: string;
  model: string;
  sha256?: string;
  input?: string;
  output?: string;
  outputKind?: 'logits' | 'probabilities';
  preprocessing: Preprocessing | PresetName;
  /** A labels file (JSON array of names) relative to the descriptor, or the names themselves. */
  labels?: string | string[];
  /** Build bookkeeping (inputs' fingerprint); ignored when loading. */
  buildKey?: string;
  /** 'int8' for the quantized model's descriptor (models/resnet50.int8.json). */
  precision?: Precision;
}

/** Folder of the built default model, relative to the extension/CLI bundle folder (dist/). */
export function defaultDescriptorPath(bundleDir: string): string {
  return path.join(bundleDir, '..', 'models', 'resnet50.json');
}

/** `<model>.json` beside `<model>.onnx`. */
export function descriptorPathFor(modelFile: string): string {
  return path.resolve(modelFile).replace(/\.onnx$/i, '') + '.json';
}

/** Reads a descriptor file and resolves its relative paths and presets (the built-in model's). */
export async function loadDescriptor(file: string): Promise<ModelDescriptor> {
  let raw: DescriptorFile;
  try {
    raw = await readDescriptorFile(file);
  } catch (err) {
    throw new Error(`Cannot read model descriptor ${file}: ${(err as Error).message}. Run "npm run build".`);
  }
  return {
    name: raw.name,
    modelPath: path.resolve(path.dirname(file), raw.model),
    sha256: raw.sha256,
    input: raw.input,
    output: raw.output,
    outputKind: raw.outputKind ?? 'logits',
    preprocessing: checkPreprocessing(raw.preprocessing, file),
    labels: raw.labels === undefined ? [] : await labelsOf(raw.labels, file),
    ...(raw.precision === 'int8' && { precision: raw.precision }),
  };
}

/**
 * The descriptor of any classifier ONNX file. The input size comes from the graph (a fixed [N,3,H,W] sets
 * the crop, and the resize keeps ImageNet's 0.875 crop ratio); `<model>.json` beside the file, if present,
 * supplies name, preprocessing (a preset name or explicit values) and labels; otherwise `preset` applies,
 * with `defaultLabels` (ImageNet's) for 1000 classes and "class i" names for any other count.
 * Throws ModelFileError with the reason when the file is not a model CNN Lens can feed.
 */
export async function descriptorForModel(
  modelFile: string,
  preset: PresetName,
  defaultLabels: string[],
): Promise<ModelDescriptor> {
  const file = path.resolve(modelFile);
  const graph = await readModelGraph(file);
  const sidecar = descriptorPathFor(file);
  const raw = (await exists(sidecar)) ? await readSidecar(sidecar) : undefined;
  const input = imageInput(graph, raw?.input);
  const fixed = fixedSize(input);
  // A preset (from the file or the setting) takes the model's size; explicit values must fit it.
  const named = typeof raw?.preprocessing === 'object' ? undefined : (raw?.preprocessing ?? preset);
  let preprocessing: Preprocessing;
  let assumed: string | undefined;
  if (named === undefined) {
    preprocessing = checkPreprocessing(raw!.preprocessing, sidecar);
    if (fixed !== null && preprocessing.crop !== fixed) {
      throw new ModelFileError(
        `${sidecar} sets crop ${preprocessing.crop}, but the model's input "${input.name}" is ` +
          `${fixed}×${fixed}: set crop to ${fixed}`,
      );
    }
    if (fixed === null) {
      assumed =
        `the model's input height and width are symbolic; using the crop ` +
        `${preprocessing.crop}×${preprocessing.crop} of ${path.basename(sidecar)}`;
    }
  } else {
    const crop = fixed ?? DEFAULT_CROP;
    const base = checkPreprocessing(named, raw ? sidecar : 'the preprocessing setting');
    preprocessing = { ...base, crop, resize: resizeFor(crop) };
    if (fixed === null) {
      assumed =
        `the model's input height and width are symbolic; assumed ${crop}×${crop} ` +
        `(a crop in ${path.basename(sidecar)} changes it)`;
    }
  }
  const classes = outputClasses(graph, preprocessing.crop, raw?.output);
  let labels: string[];
  if (raw?.labels !== undefined) {
    labels = await labelsOf(raw.labels, sidecar);
    if (classes !== null && labels.length !== classes) {
      throw new ModelFileError(
        `the labels of ${sidecar} name ${labels.length} classes, but the model outputs ${classes}`,
      );
    }
  } else if (classes === defaultLabels.length) labels = defaultLabels;
  else labels = Array.from({ length: classes ?? 0 }, (_, i) => `class ${i}`);
  return {
    name: raw?.name ?? path.basename(file),
    modelPath: file,
    sha256: raw?.sha256,
    input: raw?.input,
    output: raw?.output,
    outputKind: raw?.outputKind ?? 'logits',
    preprocessing,
    labels,
    ...(assumed !== undefined && { assumed }),
    ...(isQuantized(graph) && { precision: 'int8' as const }),
  };
}

// Ops only a quantized graph has: QDQ pairs, and the integer kernels other quantizers write.
const QUANTIZED_OPS = new Set([
  'QuantizeLinear',
  'DequantizeLinear',
  'QLinearConv',
  'QLinearMatMul',
  'ConvInteger',
  'MatMulInteger',
]);

/** Whether the graph computes in int8: it holds a quantization op. */
function isQuantized(graph: OnnxGraph): boolean {
  return graph.nodes.some((n) => QUANTIZED_OPS.has(n.op));
}

/** ImageNet's evaluation crop covers 87.5 % of the resized shorter side (224 of 256; Inception's 299 of 342). */
export function resizeFor(crop: number): number {
  return Math.round(crop / 0.875);
}

/**
 * Writes `<model>.json` beside the model with the given preprocessing (and labels file, relative to it),
 * keeping the other fields of a descriptor already there; returns its path. A file of that name that is
 * not a CNN Lens descriptor is left alone (an error says so).
 */
export async function writeDescriptorFile(
  modelFile: string,
  edit: { preprocessing: Preprocessing; labelsFile?: string; name?: string },
): Promise<string> {
  const model = path.resolve(modelFile);
  const target = descriptorPathFor(model);
  const dir = path.dirname(target);
  let existing: DescriptorFile | undefined;
  const text = await fs.readFile(target, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text !== undefined) {
    try {
      existing = parseDescriptor(text);
    } catch (err) {
      throw new ModelFileError(
        `${target} exists and is not a CNN Lens model descriptor (${(err as Error).message}); ` +
          'it was not overwritten: move it away to save the preprocessing',
      );
    }
  }
  const preprocessing = checkPreprocessing(edit.preprocessing, 'the edit');
  let labels = existing?.labels;
  if (edit.labelsFile !== undefined) {
    const labelsFile = path.resolve(edit.labelsFile);
    await loadLabels(labelsFile); // refuse a labels file the descriptor could not be read with
    labels = path.relative(dir, labelsFile).split(path.sep).join('/');
  }
  const out: DescriptorFile = {
    ...existing,
    name: edit.name ?? existing?.name ?? path.basename(model),
    model: path.basename(model),
    preprocessing,
    ...(labels !== undefined && { labels }),
  };
  const tmp = `${target}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(out, null, 2) + '\n');
  await fs.rename(tmp, target);
  return target;
}

/** Reads a labels file: a JSON array of names in index order. */
export async function loadLabels(file: string): Promise<string[]> {
  const labels = JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
  if (!isStrings(labels)) throw new Error(`Labels file ${file} is not a JSON array of strings`);
  return labels;
}

/** sha256 of a file, streamed. */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

async function readDescriptorFile(file: string): Promise<DescriptorFile> {
  return parseDescriptor(await fs.readFile(file, 'utf8'));
}

/** A user's `<model>.json`, with failures as ModelFileErrors naming the file. */
async function readSidecar(file: string): Promise<DescriptorFile> {
  try {
    return await readDescriptorFile(file);
  } catch (err) {
    throw new ModelFileError(`cannot read the model descriptor ${file}: ${(err as Error).message}`);
  }
}

/** JSON text → descriptor, checking the fields every descriptor has. */
function parseDescriptor(text: string): DescriptorFile {
  const raw = JSON.parse(text) as unknown;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('not a JSON object');
  const d = raw as Partial<DescriptorFile>;
  if (typeof d.model !== 'string') throw new Error('no "model" file name');
  if (typeof d.preprocessing !== 'string' && typeof d.preprocessing !== 'object') {
    throw new Error('no "preprocessing"');
  }
  if (d.labels !== undefined && typeof d.labels !== 'string' && !isStrings(d.labels)) {
    throw new Error('"labels" is neither a file name nor an array of names');
  }
  return { ...d, name: typeof d.name === 'string' ? d.name : d.model } as DescriptorFile;
}

/** A preset name or explicit values, checked so that a hand-edited file fails here, not in the decoder. */
function checkPreprocessing(p: unknown, where: string): Preprocessing {
  if (typeof p === 'string') {
    if (p in PREPROCESSING_PRESETS) return PREPROCESSING_PRESETS[p as PresetName];
    throw new ModelFileError(
      `unknown preprocessing preset "${p}" in ${where} (one of ${PRESET_NAMES.join(', ')})`,
    );
  }
  const v = (p ?? {}) as Partial<Preprocessing>;
  const problems: string[] = [];
  const whole = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 4096;
  const triple = (a: unknown, nonZero: boolean): boolean =>
    Array.isArray(a) &&
    a.length === 3 &&
    a.every((x) => typeof x === 'number' && Number.isFinite(x) && (!nonZero || x !== 0));
  if (!whole(v.crop)) problems.push('crop must be a whole number 1…4096');
  if (!whole(v.resize) || (whole(v.crop) && v.resize! < v.crop!)) problems.push('resize must be ≥ crop');
  if (v.channelOrder !== 'RGB' && v.channelOrder !== 'BGR') problems.push('channelOrder must be RGB or BGR');
  if (typeof v.scale !== 'number' || !Number.isFinite(v.scale) || v.scale === 0) {
    problems.push('scale must be a non-zero number');
  }
  if (!triple(v.mean, false)) problems.push('mean must be 3 numbers');
  if (!triple(v.std, true)) problems.push('std must be 3 non-zero numbers');
  if (problems.length > 0)
    throw new ModelFileError(`invalid preprocessing in ${where}: ${problems.join('; ')}`);
  const { resize, crop, channelOrder, scale, mean, std } = v as Preprocessing;
  return { resize, crop, channelOrder, scale, mean: [...mean], std: [...std] };
}

/** Labels given inline, or as a file relative to the descriptor. */
async function labelsOf(labels: string | string[], descriptorFile: string): Promise<string[]> {
  return typeof labels === 'string' ? loadLabels(path.resolve(path.dirname(descriptorFile), labels)) : labels;
}

function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((l) => typeof l === 'string');
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
