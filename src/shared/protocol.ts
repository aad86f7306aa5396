// Messages between the extension host and the CNN Lens webview. src/shared/ is the only src/ code the
// webview imports: no 'vscode', no Node.
import type { Exploration, FeatureMaps } from './exploration';
import type { LayerTable } from './layerTable';

/** One ranked class. */
export interface PredictionView {
  index: number;
  label: string;
  probability: number;
}

/** A classified image as the panel shows it. */
export interface ImageResult {
  /** Workspace-relative path (or file name) for display; also the key for selection. */
  file: string;
  top: PredictionView[];
  provider: string;
  ms: { decode: number; run: number; total: number };
  width: number;
  height: number;
  /** The 224×224 crop the model saw, as a data: URL. */
  preview?: string;
}

/** An image that could not be classified. */
export interface ImageFailure {
  file: string;
  error: string;
}

/** One entry of a run: a result or a failure. */
export type ImageEntry = ImageResult | ImageFailure;

/** What the panel shows of the current run; the webview keeps it (and persists it across reloads). */
export interface PanelState {
  /** Entries of the last run, in request order; may fill in while the run goes on. */
  results: ImageEntry[];
  /** How many images the run has in all. */
  total: number;
  /** Index into `results` of the image shown in detail. */
  current: number;
  /** Work in progress, e.g. "Loading ResNet50…"; absent when idle. */
  busy?: string;
}

/** The architecture section: the layer table of the model the worker runs. */
export interface ArchitectureView {
  /** Model name for the header, e.g. "ResNet50 v1 (Keras, ImageNet)". */
  model: string;
  table: LayerTable;
}

/** An exploration as the webview gets it: the crop as a data: URL instead of bytes. */
export type ExplorationView = Omit<Exploration, 'preview'> & { preview?: string };

/** Host → webview. */
export type HostMessage =
  /** A new run starts: results are cleared. */
  | { type: 'run'; total: number; busy?: string }
  /** Entries at positions `start`, `start + 1`, … of the run. */
  | { type: 'results'; start: number; items: ImageEntry[] }
  | { type: 'status'; busy?: string }
  | { type: 'current'; index: number }
  | { type: 'architecture'; architecture: ArchitectureView }
  | { type: 'architectureError'; message: string }
  | { type: 'focusArchitecture' }
  /** Per-layer results for the current image (`file` as in the results). */
  | { type: 'exploration'; file: string; exploration: ExplorationView }
  | { type: 'explorationError'; file: string; message: string }
  /** Feature maps asked for with a `featureMaps` message; `data` arrives as a Float32Array. */
  | { type: 'featureMaps'; maps: FeatureMaps }
  | { type: 'featureMapsError'; layer: string; message: string }
  /** Two explored images side by side. */
  | { type: 'comparison'; items: { file: string; exploration: ExplorationView }[] }
  | { type: 'comparisonError'; message: string }
  /** The workspace's image files, workspace-relative, for the picker. */
  | { type: 'images'; files: string[]; truncated: boolean };

/** Webview → host. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'select'; index: number }
  | { type: 'export'; format: 'csv' | 'json' }
  | { type: 'featureMaps'; layer: string; count: number; offset: number }
  | { type: 'listImages' }
  /** Compare two entries of the run (indices into its results). */
  | { type: 'compare'; indices: number[] }
  /** Make a workspace image (as listed by `images`) the current image. */
  | { type: 'pick'; file: string }
  | { type: 'command'; command: 'openArchitecture' | 'showLog' | 'showRuntimeInfo' };

/** Whether a result entry is a failure. */
export function isFailure(r: ImageEntry): r is ImageFailure {
  return 'error' in r;
}

const COMMANDS = ['openArchitecture', 'showLog', 'showRuntimeInfo'];

/** Runtime check of a message from the webview: anything else is ignored by the host. */
export function isWebviewMessage(m: unknown): m is WebviewMessage {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  switch (o.type) {
    case 'ready':
      return Object.keys(o).length === 1;
    case 'select':
      return Number.isInteger(o.index) && (o.index as number) >= 0;
    case 'export':
      return o.format === 'csv' || o.format === 'json';
    case 'featureMaps':
      return (
        typeof o.layer === 'string' &&
        o.layer.length <= 200 &&
        Number.isInteger(o.count) &&
        (o.count as number) >= 1 &&
        (o.count as number) <= 256 &&
        Number.isInteger(o.offset) &&
        (o.offset as number) >= 0
      );
    case 'listImages':
      return true;
    case 'compare':
      return (
        Array.isArray(o.indices) &&
        o.indices.length === 2 &&
        o.indices.every((i) => Number.isInteger(i) && i >= 0) &&
        o.indices[0] !== o.indices[1]
      );
    case 'pick':
      return typeof o.file === 'string' && o.file.length > 0 && o.file.length <= 4096;
    case 'command':
      return typeof o.command === 'string' && COMMANDS.includes(o.command);
    default:
      return false;
  }
}
