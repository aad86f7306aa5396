// Detection post-processing that needs no tensors: class-aware non-maximum suppression over candidate boxes.
// Shared by the worker (after decoding) and the panel (its sliders re-filter without re-running the model).

/** A scored box before suppression, in the model input's pixels. */
export interface Candidate {
  /** x1, y1, x2, y2. */
  box: [number, number, number, number];
  score: number;
  cls: number;
  /** The anchor (or output row) it came from, to find its mask coefficients, keypoints and head scale. */
  anchor: number;
}

/** Intersection over union of two x1 y1 x2 y2 boxes (0 when either has no area). */
export function iou(a: readonly number[], b: readonly number[]): number {
  const w = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const h = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy class-aware NMS, as torchvision's `batched_nms` and ultralytics' predict do it: candidates above
 * `confidence` best first (ties: lower anchor first), each kept unless it overlaps a kept box of its class by
 * more than `iouThreshold`; stops at `max` kept.
 */
export function suppress(
  candidates: readonly Candidate[],
  confidence: number,
  iouThreshold: number,
  max: number,
): Candidate[] {
  const ranked = candidates
    .filter((c) => c.score > confidence)
    .sort((a, b) => b.score - a.score || a.anchor - b.anchor);
  const kept: Candidate[] = [];
  const byClass = new Map<number, Candidate[]>();
  for (const c of ranked) {
    if (kept.length >= max) break;
    const same = byClass.get(c.cls) ?? [];
    if (same.some((k) => iou(k.box, c.box) > iouThreshold)) continue;
    same.push(c);
    byClass.set(c.cls, same);
    kept.push(c);
  }
  return kept;
}
