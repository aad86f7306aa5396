// ONNX bytes → a small uniform graph model (nodes, initializer dims, graph input/output shapes).
// Weight payloads are skipped, not decoded: a 100 MB model parses in milliseconds and nothing keeps
// the file's bytes alive afterwards. Field numbers follow onnx/onnx.proto (stable since IR v3).
import * as path from 'node:path';
import { ProtoReader, WireType } from './protobuf';

/** A tensor dimension: a number, or a symbolic name such as "N" (dim_param). */
export type Dim = number | string;

/** ONNX TensorProto.DataType codes we look at. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  BFLOAT16: 16,
} as const;

/** Floating-point element types: the tensors that can hold weights. */
export const FLOAT_TYPES: ReadonlySet<number> = new Set([
  DataType.FLOAT,
  DataType.FLOAT16,
  DataType.DOUBLE,
  DataType.BFLOAT16,
]);

/** Where an initializer's bytes live when the model keeps them outside the .onnx file. */
export interface ExternalRef {
  /** Path relative to the model's folder, as written in the file. */
  location: string;
  offset: number;
  /** Byte length; -1 when the file does not say (the rest of the data file). */
  length: number;
}

/** An initializer or constant tensor: its dims, and its values only when it is small. */
export interface TensorInfo {
  name: string;
  dims: number[];
  dataType: number;
  /** Number of elements (product of dims; 1 for a scalar). */
  size: number;
  /** Values of small integer tensors (Pad's pads, Reshape's shape); weights never get these. */
  ints?: number[];
  /** Values of small float tensors (Resize's scales, Clip's bounds); weights never get these. */
  floats?: number[];
  /** Set when the bytes are in an external data file. */
  external?: ExternalRef;
}

/** A graph input or output: element type and shape (null when the file gives none). */
export interface ValueInfo {
  name: string;
  elemType: number;
  shape: Dim[] | null;
}

/** An attribute value as plain data; subgraphs and other exotic kinds become null. */
export type AttrValue = number | string | number[] | string[] | TensorInfo | null;

/** One operator node. */
export interface OnnxNode {
  name: string;
  op: string;
  domain: string;
  /** Input tensor names; '' marks an omitted optional input, as in ONNX. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

/** The parsed main graph of a model. */
export interface OnnxGraph {
  name: string;
  producer: string;
  irVersion: number;
  /** Version of the default ('ai.onnx') opset, 0 when not declared. */
  opset: number;
  /** Nodes in topological order: the file's order, with any node moved after the nodes it reads from
   *  (fp16 converters can leave the list out of order, which onnxruntime accepts). */
  nodes: OnnxNode[];
  initializers: Map<string, TensorInfo>;
  /** Graph inputs that are not initializers (old IR versions list weights as inputs too). */
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** The model's metadata_props (ultralytics writes task, names, stride and imgsz there). */
  metadata: Record<string, string>;
}

// Integer tensors up to this many elements keep their values; weights are far larger.
const MAX_KEPT_INTS = 1024;
// Float tensors this small keep theirs (scales, bounds); a weight this small costs nothing to keep.
const MAX_KEPT_FLOATS = 64;
const INT_TYPES: ReadonlySet<number> = new Set([
  DataType.INT64,
  DataType.INT32,
  DataType.INT8,
  DataType.UINT8,
  DataType.BOOL,
]);

/** Why a model file cannot be used. */
export type ModelFileProblem =
  | 'missing'
  | 'not a file'
  | 'empty'
  | 'truncated'
  | 'not onnx'
  | 'external data missing'
  | 'external data short'
  | 'external data outside';

/** A model file that cannot be used, with the reason in words a user can act on. */
export class ModelFileError extends Error {
  constructor(
    message: string,
    /** What is wrong, for callers that word it their own way; undefined for checks made after reading. */
    readonly problem?: ModelFileProblem,
  ) {
    super(message);
  }
}

/** Whether a tensor's values are kept when it is read (a small integer tensor: a shape); weights never are. */
export function keepsValues(t: TensorInfo): boolean {
  return INT_TYPES.has(t.dataType) && t.size <= MAX_KEPT_INTS;
}

/** A kept tensor's values from its raw bytes (little-endian), as stored in an external data file. */
export function rawInts(t: TensorInfo, bytes: Uint8Array): number[] {
  return readRawInts(new ProtoReader(bytes), t.dataType, t.size);
}

/** The external data file of a model in `dir`; a location that leaves the model's folder is refused. */
export function externalPath(dir: string, location: string): string {
  const file = path.resolve(dir, location);
  const rel = path.relative(dir, file);
  if (path.isAbsolute(location) || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new ModelFileError(
      `external data location "${location}" is outside the model's folder`,
      'external data outside',
    );
  }
  return file;
}

/** Parses the bytes of an ONNX ModelProto. */
export function parseOnnx(bytes: Uint8Array): OnnxGraph {
  const r = new ProtoReader(bytes);
  let irVersion = 0;
  let producer = '';
  let opset = 0;
  let graph: OnnxGraph | undefined;
  const metadata: Record<string, string> = {};
  while (r.more()) {
    const [field, wire] = r.key();
    if (field === 1 && wire === WireType.Varint) irVersion = r.varint();
    else if (field === 2 && wire === WireType.LengthDelimited) producer = r.string();
    else if (field === 7 && wire === WireType.LengthDelimited) graph = readGraph(r.message());
    else if (field === 8 && wire === WireType.LengthDelimited) {
      const [domain, version] = readOpsetId(r.message());
      if (domain === '' || domain === 'ai.onnx') opset = version;
    } else if (field === 14 && wire === WireType.LengthDelimited) {
      const [key, value] = readStringEntry(r.message());
      if (key !== '__proto__') metadata[key] = value;
    } else r.skip(wire);
  }
  if (!graph) throw new Error('not an ONNX model (no graph found)');
  return { ...graph, nodes: topologicalOrder(graph), irVersion, producer, opset, metadata };
}

/**
 * The graph's nodes with every node after the producers of its inputs, otherwise in file order (a depth-
 * first walk from each node in turn to the producers it still waits for). A cycle, which no valid model
 * has, leaves the nodes on it in file order.
 */
export function topologicalOrder(graph: Pick<OnnxGraph, 'nodes'>): OnnxNode[] {
  const producer = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => o !== '' && producer.set(o, i)));
  const state = new Uint8Array(graph.nodes.length); // 0 new, 1 on the walk, 2 placed
  const order: OnnxNode[] = [];
  for (let start = 0; start < graph.nodes.length; start++) {
    if (state[start] !== 0) continue;
    const stack: [number, number][] = [[start, 0]];
    state[start] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [i, next] = top;
      const inputs = graph.nodes[i]!.inputs;
      if (next < inputs.length) {
        top[1]++;
        const p = producer.get(inputs[next]!);
        if (p !== undefined && state[p] === 0) {
          state[p] = 1;
          stack.push([p, 0]);
        }
        continue;
      }
      stack.pop();
      state[i] = 2;
      order.push(graph.nodes[i]!);
    }
  }
  return order;
}

function readOpsetId(r: ProtoReader): [string, number] {
  let domain = '';
  let version = 0;
  while (r.more()) {
    const [field, wire] = r.key();
    if (field === 1 && wire === WireType.LengthDelimited) domain = r.string();
    else if (field === 2 && wire === WireType.Varint) version = r.int64();
    else r.skip(wire);
  }
  return [domain, version];
}

function readGraph(r: ProtoReader): OnnxGraph {
  const g: OnnxGraph = {
    name: '',
    producer: '',
    irVersion: 0,
    opset: 0,
    nodes: [],
    initializers: new Map(),
    inputs: [],
    outputs: [],
    metadata: {},
  };
  const inputs: ValueInfo[] = [];
  while (r.more()) {
    const [field, wire] = r.key();
    if (wire !== WireType.LengthDelimited) {
      r.skip(wire);
      continue;
    }
    if (field === 1) g.nodes.push(readNode(r.message()));
    else if (field === 2) g.name = r.string();
    else if (field === 5) {
      const t = readTensor(r.message());
      g.initializers.set(t.name, t);
    } else if (field === 11) inputs.push(readValueInfo(r.message()));
    else if (field === 12) g.outputs.push(readValueInfo(r.message()));
    else r.skip(wire);
  }
  g.inputs = inputs.filter((i) => !g.initializers.has(i.name));
  return g;
}

function readNode(r: ProtoReader): OnnxNode {
  const node: OnnxNode = {
    name: '',
    op: '',
    domain: '',
    inputs: [],
    outputs: [],
    attrs: {},
  };
  while (r.more()) {
    const [field, wire] = r.key();
    if (wire !== WireType.LengthDelimited) {
      r.skip(wire);
      continue;
    }
    if (field === 1) node.inputs.push(r.string());
    else if (field === 2) node.outputs.push(r.string());
    else if (field === 3) node.name = r.string();
    else if (field === 4) node.op = r.string();
    else if (field === 7) node.domain = r.string();
    else if (field === 5) {
      const [name, value] = readAttribute(r.message());
      // A crafted name must not reach the object's prototype.
      if (name !== '__proto__') node.attrs[name] = value;
    } else r.skip(wire);
  }
  return node;
}

function readAttribute(r: ProtoReader): [string, AttrValue] {
  let name = '';
  let value: AttrValue = null;
  const ints: number[] = [];
  const floats: number[] = [];
  const strings: string[] = [];
  while (r.more()) {
    const [field, wire] = r.key();
    if (field === 1 && wire === WireType.LengthDelimited) name = r.string();
    else if (field === 2 && wire === WireType.Fixed32) value = r.float();
    else if (field === 3 && wire === WireType.Varint) value = r.int64();
    else if (field === 4 && wire === WireType.LengthDelimited) value = r.string();
    else if (field === 5 && wire === WireType.LengthDelimited) value = readTensor(r.message());
    else if (field === 7) r.floats(wire, floats);
    else if (field === 8) r.int64s(wire, ints);
    else if (field === 9 && wire === WireType.LengthDelimited) strings.push(r.string());
    else r.skip(wire);
  }
  // A repeated attribute may legitimately be empty; the arrays win when anything was read into them.
  if (ints.length > 0) value = ints;
  else if (floats.length > 0) value = floats;
  else if (strings.length > 0) value = strings;
  return [name, value];
}

function readTensor(r: ProtoReader): TensorInfo {
  const t: TensorInfo = { name: '', dims: [], dataType: 0, size: 1 };
  const ints: number[] = [];
  const floats: number[] = [];
  const external: Record<string, string> = {};
  let location = 0;
  let raw: ProtoReader | undefined;
  while (r.more()) {
    const [field, wire] = r.key();
    if (field === 1) r.int64s(wire, t.dims);
    else if (field === 2 && wire === WireType.Varint) t.dataType = r.varint();
    else if (field === 8 && wire === WireType.LengthDelimited) t.name = r.string();
    else if ((field === 5 || field === 7) && ints.length <= MAX_KEPT_INTS) r.int64s(wire, ints);
    else if (field === 4 && floats.length <= MAX_KEPT_FLOATS) r.floats(wire, floats);
    else if (field === 10 && floats.length <= MAX_KEPT_FLOATS) r.doubles(wire, floats);
    else if (field === 9 && wire === WireType.LengthDelimited) raw = r.message();
    else if (field === 13 && wire === WireType.LengthDelimited) {
      const [k, v] = readStringEntry(r.message());
      external[k] = v;
    } else if (field === 14 && wire === WireType.Varint) location = r.varint();
    else r.skip(wire);
  }
  t.size = t.dims.reduce((a, b) => a * b, 1);
  if (location === 1) {
    t.external = {
      location: external.location ?? '',
      offset: Number(external.offset ?? 0),
      length: external.length === undefined ? -1 : Number(external.length),
    };
    return t;
  }
  if (keepsValues(t)) {
    t.ints = raw ? readRawInts(raw, t.dataType, t.size) : ints.slice(0, t.size);
  } else if (FLOAT_TYPES.has(t.dataType) && t.size <= MAX_KEPT_FLOATS) {
    const values = raw ? readRawFloats(raw, t.dataType, t.size) : floats.slice(0, t.size);
    // A weight stripped of its values (a graph-only copy) has none to keep.
    if (values.length === t.size) t.floats = values;
  }
  return t;
}

function readStringEntry(r: ProtoReader): [string, string] {
  let key = '';
  let value = '';
  while (r.more()) {
    const [field, wire] = r.key();
    if (field === 1 && wire === WireType.LengthDelimited) key = r.string();
    else if (field === 2 && wire === WireType.LengthDelimited) value = r.string();
    else r.skip(wire);
  }
  return [key, value];
}

// Little-endian element widths of the integer types kept.
const INT_WIDTH: Record<number, number> = {
  [DataType.INT64]: 8,
  [DataType.INT32]: 4,
  [DataType.INT8]: 1,
  [DataType.UINT8]: 1,
  [DataType.BOOL]: 1,
};

function readRawInts(raw: ProtoReader, dataType: number, size: number): number[] {
  const bytes = raw.bytesLeft();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = INT_WIDTH[dataType] ?? 8;
  if (bytes.byteLength < size * width) throw new Error('integer tensor raw_data is too short');
  const out: number[] = [];
  for (let i = 0; i < size; i++) {
    if (width === 8) out.push(Number(view.getBigInt64(i * 8, true)));
    else if (width === 4) out.push(view.getInt32(i * 4, true));
    else out.push(dataType === DataType.INT8 ? view.getInt8(i) : view.getUint8(i));
  }
  return out;
}

function readRawFloats(raw: ProtoReader, dataType: number, size: number): number[] {
  const bytes = raw.bytesLeft();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = dataType === DataType.DOUBLE ? 8 : dataType === DataType.FLOAT ? 4 : 2;
  if (bytes.byteLength < size * width) return [];
  const out: number[] = [];
  for (let i = 0; i < size; i++) {
    if (width === 8) out.push(view.getFloat64(i * 8, true));
    else if (width === 4) out.push(view.getFloat32(i * 4, true));
    else out.push(dataType === DataType.FLOAT16 ? half(view.getUint16(i * 2, true)) : bfloat(view, i));
  }
  return out;
}

function half(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function bfloat(view: DataView, i: number): number {
  const f = new DataView(new ArrayBuffer(4));
  f.setUint16(0, view.getUint16(i * 2, true), false);
  return f.getFloat32(0, false);
}

function readValueInfo(r: ProtoReader): ValueInfo {
  const v: ValueInfo = { name: '', elemType: 0, shape: null };
  while (r.more()) {
    const [field, wire] = r.key();
    if (field === 1 && wire === WireType.LengthDelimited) v.name = r.string();
    else if (field === 2 && wire === WireType.LengthDelimited) readType(r.message(), v);
    else r.skip(wire);
  }
  return v;
}

function readType(r: ProtoReader, v: ValueInfo): void {
  while (r.more()) {
    const [field, wire] = r.key();
    if (field !== 1 || wire !== WireType.LengthDelimited) {
      r.skip(wire);
      continue;
    }
    // TypeProto.tensor_type: elem_type (1), shape (2).
    const tt = r.message();
    while (tt.more()) {
      const [f, w] = tt.key();
      if (f === 1 && w === WireType.Varint) v.elemType = tt.varint();
      else if (f === 2 && w === WireType.LengthDelimited) v.shape = readShape(tt.message());
      else tt.skip(w);
    }
  }
}

function readShape(r: ProtoReader): Dim[] {
  const dims: Dim[] = [];
  while (r.more()) {
    const [field, wire] = r.key();
    if (field !== 1 || wire !== WireType.LengthDelimited) {
      r.skip(wire);
      continue;
    }
    const d = r.message();
    // A dimension with neither value nor param is unknown; '?' keeps the rank visible.
    let dim: Dim = '?';
    while (d.more()) {
      const [f, w] = d.key();
      if (f === 1 && w === WireType.Varint) dim = d.int64();
      else if (f === 2 && w === WireType.LengthDelimited) dim = d.string();
      else d.skip(w);
    }
    dims.push(dim);
  }
  return dims;
}
