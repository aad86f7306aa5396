// The main-thread side of inference: starts the worker on first use, queues requests, survives its death.
import { Worker } from 'node:worker_threads';
import {
  DEFAULT_EXPLAINED_CLASSES,
  DEFAULT_FEATURE_MAPS,
  type ExplainableLayer,
  type ExplainMethod,
  type Explanation,
  type Exploration,
  type FeatureMaps,
} from '../shared/exploration';
import type { LayerTable } from '../shared/layerTable';
import type { Profile } from '../shared/profile';
import type {
  PrecisionPair,
  QuantizationReport,
  QuantizeProgress,
  QuantizeReport,
} from '../shared/quantization';
import type { BoxMap, Task, TaskAnswer, TaskMaps, Thresholds } from '../shared/tasks';
import type {
  CallReply,
  Classification,
  ExplainImage,
  JobProgress,
  ModelTiming,
  QuantizeImage,
  RunProgress,
  RuntimeInfo,
  WorkerCall,
  WorkerCalls,
  WorkerConfig,
  WorkerRequest,
  WorkerResponse,
} from './messages';

/** Why a request failed: the image itself, the model/runtime, or the worker going away. */
export class InferenceError extends Error {
  constructor(
    message: string,
    readonly kind: 'image' | 'model' | 'internal' | 'cancelled',
  ) {
    super(message);
  }
}

interface Pending {
  resolve: (value: CallReply<WorkerCall>) => void;
  reject: (e: Error) => void;
  worker: Worker;
  progress?: (p: JobProgress) => void;
}

/** A request as the client builds it: the worker's id is added when it is sent. */
type Unsent<K extends WorkerCall> = { type: K } & WorkerCalls[K]['request'];

/** Options of a request about one image. */
export interface ImageOptions {
  topK: number;
  /** Also return the crop the model saw, as a JPEG. */
  preview?: boolean;
  signal?: AbortSignal;
}

/** Options of `explain`. */
export interface ExplainOptions {
  method: ExplainMethod;
  /**
   * An explainable layer, as `explainableLayers` names it ('conv4_x', 'conv4_2'); default: the method's
   * (`defaultExplainLayer`). 'cam' explains only the layers marked `cam` (the features
   * before the global pool) and gives a reason for any other; occlusion reads no layer and ignores it. A
   * name the model does not have fails the request.
   */
  layer?: string;
  /** How many top classes get a map (default 5). */
  classes?: number;
  /** Occlusion: the patch side and stride in crop pixels (default 32 and 16 at a 224 crop, scaled to others). */
  patch?: number;
  stride?: number;
  /** Score-CAM: how many channels, those with the highest mean activation (default 32). */
  channels?: number;
  /** Also measure each map's faithfulness and a random map's (about 40 scored images per class, plus 40). */
  metrics?: boolean;
  /** Aborting stops the worker's runs at the next batch. */
  signal?: AbortSignal;
}

/** Options of quantizeModel. */
export interface QuantizeOptions {
  /** Images to calibrate with and check on: bytes (transferred) or file paths the worker reads. */
  images: ({ name: string; bytes: Uint8Array } | string)[];
  /** Share of the images (0…0.9, default 0.2) kept out of calibration for the agreement report. */
  holdOut?: number;
  /**
   * Where to write; default `<model>.int8.onnx` beside the model. The built-in model has its int8 model
   * already: for it, only an explicit path is accepted.
   */
  out?: string;
  signal?: AbortSignal;
  onProgress?: (p: QuantizeProgress) => void;
}

/** Default share of quantizeModel's images held back from calibration. */
export const DEFAULT_HOLD_OUT = 0.2;

/** A client for one inference worker. Safe to call before the worker exists and after it dies. */
export class InferenceClient {
  private worker: Worker | undefined;
  private workers = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly workerPath: string,
    private config: WorkerConfig,
    private readonly log: (message: string) => void = () => undefined,
    private readonly status: (message: string) => void = () => undefined,
  ) {}

  /** Classifies one image given its bytes; `name` only appears in logs. The buffer is transferred. */
  classify(name: string, bytes: Uint8Array, opts: ImageOptions): Promise<Classification> {
    return this.imageRequest('classify', name, bytes, opts);
  }

  /**
   * Runs a detector or segmenter (the model's task) on one whole image: boxes, masks, keypoints or class
   * shares in the image's pixels. The buffer is transferred.
   */
  analyse(
    name: string,
    bytes: Uint8Array,
    thresholds: Thresholds,
    opts: { preview?: boolean; signal?: AbortSignal } = {},
  ): Promise<TaskAnswer> {
    const owned = ownedBytes(bytes);
    const req = { type: 'analyse' as const, name, bytes: owned, thresholds, preview: opts.preview ?? false };
    return this.request(req, opts.signal, transferList(owned));
  }

  /**
   * Where a detector or segmenter looks in one image: EigenCAM of its backbone and neck outputs, over the
   * image. Uses the exploration session. The buffer is transferred.
   */
  taskMaps(name: string, bytes: Uint8Array, signal?: AbortSignal): Promise<TaskMaps> {
    const owned = ownedBytes(bytes);
    return this.request({ type: 'taskMaps', name, bytes: owned }, signal, transferList(owned));
  }

  /** Grad-CAM of one detection (`anchor`, class `index`) of a YOLOv8-style detector. The buffer is transferred. */
  boxMap(
    name: string,
    bytes: Uint8Array,
    box: { anchor: number; index: number },
    signal?: AbortSignal,
  ): Promise<BoxMap> {
    const owned = ownedBytes(bytes);
    return this.request({ type: 'boxMap', name, bytes: owned, ...box }, signal, transferList(owned));
  }

  /**
   * Explores one image in the worker's exploration session (created on first use): top-K, per-layer
   * activation summaries and class activation maps. The worker keeps this image's activations for
   * `featureMaps(result.key, …)`. The buffer is transferred.
   */
  explore(name: string, bytes: Uint8Array, opts: ImageOptions): Promise<Exploration> {
    return this.imageRequest('explore', name, bytes, opts);
  }

  /**
   * The crop the model sees of an image, as a JPEG, without running the model (no session is created).
   * The buffer is transferred.
   */
  preview(name: string, bytes: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    const owned = ownedBytes(bytes);
    return this.request({ type: 'preview', name, bytes: owned }, signal, transferList(owned));
  }

  /**
   * `count` (default 16) channels of one layer's output for an explored image, strongest mean first from
   * rank `offset`. Pass the image's `bytes` (transferred) to recompute when the worker no longer holds it.
   */
  featureMaps(
    key: string,
    layer: string,
    opts: { count?: number; offset?: number; bytes?: Uint8Array; signal?: AbortSignal } = {},
  ): Promise<FeatureMaps> {
    const owned = opts.bytes && ownedBytes(opts.bytes);
    const req = {
      type: 'featureMaps',
      key,
      layer,
      count: opts.count ?? DEFAULT_FEATURE_MAPS,
      offset: opts.offset ?? 0,
      bytes: owned,
    } as const;
    return this.request(req, opts.signal, owned ? transferList(owned) : []);
  }

  /**
   * Maps of one method for an image's top classes: `cam` (EigenCAM where CAM is impossible), `gradcam`
   * and `hirescam` at any supported stage or block output, `occlusion`, `scorecam`; with `metrics`, each
   * map's faithfulness beside a random map's. `image` is an explored image's key (the worker must still
   * hold it: see `explore`) or the image's bytes (transferred; an image the worker holds is not rerun).
   * A layer or model a method cannot explain gives an Explanation with no classes and the reason.
   */
  explain(image: string | { name: string; bytes: Uint8Array }, opts: ExplainOptions): Promise<Explanation> {
    const target: ExplainImage =
      typeof image === 'string' ? { key: image } : { name: image.name, bytes: ownedBytes(image.bytes) };
    const req = {
      type: 'explain',
      image: target,
      request: {
        method: opts.method,
        ...(opts.layer !== undefined && { layer: opts.layer }),
        classes: opts.classes ?? DEFAULT_EXPLAINED_CLASSES,
        ...(opts.patch !== undefined && { patch: opts.patch }),
        ...(opts.stride !== undefined && { stride: opts.stride }),
        ...(opts.channels !== undefined && { channels: opts.channels }),
        metrics: opts.metrics ?? false,
      },
    } as const;
    return this.request(req, opts.signal, 'bytes' in target ? transferList(target.bytes) : [], true);
  }

  /**
   * The layers of the model the exploration runs that maps can be made at, in table order, with why
   * Grad-CAM cannot explain some; `defaultExplainLayer` picks each method's default among them.
   */
  explainableLayers(): Promise<ExplainableLayer[]> {
    return this.request({ type: 'explainableLayers' });
  }

  /** Loads the model if needed and reports what runs it. */
  runtimeInfo(): Promise<RuntimeInfo> {
    return this.request({ type: 'runtimeInfo' });
  }

  /** The layer table of the model the worker runs (parsed in the worker, shapes measured where needed). */
  layers(): Promise<LayerTable> {
    return this.request({ type: 'layers' });
  }

  /**
   * Times the model in a session of its own (classification is unaffected): per batch size, one warm-up
   * run, then the median of `runs` runs per image. Batch sizes the model's input cannot take are left out.
   * Aborting stops the worker's runs at the next one. `onProgress` counts the images run, warm-ups too.
   */
  timeModel(opts: {
    batches: number[];
    runs: number;
    signal?: AbortSignal;
    onProgress?: (p: RunProgress) => void;
  }): Promise<ModelTiming[]> {
    const req = { type: 'time', batches: opts.batches, runs: opts.runs } as const;
    return this.request(req, opts.signal, [], true, runsOnly(opts.onProgress));
  }

  /**
   * onnxruntime's profile of the model at `batch` (default 1), `runs` runs (default 10) after a warm-up, in
   * sessions of its own created for it and released after (classification is unaffected): per row, block
   * and stage, median ms, share, GFLOP/s and provider; `plain_ms` from an identical unprofiled session;
   * `peak_gflops` from one large convolution on the same provider and precision. Aborting stops the runs.
   * `onProgress` counts the runs, the warm-up too.
   */
  profile(
    opts: { batch?: number; runs?: number; signal?: AbortSignal; onProgress?: (p: RunProgress) => void } = {},
  ): Promise<Profile> {
    const req = { type: 'profile', batch: opts.batch ?? 1, runs: opts.runs ?? 10 } as const;
    return this.request(req, opts.signal, [], true, runsOnly(opts.onProgress));
  }

  /**
   * fp32 against int8 for one image, at every layer-table row's output (SQNR, cosine, where the error
   * jumps), with both precisions' top-K; both run on the CPU in exploration sessions of their own. Needs
   * the model's int8 file (see quantizedDescriptor). The buffer is transferred.
   */
  compareQuantized(
    name: string,
    bytes: Uint8Array,
    opts: { topK?: number; signal?: AbortSignal } = {},
  ): Promise<QuantizationReport> {
    const owned = ownedBytes(bytes);
    const req = { type: 'compareQuantized', name, bytes: owned, topK: opts.topK ?? 5 } as const;
    return this.request(req, opts.signal, transferList(owned));
  }

  /**
   * One image's top-K at fp32 and at int8 (CPU sessions of their own, let go when idle), for agreement
   * over a folder: see comparePrecisionsAll and the shared `agreement`. The buffer is transferred.
   */
  comparePrecisions(
    name: string,
    bytes: Uint8Array,
    opts: { topK: number; signal?: AbortSignal },
  ): Promise<PrecisionPair> {
    const owned = ownedBytes(bytes);
    const req = { type: 'comparePrecisions', name, bytes: owned, topK: opts.topK } as const;
    return this.request(req, opts.signal, transferList(owned));
  }

  /**
   * Calibrates the model (built-in or the user's, fp32) on most of `images`, writes its int8 model and
   * returns fp32 against int8 on the held-back rest, all in the worker. Aborting during calibration leaves
   * no file behind (it is written atomically after it); aborting the held-out check keeps the written file.
   * Once it is written, later requests go to a fresh worker, so that they run the new file.
   */
  async quantizeModel(opts: QuantizeOptions): Promise<QuantizeReport> {
    const images: QuantizeImage[] = opts.images.map((i) =>
      typeof i === 'string' ? { name: i, path: i } : { name: i.name, bytes: ownedBytes(i.bytes) },
    );
    const transfer = images.flatMap((i) => ('bytes' in i ? transferList(i.bytes) : []));
    const req = {
      type: 'quantize',
      images,
      holdOut: opts.holdOut ?? DEFAULT_HOLD_OUT,
      ...(opts.out !== undefined && { out: opts.out }),
    } as const;
    const report = await this.request(req, opts.signal, transfer, true, quantizeOnly(opts.onProgress));
    this.reconfigure(this.config);
    return report;
  }

  /** Images sent from now on are refused above `maxPixels` pixels; the worker goes on (no restart). */
  setMaxPixels(maxPixels: number): void {
    this.config = { ...this.config, maxPixels };
    this.worker?.postMessage({ type: 'limits', maxPixels } satisfies WorkerRequest);
  }

  /** New settings take effect with a fresh worker; requests in flight finish on the old one. */
  reconfigure(config: WorkerConfig): void {
    this.config = config;
    const old = this.worker;
    this.worker = undefined;
    if (old) this.retireWhenIdle(old);
  }

  /** What the model does when it does not classify (detect, segment, pose); undefined for classifiers. */
  get task(): Task | undefined {
    return this.config.descriptor.task;
  }

  /** Whether a worker is running (for tests and runtime info). */
  get started(): boolean {
    return this.worker !== undefined;
  }

  /** How many workers this client has started (for tests: a restart starts another). */
  get workersStarted(): number {
    return this.workers;
  }

  /** Stops the worker; requests still waiting fail. */
  async dispose(): Promise<void> {
    const workers = new Set([...this.pending.values()].map((p) => p.worker));
    if (this.worker) workers.add(this.worker);
    this.worker = undefined;
    for (const w of workers) this.failAll(w, 'inference stopped');
    await Promise.all([...workers].map((w) => w.terminate()));
  }

  private imageRequest<K extends 'classify' | 'explore'>(
    type: K,
    name: string,
    bytes: Uint8Array,
    opts: ImageOptions,
  ): Promise<CallReply<K>> {
    const owned = ownedBytes(bytes);
    const req = { type, name, bytes: owned, topK: opts.topK, preview: opts.preview ?? false };
    return this.request(req, opts.signal, transferList(owned));
  }

  /**
   * Sends a request and settles with the reply of its type; `cancelInWorker` also tells the worker to stop
   * it when `signal` aborts.
   */
  private request<K extends WorkerCall>(
    req: Unsent<K>,
    signal?: AbortSignal,
    transfer: ArrayBuffer[] = [],
    cancelInWorker = false,
    progress?: (p: JobProgress) => void,
  ): Promise<CallReply<K>> {
    if (signal?.aborted) return Promise.reject(new InferenceError('cancelled', 'cancelled'));
    const id = this.nextId++;
    const worker = this.ensureWorker();
    return new Promise<CallReply<K>>((resolve, reject) => {
      const onAbort = (): void => {
        this.settle(id, undefined, new InferenceError('cancelled', 'cancelled'));
        if (cancelInWorker) worker.postMessage({ type: 'cancel', target: id } satisfies WorkerRequest);
      };
      // The listener goes when the request settles: one signal may serve a whole folder of requests.
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        // The worker answers request `id` with the reply of its type (its `reply` is typed so): the one
        // place where the id, not the type system, ties the two together.
        resolve: (value) => {
          done();
          resolve(value as CallReply<K>);
        },
        reject: (e: Error) => {
          done();
          reject(e);
        },
        worker,
        progress,
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        worker.postMessage({ ...req, id }, transfer);
      } catch (err) {
        this.settle(
          id,
          undefined,
          new InferenceError(`cannot send the request: ${(err as Error).message}`, 'internal'),
        );
      }
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.workerPath, { workerData: this.config });
    this.workers++;
    w.on('message', (m: WorkerResponse) => this.onMessage(m));
    w.on('error', (err) => this.log(`inference worker error: ${err.message}`));
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = undefined;
      this.failAll(
        w,
        `the inference worker stopped unexpectedly (exit code ${code}); the next request starts a new one`,
      );
    });
    this.worker = w;
    return w;
  }

  private onMessage(m: WorkerResponse): void {
    switch (m.type) {
      case 'log':
        this.log(m.message);
        return;
      case 'status':
        this.status(m.message);
        return;
      case 'reply':
        this.settle(m.id, m.value);
        return;
      case 'progress':
        this.pending.get(m.id)?.progress?.(m.progress);
        return;
      case 'failed':
        this.settle(m.id, undefined, new InferenceError(m.message, m.kind));
        return;
      default:
        m satisfies never;
    }
  }

  private settle(id: number, value: CallReply<WorkerCall> | undefined, error?: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (error || value === undefined) p.reject(error ?? new InferenceError('no reply', 'internal'));
    else p.resolve(value);
    if (p.worker !== this.worker) this.retireWhenIdle(p.worker);
  }

  /** Terminates a replaced worker once nothing is waiting on it. */
  private retireWhenIdle(w: Worker): void {
    if (![...this.pending.values()].some((p) => p.worker === w)) void w.terminate();
  }

  private failAll(w: Worker, message: string): void {
    for (const [id, p] of [...this.pending]) {
      if (p.worker === w) this.settle(id, undefined, new InferenceError(message, 'internal'));
    }
  }
}

/** The bytes in a buffer they own whole, so it can be transferred; a view into a shared pool is copied. */
function ownedBytes(bytes: Uint8Array): Uint8Array {
  // Uint8Array's slice copies; a Buffer's slice would be another view of the same (pooled) memory.
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : Uint8Array.prototype.slice.call(bytes);
}

/** Empty bytes are cloned, not transferred: postMessage silently drops a message whose transfer list
 *  holds an already-transferred (detached) buffer, while cloning one throws, which the caller sees. */
function transferList(owned: Uint8Array): ArrayBuffer[] {
  return owned.byteLength > 0 ? [owned.buffer as ArrayBuffer] : [];
}

// Each request only sends progress of its own kind: these pass it on, typed as its callback takes it.

function quantizeOnly(
  onProgress: ((p: QuantizeProgress) => void) | undefined,
): ((p: JobProgress) => void) | undefined {
  return (
    onProgress &&
    ((p) => {
      if (p.phase !== 'runs') onProgress(p);
    })
  );
}

function runsOnly(
  onProgress: ((p: RunProgress) => void) | undefined,
): ((p: JobProgress) => void) | undefined {
  return (
    onProgress &&
    ((p) => {
      if (p.phase === 'runs') onProgress(p);
    })
  );
}
