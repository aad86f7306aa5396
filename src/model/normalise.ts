// Takes out what exporters add around the real computation: Constant nodes become tensors with values,
// Identity and inference-time Dropout nodes become aliases, so that every node reads its inputs by the
// name of the tensor that really holds them (a weight shared through Identity nodes is one tensor again).
import type { AttrValue, OnnxGraph, OnnxNode, TensorInfo } from './onnxGraph';
import { DataType } from './onnxGraph';

/** A graph without Identity, Dropout and Constant nodes. */
export interface NormalGraph {
  graph: OnnxGraph;
  /** Tensors that came from Constant nodes: in `graph.initializers`, but never parameters. */
  constants: ReadonlySet<string>;
  /** The nodes taken out, for anything that maps back to the file (profiling, node lists). */
  removed: OnnxNode[];
}

// Nodes whose first output is their first input at inference time.
const PASS_THROUGH = new Set(['Identity', 'Dropout']);

/** Removes Constant, Identity and Dropout nodes and renames every input to the tensor it aliases. */
export function normaliseGraph(graph: OnnxGraph): NormalGraph {
  const alias = new Map<string, string>();
  const resolve = (name: string): string => {
    let n = name;
    for (let seen = 0; alias.has(n) && seen < 10_000; seen++) n = alias.get(n)!;
    return n;
  };
  const initializers = new Map(graph.initializers);
  const constants = new Set<string>();
  const removed: OnnxNode[] = [];
  const nodes: OnnxNode[] = [];
  for (const node of graph.nodes) {
    const out = node.outputs[0];
    if (node.op === 'Constant' && node.domain === '' && out) {
      const t = constantTensor(node, out);
      if (t) {
        initializers.set(out, t);
        constants.add(out);
        removed.push(node);
        continue;
      }
    }
    const src = node.inputs[0];
    // Dropout's mask output has no source to alias; keep such a node.
    const passes = PASS_THROUGH.has(node.op) && node.domain === '' && src && out;
    if (passes && node.outputs.slice(1).every((o) => o === '')) {
      alias.set(out, resolve(src));
      removed.push(node);
      continue;
    }
    nodes.push({ ...node, inputs: node.inputs.map((i) => (i === '' ? '' : resolve(i))) });
  }
  // A graph output that an Identity produced is the tensor it aliases.
  const outputs = graph.outputs.map((o) => ({ ...o, name: resolve(o.name) }));
  return { graph: { ...graph, nodes, initializers, outputs }, constants, removed };
}

/** The tensor a Constant node holds (`value`, or one of the `value_*` attributes of opset 12+). */
function constantTensor(node: OnnxNode, name: string): TensorInfo | undefined {
  const entries = Object.entries(node.attrs);
  if (entries.length !== 1) return undefined;
  const [kind, v] = entries[0]!;
  if (kind === 'value' && isTensor(v)) return { ...v, name };
  const scalar = (dataType: number, values: number[], dims: number[]): TensorInfo => ({
    name,
    dims,
    dataType,
    size: values.length,
    ...(dataType === DataType.FLOAT ? { floats: values } : { ints: values }),
  });
  if (kind === 'value_float' && typeof v === 'number') return scalar(DataType.FLOAT, [v], []);
  if (kind === 'value_int' && typeof v === 'number') return scalar(DataType.INT64, [v], []);
  if (kind === 'value_floats' && isNumbers(v)) return scalar(DataType.FLOAT, v, [v.length]);
  if (kind === 'value_ints' && isNumbers(v)) return scalar(DataType.INT64, v, [v.length]);
  return undefined;
}

function isTensor(v: AttrValue): v is TensorInfo {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNumbers(v: AttrValue): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number');
}
