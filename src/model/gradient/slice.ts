// The part of a graph between a tensor A and the logits: the nodes the logits need once A is given, and
// among them the nodes a gradient flows back through. The logits must need nothing else from the image,
// since A is the gradient model's only data input.
import type { OnnxNode } from '../onnxGraph';
import type { Analysed } from './analyse';

/** The forward slice from A to the logits. */
export interface GraphSlice {
  /** Indices of the nodes that compute the logits from A and the weights, in graph order. */
  forward: number[];
  /** Of those, the nodes that read a tensor computed from A, in graph order. */
  path: number[];
  /** Tensors computed from A (A included) that a gradient can flow through. */
  onPath: Set<string>;
}

/** Why there is no slice, and the node that shows it when there is one. */
export interface NoSlice {
  reason: string;
  node?: OnnxNode;
}

// Ops whose outputs do not change when A's values do (integer shapes): the gradient stops there.
const NO_GRADIENT = new Set(['Shape', 'Size']);

/** The slice from `from` to `logits`, or why there is none. */
export function sliceGraph(a: Analysed, from: string, logits: string): GraphSlice | NoSlice {
  const { graph, producer, initializers } = a;
  const isInput = graph.inputs.some((i) => i.name === from);
  if (!producer.has(from) && !isInput) return { reason: `the model has no tensor named ${from}` };
  if (from === logits) return { reason: `${from} is the logits tensor itself` };
  if (!producer.has(logits)) return { reason: `the logits tensor ${logits} is not computed by any node` };

  const needed = new Set<number>();
  const outside = new Set<string>();
  let reached = false;
  const stack = [logits];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (t === from) reached = true;
    if (t === from || t === '' || initializers.has(t)) continue;
    const p = producer.get(t);
    if (p === undefined) outside.add(t);
    else if (!needed.has(p)) {
      needed.add(p);
      stack.push(...graph.nodes[p]!.inputs);
    }
  }
  if (!reached) return { reason: `the logits ${logits} do not depend on ${from}` };
  const forward = [...needed].sort((x, y) => x - y);
  if (outside.size > 0) return bypass(a, forward, from, outside);

  const onPath = new Set([from]);
  const path: number[] = [];
  for (const i of forward) {
    const node = graph.nodes[i]!;
    if (NO_GRADIENT.has(node.op) || !node.inputs.some((t) => onPath.has(t))) continue;
    path.push(i);
    node.outputs.forEach((o) => o !== '' && onPath.add(o));
  }
  return { forward, path, onPath };
}

/** Names the node where a path from the image that avoids A joins the computation of the logits. */
function bypass(a: Analysed, forward: number[], from: string, outside: Set<string>): NoSlice {
  const fromImage = new Set(outside);
  const fromA = new Set([from]);
  for (const i of forward) {
    const node = a.graph.nodes[i]!;
    const image = node.inputs.find((t) => fromImage.has(t));
    if (image !== undefined && node.inputs.some((t) => fromA.has(t))) {
      return {
        reason: `a connection around ${from}: ${node.op} node "${node.name}" also reads ${image}`,
        node,
      };
    }
    const into = image !== undefined ? fromImage : node.inputs.some((t) => fromA.has(t)) ? fromA : null;
    node.outputs.forEach((o) => into?.add(o));
  }
  return { reason: `the logits also depend on ${[...outside].join(', ')} without passing through ${from}` };
}
