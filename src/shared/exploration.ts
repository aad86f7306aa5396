// What exploring one image yields: per-layer activation summaries, class activation maps, feature maps.
// Plain data (no 'vscode', no Node) so that the webview may import it; multi-word keys are snake_case
// because this is also the CLI's JSON output format.
import type { Precision } from './quantization';

/** Feature maps returned when a request does not say how many. */
export const DEFAULT_FEATURE_MAPS = 16;

/** Bins of every activation histogram. */
export const HISTOGRAM_BINS = 16;

/** One ranked class (the same shape as a classification's entries). */
export interface ClassScore {
  index: number;
  label: string;
  probability: number;
}

/** Summary of one layer-table row's output tensor for one image. */
export interface LayerActivation {
  /** The layer-table row's name, e.g. 'conv3_1 c 1×1, 512'. */
  name: string;
  /** Measured dims with batch 1, e.g. [1, 512, 28, 28]. */
  out_shape: number[];
  mean: number;
  max: number;
  min: number;
  /** Fraction of values that are exactly 0 (what ReLU switched off). */
  zero_fraction: number;
  /** Counts in HISTOGRAM_BINS equal bins over [min, max]; all in bin 0 when min equals max. */
  histogram: number[];
  /** Each channel's mean over H×W (a [1, C] output: its values): what two images are compared by. */
  channel_means: number[];
}

/** How alike two images' outputs of one layer are (see layerSimilarity). */
export interface LayerSimilarity {
  name: string;
  /** Cosine similarity of the two per-channel mean vectors, −1 … 1; null when either is all zeros. */
  cosine: number | null;
}

/** a·b / (|a| |b|); null when the lengths differ or either vector is all zeros. */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number | null {
  if (a.length !== b.length || a.length === 0) return null;
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    aa += x * x;
    bb += y * y;
  }
  if (aa === 0 || bb === 0) return null;
  return Math.max(-1, Math.min(1, dot / Math.sqrt(aa * bb)));
}

/**
 * Per layer both images have, the cosine similarity of their per-channel mean activation vectors: 1 where
 * the same channels respond in the same proportions, lower as different channels take over. Whole-layer
 * means would call two images alike whenever their overall activity matches.
 */
export function layerSimilarity(
  a: readonly LayerActivation[],
  b: readonly LayerActivation[],
): LayerSimilarity[] {
  const byName = new Map(b.map((l) => [l.name, l]));
  return a.flatMap((la) => {
    const lb = byName.get(la.name);
    return lb ? [{ name: la.name, cosine: cosineSimilarity(la.channel_means, lb.channel_means) }] : [];
  });
}

/** A class activation map: where the evidence for one class lies in the image. */
export interface ClassMap {
  /** The class; -1 for EigenCAM's one class-agnostic map. */
  index: number;
  label: string;
  /** The class's probability; 0 for EigenCAM's map, which belongs to no class. */
  probability: number;
  /** `rows`×`cols` values in 0…1, row-major; cell (r, c) covers the crop's pixels
   *  [r·crop/rows, (r+1)·crop/rows) × [c·crop/cols, (c+1)·crop/cols). All zeros when nothing is positive. */
  grid: number[];
}

/** The label of EigenCAM's one map. */
export const EIGENCAM_LABEL = 'class-agnostic (EigenCAM)';

/**
 * Maps of where the evidence lies over the last convolutional features: class activation maps (Zhou et
 * al. 2016) of the top classes, or, for heads CAM cannot explain (VGG's fc stack, MobileNet V3's two-layer
 * head), one class-agnostic EigenCAM map (the features' first principal component; `cam_reason` says
 * why CAM was not possible).
 */
export interface ClassActivationMaps {
  method: 'cam' | 'eigencam';
  /** The explainable layer whose output the maps weight, as the Layer list names it, e.g. 'conv5_x'. */
  layer: string;
  rows: number;
  cols: number;
  /** Side of the square center crop the model saw; grids are in its coordinates. */
  crop: number;
  /** 'cam': one map per top class; 'eigencam': one map, index -1, label EIGENCAM_LABEL. */
  classes: ClassMap[];
}

/** Everything the worker tells about one explored image; the activations stay in the worker. */
export interface Exploration {
  /** Names this image under this model; pass it back to ask for feature maps. */
  key: string;
  top: ClassScore[];
  layers: LayerActivation[];
  /** Null when no map could be made (`cam_reason` says why). */
  cam: ClassActivationMaps | null;
  /** Why there are no class activation maps (also when EigenCAM stands in); null when there are. */
  cam_reason: string | null;
  provider: string;
  /** The precision the exploration model ran at (int8 asked for on a GPU provider runs fp32). */
  precision: Precision;
  /** Size of the image as displayed (after EXIF orientation). */
  width: number;
  height: number;
  /** The center crop the model saw, as a JPEG, when asked for. */
  preview?: Uint8Array;
  /** Milliseconds: decode, the exploration run, the summaries, and from request to result. */
  ms: { decode: number; run: number; stats: number; total: number };
}

/** One channel of a layer's output, ranked by its mean activation. */
export interface FeatureMapChannel {
  channel: number;
  mean: number;
  min: number;
  max: number;
}

/** Some channels of one layer's output for one image, strongest mean first. */
export interface FeatureMaps {
  key: string;
  layer: string;
  out_shape: number[];
  /** Channels the layer has in all. */
  channels: number;
  height: number;
  width: number;
  /** Rank of the first channel returned (0 = the strongest). */
  offset: number;
  maps: FeatureMapChannel[];
  /** maps.length × height × width values: map i occupies [i·height·width, (i+1)·height·width), row-major. */
  data: Float32Array;
}

/** Methods that explain a class over the image (the client's `explain`; the CLI's `--method`). */
export const EXPLAIN_METHODS = ['cam', 'gradcam', 'hirescam', 'occlusion', 'scorecam'] as const;
export type ExplainMethod = (typeof EXPLAIN_METHODS)[number];

/** The method a map was made with: one asked for, or EigenCAM where CAM was asked for and is impossible. */
export type MapMethod = ExplainMethod | 'eigencam';

/** Classes explained when a request does not say how many. */
export const DEFAULT_EXPLAINED_CLASSES = 5;
/** Occlusion's patch side and stride at a 224-pixel crop; other crops scale both. */
export const DEFAULT_OCCLUSION = { patch: 32, stride: 16, crop: 224 } as const;
/** Score-CAM's channels (those with the highest mean activation) when a request does not say. */
export const DEFAULT_SCORECAM_CHANNELS = 32;
/** Steps of the deletion and insertion curves. */
export const FAITHFULNESS_STEPS = 20;

/**
 * A layer that maps can be made at: a stage's or block's output that is a feature map bigger than 1×1 on
 * the way to the class scores, or the features CAM (EigenCAM where it stands in) reads where no stage or
 * block ends. The list holds nothing else, so every method but CAM can use any entry Grad-CAM's `reason`
 * allows.
 */
export interface ExplainableLayer {
  /** As the layer table names it: 'conv4_x' (a stage), 'conv4_2' (a block), 'head 1×1, 1280' (a row). */
  layer: string;
  kind: 'stage' | 'block' | 'layer';
  /** The layer-table row whose output it is (its feature maps: `featureMaps(key, row)`); null for what a
   *  row computes before its main op (DenseNet's last BatchNorm and ReLU, folded into the pool's row). */
  row: string | null;
  /** [C, H, W] of the output for one image; H × W > 1. */
  shape: number[];
  /** Why Grad-CAM and HiResCAM cannot explain it (e.g. an op with no backward rule); null when they can. */
  reason: string | null;
  /** Whether CAM's features (EigenCAM's where it stands in) are this output: 'cam' explains only there. */
  cam: boolean;
}

/**
 * The layer a method uses when a request names none: CAM's own; for Score-CAM the last stage; for Grad-CAM
 * and HiResCAM the last stage they support, else the last stage (whose `reason` then says why not). Null
 * when the list has none. The worker and the panel both choose with this, so the panel selects the layer
 * the worker explains.
 */
export function defaultExplainLayer(
  layers: readonly ExplainableLayer[],
  method: Exclude<ExplainMethod, 'occlusion'>,
): string | null {
  if (method === 'cam') return layers.find((l) => l.cam)?.layer ?? null;
  const stages = layers.filter((l) => l.kind === 'stage').reverse();
  const last = stages[0] ?? layers.at(-1);
  if (method === 'scorecam') return last?.layer ?? null;
  return (stages.find((l) => l.reason === null) ?? last)?.layer ?? null;
}

/** Faithfulness of one map for one class (deletion/insertion: Petsiuk et al. 2018; Average Drop and
 *  Increase in Confidence: Chattopadhyay et al. 2018). */
export interface MapScores {
  /** The class probability as 0, 1/steps, … of the crop's pixels are replaced by the mean colour, most
   *  salient first; a lower area is better. */
  deletion: number[];
  deletion_auc: number;
  /** The class probability as those pixels are put back onto a blurred copy; a higher area is better. */
  insertion: number[];
  insertion_auc: number;
  /** max(0, p(image) − p(image seen through the map)) / p(image), in percent; lower is better. */
  average_drop: number;
  /** 1 when the image seen through the map is more confident than the whole image, else 0. */
  increase_in_confidence: number;
}

/** A map's faithfulness and, for comparison, a random map's (the same random map for every class). */
export interface MapMetrics extends MapScores {
  random: MapScores;
}

/** One class's map, with the gradient behind it and its faithfulness when they were asked for. */
export interface ExplainedClass extends ClassMap {
  /** Grad-CAM and HiResCAM: ∂(class logit)/∂A averaged over H×W, one value per channel (Grad-CAM's α). */
  mean_gradient?: number[];
  /** Present when the request asked for metrics. */
  metrics?: MapMetrics;
}

/** Maps of one method at one layer for the top classes of one image. */
export interface Explanation {
  /** The image, as `Exploration.key` names it. */
  key: string;
  method: MapMethod;
  /**
   * The explainable layer whose output the maps are made from ('conv4_x', 'head 1×1, 1280'), as the Layer
   * list names it. Null for occlusion, which reads no layer.
   */
  layer: string | null;
  /**
   * Grid size: the layer's H×W. For occlusion, the patch positions down and across: cell (r, c) is the patch
   * at [r·stride, r·stride + patch) × [c·stride, c·stride + patch): centres from patch/2 in steps of stride
   * (near, not exactly on, the equal cells ClassMap describes; at 224 with 32/16, 16 … 208 px).
   */
  rows: number;
  cols: number;
  /** Side of the square center crop the model saw; grids are in its coordinates. */
  crop: number;
  /** The top classes, most probable first (EigenCAM: one class-agnostic map); empty when `reason` says why. */
  classes: ExplainedClass[];
  /** Why there are no maps, or why EigenCAM stands in for CAM; null otherwise. */
  reason: string | null;
  /** Occlusion: the patch side and stride in crop pixels. */
  patch?: number;
  stride?: number;
  /** Score-CAM: the channels used. */
  channels?: number;
  /** Images the model scored for this request (occlusion, Score-CAM, metrics; repeats are scored once). */
  scored: number;
  /** Milliseconds: the maps, the metrics, and the whole request in the worker. */
  ms: { map: number; metrics: number; total: number };
}
