// Parameters, buffers and multiply-adds of every node, as the file holds them.
//
// Conventions (the same wherever the numbers are shown):
// - params: the weights and biases of layers (src/model/roles.ts says which tensors those are), each
//   counted once (at its first consumer); BatchNormalization's running mean and variance are buffers;
//   other float tensors (anchors, strides, scales, bounds) are constants, counted apart. Constant nodes
//   never count. A tensor read by several nodes is shared: counted once, and every reader lists it.
// - MACs: multiply-adds for ONE image (axis 0 dropped), only for the ops that multiply by weights or by
//   each other: Conv = output elements × Cin/group × kernel; ConvTranspose = input elements × Cout/group ×
//   kernel; Gemm and MatMul = output elements × the inner dimension. torchvision's published "GFLOPS" are
//   these multiply-adds. Bias adds, normalisation, activations, pooling and element-wise ops count 0.
import { FLOAT_TYPES, type OnnxGraph } from './onnxGraph';
import type { NormalGraph } from './normalise';
import { tensorRoles } from './roles';
import { perImage, type GraphShapes, type NodeInfo } from './shapes';

/** What one node weighs and costs. */
export interface NodeCost {
  params: number;
  buffers: number;
  macs: number;
  /** Set when the node multiplies by weights but a shape it needs is unknown. */
  macsUnknown?: string;
  /** Initializers this node reads that other nodes read too. */
  shared: string[];
}

/** Costs of a whole graph. */
export interface GraphCost {
  nodes: NodeCost[];
  params: number;
  buffers: number;
  /** Elements of float tensors that are neither parameters nor buffers (anchors, strides, scales). */
  constants: number;
  macs: number;
  /** Tensors read by more than one node, with their element counts. */
  shared: Map<string, number>;
  warnings: string[];
}

/** Ops whose multiply-adds are counted (float, and quantized in operator form). */
export const WEIGHTED_OPS: ReadonlySet<string> = new Set([
  'Conv',
  'ConvTranspose',
  'Gemm',
  'MatMul',
  'QLinearConv',
  'ConvInteger',
  'QLinearMatMul',
  'MatMulInteger',
  'QGemm',
]);

// Where the weight of each op sits (the rest are scales and zero points, which are not parameters).
const WEIGHT_INPUT: Record<string, number> = { QLinearConv: 3, QLinearMatMul: 3, QGemm: 3 };
// Integer tensors that are weights: what DequantizeLinear turns into float weights, and the weights and
// biases of integer ops.
const INTEGER_WEIGHTS: Record<string, number[]> = {
  DequantizeLinear: [0],
  QLinearConv: [3, 8],
  QLinearMatMul: [3],
  QGemm: [3, 6],
  ConvInteger: [1],
  MatMulInteger: [1],
};

/** Costs every node of a normalised graph from its inferred shapes. */
export function graphCost(net: NormalGraph, shapes: GraphShapes): GraphCost {
  const { graph, constants } = net;
  const roles = tensorRoles(graph, shapes);
  const buffers = new Set([...roles].filter(([, r]) => r === 'buffer').map(([name]) => name));
  const uses = usesOf(graph);
  const weight = (name: string, dataType: number): boolean =>
    FLOAT_TYPES.has(dataType) ? roles.get(name) !== 'constant' : isWeight(uses.get(name) ?? []);
  const readers = new Map<string, number>();
  for (const node of graph.nodes) {
    for (const name of new Set(node.inputs)) {
      if (graph.initializers.has(name)) readers.set(name, (readers.get(name) ?? 0) + 1);
    }
  }
  const counted = new Set<string>();
  const shared = new Map<string, number>();
  const warnings: string[] = [];
  const nodes = graph.nodes.map((node, i): NodeCost => {
    const cost: NodeCost = { params: 0, buffers: 0, macs: 0, shared: [] };
    for (const name of new Set(node.inputs)) {
      const t = graph.initializers.get(name);
      if (!t || constants.has(name) || !weight(name, t.dataType)) continue;
      if ((readers.get(name) ?? 0) > 1) {
        cost.shared.push(name);
        shared.set(name, t.size);
      }
      if (counted.has(name)) continue;
      counted.add(name);
      if (buffers.has(name)) cost.buffers += t.size;
      else cost.params += t.size;
    }
    const info = shapes.nodes[i]!;
    if (WEIGHTED_OPS.has(node.op) && node.domain === '') {
      const macs = multiplyAdds(info);
      if (macs === undefined) cost.macsUnknown = 'a shape it needs is unknown';
      else cost.macs = macs;
    }
    return cost;
  });
  let unused = 0;
  let unusedCount = 0;
  let params = 0;
  let bufferTotal = 0;
  let constantTotal = 0;
  for (const t of graph.initializers.values()) {
    if (constants.has(t.name)) continue;
    if (!weight(t.name, t.dataType)) {
      if (FLOAT_TYPES.has(t.dataType)) constantTotal += t.size;
      continue;
    }
    if (buffers.has(t.name)) bufferTotal += t.size;
    else params += t.size;
    if (!counted.has(t.name)) {
      unused += t.size;
      unusedCount++;
    }
  }
  if (unusedCount > 0) {
    warnings.push(
      `${unusedCount} float initializer${unusedCount === 1 ? '' : 's'} (${unused.toLocaleString('en-US')} ` +
        'elements) feed no node: counted in the total parameters, on no row',
    );
  }
  const both = [...buffers].filter((name) => learnableUse(graph, name));
  if (both.length > 0) {
    const names = both.slice(0, 3).join(', ') + (both.length > 3 ? ', …' : '');
    warnings.push(
      `${both.length} tensor${both.length === 1 ? ' is' : 's are'} both a BatchNormalization running statistic ` +
        `and another input (${names}; the exporter merged identical tensors): counted as buffers`,
    );
  }
  const macs = nodes.reduce((s, n) => s + n.macs, 0);
  for (const [i, n] of nodes.entries()) {
    const node = graph.nodes[i]!;
    if (n.macsUnknown) warnings.push(`${node.name || node.op}: multiply-adds unknown (${n.macsUnknown})`);
  }
  return { nodes, params, buffers: bufferTotal, constants: constantTotal, macs, shared, warnings };
}

/** Whether an integer initializer counts as parameters: a quantized weight. */
function isWeight(uses: readonly (readonly [string, number])[]): boolean {
  return uses.some(([op, i]) => INTEGER_WEIGHTS[op]?.includes(i) ?? false);
}

/** How each initializer is used: (op, input index) pairs. */
function usesOf(graph: OnnxGraph): Map<string, [string, number][]> {
  const out = new Map<string, [string, number][]>();
  for (const n of graph.nodes) {
    n.inputs.forEach((t, i) => {
      if (!graph.initializers.has(t)) return;
      const list = out.get(t);
      if (list) list.push([n.op, i]);
      else out.set(t, [[n.op, i]]);
    });
  }
  return out;
}

/** Multiply-adds per image of a weighted node; undefined when a shape it needs is unknown. */
export function multiplyAdds(info: NodeInfo): number | undefined {
  const { inShapes, outShape } = info;
  const node = {
    ...info.node,
    op: info.node.op.replace(/^QLinear|Integer$/g, '').replace(/^QGemm$/, 'Gemm'),
  };
  const x = inShapes[0];
  const w = inShapes[WEIGHT_INPUT[info.node.op] ?? 1];
  if (!x || !w || !outShape) return undefined;
  const known = (dims: (number | string)[]): dims is number[] => dims.every((d) => typeof d === 'number');
  switch (node.op) {
    case 'Conv': {
      const per = perImage(outShape);
      return per > 0 && known(w) ? per * product(w.slice(1)) : undefined;
    }
    case 'ConvTranspose': {
      const per = perImage(x);
      return per > 0 && known(w) ? per * product(w.slice(1)) : undefined;
    }
    case 'Gemm': {
      const transA = node.attrs.transA === 1;
      const k = transA ? x[0] : x[1];
      const kb = node.attrs.transB === 1 ? w[1] : w[0];
      const inner = typeof k === 'number' ? k : kb;
      const per = perImage(outShape);
      return per > 0 && typeof inner === 'number' ? per * inner : undefined;
    }
    case 'MatMul': {
      const inner = x.length === 1 ? x[0] : x[x.length - 1];
      // A 1-D or 2-D output has no batch axis to drop when the left operand is a vector.
      const per =
        x.length === 1
          ? product(outShape.filter((d): d is number => typeof d === 'number'))
          : perImage(outShape);
      return per > 0 && typeof inner === 'number' ? per * inner : undefined;
    }
    default:
      return 0;
  }
}

function learnableUse(graph: OnnxGraph, name: string): boolean {
  return graph.nodes.some((n) =>
    n.inputs.some((t, i) => t === name && !(n.op === 'BatchNormalization' && (i === 3 || i === 4))),
  );
}

function product(xs: number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}
