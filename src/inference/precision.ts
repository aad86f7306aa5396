// Which model file a session runs: the precision asked for, unless the execution provider is a GPU one.
import type { ModelDescriptor } from '../model/descriptor';
import { quantizedDescriptor } from '../files/modelPaths';
import type { Precision } from '../shared/quantization';
import type { WorkerConfig } from './messages';

// GPU providers do not fuse QDQ pairs into integer kernels: a QDQ graph runs slower than the float one there.
const GPU_PROVIDERS = new Set(['webgpu', 'dml', 'coreml', 'cuda']);

/** The model a session runs with one provider, and at what precision. */
export interface ModelChoice {
  descriptor: ModelDescriptor;
  precision: Precision;
  /** Why the precision differs from the one asked for; absent when it does not. */
  reason?: string;
}

/** The model for `provider` under the config's precision (fp32 when unset). */
export async function modelFor(cfg: WorkerConfig, provider: string): Promise<ModelChoice> {
  const d = cfg.descriptor;
  // A model file that is int8 already runs as it is, whatever was asked.
  if (d.precision === 'int8') return { descriptor: d, precision: 'int8' };
  if ((cfg.precision ?? 'fp32') === 'fp32') return { descriptor: d, precision: 'fp32' };
  if (GPU_PROVIDERS.has(provider)) {
    const reason = `int8 was asked for, but ${provider} runs quantized (QDQ) graphs slower than float ones: using the fp32 model`;
    return { descriptor: d, precision: 'fp32', reason };
  }
  return { descriptor: await quantizedDescriptor(d), precision: 'int8' };
}
