// Whether a map explains the model: deletion and insertion curves (Petsiuk et al. 2018) — the class
// probability as the map's most salient pixels are removed from the image (replaced by the mean colour, the
// zero input after normalisation), or added to a blurred copy — and their areas; Average Drop and Increase
// in Confidence (Chattopadhyay et al. 2018) of the image seen through the map (faded to the mean colour
// where the map is low). The same figures for a random map show whether the map beats chance.
import type { MapMetrics, MapScores } from '../../shared/exploration';
import { blurred, maskWith, pixelOrder, randomGrid, upsample, type Grid } from './maps';

/** Class probabilities of a batch of preprocessed images (NCHW each) for one class. */
export type Scorer = (images: Float32Array[]) => Promise<number[]>;

/** Faithfulness of one map for one class: the figures the panel and the CLI show. */
export type Faithfulness = MapScores;

/** The map's figures and a random map's, side by side. */
export type FaithfulnessReport = MapMetrics;

/** Options of a faithfulness run. */
export interface FaithfulnessOptions {
  crop: number;
  /** Curve steps (default 20: 21 points from 0 to all pixels). */
  steps?: number;
  /** Radius of the box blur (three passes) that makes the insertion baseline (default crop/28, 8 px at 224). */
  blurRadius?: number;
  /** Seed of the random map. */
  seed?: number;
}

/**
 * Deletion/insertion curves, AUCs, Average Drop and Increase in Confidence of `map` for the class that
 * `score` scores, and the same for a random map. All images go to `score` in two calls (one per map), so a
 * caller can batch them: a 20-step pair of curves is 43 images.
 */
export async function faithfulness(
  image: Float32Array,
  map: Grid,
  score: Scorer,
  opts: FaithfulnessOptions,
): Promise<FaithfulnessReport> {
  const steps = opts.steps ?? 20;
  const crop = opts.crop;
  const baselines = {
    mean: new Float32Array(image.length),
    blur: blurred(image, crop, opts.blurRadius ?? Math.max(1, Math.round(crop / 28))),
  };
  const ours = await measure(image, baselines, map, score, crop, steps);
  const noise = randomGrid(map.rows, map.cols, opts.seed ?? 7);
  const random = await measure(image, baselines, noise, score, crop, steps);
  return { ...ours, random };
}

async function measure(
  image: Float32Array,
  baselines: { mean: Float32Array; blur: Float32Array },
  map: Grid,
  score: Scorer,
  crop: number,
  steps: number,
): Promise<Faithfulness> {
  const saliency = upsample(normalised(map), crop);
  const order = pixelOrder(saliency);
  const plane = crop * crop;
  const channels = image.length / plane;
  const images: Float32Array[] = [];
  for (const mode of ['deletion', 'insertion'] as const) {
    for (let s = 0; s <= steps; s++) {
      const n = Math.round((s / steps) * plane);
      const x = Float32Array.from(mode === 'deletion' ? image : baselines.blur);
      const from = mode === 'deletion' ? baselines.mean : image;
      for (let k = 0; k < n; k++) {
        const p = order[k]!;
        for (let c = 0; c < channels; c++) x[c * plane + p] = from[c * plane + p]!;
      }
      images.push(x);
    }
  }
  // The image seen through the map: salient pixels kept, the rest faded towards the baseline.
  images.push(maskWith(image, saliency, baselines.mean), image);
  const p = await score(images);
  const deletion = p.slice(0, steps + 1);
  const insertion = p.slice(steps + 1, 2 * steps + 2);
  const [masked, full] = p.slice(2 * steps + 2) as [number, number];
  return {
    deletion,
    deletion_auc: auc(deletion),
    insertion,
    insertion_auc: auc(insertion),
    average_drop: full > 0 ? (Math.max(0, full - masked) / full) * 100 : 0,
    increase_in_confidence: masked > full ? 1 : 0,
  };
}

/** Area under a curve sampled at equal steps from 0 to 1 (trapezoids). */
export function auc(ys: number[]): number {
  if (ys.length < 2) return ys[0] ?? 0;
  let area = 0;
  for (let i = 1; i < ys.length; i++) area += (ys[i - 1]! + ys[i]!) / 2;
  return area / (ys.length - 1);
}

/** The map scaled to 0…1 (all zeros stays all zeros). */
function normalised(map: Grid): Grid {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < map.values.length; i++) {
    min = Math.min(min, map.values[i]!);
    max = Math.max(max, map.values[i]!);
  }
  const span = max - min;
  return { ...map, values: Array.from(map.values, (v) => (span > 0 ? (v - min) / span : 0)) };
}
