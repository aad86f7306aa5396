// Models the panel can run: loading one into a fresh inference client (checked before it replaces the
// current one), describing it for the webview, and timing several side by side.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Settings } from './config';
import { InferenceClient } from '../inference/client';
import type { WorkerConfig } from '../inference/messages';
import { descriptorPathFor, formatOf, PREPROCESSING_PRESETS, resizeFor } from '../model/descriptor';
import { int8PathFor, resolveDescriptor } from '../files/modelPaths';
import type { LayerTable } from '../shared/layerTable';
import type { Precision } from '../shared/quantization';
import { PRESET_NAMES, type PresetName, type Preprocessing } from '../shared/preprocessing';
import { type ArchitectureComparison, type ModelComparison, type ModelView } from '../shared/protocol';
import { stageOutputStrides } from '../shared/stageAlignment';

/** Where the extension's bundles and built model are. */
export interface Paths {
  /** dist/, where worker.js is and beside which models/ holds the built-in model. */
  bundleDir: string;
}

/** The name the built-in model goes by in pickers. */
export const BUILT_IN_LABEL = vscode.l10n.t('ResNet50 (built-in)');

/** A model's path for display: workspace-relative inside the workspace, else absolute; '' is the built-in. */
export function displayPath(file: string): string {
  if (!file) return vscode.l10n.t('built-in');
  return vscode.workspace.asRelativePath(file, (vscode.workspace.workspaceFolders?.length ?? 0) > 1);
}

/**
 * Where a user model's int8 file would be when the precision setting asks for int8 and there is none (the
 * model then runs fp32, and the panel offers to make one); undefined when nothing is missing. The
 * built-in model's int8 file is part of the build, and a `.int8.onnx` file is int8 already.
 */
export async function missingInt8(settings: Settings, file: string): Promise<string | undefined> {
  if (settings.precision !== 'int8' || !file || /\.int8\.onnx$/i.test(file)) return undefined;
  const int8 = int8PathFor(file);
  const found = await Promise.any([int8, int8.replace(/\.onnx$/, '.json')].map((f) => fs.access(f))).then(
    () => true,
    () => false,
  );
  return found ? undefined : int8;
}

/**
 * The worker configuration for `file` ('' for the built-in model) under `settings`. A user model without
 * its int8 file runs fp32 (see missingInt8); the built-in model's missing int8 file is an error.
 */
export async function workerConfig(paths: Paths, settings: Settings, file: string): Promise<WorkerConfig> {
  const precision = (await missingInt8(settings, file)) ? 'fp32' : settings.precision;
  const descriptor = await resolveDescriptor(paths.bundleDir, file, settings.modelPreprocessing, precision);
  return {
    descriptor,
    provider: settings.executionProvider,
    threads: settings.threads,
    batchSize: settings.batchSize,
    maxPixels: settings.maxPixels,
    precision,
  };
}

/** A model loaded and checked in a client of its own: its worker runs and its session was created. */
export interface LoadedModel {
  /** Absolute path, '' for the built-in model. */
  file: string;
  client: InferenceClient;
  config: WorkerConfig;
  table: LayerTable;
  provider: string;
}

/** Thrown when the user cancelled loading. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/**
 * Loads `file` in a new client and checks everything the panel will need: the descriptor (the file is
 * ONNX, its input is an image, its labels fit), the layer table (graph and external data readable) and an
 * onnxruntime session with its warm-up run. Nothing of the current model is touched; on failure or
 * cancellation the new client is disposed.
 */
export async function loadModel(
  paths: Paths,
  settings: Settings,
  file: string,
  opts: {
    signal: AbortSignal;
    report: (message: string) => void;
    log: (message: string) => void;
    status: (message: string) => void;
  },
): Promise<LoadedModel> {
  opts.report(vscode.l10n.t('reading the model…'));
  const config = await workerConfig(paths, settings, file);
  if (opts.signal.aborted) throw new Cancelled();
  const client = new InferenceClient(path.join(paths.bundleDir, 'worker.js'), config, opts.log, opts.status);
  const stop = (): void => void client.dispose();
  opts.signal.addEventListener('abort', stop, { once: true });
  try {
    const table = await client.layers();
    opts.report(vscode.l10n.t('creating the inference session…'));
    const info = await client.runtimeInfo();
    return { file, client, config, table, provider: info.provider };
  } catch (err) {
    void client.dispose();
    throw opts.signal.aborted ? new Cancelled() : err;
  } finally {
    opts.signal.removeEventListener('abort', stop);
  }
}

/** The side of the square input a layer table's model fixes, or null when it is symbolic. */
function fixedSide(table: LayerTable | undefined): number | null {
  const shape = table?.model.input?.shape;
  if (!shape || shape.length !== 4) return null;
  return typeof shape[2] === 'number' ? shape[2] : typeof shape[3] === 'number' ? shape[3] : null;
}

/**
 * The webview's description of a model (the table, once read, adds family, depth and input); `setting` is
 * the precision setting, `precisionNote` says why the model runs at another precision, and `chosen` whether
 * the panel chose the model (rather than the setting).
 */
export async function modelView(
  file: string,
  config: WorkerConfig,
  table: LayerTable | undefined,
  setting: Precision,
  precisionNote: string | null,
  chosen: boolean,
): Promise<ModelView> {
  const d = config.descriptor;
  const fixedSize = fixedSide(table);
  const side = fixedSize ?? d.preprocessing.crop;
  const presets = Object.fromEntries(
    PRESET_NAMES.map((p) => [p, { ...PREPROCESSING_PRESETS[p], crop: side, resize: resizeFor(side) }]),
  ) as Record<PresetName, Preprocessing>;
  const sidecar = file ? descriptorPathFor(file) : undefined;
  const sidecarText = sidecar ? await fs.readFile(sidecar, 'utf8').catch(() => undefined) : undefined;
  return {
    id: file,
    name: d.name,
    file: displayPath(file),
    builtIn: file === '',
    family: table?.family ?? null,
    depth: table?.depth ?? null,
    input: table?.model.input ?? null,
    fixedSize,
    format: { ...formatOf(d) },
    outputKind: d.outputKind,
    assumed: d.assumed ?? table?.model.assumed ?? null,
    preprocessing: {
      resize: d.preprocessing.resize,
      crop: d.preprocessing.crop,
      channelOrder: d.preprocessing.channelOrder,
      scale: d.preprocessing.scale,
      mean: [...d.preprocessing.mean],
      std: [...d.preprocessing.std],
    },
    presets,
    labels: { count: d.labels.length, source: labelsSource(file, d.labels.length, sidecar, sidecarText) },
    descriptor: sidecar && sidecarText !== undefined ? displayPath(sidecar) : null,
    readOnly: file
      ? null
      : vscode.l10n.t(
          'The built-in ResNet50 is prepared as its Keras weights were trained ("caffe" mode); open another model to edit its preprocessing.',
        ),
    precision: { setting, model: config.precision ?? 'fp32', note: precisionNote },
    chosen,
  };
}

/** Where a model's class names come from, in words. */
function labelsSource(file: string, count: number, sidecar?: string, sidecarText?: string): string {
  if (!file) return vscode.l10n.t('ImageNet classes (bundled)');
  if (sidecar && sidecarText !== undefined) {
    try {
      const labels = (JSON.parse(sidecarText) as { labels?: unknown }).labels;
      if (typeof labels === 'string') return displayPath(path.resolve(path.dirname(sidecar), labels));
      if (Array.isArray(labels)) return vscode.l10n.t('listed in {0}', path.basename(sidecar));
    } catch {
      // An unreadable descriptor fails the load with its own message; nothing to add here.
    }
  }
  if (count === 1000) return vscode.l10n.t('ImageNet classes (bundled; no labels file given)');
  return count > 0
    ? vscode.l10n.t('"class 0" … "class {0}" (no labels file given)', count - 1)
    : vscode.l10n.t('none');
}

/** Batch sizes the comparison times, and runs per batch size. */
export const TIMED_BATCHES = [1, 8];
const TIMED_RUNS = 5;

/**
 * Reads each model's layer table, then times each one (batch 1 and 8) in a temporary client of its own,
 * one model at a time so that they do not compete for the CPU. `update` gets the comparison as it fills in.
 * Clients are disposed whatever happens; cancelling keeps what was measured.
 */
export async function compareArchitectures(
  paths: Paths,
  settings: Settings,
  files: string[],
  opts: {
    signal: AbortSignal;
    update: (comparison: ArchitectureComparison, busy: string | undefined) => void;
    log: (message: string) => void;
  },
): Promise<ArchitectureComparison> {
  // One column per file: its model as the comparison shows it, and the client that reads and times it.
  const columns: { file: string; model: ModelComparison; client?: InferenceClient }[] = files.map((file) => ({
    file,
    model: { name: file ? path.basename(file) : BUILT_IN_LABEL, file: displayPath(file) },
  }));
  const result: ArchitectureComparison = {
    models: columns.map((c) => c.model),
    provider: settings.executionProvider,
    precision: settings.precision,
    cancelled: false,
  };
  const workerPath = path.join(paths.bundleDir, 'worker.js');
  const cancelled = (): boolean => {
    result.cancelled ||= opts.signal.aborted;
    return result.cancelled;
  };
  try {
    for (const [i, column] of columns.entries()) {
      if (cancelled()) break;
      opts.update(result, vscode.l10n.t('Reading {0} ({1} of {2})…', column.model.file, i + 1, files.length));
      try {
        const config = await workerConfig(paths, settings, column.file);
        column.client = new InferenceClient(workerPath, config, opts.log);
        Object.assign(column.model, summarise(await column.client.layers()), {
          name: config.descriptor.name,
        });
      } catch (err) {
        column.model.error = (err as Error).message;
      }
    }
    for (const [i, column] of columns.entries()) {
      const { client, model } = column;
      if (!client || cancelled()) continue;
      opts.update(
        result,
        vscode.l10n.t('Timing {0} ({1} of {2}) on this machine…', model.file, i + 1, files.length),
      );
      try {
        model.timing = await client.timeModel({
          batches: TIMED_BATCHES,
          runs: TIMED_RUNS,
          signal: opts.signal,
        });
      } catch (err) {
        if (!cancelled()) model.timingError = (err as Error).message;
      }
      void client.dispose();
      column.client = undefined;
    }
  } finally {
    await Promise.all(columns.map((c) => c.client?.dispose()));
  }
  cancelled();
  opts.update(result, undefined);
  return result;
}

/** What the comparison shows of a layer table. */
function summarise(table: LayerTable): Omit<ModelComparison, 'name' | 'file'> {
  const strides = stageOutputStrides(table);
  return {
    family: table.family,
    depth: table.depth,
    params: table.totals.params,
    buffers: table.totals.buffers,
    macs: table.totals.macs,
    input: table.model.input?.shape ? table.model.input.shape.join('×') : undefined,
    stages: table.stages.map((s) => ({
      stage: s.stage,
      out_size: s.out_size,
      output_stride: strides.get(s.stage) ?? null,
      width: s.width,
      counted: s.counted,
      blocks: s.blocks,
      block_kind: s.block_kind,
      params: s.params,
      macs: s.macs,
    })),
  };
}
