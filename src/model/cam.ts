// Class activation maps (Zhou et al. 2016): for a network ending in global average pool → fc, the logit of
// class k is Σ_c w[k,c]·mean_hw F[c,h,w] + b_k, so Σ_c w[k,c]·F[c,h,w] says where in the image the
// evidence for k lies. This module finds F and w in a graph and computes the maps; it reads no weights.
import { normaliseGraph } from './normalise';
import type { OnnxGraph, OnnxNode } from './onnxGraph';
import { inferShapes, type GraphShapes } from './shapes';
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

// Ops between the pool and the fc that only change the layout of [N, C, 1, 1].
const RESHAPES = new Set(['Flatten', 'Reshape', 'Squeeze']);
// Ops after the fc that keep the class ranking (CAM weights the logits' linear part).
const AFTER_FC = new Set(['Softmax', 'Identity']);

/**
 * Finds features → global average pool → (reshape) → fc before the graph's first output. Weights shared
 * through Identity nodes and global pools written as ReduceMean (the dynamo exporter) are understood.
 */
export function findCamSource(raw: OnnxGraph): CamLookup {
  const graph = normaliseGraph(raw).graph;
  const shapes = inferShapes(graph, { batch: 1 });
  const producer = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => producer.set(o, i)));
  const nodeOf = (t: string): number | undefined => producer.get(t);
  const data = (n: OnnxNode): string | undefined =>
    n.inputs.find((t) => t !== '' && !graph.initializers.has(t));
  const output = graph.outputs[0];
  if (!output) return { reason: 'the graph has no output' };
  let fcId = nodeOf(output.name);
  while (fcId !== undefined && AFTER_FC.has(graph.nodes[fcId]!.op))
    fcId = nodeOf(data(graph.nodes[fcId]!) ?? '');
  const fc = fcId === undefined ? undefined : graph.nodes[fcId];
  if (!fc || (fc.op !== 'Gemm' && fc.op !== 'MatMul')) {
    return { reason: 'the output is not computed by a fully connected layer (Gemm or MatMul)' };
  }
  const weight = fc.inputs[1] ?? '';
  const w = graph.initializers.get(weight);
  if (!w || w.dims.length !== 2)
    return { reason: `the fc layer's weight ${weight} is not a 2-D initializer` };
  if (fc.op === 'Gemm' && fc.attrs.transA === 1) return { reason: 'the fc layer transposes its input' };
  const classMajor = fc.op === 'Gemm' && fc.attrs.transB === 1;
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
  if (!isGlobalAverage(pool, poolId, shapes, height!, width!)) {
    return { reason: `${pool.name || pool.op} is not a global average pool` };
  }
  const [rows, cols] = w.dims as [number, number];
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
  for (let c = 0; c < channels; c++) {
    const w = alpha * (classMajor ? weights[classIndex * channels + c] : weights[c * classes + classIndex]);
    if (w === 0) continue;
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[i] += w * features[base + i];
  }
  return out;
}

/** ReLU, then divides by the maximum so the map spans 0…1; a map with nothing positive stays all zeros. */
export function normaliseMap(raw: ArrayLike<number>): number[] {
  let max = 0;
  for (let i = 0; i < raw.length; i++) max = Math.max(max, raw[i]);
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
