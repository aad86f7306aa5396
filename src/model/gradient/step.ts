// One backward step: what a gradient rule sees of its forward node, and the rule's type.
import type { onnx } from 'onnx-proto';
import type { Dim, OnnxNode } from '../onnxGraph';
import type { NodeInfo, Value } from '../shapes';
import { NotSupported, type Emitter } from './emitter';

/** A forward node as its gradient rule sees it. */
export class Step {
  constructor(
    /** The node as parsed: original tensor names, typed attributes. */
    readonly node: OnnxNode,
    readonly info: NodeInfo,
    /** The node's copy in the gradient model (renamed tensors, the target opset's form). */
    readonly copy: onnx.INodeProto,
    /** The gradient of each output, where the logits depend on it. */
    readonly gy: (string | undefined)[],
    private readonly path: ReadonlySet<string>,
    private readonly folded: ReadonlyMap<string, Value>,
    /** The model's own opset: which attributes it writes as inputs. */
    readonly opset: number,
    readonly e: Emitter,
  ) {}

  /** The gradient model's name of input i. */
  x(i: number): string {
    return this.copy.input?.[i] ?? '';
  }

  /** The gradient model's name of output i. */
  y(i: number): string {
    return this.copy.output?.[i] ?? '';
  }

  /** The gradient of output 0 (a rule runs only when one output has a gradient). */
  get g(): string {
    const g = this.gy[0];
    if (g === undefined) throw new NotSupported('only its first output can carry a gradient here');
    return g;
  }

  /** Whether input i is computed from A. */
  onPath(i: number): boolean {
    return this.path.has(this.node.inputs[i] ?? '');
  }

  /** Throws unless only the inputs listed may be computed from A. */
  only(allowed: number[], what: string): void {
    this.node.inputs.forEach((_, i) => {
      if (!allowed.includes(i) && this.onPath(i)) throw new NotSupported(`its ${what} is computed from A`);
    });
  }

  /** The shape of input i; throws when a dimension is unknown. */
  inShape(i: number): Dim[] {
    return known(this.info.inShapes[i], this.node.inputs[i] ?? '');
  }

  /** The shape of output i; throws when a dimension is unknown. */
  outShape(i: number): Dim[] {
    return known(this.info.outShapes[i], this.node.outputs[i] ?? '');
  }

  /** Input i's spatial dims (after N and C) as numbers. */
  inSpatial(i: number): number[] {
    return this.inShape(i)
      .slice(2)
      .map((d) => numeric(d, this.node.inputs[i] ?? ''));
  }

  /** Output i's spatial dims as numbers. */
  outSpatial(i: number): number[] {
    return this.outShape(i)
      .slice(2)
      .map((d) => numeric(d, this.node.outputs[i] ?? ''));
  }

  /** The folded values of input i (a Slice's starts, a Reshape's shape), when known. */
  value(i: number): number[] | undefined {
    const v = this.folded.get(this.node.inputs[i] ?? '');
    return v?.every((x) => typeof x === 'number') ? (v as number[]) : undefined;
  }

  /** An attribute, or `dflt` when the node has none. */
  attr(name: string, dflt: number): number;
  attr(name: string, dflt: string): string;
  attr(name: string, dflt: number[]): number[];
  attr(name: string, dflt: number | string | number[]): number | string | number[] {
    const v = this.node.attrs[name];
    return typeof v === typeof dflt && Array.isArray(v) === Array.isArray(dflt) ? (v as typeof dflt) : dflt;
  }

  /** An INTS attribute, when the node has it. */
  ints(name: string): number[] | undefined {
    const v = this.node.attrs[name];
    return Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;
  }
}

/** A backward rule: the gradient of each input (undefined where none flows) from the outputs' gradients. */
export type Rule = (s: Step) => (string | undefined)[];

function known(shape: Dim[] | null | undefined, tensor: string): Dim[] {
  if (!shape || shape.includes('?')) throw new NotSupported(`the shape of ${tensor} is not known`);
  return shape;
}

/** A dimension that must be a number (channels, spatial sizes). */
export function numeric(d: Dim, tensor: string): number {
  if (typeof d !== 'number') throw new NotSupported(`${tensor} has a symbolic size ${d}`);
  return d;
}
