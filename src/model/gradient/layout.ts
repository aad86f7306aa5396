// Backward rules of the ops that move elements without computing: each is undone by its inverse (Concat by
// Split, Split by Concat, Slice by zero Pad, Pad by Slice, reshapes by a Reshape back, Transpose by the
// inverse permutation). The batch axis must be left alone.
import { int, ints, NotSupported } from './emitter';
import { numeric, type Rule, type Step } from './step';

/** An axis attribute made non-negative; the batch axis is refused. */
function axisOf(s: Step, rank: number, dflt: number): number {
  const a = s.attr('axis', dflt);
  const axis = a < 0 ? a + rank : a;
  if (axis === 0) throw new NotSupported('it works along the batch axis');
  return axis;
}

const concat: Rule = (s) => {
  const axis = axisOf(s, s.outShape(0).length, 0);
  const sizes = s.node.inputs.map((t, i) => numeric(s.inShape(i)[axis]!, t));
  const parts = s.e.ops('Split', [s.g, s.e.int64s(sizes)], sizes.length, [int('axis', axis)], s.node.name);
  return parts.map((p, i) => (s.onPath(i) ? p : undefined));
};

// Outputs the logits do not depend on contribute zeros.
const split: Rule = (s) => {
  const axis = axisOf(s, s.inShape(0).length, 0);
  const parts = s.node.outputs.map((_, i) => s.gy[i] ?? s.e.zerosLike(s.y(i)));
  return [s.e.op('Concat', parts, [int('axis', axis)], `${s.node.name}/dX`)];
};

// Starts/ends/axes/steps: attributes before opset 10, inputs 1–4 from then on.
const slice: Rule = (s) => {
  const shape = s.inShape(0);
  const rank = shape.length;
  const old = s.opset < 10;
  const starts = old ? s.ints('starts') : s.value(1);
  const ends = old ? s.ints('ends') : s.value(2);
  if (!starts || !ends) throw new NotSupported('its starts and ends are not constant');
  const axes = (old ? s.ints('axes') : s.value(3)) ?? starts.map((_, i) => i);
  const steps = (old ? null : s.value(4)) ?? starts.map(() => 1);
  if (!old && s.x(4) !== '' && !s.value(4)) throw new NotSupported('its steps are not constant');
  if (steps.some((k) => k !== 1)) throw new NotSupported('it slices with a step other than 1');
  const pads = new Array<number>(2 * rank).fill(0);
  axes.forEach((a, i) => {
    const axis = a < 0 ? a + rank : a;
    const size = numeric(shape[axis]!, s.node.inputs[0]!);
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
    const [begin, end] = [clamp(starts[i]!), clamp(ends[i]!)];
    if (axis === 0 && (begin !== 0 || end !== size)) throw new NotSupported('it slices the batch axis');
    pads[axis] = begin;
    pads[axis + rank] = size - Math.max(begin, end);
  });
  return [s.e.op('Pad', [s.g, s.e.int64s(pads)], [], `${s.node.name}/dX`)];
};

// Shape inference resolved every opset's way of giving the pads; only constant zero padding is undone.
const pad: Rule = (s) => {
  const amounts = s.info.padAmounts;
  if (!amounts) throw new NotSupported('its pads are not constant');
  if (s.attr('mode', 'constant') !== 'constant') throw new NotSupported('it pads by reflection or edge');
  if (amounts.some((p) => p < 0)) throw new NotSupported('it crops (negative pads)');
  const shape = s.inShape(0);
  const rank = shape.length;
  const axes = shape.map((_, i) => i).filter((i) => amounts[i] !== 0 || amounts[i + rank] !== 0);
  if (axes.includes(0)) throw new NotSupported('it pads the batch axis');
  if (axes.length === 0) return [s.g];
  const starts = axes.map((a) => amounts[a]!);
  const ends = axes.map((a) => amounts[a]! + numeric(shape[a]!, s.node.inputs[0]!));
  const e = s.e;
  const inputs = [s.g, e.int64s(starts), e.int64s(ends), e.int64s(axes)];
  return [e.op('Slice', inputs, [], `${s.node.name}/dX`)];
};

// Flatten, Reshape, Squeeze, Unsqueeze: the gradient takes the input's shape back.
const reshapeBack: Rule = (s) => [s.e.op('Reshape', [s.g, s.e.shapeOf(s.x(0))], [], `${s.node.name}/dX`)];

const transpose: Rule = (s) => {
  const rank = s.inShape(0).length;
  const perm = s.ints('perm') ?? [...Array(rank).keys()].reverse();
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return [s.e.op('Transpose', [s.g], [ints('perm', inverse)], `${s.node.name}/dX`)];
};

/** Rules of the layout ops, by op. */
export const LAYOUT: Record<string, Rule> = {
  Concat: concat,
  Split: split,
  Slice: slice,
  Pad: pad,
  Flatten: reshapeBack,
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: transpose,
};
