// Constant folding of small tensors: the shape arithmetic exporters emit (Shape → Gather → Unsqueeze →
// Concat → Reshape, Equal/Where, Range, ConstantOfShape, …) evaluated at inference time, so that the ops
// reading a target shape can size their outputs. Elements are numbers, or symbolic dims such as 'N' that
// flow through with the dims arithmetic of ./dims ('?' where the result cannot be named).
import type { Dim } from '../onnxGraph';
import { DataType } from '../onnxGraph';
import { isTensor, tensorValues, type OpContext } from './context';
import { addDim, dimBounds, dimEq, divExact, isNumeric, mulDim, productDim, subDim, UNKNOWN } from './dims';
import { reduceAxes } from './nn';
import { shapeRange, sliceAxis, sliceSpec, splitSizes, transposePerm } from './tensor';
import type { Value } from './types';

type Elem = Dim;

/** Computes a node's output values from its input values and numeric output shapes; undefined: not foldable. */
export type Folder = (c: OpContext, out: (number[] | undefined)[]) => (Value | undefined)[] | undefined;

const INT_TYPES: ReadonlySet<number> = new Set([2, 3, 4, 5, 6, 7, 12, 13]);
const FLOAT32_TYPES: ReadonlySet<number> = new Set([DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16]);

/** An element converted to an ONNX element type (Cast, and the result type of arithmetic). */
export function castElem(v: Elem, type: number): Elem {
  if (typeof v === 'string') {
    if (type !== DataType.BOOL) return v;
    const [lo, hi] = dimBounds(v);
    return lo > 0 || hi < 0 ? 1 : UNKNOWN;
  }
  if (type === DataType.BOOL) return v !== 0 ? 1 : 0;
  if (INT_TYPES.has(type)) return Number.isFinite(v) ? Math.trunc(v) : v;
  if (FLOAT32_TYPES.has(type)) return Math.fround(v);
  return v;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Output values by a map from output coordinates to a flat index of `src`. */
function mapped(src: Value, out: readonly number[], at: (coords: number[]) => number): Value {
  const n = size(out);
  const res: Value = new Array<Elem>(n);
  const coords = new Array<number>(out.length).fill(0);
  for (let f = 0; f < n; f++) {
    let rem = f;
    for (let ax = out.length - 1; ax >= 0; ax--) {
      coords[ax] = rem % out[ax]!;
      rem = Math.floor(rem / out[ax]!);
    }
    const v = src[at(coords)];
    if (v === undefined) throw new Error('folding read past the end of a value');
    res[f] = v;
  }
  return res;
}

/** Flat index into `shape` of coordinates aligned to the right of `coords`, size-1 axes broadcast. */
function broadcastAt(shape: readonly number[], coords: number[]): number {
  const st = strides(shape);
  const off = coords.length - shape.length;
  let idx = 0;
  for (let k = 0; k < shape.length; k++) if (shape[k] !== 1) idx += coords[k + off]! * st[k]!;
  return idx;
}

function inShape(c: OpContext, i: number): number[] | undefined {
  const s = c.info.inShapes[i];
  return s && isNumeric(s) ? s : undefined;
}

/** Values of every given input, with numeric shapes; undefined when any is missing. */
function operands(c: OpContext): [Value, number[]][] | undefined {
  const res: [Value, number[]][] = [];
  for (let i = 0; i < c.node.inputs.length; i++) {
    if (!c.has(i)) continue;
    const v = c.value(i);
    const s = inShape(c, i);
    if (!v || !s) return undefined;
    res.push([v, s]);
  }
  return res;
}

function elementwise(fn: (args: Elem[], c: OpContext) => Elem): Folder {
  return (c, out) => {
    const ops = operands(c);
    const shape = out[0];
    if (!ops || !shape) return undefined;
    const res: Value = new Array<Elem>(size(shape));
    const coords = new Array<number>(shape.length).fill(0);
    for (let f = 0; f < res.length; f++) {
      let rem = f;
      for (let ax = shape.length - 1; ax >= 0; ax--) {
        coords[ax] = rem % shape[ax]!;
        rem = Math.floor(rem / shape[ax]!);
      }
      res[f] = fn(
        ops.map(([v, s]) => v[broadcastAt(s, coords)]!),
        c,
      );
    }
    return [res];
  };
}

function numeric(fn: (...xs: number[]) => number): (args: Elem[]) => Elem {
  return (args) => (args.every((a) => typeof a === 'number') ? fn(...(args as number[])) : UNKNOWN);
}

function maxElem(a: Elem, b: Elem): Elem {
  if (typeof a === 'number' && typeof b === 'number') return Math.max(a, b);
  if (dimEq(a, b)) return a;
  const [al, ah] = dimBounds(a);
  const [bl, bh] = dimBounds(b);
  return al >= bh ? a : bl >= ah ? b : UNKNOWN;
}

function minElem(a: Elem, b: Elem): Elem {
  if (typeof a === 'number' && typeof b === 'number') return Math.min(a, b);
  if (dimEq(a, b)) return a;
  const [al, ah] = dimBounds(a);
  const [bl, bh] = dimBounds(b);
  return ah <= bl ? a : bh <= al ? b : UNKNOWN;
}

function less(a: Elem, b: Elem): Elem {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? 1 : 0;
  if (dimEq(a, b)) return 0;
  const [al, ah] = dimBounds(a);
  const [bl, bh] = dimBounds(b);
  return ah < bl ? 1 : al >= bh ? 0 : UNKNOWN;
}

function equal(a: Elem, b: Elem): Elem {
  if (typeof a === 'number' && typeof b === 'number') return a === b ? 1 : 0;
  if (dimEq(a, b)) return 1;
  const [al, ah] = dimBounds(a);
  const [bl, bh] = dimBounds(b);
  return ah < bl || bh < al ? 0 : UNKNOWN;
}

function not(a: Elem): Elem {
  return typeof a === 'number' ? (a ? 0 : 1) : UNKNOWN;
}

function isInt(type: number | undefined): boolean {
  return type !== undefined && INT_TYPES.has(type);
}

function div([a, b]: Elem[], c: OpContext): Elem {
  if (typeof a === 'number' && typeof b === 'number') {
    if (!isInt(c.types[0])) return a / b;
    return b === 0 ? UNKNOWN : Math.trunc(a / b);
  }
  return divExact(a!, b!) ?? UNKNOWN;
}

function mod([a, b]: Elem[], c: OpContext): Elem {
  if (typeof a !== 'number' || typeof b !== 'number' || b === 0) return UNKNOWN;
  // fmod=0 (integers): the sign of the divisor, as in Python; fmod=1: the sign of the dividend, as in C.
  return c.int('fmod', 0) ? a % b : ((a % b) + b) % b;
}

function pow([a, b]: Elem[]): Elem {
  if (typeof a === 'number' && typeof b === 'number') return a ** b;
  if (b === 1) return a!;
  return b === 0 ? 1 : UNKNOWN;
}

function variadic(fn: (a: Elem, b: Elem) => Elem): (args: Elem[]) => Elem {
  return (args) => args.slice(1).reduce(fn, args[0]!);
}

function truthy(a: Elem): boolean | undefined {
  return typeof a === 'number' ? a !== 0 : undefined;
}

function logic(fn: (a: boolean, b: boolean) => boolean, short?: boolean): (args: Elem[]) => Elem {
  return ([a, b]) => {
    const x = truthy(a!);
    const y = truthy(b!);
    if (x !== undefined && y !== undefined) return fn(x, y) ? 1 : 0;
    // And with a false, Or with a true, is decided whatever the other side is.
    if (short !== undefined && (x === short || y === short)) return short ? 1 : 0;
    return UNKNOWN;
  };
}

// Symbols are whole numbers: rounding leaves them; their sign is known.
function rounding(fn: (x: number) => number): (args: Elem[]) => Elem {
  return ([a]) => (typeof a === 'number' ? fn(a) : a!);
}

function sign(a: Elem): Elem {
  if (typeof a === 'number') return Math.sign(a);
  const [lo, hi] = dimBounds(a);
  return lo > 0 ? 1 : hi < 0 ? -1 : UNKNOWN;
}

/** The same elements, in the same order (Reshape, Squeeze, Cast, …). */
const passThrough: Folder = (c) => {
  const v = c.value(0);
  return v ? [v] : undefined;
};

function reduceFold(fn: (a: Elem, b: Elem) => Elem): Folder {
  return (c, out) => {
    const v = c.value(0);
    const x = inShape(c, 0);
    if (!v || !x || !out[0]) return undefined;
    const axes = reduceAxes(c, x.length);
    if (!axes) return [v];
    const kept = x.map((d, i) => (axes.has(i) ? 1 : d));
    const acc = new Array<Elem | undefined>(size(kept));
    const ks = strides(kept);
    const coords = new Array<number>(x.length).fill(0);
    for (let f = 0; f < v.length; f++) {
      let rem = f;
      let o = 0;
      for (let ax = x.length - 1; ax >= 0; ax--) {
        coords[ax] = rem % x[ax]!;
        rem = Math.floor(rem / x[ax]!);
        if (!axes.has(ax)) o += coords[ax]! * ks[ax]!;
      }
      acc[o] = acc[o] === undefined ? v[f] : fn(acc[o]!, v[f]!);
    }
    return acc.every((e) => e !== undefined) ? [acc as Value] : undefined;
  };
}

const gatherFold: Folder = (c, out) => {
  const data = c.value(0);
  const idx = c.value(1);
  const ds = inShape(c, 0);
  if (!data || !idx || !ds || !out[0] || !idx.every((i) => typeof i === 'number')) return undefined;
  const a = c.int('axis', 0) < 0 ? c.int('axis', 0) + ds.length : c.int('axis', 0);
  const n = ds[a]!;
  const picks = (idx as number[]).map((i) => {
    if (i < -n || i >= n) throw new Error(`Gather index ${i} is out of range for size ${n}`);
    return i < 0 ? i + n : i;
  });
  const outer = size(ds.slice(0, a));
  const inner = size(ds.slice(a + 1));
  const res: Value = [];
  for (let o = 0; o < outer; o++) {
    for (const k of picks) for (let j = 0; j < inner; j++) res.push(data[(o * n + k) * inner + j]!);
  }
  return [res];
};

const concatFold: Folder = (c, out) => {
  const ops = operands(c);
  if (!ops || !out[0]) return undefined;
  const rank = out[0].length;
  const axis = c.int('axis', 0);
  const a = axis < 0 ? axis + rank : axis;
  const outer = size(out[0].slice(0, a));
  const res: Value = [];
  for (let o = 0; o < outer; o++) {
    for (const [v, s] of ops) {
      const chunk = size(s.slice(a));
      res.push(...v.slice(o * chunk, (o + 1) * chunk));
    }
  }
  return [res];
};

const sliceFold: Folder = (c, out) => {
  const v = c.value(0);
  const x = inShape(c, 0);
  if (!v || !x || !out[0]) return undefined;
  const spec = sliceSpec(c, x.length);
  const first = x.map(() => 0);
  const step = x.map(() => 1);
  for (let i = 0; i < spec.axes.length; i++) {
    const a = spec.axes[i]!;
    const s = spec.starts[i]!;
    const e = spec.ends[i]!;
    if (typeof s !== 'number' || typeof e !== 'number') return undefined;
    first[a] = sliceAxis(x[a]!, s, e, spec.steps[i]!)[0];
    step[a] = spec.steps[i]!;
  }
  const st = strides(x);
  return [
    mapped(v, out[0], (cs) => cs.reduce((f, ci, ax) => f + (first[ax]! + ci * step[ax]!) * st[ax]!, 0)),
  ];
};

const splitFold: Folder = (c, out) => {
  const v = c.value(0);
  const x = inShape(c, 0);
  if (!v || !x) return undefined;
  const axis = c.int('axis', 0);
  const a = axis < 0 ? axis + x.length : axis;
  const parts = splitSizes(c, x[a]!);
  const st = strides(x);
  let offset = 0;
  return parts.map((p, k) => {
    const shape = out[k];
    const at = offset;
    offset += typeof p === 'number' ? p : 0;
    if (!shape) return undefined;
    return mapped(v, shape, (cs) => cs.reduce((f, ci, ax) => f + (ax === a ? ci + at : ci) * st[ax]!, 0));
  });
};

const transposeFold: Folder = (c, out) => {
  const v = c.value(0);
  const x = inShape(c, 0);
  if (!v || !x || !out[0]) return undefined;
  const perm = transposePerm(c, x.length);
  const st = strides(x);
  return [mapped(v, out[0], (cs) => cs.reduce((f, ci, i) => f + ci * st[perm[i]!]!, 0))];
};

const expandFold: Folder = (c, out) => {
  const v = c.value(0);
  const x = inShape(c, 0);
  if (!v || !x || !out[0]) return undefined;
  return [mapped(v, out[0], (cs) => broadcastAt(x, cs))];
};

const tileFold: Folder = (c, out) => {
  const v = c.value(0);
  const x = inShape(c, 0);
  if (!v || !x || !out[0]) return undefined;
  const st = strides(x);
  return [mapped(v, out[0], (cs) => cs.reduce((f, ci, ax) => f + (ci % x[ax]!) * st[ax]!, 0))];
};

const shapeFold: Folder = (c) => {
  const x = c.info.inShapes[0];
  if (!x) return undefined;
  const [start, end] = shapeRange(c, x.length);
  return [x.slice(start, end)];
};

const sizeFold: Folder = (c) => {
  const x = c.info.inShapes[0];
  return x ? [[productDim(x)]] : undefined;
};

const constantOfShapeFold: Folder = (c, out) => {
  const t = c.tensor('value');
  const fill = t ? tensorValues(t)?.[0] : 0;
  if (fill === undefined || !out[0]) return undefined;
  return [new Array<Elem>(size(out[0])).fill(fill)];
};

const rangeFold: Folder = (c, out) => {
  const [start, , delta] = [0, 1, 2].map((i) => c.value(i)?.[0]);
  if (typeof start !== 'number' || typeof delta !== 'number' || !out[0]) return undefined;
  return [Array.from({ length: out[0][0]! }, (_, i) => start + i * delta)];
};

const constantFold: Folder = (c) => {
  const value = c.attr('value');
  if (isTensor(value)) {
    const v = tensorValues(value);
    return v ? [v] : undefined;
  }
  for (const name of ['value_int', 'value_float', 'value_ints', 'value_floats']) {
    const v = c.attr(name);
    if (typeof v === 'number') return [[v]];
    if (Array.isArray(v) && v.every((e) => typeof e === 'number')) return [v as number[]];
  }
  return undefined;
};

const nonZeroFold: Folder = (c) => {
  const v = c.value(0);
  const x = inShape(c, 0);
  if (!v || !x) return undefined;
  const st = strides(x);
  const hits = v.map((e, f) => (e !== 0 ? f : -1)).filter((f) => f >= 0);
  const rows = x.map((d, ax) => hits.map((f) => Math.floor(f / st[ax]!) % d));
  return [rows.flat()];
};

const arithmetic: Record<string, (args: Elem[], c: OpContext) => Elem> = {
  Add: ([a, b]) => addDim(a!, b!),
  Sub: ([a, b]) => subDim(a!, b!),
  Mul: ([a, b]) => mulDim(a!, b!),
  Div: div,
  Mod: mod,
  Pow: pow,
  Neg: ([a]) => mulDim(a!, -1),
  Abs: ([a]) => (typeof a === 'number' ? Math.abs(a) : sign(a!) === 1 ? a! : UNKNOWN),
  Floor: rounding(Math.floor),
  Ceil: rounding(Math.ceil),
  // ONNX Round is half-to-even.
  Round: rounding((x) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x))),
  Sqrt: numeric(Math.sqrt),
  Reciprocal: numeric((x) => 1 / x),
  Sign: ([a]) => sign(a!),
  Relu: ([a]) => maxElem(a!, 0),
  Max: variadic(maxElem),
  Min: variadic(minElem),
  Sum: variadic((a, b) => addDim(a, b)),
  Mean: numeric((...xs) => xs.reduce((s, x) => s + x, 0) / xs.length),
  Equal: ([a, b]) => equal(a!, b!),
  Less: ([a, b]) => less(a!, b!),
  Greater: ([a, b]) => less(b!, a!),
  LessOrEqual: ([a, b]) => not(less(b!, a!)),
  GreaterOrEqual: ([a, b]) => not(less(a!, b!)),
  Not: ([a]) => not(a!),
  And: logic((a, b) => a && b, false),
  Or: logic((a, b) => a || b, true),
  Xor: logic((a, b) => a !== b),
  Where: ([cond, a, b]) => {
    const t = truthy(cond!);
    if (t !== undefined) return t ? a! : b!;
    return dimEq(a!, b!) ? a! : UNKNOWN;
  },
};

/** Clip by its min and max inputs (opset 11+; either may be omitted) or attributes (older opsets), as
 *  TF-style "same" padding computed in the graph uses it: max(pad, 0). */
const clip: Folder = (c, out) => {
  const x = c.value(0);
  if (!x || !out[0]) return undefined;
  const bound = (i: number, attr: string): Elem | undefined | null => {
    if (c.has(i)) return c.value(i)?.[0] ?? null;
    const a = c.node.attrs[attr];
    return typeof a === 'number' ? a : undefined;
  };
  const [lo, hi] = [bound(1, 'min'), bound(2, 'max')];
  if (lo === null || hi === null) return undefined;
  const clamp = (e: Elem): Elem => {
    const above = lo === undefined ? e : maxElem(e, lo);
    return hi === undefined ? above : minElem(above, hi);
  };
  return [x.map(clamp)];
};

/** Folders by op type. */
export const FOLDERS: Record<string, Folder> = {
  ...Object.fromEntries(Object.entries(arithmetic).map(([op, fn]) => [op, elementwise(fn)])),
  Clip: clip,
  Identity: passThrough,
  Dropout: passThrough,
  Cast: passThrough,
  CastLike: passThrough,
  Reshape: passThrough,
  Flatten: passThrough,
  Squeeze: passThrough,
  Unsqueeze: passThrough,
  Transpose: transposeFold,
  Concat: concatFold,
  Gather: gatherFold,
  Slice: sliceFold,
  Split: splitFold,
  Expand: expandFold,
  Tile: tileFold,
  Shape: shapeFold,
  Size: sizeFold,
  ConstantOfShape: constantOfShapeFold,
  Range: rangeFold,
  Constant: constantFold,
  NonZero: nonZeroFold,
  ReduceSum: reduceFold((a, b) => addDim(a, b)),
  ReduceProd: reduceFold((a, b) => mulDim(a, b)),
  ReduceMax: reduceFold(maxElem),
  ReduceMin: reduceFold(minElem),
};
