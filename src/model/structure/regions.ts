// The row graph as a series of pieces: rows that every path passes through, and between two of them the
// parallel branches that fork and join again (a residual block, an Inception module, a Fire module,
// squeeze-and-excitation). Branches are decomposed the same way, so nesting is kept. A region whose
// branches do not separate (DenseNet's concatenations of every earlier layer) is "irregular".
import type { RowGraph } from './rows';

/** One element of a series. */
export type Piece = RowPiece | ParallelPiece | IrregularPiece;

/** A row every path through the enclosing series passes. */
export interface RowPiece {
  kind: 'row';
  row: number;
}

/** Branches from a fork to a join; an empty branch is an identity connection. */
export interface ParallelPiece {
  kind: 'parallel';
  /** The row whose output forks; null when the branches start at the enclosing series' entry. */
  fork: number | null;
  /** The row joining the branches (Add, Concat, Mul, …); null when they leave the enclosing series apart. */
  join: number | null;
  branches: Piece[][];
}

/** Rows between a fork and a join that do not separate into branches. */
export interface IrregularPiece {
  kind: 'irregular';
  fork: number | null;
  join: number | null;
  /** Row indices in graph order. */
  rows: number[];
}

/** The whole graph as a series of pieces. */
export function decompose(rg: RowGraph): Piece[] {
  const all = rg.rows.map((r) => r.index);
  return series(rg, all, null, new Set(all));
}

/**
 * Some rows of the graph (graph order) as a series of pieces, as if they were the whole graph: what rows
 * outside them read is a tap (a detector's neck reading the backbone's P3 and P4), not a branch.
 */
export function decomposeRows(rg: RowGraph, rows: number[]): Piece[] {
  return series(rg, rows, null, new Set(rows));
}

/**
 * Decomposes the rows `rs` (graph order), entered from outside through the tensors they read from rows
 * not in `rs`; `fork` is the row they start from (for identity branches). Readers outside `scope` are
 * ignored.
 */
function series(
  rg: RowGraph,
  rs: number[],
  fork: number | null,
  scope: ReadonlySet<number>,
  nested = false,
): Piece[] {
  const pos = new Map(rs.map((r, i) => [r, i]));
  const n = rs.length;
  // Furthest position an edge starting at or before each position reaches; entry edges start at -1.
  const reach = new Array<number>(n + 1).fill(-1);
  const note = (from: number, to: number): void => {
    const k = from + 1;
    reach[k] = Math.max(reach[k]!, to);
  };
  rs.forEach((r, i) => {
    const row = rg.rows[r]!;
    for (const t of row.inputs) {
      const p = rg.producer.get(t);
      if (p === undefined || !pos.has(p)) note(-1, i);
    }
    for (const t of row.outputs) {
      const readers = (rg.consumers.get(t) ?? []).filter((c) => scope.has(c));
      if (readers.some((c) => !pos.has(c)) || rg.outputs.includes(t)) note(i, n);
      for (const c of readers) if (pos.has(c)) note(i, pos.get(c)!);
    }
  });
  const cuts: number[] = [];
  let furthest = -1;
  for (let i = 0; i < n; i++) {
    // Edges from before i (and the entry) reach at most i: nothing jumps over row i.
    furthest = Math.max(furthest, reach[i]!);
    if (furthest <= i) cuts.push(i);
  }
  // A branch with no row that every path passes does not decompose further.
  if (nested && cuts.length === 0) return [{ kind: 'irregular', fork, join: null, rows: rs }];
  const pieces: Piece[] = [];
  let prev = -1;
  let prevRow: number | null = fork;
  for (const c of [...cuts, n]) {
    const inner = rs.slice(prev + 1, c);
    const join = c < n ? rs[c]! : null;
    if (inner.length > 0) pieces.push(region(rg, inner, prevRow, join, scope));
    if (join !== null) pieces.push({ kind: 'row', row: join });
    prev = c;
    prevRow = join;
  }
  return pieces;
}

/** Rows strictly between a fork and a join: parallel branches, or an irregular region. */
function region(
  rg: RowGraph,
  inner: number[],
  fork: number | null,
  join: number | null,
  scope: ReadonlySet<number>,
): Piece {
  const components = connected(rg, inner);
  const branches: Piece[][] = [];
  for (const comp of components) {
    const sub = series(rg, comp, fork, scope, true);
    // A single component with no row every path passes: the region does not separate.
    const cutless = sub.length === 1 && sub[0]!.kind === 'irregular';
    if (cutless && components.length === 1) return { kind: 'irregular', fork, join, rows: inner };
    branches.push(cutless ? [{ kind: 'irregular', fork, join, rows: comp }] : sub);
  }
  if (fork !== null && join !== null && reads(rg, join, fork)) branches.push([]);
  return { kind: 'parallel', fork, join, branches };
}

/** Groups rows into connected components of the edges among them (graph order kept). */
function connected(rg: RowGraph, rows: number[]): number[][] {
  const set = new Set(rows);
  const parent = new Map(rows.map((r) => [r, r]));
  const find = (r: number): number => {
    let x = r;
    while (parent.get(x) !== x) x = parent.get(x)!;
    parent.set(r, x);
    return x;
  };
  for (const r of rows) {
    for (const t of rg.rows[r]!.inputs) {
      const p = rg.producer.get(t);
      if (p !== undefined && set.has(p)) parent.set(find(r), find(p));
    }
  }
  const groups = new Map<number, number[]>();
  for (const r of rows) {
    const root = find(r);
    const g = groups.get(root);
    if (g) g.push(r);
    else groups.set(root, [r]);
  }
  return [...groups.values()];
}

/** Whether row `reader` reads a tensor that row `from` produces. */
function reads(rg: RowGraph, reader: number, from: number): boolean {
  return rg.rows[reader]!.inputs.some((t) => rg.producer.get(t) === from);
}
