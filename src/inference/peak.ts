// The profile's reference for a provider and precision: the GFLOP/s of one large convolution, the kind of
// layer that runs close to the hardware's limit, so that each profiled row's rate has a yardstick. It is
// not the limit itself: a layer can beat it (shown as "≥ ref", see referenceShare in ../shared/profile).
import type * as Ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { quantizeQdq } from '../model/quantize/qdq';
import { floatTensor } from '../model/quantize/tensors';
import { REFERENCE_CONV } from '../shared/profile';
import type { Precision } from '../shared/quantization';
import { sessionOptions } from './sessionOptions';

/** The convolution timed, in words, for reports. */
export const PEAK_CONV = REFERENCE_CONV;

const C = 256;
const SIZE = 56;
const K = 3;
const MACS = C * C * K * K * SIZE * SIZE;
const WARM_UP = 2;
// The fastest of several runs: the peak is what the machine can do, not what it did under load.
const RUNS = 10;

/** GFLOP/s of the fastest of a few runs of the convolution (int8: the QDQ form onnxruntime fuses). */
export async function measurePeak(provider: string, precision: Precision, threads: number): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof Ort;
  const session = await ort.InferenceSession.create(
    convModel(precision),
    sessionOptions([provider], threads),
  );
  try {
    const values = Array.from({ length: C * SIZE * SIZE }, (_, i) => Math.abs(Math.sin(i * 0.013)));
    const dims = [1, C, SIZE, SIZE];
    const feeds: Record<string, Ort.Tensor> =
      precision === 'int8'
        ? {
            [INT8_INPUT]: new ort.Tensor(
              'uint8',
              Uint8Array.from(values, (v) => v * 255),
              dims,
            ),
          }
        : { x: new ort.Tensor('float32', Float32Array.from(values), dims) };
    let best = Infinity;
    for (let r = 0; r < WARM_UP + RUNS; r++) {
      const t = performance.now();
      await session.run(feeds);
      if (r >= WARM_UP) best = Math.min(best, performance.now() - t);
    }
    return (2 * MACS) / (best / 1000) / 1e9;
  } finally {
    await session.release();
  }
}

// At int8 the convolution reads and writes uint8 (QuantizeLinear's output, DequantizeLinear's input), as
// between the layers of a quantized model, so that no float conversion is timed with it.
const INT8_INPUT = 'x/q';
const INT8_OUTPUT = 'y/q';

/** x [1, C, 56, 56] → Conv 3×3 (pads 1) → y; at int8, the QDQ form onnxruntime fuses into QLinearConv. */
function convModel(precision: Precision): Uint8Array {
  const weights = Float32Array.from({ length: C * C * K * K }, (_, i) => Math.sin(i * 0.7) * 0.05);
  const model: onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'peak',
      node: [
        {
          opType: 'Conv',
          name: 'conv',
          input: ['x', 'W', 'B'],
          output: ['y'],
          attribute: [{ name: 'pads', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 1, 1, 1] }],
        },
      ],
      initializer: [floatTensor('W', [C, C, K, K], weights), floatTensor('B', [C], new Float32Array(C))],
      input: [tensorInfo('x', FLOAT)],
      output: [tensorInfo('y', FLOAT)],
    },
  };
  if (precision === 'int8') {
    const ranges = new Map<string, [number, number]>([
      ['x', [0, 1]],
      ['y', [-8, 8]],
    ]);
    quantizeQdq(model, ranges, { floatNodes: new Set() });
    const g = model.graph!;
    g.node = g.node!.filter((n) => n.output?.[0] !== INT8_INPUT && n.input?.[0] !== INT8_OUTPUT);
    g.input = [tensorInfo(INT8_INPUT, UINT8)];
    g.output = [tensorInfo(INT8_OUTPUT, UINT8)];
  }
  return onnx.ModelProto.encode(model).finish();
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const UINT8 = onnx.TensorProto.DataType.UINT8;

function tensorInfo(name: string, elemType: number): onnx.IValueInfoProto {
  const dims = [1, C, SIZE, SIZE].map((d) => ({ dimValue: d }));
  return { name, type: { tensorType: { elemType, shape: { dim: dims } } } };
}
