// Backward rules of pooling. Max pooling routes each output's gradient to the element it took (the forward
// copy's Indices output); average pooling spreads it evenly over its window, divided by the count the
// forward pass divided by; global means spread it over the whole plane.
import type { Window } from '../shapes';
import { int, NotSupported, str } from './emitter';
import { transposedWindow } from './linear';
import type { Rule, Step } from './step';

// Indices are offsets into the whole flattened input, batch and channels included (ONNX MaxPool spec), so
// one ScatterElements over the flattened input adds every output's gradient at its arg-max; windows that
// overlap add up where they chose the same element.
const maxPool: Rule = (s) => {
  if (s.attr('storage_order', 0) !== 0)
    throw new NotSupported('its indices are column-major (storage_order=1)');
  const e = s.e;
  e.require(16, "ScatterElements' reduction 'add' (the gradient of MaxPool)");
  const out = s.copy.output!;
  if (!out[1]) out[1] = e.name(`${s.node.name}/indices`);
  const flat = e.int64s([-1]);
  const zeros = e.op('Reshape', [e.zerosLike(s.x(0)), flat]);
  const indices = e.op('Reshape', [out[1], flat]);
  const updates = e.op('Reshape', [s.g, flat]);
  const attrs = [int('axis', 0), str('reduction', 'add')];
  const routed = e.op('ScatterElements', [zeros, indices, updates], attrs, `${s.node.name}/routed`);
  return [e.op('Reshape', [routed, e.shapeOf(s.x(0))], [], `${s.node.name}/dX`)];
};

/**
 * How many input elements each output position of an average pool divided by, as onnxruntime counts
 * them: with count_include_pad the window clipped to the padded input, without it clipped to the input.
 */
function poolCounts(win: Window, input: number[], output: number[], includePad: boolean): number[] {
  const rank = input.length;
  const perAxis = input.map((size, i) => {
    const [k, stride, begin, end] = [win.kernel[i]!, win.strides[i]!, win.pads[i]!, win.pads[i + rank]!];
    return Array.from({ length: output[i]! }, (_, o) => {
      const start = o * stride - begin;
      const stop = Math.min(start + k, size + end);
      return includePad ? stop - start : Math.min(stop, size) - Math.max(start, 0);
    });
  });
  let counts = [1];
  for (const axis of perAxis) counts = counts.flatMap((c) => axis.map((n) => c * n));
  return counts;
}

// A depthwise ConvTranspose with a kernel of ones after dividing each output's gradient by its count;
// when every count is the same the division moves into the kernel.
const averagePool: Rule = (s) => {
  const win = s.info.window;
  if (!win) throw new NotSupported('its window geometry is unknown');
  if (win.dilations.some((d) => d !== 1)) throw new NotSupported('it is dilated');
  const e = s.e;
  const [input, output] = [s.inSpatial(0), s.outSpatial(0)];
  const channels = channelsOf(s);
  const counts = poolCounts(win, input, output, s.attr('count_include_pad', 0) !== 0);
  const even = counts.every((c) => c === counts[0]);
  const g = even
    ? s.g
    : e.op('Mul', [
        s.g,
        e.floats(
          [1, 1, ...output],
          Float32Array.from(counts, (c) => 1 / c),
          `${s.node.name}/1÷count`,
        ),
      ]);
  const kernelSize = win.kernel.reduce((a, b) => a * b, 1);
  const kernel = new Float32Array(channels * kernelSize).fill(even ? 1 / counts[0]! : 1);
  const weight = e.floats([channels, 1, ...win.kernel], kernel, `${s.node.name}/kernel`);
  const depthwise = { ...win, group: channels };
  return [transposedWindow(e, g, weight, depthwise, input, output, `${s.node.name}/dX`)];
};

function channelsOf(s: Step): number {
  const c = s.inShape(0)[1];
  if (typeof c !== 'number') throw new NotSupported('its channel count is not known');
  return c;
}

/** Spreads `g` (size 1 on the averaged axes) evenly over them: divide by their size, Expand to `target`. */
function spread(s: Step, g: string, target: number[], count: number): string {
  const e = s.e;
  const scaled = e.op('Mul', [g, e.scalar(1 / count)]);
  return e.op('Expand', [scaled, e.int64s(target)], [], `${s.node.name}/dX`);
}

const globalAveragePool: Rule = (s) => {
  const plane = s.inSpatial(0);
  const count = plane.reduce((a, b) => a * b, 1);
  return [spread(s, s.g, [1, 1, ...plane], count)];
};

// Axes from the attribute (before opset 18) or the second input; the batch axis must stay.
const reduceMean: Rule = (s) => {
  const shape = s.inShape(0);
  const rank = shape.length;
  const given = s.opset < 18 ? (s.ints('axes') ?? []) : s.x(1) === '' ? [] : s.value(1);
  if (!given) throw new NotSupported('its axes are not constant');
  if (given.length === 0) throw new NotSupported('it averages over every axis, the batch included');
  const axes = given.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
  if (axes.includes(0)) throw new NotSupported('it averages over the batch');
  const target = shape.map((d, i) => (axes.includes(i) ? d : 1));
  const sizes = target.filter((d): d is number => typeof d === 'number');
  if (sizes.length !== rank) throw new NotSupported('it averages over an axis of symbolic size');
  const e = s.e;
  const g = s.attr('keepdims', 1) !== 0 ? s.g : e.op('Unsqueeze', [s.g, e.int64s(axes)]);
  return [
    spread(
      s,
      g,
      sizes,
      axes.reduce((n, a) => n * sizes[a]!, 1),
    ),
  ];
};

/** Rules of the pooling ops, by op. */
export const POOLING: Record<string, Rule> = {
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
  ReduceMean: reduceMean,
};
