// The model descriptor: everything about a model that is not in its ONNX graph. Preprocessing is a
// property of the model (Keras/caffe weights want BGR minus means; torchvision wants RGB /255 mean/std);
// the input size is the graph's, so that Inception v3 gets its 299×299 crop without being told.
// Reading and writing descriptor files is src/files/descriptorFile.ts's job; this module decides.
import * as path from 'node:path';
import { PRESET_NAMES, type Preprocessing, type PresetName } from '../shared/preprocessing';
import type { OutputKind } from '../shared/outputs';
import type { Precision } from '../shared/quantization';
import type { Task } from '../shared/tasks';
import { NCHW_RGB, type InputFormat } from './imageLayout';
import { fixedSize, type ImageInput } from './modelFile';
import { ModelFileError, type OnnxGraph } from './onnxGraph';

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
  /** What the class output holds: logits (softmax applied by us), probabilities, log-probabilities or
   *  per-class sigmoid scores (see src/shared/outputs.ts). */
  outputKind: OutputKind;
  /** How the image input is laid out and typed; absent means NCHW, 3 channels, float32. */
  format?: InputFormat;
  preprocessing: Preprocessing;
  /** Class names in index order. */
  labels: string[];
  /** What was assumed because the model leaves it open (symbolic input height and width); absent if nothing. */
  assumed?: string;
  /** 'int8' for a quantized (QDQ or integer-op) model file; absent for float models. */
  precision?: Precision;
  /** What a model that does not classify does (detect, segment, pose) and where its outputs are; absent for
   *  classifiers. */
  task?: Task;
  /** Why CNN Lens cannot read this model's outputs (they match no task it knows): the model opens for its
   *  layer table and profile only, and everything that runs it for an answer says this. */
  unread?: string;
}

/** The input format a descriptor's model takes. */
export function formatOf(d: ModelDescriptor): InputFormat {
  return d.format ?? NCHW_RGB;
}

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
  // Pixel values as they are: models that normalise inside the graph (Keras EfficientNet's Rescaling and
  // Normalization layers) and models that take uint8 images.
  raw255: { resize: 256, crop: 224, channelOrder: 'RGB', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] },
};

/** The crop used when the model's input size is symbolic and no descriptor sets one. */
const DEFAULT_CROP = 224;

/** On-disk form of a descriptor (`models/resnet50.json`, `<model>.json`): paths relative to the file. */
export interface DescriptorFile {
  name: string;
  model: string;
  sha256?: string;
  input?: string;
  output?: string;
  outputKind?: OutputKind;
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

/**
 * The preprocessing a model gets, and what was assumed about its input: explicit values from its descriptor
 * `raw` (at `sidecar`) must fit a fixed input size; a preset (the descriptor's, else `preset`) takes the
 * model's size, with the resize keeping ImageNet's 0.875 crop ratio.
 */
export function preprocessingFor(
  input: ImageInput,
  raw: DescriptorFile | undefined,
  sidecar: string,
  preset: PresetName,
): { preprocessing: Preprocessing; assumed?: string } {
  const fixed = fixedSize(input);
  const named = typeof raw?.preprocessing === 'object' ? undefined : (raw?.preprocessing ?? preset);
  if (named === undefined) {
    const preprocessing = checkPreprocessing(raw?.preprocessing, sidecar);
    if (fixed !== null && preprocessing.crop !== fixed) {
      throw new ModelFileError(
        `${sidecar} sets crop ${preprocessing.crop}, but the model's input "${input.name}" is ` +
          `${fixed}×${fixed}: set crop to ${fixed}`,
      );
    }
    if (fixed !== null) return { preprocessing };
    const assumed =
      `the model's input height and width are symbolic; using the crop ` +
      `${preprocessing.crop}×${preprocessing.crop} of ${path.basename(sidecar)}`;
    return { preprocessing, assumed };
  }
  const crop = fixed ?? DEFAULT_CROP;
  const base = checkPreprocessing(named, raw ? sidecar : 'the preprocessing setting');
  const preprocessing = { ...base, crop, resize: resizeFor(crop) };
  if (fixed !== null) return { preprocessing };
  const assumed =
    `the model's input height and width are symbolic; assumed ${crop}×${crop} ` +
    `(a crop in ${path.basename(sidecar)} changes it)`;
  return { preprocessing, assumed };
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
export function isQuantized(graph: OnnxGraph): boolean {
  return graph.nodes.some((n) => QUANTIZED_OPS.has(n.op));
}

/** ImageNet's evaluation crop covers 87.5 % of the resized shorter side (224 of 256; Inception's 299 of 342). */
export function resizeFor(crop: number): number {
  return Math.round(crop / 0.875);
}

/** JSON text → descriptor, checking the fields every descriptor has. */
export function parseDescriptor(text: string): DescriptorFile {
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
export function checkPreprocessing(p: unknown, where: string): Preprocessing {
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

/** Whether a value is an array of strings (class names). */
export function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((l) => typeof l === 'string');
}
