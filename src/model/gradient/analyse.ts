// What the gradient builder knows about a model before choosing a layer: the graph as our reader sees it
// (typed attributes, folded small tensors) and every tensor's shape, node for node beside the onnx-proto
// model whose nodes and weights the gradient model copies.
import { onnx } from 'onnx-proto';
import { FLOAT_TYPES, parseOnnx, type OnnxGraph } from '../onnxGraph';
import { inferShapes, type GraphShapes } from '../shapes';

/** A model ready for gradient planning; `graph.nodes[i]` is `model.graph.node[i]`. */
export interface Analysed {
  model: onnx.IModelProto;
  graph: OnnxGraph;
  shapes: GraphShapes;
  /** The node index that writes each tensor. */
  producer: Map<string, number>;
  initializers: Set<string>;
}

/** How to read what the model leaves open. */
export interface AnalyseOptions {
  /** Height and width where the model's input size is symbolic (default 224×224). */
  spatial?: [number, number];
}

// Float tensors larger than this lose their values before parsing: the reader would skip them anyway.
const KEPT_FLOATS = 64;

/** Parses the model's graph without its weights and infers every tensor's shape (symbolic batch 'N'). */
export function analyse(model: onnx.IModelProto, opts: AnalyseOptions = {}): Analysed {
  const g = model.graph;
  if (!g) throw new Error('not an ONNX model (no graph found)');
  const stripped: onnx.IModelProto = {
    ...model,
    graph: { ...g, initializer: (g.initializer ?? []).map(withoutWeights) },
  };
  const graph = parseOnnx(onnx.ModelProto.encode(stripped).finish());
  const shapes = inferShapes(graph, { batch: 'N', spatial: opts.spatial });
  const producer = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => o !== '' && producer.set(o, i)));
  return { model, graph, shapes, producer, initializers: new Set(graph.initializers.keys()) };
}

function withoutWeights(t: onnx.ITensorProto): onnx.ITensorProto {
  const size = (t.dims ?? []).reduce((a: number, b) => a * Number(b), 1);
  if (!FLOAT_TYPES.has(t.dataType ?? 0) || size <= KEPT_FLOATS) return t;
  return { name: t.name, dims: t.dims, dataType: t.dataType };
}

// Ops after the logits that keep them or only normalise them (a final Softmax, LogSoftmax or Sigmoid):
// explanations target the logit, before any of these.
const AFTER_LOGITS = new Set([
  'Softmax',
  'LogSoftmax',
  'Sigmoid',
  'Identity',
  'Cast',
  'Flatten',
  'Reshape',
  'Squeeze',
]);

/** The logits of a classifier: its first output, or the tensor before a final Softmax. */
export function logitsOf(a: Analysed): string {
  let t = a.graph.outputs[0]?.name ?? '';
  for (let p = a.producer.get(t); p !== undefined; p = a.producer.get(t)) {
    const node = a.graph.nodes[p]!;
    if (!AFTER_LOGITS.has(node.op) || node.domain !== '') break;
    t = node.inputs[0]!;
  }
  return t;
}
