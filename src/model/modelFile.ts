// A user's model file as CNN Lens needs it: readable ONNX whose one input is an NCHW float image and whose
// output holds class scores. Each way a file can fail gets its own sentence, because the user has to act
// on it (re-export, fetch the missing .data file, pick another model).
import { normaliseGraph } from './normalise';
import { DataType, ModelFileError, type Dim, type OnnxGraph, type ValueInfo } from './onnxGraph';
import { inferShapes } from './shapes';

/** The image input of a model: its name and the dims of [N, 3, H, W] as declared (numbers or symbols). */
export interface ImageInput {
  name: string;
  batch: Dim;
  height: Dim;
  width: Dim;
}

/** Checks that the graph takes one float32 [N, 3, H, W] image (H = W when both are fixed) and returns it. */
export function imageInput(graph: OnnxGraph, name?: string): ImageInput {
  const inputs = graph.inputs;
  if (inputs.length === 0) throw new ModelFileError('the model has no inputs');
  if (name === undefined && inputs.length > 1) {
    throw new ModelFileError(
      `the model has ${inputs.length} inputs (${inputs.map(describeValue).join(', ')}); ` +
        'CNN Lens feeds one image tensor [N, 3, H, W]',
    );
  }
  const input = name === undefined ? inputs[0]! : inputs.find((i) => i.name === name);
  if (!input) {
    throw new ModelFileError(
      `the model has no input "${name}" (has ${inputs.map((i) => i.name).join(', ')})`,
    );
  }
  const label = `model input "${input.name}"`;
  if (input.elemType !== DataType.FLOAT && input.elemType !== 0) {
    throw new ModelFileError(
      `${label} holds ${typeName(input.elemType)} values; CNN Lens feeds float32 images`,
    );
  }
  // A file that declares no shape cannot be checked here; the session's own check runs later.
  const shape = input.shape ?? ['?', 3, '?', '?'];
  const dims = `[${shape.join(', ')}]`;
  if (shape.length !== 4) {
    throw new ModelFileError(
      `${label} has shape ${dims}: not an image input; CNN Lens feeds images as [N, 3, H, W]`,
    );
  }
  const [batch, channels, height, width] = shape as [Dim, Dim, Dim, Dim];
  if (channels !== 3 && width === 3) {
    throw new ModelFileError(
      `${label} has shape ${dims}: channels-last (NHWC); CNN Lens feeds channels-first [N, 3, H, W] ` +
        '(re-export the model with an NCHW input)',
    );
  }
  if (typeof channels === 'number' && channels !== 3) {
    throw new ModelFileError(
      `${label} has shape ${dims}: ${channels} channel${channels === 1 ? '' : 's'}; ` +
        'CNN Lens feeds 3-channel colour images [N, 3, H, W]',
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
  return { name: input.name, batch, height, width };
}

/** The side of the square input the file fixes, or null when H and W are symbolic. */
export function fixedSize(input: ImageInput): number | null {
  if (typeof input.height === 'number') return input.height;
  return typeof input.width === 'number' ? input.width : null;
}

/**
 * How many classes the output holds ([N, K] or [N, K, 1, 1]): from the declared shape, else from shape
 * inference at the given input size; null when neither says.
 */
export function outputClasses(graph: OnnxGraph, crop: number, name?: string): number | null {
  const output = name === undefined ? graph.outputs[0] : graph.outputs.find((o) => o.name === name);
  if (!output) return null;
  const declared = classesOf(output.shape);
  if (declared !== null) return declared;
  const shapes = inferShapes(normaliseGraph(graph).graph, { batch: 1, spatial: [crop, crop] });
  return classesOf(shapes.shapes.get(output.name) ?? null);
}

function classesOf(shape: Dim[] | null): number | null {
  if (!shape || (shape.length !== 2 && shape.length !== 4)) return null;
  if (shape.length === 4 && (shape[2] !== 1 || shape[3] !== 1)) return null;
  return typeof shape[1] === 'number' ? shape[1] : null;
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
