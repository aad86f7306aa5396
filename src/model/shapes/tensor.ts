// Shape rules of the ops that move, cut, join or make tensors (Reshape, Slice, Concat, Pad, Resize, …).
// Where an output size depends on a tensor's contents (a Reshape target, Slice bounds), that tensor
// must have been folded; otherwise the rule throws and the node becomes a root cause.
import type { Dim } from '../onnxGraph';
import { shapeText } from '../../shared/format';
import { isTensor, type OpContext } from './context';
import {
  addDim,
  broadcast,
  dimEq,
  divExact,
  isNumeric,
  mulDim,
  normAxis,
  num,
  product,
  productDim,
  subDim,
  UNKNOWN,
} from './dims';
import type { Shape, Value } from './types';

// Slice bounds at or beyond this mean "to the end" (exporters write INT64_MAX or INT32_MAX).
const TO_END = 2 ** 31 - 1;

/** Shape: a 1-D tensor of the rank (or the start..end part, opset 15). */
export function shapeOp(c: OpContext): Shape[] {
  const [start, end] = shapeRange(c, c.shape(0).length);
  return [[end - start]];
}

/** The [start, end) axes Shape reports, clamped as the spec says. */
export function shapeRange(c: OpContext, rank: number): [number, number] {
  const clamp = (v: number): number => Math.min(rank, Math.max(0, v < 0 ? v + rank : v));
  const start = clamp(c.int('start', 0));
  return [start, Math.max(start, clamp(c.int('end', rank)))];
}

/** Reshape: 0 copies the input dim (unless allowzero), -1 takes what is left of the volume. */
export function reshape(c: OpContext): Shape[] {
  const target = c.has(1) ? c.needValue(1, 'target shape') : c.ints('shape');
  if (!target) throw new Error('Reshape without a target shape');
  return [reshapeDims(c.shape(0), target, c.int('allowzero', 0) !== 0)];
}

/** The output dims of a Reshape of `x` to `target`; symbols on both sides cancel when solving for -1. */
export function reshapeDims(x: Dim[], target: Value, allowZero: boolean): Dim[] {
  const out: Dim[] = target.map((t, i) => {
    if (t === 0 && !allowZero) {
      if (i >= x.length) throw new Error(`Reshape copies axis ${i}, but the input has rank ${x.length}`);
      return x[i]!;
    }
    if (typeof t === 'number' && (t < -1 || !Number.isInteger(t))) throw new Error(`bad Reshape size ${t}`);
    return t;
  });
  const hole = out.indexOf(-1);
  if (out.lastIndexOf(-1) !== hole) throw new Error('Reshape target has more than one -1');
  const volume = productDim(x);
  const known = productDim(out.filter((_, i) => i !== hole));
  if (hole >= 0) {
    const rest = divExact(volume, known);
    if (rest === undefined && typeof volume === 'number' && typeof known === 'number') {
      throw new Error(`cannot reshape ${shapeText(x)} into [${target.join(', ')}]`);
    }
    out[hole] = rest ?? UNKNOWN;
  } else if (typeof volume === 'number' && typeof known === 'number' && volume !== known) {
    throw new Error(`cannot reshape ${shapeText(x)} (${volume} elements) into ${shapeText(out)}`);
  }
  return out;
}

/** Flatten: [prod(x[:axis]), prod(x[axis:])]. */
export function flatten(c: OpContext): Shape[] {
  const x = c.shape(0);
  const axis = c.int('axis', 1);
  if (axis < -x.length || axis > x.length) throw new Error(`Flatten axis ${axis} out of range`);
  const a = axis < 0 ? axis + x.length : axis;
  return [[productDim(x.slice(0, a)), productDim(x.slice(a))]];
}

/** Transpose: perm, reversed axes by default. */
export function transpose(c: OpContext): Shape[] {
  const x = c.shape(0);
  return [transposePerm(c, x.length).map((p) => x[p]!)];
}

/** The permutation of a Transpose, checked. */
export function transposePerm(c: OpContext, rank: number): number[] {
  const perm = c.ints('perm') ?? [...Array(rank).keys()].reverse();
  const seen = new Set(perm.map((p) => normAxis(p, rank, 'perm entry')));
  if (perm.length !== rank || seen.size !== rank) {
    throw new Error(`perm [${perm.join(', ')}] is not a permutation of ${rank} axes`);
  }
  return perm.map((p) => (p < 0 ? p + rank : p));
}

/** Squeeze: axes attribute before opset 13, input from 13; no axes drops every 1. */
export function squeeze(c: OpContext): Shape[] {
  const x = c.shape(0);
  const axes = c.numbersOrAttr(1, 'axes');
  if (!axes || axes.length === 0) return [x.filter((d) => d !== 1)];
  const drop = new Set(axes.map((a) => normAxis(a, x.length)));
  for (const a of drop) {
    const d = x[a]!;
    if (typeof d === 'number' && d !== 1) throw new Error(`cannot squeeze axis ${a} of size ${d}`);
  }
  return [x.filter((_, i) => !drop.has(i))];
}

/** Unsqueeze: axes (attribute before opset 13, input from 13) index the output. */
export function unsqueeze(c: OpContext): Shape[] {
  const x = c.shape(0);
  const axes = c.numbersOrAttr(1, 'axes');
  if (!axes) throw new Error('Unsqueeze without axes');
  const rank = x.length + axes.length;
  const add = new Set(axes.map((a) => normAxis(a, rank)));
  if (add.size !== axes.length) throw new Error(`Unsqueeze axes [${axes.join(', ')}] repeat`);
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(add.has(i) ? 1 : x[j++]!);
  return [out];
}

/** Concat along `axis`; the other dims must agree. */
export function concat(c: OpContext): Shape[] {
  const shapes = c.node.inputs
    .map((_, i) => i)
    .filter((i) => c.has(i))
    .map((i) => c.shape(i));
  if (shapes.length === 0) throw new Error('Concat without inputs');
  const rank = shapes[0]!.length;
  if (shapes.some((s) => s.length !== rank)) {
    throw new Error(`Concat inputs differ in rank: ${shapes.map((s) => shapeText(s)).join(', ')}`);
  }
  if (c.attr('axis') === undefined) throw new Error('Concat without axis');
  const a = normAxis(c.int('axis', 0), rank);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const dims = shapes.map((s) => s[i]!);
    out.push(i === a ? dims.reduce((x, y) => addDim(x, y), 0) : agree(dims, i));
  }
  return [out];
}

function agree(dims: Dim[], axis: number): Dim {
  const nums = [...new Set(dims.filter((d) => typeof d === 'number'))];
  if (nums.length > 1) throw new Error(`Concat inputs differ on axis ${axis}: ${nums.join(' vs ')}`);
  if (nums.length === 1) return nums[0]!;
  return dims.every((d) => dimEq(d, dims[0]!)) ? dims[0]! : UNKNOWN;
}

/** Split: sizes from the input (13+) or attribute (<13), num_outputs (18+), or equal parts. */
export function split(c: OpContext): Shape[] {
  const x = c.shape(0);
  const a = normAxis(c.int('axis', 0), x.length);
  const parts = splitSizes(c, x[a]!);
  return parts.map((p) => x.map((d, i) => (i === a ? p : d)));
}

/** The size of every part of a Split along its axis. */
export function splitSizes(c: OpContext, dim: Dim): Dim[] {
  const n = c.node.outputs.length;
  const given = c.numbersOrAttr(1, 'split');
  if (given && given.length > 0) {
    if (given.length !== n) throw new Error(`Split has ${given.length} sizes for ${n} outputs`);
    const total = given.reduce((s, g) => s + g, 0);
    if (typeof dim === 'number' && total !== dim) {
      throw new Error(`Split sizes add up to ${total}, but the axis has ${dim}`);
    }
    return given;
  }
  const k = c.int('num_outputs', 0) || n;
  if (k !== n) throw new Error(`Split has num_outputs ${k} but ${n} outputs`);
  const equal = divExact(dim, k);
  if (equal !== undefined) return new Array<Dim>(k).fill(equal);
  if (typeof dim !== 'number') return new Array<Dim>(k).fill(UNKNOWN);
  // num_outputs (opset 18) allows a smaller last part; plain equal splits must divide exactly.
  if (!c.attr('num_outputs')) throw new Error(`Split cannot divide ${dim} into ${k} equal parts`);
  const chunk = Math.ceil(dim / k);
  return [...new Array<number>(k - 1).fill(chunk), dim - chunk * (k - 1)];
}

/** Slice bounds per axis, from attributes (opset < 10) or inputs (10+). */
export interface SliceSpec {
  axes: number[];
  starts: Value;
  ends: Value;
  steps: number[];
}

/** Reads and checks a Slice's starts, ends, axes and steps. */
export function sliceSpec(c: OpContext, rank: number): SliceSpec {
  const fromInputs = c.opset >= 10 || c.has(1);
  const starts = fromInputs ? c.needValue(1, 'starts') : c.ints('starts');
  const ends = fromInputs ? c.needValue(2, 'ends') : c.ints('ends');
  if (!starts || !ends) throw new Error('Slice without starts and ends');
  const axes = (fromInputs ? (c.has(3) ? c.needNumbers(3, 'axes') : undefined) : c.ints('axes')) ?? [
    ...starts.keys(),
  ];
  const steps = (fromInputs && c.has(4) ? c.needNumbers(4, 'steps') : undefined) ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    throw new Error('Slice starts, ends, axes and steps differ in length');
  }
  if (steps.some((s) => s === 0)) throw new Error('Slice step 0');
  return { axes: axes.map((a) => normAxis(a, rank)), starts, ends, steps };
}

/** First index and element count of a slice of one axis of `size` elements (ONNX clamping rules). */
export function sliceAxis(size: number, start: number, end: number, step: number): [number, number] {
  let s = start < 0 ? start + size : start;
  let e = end < 0 ? end + size : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), size);
    e = Math.min(Math.max(e, 0), size);
    return [s, Math.max(0, Math.ceil((e - s) / step))];
  }
  s = Math.min(Math.max(s, 0), size - 1);
  e = Math.min(Math.max(e, -1), size - 1);
  return [s, Math.max(0, Math.ceil((s - e) / -step))];
}

/** Slice (attributes before opset 10; inputs with steps from 10). */
export function slice(c: OpContext): Shape[] {
  const x = c.shape(0);
  const spec = sliceSpec(c, x.length);
  const out = [...x];
  spec.axes.forEach((a, i) => {
    const d = x[a]!;
    const start = spec.starts[i]!;
    const end = spec.ends[i]!;
    const step = spec.steps[i]!;
    if (typeof d === 'number' && typeof start === 'number' && typeof end === 'number') {
      out[a] = sliceAxis(d, start, end, step)[1];
    } else if (step === 1 && start === 0 && ((typeof end === 'number' && end >= TO_END) || dimEq(end, d))) {
      out[a] = d;
    } else if (
      step === 1 &&
      typeof start === 'number' &&
      start > 0 &&
      typeof end === 'number' &&
      end >= TO_END
    ) {
      out[a] = subDim(d, start);
    } else out[a] = UNKNOWN;
  });
  return [out];
}

/** Gather: data[:axis] + indices + data[axis+1:]. */
export function gather(c: OpContext): Shape[] {
  const data = c.shape(0);
  const a = normAxis(c.int('axis', 0), data.length);
  return [[...data.slice(0, a), ...c.shape(1), ...data.slice(a + 1)]];
}

/** GatherND: indices[:-1] + data[batch_dims + indices[-1]:]. */
export function gatherND(c: OpContext): Shape[] {
  const data = c.shape(0);
  const idx = c.shape(1);
  const b = c.int('batch_dims', 0);
  const last = num(idx[idx.length - 1] ?? UNKNOWN, 'GatherND index depth');
  return [[...idx.slice(0, -1), ...data.slice(b + last)]];
}

/** Expand: bidirectional broadcast of the input with the target shape. */
export function expand(c: OpContext): Shape[] {
  const target = c.needValue(1, 'shape');
  return [broadcast([c.shape(0), target])];
}

/** Tile: each axis times its repeat count. */
export function tile(c: OpContext): Shape[] {
  const x = c.shape(0);
  const repeats = c.needValue(1, 'repeats');
  if (repeats.length !== x.length) throw new Error(`Tile has ${repeats.length} repeats for rank ${x.length}`);
  return [x.map((d, i) => mulDim(d, repeats[i]!))];
}

/** Pad: pads attribute (<11) or input (11+), axes input (18+); records the pads over all axes. */
export function pad(c: OpContext): Shape[] {
  const x = c.shape(0);
  const r = x.length;
  const given = c.has(1) ? c.needNumbers(1, 'pads') : (c.ints('pads') ?? c.ints('paddings'));
  if (!given) throw new Error('Pad without pads');
  const axes = c.has(3) ? c.needNumbers(3, 'axes').map((a) => normAxis(a, r)) : x.map((_, i) => i);
  if (given.length !== 2 * axes.length)
    throw new Error(`Pad has ${given.length} pads for ${axes.length} axes`);
  const pads = new Array<number>(2 * r).fill(0);
  axes.forEach((a, i) => {
    pads[a] = given[i]!;
    pads[a + r] = given[i + axes.length]!;
  });
  c.info.padAmounts = pads;
  return [
    x.map((d, i) => {
      const out = addDim(d, pads[i]! + pads[i + r]!);
      if (typeof out === 'number' && out < 0) throw new Error(`Pad crops axis ${i} below zero`);
      return out;
    }),
  ];
}

/** Resize (scales at input 1 in opset 10; roi, scales, sizes at 1, 2, 3 from 11) and Upsample (7, 9). */
export function resize(c: OpContext): Shape[] {
  const x = c.shape(0);
  const early = c.op === 'Upsample' || c.opset < 11;
  const scalesAt = early ? 1 : 2;
  let scales = c.has(scalesAt) ? c.needNumbers(scalesAt, 'scales') : early ? c.ints('scales') : undefined;
  const sizes = !early && c.has(3) ? c.needValue(3, 'sizes') : undefined;
  if (scales?.length === 0) scales = undefined;
  const axes = (c.ints('axes') ?? x.map((_, i) => i)).map((a) => normAxis(a, x.length));
  const out = [...x];
  if (sizes && sizes.length > 0) {
    if (sizes.length !== axes.length)
      throw new Error(`${c.op} has ${sizes.length} sizes for ${axes.length} axes`);
    const policy = c.str('keep_aspect_ratio_policy', 'stretch');
    if (policy === 'stretch') axes.forEach((a, i) => (out[a] = sizes[i]!));
    else {
      const ratios = axes.map((a, i) => num(sizes[i]!, 'size') / num(x[a]!, `${c.op} input size`));
      const scale = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      axes.forEach((a) => (out[a] = Math.floor(scale * num(x[a]!) + 0.5)));
    }
    return [out];
  }
  if (!scales) throw new Error(`${c.op} needs scales or sizes`);
  if (scales.length !== axes.length)
    throw new Error(`${c.op} has ${scales.length} scales for ${axes.length} axes`);
  // The spec scales tf_crop_and_resize outputs by the roi's extent too; onnxruntime does not, and its
  // sizes are the ones a run produces.
  axes.forEach((a, i) => {
    const d = x[a]!;
    const scale = scales[i]!;
    if (typeof d === 'number') out[a] = Math.floor(Math.fround(d * Math.fround(scale)));
    else out[a] = Number.isInteger(scale) ? mulDim(d, scale) : UNKNOWN;
  });
  return [out];
}

/** ConstantOfShape: the shape is the input's contents. */
export function constantOfShape(c: OpContext): Shape[] {
  const dims = c.needValue(0, 'shape');
  if (dims.some((d) => typeof d === 'number' && d < 0))
    throw new Error(`negative size in [${dims.join(', ')}]`);
  return [dims];
}

/** Range: ceil((limit − start) / delta) elements. */
export function range(c: OpContext): Shape[] {
  const [start, limit, delta] = [0, 1, 2].map((i) => c.needValue(i, ['start', 'limit', 'delta'][i]!)[0]);
  if (typeof start === 'number' && typeof limit === 'number' && typeof delta === 'number') {
    if (delta === 0) throw new Error('Range delta 0');
    return [[Math.max(0, Math.ceil((limit - start) / delta))]];
  }
  return [[start === 0 && delta === 1 && limit !== undefined ? limit : UNKNOWN]];
}

/** DepthToSpace and SpaceToDepth: channels traded for blocksize² pixels. */
export function depthSpace(c: OpContext): Shape[] {
  const x = c.shape(0);
  if (x.length !== 4) throw new Error(`${c.op} needs a 4-D input, got ${shapeText(x)}`);
  const b = c.int('blocksize', 0);
  if (b < 1) throw new Error(`${c.op} needs a positive blocksize`);
  const div = (d: Dim, k: number): Dim => {
    const q = divExact(d, k);
    if (q === undefined && typeof d === 'number') throw new Error(`${c.op}: ${d} is not divisible by ${k}`);
    return q ?? UNKNOWN;
  };
  const [n, ch, h, w] = x as [Dim, Dim, Dim, Dim];
  if (c.op === 'DepthToSpace') return [[n, div(ch, b * b), mulDim(h, b), mulDim(w, b)]];
  return [[n, mulDim(ch, b * b), div(h, b), div(w, b)]];
}

/** Constant: the shape of whichever value attribute it has. */
export function constant(c: OpContext): Shape[] {
  const value = c.attr('value');
  if (isTensor(value)) return [[...value.dims]];
  for (const [name, v] of Object.entries(c.node.attrs)) {
    if (name === 'value_float' || name === 'value_int' || name === 'value_string') return [[]];
    if (name === 'value_floats' || name === 'value_ints' || name === 'value_strings') {
      return [[Array.isArray(v) ? v.length : 0]];
    }
    if (name === 'sparse_value') throw new Error('Constant with a sparse_value is not supported');
  }
  throw new Error('Constant without a value');
}

/** NonZero: [rank, count]; the count is known only when the input was folded. */
export function nonZero(c: OpContext): Shape[] {
  const x = c.shape(0);
  const v = c.value(0);
  if (!v) throw new Error("NonZero's output size depends on the input's values (known only at run time)");
  if (!v.every((e) => typeof e === 'number')) throw new Error('NonZero of symbolic values');
  return [[x.length, v.filter((e) => e !== 0).length]];
}

/** True when a shape's dims are all numbers and it holds at most `max` elements. */
export function smallNumeric(s: Shape, max: number): s is number[] {
  return s !== null && isNumeric(s) && product(s) <= max;
}
