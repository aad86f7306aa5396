// Grad-CAM (Selvaraju et al. 2017) and HiResCAM (Draelos & Carin 2020) from a layer's activations A and
// the gradient of a class logit with respect to them, both [C, H, W] for one image. Grad-CAM weights each
// channel by its gradient averaged over H×W; HiResCAM multiplies element by element, so that each position
// keeps its own gradient. The maps are raw sums: normaliseMap (ReLU, then /max) finishes them.

/** ∂y/∂A averaged over H×W for each of `channels` channels: Grad-CAM's α. */
export function meanGradient(gradient: Float32Array, channels: number): Float64Array {
  const plane = gradient.length / channels;
  const alpha = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let i = c * plane; i < (c + 1) * plane; i++) sum += gradient[i]!;
    alpha[c] = sum / plane;
  }
  return alpha;
}

/** Σ_c α_c · A_c over the H×W plane. */
export function gradCamMap(acts: Float32Array, alpha: Float64Array): Float64Array {
  const channels = alpha.length;
  const plane = acts.length / channels;
  const out = new Float64Array(plane);
  for (let c = 0; c < channels; c++) {
    const a = alpha[c]!;
    if (a === 0) continue;
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[i]! += a * acts[base + i]!;
  }
  return out;
}

/** Σ_c ∂y/∂A_c ⊙ A_c over the H×W plane. */
export function hiResCamMap(acts: Float32Array, gradient: Float32Array, channels: number): Float64Array {
  const plane = acts.length / channels;
  const out = new Float64Array(plane);
  for (let c = 0; c < channels; c++) {
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[i]! += gradient[base + i]! * acts[base + i]!;
  }
  return out;
}
