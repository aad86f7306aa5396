// The configuration the tests run the real worker with: the built model on CPU.
import type { WorkerConfig } from '../../../src/inference/messages';
import { resolveDescriptor } from '../../../src/files/modelPaths';
import { DIST } from './paths';

/** The built ResNet50 on the CPU provider, batches of 8, the default pixel limit. */
export async function cpuConfig(): Promise<WorkerConfig> {
  const descriptor = await resolveDescriptor(DIST, '', 'caffe');
  return { descriptor, provider: 'cpu', threads: 0, batchSize: 8, maxPixels: 100_000_000 };
}
