// ONNX bytes → a small uniform graph model (nodes, initializer dims, graph input/output shapes).
// Weight payloads are skipped, not decoded: a 100 MB model parses in milliseconds and nothing keeps
// the file's bytes alive afterwards. Field numbers follow onnx/onnx.proto (stable since IR v3).
import { promises as fs } from 'node:fs';
import { ProtoReader, WireType } from './protobuf';

/** A tensor dimension: a number, or a symbolic name such as "N" (dim_param). */
export type Dim = number | string;

/** ONNX TensorProto.DataType codes we look at. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;

/** An initializer or constant tensor: its dims, and its values only when it is a small integer tensor. */
export interface TensorInfo {
  name: string;
  dims: number[];
  dataType: number;
  /** Number of elements (product of dims; 1 for a scalar). */
  size: number;
  /** Values of small INT32/INT64 tensors (Pad's pads, Reshape's shape); weights never get these. */
  ints?: number[];
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
  /** Nodes in file order (ONNX requires topological order). */
  nodes: OnnxNode[];
  initializers: Map<string, TensorInfo>;
  /** Graph inputs that are not initializers (old IR versions list weights as inputs too). */
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

// Integer tensors up to this many elements keep their values; weights are far larger.
const MAX_KEPT_INTS = 1024;

/** Reads and parses an ONNX file. */
export async function readOnnxFile(file: string): Promise<OnnxGraph> {
  const bytes = await fs.readFile(file);
  try {
    return parseOnnx(bytes);
  } catch (err) {
    throw new Error(`Cannot parse ONNX model ${file}: ${(err as Error).message}`);
  }
}

/** Parses the bytes of an ONNX ModelProto. */
export function parseOnnx(bytes: Uint8Array): OnnxGraph {
  const r = new ProtoReader(bytes);
  let irVersion = 0;
  let producer = '';
  let opset = 0;
  let graph: OnnxGraph | undefined;
  while (r.more()) {
    const [field, wire] = r.key();
    if (field === 1 && wire === WireType.Varint) irVersion = r.varint();
    else if (field === 2 && wire === WireType.LengthDelimited) producer = r.string();
    else if (field === 7 && wire === WireType.LengthDelimited) graph = readGraph(r.message());
    else if (field === 8 && wire === WireType.LengthDelimited) {
      const [domain, version] = readOpsetId(r.message());
      if (domain === '' || domain === 'ai.onnx') opset = version;
    } else r.skip(wire);
  }
  if (!graph) throw new Error('not an ONNX model (no graph found)');
  return { ...graph, irVersion, producer, opset };
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
  let raw: ProtoReader | undefined;
  while (r.more()) {
    const [field, wire] = r.key();
    if (field === 1) r.int64s(wire, t.dims);
    else if (field === 2 && wire === WireType.Varint) t.dataType = r.varint();
    else if (field === 8 && wire === WireType.LengthDelimited) t.name = r.string();
    else if ((field === 5 || field === 7) && ints.length <= MAX_KEPT_INTS) r.int64s(wire, ints);
    else if (field === 9 && wire === WireType.LengthDelimited) raw = r.message();
    else r.skip(wire);
  }
  t.size = t.dims.reduce((a, b) => a * b, 1);
  const isInt = t.dataType === DataType.INT64 || t.dataType === DataType.INT32;
  if (isInt && t.size <= MAX_KEPT_INTS) {
    t.ints = raw ? readRawInts(raw, t.dataType, t.size) : ints.slice(0, t.size);
  }
  return t;
}

function readRawInts(raw: ProtoReader, dataType: number, size: number): number[] {
  const bytes = raw.bytesLeft();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = dataType === DataType.INT64 ? 8 : 4;
  if (bytes.byteLength < size * width) throw new Error('integer tensor raw_data is too short');
  const out: number[] = [];
  for (let i = 0; i < size; i++) {
    out.push(width === 8 ? Number(view.getBigInt64(i * 8, true)) : view.getInt32(i * 4, true));
  }
  return out;
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
