// Model output → ranked predictions.

/** One ranked class. */
export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

/** Numerically stable softmax of one row. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** The `k` most probable classes, highest first (ties: lower index first). */
export function topK(probabilities: ArrayLike<number>, k: number, labels: readonly string[]): Prediction[] {
  const order = Array.from({ length: probabilities.length }, (_, i) => i);
  order.sort((a, b) => probabilities[b] - probabilities[a] || a - b);
  return order.slice(0, Math.max(0, k)).map((index) => ({
    index,
    label: labels[index] ?? `class ${index}`,
    probability: probabilities[index],
  }));
}
