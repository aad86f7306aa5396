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
 * more than `iouThreshold`; stops at `max` kept. The order comes from a heap, so that a crowd of thousands
 * of candidates is not sorted whole when a few hundred are kept.
 */
export function suppress(
  candidates: readonly Candidate[],
  confidence: number,
  iouThreshold: number,
  max: number,
): Candidate[] {
  const heap = new CandidateHeap(candidates.filter((c) => c.score > confidence));
  const kept: Candidate[] = [];
  const byClass = new Map<number, Candidate[]>();
  for (let c = heap.pop(); c && kept.length < max; c = heap.pop()) {
    const same = byClass.get(c.cls);
    if (same?.some((k) => iou(k.box, c.box) > iouThreshold)) continue;
    if (same) same.push(c);
    else byClass.set(c.cls, [c]);
    kept.push(c);
  }
  return kept;
}

/** A binary max-heap of candidates: higher score first, then lower anchor. */
class CandidateHeap {
  constructor(private readonly items: Candidate[]) {
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  pop(): Candidate | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      this.down(0);
    }
    return top;
  }

  private before(a: Candidate, b: Candidate): boolean {
    return a.score > b.score || (a.score === b.score && a.anchor < b.anchor);
  }

  private down(start: number): void {
    const items = this.items;
    const n = items.length;
    for (let i = start; ; ) {
      const [l, r] = [2 * i + 1, 2 * i + 2];
      let best = i;
      if (l < n && this.before(items[l]!, items[best]!)) best = l;
      if (r < n && this.before(items[r]!, items[best]!)) best = r;
      if (best === i) return;
      [items[i], items[best]] = [items[best]!, items[i]!];
      i = best;
    }
  }
}
