// Blocks from the graph's structure, named as their papers do: residual blocks (basic, bottleneck, grouped,
// RegNet X/Y, inverted residual / MBConv, Fused-MBConv, ConvNeXt), Fire and Inception modules, ShuffleNet V2
// units, DenseNet dense layers and transitions, squeeze-and-excitation, VGG-style conv groups. Nothing here
// reads node names: only ops, kernels, strides, groups, channel counts and how rows connect.
import type { Shape } from '../shapes';
import type { IrregularPiece, ParallelPiece, Piece } from './regions';
import type { RowDraft, RowGraph } from './rows';

/** Block kinds, as the papers name them. */
export type BlockKind =
  | 'basic'
  | 'bottleneck'
  | 'X block'
  | 'Y block'
  | 'inverted residual'
  | 'Fused-MBConv'
  | 'ConvNeXt block'
  | 'fire module'
  | 'inception module'
  // Atrous spatial pyramid pooling (DeepLab): parallel convolutions at several dilation rates, concatenated.
  | 'ASPP'
  | 'ShuffleNet V2 unit'
  | 'dense layer'
  | 'dual path block'
  | 'SPPF'
  | 'resolution branch'
  | 'transition'
  | 'squeeze-and-excitation'
  | 'depthwise separable'
  | 'conv group'
  | 'residual block'
  | 'branches'
  // A detector's or segmenter's parts (src/model/structure/denseStages.ts).
  | 'top-down'
  | 'bottom-up'
  | 'head branch'
  | 'prototypes';

/** What a row does inside its block. */
export type Part =
  | { part: 'main'; index: number }
  | { part: 'projection' }
  | { part: 'se'; step: 'pool' | 'reduce' | 'expand' | 'scale' }
  | { part: 'expand' | 'dw' | 'project' | 'squeeze' | 'split' | 'join' }
  | { part: 'branch'; branch: number; index: number; of: number };

/** A block found in the graph. */
export interface FoundBlock {
  kind: BlockKind;
  /** Rows in graph order. */
  rows: number[];
  parts: Map<number, Part>;
  /** The residual join (Add), when the block has one. */
  join: number | null;
  /** For residual blocks: whether the shortcut has layers of its own. */
  shortcut: 'identity' | 'projection' | null;
  /** The row whose output is the block's output. */
  last: number;
  /** The row (or fork) whose output is the block's input. */
  entry: string;
  se: { reduce: number; expand: number } | null;
  /** Branch rows in order, for modules with parallel branches (Inception, Fire, ShuffleNet). */
  branches: number[][];
  /** Set on the residual blocks of a cross-stage partial split: 'csp' (CSPNet), 'c2f' where the join also
   *  takes every block's output (YOLOv8's C2f). */
  partial?: 'csp' | 'c2f';
  /** The block's own name where its place says it (a detector's 'P3 (stride 8)'), instead of stage.n. */
  name?: string;
}

/** Everything the recognisers look at for a row. */
export interface RowFacts {
  row: RowDraft;
  op: string;
  kernel: number[] | null;
  stride: number;
  group: number;
  cin: number | null;
  cout: number | null;
  depthwise: boolean;
  /** The largest dilation of a convolution's kernel (1: none); absent for other ops. */
  dilation?: number;
  /** Conv/ConvTranspose/Gemm/MatMul reading a weight. */
  weighted: boolean;
  activation: string | null;
  out: Shape;
}

/** Whether a row's output is a feature map wider than 1×1 (a symbolic height counts: only a global pool's is 1). */
export function spatialOutput(f: RowFacts): boolean {
  return f.out !== null && f.out.length === 4 && f.out[2] !== 1;
}

/** A piece of the top-level series: a block, or a row outside blocks. */
export type Unit = { kind: 'block'; block: FoundBlock } | { kind: 'row'; row: number };

/** Finds the blocks of the top-level series; rows outside blocks stay single units. */
export function findBlocks(pieces: Piece[], rg: RowGraph, facts: RowFacts[]): Unit[] {
  const units: Unit[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i]!;
    if (p.kind === 'parallel') {
      const next = pieces[i + 1];
      const join = p.join ?? undefined;
      // Branches without a single weighted layer (input scaling written per channel, for instance) are not
      // a block: their rows stay rows.
      if (!rowsOf([p]).some((r) => facts[r]!.weighted)) {
        units.push(
          ...rowsOf([p])
            .sort((a, b) => a - b)
            .map((row): Unit => ({ kind: 'row', row })),
        );
        continue;
      }
      // The join row follows the parallel piece in the series; the block takes it.
      if (next?.kind === 'row' && next.row === join) i++;
      const partial = crossStagePartial(p, rg, facts);
      if (partial) units.push(...partial);
      else units.push(...parallelBlock(p, units, rg, facts));
    } else if (p.kind === 'irregular') {
      units.push(...denseBlock(p, rg, facts));
      if (pieces[i + 1]?.kind === 'row' && (pieces[i + 1] as { row: number }).row === p.join) {
        units.push({ kind: 'row', row: p.join! });
        i++;
      }
    } else units.push({ kind: 'row', row: p.row });
  }
  return groupSequences(units, pieces, rg, facts);
}

/**
 * A cross-stage partial split (CSPNet): the features split in two, one part through a run of residual
 * blocks, the other past them, concatenated. Its residual blocks are the network's blocks, so the split
 * is laid out flat: the rows around them stay rows, and each block is marked `partial`.
 */
function crossStagePartial(p: ParallelPiece, rg: RowGraph, facts: RowFacts[]): Unit[] | undefined {
  if (p.join === null || facts[p.join]!.op !== 'Concat' || p.branches.length !== 2) return undefined;
  // The features are split (a channel split), not passed whole to both parts (DLA's trees are not CSP).
  if (p.fork === null || !/^(Split|Slice)$/.test(facts[p.fork]!.op)) return undefined;
  const inner = p.branches.map((b) => findBlocks(b, rg, facts));
  const blocks = inner.flat().filter((u) => u.kind === 'block');
  const residual = (u: Unit): boolean =>
    u.kind === 'block' &&
    (u.block.kind === 'residual block' || u.block.kind === 'bottleneck' || u.block.kind === 'basic');
  if (blocks.length === 0 || !blocks.every(residual)) return undefined;
  // A join that also takes the blocks' outputs (more than the two parts) is YOLOv8's C2f.
  const kind = rg.rows[p.join]!.inputs.length > 2 ? 'c2f' : 'csp';
  for (const u of blocks) if (u.kind === 'block') u.block.partial = kind;
  const first = (u: Unit): number => (u.kind === 'row' ? u.row : Math.min(...u.block.rows));
  return [...inner.flat(), { kind: 'row', row: p.join } as Unit].sort((a, b) => first(a) - first(b));
}

/** Rows of a series, nested pieces included (joins of nested regions too). */
export function rowsOf(series: Piece[]): number[] {
  const out: number[] = [];
  for (const p of series) {
    if (p.kind === 'row') out.push(p.row);
    else if (p.kind === 'irregular') out.push(...p.rows);
    else for (const b of p.branches) out.push(...rowsOf(b));
  }
  return out;
}

/** Top-level rows of a series (nested regions' rows excluded). */
function topRows(series: Piece[]): number[] {
  return series.flatMap((p) => (p.kind === 'row' ? [p.row] : []));
}

function parallelBlock(p: ParallelPiece, before: Unit[], rg: RowGraph, facts: RowFacts[]): Unit[] {
  const join = p.join;
  const joinOp = join === null ? '' : facts[join]!.op;
  const branches = p.branches.filter((b) => b.length > 0);
  const identity = p.branches.length > branches.length;
  const all = [...branches.flatMap(rowsOf), ...(join === null ? [] : [join])].sort((a, b) => a - b);
  const base = (kind: BlockKind): FoundBlock => ({
    kind,
    rows: all,
    parts: new Map(),
    join,
    shortcut: null,
    last: join ?? all.at(-1)!,
    entry: entryOf(p, rg),
    se: null,
    branches: [],
  });
  if (join === null) return [{ kind: 'block', block: branchesBlock(base('branches'), branches) }];

  if ((joinOp === 'Add' || joinOp === 'Sum') && branches.length + (identity ? 1 : 0) === 2) {
    return [{ kind: 'block', block: residual(base('residual block'), branches, identity, facts) }];
  }
  if (joinOp === 'Mul' && identity && branches.length === 1) {
    const se = seOf(p, facts);
    if (se) {
      const b = base('squeeze-and-excitation');
      markSe(b, p, se, facts);
      return [{ kind: 'block', block: b }];
    }
  }
  if (joinOp === 'Concat') {
    const c2f = splitChain({ fork: p.fork, join, rows: all }, rg, facts);
    if (c2f) return c2f;
    const shuffle = shuffleUnit(base('ShuffleNet V2 unit'), p, branches, identity, before, rg, facts);
    if (shuffle) return shuffle;
    const fire = fireModule(base('fire module'), p, branches, before, rg, facts);
    if (fire) return fire;
    if (branches.length + (identity ? 1 : 0) >= 3) {
      // Two or more branches of dilated convolutions are DeepLab's ASPP, not an inception module.
      const dilated = branches.filter((br) => rowsOf(br).some((r) => (facts[r]!.dilation ?? 1) > 1)).length;
      const kind = dilated >= 2 ? 'ASPP' : 'inception module';
      return [{ kind: 'block', block: branchesBlock(base(kind), branches) }];
    }
    // A layer that concatenates its input with its own new features (Keras's DenseNet writes each dense
    // layer so; torchvision concatenates all earlier features at once: see denseBlock).
    const chain = branches[0];
    if (identity && branches.length === 1 && chain!.every((q) => q.kind === 'row')) {
      const convs = chain!.filter((q) => q.kind === 'row' && facts[q.row]!.weighted);
      const last = chain!.at(-1);
      if (convs.length > 0 && last?.kind === 'row' && facts[last.row]!.weighted) {
        const b = base('dense layer');
        let k = 0;
        for (const r of b.rows) b.parts.set(r, r === join ? { part: 'join' } : { part: 'main', index: k++ });
        return [{ kind: 'block', block: b }];
      }
    }
  }
  return [{ kind: 'block', block: branchesBlock(base('branches'), branches) }];
}

function entryOf(p: ParallelPiece | IrregularPiece, rg: RowGraph): string {
  if (p.fork !== null) return rg.rows[p.fork]!.tail;
  return rg.inputs[0] ?? '';
}

function branchesBlock(b: FoundBlock, branches: Piece[][]): FoundBlock {
  branches.forEach((br, j) => {
    const rows = rowsOf(br);
    b.branches.push(rows);
    rows.forEach((r, k) => b.parts.set(r, { part: 'branch', branch: j + 1, index: k, of: rows.length }));
  });
  if (b.join !== null) b.parts.set(b.join, { part: 'join' });
  return b;
}

/** A residual block: the branch with more weighted layers is the main path, the other the shortcut. */
function residual(b: FoundBlock, branches: Piece[][], identity: boolean, facts: RowFacts[]): FoundBlock {
  const weight = (s: Piece[]): number =>
    rowsOf(s).filter((r) => facts[r]!.weighted).length * 1000 + rowsOf(s).length;
  const sorted = [...branches].sort((x, y) => weight(y) - weight(x));
  const main = sorted[0]!;
  const shortcut = sorted[1];
  b.shortcut = identity || !shortcut ? 'identity' : 'projection';
  if (shortcut) for (const r of rowsOf(shortcut)) b.parts.set(r, { part: 'projection' });
  b.parts.set(b.join!, { part: 'join' });
  // Squeeze-and-excitation inside the main path is marked as such; the other rows are the main path.
  let index = 0;
  const mainConvs: RowFacts[] = [];
  for (const p of main) {
    if (p.kind === 'parallel') {
      const se = seOf(p, facts);
      if (se) {
        markSe(b, p, se, facts);
        continue;
      }
    }
    for (const r of p.kind === 'row' ? [p.row] : rowsOf([p])) {
      // The gate's multiply follows its piece as a row of its own: it stays the SE's scale (#19).
      if (b.parts.get(r)?.part === 'se') continue;
      b.parts.set(r, { part: 'main', index: index++ });
      if (facts[r]!.weighted) mainConvs.push(facts[r]!);
    }
  }
  b.kind = residualKind(mainConvs, b.se !== null);
  if (b.kind === 'inverted residual' || b.kind === 'Fused-MBConv') relabelInverted(b, facts);
  return b;
}

/** What a residual block's main path says it is. */
function residualKind(convs: RowFacts[], se: boolean): BlockKind {
  const k = convs.map((c) =>
    c.depthwise ? 'dw' : c.kernel ? c.kernel.join('×') : c.op === 'MatMul' ? 'mm' : '?',
  );
  const sig = k.join(',');
  if (convs.some((c) => c.depthwise)) {
    if (convs[0]!.depthwise && convs.length === 3 && k[1] !== 'dw' && convs[0]!.kernel?.[0] === 7) {
      return 'ConvNeXt block';
    }
    if (/^(1×1,)?dw,1×1$/.test(sig)) return 'inverted residual';
    if (/^dw,(mm|1×1),(mm|1×1)$/.test(sig)) return 'ConvNeXt block';
    return 'residual block';
  }
  if (sig === '1×1,3×3,1×1') {
    const grouped = convs[1]!.group > 1;
    const ratio = (convs[2]!.cout ?? 0) / Math.max(1, convs[1]!.cout ?? 1);
    // RegNet's blocks keep the width (bottleneck ratio 1); SE-ResNeXt's widen it: those are bottlenecks.
    if (se && grouped && ratio === 1) return 'Y block';
    if (grouped && ratio === 1) return 'X block';
    return 'bottleneck';
  }
  if (sig === '3×3,3×3') return 'basic';
  if (
    convs.length === 2 &&
    convs[1]!.kernel?.join('×') === '1×1' &&
    convs[0]!.kernel &&
    convs[0]!.kernel[0]! > 1
  ) {
    return 'Fused-MBConv';
  }
  return 'residual block';
}

/** Inverted residual parts: expand (1×1), dw (depthwise), project (1×1, linear). */
function relabelInverted(b: FoundBlock, facts: RowFacts[]): void {
  const main = [...b.parts].filter(([, p]) => p.part === 'main').map(([r]) => r);
  const convs = main.filter((r) => facts[r]!.weighted);
  if (b.kind === 'Fused-MBConv') {
    b.parts.set(convs[0]!, { part: 'expand' });
    b.parts.set(convs[1]!, { part: 'project' });
    return;
  }
  for (const r of convs) {
    const f = facts[r]!;
    b.parts.set(r, { part: f.depthwise ? 'dw' : r === convs.at(-1) ? 'project' : 'expand' });
  }
}

/** Squeeze-and-excitation: pool → 1×1 reduce → act → 1×1 expand → gate, multiplied with its input. */
function seOf(p: ParallelPiece, facts: RowFacts[]): { reduce: number; expand: number } | null {
  if (p.join === null || facts[p.join]!.op !== 'Mul') return null;
  const branches = p.branches.filter((b) => b.length > 0);
  if (branches.length !== 1 || p.branches.length !== 2) return null;
  const rows = rowsOf(branches[0]!);
  const first = facts[rows[0]!]!;
  if (first.row.kind !== 'pool') return null;
  const convs = rows.filter((r) => facts[r]!.weighted);
  if (convs.length !== 2) return null;
  return { reduce: convs[0]!, expand: convs[1]! };
}

function markSe(
  b: FoundBlock,
  p: ParallelPiece,
  se: { reduce: number; expand: number },
  facts: RowFacts[],
): void {
  const rows = rowsOf(p.branches.find((x) => x.length > 0)!);
  for (const r of rows) {
    const step =
      r === se.reduce
        ? 'reduce'
        : r === se.expand
          ? 'expand'
          : facts[r]!.row.kind === 'pool'
            ? 'pool'
            : 'expand';
    b.parts.set(r, { part: 'se', step });
  }
  b.parts.set(p.join!, { part: 'se', step: 'scale' });
  b.se = se;
}

/** ShuffleNet V2: a channel split (or two stride-2 branches), [1×1, dw 3×3, 1×1], concat and shuffle. */
function shuffleUnit(
  b: FoundBlock,
  p: ParallelPiece,
  branches: Piece[][],
  identity: boolean,
  before: Unit[],
  rg: RowGraph,
  facts: RowFacts[],
): Unit[] | null {
  const total = branches.length + (identity ? 1 : 0);
  if (total !== 2) return null;
  const convSig = (s: Piece[]): string =>
    rowsOf(s)
      .filter((r) => facts[r]!.weighted)
      .map((r) => (facts[r]!.depthwise ? 'dw' : facts[r]!.kernel?.join('×')))
      .join(',');
  const sigs = branches.map(convSig);
  const basic = sigs.length === (identity ? 1 : 2) && sigs.includes('1×1,dw,1×1');
  const other = identity ? '' : (sigs.find((s) => s !== '1×1,dw,1×1') ?? '1×1,dw,1×1');
  const strided =
    !identity && sigs.length === 2 && (other === 'dw,1×1' || sigs.every((s) => s === '1×1,dw,1×1'));
  const splitOnly = identity || other === '';
  if (!basic || !(splitOnly || strided)) return null;
  // A stride-1 unit keeps half the channels untouched: that branch has no weighted rows.
  if (!strided && branches.some((s) => convSig(s) !== '1×1,dw,1×1' && convSig(s) !== '')) return null;
  branchesBlock(b, branches);
  const out: Unit[] = [];
  // The dynamo exporter writes the channel split as one Split row: it opens the unit.
  const fork = p.fork;
  const prev = before.at(-1);
  if (fork !== null && facts[fork]!.row.kind === 'multi' && prev?.kind === 'row' && prev.row === fork) {
    before.pop();
    b.rows = [fork, ...b.rows];
    b.parts.set(fork, { part: 'split' });
    b.entry = facts[fork]!.row.inputs[0] ?? b.entry;
  }
  void rg;
  out.push({ kind: 'block', block: b });
  return out;
}

/** Fire: a 1×1 squeeze, then 1×1 and 3×3 expand convolutions side by side, concatenated. */
function fireModule(
  b: FoundBlock,
  p: ParallelPiece,
  branches: Piece[][],
  before: Unit[],
  rg: RowGraph,
  facts: RowFacts[],
): Unit[] | null {
  if (branches.length !== 2 || p.fork === null) return null;
  const singles = branches.map((s) => rowsOf(s));
  if (!singles.every((rows) => rows.length === 1 && facts[rows[0]!]!.weighted)) return null;
  const squeeze = facts[p.fork]!;
  const prev = before.at(-1);
  const readers = rg.consumers.get(squeeze.row.tail) ?? [];
  if (
    !squeeze.weighted ||
    squeeze.kernel?.join('×') !== '1×1' ||
    prev?.kind !== 'row' ||
    prev.row !== p.fork
  ) {
    return null;
  }
  if (readers.length !== 2) return null;
  before.pop();
  branchesBlock(b, branches);
  b.rows = [p.fork, ...b.rows];
  b.parts.set(p.fork, { part: 'squeeze' });
  b.entry = squeeze.row.inputs[0] ?? b.entry;
  return [{ kind: 'block', block: b }];
}

const JOINS = new Set(['Add', 'Sum', 'Concat']);

/**
 * A block of `rows` (in graph order) whose joins (Add, Sum, Concat) are its joins and every other row is on
 * its main path: how the regions cut below are laid out.
 */
function rowBlock(
  kind: BlockKind,
  rows: number[],
  rg: RowGraph,
  facts: RowFacts[],
  more: Partial<FoundBlock> = {},
): Unit {
  const parts = new Map<number, Part>();
  let k = 0;
  for (const r of rows)
    parts.set(r, JOINS.has(facts[r]!.op) ? { part: 'join' } : { part: 'main', index: k++ });
  return blockOf(kind, rows, parts, rg, more);
}

/** A block of `rows` in series with the given parts, entered by its first row's input. */
export function blockOf(
  kind: BlockKind,
  rows: number[],
  parts: Map<number, Part>,
  rg: RowGraph,
  more: Partial<FoundBlock> = {},
): Unit {
  const block: FoundBlock = {
    kind,
    rows,
    parts,
    join: null,
    shortcut: null,
    last: rows.at(-1)!,
    entry: rg.rows[rows[0]!]!.inputs[0] ?? '',
    se: null,
    branches: [],
    ...more,
  };
  return { kind: 'block', block };
}

/**
 * YOLOv8's C2f: a channel split, a run of residual blocks on one part, and a concatenation of both parts
 * with every block's output. The region is cut after each residual Add; its blocks are laid out flat, as
 * a cross-stage partial split's are. Undefined when the region is not that.
 */
function splitChain(
  p: { fork: number | null; join: number | null; rows: number[] },
  rg: RowGraph,
  facts: RowFacts[],
): Unit[] | undefined {
  if (p.fork === null || p.join === null) return undefined;
  if (facts[p.fork]!.op !== 'Split' || facts[p.join]!.op !== 'Concat') return undefined;
  const groups: number[][] = [[]];
  for (const r of [...p.rows].sort((a, b) => a - b)) {
    if (r === p.join) continue;
    groups.at(-1)!.push(r);
    if (facts[r]!.op === 'Add') groups.push([]);
  }
  const loose = groups.pop()!;
  const residual = (g: number[]): boolean =>
    g.some((r) => facts[r]!.weighted) && facts[g.at(-1)!]!.op === 'Add';
  if (groups.length < 2 || !groups.every(residual) || loose.some((r) => facts[r]!.weighted)) return undefined;
  const units = groups.map((rows) =>
    rowBlock('residual block', rows, rg, facts, { join: rows.at(-1)!, shortcut: 'identity', partial: 'c2f' }),
  );
  return [...units, ...[...loose, p.join].map((row): Unit => ({ kind: 'row', row }))];
}

/**
 * A region that computes at three or more resolutions side by side, exchanging features between them
 * (HRNet): one block per resolution, holding every row whose output is at that resolution (the fusion's
 * resampling and sums go with the resolution they produce). Undefined for other regions.
 */
function resolutionBranches(p: IrregularPiece, rg: RowGraph, facts: RowFacts[]): Unit[] | undefined {
  const rows = [...p.rows].sort((a, b) => a - b);
  const size = (r: number): string => {
    const out = facts[r]!.out;
    return out && out.length === 4 ? `${String(out[2])}×${String(out[3])}` : '';
  };
  const sizes = [...new Set(rows.map(size).filter((k) => k !== ''))];
  // Side by side: some resolution recurs after another one has come.
  let changes = 0;
  rows.forEach((r, i) => i > 0 && size(r) !== size(rows[i - 1]!) && changes++);
  if (sizes.length < 3 || changes <= sizes.length) return undefined;
  // HRNet exchanges features by summing them; a detector's neck (FPN, PAN) concatenates, and splits.
  const count = (op: string): number => rows.filter((r) => facts[r]!.op === op).length;
  if (count('Split') > 0 || count('Concat') >= count('Add')) return undefined;
  return sizes.map((key) =>
    rowBlock(
      'resolution branch',
      rows.filter((r) => size(r) === key || (size(r) === '' && key === sizes[0])),
      rg,
      facts,
    ),
  );
}

/**
 * SPPF (YOLOv5/v8): max pools in a chain, each output concatenated with the input of the first: one
 * module. Undefined when the region is not that.
 */
function poolPyramid(p: IrregularPiece, rg: RowGraph, facts: RowFacts[]): Unit[] | undefined {
  if (p.join === null || facts[p.join]!.op !== 'Concat') return undefined;
  const inner = p.rows.filter((r) => r !== p.join);
  const pools = inner.filter((r) => facts[r]!.op === 'MaxPool' && facts[r]!.stride === 1);
  if (pools.length < 2 || pools.length !== inner.length) return undefined;
  const rows = [...p.rows].sort((a, b) => a - b);
  return [rowBlock('SPPF', rows, rg, facts, { join: p.join })];
}

/**
 * A region whose rows do not separate into branches because two tensors run through it side by side (DPN's
 * residual and dense paths) is cut into blocks where a weighted layer reads a join: each block is a chain of
 * layers and the slices and joins after it. A lone 1×1 whose output goes only to joins (a projection of
 * the paths) belongs to the block after it. A block that adds and concatenates is a dual path block.
 * Undefined when that gives fewer than two blocks.
 */
function chainBlocks(p: IrregularPiece, rg: RowGraph, facts: RowFacts[]): Unit[] | undefined {
  const inRegion = new Set(p.rows);
  const groups: number[][] = [];
  for (const r of [...p.rows].sort((a, b) => a - b)) {
    const producers = rg.rows[r]!.inputs.map((t) => rg.producer.get(t));
    const current = groups.at(-1);
    const opens =
      facts[r]!.weighted &&
      (current === undefined ||
        producers.some((q) => q === undefined || !inRegion.has(q) || JOINS.has(facts[q]!.op)) ||
        !producers.some((q) => q !== undefined && current.includes(q)));
    if (opens || current === undefined) groups.push([r]);
    else current.push(r);
  }
  const merged: number[][] = [];
  for (const g of groups) {
    const convs = g.filter((r) => facts[r]!.weighted);
    const pending = merged.at(-1);
    const projection = (rows: number[]): boolean => {
      const w = rows.filter((r) => facts[r]!.weighted);
      return (
        w.length === 1 &&
        facts[w[0]!]!.kernel?.join('×') === '1×1' &&
        !rows.some((r) => JOINS.has(facts[r]!.op))
      );
    };
    if (pending && projection(pending) && convs.length > 0) pending.push(...g);
    else merged.push(g);
  }
  // Dual paths: the last layer's output is sliced in two, one part added to the residual path, the other
  // concatenated to the dense path (by the block, or by the join after the region's last block).
  const dualPath = (rows: number[]): boolean => {
    const last = rows.filter((r) => facts[r]!.weighted).at(-1);
    const slices = rows.filter(
      (r) =>
        /^(Slice|Split)$/.test(facts[r]!.op) &&
        rg.rows[r]!.inputs.some((t) => last !== undefined && rg.producer.get(t) === last),
    );
    return slices.length >= 2 && rows.some((r) => facts[r]!.op === 'Add');
  };
  // Only where the region is made of such blocks: other regions keep their one block (see the notes).
  if (merged.length < 2 || merged.filter(dualPath).length * 2 < merged.length) return undefined;
  return merged.map((rows) => rowBlock(dualPath(rows) ? 'dual path block' : 'branches', rows, rg, facts));
}

/** DenseNet: every layer reads the concatenation of all earlier ones; each [1×1, 3×3] chain is a dense layer. */
function denseBlock(p: IrregularPiece, rg: RowGraph, facts: RowFacts[]): Unit[] {
  const inRegion = new Set(p.rows);
  const readersOf = (r: number): number[] => [
    ...new Set(rg.rows[r]!.outputs.flatMap((t) => rg.consumers.get(t) ?? [])),
  ];
  const concatReaders = (r: number): boolean => readersOf(r).every((c) => facts[c]!.op === 'Concat');
  const ends = p.rows.filter((r) => facts[r]!.weighted && concatReaders(r));
  const claimed = new Set<number>();
  const layers: number[][] = [];
  for (const end of ends) {
    const layer = [end];
    let cur = end;
    for (;;) {
      const ins = rg.rows[cur]!.inputs.map((t) => rg.producer.get(t));
      const prev = ins.length === 1 ? ins[0] : undefined;
      if (prev === undefined || !inRegion.has(prev) || claimed.has(prev) || readersOf(prev).length !== 1)
        break;
      layer.unshift(prev);
      cur = prev;
      if (facts[prev]!.op === 'Concat') break;
    }
    for (const r of layer) claimed.add(r);
    layers.push(layer);
  }
  const dense =
    layers.length > 0 &&
    claimed.size === p.rows.length &&
    layers.every((l) => l.some((r) => facts[r]!.weighted));
  if (!dense) {
    const chains =
      splitChain(p, rg, facts) ??
      poolPyramid(p, rg, facts) ??
      chainBlocks(p, rg, facts) ??
      resolutionBranches(p, rg, facts);
    if (chains) return chains;
    const b: FoundBlock = {
      kind: 'branches',
      rows: p.rows,
      parts: new Map(p.rows.map((r, k) => [r, { part: 'main', index: k } as Part])),
      join: null,
      shortcut: null,
      last: p.rows.at(-1)!,
      entry: entryOf(p, rg),
      se: null,
      branches: [],
    };
    return [{ kind: 'block', block: b }];
  }
  return layers.map((rows): Unit => {
    const parts = new Map<number, Part>();
    let k = 0;
    for (const r of rows)
      parts.set(r, facts[r]!.op === 'Concat' ? { part: 'join' } : { part: 'main', index: k++ });
    const first = rows[0]!;
    const entry = rg.rows[first]!.inputs[0] ?? '';
    return {
      kind: 'block',
      block: {
        kind: 'dense layer',
        rows,
        parts,
        join: null,
        shortcut: null,
        last: rows.at(-1)!,
        entry,
        se: null,
        branches: [],
      },
    };
  });
}

/**
 * Blocks without a join of their own, from runs of rows: inverted residuals without a skip connection
 * (expand → depthwise → SE → linear project), Fused-MBConv, depthwise separable convolutions, DenseNet
 * transitions; in a graph with no other blocks, VGG-style conv groups.
 */
function groupSequences(units: Unit[], pieces: Piece[], rg: RowGraph, facts: RowFacts[]): Unit[] {
  void pieces;
  const out: Unit[] = [];
  let i = 0;
  const rowAt = (k: number): number | undefined => {
    const u = units[k];
    return u?.kind === 'row' ? u.row : undefined;
  };
  const seAt = (k: number): FoundBlock | undefined => {
    const u = units[k];
    return u?.kind === 'block' && u.block.kind === 'squeeze-and-excitation' ? u.block : undefined;
  };
  const conv = (r: number | undefined): RowFacts | undefined =>
    r !== undefined && facts[r]!.weighted && facts[r]!.kernel ? facts[r] : undefined;
  const is1x1 = (f: RowFacts | undefined): boolean => f?.kernel?.join('×') === '1×1' && !f.depthwise;
  while (i < units.length) {
    // Inverted residual: [1×1 expand, act] → dw k×k, act → [SE] → 1×1 linear project.
    let k = i;
    const expand = conv(rowAt(k));
    const hasExpand = is1x1(expand) && expand!.activation !== null && conv(rowAt(k + 1))?.depthwise === true;
    if (hasExpand) k++;
    const dw = conv(rowAt(k));
    if (dw?.depthwise && dw.activation !== null) {
      const se = seAt(k + 1);
      const projAt = se ? k + 2 : k + 1;
      const project = conv(rowAt(projAt));
      if (is1x1(project) && project!.activation === null) {
        const rows = [
          ...(hasExpand ? [rowAt(i)!] : []),
          dw.row.index,
          ...(se ? se.rows : []),
          project!.row.index,
        ];
        const parts = new Map<number, Part>();
        if (hasExpand) parts.set(rowAt(i)!, { part: 'expand' });
        parts.set(dw.row.index, { part: 'dw' });
        if (se) for (const [r, p] of se.parts) parts.set(r, p);
        parts.set(project!.row.index, { part: 'project' });
        out.push({
          kind: 'block',
          block: sequenceBlock('inverted residual', rows, parts, rg, se?.se ?? null),
        });
        i = projAt + 1;
        continue;
      }
      // Depthwise separable (MobileNet V1): dw k×k, act → 1×1, act.
      if (!hasExpand && !se && is1x1(project) && project!.activation !== null) {
        const parts = new Map<number, Part>([
          [dw.row.index, { part: 'dw' }],
          [project!.row.index, { part: 'project' }],
        ]);
        out.push({
          kind: 'block',
          block: sequenceBlock('depthwise separable', [dw.row.index, project!.row.index], parts, rg, null),
        });
        i = projAt + 1;
        continue;
      }
    }
    // Fused-MBConv without a skip: k×k conv (expand, act, usually strided) → [SE] → 1×1 linear project.
    const fused = conv(rowAt(i));
    if (fused && !fused.depthwise && fused.kernel![0]! > 1 && fused.activation !== null) {
      const se = seAt(i + 1);
      const projAt = se ? i + 2 : i + 1;
      const project = conv(rowAt(projAt));
      if (is1x1(project) && project!.activation === null) {
        const parts = new Map<number, Part>([[fused.row.index, { part: 'expand' }]]);
        if (se) for (const [r, p] of se.parts) parts.set(r, p);
        parts.set(project!.row.index, { part: 'project' });
        const rows = [fused.row.index, ...(se ? se.rows : []), project!.row.index];
        out.push({ kind: 'block', block: sequenceBlock('Fused-MBConv', rows, parts, rg, se?.se ?? null) });
        i = projAt + 1;
        continue;
      }
    }
    // DenseNet transition: 1×1 conv → 2×2 average pool, stride 2.
    const pool = rowAt(i + 1);
    if (
      is1x1(conv(rowAt(i))) &&
      pool !== undefined &&
      facts[pool]!.op === 'AveragePool' &&
      facts[pool]!.stride > 1
    ) {
      const parts = new Map<number, Part>([
        [rowAt(i)!, { part: 'main', index: 0 }],
        [pool, { part: 'main', index: 1 }],
      ]);
      out.push({ kind: 'block', block: sequenceBlock('transition', [rowAt(i)!, pool], parts, rg, null) });
      i += 2;
      continue;
    }
    out.push(units[i]!);
    i++;
  }
  const plain = !out.some((u) => u.kind === 'block');
  return plain ? convGroups(out, rg, facts) : out;
}

function sequenceBlock(
  kind: BlockKind,
  rows: number[],
  parts: Map<number, Part>,
  rg: RowGraph,
  se: { reduce: number; expand: number } | null,
): FoundBlock {
  const sorted = [...rows].sort((a, b) => a - b);
  return {
    kind,
    rows: sorted,
    parts,
    join: null,
    shortcut: null,
    last: sorted.at(-1)!,
    entry: rg.rows[sorted[0]!]!.inputs[0] ?? '',
    se,
    branches: [],
  };
}

/** A plain network (VGG, AlexNet): the convolutions between two poolings form a conv group. */
function convGroups(units: Unit[], rg: RowGraph, facts: RowFacts[]): Unit[] {
  const out: Unit[] = [];
  let run: number[] = [];
  const flush = (): void => {
    if (run.length > 0) {
      const parts = new Map<number, Part>(run.map((r, k) => [r, { part: 'main', index: k }]));
      out.push({ kind: 'block', block: sequenceBlock('conv group', run, parts, rg, null) });
    }
    run = [];
  };
  for (const u of units) {
    const r = u.kind === 'row' ? u.row : undefined;
    const f = r === undefined ? undefined : facts[r]!;
    const spatial = f?.out && f.out.length === 4;
    if (f && f.weighted && f.op === 'Conv' && spatial) {
      const last = run.at(-1);
      // A new resolution starts a new group even without a pool between.
      if (
        last !== undefined &&
        JSON.stringify(facts[last]!.out?.slice(2)) !== JSON.stringify(f.out?.slice(2))
      )
        flush();
      run.push(r!);
      continue;
    }
    flush();
    out.push(u);
  }
  flush();
  return out;
}

/** Rows directly in a series (not inside nested regions), exported for naming. */
export { topRows };
