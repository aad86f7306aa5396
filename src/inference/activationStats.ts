// Summaries of activation tensors: whole-tensor statistics and per-channel ranking. Pure functions over
// Float32Arrays; the exploration worker runs them over ~11 M values per image, so each is one tight loop.
import { HISTOGRAM_BINS, type FeatureMapChannel } from '../shared/exploration';

/** Whole-tensor statistics of one activation tensor. */
export interface TensorStats {
  mean: number;
  max: number;
  min: number;
  zero_fraction: number;
  histogram: number[];
}

/** Mean, extremes, share of exact zeros and a HISTOGRAM_BINS-bin histogram over [min, max]. */
export function tensorStats(data: Float32Array): TensorStats {
  const n = data.length;
  if (n === 0)
    return {
      mean: 0,
      max: 0,
      min: 0,
      zero_fraction: 0,
      histogram: new Array<number>(HISTOGRAM_BINS).fill(0),
    };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let zeros = 0;
  // Indices in these loops stay below the data's length.
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    zeros += +(v === 0); // branch-free: after ReLU, zeros come unpredictably (2× faster measured)
  }
  // One spare bin takes the maximum itself ((max - min) · scale = BINS), so the loop needs no clamp.
  const counts = new Int32Array(HISTOGRAM_BINS + 1);
  const range = max - min;
  if (range > 0) {
    const scale = HISTOGRAM_BINS / range;
    for (let i = 0; i < n; i++) counts[((data[i]! - min) * scale) | 0]!++;
    counts[HISTOGRAM_BINS - 1]! += counts[HISTOGRAM_BINS]!;
  } else counts[0] = n;
  return {
    mean: sum / n,
    max,
    min,
    zero_fraction: zeros / n,
    histogram: Array.from(counts.subarray(0, HISTOGRAM_BINS)),
  };
}

/** Per-channel mean, min and max of an NC… tensor (batch 1) whose channels each hold `plane` values. */
export function channelStats(data: Float32Array, channels: number, plane: number): FeatureMapChannel[] {
  const out: FeatureMapChannel[] = [];
  for (let c = 0; c < channels; c++) {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    const end = (c + 1) * plane;
    for (let i = c * plane; i < end; i++) {
      const v = data[i]!;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    out.push({ channel: c, mean: plane > 0 ? sum / plane : 0, min, max });
  }
  return out;
}

/**
 * The mean of each channel of a batch-1 tensor: over H×W for [1, C, H, W] ([1, H, W, C] when
 * `channelsLast`), the values themselves for [1, C] (fc's logits).
 */
export function channelMeans(data: Float32Array, dims: readonly number[], channelsLast = false): number[] {
  const channels = (channelsLast ? dims[dims.length - 1] : dims[1]) ?? 1;
  if (channels <= 0 || data.length === 0) return [];
  const plane = data.length / channels;
  const sums = new Float64Array(channels);
  if (channelsLast) for (let i = 0; i < data.length; i++) sums[i % channels]! += data[i]!;
  else
    for (let c = 0; c < channels; c++) {
      let sum = 0;
      const end = (c + 1) * plane;
      for (let i = c * plane; i < end; i++) sum += data[i]!;
      sums[c] = sum;
    }
  return Array.from(sums, (s) => s / plane);
}

/** Channels ranked by mean activation, strongest first (ties: lower channel first). */
export function rankChannels(stats: FeatureMapChannel[]): FeatureMapChannel[] {
  return [...stats].sort((a, b) => b.mean - a.mean || a.channel - b.channel);
}

/** Copies the planes of `picked` channels, in that order, into one new array. */
export function gatherPlanes(
  data: Float32Array,
  picked: readonly FeatureMapChannel[],
  plane: number,
): Float32Array {
  const out = new Float32Array(picked.length * plane);
  picked.forEach((m, i) => out.set(data.subarray(m.channel * plane, (m.channel + 1) * plane), i * plane));
  return out;
}
