// Picks the model descriptor for a configured model path (empty: the built ResNet50).
import * as path from 'node:path';
import {
  defaultDescriptorPath,
  descriptorForModel,
  loadDescriptor,
  type ModelDescriptor,
  type PresetName,
} from './descriptor';

/**
 * Where the bundles live decides where the built model is: `<bundleDir>/../models/`. Another model gets
 * `descriptorForModel` with `preset` and the built model's ImageNet labels.
 */
export async function resolveDescriptor(
  bundleDir: string,
  modelPath: string,
  preset: PresetName,
): Promise<ModelDescriptor> {
  const builtIn = await loadDescriptor(defaultDescriptorPath(bundleDir));
  if (!modelPath) return builtIn;
  return descriptorForModel(path.resolve(modelPath), preset, builtIn.labels);
}
