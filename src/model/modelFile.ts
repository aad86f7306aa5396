// A user's model file as CNN Lens needs it: readable ONNX whose one input is an image (channels first or
// last, colour or grayscale, float32, float16 or uint8) and whose output holds class scores. Each way a file can fail gets its own sentence, because the user has to act
// on it (re-export, fetch the missing .data file, pick another model).
import { normaliseGraph } from './normalise';
import { axesOf, layoutOf, type InputFormat, type InputType } from './imageLayout';
import { DataType, ModelFileError, type Dim, type OnnxGraph, type ValueInfo } from './onnxGraph';
import type { OutputKind } from '../shared/outputs';
import { inferShapes } from './shapes';

/** The image input of a model: its name, the dims of its batch, height and width as declared (numbers or
 *  symbols), and its layout, channels and element type. */
export interface ImageInput extends InputFormat {
  name: string;
  batch: Dim;
  height: Dim;
  width: Dim;
}

const INPUT_TYPES: Partial<Record<number, InputType>> = {
  0: 'float32', // not declared: the session's own check runs later
  [DataType.FLOAT]: 'float32',
  [DataType.FLOAT16]: 'float16',
  [DataType.UINT8]: 'uint8',
};

/**
 * Checks that the graph takes one image, [N, C, H, W] or channels-last [N, H, W, C] with 1 or 3 channels,
 * as float32, float16 or uint8 (H = W when both are fixed), and returns it.
 */
export function imageInput(graph: OnnxGraph, name?: string): ImageInput {
  const inputs = graph.inputs;
  if (inputs.length === 0) throw new ModelFileError('the model has no inputs');
  if (name === undefined && inputs.length > 1) {
    throw new ModelFileError(
      `the model has ${inputs.length} inputs (${inputs.map(describeValue).join(', ')}); ` +
        'CNN Lens feeds one image tensor [N, C, H, W] or [N, H, W, C]',
    );
  }
  const input = name === undefined ? inputs[0]! : inputs.find((i) => i.name === name);
  if (!input) {
    throw new ModelFileError(
      `the model has no input "${name}" (has ${inputs.map((i) => i.name).join(', ')})`,
    );
  }
  const label = `model input "${input.name}"`;
  const type = INPUT_TYPES[input.elemType];
  if (type === undefined) {
    throw new ModelFileError(
      `${label} holds ${typeName(input.elemType)} values; CNN Lens feeds images as float32, float16 or uint8`,
    );
  }
  // A file that declares no shape cannot be checked here; the session's own check runs later.
  const declared = input.shape ?? ['?', 3, '?', '?'];
  // One image without a batch axis, [C, H, W] (torchvision's detectors), is fed as a batch of one.
  const unbatched = declared.length === 3 && (declared[0] === 1 || declared[0] === 3);
  const shape = unbatched ? [1, ...declared] : declared;
  const dims = `[${declared.join(', ')}]`;
  if (shape.length !== 4) {
    throw new ModelFileError(
      `${label} has shape ${dims}: not an image input; CNN Lens feeds images as [N, C, H, W] or [N, H, W, C]`,
    );
  }
  const layout = layoutOf(shape);
  const axes = axesOf(layout);
  const [batch, channels, height, width] = [shape[0]!, shape[axes.c]!, shape[axes.h]!, shape[axes.w]!];
  if (typeof channels === 'number' && channels !== 1 && channels !== 3) {
    throw new ModelFileError(
      `${label} has shape ${dims}: ${channels} channels; CNN Lens feeds colour (3-channel) or grayscale ` +
        '(1-channel) images, channels first [N, C, H, W] or last [N, H, W, C]',
    );
  }
  if (typeof height === 'number' && typeof width === 'number' && height !== width) {
    throw new ModelFileError(
      `${label} is ${height}×${width} (H×W); CNN Lens feeds square center crops, so H must equal W`,
    );
  }
  if (typeof batch === 'number' && batch !== 1) {
    throw new ModelFileError(
      `${label} has a fixed batch of ${batch}; CNN Lens needs a batch of 1 or a symbolic batch`,
    );
  }
  return {
    name: input.name,
    batch,
    height,
    width,
    layout,
    channels: channels === 1 ? 1 : 3,
    type,
    ...(unbatched && { unbatched: true as const }),
  };
}

/** The side of the square input the file fixes, or null when H and W are symbolic. */
export function fixedSize(input: ImageInput): number | null {
  if (typeof input.height === 'number') return input.height;
  return typeof input.width === 'number' ? input.width : null;
}

/**
 * The output that holds class scores: the descriptor's, else the first output shaped [N, K] or
 * [N, K, 1, 1] at the given input size (a multi-output model names the one chosen in `note`).
 */
export function classOutput(
  graph: OnnxGraph,
  crop: number,
  name?: string,
): { name: string; classes: number | null; note?: string } | null {
  // Outputs that declare no class-score shape are looked up in one shape inference, made when first needed.
  let inferred: Map<string, Dim[] | null> | undefined;
  const classes = (output: ValueInfo): number | null => {
    const declared = classesOf(output.shape);
    if (declared !== null) return declared;
    inferred ??= inferShapes(normaliseGraph(graph).graph, { batch: 1, spatial: [crop, crop] }).shapes;
    return classesOf(inferred.get(output.name) ?? output.shape);
  };
  if (name !== undefined) {
    const output = graph.outputs.find((o) => o.name === name);
    return output ? { name, classes: classes(output) } : null;
  }
  const first = graph.outputs[0];
  if (!first) return null;
  if (graph.outputs.length === 1) return { name: first.name, classes: classes(first) };
  for (const output of graph.outputs) {
    const k = classes(output);
    if (k === null) continue;
    const others = graph.outputs.filter((o) => o !== output).map((o) => `"${o.name}"`);
    const note = `the model has ${graph.outputs.length} outputs; the class scores are "${output.name}" (not ${others.join(', ')})`;
    return { name: output.name, classes: k, note };
  }
  return { name: first.name, classes: null };
}

function classesOf(shape: Dim[] | null): number | null {
  if (!shape || (shape.length !== 2 && shape.length !== 4)) return null;
  if (shape.length === 4 && (shape[2] !== 1 || shape[3] !== 1)) return null;
  return typeof shape[1] === 'number' ? shape[1] : null;
}

// Ops between the image input and its first arithmetic that only lay it out or retype it.
const LAYOUT_OPS = new Set(['Transpose', 'Cast', 'Identity']);
// A factor this small (or divisor this large) scales 0–255 pixels: 1/255, 1/127.5, or 1/(255·std) when
// an exporter fused Keras's Rescaling and Normalization. torchvision's transform_input (GoogLeNet,
// Inception v3) rescales already normalised values by about 0.46 and is left alone.
const PIXEL_SCALE = 0.05;

/**
 * Whether the graph scales 0–255 pixel values itself (Keras's Rescaling layer, in-graph normalisation):
 * the image input's first arithmetic is a Mul by small constants or a Div by large ones.
 */
export function scalesPixels(raw: OnnxGraph, input: string): boolean {
  const graph = normaliseGraph(raw).graph;
  let tensor = input;
  for (let step = 0; step < 8; step++) {
    const readers = graph.nodes.filter((n) => n.inputs.includes(tensor));
    if (readers.length !== 1) return false;
    const node = readers[0]!;
    if (LAYOUT_OPS.has(node.op)) {
      tensor = node.outputs[0] ?? '';
      continue;
    }
    if (node.op !== 'Mul' && node.op !== 'Div') return false;
    const other = node.inputs.find((t) => t !== tensor);
    const values = other === undefined ? undefined : graph.initializers.get(other)?.floats;
    if (!values || values.length === 0) return false;
    if (node.op === 'Mul') return values.every((v) => v > 0 && v <= PIXEL_SCALE);
    return node.inputs[0] === tensor && values.every((v) => v >= 1 / PIXEL_SCALE);
  }
  return false;
}

// Ops after the last scoring op that keep the values as they are (layout and precision only).
const KEEPS_VALUES = new Set(['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Cast', 'Dropout']);
const KIND_OF_OP: Record<string, OutputKind> = {
  Softmax: 'probabilities',
  LogSoftmax: 'log-probabilities',
  Sigmoid: 'sigmoid',
};

/** What the class output holds, from the op that computes it: Softmax, LogSoftmax, Sigmoid, or logits. */
export function outputKindOf(graph: OnnxGraph, output: string): OutputKind {
  const producer = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => o !== '' && producer.set(o, i)));
  let tensor = output;
  for (let p = producer.get(tensor); p !== undefined; p = producer.get(tensor)) {
    const node = graph.nodes[p]!;
    if (node.domain !== '' && node.domain !== 'ai.onnx') break;
    const kind = KIND_OF_OP[node.op];
    if (kind) return kind;
    if (!KEEPS_VALUES.has(node.op)) break;
    tensor = node.inputs[0] ?? '';
  }
  return 'logits';
}

/**
 * Why a model whose output is not [N, classes] cannot be used: what the output looks like, and the model's
 * outputs (`outputs`, in words) when they match no task CNN Lens knows either.
 */
export function notClassScores(
  output: string,
  shape: readonly (number | string)[],
  outputs?: string,
): string {
  const found = `model output "${output}" has shape [${shape.join(', ')}]`;
  const want = 'CNN Lens classifies with outputs [N, classes] or [N, classes, 1, 1]';
  if (outputs === undefined) return `${found}; ${want}`;
  return (
    `${found}; ${want}, detects with YOLO anchors ([1, 4 + classes, anchors] or [1, anchors, 5 + classes]) ` +
    `or boxes, labels and scores, and segments with [N, classes, H, W]; this model's outputs are ${outputs}`
  );
}

function describeValue(v: ValueInfo): string {
  return v.shape ? `${v.name} [${v.shape.join(', ')}]` : v.name;
}

const TYPE_NAMES: Record<number, string> = {
  [DataType.UINT8]: 'uint8',
  [DataType.INT8]: 'int8',
  [DataType.INT32]: 'int32',
  [DataType.INT64]: 'int64',
  [DataType.BOOL]: 'bool',
  [DataType.FLOAT16]: 'float16',
  [DataType.DOUBLE]: 'float64',
  [DataType.BFLOAT16]: 'bfloat16',
};

function typeName(elemType: number): string {
  return TYPE_NAMES[elemType] ?? `type ${elemType}`;
}
