// Model output → ranked predictions.

/** One ranked class. */
export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

/** Numerically stable softmax of one row. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(logits);
  const max = out.reduce((m, v) => Math.max(m, v), -Infinity);
  let sum = 0;
  for (let i = 0; i < out.length; i++) sum += out[i] = Math.exp(out[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** The `k` most probable classes, highest first (ties: lower index first). */
export function topK(probabilities: ArrayLike<number>, k: number, labels: readonly string[]): Prediction[] {
  const ranked = Array.from(probabilities, (probability, index) => ({ index, probability }));
  ranked.sort((a, b) => b.probability - a.probability || a.index - b.index);
  return ranked.slice(0, Math.max(0, k)).map(({ index, probability }) => ({
    index,
    label: labels[index] ?? `class ${index}`,
    probability,
  }));
}
