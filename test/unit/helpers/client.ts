// The configuration the tests run the real worker with: the built model on CPU.
import type { WorkerConfig } from '../../../src/inference/messages';
import { resolveDescriptor } from '../../../src/files/modelPaths';
import type { ModelDescriptor } from '../../../src/model/descriptor';
import { DIST } from './paths';

/** The built ResNet50 on the CPU provider, batches of 8, the default pixel limit. */
export async function cpuConfig(): Promise<WorkerConfig> {
  return configFor(await resolveDescriptor(DIST, '', 'caffe'));
}

/** Any model's descriptor on the CPU provider, batches of 8, the default pixel limit. */
export function configFor(descriptor: ModelDescriptor): WorkerConfig {
  return { descriptor, provider: 'cpu', threads: 0, batchSize: 8, maxPixels: 100_000_000 };
}
