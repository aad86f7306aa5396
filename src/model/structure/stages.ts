// Stages: the stem, the trunk's stages by spatial resolution, and the head.
//
// With blocks (residual, Inception, dense, …): the stem is everything before the first block except the
// pooling that brings the first stage's resolution (the ResNet paper puts the max pool in conv2_x), the head
// everything after the last block except the joins that end it (DenseNet's last concatenation); the trunk
// between splits where the output resolution changes. A plain network (VGG, AlexNet) splits all its rows
// by output resolution: the first run is the stem, and the head starts at the first non-spatial output.
import type { RowFacts, Unit } from './blocks';

/** A stage: its place and its units in order. */
export interface StagePlan {
  /** 'post': rows that are no layers (a detector's box decoding and NMS, or the image's normalisation). */
  place: 'stem' | 'body' | 'head' | 'post';
  units: Unit[];
  /** The stage's own name where its place says it (a detector's 'backbone', 'neck', 'head'). */
  name?: string;
}

/** Splits the top-level units into stages. */
export function planStages(units: Unit[], facts: RowFacts[]): StagePlan[] {
  const lastRow = (u: Unit): number => (u.kind === 'row' ? u.row : u.block.last);
  const res = (u: Unit): string => {
    const out = facts[lastRow(u)]!.out;
    return out && out.length === 4 ? `${String(out[2])}×${String(out[3])}` : 'flat';
  };
  const isBlock = (u: Unit): boolean => u.kind === 'block' && u.block.kind !== 'conv group';
  const first = units.findIndex(isBlock);
  if (first < 0) return withoutEmptyStages(plain(units, res), facts);
  let last = units.length - 1;
  while (!isBlock(units[last]!)) last--;
  let start = first;
  // Pooling rows that produce the first block's resolution open the first stage.
  while (start > 0 && isPool(units[start - 1]!, facts) && res(units[start - 1]!) === res(units[first]!))
    start--;
  let end = last;
  while (end + 1 < units.length && isJoin(units[end + 1]!, facts)) end++;
  const plans: StagePlan[] = [];
  if (start > 0) plans.push({ place: 'stem', units: units.slice(0, start) });
  plans.push(
    ...byResolution(units.slice(start, end + 1), res).map((u) => ({ place: 'body' as const, units: u })),
  );
  if (end + 1 < units.length) plans.push({ place: 'head', units: units.slice(end + 1) });
  return withoutEmptyStages(plans, facts);
}

/**
 * A body stage without a weighted layer (a pooling between stages, timm's VGG pool5 before its conv head)
 * opens the stage after it, as the pooling that brings conv2_x's resolution opens it in the ResNet paper;
 * a last one joins the stage before it.
 */
function withoutEmptyStages(plans: StagePlan[], facts: RowFacts[]): StagePlan[] {
  const weighted = (p: StagePlan): boolean =>
    p.units.some((u) => u.kind === 'block' || facts[u.row]!.weighted);
  const out: StagePlan[] = [];
  let carried: Unit[] = [];
  for (const p of plans) {
    if (p.place === 'body' && !weighted(p)) {
      carried.push(...p.units);
      continue;
    }
    out.push({ ...p, units: [...carried, ...p.units] });
    carried = [];
  }
  if (carried.length > 0 && out.length > 0) out.at(-1)!.units.push(...carried);
  else if (carried.length > 0) out.push({ place: 'body', units: carried });
  return out;
}

function plain(units: Unit[], res: (u: Unit) => string): StagePlan[] {
  const head = units.findIndex((u) => res(u) === 'flat' || res(u) === '1×1');
  const trunk = head < 0 ? units : units.slice(0, head);
  const runs = byResolution(trunk, res);
  const plans: StagePlan[] = runs.map((u, i) => ({ place: i === 0 ? 'stem' : 'body', units: u }));
  if (head >= 0) plans.push({ place: 'head', units: units.slice(head) });
  return plans;
}

function byResolution(units: Unit[], res: (u: Unit) => string): Unit[][] {
  const runs: Unit[][] = [];
  let key = '';
  for (const u of units) {
    const k = res(u);
    if (runs.length === 0 || k !== key) runs.push([]);
    runs.at(-1)!.push(u);
    key = k;
  }
  return runs;
}

function isPool(u: Unit, facts: RowFacts[]): boolean {
  return u.kind === 'row' && facts[u.row]!.row.kind === 'pool';
}

function isJoin(u: Unit, facts: RowFacts[]): boolean {
  return u.kind === 'row' && facts[u.row]!.row.kind === 'join';
}
