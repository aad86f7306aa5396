// Detectors and segmenters: which rows are the backbone, the neck, the head and the post-processing, read
// from the graph's structure (ultralytics' `task` metadata only says whether a graph is one):
// - post-processing: rows off the image grid with no learned layer after them (box decoding with its DFL
//   expectation, anchors and strides, score sigmoid, the concatenations over scales, NMS);
// - head: walked back from there (or from the outputs on the grid) along rows whose output only the head
//   reads, up to the tensor the branches fork from (the neck's P3, P4, P5);
// - neck: what the rest computes from the first upsampling on (FPN/PAN paths, a U-Net's decoder);
// - backbone: the rest, up to and including the tensor that upsampling reads (YOLO's SPPF).
import type { OnnxGraph } from '../onnxGraph';
import type { GraphShapes, Shape } from '../shapes';
import type { RowFacts } from './blocks';
import type { RowGraph } from './rows';

/** One branch group of the head: the rows that read one forked tensor, at its stride. */
export interface HeadGroup {
  rows: number[];
  /** Input pixels per position of the tensor the branches read; null when it is not on the grid. */
  stride: number | null;
  /** Whether the branches end in a graph output on the grid (YOLO's mask prototypes, a segmenter's map). */
  toOutput: boolean;
}

/** The rows of a dense-prediction graph by part, each in graph order. */
export interface DenseParts {
  backbone: number[];
  neck: number[];
  heads: HeadGroup[];
  post: number[];
}

const DENSE_TASKS = new Set(['detect', 'segment', 'pose', 'obb']);
const UPSAMPLING = new Set(['Resize', 'Upsample', 'ConvTranspose', 'DepthToSpace']);
const JOINS = new Set(['Add', 'Sum', 'Concat']);

/** Who reads a row's outputs and who makes its inputs. */
interface Links {
  readers: (r: number) => number[];
  producers: (r: number) => number[];
}

/** The parts of a detector or segmenter; undefined for any other graph (a classifier keeps its stages). */
export function denseParts(
  g: OnnxGraph,
  shapes: GraphShapes,
  rg: RowGraph,
  facts: RowFacts[],
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
  const all = rg.rows.map((r) => r.index);
  const post = postRows(all, facts, onGrid, links);
  const isOutput = (r: number): boolean => rg.rows[r]!.outputs.some((t) => rg.outputs.includes(t));
  const head = headRows(all, post, isOutput, facts, shapes, links);
  const rest = all.filter((r) => !head.has(r) && !post.has(r));
  const backbone = backboneRows(rest, facts, shapes, links);
  return {
    backbone: rest.filter((r) => backbone.has(r)),
    neck: rest.filter((r) => !backbone.has(r)),
    heads: headGroups(
      all.filter((r) => head.has(r)),
      rg,
      links.producers,
      isOutput,
      post,
      grid,
      shapes,
    ),
    post: all.filter((r) => post.has(r)),
  };
}

/** Rows off the image grid with no learned layer after them. */
function postRows(all: number[], facts: RowFacts[], onGrid: boolean[], links: Links): Set<number> {
  // A learned layer is one on the grid, or a fully connected one (a two-stage detector's box head): DFL's
  // fixed 1×1 expectation over the bins is neither.
  const learned = (r: number): boolean =>
    facts[r]!.weighted && (onGrid[r]! || /Gemm|MatMul/.test(facts[r]!.op));
  const learnedAfter = new Array<boolean>(all.length).fill(false);
  for (let r = all.length - 1; r >= 0; r--)
    learnedAfter[r] = links.readers(r).some((c) => learned(c) || learnedAfter[c]!);
  return new Set(all.filter((r) => !onGrid[r]! && !learned(r) && !learnedAfter[r]!));
}

/**
 * The head: from the rows that only the post-processing reads (or that make an output), back along rows
 * whose output one row reads, up to the tensors the branches fork from.
 */
function headRows(
  all: number[],
  post: ReadonlySet<number>,
  isOutput: (r: number) => boolean,
  facts: RowFacts[],
  shapes: GraphShapes,
  { readers, producers }: Links,
): Set<number> {
  const seeds = all.filter(
    (r) => !post.has(r) && (isOutput(r) || (readers(r).length > 0 && readers(r).every((c) => post.has(c)))),
  );
  // A detector's per-scale branches are plain chains: a join, or a row reading one, ends a neck block
  // (YOLOv5's C3). A segmenter's head may join branches of its own (ASPP, LR-ASPP), but not a residual
  // block's shortcut (FCN's head reads the backbone's last Add) or a decoder's skip connection (U-Net).
  const detector = post.size > 0;
  const mergesUpsampled = (j: number): boolean => producers(j).some((q) => upsamples(facts[q]!, shapes));
  const ownJoin = (j: number): boolean =>
    !detector && !mergesUpsampled(j) && producers(j).every((q) => readers(q).length === 1);
  const head = new Set(seeds);
  const stack = [...seeds];
  while (stack.length > 0) {
    for (const p of producers(stack.pop()!)) {
      if (head.has(p) || post.has(p) || readers(p).length !== 1) continue;
      if (JOINS.has(facts[p]!.op) && !ownJoin(p)) continue;
      if (producers(p).some((q) => JOINS.has(facts[q]!.op) && (detector || mergesUpsampled(q)))) continue;
      head.add(p);
      stack.push(p);
    }
  }
  return head;
}

/** The backbone: all that the first upsampling reads is computed from (everything, without one). */
function backboneRows(rest: number[], facts: RowFacts[], shapes: GraphShapes, links: Links): Set<number> {
  const up = rest.find((r) => upsamples(facts[r]!, shapes));
  const entry = up === undefined ? undefined : links.producers(up)[0];
  if (entry === undefined) return new Set(rest);
  const inRest = new Set(rest);
  const backbone = new Set<number>();
  const stack = [entry];
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
  grid: (s: Shape) => number | null,
  shapes: GraphShapes,
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
      group = { rows: [], stride: grid(shapes.shapes.get(fork.get(r)!) ?? null), toOutput };
      groups.set(key, group);
    }
    group.rows.push(r);
  }
  return [...groups.values()].sort((a, b) => a.rows[0]! - b.rows[0]!);
}

/** Whether a graph predicts per position or per box rather than per image. */
function isDense(
  g: OnnxGraph,
  shapes: GraphShapes,
  rg: RowGraph,
  facts: RowFacts[],
  grid: (s: Shape) => number | null,
  onGrid: boolean[],
): boolean {
  const task = g.metadata.task;
  if (task !== undefined) return DENSE_TASKS.has(task);
  if (g.nodes.some((n) => n.op === 'NonMaxSuppression')) return true;
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
  return rg.outputs.some((t) => {
    const s = shapes.shapes.get(t);
    if (!s) return false;
    if (s.length === 3)
      return s.some((d) => typeof d === 'number' && sums.some((a) => d === a || d === 3 * a));
    // A map finer than the coarsest feature map: the network upsampled again (a segmenter).
    const stride = grid(s);
    return stride !== null && typeof s[2] === 'number' && typeof s[3] === 'number' && s[2] * s[3] > areas[0]!;
  });
}

/** The stride of a 4-D tensor on the input image's grid (input size over 2^k, rounded either way), else null. */
export function gridOf(g: OnnxGraph, shapes: GraphShapes): (s: Shape) => number | null {
  const input = shapes.shapes.get(g.inputs[0]?.name ?? '');
  const [h, w] = [input?.[2], input?.[3]];
  return (s) => {
    if (typeof h !== 'number' || typeof w !== 'number' || !s || s.length !== 4) return null;
    const [y, x] = [s[2], s[3]];
    for (let k = 0; k <= 7; k++) {
      const f = 2 ** k;
      const fits = (d: unknown, n: number): boolean => d === Math.floor(n / f) || d === Math.ceil(n / f);
      if (fits(y, h) && fits(x, w)) return f;
    }
    return null;
  };
}

/** Whether a row makes a feature map (more than 1×1) larger: the neck's top-down path, a decoder. */
function upsamples(f: RowFacts, shapes: GraphShapes): boolean {
  if (!UPSAMPLING.has(f.op)) return false;
  const x = shapes.shapes.get(f.row.anchor.inputs[0] ?? '');
  const y = f.out;
  const area = (s: Shape): number =>
    s && s.length === 4 && typeof s[2] === 'number' && typeof s[3] === 'number' ? s[2] * s[3] : 0;
  return area(x ?? null) > 1 && area(y) > area(x ?? null);
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
