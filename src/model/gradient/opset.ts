// Forward nodes copied from a model older than opset 13 are rewritten in the form opset 13 and later
// expect: the attributes that became inputs (Pad, Clip, Slice, Split, Squeeze, Unsqueeze, ReduceSum) become
// constant inputs, and BatchNormalization loses `spatial`. Dropout becomes Identity at every opset (the
// gradient model never trains).
import type { onnx } from 'onnx-proto';
import { attr, floatAttr, intsAttr } from '../quantize/tensors';
import { NotSupported, type Emitter } from './emitter';

/** The lowest opset the gradient model is written in. */
export const MIN_OPSET = 13;

// The opset at which each op's attributes moved to inputs.
const MOVED: Record<string, { since: number; attrs: string[] }> = {
  Pad: { since: 11, attrs: ['pads', 'value'] },
  Clip: { since: 11, attrs: ['min', 'max'] },
  Slice: { since: 10, attrs: ['starts', 'ends', 'axes'] },
  Split: { since: 13, attrs: ['split'] },
  Squeeze: { since: 13, attrs: ['axes'] },
  Unsqueeze: { since: 13, attrs: ['axes'] },
  ReduceSum: { since: 13, attrs: ['axes'] },
};
// Attributes BatchNormalization dropped by opset 9 (`spatial` = 1 is the only behaviour left).
const OLD_BATCH_NORM = ['spatial', 'is_test', 'consumed_inputs'];

/** A forward node as the gradient model writes it; `opset` is the model's own. */
export function upgradeNode(node: onnx.INodeProto, opset: number, e: Emitter): onnx.INodeProto {
  const op = node.opType ?? '';
  if (node.domain && node.domain !== 'ai.onnx') return node;
  if (op === 'Dropout')
    return { name: node.name, opType: 'Identity', input: [node.input![0]!], output: [node.output![0]!] };
  if (op === 'BatchNormalization' && opset < 9) {
    const spatial = attr(node, 'spatial');
    if (spatial && Number(spatial.i) === 0)
      throw new NotSupported('it normalises per activation (spatial=0)');
    return { ...node, attribute: node.attribute?.filter((a) => !OLD_BATCH_NORM.includes(a.name ?? '')) };
  }
  const moved = Object.hasOwn(MOVED, op) ? MOVED[op] : undefined;
  if (!moved || opset >= moved.since) return node;
  const inputs = [...(node.input ?? [])];
  const rest = node.attribute?.filter((a) => !moved.attrs.includes(a.name ?? '')) ?? [];
  const ints = (name: string): string => {
    const v = intsAttr(node, name);
    return v ? e.int64s(v) : '';
  };
  const scalar = (name: string, dflt?: number): string =>
    attr(node, name) || dflt !== undefined ? e.scalar(floatAttr(node, name, dflt ?? 0)) : '';
  switch (op) {
    case 'Pad':
      inputs.push(ints('pads'), scalar('value', 0));
      break;
    case 'Clip':
      inputs.push(scalar('min'), scalar('max'));
      break;
    case 'Slice':
      inputs.push(ints('starts'), ints('ends'), ints('axes'));
      break;
    default:
      inputs.push(ints(moved.attrs[0]!));
  }
  while (inputs.at(-1) === '') inputs.pop();
  return { ...node, input: inputs, attribute: rest };
}
