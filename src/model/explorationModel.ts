// The exploration model: the same ONNX model with the output tensor of every layer-table row added as a
// graph output, built in memory with onnx-proto, plus the fc weights that class activation maps need.
import { onnx } from 'onnx-proto';
import type { LayerTable } from '../shared/layerTable';
import { findCamSource, type CamSource } from './cam';
import { normaliseGraph } from './normalise';
import { parseOnnx } from './onnxGraph';
import { inferShapes } from './shapes';
import { buildLayerTable } from './structure/table';

/** A layer-table row and the tensor its last folded node produces. */
export interface RowOutput {
  row: string;
  tensor: string;
  /** The row's computed output shape with batch 1. */
  shape: (number | string)[] | null;
}

/** What CAMs are computed from: the source in the graph, its fc weights as stored, and its row. */
export interface CamWeights {
  source: CamSource;
  weights: Float32Array;
  /** The layer-table row whose output is the features tensor (the tensor name if no row ends there). */
  layer: string;
}

/** The model with extra outputs and what it takes to read them. */
export interface ExplorationModel {
  /** Encoded ModelProto; the original outputs come first, in their order. */
  bytes: Uint8Array;
  table: LayerTable;
  rows: RowOutput[];
  /** Rows whose output is not a tensor of the file (none today; kept for models read oddly). */
  skipped: string[];
  cam: CamWeights | null;
  /** Why there are no CAMs; null when there are. */
  camReason: string | null;
}

/** Builds the exploration model from the bytes of an ONNX model. */
export function buildExplorationModel(bytes: Uint8Array): ExplorationModel {
  const graph = parseOnnx(bytes);
  const shapes = inferShapes(normaliseGraph(graph).graph, { batch: 1 });
  const table = buildLayerTable(graph);
  const produced = new Set(graph.nodes.flatMap((n) => n.outputs));
  const rows: RowOutput[] = [];
  const skipped: string[] = [];
  for (const r of table.rows) {
    if (produced.has(r.output))
      rows.push({ row: r.name, tensor: r.output, shape: shapes.shapes.get(r.output) ?? null });
    else skipped.push(r.name);
  }
  const found = findCamSource(graph);

  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph;
  if (!g) throw new Error('not an ONNX model (no graph found)');
  const outputs = (g.output ??= []);
  const valueInfo = g.valueInfo ?? [];
  const wanted = rows.map((r) => r.tensor);
  if (found.source) wanted.push(found.source.features);
  const present = new Set(outputs.map((o) => o.name));
  const info = new Map(valueInfo.map((v) => [v.name, v]));
  for (const t of wanted) {
    if (present.has(t)) continue;
    present.add(t);
    // A graph output needs a type; the value_info entry has it with the shape, when the file carries one.
    outputs.push(
      info.get(t) ?? { name: t, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } },
    );
  }
  g.valueInfo = valueInfo.filter((v) => !present.has(v.name ?? ''));

  let cam: CamWeights | null = null;
  let camReason = found.reason ?? null;
  if (found.source) {
    const init = g.initializer?.find((t) => t.name === found.source.weight);
    const weights = init ? floatsOf(init) : undefined;
    if (weights?.length === found.source.channels * found.source.classes) {
      const layer = rows.find((r) => r.tensor === found.source.features)?.row ?? found.source.features;
      cam = { source: found.source, weights, layer };
    } else camReason = `cannot read the fc weight ${found.source.weight} as float32`;
  }
  return { bytes: onnx.ModelProto.encode(model).finish(), table, rows, skipped, cam, camReason };
}

/** A float32 TensorProto's values, from raw_data (little-endian) or float_data; undefined for other types. */
export function floatsOf(t: onnx.ITensorProto): Float32Array | undefined {
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) return undefined;
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    const out = new Float32Array(raw.length / 4);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  return t.floatData ? Float32Array.from(t.floatData) : undefined;
}
