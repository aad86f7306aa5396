// Model output → ranked predictions.
import type { OutputKind } from '../shared/outputs';

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

// How far from 1 a row may sum and still be read as probabilities the model computed itself.
const SUMS_TO_ONE = 1e-3;

/**
 * A row of the class output as the scores CNN Lens shows: softmax of logits, exp of log-probabilities, and
 * probabilities and sigmoid scores as they are. A "logits" row that is already a distribution (non-negative,
 * summing to 1: a Softmax the descriptor did not declare) is never softmaxed a second time.
 */
export function toScores(row: ArrayLike<number>, kind: OutputKind): Float64Array {
  switch (kind) {
    case 'probabilities':
    case 'sigmoid':
      return Float64Array.from(row);
    case 'log-probabilities':
      return Float64Array.from(row, Math.exp);
    case 'logits':
      return isDistribution(row) ? Float64Array.from(row) : softmax(row);
  }
}

/** Whether the values are non-negative and sum to 1 (within float32 rounding over many classes). */
export function isDistribution(row: ArrayLike<number>): boolean {
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (!(v >= 0)) return false;
    sum += v;
  }
  return row.length > 1 && Math.abs(sum - 1) <= SUMS_TO_ONE;
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
