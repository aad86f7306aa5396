// The steps every int8 build shares, so that the built-in int8 ResNet50 (scripts/buildInt8.ts) and a user's
// model quantized from a folder of images (src/inference/quantizeJob.ts) are made the same way.
import type { onnx } from 'onnx-proto';
import { foldForQuantization, type Folded } from './fold';

/** Share of each tensor's calibration values its range keeps. */
export const PERCENTILE = 99.999;

/** A float model made ready for calibration, and what stays in float. */
export interface Prepared {
  folded: Folded;
  /** The first convolution and the classifier: quantizing them costs the most accuracy. */
  floatNodes: Set<string>;
  /** Every float tensor the folded model computes, for calibration (graph outputs excepted). */
  tensors: string[];
}

/** Rewrites a decoded float model in place (Identity over weights removed, BatchNorm/Pad folded). */
export function prepareForQuantization(model: onnx.IModelProto): Prepared {
  readInitializersDirectly(model);
  const folded = foldForQuantization(model);
  const nodes = model.graph!.node!;
  const first = nodes.find((n) => n.opType === 'Conv');
  const last = [...nodes].reverse().find((n) => n.opType === 'Gemm' || n.opType === 'MatMul');
  const floatNodes = new Set([first?.name ?? '', last?.name ?? ''].filter(Boolean));
  const graphOutputs = new Set(model.graph!.output!.map((o) => o.name));
  const tensors = nodes.flatMap((n) => n.output ?? []).filter((t) => t && !graphOutputs.has(t));
  return { folded, floatNodes, tensors };
}

/**
 * Identity nodes over initializers go (TorchScript exports share equal tensors that way): the folder and
 * quantizer need a convolution's weight and bias as initializers, not as another node's output.
 */
function readInitializersDirectly(model: onnx.IModelProto): void {
  const g = model.graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const outputs = new Set((g.output ?? []).map((o) => o.name));
  const alias = new Map<string, string>();
  g.node = g.node!.filter((n) => {
    const from = n.input?.[0] ?? '';
    const to = n.output?.[0] ?? '';
    if (n.opType !== 'Identity' || !inits.has(from) || outputs.has(to)) return true;
    alias.set(to, from);
    return false;
  });
  for (const n of g.node) n.input = n.input?.map((t) => alias.get(t) ?? t);
}
