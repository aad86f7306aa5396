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
  /** The layer-table row whose output the maps weight, e.g. 'conv5_3 c 1×1, 2048'. */
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
