// Static int8 quantization in the QDQ format onnxruntime fuses into integer kernels: every activation
// that enters or leaves a quantized op goes through QuantizeLinear → DequantizeLinear (uint8, scale and
// zero point from calibration); convolution weights become int8 with one symmetric scale per output
// channel, biases int32 at the input scale × the weight scale. A ReLU right after a quantized op is
// dropped: quantizing its input with zero point 0 clamps the same negatives away.
import type { onnx } from 'onnx-proto';
import { uint8Params } from './ranges';
import { dimsOf, floatTensor, int32Tensor, int8Tensor, readFloats, uint8Tensor } from './tensors';

/** What to keep in float. */
export interface QuantizeOptions {
  /** Names of nodes left in float (the first convolution and the classifier, for accuracy). */
  floatNodes: ReadonlySet<string>;
}

/** What was quantized. */
export interface Quantized {
  /** Names of the nodes that run quantized. */
  quantized: string[];
  /** Tensors given a QuantizeLinear/DequantizeLinear pair. */
  activations: number;
}

// Ops quantized when not listed as float; they have QDQ fusions in onnxruntime's CPU provider.
const QUANTIZABLE = new Set([
  'Conv',
  'Gemm',
  'MatMul',
  'Add',
  'Concat',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
]);
// Ops whose output takes its input's quantization, so that onnxruntime can drop the pair around them.
const SAME_AS_INPUT = new Set(['MaxPool']);

/** Quantizes a folded float model (in place) with calibrated activation ranges (tensor → [lo, hi]). */
export function quantizeQdq(
  model: onnx.IModelProto,
  ranges: ReadonlyMap<string, [number, number]>,
  opts: QuantizeOptions,
): Quantized {
  const g = model.graph!;
  const inits = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
  const isData = (t: string): boolean => t !== '' && !inits.has(t);
  const graphOutputs = new Set((g.output ?? []).map((o) => o.name!));
  let nodes = g.node!;
  const readers = (t: string): onnx.INodeProto[] => nodes.filter((n) => n.input?.includes(t));
  const quantizable = (n: onnx.INodeProto): boolean =>
    QUANTIZABLE.has(n.opType!) &&
    !opts.floatNodes.has(n.name ?? '') &&
    (n.opType !== 'Gemm' && n.opType !== 'MatMul' ? true : inits.has(n.input?.[1] ?? '')) &&
    n.input!.filter(isData).every((t) => ranges.has(t));

  // Drop the ReLU after a quantized op: the op writes the ReLU's output, whose range starts at 0.
  const dropped = new Set<onnx.INodeProto>();
  for (const n of nodes) {
    if (!quantizable(n) || SAME_AS_INPUT.has(n.opType!)) continue;
    const out = n.output![0]!;
    const next = readers(out);
    const relu = next[0];
    if (next.length !== 1 || relu?.opType !== 'Relu' || graphOutputs.has(out)) continue;
    if (!ranges.has(relu.output![0]!)) continue;
    n.output = [relu.output![0]!];
    dropped.add(relu);
  }
  nodes = nodes.filter((n) => !dropped.has(n));

  const quantized = nodes.filter(quantizable);
  const params = new Map<string, { scale: number; zeroPoint: number }>();
  for (const n of quantized) {
    const ins = n.input!.filter(isData);
    for (const t of [...ins, ...n.output!.filter((o) => o !== '')]) {
      if (params.has(t)) continue;
      const r = ranges.get(t);
      if (r) params.set(t, uint8Params(r[0], r[1]));
    }
    if (SAME_AS_INPUT.has(n.opType!) && params.has(ins[0]!)) params.set(n.output![0]!, params.get(ins[0]!)!);
  }

  const head: onnx.INodeProto[] = [];
  const added: onnx.ITensorProto[] = [];
  const qdq = new Map<string, onnx.INodeProto[]>();
  for (const [t, p] of params) {
    const s = `${t}/scale`;
    const z = `${t}/zero_point`;
    added.push(floatTensor(s, [], Float32Array.of(p.scale)), uint8Tensor(z, [], Uint8Array.of(p.zeroPoint)));
    qdq.set(t, [
      { opType: 'QuantizeLinear', name: `${t}/Q`, input: [t, s, z], output: [`${t}/q`] },
      { opType: 'DequantizeLinear', name: `${t}/DQ`, input: [`${t}/q`, s, z], output: [`${t}/dq`] },
    ]);
  }
  // Every reader of a quantized tensor reads its dequantized copy; graph outputs keep their names.
  for (const n of nodes) {
    n.input = n.input!.map((t) => (qdq.has(t) ? `${t}/dq` : t));
  }
  for (const n of quantized) {
    if (n.opType === 'Conv' || n.opType === 'Gemm' || n.opType === 'MatMul')
      quantizeWeights(n, params, inits, head, added);
  }

  const ordered: onnx.INodeProto[] = [...head];
  for (const i of g.input ?? []) ordered.push(...(qdq.get(i.name!) ?? []));
  for (const n of nodes) {
    ordered.push(n);
    for (const o of n.output ?? []) ordered.push(...(qdq.get(o) ?? []));
  }
  g.node = ordered;
  const used = new Set(ordered.flatMap((n) => n.input ?? []));
  g.initializer = [...inits.values(), ...added].filter((t) => used.has(t.name!));
  return { quantized: quantized.map((n) => n.name ?? n.opType!), activations: params.size };
}

/** int8 weights per output channel (symmetric) and an int32 bias, each read through DequantizeLinear. */
function quantizeWeights(
  n: onnx.INodeProto,
  params: Map<string, { scale: number; zeroPoint: number }>,
  inits: Map<string, onnx.ITensorProto>,
  head: onnx.INodeProto[],
  added: onnx.ITensorProto[],
): void {
  const x = n.input![0]!.replace(/\/dq$/, '');
  const wName = n.input![1]!;
  const weight = inits.get(wName);
  const inScale = params.get(x)?.scale;
  if (!weight || inScale === undefined) return;
  const dims = dimsOf(weight);
  // Conv weights are [Cout, …], Gemm with transB=1 [N, K]; MatMul's [K, N] has its channels last.
  const transB = n.attribute?.find((a) => a.name === 'transB')?.i;
  const channelAxis = n.opType === 'Conv' || (n.opType === 'Gemm' && Number(transB) === 1) ? 0 : 1;
  const w = readFloats(weight);
  const channels = dims[channelAxis]!;
  const stride = channelAxis === 0 ? w.length / channels : 1;
  const step = channelAxis === 0 ? 1 : channels;
  const perChannel = channelAxis === 0 ? stride : w.length / channels;
  const scales = new Float32Array(channels);
  const q = new Int8Array(w.length);
  for (let c = 0; c < channels; c++) {
    let max = 0;
    for (let k = 0; k < perChannel; k++) max = Math.max(max, Math.abs(w[index(c, k)]!));
    const s = max > 0 ? max / 127 : 1;
    scales[c] = s;
    for (let k = 0; k < perChannel; k++) {
      const i = index(c, k);
      q[i] = Math.max(-127, Math.min(127, Math.round(w[i]! / s)));
    }
  }
  function index(c: number, k: number): number {
    return channelAxis === 0 ? c * stride + k : k * step + c;
  }
  const base = n.name || wName;
  added.push(
    int8Tensor(`${base}/W_q`, dims, q),
    floatTensor(`${base}/W_scale`, [channels], scales),
    int8Tensor(`${base}/W_zero_point`, [channels], new Int8Array(channels)),
  );
  head.push({
    opType: 'DequantizeLinear',
    name: `${base}/W_DQ`,
    input: [`${base}/W_q`, `${base}/W_scale`, `${base}/W_zero_point`],
    output: [`${base}/W_dq`],
    attribute: [{ name: 'axis', type: 2, i: channelAxis }],
  });
  n.input![1] = `${base}/W_dq`;
  const biasName = n.opType === 'MatMul' ? undefined : n.input![2];
  const bias = biasName ? inits.get(biasName) : undefined;
  if (!bias || dimsOf(bias).length !== 1 || dimsOf(bias)[0] !== channels) return;
  const b = readFloats(bias);
  const bScale = Float32Array.from(scales, (s) => s * inScale);
  const bq = Int32Array.from(b, (v, c) => Math.round(v / bScale[c]!));
  added.push(
    int32Tensor(`${base}/B_q`, [channels], bq),
    floatTensor(`${base}/B_scale`, [channels], bScale),
    int32Tensor(`${base}/B_zero_point`, [channels], new Int32Array(channels)),
  );
  head.push({
    opType: 'DequantizeLinear',
    name: `${base}/B_DQ`,
    input: [`${base}/B_q`, `${base}/B_scale`, `${base}/B_zero_point`],
    output: [`${base}/B_dq`],
    attribute: [{ name: 'axis', type: 2, i: 0 }],
  });
  n.input![2] = `${base}/B_dq`;
}
