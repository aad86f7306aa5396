// Whether Grad-CAM can explain each of a model's explainable layers (src/model/explain/layers.ts), and why
// not the others: the reasons the panel's Layer list shows.
import type { onnx } from 'onnx-proto';
import { analyse, logitsOf, type AnalyseOptions } from './analyse';
import { planGradient } from './plan';

/**
 * For each tensor (a stage's, block's or layer's output), why the gradient of the logits with respect to it
 * cannot be computed (an op with no backward rule, a connection around it); null where it can.
 */
export function gradientSupport(
  model: onnx.IModelProto,
  tensors: readonly string[],
  opts: AnalyseOptions = {},
): (string | null)[] {
  const a = analyse(model, opts);
  const logits = logitsOf(a);
  return tensors.map((tensor) => {
    const plan = planGradient(a, tensor, logits);
    return 'unsupported' in plan ? plan.unsupported : null;
  });
}
