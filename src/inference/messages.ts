// Typed messages between the inference client (extension host / CLI main thread) and its worker.
import type { ModelDescriptor } from '../model/descriptor';
import type { Exploration, FeatureMaps } from '../shared/exploration';
import type { LayerTable } from '../shared/layerTable';
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
}

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
  /** Times the model in a session of its own at each batch size (batches the input cannot take are left out). */
  | { type: 'time'; id: number; batches: number[]; runs: number }
  /** Stops the request `target` at its next chance (timing runs); nothing is sent back for it. */
  | { type: 'cancel'; target: number };

/** Worker → host. */
export type WorkerResponse =
  | { type: 'classified'; id: number; result: Classification }
  | { type: 'runtimeInfo'; id: number; info: RuntimeInfo }
  | { type: 'layers'; id: number; table: LayerTable }
  | { type: 'explored'; id: number; result: Exploration }
  /** `maps.data`'s buffer is transferred. */
  | { type: 'featureMaps'; id: number; maps: FeatureMaps }
  | { type: 'timed'; id: number; timings: ModelTiming[] }
  | { type: 'failed'; id: number; message: string; kind: 'image' | 'model' | 'internal' }
  | { type: 'log'; message: string }
  /** What the worker is busy with, for progress displays (e.g. "Preparing the GPU (webgpu)…"). */
  | { type: 'status'; message: string };
