// Our own shape inference, parameter ownership and multiply-add counts over an OnnxGraph.
//
// Counting conventions (kept identical everywhere the numbers are shown):
// - MACs are multiply-adds for ONE image (the size of axis 0 is ignored), and only the weighted ops
//   have any: Conv = out_elems × (Cin/group) × kH × kW, Gemm/MatMul = in_features × out_features.
//   Bias adds, BatchNormalization, Relu, Add and pooling count 0, as in the ResNet paper's figures.
// - params are the elements of the initializers a node consumes as weights; each initializer counts
//   once (at its first consumer), and "configuration" inputs (Pad's pads, Reshape's shape, …) never
//   count, so the total equals the sum of all weight initializers.
import type { Dim, OnnxGraph, OnnxNode } from './onnxGraph';
import { shapeText } from '../shared/format';

/** A tensor shape; null when it could not be inferred. */
export type Shape = Dim[] | null;

/** Kernel geometry of a Conv or pooling node, with auto_pad resolved into explicit pads. */
export interface Window {
  kernel: number[];
  strides: number[];
  /** ONNX order: all begins, then all ends ([top, left, bottom, right] in 2-D). */
  pads: number[];
  dilations: number[];
  group: number;
  ceilMode: boolean;
}

/** What inference learned about one node. */
export interface NodeInfo {
  node: OnnxNode;
  /** Shapes of the node's inputs, in input order (initializers included). */
  inShapes: Shape[];
  /** Shape of the first output. */
  outShape: Shape;
  params: number;
  macs: number;
  /** Resolved geometry for Conv and pooling nodes. */
  window?: Window;
  /** Pad nodes: the explicit pads in ONNX order over all axes. */
  padAmounts?: number[];
  /** Why the shape is unknown (unsupported op, bad attributes, unknown input). */
  error?: string;
  /** Set when the shape is unknown only because an input's shape was: not a root cause. */
  blocked?: boolean;
}

/** Shapes, params and MACs for a whole graph. */
export interface GraphShapes {
  nodes: NodeInfo[];
  /** Every tensor's inferred shape, by name. */
  shapes: Map<string, Shape>;
  params: number;
  macs: number;
  /** Initializers not counted as params (they configure an op rather than weigh it). */
  configInitializers: string[];
  /** One line per node whose shape could not be inferred. */
  warnings: string[];
}

// Inputs that configure an op rather than hold weights, by op type (input indices).
const CONFIG_INPUTS: Record<string, number[]> = {
  Pad: [1, 2, 3],
  Reshape: [1],
  Clip: [1, 2],
  Resize: [1, 2, 3],
  Slice: [1, 2, 3, 4],
  Squeeze: [1],
  Unsqueeze: [1],
  Expand: [1],
  Tile: [1],
};

const PASSTHROUGH = new Set([
  'BatchNormalization',
  'Relu',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'Clip',
  'Softmax',
  'Identity',
  'Dropout',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div']);
const POOLS = new Set(['MaxPool', 'AveragePool']);
const GLOBAL_POOLS = new Set(['GlobalAveragePool', 'GlobalMaxPool']);

/** Infers every node's output shape from the graph input, with the batch dim shown as `batch`. */
export function inferShapes(graph: OnnxGraph, batch: Dim = 'N'): GraphShapes {
  const shapes = new Map<string, Shape>();
  const constInts = new Map<string, number[]>();
  for (const input of graph.inputs) {
    const s = input.shape ? [...input.shape] : null;
    // A symbolic batch is renamed so every table says "N"; a numeric one is kept as the file has it.
    if (s && s.length > 0 && typeof s[0] === 'string') s[0] = batch;
    shapes.set(input.name, s);
  }
  for (const t of graph.initializers.values()) {
    shapes.set(t.name, t.dims);
    if (t.ints) constInts.set(t.name, t.ints);
  }

  const owned = new Set<string>();
  const config = new Set<string>();
  const nodes: NodeInfo[] = [];
  const warnings: string[] = [];
  let params = 0;
  let macs = 0;
  for (const node of graph.nodes) {
    const info = inferNode(node, shapes, constInts);
    const configIdx = CONFIG_INPUTS[node.op] ?? [];
    node.inputs.forEach((name, i) => {
      const t = graph.initializers.get(name);
      if (!t) return;
      if (configIdx.includes(i)) config.add(name);
      else if (!owned.has(name)) {
        owned.add(name);
        info.params += t.size;
      }
    });
    if (info.error && !info.blocked) warnings.push(`${node.name || node.op}: ${info.error}`);
    node.outputs.forEach((o, i) => shapes.set(o, i === 0 ? info.outShape : null));
    params += info.params;
    macs += info.macs;
    nodes.push(info);
  }
  // An initializer used both ways counts as a weight.
  const configInitializers = [...config].filter((n) => !owned.has(n));
  return { nodes, shapes, params, macs, configInitializers, warnings };
}

function inferNode(node: OnnxNode, shapes: Map<string, Shape>, constInts: Map<string, number[]>): NodeInfo {
  const inShapes = node.inputs.map((n) => (n === '' ? null : (shapes.get(n) ?? null)));
  const info: NodeInfo = { node, inShapes, outShape: null, params: 0, macs: 0 };
  if (node.op === 'Constant') {
    const value = node.attrs.value;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      info.outShape = value.dims;
      if (value.ints && node.outputs[0]) constInts.set(node.outputs[0], value.ints);
    } else info.error = 'Constant without a tensor value';
    return info;
  }
  const x = inShapes[0];
  if (!x) {
    info.error =
      node.inputs.length === 0 ? 'node has no inputs' : `shape of input '${node.inputs[0]}' unknown`;
    info.blocked = node.inputs.length > 0;
    return info;
  }
  try {
    if (node.op === 'Conv') inferConv(info, x);
    else if (POOLS.has(node.op)) inferPool(info, x);
    else if (GLOBAL_POOLS.has(node.op)) info.outShape = [...x.slice(0, 2), ...x.slice(2).map(() => 1)];
    else if (PASSTHROUGH.has(node.op)) info.outShape = [...x];
    else if (BROADCAST.has(node.op)) info.outShape = broadcast(inShapes);
    else if (node.op === 'Pad') inferPad(info, x, constInts);
    else if (node.op === 'Flatten') info.outShape = flatten(x, intAttr(node, 'axis', 1));
    else if (node.op === 'Reshape') info.outShape = reshape(x, constInts.get(node.inputs[1] ?? ''));
    else if (node.op === 'Gemm') inferGemm(info, x);
    else if (node.op === 'MatMul') inferMatMul(info, x);
    else info.error = `unsupported op ${node.op}`;
  } catch (err) {
    info.outShape = null;
    info.error = (err as Error).message;
  }
  if (!info.outShape && !info.error) {
    info.error = 'an input shape is unknown';
    info.blocked = true;
  }
  return info;
}

function inferConv(info: NodeInfo, x: Dim[]): void {
  const w = info.inShapes[1];
  if (!w || w.length !== x.length) throw new Error('Conv weight shape unknown or of the wrong rank');
  const win = resolveWindow(info.node, x, w.slice(2).map(num));
  const cin = x[1];
  if (typeof cin === 'number' && cin !== num(w[1]) * win.group) {
    throw new Error(`Conv expects ${num(w[1]) * win.group} input channels, got ${cin}`);
  }
  info.window = win;
  info.outShape = [x[0]!, num(w[0]), ...spatialOut(x, win)];
  info.macs = perImage(info.outShape) * num(w[1]) * product(win.kernel);
}

function inferPool(info: NodeInfo, x: Dim[]): void {
  const kernel = intsAttr(info.node, 'kernel_shape');
  if (!kernel) throw new Error(`${info.node.op} without kernel_shape`);
  const win = resolveWindow(info.node, x, kernel);
  info.window = win;
  info.outShape = [x[0]!, x[1]!, ...spatialOut(x, win)];
}

function inferPad(info: NodeInfo, x: Dim[], constInts: Map<string, number[]>): void {
  const node = info.node;
  const given = node.inputs[1] ? constInts.get(node.inputs[1]) : intsAttr(node, 'pads');
  if (!given) throw new Error('Pad amounts are not a constant');
  const axesInput = node.inputs[3] ? constInts.get(node.inputs[3]) : undefined;
  const axes = (axesInput ?? x.map((_, i) => i)).map((a) => (a < 0 ? a + x.length : a));
  if (given.length !== 2 * axes.length)
    throw new Error(`Pad has ${given.length} pads for ${axes.length} axes`);
  const pads = new Array<number>(2 * x.length).fill(0);
  axes.forEach((a, i) => {
    pads[a] = given[i]!;
    pads[a + x.length] = given[i + axes.length]!;
  });
  info.padAmounts = pads;
  info.outShape = x.map((d, i) => addDim(d, pads[i]! + pads[i + x.length]!));
}

function inferGemm(info: NodeInfo, a: Dim[]): void {
  const b = info.inShapes[1];
  if (a.length !== 2 || !b || b.length !== 2) throw new Error('Gemm needs 2-D A and B');
  const transA = intAttr(info.node, 'transA', 0) !== 0;
  const transB = intAttr(info.node, 'transB', 0) !== 0;
  const [m, k] = transA ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
  const [kb, n] = transB ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
  if (typeof k === 'number' && typeof kb === 'number' && k !== kb) {
    throw new Error(`Gemm inner dims differ: ${k} vs ${kb}`);
  }
  info.outShape = [m, n];
  // Each row of A is one image, so the per-image cost is one row's worth.
  info.macs = num(kb) * num(n);
}

function inferMatMul(info: NodeInfo, a: Dim[]): void {
  const b = info.inShapes[1];
  if (a.length < 2 || !b || b.length !== 2) throw new Error('MatMul supported only as [..., K] × [K, M]');
  info.outShape = [...a.slice(0, -1), b[1]!];
  info.macs = perImage(info.outShape) * num(b[0]!);
}

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

function resolveWindow(node: OnnxNode, x: Dim[], kernel: number[]): Window {
  const rank = x.length - 2;
  if (rank < 1 || kernel.length !== rank)
    throw new Error(`kernel rank ${kernel.length} for input rank ${x.length}`);
  const strides = intsAttr(node, 'strides') ?? kernel.map(() => 1);
  const dilations = intsAttr(node, 'dilations') ?? kernel.map(() => 1);
  const autoPad = strAttr(node, 'auto_pad', 'NOTSET');
  let pads = intsAttr(node, 'pads') ?? new Array<number>(2 * rank).fill(0);
  if (autoPad === 'VALID') pads = new Array<number>(2 * rank).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array<number>(2 * rank).fill(0);
    for (let i = 0; i < rank; i++) {
      const size = num(x[i + 2]!);
      const out = Math.ceil(size / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - size);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + rank] = total - pads[i]!;
    }
  } else if (autoPad !== 'NOTSET') throw new Error(`unknown auto_pad ${autoPad}`);
  if (strides.length !== rank || dilations.length !== rank || pads.length !== 2 * rank) {
    throw new Error('strides/dilations/pads do not match the kernel rank');
  }
  const ceilMode = intAttr(node, 'ceil_mode', 0) !== 0;
  return { kernel, strides, pads, dilations, group: intAttr(node, 'group', 1), ceilMode };
}

function spatialOut(x: Dim[], w: Window): Dim[] {
  const rank = w.kernel.length;
  return w.kernel.map((k, i) => {
    const size = x[i + 2]!;
    if (typeof size !== 'number') return '?';
    return windowOutput(size, k, w.strides[i]!, w.dilations[i]!, w.pads[i]!, w.pads[i + rank]!, w.ceilMode);
  });
}

/** Multidirectional (numpy-style) broadcasting of input shapes. */
export function broadcast(shapes: Shape[]): Shape {
  if (shapes.some((s) => s === null)) return null;
  const all = shapes as Dim[][];
  const rank = Math.max(...all.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of all) {
      const d = s[s.length - rank + i] ?? 1;
      if (d === 1 || d === dim) continue;
      if (dim !== 1) throw new Error(`cannot broadcast ${all.map(shapeText).join(' with ')}`);
      dim = d;
    }
    out.push(dim);
  }
  return out;
}

function flatten(x: Dim[], axis: number): Dim[] {
  const a = axis < 0 ? axis + x.length : axis;
  return [productDim(x.slice(0, a)), productDim(x.slice(a))];
}

function reshape(x: Dim[], target: number[] | undefined): Shape {
  if (!target) throw new Error('Reshape target is not a constant');
  const out: Dim[] = target.map((t, i) => (t === 0 ? x[i]! : t));
  const hole = out.indexOf(-1);
  if (hole < 0) return out;
  // Symbols copied through (the batch) cancel out; the hole gets the remaining numeric volume.
  const copied = new Set(out.filter((d) => typeof d === 'string'));
  let volume = 1;
  for (const d of x) {
    if (typeof d === 'number') volume *= d;
    else if (!copied.has(d)) return out.map((o) => (o === -1 ? '?' : o));
  }
  out[hole] = volume / product(out.filter((d, i) => i !== hole && typeof d === 'number') as number[]);
  return out;
}

function productDim(dims: Dim[]): Dim {
  const symbols = dims.filter((d) => typeof d === 'string');
  const n = product(dims.filter((d) => typeof d === 'number') as number[]);
  if (symbols.length === 0) return n;
  return n === 1 ? symbols.join('·') : [...symbols, n].join('·');
}

function addDim(d: Dim, n: number): Dim {
  if (n === 0) return d;
  return typeof d === 'number' ? d + n : '?';
}

/** Elements of one image's slice of a shape (axis 0 dropped); 0 when a dim is symbolic. */
export function perImage(shape: Dim[]): number {
  const rest = shape.slice(1);
  return rest.every((d) => typeof d === 'number') ? product(rest as number[]) : 0;
}

function product(xs: number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}

function num(d: Dim): number {
  if (typeof d !== 'number') throw new Error(`dimension '${d}' must be a number here`);
  return d;
}

function intAttr(node: OnnxNode, name: string, dflt: number): number {
  const v = node.attrs[name];
  return typeof v === 'number' ? v : dflt;
}

function intsAttr(node: OnnxNode, name: string): number[] | undefined {
  const v = node.attrs[name];
  return Array.isArray(v) && v.every((e) => typeof e === 'number') ? (v as number[]) : undefined;
}

function strAttr(node: OnnxNode, name: string, dflt: string): string {
  const v = node.attrs[name];
  return typeof v === 'string' ? v : dflt;
}
