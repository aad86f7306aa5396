// Class activation maps (Zhou et al. 2016): for a network ending in global average pool → fc, the logit of
// class k is Σ_c w[k,c]·mean_hw F[c,h,w] + b_k, so Σ_c w[k,c]·F[c,h,w] says where in the image the
// evidence for k lies. Heads CAM cannot explain (VGG's fc stack) get EigenCAM (Muhammad & Yeasin 2020)
// instead: the features' first principal component, which needs no weights and names no class.
// This module finds F and w in a graph and computes the maps; it reads no weights.
import { normaliseGraph } from './normalise';
import type { OnnxGraph, OnnxNode } from './onnxGraph';
import { inferShapes, type GraphShapes, type ShapeOptions } from './shapes';
import { isGlobalReduce } from './structure/rows';

/** Where class activation maps come from in a graph. */
export interface CamSource {
  /** The [N, C, H, W] tensor the global average pool reads. */
  features: string;
  /** The fc node (Gemm or MatMul) and its weight initializer. */
  fcNode: string;
  weight: string;
  /** Whether the weight is stored [classes, channels] (Gemm transB=1) rather than [channels, classes]. */
  classMajor: boolean;
  /** Gemm's alpha (1 for MatMul): it scales every logit's weighted sum. */
  alpha: number;
  channels: number;
  classes: number;
  height: number;
  width: number;
}

/** The CAM source of a graph, or why it has none. */
export type CamLookup = { source: CamSource; reason?: undefined } | { source?: undefined; reason: string };

// Ops between the pool and the fc that only change the layout of [N, C, 1, 1] (or its precision: an int8
// model's QuantizeLinear/DequantizeLinear pair).
const RESHAPES = new Set(['Flatten', 'Reshape', 'Squeeze', 'QuantizeLinear', 'DequantizeLinear']);
// Ops after the fc that keep the class ranking (CAM weights the logits' linear part), and a bias Add.
const AFTER_FC = new Set([
  'Softmax',
  'LogSoftmax',
  'Sigmoid',
  'Identity',
  'Flatten',
  'Reshape',
  'Squeeze',
  'Cast',
]);

/**
 * Finds features → global average pool → (reshape) → fc before the graph's first output. Weights shared
 * through Identity nodes and global pools written as ReduceMean (the dynamo exporter) are understood.
 * `opts` sets the input size of models whose H and W are symbolic, and shapes measured by a run.
 */
export function findCamSource(raw: OnnxGraph, opts: Omit<ShapeOptions, 'batch'> = {}): CamLookup {
  const graph = normaliseGraph(raw).graph;
  const shapes = inferShapes(graph, { ...opts, batch: 1 });
  const producer = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => producer.set(o, i)));
  const nodeOf = (t: string): number | undefined => producer.get(t);
  const data = (n: OnnxNode): string | undefined =>
    n.inputs.find((t) => t !== '' && !graph.initializers.has(t));
  const output = graph.outputs[0];
  if (!output) return { reason: 'the graph has no output' };
  let fcId = nodeOf(output.name);
  const bias = (n: OnnxNode): boolean => n.op === 'Add' && n.inputs.some((t) => graph.initializers.has(t));
  while (fcId !== undefined && (AFTER_FC.has(graph.nodes[fcId]!.op) || bias(graph.nodes[fcId]!)))
    fcId = nodeOf(data(graph.nodes[fcId]!) ?? '');
  const fc = fcId === undefined ? undefined : graph.nodes[fcId];
  // A classifier written as a 1×1 convolution on the pooled features (DLA) is an fc layer too.
  const conv = fc?.op === 'Conv';
  if (!fc || (fc.op !== 'Gemm' && fc.op !== 'MatMul' && !conv)) {
    return { reason: 'the output is not computed by a fully connected layer (Gemm, MatMul or a 1×1 Conv)' };
  }
  const weight = fc.inputs[1] ?? '';
  const w = graph.initializers.get(weight);
  const pointwise =
    conv && w?.dims.length === 4 && w.dims[2] === 1 && w.dims[3] === 1 && !(Number(fc.attrs.group ?? 1) > 1);
  if (!w || (w.dims.length !== 2 && !pointwise))
    return { reason: `the fc layer's weight ${weight} is not a 2-D initializer or a 1×1 kernel` };
  if (fc.op === 'Gemm' && fc.attrs.transA === 1) return { reason: 'the fc layer transposes its input' };
  const classMajor = conv || (fc.op === 'Gemm' && fc.attrs.transB === 1);
  const alpha = fc.op === 'Gemm' && typeof fc.attrs.alpha === 'number' ? fc.attrs.alpha : 1;

  let poolId = nodeOf(fc.inputs[0] ?? '');
  while (poolId !== undefined && RESHAPES.has(graph.nodes[poolId]!.op))
    poolId = nodeOf(data(graph.nodes[poolId]!) ?? '');
  if (poolId === undefined) return { reason: 'no pooling layer before the fc layer' };
  const pool = graph.nodes[poolId]!;
  const features = data(pool) ?? '';
  const shape = shapes.shapes.get(features);
  if (!shape || shape.length !== 4 || !shape.every((d) => typeof d === 'number')) {
    return { reason: `the tensor before the pool (${features}) is not a known 4-D [N, C, H, W] tensor` };
  }
  const [, channels, height, width] = shape as number[];
  if (height === 1 && width === 1) {
    return { reason: `the features before the pool (${features}) are 1×1: there is no map to draw` };
  }
  if (!isGlobalAverage(pool, poolId, shapes, height!, width!)) {
    return { reason: `${pool.name || pool.op} is not a global average pool` };
  }
  const [rows, cols] = w.dims.slice(0, 2) as [number, number];
  if ((classMajor ? cols : rows) !== channels) {
    return { reason: `the fc weight ${weight} [${w.dims.join(', ')}] does not match ${channels} channels` };
  }
  return {
    source: {
      features,
      fcNode: fc.name,
      weight,
      classMajor,
      alpha,
      channels: channels!,
      classes: classMajor ? rows : cols,
      height: height!,
      width: width!,
    },
  };
}

/** Σ_c alpha·w[k,c]·F[c,·] for class k over a batch-1 feature tensor; `weights` as stored in the model. */
export function classActivationMap(
  features: Float32Array,
  weights: Float32Array,
  source: CamSource,
  classIndex: number,
): Float64Array {
  const { channels, classes, classMajor, alpha } = source;
  const plane = source.height * source.width;
  const out = new Float64Array(plane);
  // Indices stay within the [classes, channels] weights and the [channels, plane] features.
  for (let c = 0; c < channels; c++) {
    const w = alpha * (classMajor ? weights[classIndex * channels + c]! : weights[c * classes + classIndex]!);
    if (w === 0) continue;
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[i]! += w * features[base + i]!;
  }
  return out;
}

/**
 * EigenCAM: the projection of a batch-1 [C, H·W] feature tensor onto its first principal component, i.e.
 * Fᵀv for the dominant eigenvector v of F·Fᵀ, with the sign that makes the map's mean positive. F is not
 * centred, as in the paper: centring over positions (as pytorch-grad-cam does) leaves the map a zero mean,
 * and then no rule can choose its sign. Power iteration runs on the smaller Gram matrix (FᵀF for 7×7
 * maps of 512 channels), whose dominant eigenvector is the map itself; the map is returned up to a
 * positive factor, which `normaliseMap` removes.
 */
export function eigenCam(features: Float32Array, channels: number, plane: number): Float64Array {
  const f = (c: number, p: number): number => features[c * plane + p]!;
  const byPosition = plane <= channels;
  const n = byPosition ? plane : channels;
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let sum = 0;
      if (byPosition) for (let c = 0; c < channels; c++) sum += f(c, i) * f(c, j);
      else for (let p = 0; p < plane; p++) sum += f(i, p) * f(j, p);
      gram[i * n + j] = gram[j * n + i] = sum;
    }
  }
  const top = dominantEigenvector(gram, n);
  let map: Float64Array;
  if (byPosition) map = top;
  else {
    map = new Float64Array(plane);
    for (let c = 0; c < channels; c++) {
      const v = top[c]!;
      for (let p = 0; p < plane; p++) map[p]! += v * f(c, p);
    }
  }
  let sum = 0;
  for (const v of map) sum += v;
  if (sum < 0) for (let p = 0; p < map.length; p++) map[p] = -map[p]!;
  return map;
}

// Power iteration stops when the unit vector moves less than this, or after the iteration budget.
const EIGEN_TOLERANCE = 1e-12;
const EIGEN_BUDGET = 2e8;

/** Unit eigenvector of the largest eigenvalue of a symmetric positive semi-definite n×n matrix. */
function dominantEigenvector(m: Float64Array, n: number): Float64Array {
  // A start with no symmetry of its own, so that it is not orthogonal to the answer by construction.
  let u = Float64Array.from({ length: n }, (_, i) => 1 + 0.5 * Math.sin(i * 1.618));
  scaleToUnit(u);
  const iterations = Math.max(100, Math.min(10_000, Math.floor(EIGEN_BUDGET / (n * n))));
  for (let k = 0; k < iterations; k++) {
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum += m[i * n + j]! * u[j]!;
      w[i] = sum;
    }
    if (scaleToUnit(w) === 0) return w; // F is all zeros: no component, an all-zero map
    let moved = 0;
    for (let i = 0; i < n; i++) moved = Math.max(moved, Math.abs(w[i]! - u[i]!));
    u = w;
    if (moved < EIGEN_TOLERANCE) break;
  }
  return u;
}

function scaleToUnit(v: Float64Array): number {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm;
  return norm;
}

/** ReLU, then divides by the maximum so the map spans 0…1; a map with nothing positive stays all zeros. */
export function normaliseMap(raw: ArrayLike<number>): number[] {
  let max = 0;
  for (let i = 0; i < raw.length; i++) max = Math.max(max, raw[i]!);
  return Array.from(raw, (v) => (max > 0 && v > 0 ? v / max : 0));
}

// GlobalAveragePool, or an unpadded AveragePool / ReduceMean that covers the whole H×W.
function isGlobalAverage(
  node: OnnxNode,
  id: number,
  shapes: GraphShapes,
  height: number,
  width: number,
): boolean {
  if (node.op === 'GlobalAveragePool') return true;
  if (node.op === 'AveragePool') {
    const k = node.attrs.kernel_shape;
    const pads = node.attrs.pads;
    const unpadded = !Array.isArray(pads) || pads.every((p) => p === 0);
    return Array.isArray(k) && k[0] === height && k[1] === width && unpadded;
  }
  return node.op === 'ReduceMean' && isGlobalReduce(shapes, id);
}
