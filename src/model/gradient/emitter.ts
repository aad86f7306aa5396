// Writes the nodes and constants of the backward graph: fresh tensor names that cannot clash with the
// model's, shared constants, and the few idioms every gradient rule needs (masks, broadcast sums, zeros).
import { onnx } from 'onnx-proto';
import type { Dim } from '../onnxGraph';
import { floatTensor, int64Tensor } from '../quantize/tensors';

const AT = onnx.AttributeProto.AttributeType;

/** An INT attribute. */
export const int = (name: string, i: number): onnx.IAttributeProto => ({ name, type: AT.INT, i });
/** An INTS attribute. */
export const ints = (name: string, v: number[]): onnx.IAttributeProto => ({ name, type: AT.INTS, ints: v });
/** A FLOAT attribute. */
export const float = (name: string, f: number): onnx.IAttributeProto => ({ name, type: AT.FLOAT, f });
/** A STRING attribute. */
export const str = (name: string, s: string): onnx.IAttributeProto => ({
  name,
  type: AT.STRING,
  s: new TextEncoder().encode(s),
});

/** Why a node has no gradient here; the planner adds the node's op and name. */
export class NotSupported extends Error {}

/** Accumulates the backward graph's nodes and initializers. */
export class Emitter {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  /** The lowest opset the emitted ops need, and the op that needs it (ScatterElements' reduction). */
  needs: { opset: number; why: string } | null = null;
  private readonly taken: Set<string>;
  private readonly constants = new Map<string, string>();
  private readonly shapes = new Map<string, string>();

  /** `taken`: every name the model already uses. */
  constructor(taken: Iterable<string>) {
    this.taken = new Set(taken);
  }

  /** A tensor name no one uses yet, readable in a profile: grad/<hint>. */
  name(hint: string): string {
    let name = `grad/${hint}`;
    for (let k = 2; this.taken.has(name); k++) name = `grad/${hint}~${k}`;
    this.taken.add(name);
    return name;
  }

  /** Adds a one-output node and returns its output. */
  op(opType: string, inputs: string[], attrs: onnx.IAttributeProto[] = [], hint = opType): string {
    return this.ops(opType, inputs, 1, attrs, hint)[0]!;
  }

  /** Adds a node with `count` outputs. */
  ops(
    opType: string,
    inputs: string[],
    count: number,
    attrs: onnx.IAttributeProto[],
    hint: string,
  ): string[] {
    const output = Array.from({ length: count }, (_, i) => this.name(count === 1 ? hint : `${hint}:${i}`));
    this.nodes.push({ opType, name: output[0], input: inputs, output, attribute: attrs });
    return output;
  }

  /** Records that an emitted op needs at least this opset. */
  require(opset: number, why: string): void {
    if (!this.needs || opset > this.needs.opset) this.needs = { opset, why };
  }

  /** A float32 scalar constant (one initializer per value). */
  scalar(value: number): string {
    return this.constant(`f:${value}`, (name) => floatTensor(name, [], Float32Array.of(value)));
  }

  /** A 1-D int64 constant (one initializer per list). */
  int64s(values: number[]): string {
    return this.constant(`i:${values.join(',')}`, (name) => int64Tensor(name, values));
  }

  /** A float32 constant of any shape. */
  floats(dims: number[], values: Float32Array, hint: string): string {
    const name = this.name(hint);
    this.initializers.push(floatTensor(name, dims, values));
    return name;
  }

  /** Shape(t), computed once per tensor. */
  shapeOf(t: string): string {
    let s = this.shapes.get(t);
    if (!s) this.shapes.set(t, (s = this.op('Shape', [t], [], 'shape')));
    return s;
  }

  /** Zeros shaped like `t` (at run time, so the batch may vary). */
  zerosLike(t: string): string {
    return this.op('ConstantOfShape', [this.shapeOf(t)], [], 'zeros');
  }

  /** `g` where `mask` holds, 0 elsewhere. */
  keep(mask: string, g: string, hint: string): string {
    return this.op('Where', [mask, g, this.scalar(0)], [], hint);
  }

  /**
   * Sums a gradient of shape `out` back to the shape `to` of an input that was broadcast to it: over the
   * leading axes `to` lacks and the axes where `to` has 1 (ONNX multidirectional broadcasting).
   */
  reduceTo(g: string, out: Dim[], to: Dim[]): string {
    const lead = out.length - to.length;
    const axes: number[] = [];
    for (let i = 0; i < out.length; i++) {
      if (i < lead || (to[i - lead] === 1 && out[i] !== 1)) axes.push(i);
    }
    if (axes.length === 0) return g;
    const sum = this.op('ReduceSum', [g, this.int64s(axes)], [int('keepdims', 1)], 'unbroadcast');
    if (lead === 0) return sum;
    const leading = Array.from({ length: lead }, (_, i) => i);
    return this.op('Squeeze', [sum, this.int64s(leading)], [], 'unbroadcast');
  }

  private constant(key: string, make: (name: string) => onnx.ITensorProto): string {
    let name = this.constants.get(key);
    if (!name) {
      name = this.name(`const/${key}`);
      this.initializers.push(make(name));
      this.constants.set(key, name);
    }
    return name;
  }
}
