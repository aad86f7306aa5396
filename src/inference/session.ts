// One onnxruntime InferenceSession: provider fallback, model checks and warm-up. Worker-side only.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { formatOf, type ModelDescriptor } from '../model/descriptor';
import { imageInput, notClassScores } from '../model/modelFile';
import { readModelGraph } from '../files/onnxFile';
import { ModelFileError } from '../model/onnxGraph';
import type { RuntimeInfo, WorkerConfig } from './messages';
import { modelFor } from './precision';
import { providerCandidates } from './providers';
import { sessionOptions } from './sessionOptions';
import { matchesSha256 } from './verified';
import { cpuLine, threadsFor } from './cpus';
import { floatData, imageTensor } from './feed';

type OrtModule = typeof Ort;

/** A failure to load or check the model: shown to the user with what to do about it. */
export class ModelError extends Error {}

/** A created session with what the classifier needs to feed it. */
export interface LoadedSession {
  ort: OrtModule;
  session: Ort.InferenceSession;
  /** The model it runs: the config's, or its int8 model (see ./precision). */
  descriptor: ModelDescriptor;
  input: string;
  output: string;
  classes: number;
  /** Most images one run takes: the input's fixed batch, or Infinity when the batch axis is symbolic. */
  maxBatch: number;
  info: RuntimeInfo;
}

/** What a session is created with besides the config. */
export interface SessionExtras {
  /**
   * The bytes to run for the model chosen (an exploration model, say) instead of its file; external data
   * files resolve beside the model's file.
   */
  model?: (d: ModelDescriptor) => Promise<Uint8Array>;
  options?: Ort.InferenceSession.SessionOptions;
  /** What the session is busy with, for progress displays. */
  status?: (m: string) => void;
}

// Facts that hold for every session (a provider's missing prerequisite, the precision a GPU runs) go to
// the log once per worker, not once per session.
const told = new Set<string>();

function logOnce(log: (m: string) => void, message: string): void {
  if (told.has(message)) return;
  told.add(message);
  log(message);
}

/**
 * Creates the session, trying the providers for the setting in order; logs each fallback once. The model
 * file follows the config's precision per provider (./precision).
 */
export async function createSession(
  cfg: WorkerConfig,
  log: (m: string) => void,
  extras: SessionExtras = {},
): Promise<LoadedSession> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as OrtModule;
  const attempts: RuntimeInfo['attempts'] = [];
  const candidates = providerCandidates(cfg.provider, {
    platform: process.platform,
    arch: process.arch,
    cudaInstalled: cudaInstalled(),
  });
  // Each model is checked, or its bytes made, once however many providers are tried.
  const prepared = new Map<string, Promise<Uint8Array | undefined>>();
  const prepare = (d: ModelDescriptor): Promise<Uint8Array | undefined> => {
    let p = prepared.get(d.modelPath);
    if (!p) {
      p = extras.model ? extras.model(d) : checkModelFile(d).then(() => undefined);
      prepared.set(d.modelPath, p);
    }
    return p;
  };
  const t0 = performance.now();
  for (const provider of candidates) {
    const missing = missingPrerequisite(provider);
    if (missing) {
      attempts.push({ provider, ok: false, reason: missing });
      logOnce(log, `execution provider ${provider} skipped: ${missing}`);
      continue;
    }
    // Outside the try below: a missing int8 model or a bad file is the model's fault, not the provider's.
    const choice = await modelFor(cfg, provider);
    const d = choice.descriptor;
    const model = await prepare(d);
    try {
      const options: Ort.InferenceSession.SessionOptions = {
        ...extras.options,
        ...(model && { extra: withExternalDataFolder(extras.options?.extra, d.modelPath) }),
        ...sessionOptions([provider], cfg.threads),
      };
      const session = model
        ? await ort.InferenceSession.create(model, options)
        : await ort.InferenceSession.create(d.modelPath, options);
      const create = performance.now() - t0;
      attempts.push({ provider, ok: true });
      const { input, output, classes, maxBatch } = checkSignature(session, d);
      const t1 = performance.now();
      if (provider !== 'cpu') {
        extras.status?.(`Preparing the GPU (${provider})…`);
        const diff = await warmUpAndCompare(
          ort,
          session,
          { input, output },
          { ...cfg, descriptor: d, batchSize: Math.min(cfg.batchSize, maxBatch) },
          options,
          model ?? d.modelPath,
        );
        if (diff > MAX_PROVIDER_DIFF) {
          await session.release();
          const reason = `its logits differ from the CPU's by ${diff.toExponential(1)} (over ${MAX_PROVIDER_DIFF})`;
          attempts[attempts.length - 1] = { provider, ok: false, reason };
          log(`execution provider ${provider} rejected: ${reason}; using the next one`);
          continue;
        }
      }
      if (choice.reason) logOnce(log, choice.reason);
      const info: RuntimeInfo = {
        onnxruntime: ort.env.versions.node ?? 'unknown',
        available: listBackends(ort),
        attempts,
        provider,
        precision: choice.precision,
        ...(choice.reason && { precisionReason: choice.reason }),
        threads: threadsFor(cfg.threads),
        cpu: cpuLine(),
        ms: { create, warmup: performance.now() - t1 },
        model: d.modelPath,
      };
      return { ort, session, descriptor: d, input, output, classes, maxBatch, info };
    } catch (err) {
      if (err instanceof ModelError) throw err;
      const reason = shortReason((err as Error).message);
      attempts.push({ provider, ok: false, reason });
      if (provider === 'cpu') throw new ModelError(`cannot load model ${d.modelPath}: ${reason}`);
      log(`execution provider ${provider} unavailable (${reason}); trying the next one`);
    }
  }
  throw new ModelError('no execution provider could be created'); // unreachable: cpu ends the list
}

/**
 * Missing, altered or unusable model files get a message that says what is wrong, not an onnxruntime
 * dump: the built model is checked against its sha256; any other model's graph is read (which also checks
 * its external data files) and must take one [N, 3, H, W] float image.
 */
export async function checkModelFile(d: ModelDescriptor): Promise<void> {
  const stat = await fs.promises.stat(d.modelPath).catch(() => undefined);
  if (!stat?.isFile()) {
    throw new ModelError(
      `model file ${d.modelPath} is missing: run "npm run build" in the extension folder, or fix cnnLens.modelPath`,
    );
  }
  if (d.sha256) {
    if (await matchesSha256(d.modelPath, d.sha256)) return;
    throw new ModelError(
      `model file ${d.modelPath} does not match the sha256 recorded when it was built ` +
        '(truncated or replaced): run "npm run build" to rebuild it',
    );
  }
  try {
    imageInput(await readModelGraph(d.modelPath), d.input);
  } catch (err) {
    throw err instanceof ModelFileError ? new ModelError(err.message) : err;
  }
}

/** The model must take one NCHW image tensor of the descriptor's crop size and give class scores. */
function checkSignature(
  s: Ort.InferenceSession,
  d: ModelDescriptor,
): { input: string; output: string; classes: number; maxBatch: number } {
  if (d.input === undefined && s.inputNames.length > 1) {
    throw new ModelError(
      `the model has ${s.inputNames.length} inputs (${s.inputNames.join(', ')}); CNN Lens feeds one image tensor`,
    );
  }
  const inIndex = d.input === undefined ? 0 : s.inputNames.indexOf(d.input);
  const outIndex = d.output === undefined ? 0 : s.outputNames.indexOf(d.output);
  const input = s.inputNames[inIndex];
  const output = s.outputNames[outIndex];
  const inMeta = s.inputMetadata[inIndex];
  const outMeta = s.outputMetadata[outIndex];
  if (input === undefined || inMeta === undefined)
    throw new ModelError(`model has no input "${d.input ?? ''}" (has ${s.inputNames.join(', ')})`);
  if (output === undefined || outMeta === undefined) {
    throw new ModelError(`model has no output "${d.output ?? ''}" (has ${s.outputNames.join(', ')})`);
  }
  const { crop } = d.preprocessing;
  const { layout, channels } = formatOf(d);
  const want = layout === 'NCHW' ? [channels, crop, crop] : [crop, crop, channels];
  let maxBatch = Infinity;
  if (inMeta.isTensor) {
    const unbatched = formatOf(d).unbatched === true;
    const dims = unbatched ? inMeta.shape : inMeta.shape.slice(1);
    const rank = unbatched ? 3 : 4;
    const fits = inMeta.shape.length === rank && dims.every((v, i) => typeof v !== 'number' || v === want[i]);
    if (!fits) {
      throw new ModelError(
        `model input "${input}" has shape [${inMeta.shape.join(', ')}]; expected [N, ${want.join(', ')}]`,
      );
    }
    if (unbatched) maxBatch = 1;
    else if (typeof inMeta.shape[0] === 'number') maxBatch = inMeta.shape[0];
  }
  let classes = d.labels.length;
  // Outputs CNN Lens cannot read: the session serves the layer table's measurements and the profile only.
  if (d.unread !== undefined) return { input, output, classes: 0, maxBatch };
  // A detector's or segmenter's outputs were read when its descriptor was made: they must be there.
  if (d.task) {
    const missing = d.task.outputs.find((o) => !s.outputNames.includes(o));
    if (missing !== undefined) {
      throw new ModelError(`model has no output "${missing}" (has ${s.outputNames.join(', ')})`);
    }
    return { input, output: d.task.outputs[0]!, classes: d.task.classes, maxBatch };
  }
  if (outMeta.isTensor && outMeta.shape.length > 0) {
    const shape = outMeta.shape;
    const scores = shape.length === 2 || (shape.length === 4 && shape[2] === 1 && shape[3] === 1);
    if (!scores) {
      const outputs = s.outputNames.map((name, i) => {
        const meta = s.outputMetadata[i];
        return meta?.isTensor ? `"${name}" [${meta.shape.join(', ')}]` : `"${name}"`;
      });
      throw new ModelError(notClassScores(output, shape, outputs.join(', ')));
    }
    if (typeof shape[1] === 'number') classes = shape[1];
  }
  return { input, output, classes, maxBatch };
}

/** onnxruntime resolves a model's external data relative to the model file, which bytes do not have. */
function withExternalDataFolder(
  extra: Ort.InferenceSession.SessionOptions['extra'],
  modelPath: string,
): Ort.InferenceSession.SessionOptions['extra'] {
  const e = (extra ?? {}) as { session?: Record<string, unknown> };
  return {
    ...e,
    session: { ...e.session, model_external_initializers_file_folder_path: path.dirname(modelPath) },
  };
}

/** A GPU answer that is fast but wrong is worse than a slow right one: beyond this, use the next provider. */
const MAX_PROVIDER_DIFF = 1e-3;

/**
 * Runs the new session at the batch sizes we use, so that a GPU provider compiles its kernels before
 * the first image, and returns the largest logit difference from a CPU session on a fixed input.
 */
async function warmUpAndCompare(
  ort: OrtModule,
  s: Ort.InferenceSession,
  io: { input: string; output: string },
  cfg: WorkerConfig,
  options: Ort.InferenceSession.SessionOptions,
  model: string | Uint8Array,
): Promise<number> {
  const crop = cfg.descriptor.preprocessing.crop;
  const size = 3 * crop * crop;
  // A fixed, smooth input in the range normalised images have; no randomness, so runs are comparable.
  const probe = Float32Array.from(
    { length: size },
    (_, i) => Math.sin(i * 0.0137) * 1.5 + Math.cos(i * 0.0021),
  );
  const run = async (
    session: Ort.InferenceSession,
    batch: number,
    data: Float32Array,
  ): Promise<Float32Array> => {
    const out = await session.run({ [io.input]: imageTensor(ort, cfg.descriptor, data, batch) });
    const scores = out[io.output];
    if (!scores) throw new ModelError(`the model gave no output "${io.output}"`);
    return floatData(scores);
  };
  const gpu = await run(s, 1, probe);
  if (cfg.batchSize > 1) await run(s, cfg.batchSize, new Float32Array(size * cfg.batchSize));
  const cpuSession =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model, { ...options, executionProviders: ['cpu'] })
      : await ort.InferenceSession.create(model, { ...options, executionProviders: ['cpu'] });
  try {
    const cpu = await run(cpuSession, 1, probe);
    // Outputs of different lengths compare as NaN: as far apart as can be.
    const max = cpu.reduce((m, v, i) => Math.max(m, Math.abs(v - (gpu[i] ?? NaN))), 0);
    return Number.isNaN(max) ? Infinity : max;
  } finally {
    await cpuSession.release();
  }
}

function listBackends(ort: OrtModule): { name: string; bundled: boolean }[] {
  const list = (ort as unknown as { listSupportedBackends?: () => { name: string; bundled: boolean }[] })
    .listSupportedBackends;
  return list ? list() : [{ name: 'cpu', bundled: true }];
}

/** onnxruntime's messages start with a source location; keep the sentence that explains. */
function shortReason(message: string): string {
  const line = message.split('\n')[0] ?? message;
  return /(?:was false\.|\]) (.+)$/.exec(line)?.[1] ?? line;
}

/** WebGPU on Linux runs on Vulkan; without its loader Dawn only prints a warning and fails. */
function missingPrerequisite(provider: string): string | undefined {
  if (provider !== 'webgpu' || process.platform !== 'linux') return undefined;
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/lib/x86_64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
  ];
  return dirs.some((d) => fs.existsSync(path.join(d, 'libvulkan.so.1')))
    ? undefined
    : 'no Vulkan loader (libvulkan.so.1) found';
}

/** Whether onnxruntime-node's install script fetched the CUDA provider library next to its binding. */
function cudaInstalled(): boolean {
  try {
    const dir = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const bin = path.join(dir, 'bin', 'napi-v6', process.platform, process.arch);
    return fs.readdirSync(bin).some((f) => f.includes('providers_cuda'));
  } catch {
    return false;
  }
}
