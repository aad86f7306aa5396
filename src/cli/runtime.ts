// The inference client as the CLI's commands configure it from their flags.
import * as path from 'node:path';
import { InferenceClient } from '../inference/client';
import type { WorkerConfig } from '../inference/messages';
import { PROVIDER_SETTINGS, type ProviderSetting } from '../inference/providers';
import { PRESET_NAMES, type PresetName } from '../shared/preprocessing';
import { resolveDescriptor } from '../files/modelPaths';
import { PRECISIONS, type Precision } from '../shared/quantization';
import { intFlag, UsageError, type Args } from './args';
import type { Io } from './io';

/** Valued flags every inference command accepts. */
export const RUNTIME_FLAGS = [
  'provider',
  'threads',
  'max-pixels',
  'model',
  'preprocessing',
  'precision',
] as const;

/** The runtime settings the flags choose (everything but the model and the batch size). */
export function runtimeSettings(
  args: Args,
): Pick<WorkerConfig, 'provider' | 'threads' | 'maxPixels'> & { precision: Precision } {
  const provider = (args.flags.get('provider') ?? 'auto') as ProviderSetting;
  if (!PROVIDER_SETTINGS.includes(provider)) {
    throw new UsageError(`--provider must be one of ${PROVIDER_SETTINGS.join(', ')}`);
  }
  const precision = (args.flags.get('precision') ?? 'fp32') as Precision;
  if (!PRECISIONS.includes(precision))
    throw new UsageError(`--precision must be one of ${PRECISIONS.join(', ')}`);
  return {
    provider,
    precision,
    threads: intFlag(args, 'threads', 0, 0, 256),
    maxPixels: intFlag(args, 'max-pixels', 100_000_000, 1, Number.MAX_SAFE_INTEGER),
  };
}

/** The preprocessing preset for a model without a descriptor beside it (torchvision exports are the common case). */
export function presetFlag(args: Args): PresetName {
  const preset = args.flags.get('preprocessing') ?? 'torchvision';
  if (!PRESET_NAMES.includes(preset as PresetName)) {
    throw new UsageError(`--preprocessing must be one of ${PRESET_NAMES.join(', ')}`);
  }
  return preset as PresetName;
}

/** A client on the worker bundle beside the CLI; its log lines go to stderr as information (not --quiet). */
export function newClient(bundleDir: string, config: WorkerConfig, io: Io): InferenceClient {
  return new InferenceClient(path.join(bundleDir, 'worker.js'), config, (m) => io.info(`cnn-lens: ${m}\n`));
}

/** A client for the model and runtime the flags choose. */
export async function clientFromArgs(
  args: Args,
  io: Io,
  bundleDir: string,
  rest: Pick<WorkerConfig, 'batchSize'> & Partial<WorkerConfig>,
): Promise<InferenceClient> {
  const settings = runtimeSettings(args);
  const preset = presetFlag(args);
  const model = args.flags.get('model');
  if (model === true) throw new UsageError('--model needs a file');
  const descriptor = await resolveDescriptor(bundleDir, model ?? '', preset, settings.precision);
  return newClient(bundleDir, { descriptor, ...settings, ...rest }, io);
}
