// TF.js layers model (Keras topology + weight shards) → ONNX model bytes. The Keras graph is walked from
// each layer's inbound_nodes; tensors become NCHW (Keras is channels_last), kernels HWIO → OIHW.
// Only the layer types and options a plain CNN classifier needs are supported; anything else is an
// error naming the layer, never a silently different model.
import { onnx } from 'onnx-proto';
import { elementCount, formatShape, splitWeights, type WeightsGroup, type WeightTensor } from './weights';

/** One layer of a Keras functional model config, as TF.js serialises it. */
export interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  /** One entry per call of the layer; each lists `[layerName, nodeIndex, tensorIndex, kwargs]` inputs. */
  inbound_nodes: unknown[];
}

/** The parts of a TF.js `model.json` (format "layers-model") that the converter reads. */
export interface TfjsLayersModel {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: {
    keras_version?: string;
    backend?: string;
    model_config: {
      class_name: string;
      config: {
        name: string;
        layers: KerasLayer[];
        input_layers: unknown[];
        output_layers: unknown[];
      };
    };
  };
  weightsManifest: WeightsGroup[];
}

/** Naming and provenance choices for the produced ONNX model. */
export interface ConversionOptions {
  /** Graph input name (default "input"). */
  inputName?: string;
  /** Graph output name (default "logits"). */
  outputName?: string;
  /** Symbolic batch dimension (default "N"). */
  batchDim?: string;
  producerName?: string;
  /** Free text stored as the model's doc_string, e.g. where the weights come from. */
  docString?: string;
}

/** The encoded model and what it contains. */
export interface ConversionResult {
  bytes: Uint8Array;
  /** Node count per op type, in order of first appearance. */
  ops: Record<string, number>;
  /** Number of float parameters (weights, biases, BN statistics); shape/pad constants excluded. */
  params: number;
}

const IR_VERSION = 8;
const OPSET = 17;
const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

/** Converts a TF.js layers model and its shard bytes (per manifest group, in path order) to ONNX. */
export function kerasToOnnx(
  model: TfjsLayersModel,
  shards: readonly Uint8Array[][],
  options: ConversionOptions = {},
): ConversionResult {
  const weights = splitWeights(model.weightsManifest, shards);
  const converter = new Converter(model, weights, {
    inputName: options.inputName ?? 'input',
    outputName: options.outputName ?? 'logits',
    batchDim: options.batchDim ?? 'N',
  });
  const graph = converter.convert();
  const proto: onnx.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: options.producerName ?? 'cnn-lens',
    graph,
  };
  if (options.docString) proto.docString = options.docString;
  return {
    bytes: onnx.ModelProto.encode(proto).finish(),
    ops: converter.ops,
    params: converter.params,
  };
}

interface Names {
  inputName: string;
  outputName: string;
  batchDim: string;
}

/** Per-sample shape of an ONNX tensor (batch dimension left out): [C, H, W] or [features]. */
type Shape = number[];

class Converter {
  readonly ops: Record<string, number> = {};
  params = 0;
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly valueInfo: onnx.IValueInfoProto[] = [];
  /** Keras layer name → ONNX name of its output tensor. */
  private readonly tensorOf = new Map<string, string>();
  private readonly shapeOf = new Map<string, Shape>();
  private readonly usedWeights = new Set<string>();
  private readonly tensorNames = new Set<string>();
  private readonly layers: KerasLayer[];
  private readonly inputLayer: string;
  private readonly outputLayer: string;

  constructor(
    private readonly model: TfjsLayersModel,
    private readonly weights: Map<string, WeightTensor>,
    private readonly names: Names,
  ) {
    const config = model.modelTopology?.model_config?.config;
    if (!config || !Array.isArray(config.layers)) {
      throw new Error('model.json: modelTopology.model_config.config.layers is missing');
    }
    this.layers = config.layers;
    this.inputLayer = singleEndpoint(config.input_layers, 'input_layers');
    this.outputLayer = singleEndpoint(config.output_layers, 'output_layers');
  }

  convert(): onnx.IGraphProto {
    const inputs: onnx.IValueInfoProto[] = [];
    for (const layer of topologicalOrder(this.layers)) {
      const inbound = inboundLayers(layer);
      if (layer.class_name === 'InputLayer') {
        if (layer.name !== this.inputLayer) {
          throw new Error(`layer ${layer.name}: only one input is supported`);
        }
        inputs.push(this.input(layer));
        continue;
      }
      const x = inbound.map((name) => this.tensor(name));
      const out = layer.name === this.outputLayer ? this.names.outputName : layer.name;
      this.layer(layer, x, out);
      this.tensorOf.set(layer.name, out);
    }
    if (!this.tensorOf.has(this.inputLayer)) {
      throw new Error(`model.json: input layer ${this.inputLayer} not found`);
    }
    if (!this.tensorOf.has(this.outputLayer)) {
      throw new Error(`model.json: output layer ${this.outputLayer} not found`);
    }
    this.checkAllWeightsUsed();
    const output = this.names.outputName;
    return {
      name: this.model.modelTopology.model_config.config.name,
      node: this.nodes,
      initializer: this.initializers,
      input: inputs,
      output: [this.valueInfoFor(output, this.shape(output))],
      // Intermediate shapes let viewers show per-layer shapes without running shape inference.
      valueInfo: this.valueInfo.filter((v) => v.name !== output),
    };
  }

  private input(layer: KerasLayer): onnx.IValueInfoProto {
    const shape = numbers(layer, 'batch_input_shape', { nullable: true });
    if (shape.length !== 4 || shape.slice(1).some((d) => d === null)) {
      throw new Error(
        `layer ${layer.name}: expected batch_input_shape [null,H,W,C], got ${JSON.stringify(shape)}`,
      );
    }
    const dtype = layer.config.dtype ?? 'float32';
    if (dtype !== 'float32') {
      throw new Error(`layer ${layer.name}: input dtype ${String(dtype)} is not supported`);
    }
    // Checked above: [null, H, W, C].
    const [, h, w, c] = shape as [null, number, number, number];
    const name = this.names.inputName;
    this.claim(name);
    this.tensorOf.set(layer.name, name);
    this.shapeOf.set(name, [c, h, w]);
    return this.valueInfoFor(name, [c, h, w]);
  }

  private layer(layer: KerasLayer, x: string[], out: string): void {
    switch (layer.class_name) {
      case 'ZeroPadding2D':
        return this.zeroPadding(layer, one(layer, x), out);
      case 'Conv2D':
        return this.conv(layer, one(layer, x), out);
      case 'BatchNormalization':
        return this.batchNorm(layer, one(layer, x), out);
      case 'Activation':
        return this.activationLayer(layer, one(layer, x), out);
      case 'MaxPooling2D':
        return this.maxPool(layer, one(layer, x), out);
      case 'Add':
        return this.add(layer, x, out);
      case 'GlobalAveragePooling2D':
        return this.globalAveragePool(layer, one(layer, x), out);
      case 'Dense':
        return this.dense(layer, one(layer, x), out);
      default:
        throw new Error(`layer ${layer.name}: unsupported layer type ${layer.class_name}`);
    }
  }

  private zeroPadding(layer: KerasLayer, x: string, out: string): void {
    channelsLast(layer);
    const [c, h, w] = this.spatial(layer, x);
    const [[top, bottom], [left, right]] = paddingOf(layer);
    const pads = this.int64Initializer(`${layer.name}/pads`, [0, 0, top, left, 0, 0, bottom, right]);
    this.node('Pad', layer.name, [x, pads], out, [stringAttr('mode', 'constant')]);
    this.define(out, [c, h + top + bottom, w + left + right]);
  }

  private conv(layer: KerasLayer, x: string, out: string): void {
    channelsLast(layer);
    const [c, h, w] = this.spatial(layer, x);
    const filters = integer(layer, 'filters');
    const kernel = pairOf(layer, 'kernel_size');
    const strides = pairOf(layer, 'strides');
    const dilations = pairOf(layer, 'dilation_rate', [1, 1]);
    const groups = layer.config.groups ?? 1;
    if (groups !== 1) {
      throw new Error(`layer ${layer.name}: grouped convolution (groups=${String(groups)}) is not supported`);
    }
    const geometry = windowGeometry(layer, [h, w], kernel, strides, dilations);
    const inputs = [x, this.weight(layer, 'kernel', [kernel[0], kernel[1], c, filters], hwioToOihw)];
    if (layer.config.use_bias !== false) inputs.push(this.weight(layer, 'bias', [filters]));
    const activation = this.fusedActivation(layer);
    const convOut = activation ? `${layer.name}/preactivation` : out;
    this.node('Conv', layer.name, inputs, convOut, [
      intsAttr('dilations', dilations),
      intAttr('group', 1),
      intsAttr('kernel_shape', kernel),
      intsAttr('pads', geometry.pads),
      intsAttr('strides', strides),
    ]);
    this.define(convOut, [filters, ...geometry.out]);
    if (activation) this.applyActivation(layer, activation, convOut, out);
  }

  private batchNorm(layer: KerasLayer, x: string, out: string): void {
    const shape = this.shape(x);
    const axis = layer.config.axis;
    const axisValue = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
    // Keras counts the batch axis; its channel axis must be the last one (channels_last), which is C in NCHW.
    if (axisValue !== shape.length && axisValue !== -1) {
      throw new Error(`layer ${layer.name}: normalising over axis ${JSON.stringify(axis)} is not supported`);
    }
    if (layer.config.center === false || layer.config.scale === false) {
      throw new Error(`layer ${layer.name}: BatchNormalization without center/scale is not supported`);
    }
    const epsilon = layer.config.epsilon;
    if (typeof epsilon !== 'number') throw new Error(`layer ${layer.name}: epsilon is missing`);
    const c = shape[0];
    if (c === undefined) throw new Error(`layer ${layer.name}: normalising a scalar is not supported`);
    const inputs = [
      x,
      ...['gamma', 'beta', 'moving_mean', 'moving_variance'].map((k) => this.weight(layer, k, [c])),
    ];
    this.node('BatchNormalization', layer.name, inputs, out, [floatAttr('epsilon', epsilon)]);
    this.define(out, shape);
  }

  private activationLayer(layer: KerasLayer, x: string, out: string): void {
    const activation = this.fusedActivation(layer);
    if (!activation) {
      throw new Error(`layer ${layer.name}: a linear Activation layer has no ONNX op here; not supported`);
    }
    this.applyActivation(layer, activation, x, out, layer.name);
  }

  private maxPool(layer: KerasLayer, x: string, out: string): void {
    channelsLast(layer);
    const [c, h, w] = this.spatial(layer, x);
    const kernel = pairOf(layer, 'pool_size');
    const strides = pairOf(layer, 'strides', kernel);
    const geometry = windowGeometry(layer, [h, w], kernel, strides, [1, 1]);
    this.node('MaxPool', layer.name, [x], out, [
      intsAttr('kernel_shape', kernel),
      intsAttr('pads', geometry.pads),
      intsAttr('strides', strides),
    ]);
    this.define(out, [c, ...geometry.out]);
  }

  private add(layer: KerasLayer, x: string[], out: string): void {
    const [first, ...rest] = x;
    if (first === undefined || rest.length === 0) {
      throw new Error(`layer ${layer.name}: Add needs at least two inputs`);
    }
    const shape = this.shape(first);
    for (const t of x) {
      if (formatShape(this.shape(t)) !== formatShape(shape)) {
        throw new Error(`layer ${layer.name}: inputs have different shapes (${x.join(', ')})`);
      }
    }
    // ONNX Add is binary: more inputs become a chain whose last link carries the layer's name.
    let acc = first;
    rest.forEach((t, k) => {
      const i = k + 1;
      const last = i === x.length - 1;
      const name = last ? layer.name : `${layer.name}/${i}`;
      const sum = last ? out : `${layer.name}/sum${i}`;
      this.node('Add', name, [acc, t], sum);
      this.define(sum, shape);
      acc = sum;
    });
  }

  private globalAveragePool(layer: KerasLayer, x: string, out: string): void {
    channelsLast(layer);
    if (layer.config.keepdims === true) throw new Error(`layer ${layer.name}: keepdims is not supported`);
    const [c] = this.spatial(layer, x);
    const pooled = `${layer.name}/pooled`;
    this.node('GlobalAveragePool', layer.name, [x], pooled);
    this.define(pooled, [c, 1, 1]);
    // Keras drops the 1×1 spatial axes; so does Flatten, giving [N, C].
    this.node('Flatten', `${layer.name}/flatten`, [pooled], out, [intAttr('axis', 1)]);
    this.define(out, [c]);
  }

  private dense(layer: KerasLayer, x: string, out: string): void {
    const shape = this.shape(x);
    const [width] = shape;
    if (shape.length !== 1 || width === undefined) {
      throw new Error(`layer ${layer.name}: Dense on a ${shape.length + 1}-D input is not supported`);
    }
    const units = integer(layer, 'units');
    // Keras stores [in, units]; Gemm with transB=1 takes the ONNX-conventional [units, in].
    const inputs = [x, this.weight(layer, 'kernel', [width, units], transpose2d)];
    if (layer.config.use_bias !== false) inputs.push(this.weight(layer, 'bias', [units]));
    const activation = this.fusedActivation(layer);
    const gemmOut = activation ? `${layer.name}/preactivation` : out;
    this.node('Gemm', layer.name, inputs, gemmOut, [intAttr('transB', 1)]);
    this.define(gemmOut, [units]);
    if (activation) this.applyActivation(layer, activation, gemmOut, out);
  }

  /** The ONNX op for a layer's `activation`, or undefined for none (linear, or the final softmax). */
  private fusedActivation(layer: KerasLayer): 'Relu' | undefined {
    const activation = layer.config.activation ?? 'linear';
    if (activation === 'linear') return undefined;
    if (activation === 'relu') return 'Relu';
    // The model outputs logits: callers apply softmax themselves (and can show raw scores).
    if (activation === 'softmax' && layer.name === this.outputLayer) return undefined;
    throw new Error(`layer ${layer.name}: activation ${JSON.stringify(activation)} is not supported`);
  }

  private applyActivation(layer: KerasLayer, op: 'Relu', x: string, out: string, nodeName?: string): void {
    this.node(op, nodeName ?? `${layer.name}/${op.toLowerCase()}`, [x], out);
    this.define(out, this.shape(x));
  }

  /** Takes `<layer>/<key>` from the manifest after checking its shape, and adds it as an initializer. */
  private weight(
    layer: KerasLayer,
    key: string,
    expected: number[],
    reorder?: (t: WeightTensor) => { shape: number[]; bytes: Uint8Array },
  ): string {
    const name = `${layer.name}/${key}`;
    const tensor = this.weights.get(name);
    if (!tensor) {
      throw new Error(`layer ${layer.name} needs ${key} ${name} but the manifest has no such tensor`);
    }
    if (formatShape(tensor.shape) !== formatShape(expected)) {
      throw new Error(
        `layer ${layer.name} expects ${key} ${formatShape(expected)} but manifest has ${formatShape(tensor.shape)}`,
      );
    }
    if (this.usedWeights.has(name)) throw new Error(`layer ${layer.name}: weight ${name} is used twice`);
    this.usedWeights.add(name);
    const { shape, bytes } = reorder ? reorder(tensor) : tensor;
    this.claim(name);
    this.initializers.push({ name, dims: shape, dataType: DataType.FLOAT, rawData: bytes });
    this.params += elementCount(shape);
    return name;
  }

  private int64Initializer(name: string, values: number[]): string {
    const bytes = new Uint8Array(values.length * 8);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    this.claim(name);
    this.initializers.push({ name, dims: [values.length], dataType: DataType.INT64, rawData: bytes });
    return name;
  }

  private checkAllWeightsUsed(): void {
    const unused = [...this.weights.keys()].filter((n) => !this.usedWeights.has(n));
    if (unused.length > 0) {
      const list = unused.slice(0, 5).join(', ') + (unused.length > 5 ? ', …' : '');
      const what = unused.length === 1 ? '1 tensor' : `${unused.length} tensors`;
      throw new Error(`weights: ${what} in the manifest not used by any layer: ${list}`);
    }
  }

  private node(
    op: string,
    name: string,
    inputs: string[],
    output: string,
    attribute: onnx.IAttributeProto[] = [],
  ): void {
    this.nodes.push({ opType: op, name, input: inputs, output: [output], attribute });
    this.ops[op] = (this.ops[op] ?? 0) + 1;
  }

  private define(name: string, shape: Shape): void {
    this.claim(name);
    this.shapeOf.set(name, shape);
    this.valueInfo.push(this.valueInfoFor(name, shape));
  }

  /** Tensor names must be unique in an ONNX graph; a clash would silently rewire it. */
  private claim(name: string): void {
    if (this.tensorNames.has(name)) throw new Error(`tensor name ${name} is used twice`);
    this.tensorNames.add(name);
  }

  private valueInfoFor(name: string, shape: Shape): onnx.IValueInfoProto {
    return {
      name,
      type: {
        tensorType: {
          elemType: DataType.FLOAT,
          shape: { dim: [{ dimParam: this.names.batchDim }, ...shape.map((d) => ({ dimValue: d }))] },
        },
      },
    };
  }

  private tensor(layerName: string): string {
    const t = this.tensorOf.get(layerName);
    if (t === undefined) throw new Error(`layer ${layerName} is used before it is defined`);
    return t;
  }

  private shape(tensor: string): Shape {
    const s = this.shapeOf.get(tensor);
    if (!s) throw new Error(`internal: no shape for tensor ${tensor}`);
    return s;
  }

  private spatial(layer: KerasLayer, x: string): [number, number, number] {
    const s = this.shape(x);
    if (!isTriple(s)) {
      throw new Error(`layer ${layer.name}: expects an image tensor, got shape [N,${s.join(',')}]`);
    }
    return s;
  }
}

/** Layers in an order where every layer comes after its inputs; ties keep the config's order. */
function topologicalOrder(layers: readonly KerasLayer[]): KerasLayer[] {
  const known = new Set(layers.map((l) => l.name));
  if (known.size !== layers.length) throw new Error('model.json: two layers share a name');
  for (const layer of layers) {
    for (const dep of inboundLayers(layer)) {
      if (!known.has(dep)) throw new Error(`layer ${layer.name}: input ${dep} is not a layer of the model`);
    }
  }
  const done = new Set<string>();
  const order: KerasLayer[] = [];
  const pending = [...layers];
  while (pending.length > 0) {
    const layer = pending.find((l) => inboundLayers(l).every((d) => done.has(d)));
    if (!layer) throw new Error(`model.json: layers ${pending.map((l) => l.name).join(', ')} form a cycle`);
    pending.splice(pending.indexOf(layer), 1);
    done.add(layer.name);
    order.push(layer);
  }
  return order;
}

/** Names of the layers feeding a layer; shared layers (called more than once) are not supported. */
function inboundLayers(layer: KerasLayer): string[] {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes)) throw new Error(`layer ${layer.name}: inbound_nodes is not a list`);
  if (nodes.length === 0) return [];
  if (nodes.length > 1) {
    throw new Error(`layer ${layer.name}: shared layers (called ${nodes.length} times) are not supported`);
  }
  const refs = nodes[0];
  if (!Array.isArray(refs)) throw new Error(`layer ${layer.name}: inbound node is not a list`);
  return refs.map((ref: unknown) => {
    if (!Array.isArray(ref) || typeof ref[0] !== 'string') {
      throw new Error(`layer ${layer.name}: malformed inbound reference ${JSON.stringify(ref)}`);
    }
    // Every layer is called once and has one output, so only node 0 / tensor 0 can exist.
    if (ref[1] !== 0 || ref[2] !== 0) {
      throw new Error(
        `layer ${layer.name}: input ${ref[0]}[${String(ref[1])}][${String(ref[2])}] is not supported`,
      );
    }
    return ref[0];
  });
}

function singleEndpoint(list: unknown[], what: string): string {
  const entry: unknown = Array.isArray(list) ? list[0] : undefined;
  const name: unknown = Array.isArray(entry) ? entry[0] : undefined;
  if (list.length !== 1 || typeof name !== 'string') {
    throw new Error(`model.json: exactly one entry expected in ${what}, got ${JSON.stringify(list)}`);
  }
  return name;
}

function one(layer: KerasLayer, x: string[]): string {
  const [only] = x;
  if (x.length !== 1 || only === undefined) {
    throw new Error(`layer ${layer.name}: expects one input, got ${x.length}`);
  }
  return only;
}

function channelsLast(layer: KerasLayer): void {
  const format = layer.config.data_format ?? 'channels_last';
  if (format !== 'channels_last') {
    throw new Error(`layer ${layer.name}: data_format ${String(format)} is not supported`);
  }
}

function integer(layer: KerasLayer, key: string): number {
  const v = layer.config[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new Error(`layer ${layer.name}: ${key} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function numbers(layer: KerasLayer, key: string, opts: { nullable: boolean }): (number | null)[] {
  const v = layer.config[key];
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' || (opts.nullable && d === null))) {
    throw new Error(`layer ${layer.name}: ${key} must be a list of numbers, got ${JSON.stringify(v)}`);
  }
  return v as (number | null)[];
}

/** A Keras 2-D size option: an int `k` means `[k, k]`; null/absent takes `fallback`. */
function pairOf(layer: KerasLayer, key: string, fallback?: [number, number]): [number, number] {
  const v = layer.config[key];
  if ((v === undefined || v === null) && fallback) return fallback;
  if (typeof v === 'number') return checkPositive(layer, key, [v, v]);
  const list = numbers(layer, key, { nullable: false });
  if (list.length !== 2) {
    throw new Error(`layer ${layer.name}: ${key} must have two values, got ${JSON.stringify(v)}`);
  }
  return checkPositive(layer, key, [list[0] as number, list[1] as number]);
}

function checkPositive(layer: KerasLayer, key: string, p: [number, number]): [number, number] {
  if (!p.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`layer ${layer.name}: ${key} must be positive integers, got ${JSON.stringify(p)}`);
  }
  return p;
}

/** ZeroPadding2D's `padding` in any of its Keras forms → [[top, bottom], [left, right]]. */
function paddingOf(layer: KerasLayer): [[number, number], [number, number]] {
  const p = layer.config.padding;
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;
  const pair = (v: unknown): [number, number] | undefined => {
    if (ok(v)) return [v, v];
    if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1])) return [v[0], v[1]];
    return undefined;
  };
  // An int pads all sides; [h, w] pads each axis symmetrically; [[top, bottom], [left, right]] as is.
  const rows = ok(p) ? pair(p) : Array.isArray(p) && p.length === 2 ? pair(p[0]) : undefined;
  const cols = ok(p) ? pair(p) : Array.isArray(p) && p.length === 2 ? pair(p[1]) : undefined;
  if (!rows || !cols) throw new Error(`layer ${layer.name}: unsupported padding ${JSON.stringify(p)}`);
  return [rows, cols];
}

/** Output size and explicit ONNX pads [top, left, bottom, right] for a Keras "valid"/"same" window. */
function windowGeometry(
  layer: KerasLayer,
  size: [number, number],
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
): { out: [number, number]; pads: number[] } {
  const padding = layer.config.padding ?? 'valid';
  const begin: number[] = [];
  const end: number[] = [];
  const axis = (n: number, k: number, stride: number, dilation: number): number => {
    const span = (k - 1) * dilation + 1;
    if (padding === 'valid') {
      begin.push(0);
      end.push(0);
      return Math.floor((n - span) / stride) + 1;
    }
    if (padding === 'same') {
      const o = Math.ceil(n / stride);
      const total = Math.max((o - 1) * stride + span - n, 0);
      // TensorFlow puts the odd pixel of "same" padding at the end (bottom/right).
      begin.push(Math.floor(total / 2));
      end.push(total - Math.floor(total / 2));
      return o;
    }
    throw new Error(`layer ${layer.name}: padding ${JSON.stringify(padding)} is not supported`);
  };
  const out: [number, number] = [
    axis(size[0], kernel[0], strides[0], dilations[0]),
    axis(size[1], kernel[1], strides[1], dilations[1]),
  ];
  if (out.some((o) => o < 1)) {
    throw new Error(`layer ${layer.name}: window larger than its ${size.join('×')} input`);
  }
  return { out, pads: [...begin, ...end] };
}

/** Keras conv kernel [H, W, in, out] → ONNX [out, in, H, W]. */
function hwioToOihw(t: WeightTensor): { shape: number[]; bytes: Uint8Array } {
  const [h, w, i, o] = t.shape;
  if (h === undefined || w === undefined || i === undefined || o === undefined || t.shape.length !== 4) {
    throw new Error(`weights: ${t.name} is not a conv kernel [H, W, in, out]: ${formatShape(t.shape)}`);
  }
  return { shape: [o, i, h, w], bytes: permute32(t.bytes, h * w, i, o) };
}

/** Keras dense kernel [in, out] → [out, in]. */
function transpose2d(t: WeightTensor): { shape: number[]; bytes: Uint8Array } {
  const [i, o] = t.shape;
  if (i === undefined || o === undefined || t.shape.length !== 2) {
    throw new Error(`weights: ${t.name} is not a dense kernel [in, out]: ${formatShape(t.shape)}`);
  }
  return { shape: [o, i], bytes: permute32(t.bytes, 1, i, o) };
}

/**
 * [S, I, O] → [O, I, S] over 4-byte elements. Moving whole 32-bit words keeps the little-endian
 * bytes intact whatever the host's byte order, and the copy also makes the words aligned.
 */
function permute32(bytes: Uint8Array, s: number, i: number, o: number): Uint8Array {
  // new Uint8Array(…) copies; Buffer#slice would not (it returns a view of the whole shard buffer).
  const src = new Uint32Array(new Uint8Array(bytes).buffer);
  const dst = new Uint32Array(src.length);
  for (let si = 0; si < s; si++) {
    for (let ii = 0; ii < i; ii++) {
      const from = (si * i + ii) * o;
      // Every index is within the [S, I, O] buffer the loops walk.
      for (let oi = 0; oi < o; oi++) dst[(oi * i + ii) * s + si] = src[from + oi]!;
    }
  }
  return new Uint8Array(dst.buffer);
}

function intAttr(name: string, i: number): onnx.IAttributeProto {
  return { name, type: AttributeType.INT, i };
}

function intsAttr(name: string, ints: number[]): onnx.IAttributeProto {
  return { name, type: AttributeType.INTS, ints };
}

function floatAttr(name: string, f: number): onnx.IAttributeProto {
  return { name, type: AttributeType.FLOAT, f };
}

function stringAttr(name: string, s: string): onnx.IAttributeProto {
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(s) };
}

/** Whether a shape has three dims (C, H, W). */
function isTriple(s: readonly number[]): s is [number, number, number] {
  return s.length === 3;
}
