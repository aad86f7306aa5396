// Backward rules of the weighted layers. A convolution's input gradient is the transposed convolution with
// the same weight tensor; a fully connected layer's is the product with the transposed weight; inference
// BatchNormalization scales each channel by γ/√(σ² + ε). Weights must not depend on A.
import type { Window } from '../shapes';
import { float, int, ints, NotSupported, type Emitter } from './emitter';
import type { Rule } from './step';

/**
 * ConvTranspose of `g` (the output of a sliding window over an input of spatial size `input`) with the
 * window's geometry, sized back to `input`. output_padding restores the rows a strided window never
 * reached; when a window ran past the end padding (ceil_mode), the end pad grows instead, which crops them.
 */
export function transposedWindow(
  e: Emitter,
  g: string,
  weight: string,
  win: Window,
  input: number[],
  output: number[],
  hint: string,
): string {
  const rank = input.length;
  const pads = [...win.pads];
  const outputPadding = input.map((size, i) => {
    const span = (win.kernel[i]! - 1) * win.dilations[i]! + 1;
    const rest = size + pads[i]! + pads[i + rank]! - span - win.strides[i]! * (output[i]! - 1);
    if (rest >= 0) return rest;
    pads[i + rank] = pads[i + rank]! - rest;
    return 0;
  });
  return e.op(
    'ConvTranspose',
    [g, weight],
    [
      ints('kernel_shape', win.kernel),
      ints('strides', win.strides),
      ints('dilations', win.dilations),
      ints('pads', pads),
      ints('output_padding', outputPadding),
      int('group', win.group),
    ],
    hint,
  );
}

const conv: Rule = (s) => {
  s.only([0], 'weight or bias');
  const win = s.info.window;
  if (!win) throw new NotSupported('its window geometry is unknown');
  return [transposedWindow(s.e, s.g, s.x(1), win, s.inSpatial(0), s.outSpatial(0), `${s.node.name}/dX`)];
};

// Y = alpha·A'·B' + beta·C, with A' = Aᵀ when transA and B' = Bᵀ when transB: dA' = alpha·dY·B'ᵀ, and
// when A is stored transposed, dA = alpha·B'·dYᵀ.
const gemm: Rule = (s) => {
  s.only([0], 'weight or bias');
  const transB = s.attr('transB', 0);
  const alpha = float('alpha', s.attr('alpha', 1));
  const hint = `${s.node.name}/dA`;
  if (s.attr('transA', 0) !== 0) {
    return [s.e.op('Gemm', [s.x(1), s.g], [int('transA', transB), int('transB', 1), alpha], hint)];
  }
  return [s.e.op('Gemm', [s.g, s.x(1)], [int('transB', transB === 0 ? 1 : 0), alpha], hint)];
};

// X·W → dX = dY·Wᵀ; W·X → dX = Wᵀ·dY, with W a 2-D tensor that does not depend on A.
const matMul: Rule = (s) => {
  const data = s.onPath(0) ? 0 : 1;
  if (s.onPath(1 - data)) throw new NotSupported('both operands are computed from A (attention)');
  const w = s.x(1 - data);
  if (s.inShape(1 - data).length !== 2) throw new NotSupported('its weight is not a matrix');
  const hint = `${s.node.name}/dX`;
  if (data === 0 && s.outShape(0).length === 2) return [s.e.op('Gemm', [s.g, w], [int('transB', 1)], hint)];
  const wt = s.e.op('Transpose', [w], [ints('perm', [1, 0])], `${s.node.name}/Wt`);
  const gx = s.e.op('MatMul', data === 0 ? [s.g, wt] : [wt, s.g], [], hint);
  return data === 0 ? [gx] : [undefined, gx];
};

// Inference mode: Y = γ·(X − μ)/√(σ² + ε) + β per channel.
const batchNorm: Rule = (s) => {
  s.only([0], 'scale, bias or statistics');
  if (s.attr('training_mode', 0) !== 0 || s.node.outputs.slice(1).some((o) => o !== '')) {
    throw new NotSupported('it runs in training mode');
  }
  const e = s.e;
  const eps = s.attr('epsilon', 1e-5);
  const std = e.op('Sqrt', [e.op('Add', [s.x(4), e.scalar(eps)])]);
  const scale = e.op('Div', [s.x(1), std], [], `${s.node.name}/scale`);
  const rank = s.inShape(0).length;
  const perChannel = e.op('Reshape', [scale, e.int64s([-1, ...new Array<number>(rank - 2).fill(1)])]);
  return [e.op('Mul', [s.g, perChannel], [], `${s.node.name}/dX`)];
};

/** Rules of the weighted layers, by op. */
export const LINEAR: Record<string, Rule> = {
  Conv: conv,
  Gemm: gemm,
  MatMul: matMul,
  BatchNormalization: batchNorm,
};
