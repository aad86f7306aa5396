// The layers a map over the image can be made at: the outputs of the layer table's stages and blocks that
// are feature maps bigger than 1×1 on the way to the class scores, and the layer that CAM (or EigenCAM,
// where it stands in) reads. The panel's Layer list, the worker's explanations and the exploration's own
// map all take their layers and names from this one list, so the map drawn is always one the list offers.
import type { LayerRow } from '../../shared/layerTable';
import { normaliseGraph } from '../normalise';
import type { OnnxGraph } from '../onnxGraph';

/** One layer a map can be made at. */
export interface ExplainableOutput {
  /** As the layer table names it: a stage ('conv4_x'), a block ('conv4_2') or a row ('head 1×1, 1280'). */
  layer: string;
  /** 'layer': CAM's or EigenCAM's features where no stage or block ends at them. */
  kind: 'stage' | 'block' | 'layer';
  /** The layer-table row whose output it is; null for what a row computes before its main op (DenseNet's
   *  last BatchNorm and ReLU, folded into the global pool's row). */
  row: string | null;
  tensor: string;
  /** [C, H, W] for one image, H × W > 1. */
  shape: [number, number, number];
}

/** The explainable layers and the one the maps over the image are made from. */
export interface ExplainableLayers {
  /** In table order (a stage before its blocks), the map's own layer last when no stage or block ends there. */
  outputs: ExplainableOutput[];
  /** CAM's features when `cam` names them, else EigenCAM's (the last row that is a feature map); null when
   *  the model has no feature map at all. */
  map: ExplainableOutput | null;
}

/**
 * The layers of `rows` (the layer table of `graph`) that maps can be made at. `cam` is the tensor a class
 * activation map weights and its [C, H, W], when the model's head allows CAM.
 */
export function explainableLayers(
  graph: OnnxGraph,
  rows: readonly LayerRow[],
  cam: { tensor: string; shape: [number, number, number] } | null,
): ExplainableLayers {
  const net = normaliseGraph(graph).graph;
  const reaching = ancestorsOfOutput(net);
  const readers = new Map<string, string[]>();
  for (const n of net.nodes) for (const t of n.inputs) readers.set(t, [...(readers.get(t) ?? []), n.name]);
  const outputs = new Set(net.outputs.map((o) => o.name));
  const rowOf = new Map(rows.map((r) => [r.output, r]));
  /** [C, H, W] of a row's output when it is a channels-first feature map bigger than 1×1. */
  const mapShape = (r: LayerRow): [number, number, number] | null => {
    const s = r.out_shape;
    if (r.channels_last || s?.length !== 4) return null;
    const [, c, h, w] = s;
    if (typeof c !== 'number' || typeof h !== 'number' || typeof w !== 'number' || h * w <= 1) return null;
    return [c, h, w];
  };

  const groups = new Map<string, { layer: string; kind: 'stage' | 'block'; rows: LayerRow[] }>();
  const join = (kind: 'stage' | 'block', layer: string | null, row: LayerRow): void => {
    if (layer === null) return;
    const key = `${kind}:${layer}`;
    if (!groups.has(key)) groups.set(key, { layer, kind, rows: [] });
    groups.get(key)!.rows.push(row);
  };
  for (const r of rows) {
    join('stage', r.stage, r);
    join('block', r.block, r);
  }
  const listed: ExplainableOutput[] = [];
  for (const { layer, kind, rows: members } of groups.values()) {
    // A group's output is the tensor its rows hand on to the rest of the graph (a dense block's concat,
    // not its last convolution's 32 channels).
    const inside = new Set(members.flatMap((r) => r.onnx_nodes));
    const leaves = (r: LayerRow): boolean =>
      outputs.has(r.output) || (readers.get(r.output) ?? []).some((n) => !inside.has(n));
    const last = members.filter(leaves).at(-1) ?? members.at(-1)!;
    const shape = mapShape(last);
    if (shape && reaching.has(last.output))
      listed.push({ layer, kind, row: last.name, tensor: last.output, shape });
  }

  const own = (tensor: string, make: () => ExplainableOutput | null): ExplainableOutput | null => {
    const found = listed.find((o) => o.tensor === tensor);
    if (found) return found;
    const made = make();
    if (made) listed.push(made);
    return made;
  };
  let map: ExplainableOutput | null;
  if (cam) {
    map = own(cam.tensor, () => {
      const row = rowOf.get(cam.tensor);
      if (row) return { layer: row.name, kind: 'layer', row: row.name, tensor: cam.tensor, shape: cam.shape };
      // Made inside a row, before its main op: the features a pool row's folded BatchNorm and ReLU hand to
      // the pool itself.
      const reader = rows.find((r) => (readers.get(cam.tensor) ?? []).some((n) => r.onnx_nodes.includes(n)));
      const name = reader ? `${reader.name} input` : 'features before the global pool';
      return { layer: name, kind: 'layer', row: null, tensor: cam.tensor, shape: cam.shape };
    });
  } else {
    const last = [...rows].reverse().find((r) => mapShape(r) && reaching.has(r.output));
    map = last
      ? own(last.output, () => ({
          layer: last.name,
          kind: 'layer',
          row: last.name,
          tensor: last.output,
          shape: mapShape(last)!,
        }))
      : null;
  }
  return { outputs: listed, map };
}

/** Every tensor that the graph's first output (the class scores) is computed from, that output included. */
function ancestorsOfOutput(net: OnnxGraph): Set<string> {
  const producer = new Map<string, number>();
  net.nodes.forEach((n, i) => n.outputs.forEach((o) => o !== '' && producer.set(o, i)));
  const seen = new Set<string>();
  const first = net.outputs[0]?.name;
  const stack = first ? [first] : [];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const p = producer.get(t);
    if (p !== undefined) for (const i of net.nodes[p]!.inputs) if (i !== '') stack.push(i);
  }
  return seen;
}
