// Exploration, worker side: a second InferenceSession over the model with every layer row's output exposed,
// created on the first explore request. Only summaries leave the worker; the last explored image's
// activations (~44 MB for ResNet50) stay here so that feature maps can be served without a rerun.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readExternalData } from '../files/onnxFile';
import { classActivationMap, eigenCam, normaliseMap } from '../model/cam';
import type { ModelDescriptor } from '../model/descriptor';
import { buildExplorationModel, type ExplorationModel, type MapSource } from '../model/explorationModel';
import {
  EIGENCAM_LABEL,
  type ClassActivationMaps,
  type ClassMap,
  type Exploration,
  type FeatureMaps,
  type LayerActivation,
} from '../shared/exploration';
import type { LayerRow, LayerTable } from '../shared/layerTable';
import type { LayerMap, TaskMaps } from '../shared/tasks';
import type { Precision } from '../shared/quantization';
import { channelMeans, channelStats, gatherPlanes, rankChannels, tensorStats } from './activationStats';
import { IdleRelease, Serial } from './idleRelease';
import type { ExplainImage, WorkerConfig } from './messages';
import type { ModelAnalysis } from './modelAnalysis';
import { topK, toScores, type Prediction } from './postprocess';
import { ImageError, prepareImage, prepareWhole } from './preprocess';
import { imageRegion, type Frame } from './taskDecode';
import { checkModelFile, createSession, type LoadedSession } from './session';
import { floatData, imageTensor } from './feed';

/** Classes that get a class activation map. */
export const CAM_CLASSES = 5;

// Explored images' bytes kept so that feature maps of a recent image can be recomputed on request.
const RECENT_IMAGES = 8;
const RECENT_BYTES = 32 * 1024 * 1024;

/** The exploration session and what reading its outputs takes. */
export interface Loaded {
  session: LoadedSession;
  model: Omit<ExplorationModel, 'bytes'>;
  /** Identifies the model and preprocessing in image keys. */
  modelId: string;
}

/** One output tensor of the last explored image. */
export interface Activation {
  dims: number[];
  data: Float32Array;
}

/** Everything one run of the exploration model produced for one image. */
export interface Activations {
  key: string;
  /** The preprocessed image the model ran on (NCHW, batch 1). */
  image: Float32Array;
  tensors: Map<string, Activation>;
  probabilities: ArrayLike<number>;
  provider: string;
  precision: Precision;
  runMs: number;
}

/** Every layer row's output for one image, by row name, as the model computed it. */
export interface RowOutputs {
  rows: Map<string, Float32Array>;
  probabilities: ArrayLike<number>;
  provider: string;
  precision: Precision;
  runMs: number;
}

/** Serves explore and feature-map requests one at a time; owns the exploration session. */
export class Explorer {
  private loaded: Promise<Loaded> | undefined;
  private last: Activations | undefined;
  private readonly recent = new Map<string, Uint8Array>();
  private readonly serial = new Serial();
  private readonly idle: IdleRelease;

  constructor(
    private readonly cfg: WorkerConfig,
    private readonly log: (m: string) => void,
    /** A model's layer table (the float model's is the worker's `layers` answer) and graph. */
    private readonly analysis: (d: ModelDescriptor) => Promise<ModelAnalysis>,
  ) {
    this.idle = new IdleRelease(cfg.exploreIdleMs, () => {
      if (!this.loaded) return;
      this.log('exploration session released after being idle');
      void this.release();
    });
  }

  /** Runs the exploration model on one image and summarises every layer row's output. */
  explore(bytes: Uint8Array, k: number, preview: boolean): Promise<Exploration> {
    return this.serialise(async () => {
      const started = performance.now();
      const imageSha = sha256(bytes);
      const p = this.cfg.descriptor.preprocessing;
      let decodeMs = 0;
      // The first request loads the model while the image decodes.
      const [prepared, loaded] = await Promise.all([
        prepareImage(bytes, p, this.cfg.maxPixels, preview).finally(() => {
          decodeMs = performance.now() - started;
        }),
        this.load(),
      ]);
      const key = imageKey(imageSha, loaded.modelId);
      const acts = await this.run(loaded, key, prepared.tensor);
      this.remember(key, bytes);
      const t = performance.now();
      const labels = this.cfg.descriptor.labels;
      const layers = loaded.model.rows.map((r) =>
        summarise(r.row, acts.tensors.get(r.tensor)!, r.channelsLast),
      );
      const maps = loaded.model.maps;
      const result: Exploration = {
        key,
        top: topK(acts.probabilities, k, labels),
        layers,
        cam: maps && mapsOver(maps, acts, p.crop, topK(acts.probabilities, CAM_CLASSES, labels)),
        cam_reason: loaded.model.camReason,
        provider: acts.provider,
        precision: acts.precision,
        width: prepared.width,
        height: prepared.height,
        preview: prepared.preview,
        ms: { decode: decodeMs, run: acts.runMs, stats: performance.now() - t, total: 0 },
      };
      result.ms.total = performance.now() - started;
      return result;
    });
  }

  /** Runs the exploration model on one image and returns the row outputs themselves (for comparisons). */
  rowOutputs(bytes: Uint8Array): Promise<RowOutputs> {
    return this.serialise(async () => {
      const [prepared, loaded] = await Promise.all([
        prepareImage(bytes, this.cfg.descriptor.preprocessing, this.cfg.maxPixels),
        this.load(),
      ]);
      const key = imageKey(sha256(bytes), loaded.modelId);
      const acts = await this.run(loaded, key, prepared.tensor);
      this.remember(key, bytes);
      const rows = new Map(loaded.model.rows.map((r) => [r.row, acts.tensors.get(r.tensor)!.data]));
      const { probabilities, provider, precision, runMs } = acts;
      return { rows, probabilities, provider, precision, runMs };
    });
  }

  /**
   * A detector's or segmenter's EigenCAM maps for one image, at the backbone's output and each neck level's:
   * the whole image letterboxed (or stretched) as the task model takes it, the maps cropped back to it.
   */
  taskMaps(bytes: Uint8Array): Promise<TaskMaps> {
    return this.serialise(async () => {
      const run = await this.taskRun(bytes);
      const maps = partOutputs(run.table).flatMap((row): LayerMap[] => {
        const a = run.activation(row.name);
        const [, channels, height, width] = a?.dims ?? [];
        if (!a || !channels || !height || !width || a.dims.length !== 4) return [];
        return [layerMap(row, eigenCam(a.data, channels, height * width), width, height, run.frame)];
      });
      return { method: 'EigenCAM', maps };
    });
  }

  /**
   * Runs a detector or segmenter with every layer exposed on one whole image (letterboxed or stretched as it
   * takes it) and hands `use` its layer table, where the image lies in the input, and each row's output.
   */
  withTaskRun<T>(bytes: Uint8Array, use: (run: TaskRun) => Promise<T>): Promise<T> {
    return this.serialise(async () => use(await this.taskRun(bytes)));
  }

  private async taskRun(bytes: Uint8Array): Promise<TaskRun> {
    const d = this.cfg.descriptor;
    const task = d.task;
    if (!task) throw new ImageError(`${d.name} is a classifier: its class activation maps come from explore`);
    const [prepared, loaded] = await Promise.all([
      prepareWhole(bytes, d.preprocessing, task.fit, task.pad, this.cfg.maxPixels),
      this.load(),
    ]);
    const { table } = await this.analysis(loaded.session.descriptor);
    const acts = await this.run(loaded, imageKey(sha256(bytes), loaded.modelId), prepared.tensor);
    const tensors = new Map(loaded.model.rows.map((r) => [r.row, acts.tensors.get(r.tensor)]));
    return {
      table,
      frame: prepared.frame,
      provider: acts.provider,
      descriptor: loaded.session.descriptor,
      activation: (row) => tensors.get(row),
    };
  }

  /** `count` channels of `layer` from rank `offset` on, strongest mean first, for the image named `key`. */
  featureMaps(
    key: string,
    layer: string,
    count: number,
    offset: number,
    bytes?: Uint8Array,
  ): Promise<FeatureMaps> {
    return this.serialise(async () => {
      const loaded = await this.load();
      const row = loaded.model.rows.find((r) => r.row === layer);
      if (!row) throw new Error(`the model has no layer "${layer}"`);
      const acts = await this.activationsFor(key, bytes);
      const { dims, data } = acts.tensors.get(row.tensor)!;
      const channels = dims[1] ?? 1;
      const height = dims[2] ?? 1;
      const plane = data.length / channels;
      const first = Math.min(Math.max(0, Math.floor(offset)), channels);
      const picked = rankChannels(channelStats(data, channels, plane)).slice(
        first,
        first + Math.max(0, Math.floor(count)),
      );
      return {
        key,
        layer,
        out_shape: dims,
        channels,
        height,
        width: plane / height,
        offset: first,
        maps: picked,
        data: gatherPlanes(data, picked, plane),
      };
    });
  }

  /**
   * The activations of one image, named by its key (the worker must still hold it) or given by its bytes
   * (run only when they are not the last explored image's), and the session that made them.
   */
  activations(image: ExplainImage): Promise<{ loaded: Loaded; acts: Activations }> {
    return this.serialise(async () => {
      const loaded = await this.load();
      const acts =
        'key' in image
          ? await this.activationsFor(image.key)
          : await this.activationsFor(imageKey(sha256(image.bytes), loaded.modelId), image.bytes);
      return { loaded, acts };
    });
  }

  /** The exploration session (created if needed) and its layer table: what explanations are made from. */
  async model(): Promise<{ loaded: Loaded; table: LayerTable }> {
    const loaded = await this.load();
    return { loaded, table: (await this.analysis(loaded.session.descriptor)).table };
  }

  /** Lets go of the session and the activations (idle, or the worker is closing). */
  async release(): Promise<void> {
    this.idle.cancel();
    const loaded = this.loaded;
    this.loaded = undefined;
    this.last = undefined;
    this.recent.clear();
    const s = await loaded?.catch(() => undefined);
    await s?.session.session.release();
  }

  /** Runs requests one after another: a run blocks the thread anyway, and `last` must not change mid-request. */
  private serialise<T>(job: () => Promise<T>): Promise<T> {
    return this.idle.busy(() => this.serial.run(job));
  }

  /** The exploration session, created on first use; a failed creation is retried by the next request. */
  private load(): Promise<Loaded> {
    this.loaded ??= this.create().catch((err) => {
      this.loaded = undefined;
      throw err;
    });
    return this.loaded;
  }

  private async create(): Promise<Loaded> {
    let built: Omit<ExplorationModel, 'bytes'> | undefined;
    let modelSha = '';
    // The session picks the model file (float or int8) per provider; its exploration model is built here.
    const session = await createSession(this.cfg, this.log, {
      model: async (d) => {
        await checkModelFile(d);
        const [file, analysis] = await Promise.all([fs.readFile(d.modelPath), this.analysis(d)]);
        modelSha = d.sha256 ?? sha256(file);
        const { bytes, ...model } = await buildExplorationModel({
          bytes: file,
          readExternal: (location, offset, length) =>
            readExternalData(path.dirname(d.modelPath), location, offset, length),
          graph: analysis.graph,
          table: analysis.table,
          crop: d.preprocessing.crop,
          measured: analysis.measured,
        });
        built = model;
        return bytes;
      },
      // Idle ORT threads spin by default and would slow the classify session sharing these cores.
      options: { extra: { session: { intra_op: { allow_spinning: '0' } } } },
    });
    const model = built!;
    for (const row of model.skipped)
      this.log(`exploration: layer "${row}" has no unambiguous ONNX node; left out`);
    const d = this.cfg.descriptor;
    return { session, model, modelId: sha256(JSON.stringify([modelSha, d.preprocessing])) };
  }

  /** Runs the exploration model on a prepared tensor and keeps the outputs as the last image's. */
  private async run(loaded: Loaded, key: string, tensor: Float32Array): Promise<Activations> {
    const s = loaded.session;
    this.last = undefined; // let the previous image's activations go before the new ones arrive
    const t = performance.now();
    const out = await s.session.run({ [s.input]: imageTensor(s.ort, this.cfg.descriptor, tensor, 1) });
    const runMs = performance.now() - t;
    const tensors = new Map<string, Activation>();
    for (const [name, v] of Object.entries(out)) {
      tensors.set(name, { dims: v.dims.map(Number), data: floatData(v) });
    }
    for (const r of loaded.model.rows) {
      const got = tensors.get(r.tensor)?.dims;
      // The computed shape's symbolic batch is this run's 1.
      const want = r.shape?.map((d) => (typeof d === 'number' ? d : 1));
      if (got && want && JSON.stringify(got) !== JSON.stringify(want)) {
        this.log(`exploration: ${r.row} measured [${got.join(', ')}], computed [${r.shape!.join(', ')}]`);
      }
    }
    const logits = tensors.get(s.output)!.data;
    const probabilities = toScores(logits, this.cfg.descriptor.outputKind);
    const { provider, precision } = s.info;
    this.last = { key, image: tensor, tensors, probabilities, provider, precision, runMs };
    return this.last;
  }

  /** The activations of the image named `key`: the last explored, or recomputed from its bytes. */
  private async activationsFor(key: string, bytes?: Uint8Array): Promise<Activations> {
    if (this.last?.key === key) return this.last;
    const loaded = await this.load();
    const image = bytes ?? this.recent.get(key);
    if (!image)
      throw new ImageError('this image is no longer held by the inference worker: explore it again');
    if (imageKey(sha256(image), loaded.modelId) !== key) {
      throw new ImageError(
        'the image bytes sent do not match the image key (changed on disk?): explore it again',
      );
    }
    const p = this.cfg.descriptor.preprocessing;
    const prepared = await prepareImage(image, p, this.cfg.maxPixels);
    const acts = await this.run(loaded, key, prepared.tensor);
    this.remember(key, image);
    return acts;
  }

  /** Keeps the bytes of recent images (bounded by count and size), most recent last. */
  private remember(key: string, bytes: Uint8Array): void {
    this.recent.delete(key);
    if (bytes.byteLength > RECENT_BYTES) return;
    this.recent.set(key, bytes);
    let total = 0;
    for (const b of this.recent.values()) total += b.byteLength;
    for (const [k, b] of this.recent) {
      if (this.recent.size <= RECENT_IMAGES && total <= RECENT_BYTES) break;
      this.recent.delete(k);
      total -= b.byteLength;
    }
  }
}

/** Names an image under one model and preprocessing. */
function imageKey(imageSha: string, modelId: string): string {
  return sha256(`${imageSha}:${modelId}`);
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** CAM for the top classes, or EigenCAM's one class-agnostic map, over the image's activations. */
export function mapsOver(
  maps: MapSource,
  acts: Activations,
  crop: number,
  top: Prediction[],
): ClassActivationMaps {
  if (maps.method === 'cam') {
    const features = acts.tensors.get(maps.source.features)!.data;
    return {
      method: 'cam',
      layer: maps.layer,
      rows: maps.source.height,
      cols: maps.source.width,
      crop,
      classes: top.map(
        (c): ClassMap => ({
          ...c,
          grid: normaliseMap(classActivationMap(features, maps.weights, maps.source, c.index)),
        }),
      ),
    };
  }
  const features = acts.tensors.get(maps.features)!.data;
  const grid = normaliseMap(eigenCam(features, maps.channels, maps.height * maps.width));
  return {
    method: 'eigencam',
    layer: maps.layer,
    rows: maps.height,
    cols: maps.width,
    crop,
    classes: [{ index: -1, label: EIGENCAM_LABEL, probability: 0, grid }],
  };
}

function summarise(name: string, a: Activation, channelsLast: boolean): LayerActivation {
  return {
    name,
    out_shape: a.dims,
    ...tensorStats(a.data),
    channel_means: channelMeans(a.data, a.dims, channelsLast),
  };
}

/** The rows whose outputs a detector's explanation shows: the backbone's last, and each neck block's last. */
function partOutputs(table: LayerTable): LayerRow[] {
  const last = new Map<string, LayerRow>();
  for (const r of table.rows) {
    if (r.stage === 'backbone') last.set('backbone', r);
    else if (r.stage === 'neck') last.set(`neck/${r.block ?? ''}`, r);
  }
  return [...last.values()];
}

/** What one run of a task model with every layer exposed gives (see Explorer.withTaskRun). */
export interface TaskRun {
  table: LayerTable;
  frame: Frame;
  provider: string;
  descriptor: ModelDescriptor;
  activation: (row: string) => Activation | undefined;
}

/**
 * A raw map at a layer's resolution as the panel shows it: cropped to the image first (so that the
 * letterbox border does not set the scale), then ReLU and scaled to its maximum.
 */
export function layerMap(
  row: LayerRow,
  raw: ArrayLike<number>,
  width: number,
  height: number,
  f: Frame,
): LayerMap {
  const crop = imageRegion(f, width, height);
  const cropped = Array.from({ length: crop.width * crop.height }, (_, i) => {
    const [x, y] = [i % crop.width, Math.floor(i / crop.width)];
    return raw[(crop.y + y) * width + crop.x + x]!;
  });
  return {
    layer: row.name,
    stage: row.stage ?? '',
    block: row.block,
    stride: f.inputWidth / width,
    width: crop.width,
    height: crop.height,
    data: Float32Array.from(normaliseMap(cropped)),
  };
}
