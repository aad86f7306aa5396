// Which task a model that does not output [N, classes] performs, read from its outputs' shapes and types and
// from the metadata its exporter wrote (ultralytics: task, names, stride, kpt_shape), and where the numbers
// are. Classifiers are found by ./modelFile's classOutput first; this module is asked about the rest.
import type { Task } from '../shared/tasks';
import { normaliseGraph } from './normalise';
import { DataType, type Dim, type OnnxGraph, type ValueInfo } from './onnxGraph';
import { inferShapes } from './shapes';

/** The model's outputs with their shapes, declared or inferred at the given input size. */
function outputShapes(graph: OnnxGraph, size: number): { info: ValueInfo; shape: Dim[] | null }[] {
  let inferred: Map<string, Dim[] | null> | undefined;
  return graph.outputs.map((info) => {
    let shape = info.shape;
    // A symbolic first axis (batch, or the count of boxes) is read as it is; other symbols need inference.
    if (!shape || shape.slice(1).some((d) => typeof d !== 'number')) {
      inferred ??= inferShapes(normaliseGraph(graph).graph, { batch: 1, spatial: [size, size] }).shapes;
      shape = inferred.get(info.name) ?? shape;
    }
    return { info, shape };
  });
}

const num = (d: Dim | undefined): number => (typeof d === 'number' ? d : -1);

/** ultralytics' kpt_shape "[17, 3]". */
function keypointShape(text: string | undefined): [number, number] | undefined {
  const m = /^\s*\[\s*(\d+)\s*,\s*(\d+)\s*\]\s*$/.exec(text ?? '');
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** How many classes the metadata's `names` ({0: 'person', …}) name, if any. */
function namedClasses(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const count = [...text.matchAll(/(\d+)\s*:\s*['"]/g)].length;
  return count > 0 ? count : undefined;
}

/**
 * The strides of a YOLO head's scales, finest first, such that `perCell` anchors per cell of a
 * `size`×`size` input at each scale add up to `anchors`: the largest stride from metadata (ultralytics
 * writes the largest) or 32, halved per finer scale. Undefined when no such set adds up.
 */
export function headStrides(
  anchors: number,
  size: number,
  largest: number,
  perCell: number,
): number[] | undefined {
  for (let scales = 1; scales <= 5; scales++) {
    const strides = Array.from({ length: scales }, (_, i) => largest / 2 ** (scales - 1 - i));
    if (strides.some((s) => !Number.isInteger(s) || size % s !== 0)) break;
    const total = strides.reduce((sum, s) => sum + perCell * (size / s) ** 2, 0);
    if (total === anchors) return strides;
  }
  return undefined;
}

/**
 * The task of a model whose outputs are not class scores, or undefined when its outputs match no task
 * CNN Lens knows. `size` is the input's side, for shapes the file leaves symbolic.
 */
export function taskOf(graph: OnnxGraph, size: number): Task | undefined {
  const meta = graph.metadata;
  const outputs = outputShapes(graph, size);
  const ultralytics = meta.task !== undefined && meta.stride !== undefined;
  const base = {
    fit: ultralytics ? ('letterbox' as const) : ('stretch' as const),
    pad: ultralytics ? 114 : 0,
  };
  const said = ultralytics ? `ultralytics metadata: task=${meta.task}` : undefined;
  const largest = Number(meta.stride) > 0 ? Number(meta.stride) : 32;

  // torchvision's detectors end in NMS: boxes [K, 4], labels [K] (int64), scores [K].
  const boxes = outputs.find((o) => o.shape?.length === 2 && o.shape[1] === 4);
  const labels = outputs.find((o) => o.shape?.length === 1 && isInteger(o.info.elemType));
  const scores = outputs.find(
    (o) => o !== boxes && o.shape?.length === 1 && o.info.elemType === DataType.FLOAT,
  );
  if (boxes && labels && scores) {
    return {
      kind: 'detect',
      head: 'boxes',
      outputs: [boxes.info.name, labels.info.name, scores.info.name],
      classes: namedClasses(meta.names) ?? 0,
      ...base,
      evidence: said ?? 'outputs: boxes [K, 4], labels [K], scores [K] (NMS inside the model)',
    };
  }

  const first = outputs[0];
  const shape = first?.shape;
  if (!first || !shape) return undefined;
  const protos = outputs.find((o, i) => i > 0 && o.shape?.length === 4 && num(o.shape[1]) > 0);
  if (shape.length === 3) {
    const [rows, cols] = [num(shape[1]), num(shape[2])];
    if (rows <= 0 || cols <= 0) return undefined;
    const named = namedClasses(meta.names);
    const kpt = keypointShape(meta.kpt_shape);
    if (cols > rows) {
      // ultralytics: [1, 4 + C + extra, anchors].
      const masks = protos ? num(protos.shape![1]) : undefined;
      const extra = masks ?? (kpt ? kpt[0] * kpt[1] : 0);
      const classes = named ?? rows - 4 - extra;
      // The anchors must be the cells of a stride pyramid over the input, or this is not a YOLO head.
      const strides = headStrides(cols, size, largest, 1);
      if (classes < 1 || 4 + classes + extra !== rows || !strides) return undefined;
      const kind = masks !== undefined ? 'instances' : kpt ? 'pose' : 'detect';
      return {
        kind,
        head: 'anchors-last',
        outputs: protos ? [first.info.name, protos.info.name] : [first.info.name],
        classes,
        ...(masks !== undefined && { masks }),
        ...(kpt && !masks && { keypoints: kpt }),
        strides,
        fit: 'letterbox',
        pad: 114,
        evidence:
          said ??
          `output "${first.info.name}" [${shape.join(', ')}]: box, ${classes} class scores` +
            (masks !== undefined ? ` and ${masks} mask coefficients` : '') +
            ' per anchor (YOLOv8 layout)',
      };
    }
    // YOLOv5: [1, anchors, 5 + C]; with names, 4 + C columns mean a v8 head written anchors-first.
    const objectness = named === undefined || cols - 4 - named === 1;
    const classes = named ?? cols - 5;
    const strides = headStrides(rows, size, largest, 3) ?? headStrides(rows, size, largest, 1);
    if (!objectness || classes < 1 || cols !== 5 + classes || !strides) return undefined;
    return {
      kind: 'detect',
      head: 'anchors-first',
      outputs: [first.info.name],
      classes,
      strides,
      fit: 'letterbox',
      pad: 114,
      evidence:
        said ??
        `output "${first.info.name}" [${shape.join(', ')}]: box, objectness and ${classes} class scores ` +
          'per anchor (YOLOv5 layout)',
    };
  }
  // Class scores per pixel: a map of at least 4×4 (an image laid out channels-last is not one).
  if (shape.length === 4 && num(shape[2]) >= 4 && num(shape[3]) >= 4 && num(shape[1]) >= 1) {
    return {
      kind: 'segment',
      head: 'pixels',
      outputs: [first.info.name],
      classes: num(shape[1]),
      ...base,
      evidence:
        said ?? `output "${first.info.name}" [${shape.join(', ')}]: ${shape[1]} class scores per pixel`,
    };
  }
  return undefined;
}

function isInteger(elemType: number): boolean {
  return elemType === DataType.INT64 || elemType === DataType.INT32;
}

/** The outputs of a model, in words, for the message of a model whose outputs match no task. */
export function describeOutputs(graph: OnnxGraph): string {
  return graph.outputs
    .map((o) => (o.shape ? `"${o.name}" [${o.shape.join(', ')}]` : `"${o.name}"`))
    .join(', ');
}
