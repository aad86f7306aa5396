// Small hand-built ONNX graphs for op-level shape tests: any op, any opset, int64/float initializers,
// and graph outputs left untyped so onnxruntime reports whatever it computes.
import { onnx } from 'onnx-proto';

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

/** Attribute constructors. */
export const at = {
  int: (name: string, i: number): onnx.IAttributeProto => ({ name, type: A.INT, i }),
  ints: (name: string, ints: number[]): onnx.IAttributeProto => ({ name, type: A.INTS, ints }),
  float: (name: string, f: number): onnx.IAttributeProto => ({ name, type: A.FLOAT, f }),
  floats: (name: string, floats: number[]): onnx.IAttributeProto => ({ name, type: A.FLOATS, floats }),
  str: (name: string, s: string): onnx.IAttributeProto => ({
    name,
    type: A.STRING,
    s: new TextEncoder().encode(s),
  }),
  tensor: (name: string, t: onnx.ITensorProto): onnx.IAttributeProto => ({ name, type: A.TENSOR, t }),
};

/** An int64 tensor proto (for initializers and tensor attributes). */
export function int64Tensor(
  name: string,
  values: number[],
  dims: number[] = [values.length],
): onnx.ITensorProto {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims, dataType: T.INT64, rawData: bytes };
}

/** A float32 tensor proto. */
export function floatTensor(
  name: string,
  values: number[],
  dims: number[] = [values.length],
): onnx.ITensorProto {
  return { name, dims, dataType: T.FLOAT, rawData: new Uint8Array(new Float32Array(values).buffer) };
}

/** ONNX IR version that goes with an opset (onnx/onnx docs/Versioning.md). */
function irFor(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 11) return opset - 5;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

/** A graph under construction at one opset. */
export class OpGraph {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly inputs: onnx.IValueInfoProto[] = [];
  readonly outputs: string[] = [];
  private count = 0;

  constructor(readonly opset: number) {}

  /** A float graph input (dims may be symbolic). */
  input(name: string, dims: (number | string)[], elemType: number = T.FLOAT): string {
    const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
    this.inputs.push({ name, type: { tensorType: { elemType, shape: { dim } } } });
    return name;
  }

  /** An int64 initializer. */
  ints(values: number[], dims: number[] = [values.length]): string {
    const name = `i64_${++this.count}`;
    this.initializers.push(int64Tensor(name, values, dims));
    return name;
  }

  /** A float initializer (values default to a small ramp). */
  floats(dims: number[], values?: number[]): string {
    const name = `f32_${++this.count}`;
    const size = dims.reduce((a, b) => a * b, 1);
    this.initializers.push(
      floatTensor(name, values ?? Array.from({ length: size }, (_, i) => 0.01 * (i % 7)), dims),
    );
    return name;
  }

  /** Adds a node with `outputs` fresh output names, all declared as graph outputs; returns them. */
  node(op: string, inputs: string[], attrs: onnx.IAttributeProto[] = [], outputs = 1, domain = ''): string[] {
    const name = `${op}_${++this.count}`;
    const outs = Array.from({ length: outputs }, (_, k) => `${name}:${k}`);
    this.nodes.push({ opType: op, name, input: inputs, output: outs, attribute: attrs, domain });
    this.outputs.push(...outs);
    return outs;
  }

  /** Like `node`, for the usual single output. */
  op(op: string, inputs: string[], attrs: onnx.IAttributeProto[] = []): string {
    return this.node(op, inputs, attrs)[0]!;
  }

  /** Encodes the model; every node output is a graph output without a declared type. */
  build(): Uint8Array {
    return onnx.ModelProto.encode({
      irVersion: irFor(this.opset),
      producerName: 'opGraphs',
      opsetImport: [{ domain: '', version: this.opset }],
      graph: {
        name: 'ops',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs.map((name) => ({ name })),
      },
    }).finish();
  }
}
