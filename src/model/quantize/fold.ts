// Rewrites a float model into the equivalent one a quantizer wants: each BatchNormalization that follows a
// convolution is folded into that convolution's weights and bias, and a zero Pad of height and width before
// a convolution becomes the convolution's own padding.
import type { onnx } from 'onnx-proto';
import { attr, dimsOf, floatAttr, floatTensor, readFloats } from './tensors';

/** What was folded. */
export interface Folded {
  batchNorms: number;
  pads: number;
}

/** Folds BatchNormalization and zero Pad nodes into the convolutions next to them (in place). */
export function foldForQuantization(model: onnx.IModelProto): Folded {
  const g = model.graph!;
  const nodes = g.node!;
  const inits = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
  const readers = (tensor: string): onnx.INodeProto[] => nodes.filter((n) => n.input?.includes(tensor));
  const outputs = new Set((g.output ?? []).map((o) => o.name));
  const removed = new Set<onnx.INodeProto>();
  let batchNorms = 0;
  let pads = 0;

  for (const conv of nodes) {
    if (conv.opType !== 'Conv') continue;
    const out = conv.output![0]!;
    const next = readers(out);
    const bn = next[0];
    if (next.length !== 1 || bn?.opType !== 'BatchNormalization' || outputs.has(out)) continue;
    const [scale, bias, mean, variance] = (bn.input ?? []).slice(1, 5).map((n) => inits.get(n));
    const weight = inits.get(conv.input![1]!);
    if (!scale || !bias || !mean || !variance || !weight) continue;
    const eps = floatAttr(bn, 'epsilon', 1e-5);
    const w = readFloats(weight);
    const cout = dimsOf(weight)[0]!;
    const per = w.length / cout;
    const [g1, b1, m1, v1] = [scale, bias, mean, variance].map(readFloats) as Float32Array[];
    const oldBias = conv.input![2] ? readFloats(inits.get(conv.input![2])!) : new Float32Array(cout);
    const newW = new Float32Array(w.length);
    const newB = new Float32Array(cout);
    for (let c = 0; c < cout; c++) {
      const a = g1![c]! / Math.sqrt(v1![c]! + eps);
      for (let i = 0; i < per; i++) newW[c * per + i] = w[c * per + i]! * a;
      newB[c] = (oldBias[c]! - m1![c]!) * a + b1![c]!;
    }
    const wName = `${conv.name || out}/folded_W`;
    const bName = `${conv.name || out}/folded_B`;
    inits.set(wName, floatTensor(wName, dimsOf(weight), newW));
    inits.set(bName, floatTensor(bName, [cout], newB));
    conv.input = [conv.input![0]!, wName, bName];
    conv.output = [bn.output![0]!];
    removed.add(bn);
    batchNorms++;
  }

  for (const pad of nodes) {
    if (pad.opType !== 'Pad' || removed.has(pad)) continue;
    const next = readers(pad.output![0]!);
    const conv = next[0];
    if (next.length !== 1 || conv?.opType !== 'Conv' || outputs.has(pad.output![0]!)) continue;
    const amounts = padAmounts(pad, inits);
    const mode = attr(pad, 'mode')?.s;
    const constant = !mode || new TextDecoder().decode(mode) === 'constant';
    const value = pad.input?.[2] ? readFloats(inits.get(pad.input[2])!)[0] : 0;
    if (!amounts || amounts.length !== 8 || !constant || value !== 0) continue;
    if (amounts[0] || amounts[1] || amounts[4] || amounts[5]) continue;
    const own = attr(conv, 'pads')?.ints?.map(Number) ?? [0, 0, 0, 0];
    const merged = [
      own[0]! + amounts[2]!,
      own[1]! + amounts[3]!,
      own[2]! + amounts[6]!,
      own[3]! + amounts[7]!,
    ];
    conv.attribute = [
      ...(conv.attribute ?? []).filter((a) => a.name !== 'pads'),
      { name: 'pads', type: 7, ints: merged },
    ];
    conv.input = [pad.input![0]!, ...conv.input!.slice(1)];
    removed.add(pad);
    pads++;
  }

  g.node = nodes.filter((n) => !removed.has(n));
  const used = new Set(g.node.flatMap((n) => n.input ?? []));
  g.initializer = [...inits.values()].filter((t) => used.has(t.name!));
  return { batchNorms, pads };
}

function padAmounts(pad: onnx.INodeProto, inits: Map<string, onnx.ITensorProto>): number[] | undefined {
  const fromAttr = attr(pad, 'pads')?.ints;
  if (fromAttr && fromAttr.length > 0) return fromAttr.map(Number);
  const t = inits.get(pad.input?.[1] ?? '');
  if (!t?.rawData) return undefined;
  const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
  return Array.from({ length: t.rawData.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
}
