// The graph-only model fixtures (test/fixtures/models): real torchvision exports with every node,
// attribute and tensor shape as the exporters wrote them, but no float weight values. See the README there.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { onnx } from 'onnx-proto';
import { parseOnnx, type OnnxGraph } from '../../../src/model/onnxGraph';

const DIR = path.resolve(__dirname, '..', '..', 'fixtures', 'models');

/** Numbers computed for each fixture with the `onnx` package's own shape inference (scripts/fixtures). */
export interface FixtureReference {
  /** Float initializers, each once, minus those used as BatchNormalization running mean/var. */
  params: number;
  buffers: number;
  /** Conv/ConvTranspose/Gemm/MatMul multiply-adds per image (0 where onnx could not infer a shape). */
  macs: number;
  macs_unknown: string[];
  ops: Record<string, number>;
  opset: number;
  input: (number | string)[];
  /** Initializers kept in an external data file (dynamo exports). */
  external: number;
}

/** Reference numbers by fixture name (e.g. 'mobilenet_v2.ts'). */
export const REFERENCE = JSON.parse(readFileSync(path.join(DIR, 'reference.json'), 'utf8')) as Record<
  string,
  FixtureReference
>;

/** Fixture names, e.g. 'densenet121.dynamo', 'shufflenet_v2_x1_0.op11'. */
export const FIXTURES = Object.keys(REFERENCE).sort();

/** The ONNX bytes of a fixture. */
export function fixtureBytes(name: string): Uint8Array {
  return gunzipSync(readFileSync(path.join(DIR, `${name}.onnx.gz`)));
}

/** A fixture parsed by our reader. */
export function fixtureGraph(name: string): OnnxGraph {
  return parseOnnx(fixtureBytes(name));
}

/**
 * A copy of a graph-only model that onnxruntime can run: every float initializer gets deterministic small
 * positive values (BatchNormalization variances must not be negative) and external references go.
 */
export function runnable(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  let seed = 12345;
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT) continue;
    const size = (t.dims ?? []).reduce((a: number, b) => a * Number(b), 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      values[i] = 0.001 + (seed / 2 ** 32) * 0.05;
    }
    t.rawData = new Uint8Array(values.buffer);
    t.floatData = [];
    t.externalData = [];
    t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
  }
  return onnx.ModelProto.encode(model).finish();
}
