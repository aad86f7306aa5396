// A tiny runnable classifier written as other exporters write theirs (Keras through tf2onnx, ultralytics,
// fp16 converters). Self-contained (onnx-proto only), so that the in-host tests can bundle it too.
import { onnx } from 'onnx-proto';

/** A float tensor value_info with the given dims (numbers or symbols). */
export function valueInfo(name: string, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: 1,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** How `exporterModel` writes its tiny classifier, as other exporters would. */
export interface ExporterModelOptions {
  layout?: 'NCHW' | 'NHWC';
  channels?: 1 | 3;
  type?: 'float32' | 'float16' | 'uint8';
  /** The op the graph ends in after the classifier's bias; 'none' for logits. */
  ending?: 'none' | 'Softmax' | 'LogSoftmax' | 'Sigmoid';
  /** The class whose bias is large (a "peaked" model). */
  peak?: number;
  /** Starts with a Mul by 1/255, as Keras's Rescaling layer does. */
  rescaling?: boolean;
  /** Writes the nodes in reverse order (as fp16 converters can leave them). */
  reversed?: boolean;
  size?: number;
}

/** Classes of `exporterModel`'s output. */
export const EXPORTER_CLASSES = 5;

/**
 * A runnable tiny classifier written as Keras through tf2onnx, ultralytics or an fp16 converter write
 * theirs: the input as the options lay it out and type it (cast to float, transposed to NCHW inside),
 * conv 3×3 → ReLU → global average pool → MatMul + Add (bias peaked on one class) → the ending op; an
 * fp16 model casts its scores back to fp16. Deterministic signed weights.
 */
export function exporterModel(o: ExporterModelOptions = {}): Uint8Array {
  const layout = o.layout ?? 'NCHW';
  const c = o.channels ?? 3;
  const size = o.size ?? 32;
  const type = o.type ?? 'float32';
  const elem = { float32: 1, float16: 10, uint8: 2 }[type];
  const k = EXPORTER_CLASSES;
  const nodes: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [];
  let seed = 777;
  const values = (n: number): Float32Array =>
    Float32Array.from({ length: n }, () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed / 2 ** 32 - 0.5) * 0.2;
    });
  const init = (name: string, dims: number[], v: Float32Array): string => {
    inits.push({ name, dims, dataType: 1, rawData: new Uint8Array(v.buffer) });
    return name;
  };
  let x = 'image';
  const step = (op: string, inputs: string[], attribute: onnx.IAttributeProto[] = []): void => {
    const out = `${op.toLowerCase()}_${nodes.length}`;
    nodes.push({ opType: op, name: out, input: inputs, output: [out], attribute });
    x = out;
  };
  if (type !== 'float32') step('Cast', [x], [{ name: 'to', type: 2, i: 1 }]);
  if (o.rescaling) step('Mul', [x, init('rescale', [], Float32Array.of(1 / 255))]);
  if (layout === 'NHWC') step('Transpose', [x], [{ name: 'perm', type: 7, ints: [0, 3, 1, 2] }]);
  step(
    'Conv',
    [x, init('conv/W', [4, c, 3, 3], values(4 * c * 9)), init('conv/B', [4], values(4))],
    [
      { name: 'kernel_shape', type: 7, ints: [3, 3] },
      { name: 'pads', type: 7, ints: [1, 1, 1, 1] },
      { name: 'strides', type: 7, ints: [2, 2] },
    ],
  );
  step('Relu', [x]);
  step('GlobalAveragePool', [x]);
  step('Flatten', [x]);
  step('MatMul', [x, init('fc/W', [4, k], values(4 * k))]);
  const bias = new Float32Array(k);
  if (o.peak !== undefined) bias[o.peak] = 4;
  step('Add', [x, init('fc/B', [k], bias)]);
  if (o.ending === 'Sigmoid') step('Sigmoid', [x]);
  else if (o.ending && o.ending !== 'none') step(o.ending, [x], [{ name: 'axis', type: 2, i: -1 }]);
  if (type === 'float16') step('Cast', [x], [{ name: 'to', type: 2, i: 10 }]);
  nodes[nodes.length - 1]!.output = ['scores'];
  const dims = layout === 'NCHW' ? ['N', c, size, size] : ['N', size, size, c];
  const input = valueInfo('image', dims);
  input.type!.tensorType!.elemType = elem;
  const output = valueInfo('scores', ['N', k]);
  output.type!.tensorType!.elemType = type === 'float16' ? 10 : 1;
  const graph: onnx.IGraphProto = {
    name: 'exporter',
    node: o.reversed ? [...nodes].reverse() : nodes,
    initializer: inits,
    input: [input],
    output: [output],
  };
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph,
  }).finish();
}
