// Reading and writing the tensors of an onnx-proto ModelProto for the quantizer (weights as typed arrays).
import { onnx } from 'onnx-proto';

const T = onnx.TensorProto.DataType;

/** A float32 initializer's values (raw_data or float_data); throws for other types or missing data. */
export function readFloats(t: onnx.ITensorProto): Float32Array {
  if (t.dataType !== T.FLOAT) throw new Error(`tensor ${t.name ?? '?'} is not float32`);
  const size = (t.dims ?? []).reduce((a: number, b) => a * Number(b), 1);
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== size * 4)
      throw new Error(`tensor ${t.name ?? '?'} has ${raw.length} bytes for ${size} floats`);
    const out = new Float32Array(size);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < size; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  if (t.floatData && t.floatData.length === size) return Float32Array.from(t.floatData);
  throw new Error(`tensor ${t.name ?? '?'} has no values (external data is not supported here)`);
}

/** A float32 initializer. */
export function floatTensor(name: string, dims: number[], values: Float32Array): onnx.ITensorProto {
  return { name, dims, dataType: T.FLOAT, rawData: bytesOf(values) };
}

/** An int8 initializer. */
export function int8Tensor(name: string, dims: number[], values: Int8Array): onnx.ITensorProto {
  return { name, dims, dataType: T.INT8, rawData: bytesOf(values) };
}

/** A uint8 initializer. */
export function uint8Tensor(name: string, dims: number[], values: Uint8Array): onnx.ITensorProto {
  return { name, dims, dataType: T.UINT8, rawData: bytesOf(values) };
}

/** An int32 initializer. */
export function int32Tensor(name: string, dims: number[], values: Int32Array): onnx.ITensorProto {
  return { name, dims, dataType: T.INT32, rawData: bytesOf(values) };
}

/** An int64 initializer. */
export function int64Tensor(name: string, values: number[]): onnx.ITensorProto {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims: [values.length], dataType: T.INT64, rawData: bytes };
}

/** The dims of a tensor as numbers. */
export function dimsOf(t: onnx.ITensorProto): number[] {
  return (t.dims ?? []).map(Number);
}

// Little-endian bytes of a typed array (the platforms we run on are little-endian, as ONNX requires).
function bytesOf(a: Float32Array | Int8Array | Uint8Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** An attribute of a node by name. */
export function attr(node: onnx.INodeProto, name: string): onnx.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/** An INTS attribute as numbers. */
export function intsAttr(node: onnx.INodeProto, name: string): number[] | undefined {
  return attr(node, name)?.ints?.map(Number);
}

/** A FLOAT attribute. */
export function floatAttr(node: onnx.INodeProto, name: string, dflt: number): number {
  const a = attr(node, name);
  return a && typeof a.f === 'number' ? a.f : dflt;
}
