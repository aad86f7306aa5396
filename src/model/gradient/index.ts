// Gradients of a class logit with respect to any layer's output, as an ONNX model onnxruntime runs (for
// Grad-CAM at any stage or block). Built from the model's own nodes and weights with onnx-proto: the
// forward nodes from the layer's output A to the logits, then a backward node or two per forward node.
// Inputs `features` (A, [B, C, H, W]) and `seed` ([B, K], usually one-hot rows); outputs `logits` (recomputed
// from A) and `gradient` (∂(Σ seed·logits)/∂A), so one run with B copies of A explains B classes.
import { onnx } from 'onnx-proto';
import type { Dim } from '../onnxGraph';
import { analyse, logitsOf, type AnalyseOptions } from './analyse';
import { NAMES, planGradient, type Plan, type Unsupported } from './plan';

export type { AnalyseOptions } from './analyse';
export type { Unsupported } from './plan';
export { gradientSupport } from './layers';

/** A built gradient model. */
export interface GradientModel {
  model: onnx.IModelProto;
  /** Shape of the `features` input and the `gradient` output; the batch is the symbol 'B'. */
  features: Dim[];
  /** Shape of the `seed` input and the `logits` output. */
  logits: Dim[];
  opset: number;
  /** Why the opset is higher than the model's (opset 13 forms, ScatterElements' reduction), if it is. */
  note: string | null;
}

/** The batch symbol of the gradient model's inputs and outputs. */
const BATCH = 'B';

/**
 * Builds the model that computes ∂(Σ seed·logits)/∂`from` for the float model `model` (weights included),
 * or says which node stops it. `logits` is the graph output, or the tensor before a final Softmax.
 */
export function buildGradientModel(
  model: onnx.IModelProto,
  from: string,
  logits: string,
  opts: AnalyseOptions = {},
): GradientModel | Unsupported {
  const a = analyse(model, opts);
  const plan = planGradient(a, from, logits);
  if ('unsupported' in plan) return plan;
  const batched = (s: Dim[]): Dim[] => [BATCH, ...s.slice(1)];
  return {
    model: assemble(model, plan),
    features: batched(plan.features),
    logits: batched(plan.logits),
    opset: plan.opset,
    note: plan.note,
  };
}

/** The logits tensor of a classifier: its first output, or the tensor before a final Softmax. */
export function findLogits(model: onnx.IModelProto): string {
  return logitsOf(analyse(model));
}

function assemble(model: onnx.IModelProto, plan: Plan): onnx.IModelProto {
  const nodes = [...plan.forward, ...plan.backward.nodes];
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  const initializer = (model.graph!.initializer ?? [])
    .filter((t) => used.has(plan.rename(t.name ?? '')))
    .map((t) => (plan.rename(t.name!) === t.name ? t : { ...t, name: plan.rename(t.name!) }));
  const value = (name: string, shape: Dim[]): onnx.IValueInfoProto => ({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: shape.map((d, i) => (i === 0 ? { dimParam: BATCH } : { dimValue: d as number })) },
      },
    },
  });
  const otherDomains = (model.opsetImport ?? []).filter((o) => o.domain && o.domain !== 'ai.onnx');
  return {
    irVersion: Math.max(Number(model.irVersion ?? 0), irVersionFor(plan.opset)),
    producerName: 'CNN Lens gradient',
    opsetImport: [...otherDomains, { domain: '', version: plan.opset }],
    graph: {
      name: 'gradient',
      node: nodes,
      initializer: [...initializer, ...plan.backward.initializers],
      input: [value(NAMES.features, plan.features), value(NAMES.seed, plan.logits)],
      output: [value(NAMES.logits, plan.logits), value(NAMES.gradient, plan.features)],
    },
  };
}

// The IR version that first allowed each opset (onnx/onnx docs/Versioning.md).
function irVersionFor(opset: number): number {
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  return opset >= 15 ? 8 : 7;
}
