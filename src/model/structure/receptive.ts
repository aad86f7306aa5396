// Receptive fields: for every tensor, which input pixels its positions see. Along one path a window op
// (kernel k, stride s, dilation d, padding p at the start) maps the field size r, the effective stride j
// (input pixels between two neighbouring positions) and the centre c of position 0 to
//   r' = r + (k − 1)·d·j,   j' = j·s,   c' = c + ((k − 1)·d/2 − p)·j.
// Where branches join, the largest field wins (Inception's 5×5 branch over its 1×1). Global pooling and
// fully connected layers see the whole image.
import type { OnnxGraph } from '../onnxGraph';
import type { GraphShapes } from '../shapes';

/** What one tensor's positions see of the input image, per spatial axis (height, width). */
export interface Field {
  /** Size of the field in input pixels. */
  size: [number, number];
  /** Input pixels between neighbouring positions. */
  stride: [number, number];
  /** Centre of position (0, 0) in input pixel coordinates (pixel i spans [i, i + 1)). */
  center: [number, number];
  /** Set when the tensor has no spatial positions any more: every value sees the whole image. */
  global: boolean;
}

// Ops that keep positions where they are (element-wise, normalisation, channel-wise layout).
const WINDOWED = new Set([
  'Conv',
  'ConvTranspose',
  'MaxPool',
  'AveragePool',
  'LpPool',
  'QLinearConv',
  'ConvInteger',
]);
const GLOBAL = new Set([
  'GlobalAveragePool',
  'GlobalMaxPool',
  'GlobalLpPool',
  'Gemm',
  'Flatten',
  'QLinearGlobalAveragePool',
]);

/** Receptive fields of every activation tensor, from the image input. */
export function receptiveFields(
  graph: OnnxGraph,
  shapes: GraphShapes,
  constLike: ReadonlySet<string>,
): Map<string, Field> {
  const fields = new Map<string, Field>();
  const image = graph.inputs.find((i) => i.shape?.length === 4) ?? graph.inputs[0];
  if (!image) return fields;
  const inShape = shapes.shapes.get(image.name);
  // The last two axes: [N, C, H, W], or [C, H, W] for torchvision's detectors.
  const full: [number, number] = [num(inShape?.at(-2)), num(inShape?.at(-1))];
  fields.set(image.name, { size: [1, 1], stride: [1, 1], center: [0.5, 0.5], global: false });
  const whole: Field = { size: full, stride: full, center: [full[0] / 2, full[1] / 2], global: true };
  graph.nodes.forEach((node, i) => {
    const ins = node.inputs
      .filter((t) => t !== '' && !constLike.has(t) && fields.has(t))
      .map((t) => fields.get(t)!);
    if (ins.length === 0) return;
    const info = shapes.nodes[i]!;
    // The widest input decides, as the field is the union of what every branch sees; a broadcast global
    // input (a squeeze-and-excitation gate) moves no positions.
    const spatial = ins.filter((f) => !f.global);
    const widest = spatial.reduce(
      (a, b) => (b.size[0] * b.size[1] > a.size[0] * a.size[1] ? b : a),
      spatial[0] ?? whole,
    );
    let out: Field = widest;
    // A strided convolution down to 1×1 (SSD's last extra level) keeps its stride; a reduction does not.
    const reduces = !WINDOWED.has(node.op) && globalReduce(info.outShape, info.inShapes[0] ?? null);
    if (widest.global || GLOBAL.has(node.op) || reduces) out = whole;
    else if (WINDOWED.has(node.op) && info.window && info.window.kernel.length === 2) {
      const w = info.window;
      // A transposed convolution spreads each position over s outputs: it divides the step, and its kernel
      // spans (k − 1)·d outputs, (k − 1)·d / s input positions.
      const transposed = node.op === 'ConvTranspose';
      const axis = (a: 0 | 1): [number, number, number] => {
        const k = w.kernel[a]!;
        const d = w.dilations[a]!;
        const s = w.strides[a]!;
        const j = widest.stride[a];
        if (transposed)
          return [
            widest.size[a] + ((k - 1) * d * j) / s,
            j / s,
            widest.center[a] - ((k - 1) * d * 0.5 - w.pads[a]!) * (j / s),
          ];
        return [
          widest.size[a] + (k - 1) * d * j,
          j * s,
          widest.center[a] + ((k - 1) * d * 0.5 - w.pads[a]!) * j,
        ];
      };
      const [h, wi] = [axis(0), axis(1)];
      out = { size: [h[0], wi[0]], stride: [h[1], wi[1]], center: [h[2], wi[2]], global: false };
    } else if (node.op === 'Pad' && info.padAmounts && info.padAmounts.length === 8) {
      // Padding moves position 0 up and left by the padding at the start.
      const p = info.padAmounts;
      out = {
        ...widest,
        center: [widest.center[0] - p[2]! * widest.stride[0], widest.center[1] - p[3]! * widest.stride[1]],
      };
    } else if ((node.op === 'Resize' || node.op === 'Upsample') && info.outShape && info.inShapes[0]) {
      const scale = (a: number): number => num(info.inShapes[0]![a + 2]) / num(info.outShape![a + 2]) || 1;
      out = { ...widest, stride: [widest.stride[0] * scale(0), widest.stride[1] * scale(1)] };
    }
    for (const o of node.outputs) if (o) fields.set(o, out);
  });
  return fields;
}

// A reduction that leaves no spatial extent (ReduceMean over H and W). Dropping the batch axis (torchvision's
// detectors take out their one image) keeps H and W.
function globalReduce(out: (number | string)[] | null, x: (number | string)[] | null): boolean {
  if (!out || !x || x.length !== 4) return false;
  const keepsSpatial = out.length === 3 && out[1] === x[2] && out[2] === x[3];
  return (out.length < 4 && !keepsSpatial) || (out[2] === 1 && out[3] === 1 && x[2] !== 1);
}

function num(d: number | string | undefined): number {
  return typeof d === 'number' ? d : 0;
}
