// The model descriptor: everything about a model that is not in its ONNX graph. Preprocessing is a
// property of the model (Keras/caffe weights want BGR minus means; torchvision wants RGB /255 mean/std).
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';

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

/** On-disk form of a descriptor (`models/resnet50.json`): paths relative to the file. */
export interface DescriptorFile {
  name: string;
  model: string;
  sha256?: string;
  input?: string;
  output?: string;
  outputKind?: 'logits' | 'probabilities';
  preprocessing: Preprocessing | 'caffe' | 'torchvision';
  labels: string;
  /** Build bookkeeping (inputs' fingerprint); ignored when loading. */
  buildKey?: string;
}

/** Folder of the built default model, relative to the extension/CLI bundle folder (dist/). */
export function defaultDescriptorPath(bundleDir: string): string {
  return path.join(bundleDir, '..', 'models', 'resnet50.json');
}

/** Reads a descriptor file and resolves its relative paths and presets. */
export async function loadDescriptor(file: string): Promise<ModelDescriptor> {
  let raw: DescriptorFile;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8')) as DescriptorFile;
  } catch (err) {
    throw new Error(`Cannot read model descriptor ${file}: ${(err as Error).message}. Run "npm run build".`);
  }
  const dir = path.dirname(file);
  const labels = await loadLabels(path.resolve(dir, raw.labels));
  return {
    name: raw.name,
    modelPath: path.resolve(dir, raw.model),
    sha256: raw.sha256,
    input: raw.input,
    output: raw.output,
    outputKind: raw.outputKind ?? 'logits',
    preprocessing: resolvePreset(raw.preprocessing),
    labels,
  };
}

/**
 * A descriptor for a user-chosen ONNX file: `<file>.json` beside it if present (same format as ours),
 * else the given preprocessing preset with the ImageNet labels of the default model.
 */
export async function descriptorForUserModel(
  modelFile: string,
  preset: 'caffe' | 'torchvision',
  defaultLabels: string[],
): Promise<ModelDescriptor> {
  const sidecar = modelFile.replace(/\.onnx$/i, '') + '.json';
  if (await exists(sidecar)) {
    const d = await loadDescriptor(sidecar);
    return { ...d, modelPath: path.resolve(modelFile) };
  }
  return {
    name: path.basename(modelFile),
    modelPath: path.resolve(modelFile),
    outputKind: 'logits',
    preprocessing: resolvePreset(preset),
    labels: defaultLabels,
  };
}

function resolvePreset(p: DescriptorFile['preprocessing']): Preprocessing {
  if (p === 'caffe') return CAFFE_PREPROCESSING;
  if (p === 'torchvision') return TORCHVISION_PREPROCESSING;
  return p;
}

/** Reads a labels file: a JSON array of names in index order. */
export async function loadLabels(file: string): Promise<string[]> {
  const labels = JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) {
    throw new Error(`Labels file ${file} is not a JSON array of strings`);
  }
  return labels as string[];
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

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
