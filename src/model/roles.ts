// What each float initializer of a graph is: a learned parameter, a buffer (BatchNorm's running
// statistics) or a constant (anchor grids, strides, resize scales, activation bounds, shape arithmetic).
//
// The rule: a tensor is a parameter only where a layer uses it as its weight or bias:
// - any initializer input of Conv, ConvTranspose, Gemm and MatMul (weight, bias);
// - scale and bias of BatchNormalization, LayerNormalization, InstanceNormalization and
//   GroupNormalization, and PRelu's slopes (BatchNormalization's running mean and variance are buffers);
// - a per-channel affine written as Mul, Add, Sub or Div (Keras's BatchNorm after tf2onnx, a layer norm
//   written out, a layer scale, a bias after a MatMul): an operand with exactly one axis longer than 1,
//   and that axis the other operand's channel axis (axis 1, or the last axis of a 4-D channels-last or 2-D
//   tensor) as long as some layer is wide. Scalars are constants (hard-swish's 3 and 6, epsilons), and so
//   are tensors laid along positions (a detector's [1, 8400] strides, [1, 2, 8400] anchor points).
// Tensors that come from Constant nodes never count; quantized models' integer weights are decided by
// src/model/cost.ts.
import { FLOAT_TYPES, type OnnxGraph } from './onnxGraph';
import type { GraphShapes } from './shapes';

export type TensorRole = 'param' | 'buffer' | 'constant';

// Ops whose every initializer input is a weight or bias.
const LAYER_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);
// Ops whose inputs at these positions are learned.
const LEARNED_INPUTS: Record<string, number[]> = {
  BatchNormalization: [1, 2],
  LayerNormalization: [1, 2],
  InstanceNormalization: [1, 2],
  GroupNormalization: [1, 2],
  PRelu: [1],
};
// Quantization scales and zero points: configuration, never parameters.
const QUANT_PARAMS: Record<string, number[]> = {
  QuantizeLinear: [1, 2],
  DequantizeLinear: [1, 2],
  QLinearConv: [1, 2, 4, 5, 6, 7],
  QLinearMatMul: [1, 2, 4, 5, 6, 7],
  QGemm: [1, 2, 4, 5, 7, 8],
  ConvInteger: [2, 3],
  MatMulInteger: [2, 3],
  QLinearAdd: [1, 2, 4, 5, 6, 7],
  QLinearGlobalAveragePool: [1, 2, 3, 4],
};
const AFFINE_OPS = new Set(['Mul', 'Add', 'Sub', 'Div']);
// Ops that only hand a tensor on (a weight stored in fp16 and cast, or dequantized, is still the weight).
const CARRIERS = new Set(['Cast', 'DequantizeLinear', 'Transpose', 'Reshape', 'Unsqueeze', 'Squeeze']);

/** The role of every float initializer of a normalised graph (Constant-node tensors included). */
export function tensorRoles(graph: OnnxGraph, shapes: GraphShapes): Map<string, TensorRole> {
  // The channel widths the network's layers have: a per-channel tensor is as long as one of them.
  const widths = new Set<number>();
  for (const n of graph.nodes) {
    if (!LAYER_OPS.has(n.op)) continue;
    for (const t of n.inputs.slice(1))
      for (const d of shapes.shapes.get(t) ?? []) if (typeof d === 'number') widths.add(d);
  }
  const consumers = new Map<string, [number, number][]>();
  graph.nodes.forEach((n, ni) =>
    n.inputs.forEach((t, i) => {
      if (t === '') return;
      const list = consumers.get(t);
      if (list) list.push([ni, i]);
      else consumers.set(t, [[ni, i]]);
    }),
  );
  const learned = (tensor: string, seen = 0): boolean =>
    seen < 8 &&
    (consumers.get(tensor) ?? []).some(([ni, i]) => {
      const n = graph.nodes[ni]!;
      if (QUANT_PARAMS[n.op]?.includes(i)) return false;
      if (n.domain !== '' && n.domain !== 'ai.onnx') return true; // custom layers: their business
      if (LAYER_OPS.has(n.op)) return true;
      if (LEARNED_INPUTS[n.op]?.includes(i)) return true;
      if (CARRIERS.has(n.op) && i === 0) return n.outputs.some((o) => learned(o, seen + 1));
      if (AFFINE_OPS.has(n.op)) {
        // Where shapes are unknown nothing can be said against it: counted as the file has it.
        if (!shapes.shapes.get(n.outputs[0] ?? '')) return true;
        return perChannel(shapes, tensor, n.inputs[1 - i] ?? '', widths);
      }
      return false;
    });
  const roles = new Map<string, TensorRole>();
  for (const n of graph.nodes) {
    if (n.op !== 'BatchNormalization') continue;
    for (const i of [3, 4]) if (n.inputs[i]) roles.set(n.inputs[i], 'buffer');
  }
  for (const t of graph.initializers.values()) {
    if (!FLOAT_TYPES.has(t.dataType) || roles.has(t.name)) continue;
    // A tensor nothing reads is counted as the file has it (src/model/cost.ts warns about it).
    const unread = !consumers.has(t.name);
    roles.set(t.name, unread || learned(t.name) ? 'param' : 'constant');
  }
  return roles;
}

/**
 * Whether `weight`, broadcast against `data`, varies along `data`'s channel axis only, and is as long as a
 * layer of the network is wide (a detector's 8400 positions are no layer's width).
 */
function perChannel(shapes: GraphShapes, weight: string, data: string, widths: ReadonlySet<number>): boolean {
  const w = shapes.shapes.get(weight);
  const x = shapes.shapes.get(data);
  if (!w || !x || x.length < 2 || w.length > x.length) return false;
  const long = w.flatMap((d, i) => (d !== 1 ? [i + x.length - w.length] : []));
  if (long.length !== 1) return false;
  const axis = long[0]!;
  const length = x[axis];
  if (typeof length !== 'number' || !widths.has(length)) return false;
  if (axis === 1) return true;
  return axis === x.length - 1 && (x.length === 4 || x.length === 2);
}
