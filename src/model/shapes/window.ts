// Sliding-window geometry: Conv, ConvTranspose and the pools, with auto_pad resolved into explicit pads.
import type { Dim } from '../onnxGraph';
import type { OpContext } from './context';
import { addDim, divExact, mulDim, num, UNKNOWN } from './dims';
import type { Shape, Window } from './types';

/** Output spatial size of a sliding window: ONNX Conv/MaxPool/AveragePool formula. */
export function windowOutput(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  padBegin: number,
  padEnd: number,
  ceilMode: boolean,
): number {
  const span = (kernel - 1) * dilation + 1;
  const room = size + padBegin + padEnd - span;
  if (room < 0) throw new Error(`window ${span} larger than padded input ${size + padBegin + padEnd}`);
  let out = (ceilMode ? Math.ceil(room / stride) : Math.floor(room / stride)) + 1;
  // ceil_mode must not add a window that starts inside the end padding (ONNX spec, onnxruntime).
  if (ceilMode && (out - 1) * stride >= size + padBegin) out--;
  return out;
}

/** Conv: [N, M, spatial…] from X [N, C, …] and W [M, C/group, k…]. */
export function conv(c: OpContext): Shape[] {
  const x = c.shape(0);
  const w = c.shape(1);
  if (x.length < 3 || w.length !== x.length) {
    throw new Error(`Conv weight rank ${w.length} does not fit input rank ${x.length}`);
  }
  const kernel = c.ints('kernel_shape') ?? w.slice(2).map((d) => num(d, 'Conv kernel size'));
  const win = resolveWindow(c, x, kernel);
  const cin = x[1]!;
  const perGroup = w[1]!;
  if (typeof cin === 'number' && typeof perGroup === 'number' && cin !== perGroup * win.group) {
    throw new Error(`Conv expects ${perGroup * win.group} input channels, got ${cin}`);
  }
  c.info.window = win;
  return [[x[0]!, w[0]!, ...spatialOut(x, win)]];
}

/** MaxPool (with its optional Indices output), AveragePool, LpPool. */
export function pool(c: OpContext): Shape[] {
  const x = c.shape(0);
  const kernel = c.ints('kernel_shape');
  if (!kernel) throw new Error(`${c.op} without kernel_shape`);
  const win = resolveWindow(c, x, kernel);
  c.info.window = win;
  const y = [x[0]!, x[1]!, ...spatialOut(x, win)];
  return [y, y];
}

/** ConvTranspose: output_shape, output_padding, auto_pad, group and dilations. */
export function convTranspose(c: OpContext): Shape[] {
  const x = c.shape(0);
  const w = c.shape(1);
  const rank = x.length - 2;
  if (rank < 1 || w.length !== x.length) {
    throw new Error(`ConvTranspose weight rank ${w.length} does not fit input rank ${x.length}`);
  }
  const kernel = c.ints('kernel_shape') ?? w.slice(2).map((d) => num(d, 'ConvTranspose kernel size'));
  const group = c.int('group', 1);
  const strides = c.ints('strides') ?? kernel.map(() => 1);
  const dilations = c.ints('dilations') ?? kernel.map(() => 1);
  const outPad = c.ints('output_padding') ?? kernel.map(() => 0);
  const autoPad = c.str('auto_pad', 'NOTSET');
  const given = c.ints('output_shape')?.slice(-rank);
  let pads = c.ints('pads') ?? new Array<number>(2 * rank).fill(0);
  if (autoPad === 'VALID') pads = new Array<number>(2 * rank).fill(0);
  checkRanks(rank, [kernel, strides, dilations, outPad], pads, given);
  const cin = x[1]!;
  if (typeof cin === 'number' && typeof w[0] === 'number' && cin !== w[0]) {
    throw new Error(`ConvTranspose expects ${w[0]} input channels, got ${cin}`);
  }
  const out: Dim[] = [];
  const resolved = [...pads];
  for (let i = 0; i < rank; i++) {
    const size = x[i + 2]!;
    const s = strides[i]!;
    const span = (kernel[i]! - 1) * dilations[i]! + 1;
    const same = autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER';
    let target: Dim | undefined = given?.[i];
    if (target === undefined && same) target = mulDim(size, s);
    if (target === undefined) {
      if (!['NOTSET', 'VALID'].includes(autoPad)) throw new Error(`unknown auto_pad ${autoPad}`);
      // stride × (in − 1) + output_padding + span − pads
      const extra = outPad[i]! + span - pads[i]! - pads[i + rank]!;
      out.push(
        typeof size === 'number' ? s * (size - 1) + extra : s === 1 ? addDim(size, extra - 1) : UNKNOWN,
      );
      continue;
    }
    out.push(target);
    if (typeof size !== 'number' || typeof target !== 'number') continue;
    // Pads the file's output size implies (ONNX spec: the odd one goes to the end for SAME_UPPER).
    const total = Math.max(0, s * (size - 1) + outPad[i]! + span - target);
    const half = Math.floor(total / 2);
    resolved[i] = autoPad === 'SAME_UPPER' ? half : total - half;
    resolved[i + rank] = total - resolved[i]!;
  }
  c.info.window = { kernel, strides, pads: resolved, dilations, group, ceilMode: false };
  return [[x[0]!, mulDim(w[1]!, group), ...out]];
}

/** Strides, dilations, group and pads of a Conv or pool, with auto_pad turned into explicit pads. */
function resolveWindow(c: OpContext, x: Dim[], kernel: number[]): Window {
  const rank = x.length - 2;
  if (rank < 1 || kernel.length !== rank) {
    throw new Error(`kernel rank ${kernel.length} for input rank ${x.length}`);
  }
  const strides = c.ints('strides') ?? kernel.map(() => 1);
  const dilations = c.ints('dilations') ?? kernel.map(() => 1);
  const autoPad = c.str('auto_pad', 'NOTSET');
  let pads = c.ints('pads') ?? new Array<number>(2 * rank).fill(0);
  if (autoPad === 'VALID') pads = new Array<number>(2 * rank).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array<number>(2 * rank).fill(0);
    for (let i = 0; i < rank; i++) {
      const stride = strides[i] ?? 1;
      const span = ((kernel[i] ?? 1) - 1) * (dilations[i] ?? 1) + 1;
      const size = x[i + 2]!;
      // A symbolic size is taken as a multiple of the stride (exact for stride 1).
      const total =
        typeof size === 'number'
          ? Math.max(0, (Math.ceil(size / stride) - 1) * stride + span - size)
          : Math.max(0, span - stride);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + rank] = total - pads[i]!;
    }
  } else if (autoPad !== 'NOTSET') throw new Error(`unknown auto_pad ${autoPad}`);
  checkRanks(rank, [strides, dilations], pads);
  if (strides.some((s) => s < 1) || dilations.some((d) => d < 1)) {
    throw new Error('strides and dilations must be positive');
  }
  const group = c.int('group', 1);
  if (group < 1) throw new Error(`group ${group} must be positive`);
  const ceilMode = c.int('ceil_mode', 0) !== 0;
  return { kernel, strides, pads, dilations, group, ceilMode };
}

function checkRanks(rank: number, lists: number[][], pads: number[], given?: number[]): void {
  if (lists.some((l) => l.length !== rank) || pads.length !== 2 * rank || (given && given.length !== rank)) {
    throw new Error('strides/dilations/pads do not match the kernel rank');
  }
}

function spatialOut(x: Dim[], w: Window): Dim[] {
  const rank = w.kernel.length;
  return w.kernel.map((k, i) => {
    const size = x[i + 2]!;
    const stride = w.strides[i]!;
    const begin = w.pads[i]!;
    const end = w.pads[i + rank]!;
    if (typeof size === 'number') {
      return windowOutput(size, k, stride, w.dilations[i]!, begin, end, w.ceilMode);
    }
    // A symbolic size survives a window that neither shrinks nor strides it, or SAME padding.
    const span = (k - 1) * w.dilations[i]! + 1;
    if (stride === 1 && begin + end === span - 1) return size;
    const same = begin + end === Math.max(0, span - stride);
    return same ? (divExact(size, stride) ?? UNKNOWN) : UNKNOWN;
  });
}
