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
import type { Prediction } from './postprocess';
import type { ProviderSetting } from './providers';

/** Settings the worker needs; sent once when it starts. */
export interface WorkerConfig {
  descriptor: ModelDescriptor;
  provider: ProviderSetting;
  /** Intra-op threads; 0 lets onnxruntime choose (one per physical core). */
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
  /** From the worker receiving the request to the result being sent. */
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

/** Host → worker. */
export type WorkerRequest =
  | { type: 'classify'; id: number; name: string; bytes: Uint8Array; topK: number; preview: boolean }
  | { type: 'runtimeInfo'; id: number }
  | { type: 'layers'; id: number }
  /** Runs the exploration model on one image; activations stay in the worker under the returned key. */
  | { type: 'explore'; id: number; name: string; bytes: Uint8Array; topK: number; preview: boolean }
  /** Channels of one layer for an explored image; `bytes` lets the worker recompute an image it let go. */
  | {
      type: 'featureMaps';
      id: number;
      key: string;
      layer: string;
      count: number;
      offset: number;
      bytes?: Uint8Array;
    }
  /** Maps of one method for an image's top classes, with their faithfulness when asked (cancellable). */
  | { type: 'explain'; id: number; image: ExplainImage; request: ExplainRequest }
  /** The stage and block outputs explanations can be made at, and why not where they cannot. */
  | { type: 'explainableLayers'; id: number }
  /** Times the model in a session of its own at each batch size (batches the input cannot take are left out). */
  | { type: 'time'; id: number; batches: number[]; runs: number }
  /** onnxruntime's profile of the model in sessions of their own, attributed to the layer table's rows. */
  | { type: 'profile'; id: number; batch: number; runs: number }
  /** fp32 against int8 at every layer-table row's output, for one image (CPU exploration sessions). */
  | { type: 'compareQuantized'; id: number; name: string; bytes: Uint8Array; topK: number }
  /** One image's top-K at both precisions (CPU sessions of their own), for agreement over a folder. */
  | { type: 'comparePrecisions'; id: number; name: string; bytes: Uint8Array; topK: number }
  /** Calibrates the model on some images, writes its int8 model, checks it on the held-out rest. */
  | { type: 'quantize'; id: number; images: QuantizeImage[]; holdOut: number; out?: string }
  /** Stops the request `target` at its next chance (timing, profile, quantize, explain); nothing is sent back for it. */
  | { type: 'cancel'; target: number };

/** Worker → host. */
export type WorkerResponse =
  | { type: 'classified'; id: number; result: Classification }
  | { type: 'runtimeInfo'; id: number; info: RuntimeInfo }
  | { type: 'layers'; id: number; table: LayerTable }
  | { type: 'explored'; id: number; result: Exploration }
  /** `maps.data`'s buffer is transferred. */
  | { type: 'featureMaps'; id: number; maps: FeatureMaps }
  | { type: 'explained'; id: number; explanation: Explanation }
  | { type: 'explainableLayers'; id: number; layers: ExplainableLayer[] }
  | { type: 'timed'; id: number; timings: ModelTiming[] }
  | { type: 'profiled'; id: number; profile: Profile }
  | { type: 'comparedQuantized'; id: number; report: QuantizationReport }
  | { type: 'comparedPrecisions'; id: number; pair: PrecisionPair }
  | { type: 'quantized'; id: number; report: QuantizeReport }
  /** How far the request `id` has got (quantize). */
  | { type: 'progress'; id: number; progress: QuantizeProgress }
  | { type: 'failed'; id: number; message: string; kind: 'image' | 'model' | 'internal' }
  | { type: 'log'; message: string }
  /** What the worker is busy with, for progress displays (e.g. "Preparing the GPU (webgpu)…"). */
  | { type: 'status'; message: string };
