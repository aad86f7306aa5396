// Plans the gradient model of one layer: the forward nodes from A to the logits, copied (renamed where the
// interface needs their names, in the target opset's form), then one backward step per node in reverse
// order, summing the gradients of tensors that several nodes read.
import type { onnx } from 'onnx-proto';
import type { Dim, OnnxNode } from '../onnxGraph';
import type { Analysed } from './analyse';
import { Emitter, NotSupported } from './emitter';
import { LAYOUT } from './layout';
import { LINEAR } from './linear';
import { MIN_OPSET, upgradeNode } from './opset';
import { POINTWISE } from './pointwise';
import { POOLING } from './pooling';
import { sliceGraph } from './slice';
import { Step, type Rule } from './step';

/** The gradient model's input and output names. */
export const NAMES = { features: 'features', seed: 'seed', logits: 'logits', gradient: 'gradient' } as const;

/** Backward rules by op (default domain). */
const RULES: Readonly<Record<string, Rule>> = { ...LINEAR, ...POINTWISE, ...POOLING, ...LAYOUT };

/** Why no gradient model can be built, naming the node that stops it when one does. */
export interface Unsupported {
  unsupported: string;
  op?: string;
  node?: string;
}

/** What the gradient model is assembled from. */
export interface Plan {
  /** Forward copies, then the backward nodes and constants in `backward`. */
  forward: onnx.INodeProto[];
  backward: Emitter;
  /** Model tensor names as the gradient model writes them. */
  rename: (t: string) => string;
  opset: number;
  /** Why the opset is higher than the model's, if it is. */
  note: string | null;
  /** Shapes of A and of the logits, batch first. */
  features: Dim[];
  logits: Dim[];
}

// Before opset 7, Add and Mul broadcast only when told to: too old to copy as they are.
const OLDEST_OPSET = 7;

/** Plans the gradient of `logits` with respect to `from`, or says why it cannot. */
export function planGradient(a: Analysed, from: string, logits: string): Plan | Unsupported {
  const { graph, shapes } = a;
  const opset = graph.opset || MIN_OPSET;
  if (opset < OLDEST_OPSET) return { unsupported: `opset ${opset} is older than ${OLDEST_OPSET}` };
  const slice = sliceGraph(a, from, logits);
  if ('reason' in slice) return { unsupported: slice.reason, op: slice.node?.op, node: slice.node?.name };
  const missing = slice.path.map((i) => graph.nodes[i]!).find((n) => !ruleOf(n));
  if (missing) return at(missing, 'no backward rule for this op');
  const features = shapes.shapes.get(from);
  const out = shapes.shapes.get(logits);
  for (const [t, s] of [
    [from, features],
    [logits, out],
  ] as const) {
    if (!s || s.length < 2 || s.slice(1).some((d) => typeof d !== 'number')) {
      return { unsupported: `the shape of ${t} is not known beyond the batch axis` };
    }
  }

  const e = new Emitter(namesOf(a));
  const renamed = new Map<string, string>([
    [from, NAMES.features],
    [logits, NAMES.logits],
  ]);
  const reserved = new Set<string>(Object.values(NAMES));
  const rename = (t: string): string => {
    let r = renamed.get(t);
    if (r === undefined) renamed.set(t, (r = reserved.has(t) ? e.name(`model/${t}`) : t));
    return r;
  };

  const copies = new Map<number, onnx.INodeProto>();
  for (const i of slice.forward) {
    const n = a.model.graph!.node![i]!;
    const copy = {
      ...n,
      input: n.input?.map((t) => (t === '' ? t : rename(t))),
      output: n.output?.map(rename),
    };
    try {
      copies.set(i, upgradeNode(copy, opset, e));
    } catch (err) {
      if (err instanceof NotSupported) return at(graph.nodes[i]!, err.message);
      throw err;
    }
  }

  const contributions = new Map<string, string[]>([[logits, [NAMES.seed]]]);
  const total = (t: string): string | undefined => {
    const list = contributions.get(t);
    if (!list || list.length < 2) return list?.[0];
    return e.op('Sum', list, [], `${t}/sum`);
  };
  for (const i of [...slice.path].reverse()) {
    const node = graph.nodes[i]!;
    const gy = node.outputs.map(total);
    if (gy.every((g) => g === undefined)) continue;
    const step = new Step(node, shapes.nodes[i]!, copies.get(i)!, gy, slice.onPath, shapes.values, opset, e);
    let gx: (string | undefined)[];
    try {
      gx = ruleOf(node)!(step);
    } catch (err) {
      if (err instanceof NotSupported) return at(node, err.message);
      throw err;
    }
    node.inputs.forEach((t, k) => {
      const g = gx[k];
      if (g === undefined || !slice.onPath.has(t)) return;
      contributions.set(t, [...(contributions.get(t) ?? []), g]);
    });
  }
  const gradient = total(from);
  if (gradient === undefined) return { unsupported: `no gradient reaches ${from} from the logits` };
  e.nodes.push({ opType: 'Identity', name: NAMES.gradient, input: [gradient], output: [NAMES.gradient] });

  const floor = Math.max(opset, MIN_OPSET);
  const target = Math.max(floor, e.needs?.opset ?? 0);
  let note: string | null = null;
  if (target > floor) note = `opset raised from ${opset} to ${target} for ${e.needs!.why}`;
  else if (target > opset)
    note = `opset raised from ${opset} to ${target}, the oldest the gradient ops are written for`;
  return {
    forward: slice.forward.map((i) => copies.get(i)!),
    backward: e,
    rename,
    opset: target,
    note,
    features: features!,
    logits: out!,
  };
}

function ruleOf(node: OnnxNode): Rule | undefined {
  const ours = node.domain === '' || node.domain === 'ai.onnx';
  return ours && Object.hasOwn(RULES, node.op) ? RULES[node.op] : undefined;
}

function at(node: OnnxNode, reason: string): Unsupported {
  return { unsupported: `${node.op} node "${node.name}": ${reason}`, op: node.op, node: node.name };
}

/** Every name the model uses, and the interface's names. */
function namesOf(a: Analysed): Set<string> {
  const names = new Set<string>([...Object.values(NAMES), ...a.initializers]);
  for (const n of a.graph.nodes) for (const t of [...n.inputs, ...n.outputs, n.name]) names.add(t);
  for (const v of [...a.graph.inputs, ...a.graph.outputs]) names.add(v.name);
  return names;
}
