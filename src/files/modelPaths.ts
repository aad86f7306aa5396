// Which model files a configured model path means: its descriptor (empty path: the built ResNet50), and the
// int8 model that belongs to a float one.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { defaultDescriptorPath, type ModelDescriptor } from '../model/descriptor';
import { ModelFileError } from '../model/onnxGraph';
import type { PresetName } from '../shared/preprocessing';
import type { Precision } from '../shared/quantization';
import { descriptorForModel, loadDescriptor } from './descriptorFile';

/**
 * Where the bundles live decides where the built model is: `<bundleDir>/../models/`. Another model gets
 * `descriptorForModel` with `preset` and the built model's ImageNet labels. The descriptor is always the
 * chosen model's (its layer table, preprocessing and labels); with precision 'int8' its int8 model must
 * exist too (see quantizedDescriptor), which is checked here so that a missing one fails before any worker
 * starts. The worker picks the file per execution provider.
 */
export async function resolveDescriptor(
  bundleDir: string,
  modelPath: string,
  preset: PresetName,
  precision: Precision = 'fp32',
): Promise<ModelDescriptor> {
  const builtIn = await loadDescriptor(defaultDescriptorPath(bundleDir));
  const d = modelPath ? await descriptorForModel(path.resolve(modelPath), preset, builtIn.labels) : builtIn;
  if (precision === 'int8') await quantizedDescriptor(d);
  return d;
}

/** `<model>.int8.onnx` beside `<model>.onnx`: where the int8 model of a float model is (and is written). */
export function int8PathFor(modelFile: string): string {
  return path.resolve(modelFile).replace(/\.onnx$/i, '') + '.int8.onnx';
}

/**
 * The int8 model of a float model: `<model>.int8.json` when there is one (the built ResNet50's, with its
 * sha256), else `<model>.int8.onnx` with the float model's preprocessing and labels, so that editing the
 * float model's `<model>.json` applies to both. A model that is int8 already is its own.
 */
export async function quantizedDescriptor(float: ModelDescriptor): Promise<ModelDescriptor> {
  if (float.precision === 'int8') return float;
  const file = int8PathFor(float.modelPath);
  const json = file.replace(/\.onnx$/, '.json');
  if (await exists(json)) return { ...(await loadDescriptor(json)), precision: 'int8' };
  if (!(await exists(file))) {
    throw new ModelFileError(
      `there is no int8 model for ${float.modelPath} (looked for ${path.basename(file)} beside it): ` +
        `make one with "Quantize with images from this folder" in the CNN Lens panel, or ` +
        `"node dist/cli.js quantize --images <folder> --model ${float.modelPath}"; or set the precision to fp32`,
    );
  }
  // The float model's recorded sha256 is not this file's.
  return { ...float, name: `${float.name} (int8)`, modelPath: file, sha256: undefined, precision: 'int8' };
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
