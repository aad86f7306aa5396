// Whether a graph predicts per position or per box (a detector or a segmenter) rather than per image, and
// where its tensors sit on the input image's grid. Read from the graph alone: ultralytics' `task` metadata,
// NMS or its results among the outputs, anchors over several scales, or a class map finer than the
// coarsest feature map.
import { DataType, type OnnxGraph, type ValueInfo } from '../onnxGraph';
import type { GraphShapes, Shape } from '../shapes';
import type { RowFacts } from './blocks';
import type { RowGraph } from './rows';

const DENSE_TASKS = new Set(['detect', 'segment', 'pose', 'obb']);
const INTEGER_TYPES: ReadonlySet<number> = new Set([DataType.INT64, DataType.INT32]);

/** Whether a graph predicts per position or per box rather than per image. */
export function isDense(
  g: OnnxGraph,
  shapes: GraphShapes,
  rg: RowGraph,
  facts: RowFacts[],
  grid: (s: Shape) => number | null,
  onGrid: boolean[],
): boolean {
  const task = g.metadata.task;
  if (task !== undefined) return DENSE_TASKS.has(task);
  if (g.nodes.some((n) => n.op === 'NonMaxSuppression') || boxesOut(g, shapes)) return true;
  // Positions of the feature maps the layers compute (more than 1×1).
  const areas = [
    ...new Set(
      facts.flatMap((f, r) => {
        const out = f.out;
        return f.weighted && onGrid[r] && out && typeof out[2] === 'number' && typeof out[3] === 'number'
          ? [out[2] * out[3]]
          : [];
      }),
    ),
  ]
    .filter((a) => a > 1)
    .sort((a, b) => a - b);
  if (areas.length === 0) return false;
  // Anchors over several scales (YOLO's 80² + 40² + 20² = 8400, three per position in v5).
  const sums = areas.slice(1).map((_, k) => areas.slice(0, k + 2).reduce((s, a) => s + a, 0));
  // Atrous convolutions exist to keep a map fine enough to predict per pixel (DeepLab at stride 8): with
  // them, a map is a prediction even at the backbone's own resolution. A headless trunk has none.
  const atrous = facts.some((f, r) => f.weighted && onGrid[r] && (f.dilation ?? 1) > 1);
  return rg.outputs.some((t) => {
    const s = shapes.shapes.get(t);
    if (!s) return false;
    if (s.length === 3)
      return s.some((d) => typeof d === 'number' && sums.some((a) => d === a || d === 3 * a));
    // A map finer than the coarsest feature map: the network upsampled again (a segmenter).
    const stride = grid(s);
    if (stride === null || typeof s[2] !== 'number' || typeof s[3] !== 'number') return false;
    return s[2] * s[3] > (atrous ? 1 : areas[0]!);
  });
}

/**
 * Whether the graph ends in NMS's results, boxes [K, 4] with integer labels [K] (torchvision's detectors:
 * their NMS sits in an If's subgraph, out of sight of the main graph's nodes).
 */
function boxesOut(g: OnnxGraph, shapes: GraphShapes): boolean {
  // Inference cannot follow NMS: the declared shapes say it.
  const shape = (o: ValueInfo): Shape => shapes.shapes.get(o.name) ?? o.shape;
  return (
    g.outputs.some((o) => shape(o)?.length === 2 && shape(o)?.[1] === 4) &&
    g.outputs.some((o) => shape(o)?.length === 1 && INTEGER_TYPES.has(o.elemType))
  );
}

/**
 * The stride of a 4-D tensor on the input image's grid (input size over 2^k, rounded either way, down to
 * 1×1: SSD's last extra level), else null.
 */
export function gridOf(g: OnnxGraph, shapes: GraphShapes): (s: Shape) => number | null {
  const input = shapes.shapes.get(g.inputs[0]?.name ?? '');
  // torchvision's detectors take one image without a batch axis, [C, H, W].
  const [h, w] = input?.length === 3 ? [input[1], input[2]] : [input?.[2], input?.[3]];
  return (s) => {
    if (typeof h !== 'number' || typeof w !== 'number' || !s || s.length !== 4) return null;
    const [y, x] = [s[2], s[3]];
    for (let f = 1; f <= 2 * Math.max(h, w); f *= 2) {
      const fits = (d: unknown, n: number): boolean => d === Math.floor(n / f) || d === Math.ceil(n / f);
      if (fits(y, h) && fits(x, w)) return f;
    }
    return null;
  };
}
