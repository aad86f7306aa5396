// Builds small ONNX graphs for tests with onnx-proto. The builder tracks shapes itself with the
// textbook formulas, so tests can compare our inference (and MAC counts) against an independent source.
import { onnx } from 'onnx-proto';

/** Options of a Conv node built by `GraphBuilder.conv`. */
export interface ConvOptions {
  stride?: number;
  /** Symmetric padding; ignored when `autoPad` is set. */
  pad?: number;
  pads?: number[];
  dilation?: number;
  group?: number;
  autoPad?: 'NOTSET' | 'VALID' | 'SAME_UPPER' | 'SAME_LOWER';
  bias?: boolean;
  name?: string;
}

/** A 4-D tensor the builder knows the shape of. */
export interface Tensor {
  name: string;
  c: number;
  h: number;
  w: number;
}

/** Accumulates nodes and initializers of one graph (NCHW, float32, zero weights). */
export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  /** MACs per image of every Conv/Gemm, computed from the builder's own shape bookkeeping. */
  expectedMacs = 0;
  private count = 0;

  constructor(
    readonly input: Tensor,
    private readonly batch: number | string = 'N',
  ) {}

  /** A fresh tensor name. */
  fresh(prefix: string): string {
    return `${prefix}_${++this.count}`;
  }

  /** Adds a float initializer of zeros and returns its name. */
  weight(name: string, dims: number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    this.initializers.push({ name, dims, dataType: 1, rawData: new Uint8Array(size * 4) });
    return name;
  }

  /** Adds an int64 initializer. */
  int64s(name: string, values: number[]): string {
    const bytes = new Uint8Array(values.length * 8);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    this.initializers.push({ name, dims: [values.length], dataType: 7, rawData: bytes });
    return name;
  }

  /** Adds a node with a single output named after it. */
  node(op: string, name: string, inputs: string[], attrs: onnx.IAttributeProto[] = []): string {
    const out = `${name}:out`;
    this.nodes.push({ opType: op, name, input: inputs, output: [out], attribute: attrs });
    return out;
  }

  conv(x: Tensor, cout: number, k: number, o: ConvOptions = {}): Tensor {
    const name = o.name ?? this.fresh('conv');
    const stride = o.stride ?? 1;
    const group = o.group ?? 1;
    const dilation = o.dilation ?? 1;
    const pads = o.pads ?? new Array(4).fill(o.pad ?? 0);
    const inputs = [x.name, this.weight(`${name}/W`, [cout, x.c / group, k, k])];
    if (o.bias !== false) inputs.push(this.weight(`${name}/B`, [cout]));
    const attrs = [ints('kernel_shape', [k, k]), ints('strides', [stride, stride]), int('group', group)];
    attrs.push(ints('dilations', [dilation, dilation]));
    const span = (k - 1) * dilation + 1;
    let h: number;
    let w: number;
    if (o.autoPad && o.autoPad !== 'NOTSET') {
      attrs.push(str('auto_pad', o.autoPad));
      h = o.autoPad === 'VALID' ? Math.floor((x.h - span) / stride) + 1 : Math.ceil(x.h / stride);
      w = o.autoPad === 'VALID' ? Math.floor((x.w - span) / stride) + 1 : Math.ceil(x.w / stride);
    } else {
      attrs.push(ints('pads', pads));
      h = Math.floor((x.h + pads[0]! + pads[2]! - span) / stride) + 1;
      w = Math.floor((x.w + pads[1]! + pads[3]! - span) / stride) + 1;
    }
    this.expectedMacs += cout * h * w * (x.c / group) * k * k;
    return { name: this.node('Conv', name, inputs, attrs), c: cout, h, w };
  }

  bn(x: Tensor, name = this.fresh('bn')): Tensor {
    const ps = ['scale', 'B', 'mean', 'var'].map((p) => this.weight(`${name}/${p}`, [x.c]));
    return { ...x, name: this.node('BatchNormalization', name, [x.name, ...ps], [float('epsilon', 1e-5)]) };
  }

  relu(x: Tensor, name = this.fresh('relu')): Tensor {
    return { ...x, name: this.node('Relu', name, [x.name]) };
  }

  add(a: Tensor, b: Tensor, name = this.fresh('add')): Tensor {
    return { ...a, name: this.node('Add', name, [a.name, b.name]) };
  }

  /** Zero padding of H and W through a Pad node with an int64 pads initializer (Keras style). */
  pad(x: Tensor, p: number, name = this.fresh('pad')): Tensor {
    const pads = this.int64s(`${name}/pads`, [0, 0, p, p, 0, 0, p, p]);
    const out = this.node('Pad', name, [x.name, pads], [str('mode', 'constant')]);
    return { name: out, c: x.c, h: x.h + 2 * p, w: x.w + 2 * p };
  }

  maxPool(x: Tensor, k: number, stride: number, pad = 0, ceil = false, name = this.fresh('pool')): Tensor {
    const attrs = [
      ints('kernel_shape', [k, k]),
      ints('strides', [stride, stride]),
      ints('pads', [pad, pad, pad, pad]),
    ];
    if (ceil) attrs.push(int('ceil_mode', 1));
    const size = (n: number): number => {
      const r = (n + 2 * pad - k) / stride;
      let o = (ceil ? Math.ceil(r) : Math.floor(r)) + 1;
      if (ceil && (o - 1) * stride >= n + pad) o--;
      return o;
    };
    return { name: this.node('MaxPool', name, [x.name], attrs), c: x.c, h: size(x.h), w: size(x.w) };
  }

  globalAveragePool(x: Tensor, name = this.fresh('gap')): Tensor {
    return { name: this.node('GlobalAveragePool', name, [x.name]), c: x.c, h: 1, w: 1 };
  }

  /** Flatten then Gemm (transB=1), i.e. a classifier head; returns the logits name. */
  fc(x: Tensor, classes: number, name = this.fresh('fc')): string {
    const flat = this.node('Flatten', `${name}/flatten`, [x.name], [int('axis', 1)]);
    const features = x.c * x.h * x.w;
    const w = this.weight(`${name}/W`, [classes, features]);
    const b = this.weight(`${name}/B`, [classes]);
    this.expectedMacs += classes * features;
    return this.node('Gemm', name, [flat, w, b], [int('transB', 1)]);
  }

  /** Declares a graph output; shape left unspecified so onnxruntime reports what it computes. */
  output(name: string): void {
    this.outputs.push({ name, type: { tensorType: { elemType: 1 } } });
  }

  /** Sum of all float initializer elements (weights and BatchNorm statistics; not Pad's int64 pads). */
  weightElements(): number {
    return this.initializers
      .filter((t) => t.dataType === 1)
      .reduce((sum, t) => sum + (t.dims as number[]).reduce((a, b) => a * b, 1), 0);
  }

  /** Elements of BatchNormalization running means and variances (buffers, not parameters). */
  bufferElements(): number {
    return this.initializers
      .filter((t) => /\/(mean|var)$/.test(t.name ?? ''))
      .reduce((sum, t) => sum + (t.dims as number[]).reduce((a, b) => a * b, 1), 0);
  }

  /** Encodes the model (IR 8, opset 17). */
  build(): Uint8Array {
    const dim = (d: number | string): onnx.TensorShapeProto.IDimension =>
      typeof d === 'number' ? { dimValue: d } : { dimParam: d };
    const input: onnx.IValueInfoProto = {
      name: this.input.name,
      type: {
        tensorType: {
          elemType: 1,
          shape: { dim: [this.batch, this.input.c, this.input.h, this.input.w].map(dim) },
        },
      },
    };
    return onnx.ModelProto.encode({
      irVersion: 8,
      producerName: 'test',
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'test',
        node: this.nodes,
        initializer: this.initializers,
        input: [input],
        output: this.outputs,
      },
    }).finish();
  }
}

/** Layout of a synthetic ResNet. */
export interface ResNetSpec {
  kind: 'basic' | 'bottleneck';
  blocks: number[];
  /** Bottleneck widths (or basic block widths) per stage; bottleneck outputs are 4× this. */
  widths: number[];
  stem: number;
  size: number;
  classes: number;
  /** Where a bottleneck's downsampling stride sits: Keras v1 (first 1×1) or torchvision v1.5 (3×3). */
  strideOn?: '1x1' | '3x3';
  /** Keras style stem: explicit Pad nodes before conv1 and the max pool. */
  padNodes?: boolean;
}

/** A ResNet-shaped graph 608 layer rows long (4 stages of 50 bottlenecks, 64×64): the long-table case. */
export const DEEP_RESNET: ResNetSpec = {
  kind: 'bottleneck',
  blocks: [50, 50, 50, 50],
  widths: [4, 4, 4, 4],
  stem: 8,
  size: 64,
  classes: 10,
};

/** Builds a ResNet-style graph with Keras layer names (conv1, bn_conv1, res2a_branch2a, …). */
export function buildResNet(spec: ResNetSpec, batch: number | string = 'N'): GraphBuilder {
  const g = new GraphBuilder({ name: 'input', c: 3, h: spec.size, w: spec.size }, batch);
  let x: Tensor = g.input;
  if (spec.padNodes) x = g.pad(x, 3, 'conv1_pad');
  x = g.conv(x, spec.stem, 7, { stride: 2, pad: spec.padNodes ? 0 : 3, name: 'conv1' });
  x = g.relu(g.bn(x, 'bn_conv1'), 'conv1_relu');
  if (spec.padNodes) x = g.maxPool(g.pad(x, 1, 'pool1_pad'), 3, 2, 0, false, 'pool1');
  else x = g.maxPool(x, 3, 2, 1, false, 'pool1');
  spec.blocks.forEach((n, s) => {
    for (let b = 0; b < n; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      const id = `${s + 2}${String.fromCharCode(97 + b)}`;
      x =
        spec.kind === 'basic'
          ? basicBlock(g, x, spec.widths[s]!, stride, id)
          : bottleneck(g, x, spec, s, stride, id);
    }
  });
  const logits = g.fc(g.globalAveragePool(x, 'avg_pool'), spec.classes, 'fc1000');
  g.output(logits);
  return g;
}

function basicBlock(g: GraphBuilder, x: Tensor, width: number, stride: number, id: string): Tensor {
  let y = g.conv(x, width, 3, { stride, pad: 1, name: `res${id}_branch2a` });
  y = g.relu(g.bn(y, `bn${id}_branch2a`), `res${id}_branch2a_relu`);
  y = g.bn(g.conv(y, width, 3, { pad: 1, name: `res${id}_branch2b` }), `bn${id}_branch2b`);
  const shortcut = stride !== 1 || x.c !== width ? projection(g, x, width, stride, id) : x;
  return g.relu(g.add(y, shortcut, `add_${id}`), `activation_${id}`);
}

function bottleneck(
  g: GraphBuilder,
  x: Tensor,
  spec: ResNetSpec,
  s: number,
  stride: number,
  id: string,
): Tensor {
  const width = spec.widths[s]!;
  const on3 = spec.strideOn === '3x3';
  let y = g.conv(x, width, 1, { stride: on3 ? 1 : stride, name: `res${id}_branch2a` });
  y = g.relu(g.bn(y, `bn${id}_branch2a`), `res${id}_branch2a_relu`);
  y = g.conv(y, width, 3, { stride: on3 ? stride : 1, pad: 1, name: `res${id}_branch2b` });
  y = g.relu(g.bn(y, `bn${id}_branch2b`), `res${id}_branch2b_relu`);
  y = g.bn(g.conv(y, 4 * width, 1, { name: `res${id}_branch2c` }), `bn${id}_branch2c`);
  const shortcut = stride !== 1 || x.c !== 4 * width ? projection(g, x, 4 * width, stride, id) : x;
  return g.relu(g.add(y, shortcut, `add_${id}`), `activation_${id}`);
}

function projection(g: GraphBuilder, x: Tensor, cout: number, stride: number, id: string): Tensor {
  return g.bn(g.conv(x, cout, 1, { stride, name: `res${id}_branch1` }), `bn${id}_branch1`);
}

function ints(name: string, values: number[]): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: values };
}

function int(name: string, i: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}

function float(name: string, f: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f };
}

function str(name: string, s: string): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(s) };
}

/** Attribute constructors, for tests that add nodes by hand. */
export const attr = { ints, int, float, str };
