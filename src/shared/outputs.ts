// What a classifier's output holds, which decides how CNN Lens turns it into the scores it shows.

/**
 * - `logits`: unnormalised scores; CNN Lens applies softmax.
 * - `probabilities`: the graph ends in Softmax (Keras applications, ultralytics' classifiers): shown as they are.
 * - `log-probabilities`: the graph ends in LogSoftmax: exp gives the probabilities.
 * - `sigmoid`: the graph ends in Sigmoid, a multi-label head: each class's own score, which need not sum to 1.
 */
export type OutputKind = 'logits' | 'probabilities' | 'log-probabilities' | 'sigmoid';

export const OUTPUT_KINDS: readonly OutputKind[] = [
  'logits',
  'probabilities',
  'log-probabilities',
  'sigmoid',
];
