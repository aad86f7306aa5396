// Maps that need no gradients: occlusion sensitivity (Zeiler & Fergus 2014) — how much the class probability
// drops when a patch of the image is replaced by the baseline — and Score-CAM (Wang et al. 2020) — the layer's
// channels weighted by how confident the model is when it sees the image through each channel's map.
import type { Scorer } from './faithfulness';
import { maskWith, upsample, type Grid } from './maps';

/** Options of an occlusion map. */
export interface OcclusionOptions {
  crop: number;
  /** Side of the square patch, in crop pixels (default 32). */
  patch?: number;
  /** Step between patches (default patch / 2). */
  stride?: number;
}

/** Occlusion sensitivity: a grid of probability drops, one cell per patch position. */
export async function occlusionMap(
  image: Float32Array,
  baseline: Float32Array,
  score: Scorer,
  opts: OcclusionOptions,
): Promise<Grid> {
  const crop = opts.crop;
  const patch = Math.min(crop, Math.max(1, Math.round(opts.patch ?? 32)));
  const stride = Math.max(1, Math.round(opts.stride ?? patch / 2));
  const positions = Math.floor((crop - patch) / stride) + 1;
  const plane = crop * crop;
  const channels = image.length / plane;
  const images: Float32Array[] = [image];
  for (let py = 0; py < positions; py++) {
    for (let px = 0; px < positions; px++) {
      const x = Float32Array.from(image);
      for (let c = 0; c < channels; c++) {
        for (let y = py * stride; y < py * stride + patch; y++) {
          const row = c * plane + y * crop;
          x.set(baseline.subarray(row + px * stride, row + px * stride + patch), row + px * stride);
        }
      }
      images.push(x);
    }
  }
  const p = await score(images);
  const full = p[0]!;
  return { rows: positions, cols: positions, values: p.slice(1).map((q) => full - q) };
}

/** One layer's activations for one image: channels × height × width. */
export interface Activations {
  channels: number;
  height: number;
  width: number;
  data: Float32Array;
}

/**
 * Score-CAM over the `k` channels with the highest mean activation: each channel, upsampled and scaled to
 * 0…1, masks the image; the class probabilities of the masked images (softmax over the k, as the paper
 * does) weight the channels.
 */
export async function scoreCam(
  image: Float32Array,
  baseline: Float32Array,
  acts: Activations,
  score: Scorer,
  crop: number,
  k: number,
): Promise<Grid> {
  const plane = acts.height * acts.width;
  const means = Array.from({ length: acts.channels }, (_, c) => {
    let s = 0;
    for (let i = 0; i < plane; i++) s += acts.data[c * plane + i]!;
    return s / plane;
  });
  const top = means
    .map((m, c) => [m, c] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, Math.min(k, acts.channels))
    .map(([, c]) => c);
  const masks = top.map((c) => {
    const values = acts.data.subarray(c * plane, (c + 1) * plane);
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    const span = max - min || 1;
    return upsample(
      { rows: acts.height, cols: acts.width, values: Array.from(values, (v) => (v - min) / span) },
      crop,
    );
  });
  const p = await score(masks.map((m) => maskWith(image, m, baseline)));
  const top1 = Math.max(...p);
  const e = p.map((v) => Math.exp(v - top1));
  const sum = e.reduce((a, b) => a + b, 0);
  const weights = e.map((v) => v / sum);
  const values = new Float64Array(plane);
  top.forEach((c, j) => {
    for (let i = 0; i < plane; i++) values[i]! += weights[j]! * acts.data[c * plane + i]!;
  });
  return { rows: acts.height, cols: acts.width, values: Array.from(values, (v) => Math.max(0, v)) };
}
