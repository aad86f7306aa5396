// Messages between the extension host and the CNN Lens webview. src/shared/ is the only src/ code the
// webview imports: no 'vscode', no Node.
import {
  EXPLAIN_METHODS,
  type ExplainableLayer,
  type ExplainMethod,
  type Explanation,
  type Exploration,
  type FeatureMaps,
  type LayerActivation,
  type LayerSimilarity,
} from './exploration';
import type { LayerTable } from './layerTable';
import type { OutputKind } from './outputs';
import type { Preprocessing, PresetName } from './preprocessing';
import type { Profile } from './profile';
import type { AgreementReport, Precision, QuantizationReport, QuantizeReport } from './quantization';
import type { Candidate } from './detections';
import type { BoxMap, ClassShare, Detection, TaskKind, TaskMaps, Thresholds } from './tasks';

/** One ranked class. */
export interface PredictionView {
  index: number;
  label: string;
  probability: number;
}

/** A classified image as the panel shows it. */
export interface ImageResult {
  /** Workspace-relative path (or file name) for display. */
  file: string;
  /** The file's URI (as VS Code writes it): what the host reads again, also after a reload. */
  uri: string;
  top: PredictionView[];
  provider: string;
  /** The precision that ran (int8 asked for on a GPU provider runs fp32); absent in older saved states. */
  precision?: Precision;
  /** This image's own times: the model's load is never in them. */
  ms: { decode: number; run: number; total: number };
  /** The model's load that this image waited for (the first images after a load), shown apart from `ms`. */
  loadMs?: number;
  width: number;
  height: number;
  /** The crop the model saw (a detector's or segmenter's: the whole image), as a data: URL (not saved across
   *  reloads: the host makes it again). */
  preview?: string;
  /** What a detector or segmenter found (its `top` is empty). */
  found?: FoundView;
}

/** A detector's or segmenter's answer as the panel shows it; boxes in the image's pixels. */
export interface FoundView {
  task: TaskKind;
  /** Detections at the run's thresholds (the sliders filter `candidates` again in the panel). */
  detections: Detection[];
  /** Every box above the lowest threshold the sliders offer, before NMS (detectors only). */
  candidates: Candidate[];
  /** The thresholds the run used (detectors only). */
  thresholds?: Thresholds;
  /** Semantic segmentation: the classes' shares of the image. */
  classes?: ClassShare[];
  /** The class (segment) or detection + 1 (instances) of each pixel, as base64 bytes (JSON-safe). */
  map?: { width: number; height: number; base64: string };
  /** Labels of the model's classes, for the legend. */
  labels: string[];
}

/** An image that could not be classified. */
export interface ImageFailure {
  file: string;
  uri: string;
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

/** The panel's model: what it is, where it comes from, how images are prepared for it. */
export interface ModelView {
  /** What picks this model again: '' for the built-in model, else its path (workspace-relative inside one). */
  id: string;
  name: string;
  /** Where the file is, for display ('built-in' for the bundled model). */
  file: string;
  builtIn: boolean;
  /** From the layer table once it is read; null before. */
  family: string | null;
  depth: string | null;
  /** The graph's image input as declared, e.g. ["N", 3, 299, 299]. */
  input: { name: string; shape: (number | string)[] | null } | null;
  /** Side of the square input the model fixes, or null when its height and width are symbolic. */
  fixedSize: number | null;
  /** How the image input is laid out and typed. */
  format: { layout: 'NCHW' | 'NHWC'; channels: 1 | 3; type: 'float32' | 'float16' | 'uint8' };
  /** What the class output holds, and so how the scores shown are computed (src/shared/outputs.ts). */
  outputKind: OutputKind;
  /** What was assumed about the input (symbolic size), or null. */
  assumed: string | null;
  preprocessing: Preprocessing;
  /** The presets at this model's input size. */
  presets: Record<PresetName, Preprocessing>;
  /** How many class names, and where they come from. */
  labels: { count: number; source: string };
  /** The `<model>.json` beside the model, when there is one (display path). */
  descriptor: string | null;
  /** Why the preprocessing cannot be saved (the built-in model), or null when it can. */
  readOnly: string | null;
  /** Whether the panel chose this model (rather than the cnnLens.modelPath setting): it survives a reload. */
  chosen: boolean;
  /**
   * The cnnLens.precision setting, the precision the worker is asked to run this model at (fp32 when the
   * int8 file the setting asks for is missing; a GPU provider may still run fp32), and why they differ.
   */
  precision: { setting: Precision; model: Precision; note: string | null };
}

/** A model the picker offers. */
export interface ModelChoice {
  id: string;
  label: string;
  /** E.g. "built-in", "opened before", the folder. */
  detail: string;
}

/** One model's column in the architecture comparison. */
export interface ModelComparison {
  name: string;
  file: string;
  /** Set when the model could not be read at all; nothing else is then filled in. */
  error?: string;
  family?: string;
  depth?: string;
  params?: number;
  buffers?: number;
  macs?: number;
  input?: string;
  stages?: {
    stage: string;
    out_size: (number | string)[] | null;
    /** Input pixels between neighbouring output positions, [height, width]; null past global pooling. */
    output_stride: number[] | null;
    width: number | string | null;
    counted: number;
    blocks: number;
    block_kind: string | null;
    params: number;
    macs: number;
  }[];
  /** Milliseconds per image at each batch size timed; absent when timing failed (`timingError`). */
  timing?: { batch: number; msPerImage: number; runs: number }[];
  timingError?: string;
}

/** Several models side by side. */
export interface ArchitectureComparison {
  models: ModelComparison[];
  /** The execution provider setting the timings ran under. */
  provider: string;
  /** The precision setting the timings ran under (models without an int8 file run fp32). */
  precision: Precision;
  /** Whether the user cancelled before every model was timed. */
  cancelled: boolean;
}

/** An exploration as the webview gets it: the crop as a data: URL instead of bytes, no per-channel means. */
export type ExplorationView = Omit<Exploration, 'preview' | 'layers'> & {
  preview?: string;
  layers: LayerActivationView[];
};

/** A layer's summary as the webview gets it: the per-channel means stay in the host. */
export type LayerActivationView = Omit<LayerActivation, 'channel_means'>;

/** Two explored images side by side, and how alike their layers' outputs are. */
export interface ComparisonView {
  items: { file: string; exploration: ExplorationView }[];
  /** Per layer (layer-table row) both have: see layerSimilarity. */
  similarity: LayerSimilarity[];
}

/**
 * Long work the panel starts and can cancel, each with a section of its own: the profile, the current
 * image at both precisions, the run's images at both precisions, quantizing the model with a folder's
 * images, and explanations.
 */
export const JOBS = ['profile', 'quantization', 'agreement', 'quantize', 'explain'] as const;
export type JobKind = (typeof JOBS)[number];

/** A job in progress, failed or cancelled; `done` states are each job's own. */
export type JobProgress =
  /** `fraction`: 0…1 when known. */
  | { status: 'running'; message: string; fraction?: number }
  /** `offerQuantize`: it failed for want of the model's int8 file, which quantizing makes. */
  | { status: 'failed'; message: string; offerQuantize?: boolean }
  | { status: 'cancelled'; message: string };

/** The profile section: where the time goes for the panel's model at its precision. */
export type ProfileState = JobProgress | { status: 'done'; profile: Profile };

/** The current image at fp32 and int8, row by row. */
export type QuantizationState =
  | (JobProgress & { file: string })
  | { status: 'done'; file: string; report: QuantizationReport };

/** The run's images at fp32 and int8: agreement, and the images that changed class (display names). */
export type AgreementState =
  | JobProgress
  | {
      status: 'done';
      report: AgreementReport;
      failed: { file: string; error: string }[];
      cancelled: boolean;
    };

/** Quantizing the panel's model with a folder's images. */
export type QuantizeState =
  | (JobProgress & { folder: string })
  | {
      status: 'done';
      folder: string;
      /** The int8 model written (display path) and the model it came from (display name). */
      out: string;
      model: string;
      report: QuantizeReport;
      /** Whether the panel runs int8 already (else it offers to switch). */
      int8Active: boolean;
    };

/** What the panel asks to explain about the current image: a method, its layer and settings. */
export interface ExplainRequestView {
  method: ExplainMethod;
  /** An explainable layer as explainableLayers names it; null: the method's own (CAM) or default layer. */
  layer: string | null;
  /** Occlusion: the patch side and stride in crop pixels. */
  patch?: number;
  stride?: number;
  /** Score-CAM: how many channels. */
  channels?: number;
  /** Also measure faithfulness (deletion, insertion, Average Drop, Increase in Confidence) beside a random map. */
  metrics: boolean;
}

/** An explanation of the current image (`file`): in progress, failed or done. */
export type ExplainState =
  | (JobProgress & { file: string; request: ExplainRequestView })
  | { status: 'done'; file: string; request: ExplainRequestView; explanation: Explanation };

/** Job sections by kind, as the host sends them; null clears a section. */
export interface JobStates {
  profile: ProfileState;
  quantization: QuantizationState;
  agreement: AgreementState;
  quantize: QuantizeState;
  explain: ExplainState;
}

/**
 * Webview requests that the host answers, and the host messages that answer each. A request carries a
 * `requestId` that its answers echo, so that the webview can drop a reply to a request a newer one of the
 * same type has replaced. Job states answer the request that started the job; the host also sends them
 * on its own (a job started from the Command Palette, a replay), without an id.
 */
export type Replies = RepliesOf<{
  featureMaps: 'featureMaps' | 'featureMapsError';
  taskMaps: 'taskMaps' | 'taskMapsError';
  boxMap: 'boxMap' | 'boxMapError';
  compare: 'comparison' | 'comparisonError';
  listImages: 'images';
  listModels: 'models';
  listLabelFiles: 'labelFiles';
  listExplainableLayers: 'explainableLayers' | 'explainableLayersError';
  savePreprocessing: 'preprocessingSaved' | 'preprocessingError';
  profile: 'job';
  compareQuantized: 'job';
  compareRunPrecisions: 'job';
  explain: 'job';
}>;

/** Names the replies of every request type (a request type added without them does not compile). */
type RepliesOf<R extends Record<WebviewRequest['type'], HostMessage['type']>> = R;

/** The webview messages that get an answer. */
export type RequestType = WebviewRequest['type'];

/** A host message that answers a request (or is sent unasked, without `requestId`). */
type Reply<M> = M & { requestId?: number };

/** A webview message that gets an answer: its id, which the answer echoes. */
type Request<M> = M & { requestId: number };

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
  /** The rows built by the line under the cursor in the Python editor (empty: none), to mark in the table. */
  | { type: 'highlightRows'; names: string[] }
  /** Focus the layer table; `unlessBusy`: not if the user focused something else meanwhile (it loaded late). */
  | { type: 'focusArchitecture'; unlessBusy?: boolean }
  /** Per-layer results for the current image (`file` as in the results). */
  | { type: 'exploration'; file: string; exploration: ExplorationView }
  | { type: 'explorationError'; file: string; message: string }
  /** A detector's or segmenter's EigenCAM maps for the current image (`file`); `data` arrives as Float32Arrays. */
  | Reply<{ type: 'taskMaps'; file: string; maps: TaskMaps }>
  | Reply<{ type: 'taskMapsError'; message: string }>
  /** Grad-CAM of one detection of the current image (`file`). */
  | Reply<{ type: 'boxMap'; file: string; map: BoxMap }>
  | Reply<{ type: 'boxMapError'; message: string }>
  /** Feature maps asked for with a `featureMaps` message; `data` arrives as a Float32Array. */
  | Reply<{ type: 'featureMaps'; maps: FeatureMaps }>
  | Reply<{ type: 'featureMapsError'; layer: string; message: string }>
  /** Two explored images side by side. */
  | Reply<{ type: 'comparison'; comparison: ComparisonView }>
  | Reply<{ type: 'comparisonError'; message: string }>
  /** The workspace's image files, workspace-relative, for the picker. */
  | Reply<{ type: 'images'; files: string[]; truncated: boolean }>
  /** The panel's model (also sent when its family becomes known or its preprocessing was saved). */
  | { type: 'model'; model: ModelView }
  /** Models the model picker offers. */
  | Reply<{ type: 'models'; models: ModelChoice[]; truncated: boolean }>
  /** A model could not be opened: the panel keeps its model. */
  | { type: 'modelError'; file: string; message: string }
  /** Work on the model in progress (opening, saving), or done (undefined). */
  | { type: 'modelBusy'; busy?: string }
  /** The current image as the webview can load it, for the crop preview; undefined when it cannot. */
  | { type: 'imageSource'; file: string; src?: string }
  /** Labels files of the workspace (.json), for the preprocessing editor. */
  | Reply<{ type: 'labelFiles'; files: string[] }>
  /** The preprocessing editor's Save: done, or refused with the reason. */
  | Reply<{ type: 'preprocessingSaved'; file: string }>
  | Reply<{ type: 'preprocessingError'; message: string }>
  /** Architectures side by side (progress while timing, then the result). */
  | { type: 'architectureComparison'; comparison: ArchitectureComparison; busy?: string }
  /** The stages and blocks the panel's model can be explained at, and what each method can do there. */
  | Reply<{ type: 'explainableLayers'; layers: ExplainableLayer[] }>
  | Reply<{ type: 'explainableLayersError'; message: string }>
  /** A job's section: its progress, outcome or result; null when it no longer applies (model changed). */
  | { [K in JobKind]: Reply<{ type: 'job'; job: K; state: JobStates[K] | null }> }[JobKind];

/** Webview → host: requests (answered, see Replies) and notifications (not answered). */
export type WebviewMessage = WebviewRequest | WebviewNotification;

/** Webview → host, answered with the messages `Replies` names. */
export type WebviewRequest =
  | Request<{ type: 'featureMaps'; layer: string; count: number; offset: number }>
  /** Where the panel's detector or segmenter looks in the current image (EigenCAM). */
  | Request<{ type: 'taskMaps' }>
  /** Grad-CAM of one detection of the current image: its anchor and class. */
  | Request<{ type: 'boxMap'; anchor: number; index: number }>
  | Request<{ type: 'listImages' }>
  /** Compare two entries of the run (indices into its results). */
  | Request<{ type: 'compare'; indices: number[] }>
  | Request<{ type: 'listModels' }>
  | Request<{ type: 'listLabelFiles' }>
  /** Write `<model>.json` beside the panel's model; `labels` is a path typed or picked, '' for unchanged. */
  | Request<{ type: 'savePreprocessing'; preprocessing: Preprocessing; labels: string }>
  /** Profile the panel's model: `batch` images per run, the median of `runs` runs. */
  | Request<{ type: 'profile'; batch: number; runs: number }>
  /** The current image at fp32 and int8. */
  | Request<{ type: 'compareQuantized' }>
  /** The run's images at fp32 and int8. */
  | Request<{ type: 'compareRunPrecisions' }>
  | Request<{ type: 'listExplainableLayers' }>
  /** Explain the current image (its top classes). */
  | Request<{ type: 'explain' } & ExplainRequestView>;

/** Webview → host, not answered. */
export type WebviewNotification =
  | { type: 'ready' }
  | { type: 'select'; index: number }
  | { type: 'export'; format: 'csv' | 'json' }
  /** Make a workspace image (as listed by `images`) the current image. */
  | { type: 'pick'; file: string }
  /** Open a layer's source: the file and 1-based line that constructed its module (a Python model's row). */
  | { type: 'openSource'; file: string; line: number }
  | { type: 'command'; command: PanelCommand }
  /** Make a model the panel's (an `id` the host offered: '' is the built-in model). */
  | { type: 'openModel'; id: string }
  /** Stop timing the architectures being compared. */
  | { type: 'cancelComparison' }
  /** Make the panel run at this precision (the cnnLens.precision setting). */
  | { type: 'setPrecision'; precision: Precision }
  /** Classify the run's images again: the results ran at another precision than the panel's model now. */
  | { type: 'rerun' }
  /** Stop a job in progress. */
  | { type: 'cancelJob'; job: JobKind };

/** Commands the panel's buttons run. */
export type PanelCommand =
  | 'openArchitecture'
  | 'showLog'
  | 'showRuntimeInfo'
  | 'compareArchitectures'
  | 'quantizeFolder';

/** Whether a result entry is a failure. */
export function isFailure(r: ImageEntry): r is ImageFailure {
  return 'error' in r;
}

const COMMANDS: readonly string[] = [
  'openArchitecture',
  'showLog',
  'showRuntimeInfo',
  'compareArchitectures',
  'quantizeFolder',
] satisfies PanelCommand[];

/** Largest occlusion patch or stride (pixels) and most Score-CAM channels the panel may ask for. */
const EXPLAIN_LIMITS = { pixels: 4096, channels: 4096 } as const;

/** Most images per run a profile may use, and most runs. */
export const PROFILE_LIMITS = { batch: 64, runs: 200 } as const;

/** A message's fields, as the host sees them before they are checked. */
type Fields = Record<string, unknown>;

/** Whether `o` has no fields but `type` and `names` (those may be absent: each check says what it needs). */
function only(o: Fields, ...names: string[]): boolean {
  return Object.keys(o).every((k) => k === 'type' || names.includes(k));
}

/** A request: its id is a positive whole number, and it has no fields but `names`. */
function request(o: Fields, ...names: string[]): boolean {
  return wholeIn(o.requestId, 1, Number.MAX_SAFE_INTEGER) && only(o, 'requestId', ...names);
}

/** A path or id from the webview: a non-empty string of sane length without NUL. */
function isPathText(v: unknown, allowEmpty = false): v is string {
  return typeof v === 'string' && (allowEmpty || v.length > 0) && v.length <= 4096 && !v.includes('\0');
}

/** A whole number in [min, max]. */
function wholeIn(v: unknown, min: number, max: number): boolean {
  return Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
}

/** Preprocessing values as the editor sends them: finite numbers in range, the right shapes. */
export function isPreprocessing(p: unknown): p is Preprocessing {
  if (typeof p !== 'object' || p === null) return false;
  const o = p as Fields;
  const whole = (v: unknown): boolean => wholeIn(v, 1, 4096);
  const triple = (v: unknown): boolean =>
    Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  return (
    Object.keys(o).length === 6 &&
    whole(o.resize) &&
    whole(o.crop) &&
    (o.channelOrder === 'RGB' || o.channelOrder === 'BGR') &&
    typeof o.scale === 'number' &&
    Number.isFinite(o.scale) &&
    triple(o.mean) &&
    triple(o.std)
  );
}

/** An explain request's settings: a known method, a sane layer name, whole numbers in range. */
function isExplainRequest(o: Fields): boolean {
  const optional = (v: unknown, max: number): boolean => v === undefined || wholeIn(v, 1, max);
  return (
    (EXPLAIN_METHODS as readonly unknown[]).includes(o.method) &&
    (o.layer === null || (typeof o.layer === 'string' && o.layer.length > 0 && o.layer.length <= 200)) &&
    optional(o.patch, EXPLAIN_LIMITS.pixels) &&
    optional(o.stride, EXPLAIN_LIMITS.pixels) &&
    optional(o.channels, EXPLAIN_LIMITS.channels) &&
    typeof o.metrics === 'boolean'
  );
}

/** A check for each webview message type: a type added to the protocol without one does not compile. */
const VALIDATORS: { [T in WebviewMessage['type']]: (o: Fields) => boolean } = {
  ready: (o) => only(o),
  select: (o) => only(o, 'index') && wholeIn(o.index, 0, Number.MAX_SAFE_INTEGER),
  export: (o) => only(o, 'format') && (o.format === 'csv' || o.format === 'json'),
  featureMaps: (o) =>
    request(o, 'layer', 'count', 'offset') &&
    typeof o.layer === 'string' &&
    o.layer.length <= 200 &&
    wholeIn(o.count, 1, 256) &&
    wholeIn(o.offset, 0, Number.MAX_SAFE_INTEGER),
  listImages: (o) => request(o),
  taskMaps: (o) => request(o),
  boxMap: (o) =>
    request(o, 'anchor', 'index') && wholeIn(o.anchor, 0, 10_000_000) && wholeIn(o.index, 0, 100_000),
  compare: (o) =>
    request(o, 'indices') &&
    Array.isArray(o.indices) &&
    o.indices.length === 2 &&
    o.indices.every((i) => wholeIn(i, 0, Number.MAX_SAFE_INTEGER)) &&
    o.indices[0] !== o.indices[1],
  pick: (o) => only(o, 'file') && isPathText(o.file),
  openSource: (o) => only(o, 'file', 'line') && isPathText(o.file) && wholeIn(o.line, 1, 10_000_000),
  command: (o) => only(o, 'command') && typeof o.command === 'string' && COMMANDS.includes(o.command),
  listModels: (o) => request(o),
  openModel: (o) => only(o, 'id') && isPathText(o.id, true),
  listLabelFiles: (o) => request(o),
  savePreprocessing: (o) =>
    request(o, 'preprocessing', 'labels') && isPreprocessing(o.preprocessing) && isPathText(o.labels, true),
  cancelComparison: (o) => only(o),
  profile: (o) =>
    request(o, 'batch', 'runs') &&
    wholeIn(o.batch, 1, PROFILE_LIMITS.batch) &&
    wholeIn(o.runs, 1, PROFILE_LIMITS.runs),
  compareQuantized: (o) => request(o),
  compareRunPrecisions: (o) => request(o),
  setPrecision: (o) => only(o, 'precision') && (o.precision === 'fp32' || o.precision === 'int8'),
  rerun: (o) => only(o),
  cancelJob: (o) => only(o, 'job') && (JOBS as readonly unknown[]).includes(o.job),
  listExplainableLayers: (o) => request(o),
  explain: (o) =>
    request(o, 'method', 'layer', 'patch', 'stride', 'channels', 'metrics') && isExplainRequest(o),
};

/** Runtime check of a message from the webview: anything else is ignored by the host. */
export function isWebviewMessage(m: unknown): m is WebviewMessage {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return false;
  const o = m as Fields;
  return (
    typeof o.type === 'string' &&
    Object.hasOwn(VALIDATORS, o.type) &&
    VALIDATORS[o.type as WebviewMessage['type']](o)
  );
}
