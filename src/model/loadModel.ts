// Picks the model descriptor for a configured model path (empty: the built ResNet50).
import * as path from 'node:path';
import {
  defaultDescriptorPath,
  descriptorForUserModel,
  loadDescriptor,
  type ModelDescriptor,
} from './descriptor';

/** Where the bundles live decides where the built model is: `<bundleDir>/../models/`. */
export async function resolveDescriptor(
  bundleDir: string,
  modelPath: string,
  preset: 'caffe' | 'torchvision',
): Promise<ModelDescriptor> {
  const builtIn = await loadDescriptor(defaultDescriptorPath(bundleDir));
  if (!modelPath) return builtIn;
  return descriptorForUserModel(path.resolve(modelPath), preset, builtIn.labels);
}
