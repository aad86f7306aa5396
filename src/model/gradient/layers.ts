// Which stage and block outputs of a layer table Grad-CAM can explain, and why not the others: the panel's
// list. A group's output is the tensor its rows hand on to the rest of the graph.
import type { onnx } from 'onnx-proto';
import type { LayerRow } from '../../shared/layerTable';
import { normaliseGraph } from '../normalise';
import { analyse, logitsOf, type AnalyseOptions } from './analyse';
import { planGradient } from './plan';

/** Whether Grad-CAM can explain one stage's or block's output. */
export interface LayerSupport {
  /** The stage or block, as the table names it ('conv4_x', 'conv4_2'). */
  layer: string;
  kind: 'stage' | 'block';
  /** The tensor the stage or block outputs. */
  tensor: string;
  /** Why not; null when the gradient model can be built. */
  reason: string | null;
}

/** Grad-CAM support of every stage and block output, in table order (a stage before its blocks). */
export function supportedLayers(
  model: onnx.IModelProto,
  rows: readonly LayerRow[],
  opts: AnalyseOptions = {},
): LayerSupport[] {
  const a = analyse(model, opts);
  const logits = logitsOf(a);
  const net = normaliseGraph(a.graph).graph;
  const readers = new Map<string, string[]>();
  for (const n of net.nodes) for (const t of n.inputs) readers.set(t, [...(readers.get(t) ?? []), n.name]);
  const outputs = new Set(net.outputs.map((o) => o.name));

  const groups = new Map<string, { layer: string; kind: LayerSupport['kind']; rows: LayerRow[] }>();
  const join = (kind: LayerSupport['kind'], layer: string | null, row: LayerRow): void => {
    if (layer === null) return;
    const key = `${kind}:${layer}`;
    if (!groups.has(key)) groups.set(key, { layer, kind, rows: [] });
    groups.get(key)!.rows.push(row);
  };
  for (const r of rows) {
    join('stage', r.stage, r);
    join('block', r.block, r);
  }

  return [...groups.values()].map(({ layer, kind, rows: members }) => {
    const inside = new Set(members.flatMap((r) => r.onnx_nodes));
    const leaves = (r: LayerRow): boolean =>
      outputs.has(r.output) || (readers.get(r.output) ?? []).some((n) => !inside.has(n));
    const tensor = (members.filter(leaves).at(-1) ?? members.at(-1)!).output;
    return { layer, kind, tensor, reason: reasonFor(tensor) };
  });

  function reasonFor(tensor: string): string | null {
    if (tensor === logits) return 'it is the classifier output (the logits)';
    const shape = a.shapes.shapes.get(tensor);
    if (shape?.length !== 4) return 'its output is not a feature map [N, C, H, W]';
    if (shape[2] === 1 && shape[3] === 1) return 'its output is 1×1: there is nothing to localise';
    const plan = planGradient(a, tensor, logits);
    return 'unsupported' in plan ? plan.unsupported : null;
  }
}
