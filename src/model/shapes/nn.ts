// Shape rules of the network ops that are not sliding windows: normalisations, reductions, TopK/ArgMax,
// Gemm, MatMul and Einsum.
import type { Dim } from '../onnxGraph';
import { shapeText } from '../../shared/format';
import type { OpContext } from './context';
import { broadcast, dimEq, normAxis, UNKNOWN } from './dims';
import type { Shape } from './types';

/** BatchNormalization: Y like X; the optional training outputs are per channel. */
export function batchNorm(c: OpContext): Shape[] {
  const x = c.shape(0);
  if (x.length < 2) throw new Error(`BatchNormalization needs a channel axis, got ${shapeText(x)}`);
  const perChannel = [x[1]!];
  return [x, perChannel, perChannel, perChannel, perChannel];
}

/** LayerNormalization: Y like X; Mean and InvStdDev keep the axes before `axis` and 1 after. */
export function layerNorm(c: OpContext): Shape[] {
  const x = c.shape(0);
  const a = normAxis(c.int('axis', -1), x.length);
  const stats = x.map((d, i) => (i < a ? d : 1));
  return [x, stats, stats];
}

/** The Reduce* family: axes from the attribute, or the input (ReduceSum 13+, the others 18+). */
export function reduce(c: OpContext): Shape[] {
  const x = c.shape(0);
  const axes = reduceAxes(c, x.length);
  if (!axes) return [x];
  const keep = c.int('keepdims', 1) !== 0;
  return [keep ? x.map((d, i) => (axes.has(i) ? 1 : d)) : x.filter((_, i) => !axes.has(i))];
}

/** The axes a Reduce* op reduces; undefined for a no-op (empty axes with noop_with_empty_axes). */
export function reduceAxes(c: OpContext, rank: number): Set<number> | undefined {
  const given = c.numbersOrAttr(1, 'axes') ?? [];
  if (given.length === 0) {
    return c.int('noop_with_empty_axes', 0) !== 0 ? undefined : new Set([...Array(rank).keys()]);
  }
  return new Set(given.map((a) => normAxis(a, rank)));
}

/** ArgMax, ArgMin: one axis reduced (kept as 1 by default). */
export function argReduce(c: OpContext): Shape[] {
  const x = c.shape(0);
  const a = normAxis(c.int('axis', 0), x.length);
  const keep = c.int('keepdims', 1) !== 0;
  return [keep ? x.map((d, i) => (i === a ? 1 : d)) : x.filter((_, i) => i !== a)];
}

/** TopK: k from the attribute (<10) or a constant input (10+); Values and Indices alike. */
export function topK(c: OpContext): Shape[] {
  const x = c.shape(0);
  const a = normAxis(c.int('axis', -1), x.length);
  const k = c.has(1) ? c.needValue(1, 'K')[0] : c.int('k', NaN);
  if (k === undefined || (typeof k === 'number' && !(k >= 0))) throw new Error('TopK without a valid k');
  const d = x[a]!;
  if (typeof k === 'number' && typeof d === 'number' && k > d)
    throw new Error(`TopK k ${k} > axis size ${d}`);
  const y = x.map((e, i) => (i === a ? k : e));
  return [y, y];
}

/** Gemm: [M, N] from A [M, K] and B [K, N], either transposed. */
export function gemm(c: OpContext): Shape[] {
  const a = c.shape(0);
  const b = c.shape(1);
  if (a.length !== 2 || b.length !== 2)
    throw new Error(`Gemm needs 2-D A and B, got ${shapeText(a)}, ${shapeText(b)}`);
  const [m, k] = c.int('transA', 0) ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
  const [kb, n] = c.int('transB', 0) ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
  if (typeof k === 'number' && typeof kb === 'number' && k !== kb) {
    throw new Error(`Gemm inner dims differ: ${k} vs ${kb}`);
  }
  if (c.has(2)) broadcast([c.shape(2), [m, n]]);
  return [[m, n]];
}

/** MatMul with numpy semantics: batch axes broadcast, 1-D operands gain and then lose an axis. */
export function matMul(c: OpContext): Shape[] {
  const a = c.shape(0);
  const b = c.shape(1);
  if (a.length === 0 || b.length === 0) throw new Error('MatMul operands must not be scalars');
  const A = a.length === 1 ? [1, a[0]!] : a;
  const B = b.length === 1 ? [b[0]!, 1] : b;
  const k = A[A.length - 1]!;
  const kb = B[B.length - 2]!;
  if (typeof k === 'number' && typeof kb === 'number' && k !== kb) {
    throw new Error(`MatMul inner dims differ: ${shapeText(a)} × ${shapeText(b)}`);
  }
  const batch = broadcast([A.slice(0, -2), B.slice(0, -2)])!;
  const rows = a.length === 1 ? [] : [A[A.length - 2]!];
  const cols = b.length === 1 ? [] : [B[B.length - 1]!];
  return [[...batch, ...rows, ...cols]];
}

/** Einsum: labels bound to dims across operands, '...' broadcast, explicit or implicit output. */
export function einsum(c: OpContext): Shape[] {
  const equation = c.str('equation', '').replace(/\s/g, '');
  const [lhs, rhs, extra] = equation.split('->');
  const terms = (lhs ?? '').split(',');
  const operands = c.node.inputs.length;
  if (extra !== undefined || terms.length !== operands) {
    throw new Error(`Einsum equation '${equation}' does not fit ${operands} operands`);
  }
  const dims = new Map<string, Dim>();
  const counts = new Map<string, number>();
  let ellipsis: Dim[] = [];
  terms.forEach((t, k) => {
    const shape = c.shape(k);
    const dots = t.indexOf('...');
    const labels = t.replace('...', '');
    if (!/^[a-zA-Z]*$/.test(labels)) throw new Error(`Einsum term '${t}' is not supported`);
    const hidden = shape.length - labels.length;
    if (hidden < 0 || (dots < 0 && hidden !== 0)) {
      throw new Error(`Einsum term '${t}' does not fit ${shapeText(shape)}`);
    }
    const before = dots < 0 ? labels.length : dots;
    if (dots >= 0) ellipsis = broadcast([ellipsis, shape.slice(before, before + hidden)])!;
    [...labels].forEach((l, i) => {
      const d = shape[i < before ? i : i + hidden]!;
      counts.set(l, (counts.get(l) ?? 0) + 1);
      dims.set(l, bind(dims.get(l), d, l));
    });
  });
  const output = rhs ?? (terms.some((t) => t.includes('...')) ? '...' : '') + implicitLabels(counts);
  const out: Dim[] = [];
  const labels = output.replace('...', '\0');
  for (const l of labels) {
    if (l === '\0') out.push(...ellipsis);
    else if (dims.has(l)) out.push(dims.get(l)!);
    else throw new Error(`Einsum output label '${l}' is not in any input`);
  }
  return [out];
}

function bind(known: Dim | undefined, d: Dim, label: string): Dim {
  if (known === undefined || known === 1 || dimEq(known, d)) return d;
  if (d === 1) return known;
  if (typeof known === 'number' && typeof d === 'number') {
    throw new Error(`Einsum label '${label}' has sizes ${known} and ${d}`);
  }
  return typeof known === 'number' ? known : typeof d === 'number' ? d : UNKNOWN;
}

// Implicit mode: the labels that appear once, in alphabetical order.
function implicitLabels(counts: Map<string, number>): string {
  return [...counts]
    .filter(([, n]) => n === 1)
    .map(([l]) => l)
    .sort()
    .join('');
}
