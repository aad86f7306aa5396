// Typed messages between the inference client (extension host / CLI main thread) and its worker.
import type { ModelDescriptor } from '../model/descriptor';
import type {
  ExplainableLayer,
  ExplainMethod,
  Explanation,
  Exploration,
  FeatureMaps,
} from '../shared/exploration';
import type { LayerTable } from '../shared/layerTable';
import type { Profile } from '../shared/profile';
import type {
  Precision,
  PrecisionPair,
  QuantizationReport,
  QuantizeProgress,
  QuantizeReport,
} from '../shared/quantization';
import type { BoxMap, TaskAnswer, TaskMaps, Thresholds } from '../shared/tasks';
import type { Prediction } from './postprocess';
import type { ProviderSetting } from './providers';

/** Settings the worker needs; sent once when it starts. */
export interface WorkerConfig {
  descriptor: ModelDescriptor;
  provider: ProviderSetting;
  /** Intra-op threads; 0 means every CPU this process may use (src/inference/cpus.ts). */
  threads: number;
  /** Most images run together in one `session.run`. */
  batchSize: number;
  /** Images with more pixels than this are refused before they are decoded. */
  maxPixels: number;
  /** Ms unused after which the exploration session and activations are let go (0: never; default 2 min). */
  exploreIdleMs?: number;
  /**
   * 'int8' runs the model's int8 file (see quantizedDescriptor) on the CPU; GPU providers run the fp32 one
   * and say why in RuntimeInfo. Default 'fp32'.
   */
  precision?: Precision;
}

/** Milliseconds spent on one image. */
export interface Timings {
  /** Decode + resize + normalise. */
  decode: number;
  /** The `session.run` that included this image (shared by its batch). */
  run: number;
  /** From the decode starting to the result being sent: waiting for a batch included, the model's load not. */
  total: number;
}

/** A successful classification of one image. */
export interface Classification {
  top: Prediction[];
  /** The execution provider that actually ran. */
  provider: string;
  /** The precision that actually ran (int8 asked for on a GPU provider runs fp32). */
  precision: Precision;
  ms: Timings;
  /** The model's load (session creation and checks) that this image waited for before its decode; not in `ms`. */
  loadMs?: number;
  /** How many images shared the run. */
  batch: number;
  /** Size of the image as displayed (after EXIF orientation). */
  width: number;
  height: number;
  /** The center crop the model saw, as a JPEG, when asked for. */
  preview?: Uint8Array;
}

/** Runtime facts for "Show Runtime Info" and the benchmark. */
export interface RuntimeInfo {
  onnxruntime: string;
  /** Backends compiled into this onnxruntime-node build. */
  available: { name: string; bundled: boolean }[];
  /** Providers tried in order and what became of each. */
  attempts: { provider: string; ok: boolean; reason?: string }[];
  provider: string;
  /** The precision that runs, and why it is not the one asked for when it is not. */
  precision: Precision;
  precisionReason?: string;
  threads: number;
  /** The CPU: model, SIMD features, logical and physical cores (src/inference/cpus.ts). */
  cpu: string;
  /** Session creation and warm-up time. */
  ms: { create: number; warmup: number };
  model: string;
}

/** The median time of one image at one batch size, from a session of its own. */
export interface ModelTiming {
  batch: number;
  /** Median `session.run` milliseconds over `runs` runs (after one warm-up run), divided by `batch`. */
  msPerImage: number;
  runs: number;
  precision: Precision;
}

/** How far a timing or profile request has got: `done` of `total` images timed, or runs profiled. */
export interface RunProgress {
  phase: 'runs';
  done: number;
  total: number;
}

/** How far a long request has got: quantize's phases, or a timing's or profile's runs. */
export type JobProgress = QuantizeProgress | RunProgress;

/** The image an explanation is for: an explored image's key, or its bytes (transferred). */
export type ExplainImage = { key: string } | { name: string; bytes: Uint8Array };

/** What to explain and how; every field but `method` has a default (see the client's `explain`). */
export interface ExplainRequest {
  method: ExplainMethod;
  layer?: string;
  classes: number;
  patch?: number;
  stride?: number;
  channels?: number;
  metrics: boolean;
}

/** An image for quantization: its bytes (transferred), or a file the worker reads. */
export type QuantizeImage = { name: string; bytes: Uint8Array } | { name: string; path: string };

/** An image to classify or explore; the buffer is transferred. */
interface ImageRequest {
  name: string;
  bytes: Uint8Array;
  topK: number;
  /** Also return the center crop the model saw, as a JPEG. */
  preview: boolean;
}

/** Nothing beside the request's type and id. */
type NoFields = Record<never, never>;

/**
 * Every request the worker answers: the fields it carries beside `type` and `id`, and the value its reply
 * brings back. The client's `request(req)` returns the reply of the request's type, and the worker's
 * `reply(req, value)` accepts only that type's value.
 */
export interface WorkerCalls {
  classify: { request: ImageRequest; reply: Classification };
  /** EigenCAM of a detector's or segmenter's backbone and neck outputs for one image (the exploration session). */
  taskMaps: { request: { name: string; bytes: Uint8Array }; reply: TaskMaps };
  /** Grad-CAM of one detection (its anchor and class) of a YOLOv8-style detector, for one image. */
  boxMap: { request: { name: string; bytes: Uint8Array; anchor: number; index: number }; reply: BoxMap };
  /** Runs a detector or segmenter (the descriptor's task) on one whole image. */
  analyse: {
    /** `preview`: also the whole image as a JPEG and the candidates the panel's sliders filter. */
    request: { name: string; bytes: Uint8Array; thresholds: Thresholds; preview: boolean };
    reply: TaskAnswer;
  };
  runtimeInfo: { request: NoFields; reply: RuntimeInfo };
  layers: { request: NoFields; reply: LayerTable };
  /** Runs the exploration model on one image; activations stay in the worker under the returned key. */
  explore: { request: ImageRequest; reply: Exploration };
  /** The crop the model sees of an image, as a JPEG, without running the model (thumbnails of a restored run). */
  preview: { request: { name: string; bytes: Uint8Array }; reply: Uint8Array };
  /** Channels of one layer for an explored image; `bytes` lets the worker recompute an image it let go. */
  featureMaps: {
    request: { key: string; layer: string; count: number; offset: number; bytes?: Uint8Array };
    /** `data`'s buffer is transferred. */
    reply: FeatureMaps;
  };
  /** Maps of one method for an image's top classes, with their faithfulness when asked (cancellable). */
  explain: { request: { image: ExplainImage; request: ExplainRequest }; reply: Explanation };
  /** The stage and block outputs explanations can be made at, and why not where they cannot. */
  explainableLayers: { request: NoFields; reply: ExplainableLayer[] };
  /** Times the model in a session of its own at each batch size (batches the input cannot take are left out). */
  time: { request: { batches: number[]; runs: number }; reply: ModelTiming[] };
  /** onnxruntime's profile of the model in sessions of their own, attributed to the layer table's rows. */
  profile: { request: { batch: number; runs: number }; reply: Profile };
  /** fp32 against int8 at every layer-table row's output, for one image (CPU exploration sessions). */
  compareQuantized: { request: { name: string; bytes: Uint8Array; topK: number }; reply: QuantizationReport };
  /** One image's top-K at both precisions (CPU sessions of their own), for agreement over a folder. */
  comparePrecisions: { request: { name: string; bytes: Uint8Array; topK: number }; reply: PrecisionPair };
  /** Calibrates the model on some images, writes its int8 model, checks it on the held-out rest. */
  quantize: {
    request: { images: QuantizeImage[]; holdOut: number; out?: string };
    reply: QuantizeReport;
  };
}

/** The kinds of request the worker answers. */
export type WorkerCall = keyof WorkerCalls;

/** A request of kind `K` as it is sent. */
export type CallRequest<K extends WorkerCall> = { type: K; id: number } & WorkerCalls[K]['request'];

/** The value a request of kind `K` is answered with. */
export type CallReply<K extends WorkerCall> = WorkerCalls[K]['reply'];

/** Host → worker. */
export type WorkerRequest =
  | { [K in WorkerCall]: CallRequest<K> }[WorkerCall]
  /** Stops the request `target` at its next chance (timing, profile, quantize, explain); nothing is sent back for it. */
  | { type: 'cancel'; target: number }
  /** Images from now on are refused above this many pixels (cnnLens.maxPixels changed: no restart). */
  | { type: 'limits'; maxPixels: number };

/** Worker → host. */
export type WorkerResponse =
  /** The answer to request `id`: the reply of its kind (see WorkerCalls). */
  | { type: 'reply'; id: number; value: CallReply<WorkerCall> }
  /** How far the request `id` has got (quantize, time, profile). */
  | { type: 'progress'; id: number; progress: JobProgress }
  | { type: 'failed'; id: number; message: string; kind: 'image' | 'model' | 'internal' }
  | { type: 'log'; message: string }
  /** What the worker is busy with, for progress displays (e.g. "Preparing the GPU (webgpu)…"). */
  | { type: 'status'; message: string };
