// The inference client as the CLI's commands configure it from their flags.
import * as path from 'node:path';
import { InferenceClient } from '../inference/client';
import type { WorkerConfig } from '../inference/messages';
import { PROVIDER_SETTINGS, type ProviderSetting } from '../inference/providers';
import { resolveDescriptor } from '../model/loadModel';
import { intFlag, UsageError, type Args } from './args';
import type { Io } from './io';

/** Valued flags every inference command accepts. */
export const RUNTIME_FLAGS = ['provider', 'threads', 'max-pixels', 'model', 'preprocessing'] as const;

/** A client for the model and runtime the flags choose; its log lines go to stderr. */
export async function clientFromArgs(
  args: Args,
  io: Io,
  bundleDir: string,
  rest: Pick<WorkerConfig, 'batchSize'> & Partial<WorkerConfig>,
): Promise<InferenceClient> {
  const provider = (args.flags.get('provider') ?? 'auto') as ProviderSetting;
  if (!PROVIDER_SETTINGS.includes(provider)) {
    throw new UsageError(`--provider must be one of ${PROVIDER_SETTINGS.join(', ')}`);
  }
  // Only used for a --model without a descriptor beside it; torchvision exports are the common case.
  const preset = args.flags.get('preprocessing') ?? 'torchvision';
  if (preset !== 'caffe' && preset !== 'torchvision') {
    throw new UsageError('--preprocessing must be caffe or torchvision');
  }
  const model = args.flags.get('model');
  if (model === true) throw new UsageError('--model needs a file');
  const descriptor = await resolveDescriptor(bundleDir, model ?? '', preset);
  return new InferenceClient(
    path.join(bundleDir, 'worker.js'),
    {
      descriptor,
      provider,
      threads: intFlag(args, 'threads', 0, 0, 256),
      maxPixels: intFlag(args, 'max-pixels', 100_000_000, 1, Number.MAX_SAFE_INTEGER),
      ...rest,
    },
    (m) => io.stderr(`cnn-lens: ${m}\n`),
  );
}
