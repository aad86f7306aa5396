// The exploration model: the same ONNX model with the output tensor of every layer-table row added as a
// graph output, built in memory with onnx-proto, plus what the maps over the image need: the fc weights
// for class activation maps, or, for heads CAM cannot explain, the features tensor EigenCAM reads.
import { onnx } from 'onnx-proto';
import type { LayerTable, TableShape } from '../shared/layerTable';
import { findCamSource, type CamSource } from './cam';
import { explainableLayers, type ExplainableOutput } from './explain/layers';
import type { OnnxGraph } from './onnxGraph';

/** A layer-table row and the tensor its last folded node produces. */
export interface RowOutput {
  row: string;
  tensor: string;
  /** The row's computed output shape (symbolic batch). */
  shape: TableShape;
  /** The graph holds it channels-last ([N, H, W, C], ConvNeXt's blocks). */
  channelsLast: boolean;
}

/** Where the maps over the image come from: CAM's features and fc weights, or EigenCAM's features. */
export type MapSource =
  | {
      method: 'cam';
      source: CamSource;
      /** The fc weight as stored in the model. */
      weights: Float32Array;
      /** The features' explainable layer, as the Layer list names it. */
      layer: string;
    }
  | { method: 'eigencam'; features: string; layer: string; channels: number; height: number; width: number };

/** The model with extra outputs and what it takes to read them. */
export interface ExplorationModel {
  /** Encoded ModelProto; the original outputs come first, in their order. */
  bytes: Uint8Array;
  rows: RowOutput[];
  /** Rows whose output is not a tensor of the file (none today; kept for models read oddly). */
  skipped: string[];
  maps: MapSource | null;
  /** The layers maps can be made at; `maps` reads one of them. */
  explainable: ExplainableOutput[];
  /** Why there are no class activation maps (also when EigenCAM stands in); null when there are. */
  camReason: string | null;
}

/** What the exploration model is built from: the file, and the analysis of its graph. */
export interface ExplorationInput {
  /** The .onnx file's bytes. */
  bytes: Uint8Array;
  /** Reads `length` bytes at `offset` of the model's external data file `location` (beside the model). */
  readExternal: (location: string, offset: number, length: number) => Promise<Uint8Array>;
  /** The graph as read from the file, and its layer table at the crop size. */
  graph: OnnxGraph;
  table: LayerTable;
  crop: number;
  /** Shapes a run measured where static inference could not decide. */
  measured?: ReadonlyMap<string, number[]>;
}

/** Builds the exploration model. */
export async function buildExplorationModel(x: ExplorationInput): Promise<ExplorationModel> {
  const produced = new Set(x.graph.nodes.flatMap((n) => n.outputs));
  const rows: RowOutput[] = [];
  const skipped: string[] = [];
  for (const r of x.table.rows) {
    if (produced.has(r.output))
      rows.push({ row: r.name, tensor: r.output, shape: r.out_shape, channelsLast: r.channels_last });
    else skipped.push(r.name);
  }
  const model = onnx.ModelProto.decode(x.bytes);
  const found = findCamSource(x.graph, { spatial: [x.crop, x.crop], measured: x.measured });
  let camReason = found.reason ?? null;
  let weights: Float32Array | undefined;
  if (found.source) {
    const weight = findTensor(model, found.source.weight);
    weights = weight && (await floatsOf(weight, x.readExternal));
    if (weights?.length !== found.source.channels * found.source.classes) {
      weights = undefined;
      camReason = `cannot read the fc weight ${found.source.weight} as float32`;
    }
  }
  const source = weights ? found.source : undefined;
  const explainable = explainableLayers(
    x.graph,
    x.table.rows.filter((r) => produced.has(r.output)),
    source ? { tensor: source.features, shape: [source.channels, source.height, source.width] } : null,
  );
  const at = explainable.map;
  let maps: MapSource | null = null;
  if (source && weights && at) maps = { method: 'cam', source, weights, layer: at.layer };
  else if (at) {
    const [channels, height, width] = at.shape;
    maps = { method: 'eigencam', features: at.tensor, layer: at.layer, channels, height, width };
  } else camReason = `${camReason}; and no layer outputs a feature map [N, C, H, W] for EigenCAM`;
  const wanted = rows.map((r) => r.tensor);
  if (maps?.method === 'cam') wanted.push(maps.source.features);
  exposeTensors(model, wanted);
  return {
    bytes: onnx.ModelProto.encode(model).finish(),
    rows,
    skipped,
    maps,
    explainable: explainable.outputs,
    camReason,
  };
}

/** The bytes of an ONNX model with `tensors` added as graph outputs (after its own). */
export function withOutputs(bytes: Uint8Array, tensors: readonly string[]): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  exposeTensors(model, tensors);
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Adds graph outputs by name only: onnxruntime takes each one's type from the node that makes it, which
 * keeps float16 models and integer shape tensors working.
 */
function exposeTensors(model: onnx.ModelProto, tensors: readonly string[]): void {
  const g = model.graph;
  if (!g) throw new Error('not an ONNX model (no graph found)');
  const outputs = (g.output ??= []);
  const present = new Set(outputs.map((o) => o.name));
  for (const t of tensors) {
    if (present.has(t)) continue;
    present.add(t);
    outputs.push({ name: t });
  }
  g.valueInfo = (g.valueInfo ?? []).filter((v) => !present.has(v.name ?? ''));
}

/** An initializer, or the value of a Constant node (weights that exporters fold into constants). */
function findTensor(model: onnx.ModelProto, name: string): onnx.ITensorProto | undefined {
  const g = model.graph;
  const init = g?.initializer?.find((t) => t.name === name);
  if (init) return init;
  const constant = g?.node?.find((n) => n.opType === 'Constant' && n.output?.[0] === name);
  return constant?.attribute?.find((a) => a.name === 'value')?.t ?? undefined;
}

/**
 * A float32 TensorProto's values, from raw_data (little-endian), float_data, or the model's external data;
 * undefined for other element types.
 */
async function floatsOf(
  t: onnx.ITensorProto,
  readExternal: ExplorationInput['readExternal'],
): Promise<Float32Array | undefined> {
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) return undefined;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const entry = (key: string): string | undefined =>
      t.externalData?.find((e) => e.key === key)?.value ?? undefined;
    const size = (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1);
    const length = Number(entry('length') ?? size * 4);
    return littleEndianFloats(
      await readExternal(entry('location') ?? '', Number(entry('offset') ?? 0), length),
    );
  }
  const raw = t.rawData;
  if (raw && raw.length > 0) return littleEndianFloats(raw);
  return t.floatData ? Float32Array.from(t.floatData) : undefined;
}

function littleEndianFloats(raw: Uint8Array): Float32Array {
  const out = new Float32Array(Math.floor(raw.length / 4));
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
