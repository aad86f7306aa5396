// The stages of a detector or segmenter: the backbone with its blocks found as a classifier's are, the neck
// with one block per level of its paths (an upsampling or a strided convolution, the concatenation with the
// lateral, and the layers after it), the head with one block per scale named by its stride (and the mask
// prototypes apart), and the post-processing's rows.
import { findBlocks, type BlockKind, type FoundBlock, type Part, type RowFacts, type Unit } from './blocks';
import type { DenseParts, HeadGroup } from './dense';
import { decomposeRows } from './regions';
import type { RowGraph } from './rows';
import type { StagePlan } from './stages';

const JOINS = new Set(['Add', 'Sum', 'Concat']);
const UPSAMPLING = new Set(['Resize', 'Upsample', 'ConvTranspose', 'DepthToSpace']);

/** Stages backbone, neck, head and post-processing (those the graph has), in that order. */
export function densePlans(
  parts: DenseParts,
  rg: RowGraph,
  facts: RowFacts[],
  strideOf: (row: number) => number | null,
): StagePlan[] {
  const plans: StagePlan[] = [
    { place: 'body', name: 'backbone', units: findBlocks(decomposeRows(rg, parts.backbone), rg, facts) },
  ];
  if (parts.neck.length > 0)
    plans.push({ place: 'body', name: 'neck', units: neckLevels(parts.neck, rg, facts, strideOf) });
  const detector = parts.post.length > 0;
  if (parts.heads.length > 0)
    plans.push({
      place: 'head',
      name: 'head',
      units: parts.heads.map((h) => headBlock(h, detector, rg)),
    });
  if (parts.post.length > 0)
    plans.push({
      place: 'post',
      name: 'post-processing',
      units: parts.post.map((row) => ({ kind: 'row', row })),
    });
  return plans;
}

/** The neck's levels: each opens at an upsampling (top-down) or a strided convolution (bottom-up). */
function neckLevels(
  rows: number[],
  rg: RowGraph,
  facts: RowFacts[],
  strideOf: (row: number) => number | null,
): Unit[] {
  const levels: { kind: BlockKind; rows: number[] }[] = [];
  for (const r of rows) {
    const f = facts[r]!;
    const opens = UPSAMPLING.has(f.op) ? 'top-down' : f.weighted && f.stride > 1 ? 'bottom-up' : null;
    if (opens || levels.length === 0) levels.push({ kind: opens ?? 'top-down', rows: [] });
    levels.at(-1)!.rows.push(r);
  }
  return levels.map(({ kind, rows: level }) => {
    const parts = new Map<number, Part>();
    let k = 0;
    for (const r of level)
      parts.set(r, JOINS.has(facts[r]!.op) ? { part: 'join' } : { part: 'main', index: k++ });
    const stride = strideOf(level.at(-1)!);
    return block(kind, level, parts, rg, `${kind} ${stride === null ? '' : pyramidLevel(stride)}`.trim());
  });
}

/** A head group as one block: its branches (box, class, mask coefficients, keypoints) side by side. */
function headBlock(h: HeadGroup, detector: boolean, rg: RowGraph): Unit {
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
  const name = prototypes
    ? 'mask prototypes'
    : h.stride === null
      ? 'head branch'
      : `${pyramidLevel(h.stride)} (stride ${h.stride})`;
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
  const b: FoundBlock = {
    kind,
    rows,
    parts,
    join: null,
    shortcut: null,
    last: rows.at(-1)!,
    entry: rg.rows[rows[0]!]!.inputs[0] ?? '',
    se: null,
    branches: [],
    name,
  };
  return { kind: 'block', block: b };
}
