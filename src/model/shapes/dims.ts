// Dimension arithmetic over numbers and symbols. A symbol is a product of named factors and an integer
// coefficient ('N', 'N·2', 'H·W'); named factors come from dim_params and stand for positive integers, so
// 'N·2' / 2 = 'N' and a Reshape's -1 can cancel them. '?' is an unknown that equals nothing, itself included.
import type { Dim } from '../onnxGraph';
import type { Shape } from './types';
import { shapeText } from '../../shared/format';

/** The unknown dimension. */
export const UNKNOWN = '?';

// A symbolic dim as coefficient × sorted named factors.
interface Term {
  coef: number;
  syms: string[];
}

const SEPARATOR = /[·*]/;

function term(d: Dim): Term | undefined {
  if (typeof d === 'number') return { coef: d, syms: [] };
  let coef = 1;
  const syms: string[] = [];
  for (const part of d.split(SEPARATOR)) {
    if (part === UNKNOWN || part === '') return undefined;
    if (/^-?\d+$/.test(part)) coef *= Number(part);
    else syms.push(part);
  }
  return { coef, syms: syms.sort() };
}

function termDim(t: Term): Dim {
  if (t.syms.length === 0 || t.coef === 0) return t.coef;
  return t.coef === 1 ? t.syms.join('·') : [...t.syms, t.coef].join('·');
}

function sameSyms(a: Term, b: Term): boolean {
  return a.syms.length === b.syms.length && a.syms.every((s, i) => s === b.syms[i]);
}

/** True when two dims are known to be equal ('?' equals nothing). */
export function dimEq(a: Dim, b: Dim): boolean {
  return a === b && a !== UNKNOWN;
}

/** a × b. */
export function mulDim(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  if (a === 0 || b === 0) return 0;
  const ta = term(a);
  const tb = term(b);
  if (!ta || !tb) return UNKNOWN;
  return termDim({ coef: ta.coef * tb.coef, syms: [...ta.syms, ...tb.syms].sort() });
}

/** a / b when the division is exact (symbols cancel, coefficients divide); undefined otherwise. */
export function divExact(a: Dim, b: Dim): Dim | undefined {
  if (typeof a === 'number' && typeof b === 'number') return b !== 0 && a % b === 0 ? a / b : undefined;
  if (a === 0) return b === UNKNOWN ? undefined : 0;
  const ta = term(a);
  const tb = term(b);
  if (!ta || !tb || tb.coef === 0 || ta.coef % tb.coef !== 0) return undefined;
  const syms = [...ta.syms];
  for (const s of tb.syms) {
    const i = syms.indexOf(s);
    if (i < 0) return undefined;
    syms.splice(i, 1);
  }
  return termDim({ coef: ta.coef / tb.coef, syms });
}

/** a + b; symbols only combine with like symbols ('N' + 'N' = 'N·2') or zero. */
export function addDim(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (b === 0) return a;
  if (a === 0) return b;
  const ta = term(a);
  const tb = term(b);
  if (!ta || !tb || !sameSyms(ta, tb)) return UNKNOWN;
  return termDim({ coef: ta.coef + tb.coef, syms: ta.syms });
}

/** a − b. */
export function subDim(a: Dim, b: Dim): Dim {
  return addDim(a, mulDim(b, -1));
}

/** The product of dims: a number when all are numbers. */
export function productDim(dims: Dim[]): Dim {
  return dims.reduce<Dim>((p, d) => mulDim(p, d), 1);
}

/** Bounds a dim is known to lie in: named factors are ≥ 1, so 'N·2' ≥ 2. */
export function dimBounds(d: Dim): [number, number] {
  if (typeof d === 'number') return [d, d];
  const t = term(d);
  if (!t) return [-Infinity, Infinity];
  return t.coef >= 0 ? [t.coef, Infinity] : [-Infinity, t.coef];
}

/** The dim as a number; throws (with the op's wording) when it is symbolic. */
export function num(d: Dim, what = 'dimension'): number {
  if (typeof d !== 'number') throw new Error(`${what} '${d}' must be a number here`);
  return d;
}

/** True when every dim is a number. */
export function isNumeric(dims: readonly Dim[]): dims is number[] {
  return dims.every((d) => typeof d === 'number');
}

/** Product of numbers (1 for none). */
export function product(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

/** An axis in [-rank, rank) made non-negative; throws when out of range. */
export function normAxis(axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new Error(`${what} ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Multidirectional (numpy-style) broadcasting of input shapes. */
export function broadcast(shapes: Shape[]): Shape {
  if (shapes.some((s) => s === null)) return null;
  const all = shapes as Dim[][];
  const rank = Math.max(0, ...all.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of all) {
      const d = s[s.length - rank + i] ?? 1;
      if (d === 1 || dimEq(d, dim)) continue;
      if (dim === 1) dim = d;
      else if (typeof dim === 'number' && typeof d === 'number') {
        throw new Error(`cannot broadcast ${all.map((x) => shapeText(x)).join(' with ')}`);
      }
      // A symbol against a number must be 1 or that number: the number wins. Two symbols: unknown.
      else if (typeof d === 'number') dim = d;
      else if (typeof dim !== 'number') dim = UNKNOWN;
    }
    out.push(dim);
  }
  return out;
}

/** Elements of one image's slice of a shape (axis 0 dropped); 0 when a dim is symbolic. */
export function perImage(shape: Dim[]): number {
  const rest = shape.slice(1);
  return isNumeric(rest) ? product(rest) : 0;
}
