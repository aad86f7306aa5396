// What a per-op rule sees of its node: input shapes, folded input values, element types and attributes,
// with readers that throw a message naming the op when something it needs is missing or malformed.
import type { AttrValue, Dim, TensorInfo } from '../onnxGraph';
import type { NodeInfo, Value } from './types';

/** The view of one node that shape rules and folders work from. */
export class OpContext {
  constructor(
    readonly node: NodeInfo['node'],
    readonly opset: number,
    readonly info: NodeInfo,
    /** Folded values of the inputs, where known. */
    readonly values: (Value | undefined)[],
    /** ONNX element types of the inputs (0 when unknown). */
    readonly types: number[],
  ) {}

  get op(): string {
    return this.node.op;
  }

  /** True when input i is given (not omitted with ''). */
  has(i: number): boolean {
    return (this.node.inputs[i] ?? '') !== '';
  }

  /** Shape of input i, which must be given. */
  shape(i: number): Dim[] {
    const s = this.info.inShapes[i];
    if (!this.has(i) || !s) throw new Error(`${this.op} needs input ${i + 1}`);
    return s;
  }

  /** Value of input i when given and folded. */
  value(i: number): Value | undefined {
    return this.has(i) ? this.values[i] : undefined;
  }

  /** Value of input i, which must be a known constant (symbols allowed). */
  needValue(i: number, what: string): Value {
    const v = this.value(i);
    if (!v) {
      const name = this.node.inputs[i] ?? '';
      throw new Error(`${this.op}'s ${what} ('${name}') is not a constant that can be folded`);
    }
    return v;
  }

  /** Value of input i as numbers; throws when it is not a constant or holds symbols. */
  needNumbers(i: number, what: string): number[] {
    const v = this.needValue(i, what);
    if (!v.every((e) => typeof e === 'number')) {
      throw new Error(`${this.op}'s ${what} depends on symbolic dims: [${v.join(', ')}]`);
    }
    return v as number[];
  }

  /** Input i's numbers if given, else the attribute `name` (an input in newer opsets, an attribute before). */
  numbersOrAttr(i: number, name: string): number[] | undefined {
    return this.has(i) ? this.needNumbers(i, name) : this.ints(name);
  }

  attr(name: string): AttrValue | undefined {
    return this.node.attrs[name];
  }

  int(name: string, dflt: number): number {
    const v = this.attr(name);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v))
      throw new Error(`${this.op}: attribute ${name} is not an int`);
    return v;
  }

  float(name: string, dflt: number): number {
    const v = this.attr(name);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number') throw new Error(`${this.op}: attribute ${name} is not a number`);
    return v;
  }

  ints(name: string): number[] | undefined {
    const v = this.attr(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number') return [v];
    if (!Array.isArray(v) || !v.every((e) => typeof e === 'number')) {
      throw new Error(`${this.op}: attribute ${name} is not a list of numbers`);
    }
    return v as number[];
  }

  str(name: string, dflt: string): string {
    const v = this.attr(name);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'string') throw new Error(`${this.op}: attribute ${name} is not a string`);
    return v;
  }

  tensor(name: string): TensorInfo | undefined {
    const v = this.attr(name);
    return isTensor(v) ? v : undefined;
  }
}

/** True for a tensor-valued attribute. */
export function isTensor(v: AttrValue | undefined): v is TensorInfo {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The values a tensor carries (ints or small floats), when it carries all of them. */
export function tensorValues(t: TensorInfo): number[] | undefined {
  const v = t.ints ?? t.floats;
  return v && v.length === t.size ? v : undefined;
}
