// The table of shape rules by op type, and the element type of each op's outputs (what folding needs to
// know: integer division truncates, Cast converts).
import { DataType } from '../onnxGraph';
import { isTensor, OpContext } from './context';
import { broadcast } from './dims';
import { argReduce, batchNorm, einsum, gemm, layerNorm, matMul, reduce, topK } from './nn';
import * as t from './tensor';
import type { Shape } from './types';
import { conv, convTranspose, pool } from './window';

/** Output shapes of one node, in output order. */
export type Rule = (c: OpContext) => Shape[];

const same: Rule = (c) => [c.shape(0)];
const sameTwice: Rule = (c) => [c.shape(0), c.shape(0)];
const broadcasting: Rule = (c) => [
  broadcast(
    c.node.inputs
      .map((_, i) => i)
      .filter((i) => c.has(i))
      .map((i) => c.shape(i)),
  ),
];
const globalPool: Rule = (c) => {
  const x = c.shape(0);
  if (x.length < 3) throw new Error(`${c.op} needs N×C×spatial, got rank ${x.length}`);
  return [[x[0]!, x[1]!, ...x.slice(2).map(() => 1)]];
};

/** A rule applied to some of the node's inputs, in the given order (quantized ops put the weight later). */
function on(rule: Rule, inputs: (c: OpContext) => number[]): Rule {
  return (c) => {
    const idx = inputs(c);
    const node = { ...c.node, inputs: idx.map((i) => c.node.inputs[i] ?? '') };
    const info = { ...c.info, node, inShapes: idx.map((i) => c.info.inShapes[i] ?? null) };
    const view = new OpContext(
      node,
      c.opset,
      info,
      idx.map((i) => c.values[i]),
      idx.map((i) => c.types[i] ?? 0),
    );
    const out = rule(view);
    if (info.window) c.info.window = info.window;
    return out;
  };
}
const at =
  (...i: number[]) =>
  (): number[] =>
    i;

const UNARY = [
  'Relu',
  'LeakyRelu',
  'Elu',
  'Selu',
  'Celu',
  'Sigmoid',
  'HardSigmoid',
  'HardSwish',
  'Tanh',
  'Softplus',
  'Softsign',
  'Mish',
  'Gelu',
  'Erf',
  'Exp',
  'Log',
  'Sqrt',
  'Reciprocal',
  'Neg',
  'Abs',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Sin',
  'Cos',
  'Tan',
  'Asin',
  'Acos',
  'Atan',
  'Sinh',
  'Cosh',
  'Asinh',
  'Acosh',
  'Atanh',
  'Not',
  'IsNaN',
  'IsInf',
  'Cast',
  'CastLike',
  'Identity',
  'Clip',
  'Softmax',
  'LogSoftmax',
  'Hardmax',
  'ThresholdedRelu',
  'Shrink',
  'CumSum',
  'Trilu',
  'InstanceNormalization',
  'GroupNormalization',
  'LRN',
  'MeanVarianceNormalization',
  'ScatterElements',
  'ScatterND',
  'Scatter',
];

const BROADCASTING = [
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Mod',
  'Max',
  'Min',
  'Sum',
  'Mean',
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'And',
  'Or',
  'Xor',
  'Where',
  'PRelu',
  'BitShift',
];

const REDUCE = [
  'ReduceMean',
  'ReduceMax',
  'ReduceMin',
  'ReduceSum',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceSumSquare',
];

/** Shape rules of the ai.onnx ops we support. */
export const RULES: Record<string, Rule> = {
  ...Object.fromEntries(UNARY.map((op) => [op, same])),
  ...Object.fromEntries(BROADCASTING.map((op) => [op, broadcasting])),
  ...Object.fromEntries(REDUCE.map((op) => [op, reduce])),
  Dropout: sameTwice,
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: pool,
  AveragePool: pool,
  LpPool: pool,
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  GlobalLpPool: globalPool,
  Gemm: gemm,
  MatMul: matMul,
  Einsum: einsum,
  ArgMax: argReduce,
  ArgMin: argReduce,
  TopK: topK,
  Shape: t.shapeOp,
  Size: () => [[]],
  Reshape: t.reshape,
  Flatten: t.flatten,
  Transpose: t.transpose,
  Squeeze: t.squeeze,
  Unsqueeze: t.unsqueeze,
  Concat: t.concat,
  Split: t.split,
  Slice: t.slice,
  Gather: t.gather,
  GatherElements: (c) => [c.shape(1)],
  GatherND: t.gatherND,
  Expand: t.expand,
  Tile: t.tile,
  Pad: t.pad,
  Resize: t.resize,
  Upsample: t.resize,
  ConstantOfShape: t.constantOfShape,
  Range: t.range,
  DepthToSpace: t.depthSpace,
  SpaceToDepth: t.depthSpace,
  Constant: t.constant,
  NonZero: t.nonZero,
  // Quantized models: QDQ pairs keep the shape; integer ops read their weight at another input.
  QuantizeLinear: same,
  DequantizeLinear: same,
  DynamicQuantizeLinear: (c) => [c.shape(0), [], []],
  QLinearConv: on(conv, at(0, 3, 8)),
  ConvInteger: on(conv, at(0, 1)),
  QLinearMatMul: on(matMul, at(0, 3)),
  MatMulInteger: on(matMul, at(0, 1)),
};

/** Shape rules of the com.microsoft ops onnxruntime writes into the models it optimises or quantizes. */
export const MS_RULES: Record<string, Rule> = {
  QGemm: on(gemm, at(0, 3, 6)),
  QLinearAdd: on(broadcasting, at(0, 3)),
  QLinearMul: on(broadcasting, at(0, 3)),
  QLinearGlobalAveragePool: globalPool,
  QLinearAveragePool: pool,
  QLinearConcat: on(t.concat, (c) =>
    c.node.inputs.map((_, i) => i).filter((i) => i >= 2 && (i - 2) % 3 === 0),
  ),
  QLinearSigmoid: same,
  QLinearLeakyRelu: same,
  QLinearSoftmax: same,
  FusedConv: conv,
  FusedMatMul: matMul,
  Gelu: same,
  FastGelu: same,
  BiasGelu: same,
  QuickGelu: same,
};

const BOOL_OUT = new Set([
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'And',
  'Or',
  'Xor',
  'Not',
  'IsNaN',
  'IsInf',
]);
const INT64_OUT = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin']);

/** ONNX element types of a node's outputs (0 where unknown), from its inputs' types and attributes. */
export function outputTypes(c: OpContext): number[] {
  const n = c.node.outputs.length;
  const first = c.types[0] ?? 0;
  const all = (type: number): number[] => new Array<number>(n).fill(type);
  if (BOOL_OUT.has(c.op)) return all(DataType.BOOL);
  if (INT64_OUT.has(c.op)) return all(DataType.INT64);
  switch (c.op) {
    case 'Cast':
      return all(c.int('to', 0));
    case 'CastLike':
      return all(c.types[1] ?? 0);
    case 'Where':
      return all(c.types[1] ?? 0);
    case 'ConstantOfShape':
      return all(c.tensor('value')?.dataType ?? DataType.FLOAT);
    case 'Constant':
      return all(constantType(c));
    case 'MaxPool':
    case 'TopK':
      return [first, DataType.INT64];
    case 'Dropout':
      return [first, DataType.BOOL];
    case 'LayerNormalization':
      return [first, c.int('stash_type', DataType.FLOAT), c.int('stash_type', DataType.FLOAT)];
    case 'QuantizeLinear':
      return all(c.types[2] || DataType.UINT8);
    case 'DequantizeLinear':
      return all(c.types[1] || DataType.FLOAT);
    case 'DynamicQuantizeLinear':
      return [DataType.UINT8, DataType.FLOAT, DataType.UINT8];
    case 'ConvInteger':
    case 'MatMulInteger':
      return all(DataType.INT32);
    default:
      return all(first);
  }
}

function constantType(c: OpContext): number {
  const value = c.attr('value');
  if (isTensor(value)) return value.dataType;
  if (c.attr('value_int') !== undefined || c.attr('value_ints') !== undefined) return DataType.INT64;
  if (c.attr('value_float') !== undefined || c.attr('value_floats') !== undefined) return DataType.FLOAT;
  return 0;
}
