// Detectors and segmenters: which rows are the pre-processing, the backbone, the neck, the head and the
// post-processing, read from the graph's structure (./denseTask says whether a graph is one):
// - pre- and post-processing: the rows that are no layers (./denseEnds);
// - head: walked back from the post-processing (or from the outputs on the grid) along rows whose output
//   only the head reads, up to the tensors the branches fork from (the neck's P3, P4, P5), and the fully
//   connected layers on pooled boxes (Faster R-CNN's RoI head);
// - neck: what the rest computes from the first top-down resampling on (FPN/PAN paths, a U-Net's decoder)
//   with FPN's laterals, or without one the extra layers past an ImageNet trunk's stride 32 (SSD);
// - backbone: the rest, up to and including the tensor the top-down path starts from (YOLO's SPPF).
import type { OnnxGraph } from '../onnxGraph';
import type { GraphShapes, Shape } from '../shapes';
import type { RowFacts } from './blocks';
import { postRows, preRows, type Learned, type Links } from './denseEnds';
import { gridOf, isDense } from './denseTask';
import type { RowGraph } from './rows';

/** One branch group of the head: the rows that read one forked tensor, at its stride (effective, from the
 *  strides of the layers before it: SSD's extra 3×3 and 2×2 maps are strides 128 and 256). */
export interface HeadGroup {
  rows: number[];
  /** Input pixels per position of the tensor the branches read; null when it is not on the grid. */
  stride: number | null;
  /** Whether the branches end in a graph output on the grid (YOLO's mask prototypes, a segmenter's map). */
  toOutput: boolean;
  /** Whether the branches run on pooled boxes (a two-stage detector's RoI head), not on the grid. */
  boxes: boolean;
}

/** The rows of a dense-prediction graph by part, each in graph order. */
export interface DenseParts {
  pre: number[];
  backbone: number[];
  neck: number[];
  heads: HeadGroup[];
  post: number[];
  /** Whether it predicts boxes (post-processing off the grid), not a map. */
  detector: boolean;
}

const UPSAMPLING = new Set(['Resize', 'Upsample', 'ConvTranspose', 'DepthToSpace']);
const JOINS = new Set(['Add', 'Sum', 'Concat']);
// FPN levels deeper than this are extra layers on top of the trunk (ImageNet trunks end at stride 32).
const TRUNK_STRIDE = 32;

/** The parts of a detector or segmenter; undefined for any other graph (a classifier keeps its stages). */
export function denseParts(
  g: OnnxGraph,
  shapes: GraphShapes,
  rg: RowGraph,
  facts: RowFacts[],
  strideOf: (tensor: string) => number | null,
): DenseParts | undefined {
  const grid = gridOf(g, shapes);
  const anchorOut = (r: number): Shape => shapes.nodes[rg.rows[r]!.anchor.ids[0]!]!.outShape ?? null;
  const onGrid = rg.rows.map((r) => grid(anchorOut(r.index)) !== null);
  if (!isDense(g, shapes, rg, facts, grid, onGrid)) return undefined;
  const links: Links = {
    readers: (r) => [...new Set(rg.rows[r]!.outputs.flatMap((t) => rg.consumers.get(t) ?? []))],
    producers: (r) =>
      rg.rows[r]!.inputs.flatMap((t) => {
        const p = rg.producer.get(t);
        return p === undefined ? [] : [p];
      }),
  };
  // DFL's fixed 1×1 expectation over the bins is weighted, but neither on the grid nor fully connected.
  const kinds: Learned = {
    learned: (r) => facts[r]!.weighted && (onGrid[r]! || /Gemm|MatMul/.test(facts[r]!.op)),
    onGrid,
  };
  const all = rg.rows.map((r) => r.index);
  const pre = preRows(all, facts, kinds, links);
  const body = all.filter((r) => !pre.has(r));
  const post = postRows(body, facts, kinds, links);
  const detector = [...post].some((r) => !onGrid[r]!);
  const isOutput = (r: number): boolean => rg.rows[r]!.outputs.some((t) => rg.outputs.includes(t));
  const head = headRows(body, post, isOutput, facts, shapes, kinds, detector, links);
  const rest = all.filter((r) => !pre.has(r) && !head.has(r) && !post.has(r));
  const backbone = backboneRows(rest, facts, shapes, strideOf, links);
  return {
    pre: all.filter((r) => pre.has(r)),
    backbone: rest.filter((r) => backbone.has(r)),
    neck: rest.filter((r) => !backbone.has(r)),
    heads: headGroups(
      all.filter((r) => head.has(r)),
      rg,
      links.producers,
      isOutput,
      post,
      (t) => (grid(shapes.shapes.get(t) ?? null) === null ? null : strideOf(t)),
      onGrid,
    ),
    post: all.filter((r) => post.has(r)),
    detector,
  };
}

/**
 * The head: from the rows that only the post-processing reads (or that make an output), and the fully
 * connected layers on pooled boxes, back along rows whose output only the head reads, up to the tensors the
 * branches fork from.
 */
function headRows(
  all: number[],
  post: ReadonlySet<number>,
  isOutput: (r: number) => boolean,
  facts: RowFacts[],
  shapes: GraphShapes,
  { learned, onGrid }: Learned,
  detector: boolean,
  { readers, producers }: Links,
): Set<number> {
  const seeds = all.filter(
    (r) =>
      !post.has(r) &&
      (isOutput(r) ||
        (learned(r) && !onGrid[r]!) ||
        (readers(r).length > 0 && readers(r).every((c) => post.has(c)))),
  );
  // A detector's per-scale branches are plain chains: a join, or a row reading one, ends a neck block
  // (YOLOv5's C3). A segmenter's head may join branches of its own (ASPP, LR-ASPP), but not a residual
  // block's shortcut (FCN's head reads the backbone's last Add) or a decoder's skip connection (U-Net).
  const mergesUpsampled = (j: number): boolean => producers(j).some((q) => upsamples(facts[q]!, shapes));
  const ownJoin = (j: number): boolean =>
    !detector && !mergesUpsampled(j) && producers(j).every((q) => readers(q).length === 1);
  const last = new Set(seeds);
  const head = new Set(seeds);
  const stack = [...seeds];
  while (stack.length > 0) {
    for (const p of producers(stack.pop()!)) {
      // A row read only by the head's last layers is their shared trunk (the RPN's 3×3 conv under its
      // objectness and box 1×1s); a tensor several branches start from is a fork, not the head's.
      const rs = readers(p);
      const trunk = rs.length > 1 && rs.every((c) => last.has(c));
      if (head.has(p) || post.has(p) || (rs.length !== 1 && !trunk)) continue;
      // A head predicts at its level's resolution: a downsampling before it makes the level (FPN's max
      // pool to P6); YOLO's mask prototypes upsample on their own.
      if (facts[p]!.stride > 1 && !UPSAMPLING.has(facts[p]!.op)) continue;
      if (JOINS.has(facts[p]!.op) && !ownJoin(p)) continue;
      if (producers(p).some((q) => JOINS.has(facts[q]!.op) && (detector || mergesUpsampled(q)))) continue;
      head.add(p);
      stack.push(p);
    }
  }
  return head;
}

/**
 * The backbone: all that the first top-down resampling reads is computed from, but for FPN's top lateral;
 * without one, all but the extra layers past the trunk's stride (SSD's).
 */
function backboneRows(
  rest: number[],
  facts: RowFacts[],
  shapes: GraphShapes,
  strideOf: (tensor: string) => number | null,
  links: Links,
): Set<number> {
  const inRest = new Set(rest);
  const up = rest.find((r) => upsamples(facts[r]!, shapes, true));
  if (up === undefined) {
    // Extra layers: rows past stride 32 (and the 1×1 map after them, whose field is the whole image), and
    // rows that only they read (the 1×1 before a strided conv).
    const extra = new Set<number>();
    for (const r of rest) {
      const stride = strideOf(facts[r]!.row.tail);
      if ((stride ?? 0) > TRUNK_STRIDE || (stride === null && links.producers(r).some((p) => extra.has(p))))
        extra.add(r);
    }
    for (const r of [...rest].reverse()) {
      const readers = links.readers(r);
      const onlyExtra = readers.length > 0 && readers.every((c) => extra.has(c));
      if (onlyExtra) extra.add(r);
    }
    return new Set(rest.filter((r) => !extra.has(r)));
  }
  let entry = links.producers(up)[0];
  // FPN's top-down path starts at the top level's 1×1 lateral, the neck's as every lateral is: the maps
  // are summed (YOLO's PAN concatenates the backbone's own map).
  const lateral = (r: number): boolean =>
    facts[r]!.weighted &&
    facts[r]!.kernel?.every((k) => k === 1) === true &&
    links.readers(up).some((c) => facts[c]!.op === 'Add');
  if (entry !== undefined && lateral(entry)) entry = links.producers(entry)[0];
  const backbone = new Set<number>();
  const stack = entry === undefined ? [] : [entry];
  while (stack.length > 0) {
    const r = stack.pop()!;
    if (backbone.has(r) || !inRest.has(r)) continue;
    backbone.add(r);
    stack.push(...links.producers(r));
  }
  return backbone;
}

/**
 * The head's rows grouped by the tensor their branches fork from: one group per scale, and apart from
 * those the branches that end in a graph output (mask prototypes).
 */
function headGroups(
  head: number[],
  rg: RowGraph,
  producers: (r: number) => number[],
  isOutput: (r: number) => boolean,
  post: ReadonlySet<number>,
  strideOf: (tensor: string) => number | null,
  onGrid: boolean[],
): HeadGroup[] {
  const inHead = new Set(head);
  // Each row's fork: the tensor from outside the head its chain starts at.
  const fork = new Map<number, string>();
  for (const r of head) {
    const inside = producers(r).find((p) => inHead.has(p));
    fork.set(r, inside === undefined ? (rg.rows[r]!.inputs[0] ?? '') : fork.get(inside)!);
  }
  // A branch (a connected chain within one fork) goes to a graph output or to the post-processing.
  const readers = (r: number): number[] => rg.rows[r]!.outputs.flatMap((t) => rg.consumers.get(t) ?? []);
  const ends = new Map<number, boolean>();
  for (const r of [...head].reverse()) {
    const next = readers(r).filter((c) => inHead.has(c));
    ends.set(
      r,
      next.length > 0 ? next.some((c) => ends.get(c)!) : isOutput(r) && !readers(r).some((c) => post.has(c)),
    );
  }
  const groups = new Map<string, HeadGroup>();
  for (const r of head) {
    const toOutput = ends.get(r)!;
    const key = `${fork.get(r)!}\u0000${String(toOutput)}`;
    let group = groups.get(key);
    if (!group) {
      group = { rows: [], stride: strideOf(fork.get(r)!), toOutput, boxes: !onGrid[r]! };
      groups.set(key, group);
    }
    group.rows.push(r);
  }
  return [...groups.values()].sort((a, b) => a.rows[0]! - b.rows[0]!);
}

/**
 * Whether a row makes a feature map (more than 1×1) larger: the neck's top-down path, a decoder; with
 * `orSame`, also a resampling to the same size (FPN's nearest interpolation to a lateral as large).
 */
function upsamples(f: RowFacts, shapes: GraphShapes, orSame = false): boolean {
  if (!UPSAMPLING.has(f.op)) return false;
  const x = shapes.shapes.get(f.row.anchor.inputs[0] ?? '');
  const y = f.out;
  const area = (s: Shape): number =>
    s && s.length === 4 && typeof s[2] === 'number' && typeof s[3] === 'number' ? s[2] * s[3] : 0;
  const [before, after] = [area(x ?? null), area(y)];
  return before > 1 && (after > before || (orSame && after === before));
}

/**
 * Whether a dense-prediction graph is a U-Net: one per-pixel output, and a decoder (the neck) that upsamples
 * at least twice and joins the encoder's maps by concatenation at least twice.
 */
export function isUNet(g: OnnxGraph, shapes: GraphShapes, rg: RowGraph, parts: DenseParts): boolean {
  const [output] = g.outputs;
  const shape = output && g.outputs.length === 1 ? shapes.shapes.get(output.name) : undefined;
  if (!shape || shape.length !== 4) return false;
  const ops = (r: number): string[] => rg.rows[r]!.ids.map((id) => g.nodes[id]!.op);
  const count = (test: (op: string) => boolean): number => parts.neck.filter((r) => ops(r).some(test)).length;
  return count((op) => UPSAMPLING.has(op)) >= 2 && count((op) => op === 'Concat') >= 2;
}
