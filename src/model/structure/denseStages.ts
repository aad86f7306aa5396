// The stages of a detector or segmenter: the pre-processing's rows (torchvision's transform), the backbone
// with its blocks found as a classifier's are, the neck with one block per level of its paths (an upsampling
// or a strided layer, the concatenation or sum with the lateral, and the layers after it, up to the map a
// head reads), the head with one block per scale named by its stride (the mask prototypes, a two-stage
// detector's RPN per level and RoI box head apart; a segmenter's ASPP as its own block), and the
// post-processing's rows.
import { blockOf, findBlocks, type BlockKind, type Part, type RowFacts, type Unit } from './blocks';
import type { DenseParts, HeadGroup } from './dense';
import { decomposeRows } from './regions';
import type { RowGraph } from './rows';
import type { StagePlan } from './stages';

const JOINS = new Set(['Add', 'Sum', 'Concat']);
const UPSAMPLING = new Set(['Resize', 'Upsample', 'ConvTranspose', 'DepthToSpace']);

/** Stages pre-processing, backbone, neck, head and post-processing (those the graph has), in that order. */
export function densePlans(
  parts: DenseParts,
  rg: RowGraph,
  facts: RowFacts[],
  strideOf: (row: number) => number | null,
): StagePlan[] {
  const plans: StagePlan[] = [];
  // The image's normalisation and resize are no layers, as the box decoding is not.
  if (parts.pre.length > 0)
    plans.push({
      place: 'post',
      name: 'pre-processing',
      units: parts.pre.map((row) => ({ kind: 'row', row })),
    });
  plans.push({
    place: 'body',
    name: 'backbone',
    units: findBlocks(decomposeRows(rg, parts.backbone), rg, facts),
  });
  // The rows whose output a head reads: a pyramid level's output, where a neck level ends.
  const tapped = new Set(
    parts.heads.flatMap((h) => h.rows.flatMap((r) => rg.rows[r]!.inputs.map((t) => rg.producer.get(t)))),
  );
  if (parts.neck.length > 0)
    plans.push({ place: 'body', name: 'neck', units: neckLevels(parts.neck, rg, facts, strideOf, tapped) });
  // A two-stage detector's heads on the grid propose the boxes its RoI head classifies.
  const proposals = parts.heads.some((h) => h.boxes);
  if (parts.heads.length > 0)
    plans.push({
      place: 'head',
      name: 'head',
      units: parts.heads.flatMap((h) =>
        parts.detector ? [headBlock(h, true, proposals, rg)] : segmenterHead(h, rg, facts),
      ),
    });
  if (parts.post.length > 0)
    plans.push({
      place: 'post',
      name: 'post-processing',
      units: parts.post.map((row) => ({ kind: 'row', row })),
    });
  uniqueBlockNames(plans);
  return plans;
}

/**
 * A segmenter's head: DeepLab's ASPP as its block, with the layers after it as rows; any other head is one
 * block named by its stride (FCN's 3×3 and classifier, LR-ASPP's branch per scale).
 */
function segmenterHead(h: HeadGroup, rg: RowGraph, facts: RowFacts[]): Unit[] {
  const units = findBlocks(decomposeRows(rg, h.rows), rg, facts);
  if (!units.some((u) => u.kind === 'block' && u.block.kind === 'ASPP'))
    return [headBlock(h, false, false, rg)];
  // Only the ASPP is a module; what blocks the rest would make (a 3×3 and a 1×1 read as an inverted
  // residual without its residual) are no paper's.
  return units.flatMap((u): Unit[] => {
    if (u.kind !== 'block') return [u];
    if (u.block.kind !== 'ASPP') return u.block.rows.map((row) => ({ kind: 'row', row }));
    return [{ kind: 'block', block: { ...u.block, name: 'ASPP' } }];
  });
}

/** Block names are keys (of rows, of feature maps): a second level at the same stride is '… #2'. */
function uniqueBlockNames(plans: StagePlan[]): void {
  const seen = new Map<string, number>();
  for (const u of plans.flatMap((p) => p.units)) {
    if (u.kind !== 'block' || u.block.name === undefined) continue;
    const n = (seen.get(u.block.name) ?? 0) + 1;
    seen.set(u.block.name, n);
    if (n > 1) u.block.name = `${u.block.name} #${n}`;
  }
}

/**
 * The neck's levels: each ends at a map the head reads, and opens at an upsampling (top-down) or a strided
 * layer (bottom-up) when the level has one already (SSD's extra level: 1×1, strided 3×3, 1×1).
 */
function neckLevels(
  rows: number[],
  rg: RowGraph,
  facts: RowFacts[],
  strideOf: (row: number) => number | null,
  tapped: ReadonlySet<number | undefined>,
): Unit[] {
  const levels: { kind: BlockKind | null; rows: number[]; closed: boolean }[] = [];
  for (const r of rows) {
    const f = facts[r]!;
    const opens = UPSAMPLING.has(f.op)
      ? 'top-down'
      : f.stride > 1 && (f.weighted || f.row.kind === 'pool')
        ? 'bottom-up'
        : null;
    const level = levels.at(-1);
    if (!level || level.closed || (opens && level.kind))
      levels.push({ kind: opens, rows: [r], closed: false });
    else {
      level.kind ??= opens;
      level.rows.push(r);
    }
    levels.at(-1)!.closed = tapped.has(r);
  }
  return levels.map(({ kind, rows: level }) => {
    const parts = new Map<number, Part>();
    let k = 0;
    for (const r of level)
      parts.set(r, JOINS.has(facts[r]!.op) ? { part: 'join' } : { part: 'main', index: k++ });
    const stride = strideOf(level.at(-1)!);
    // FPN's top level, a lateral and its 3×3, begins the top-down path.
    const name = kind ?? 'top-down';
    return block(name, level, parts, rg, `${name} ${stride === null ? '' : pyramidLevel(stride)}`.trim());
  });
}

/**
 * A head group as one block: its branches (box, class, mask coefficients, keypoints) side by side; a
 * two-stage detector's are its RPN per level and its RoI box head.
 */
function headBlock(h: HeadGroup, detector: boolean, proposals: boolean, rg: RowGraph): Unit {
  const inGroup = new Set(h.rows);
  const branchOf = new Map<number, number>();
  let branches = 0;
  for (const r of h.rows) {
    const from = rg.rows[r]!.inputs.flatMap((t) => {
      const p = rg.producer.get(t);
      return p !== undefined && inGroup.has(p) ? [p] : [];
    });
    const of = new Set(from.map((p) => branchOf.get(p)).filter((b) => b !== undefined));
    // A row reading two branches joins them (YOLOv8's box and class outputs concatenated).
    if (from.length === 0) branchOf.set(r, ++branches);
    else if (of.size === 1) branchOf.set(r, [...of][0]!);
  }
  const parts = new Map<number, Part>();
  for (const r of h.rows) {
    const b = branchOf.get(r);
    if (b === undefined) parts.set(r, { part: 'join' });
    else {
      const chain = h.rows.filter((q) => branchOf.get(q) === b);
      const index = chain.indexOf(r);
      parts.set(
        r,
        branches > 1 ? { part: 'branch', branch: b, index, of: chain.length } : { part: 'main', index },
      );
    }
  }
  const prototypes = detector && h.toOutput;
  const level = h.stride === null ? 'head branch' : `${pyramidLevel(h.stride)} (stride ${h.stride})`;
  const name = prototypes ? 'mask prototypes' : h.boxes ? 'RoI box head' : proposals ? `RPN ${level}` : level;
  const unit = block(prototypes ? 'prototypes' : 'head branch', h.rows, parts, rg, name);
  if (unit.kind === 'block') {
    for (let b = 1; b <= branches; b++) unit.block.branches.push(h.rows.filter((q) => branchOf.get(q) === b));
  }
  return unit;
}

/** P3 for stride 8: the feature pyramid's level. */
function pyramidLevel(stride: number): string {
  return `P${Math.round(Math.log2(stride))}`;
}

function block(kind: BlockKind, rows: number[], parts: Map<number, Part>, rg: RowGraph, name: string): Unit {
  return blockOf(kind, rows, parts, rg, { name });
}
