// Which 4-D tensors of a graph are channels-last [N, H, W, C]: Keras/TF exports before their transposes,
// ConvNeXt's blocks between its permutes (LayerNorm and Linear on the last axis). Followed from the image
// input through the graph: a Transpose sets the layout, convolutions and pooling are channels-first, and
// everything else keeps the layout of the tensor it reads.
import type { Layout } from '../imageLayout';
import type { OnnxGraph } from '../onnxGraph';
import type { GraphShapes } from '../shapes';

// Ops whose 4-D output is channels-first whatever they read.
const CHANNELS_FIRST = new Set([
  'Conv',
  'ConvTranspose',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'BatchNormalization',
  'InstanceNormalization',
  'Resize',
  'Upsample',
  'DepthToSpace',
  'SpaceToDepth',
]);

/** The names of the graph's 4-D tensors that are channels-last. */
export function channelsLastTensors(graph: OnnxGraph, shapes: GraphShapes, input: Layout): Set<string> {
  const nhwc = new Set<string>();
  if (input === 'NHWC') for (const i of graph.inputs) if (i.shape?.length === 4) nhwc.add(i.name);
  const rank4 = (t: string): boolean => shapes.shapes.get(t)?.length === 4;
  for (const n of graph.nodes) {
    const out = n.outputs[0];
    if (!out || !rank4(out) || CHANNELS_FIRST.has(n.op)) continue;
    if (n.op === 'Transpose') {
      const perm = Array.isArray(n.attrs.perm) ? (n.attrs.perm as number[]).join(',') : '';
      if (perm === '0,2,3,1') nhwc.add(out);
      else if (perm !== '0,3,1,2' && nhwc.has(n.inputs[0] ?? '')) nhwc.add(out);
      continue;
    }
    const data = n.inputs.find((t) => t !== '' && rank4(t) && !graph.initializers.has(t));
    if (data !== undefined && nhwc.has(data)) nhwc.add(out);
  }
  return nhwc;
}
