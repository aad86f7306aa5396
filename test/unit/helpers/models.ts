// Model files for tests of any-model inference: runnable fixtures written to disk, the same with their
// weights moved to an external data file (as the dynamo exporter writes them), and hand-made graphs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { resolveDescriptor } from '../../../src/files/modelPaths';
import { fixtureBytes, runnable } from './fixtures';
import { GraphBuilder } from './onnxBuilder';
import { DIST } from './paths';
import { valueInfo } from './exporterModel';

/** A fresh temporary folder. */
export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `cnnlens-${prefix}-`));
}

/** Writes `bytes` to `dir/name` and returns the path. */
export function writeModel(dir: string, name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

/** A runnable copy of a fixture (deterministic weights) written as `dir/<fixture>.onnx`. */
export function runnableFixture(dir: string, fixture: string): string {
  return writeModel(dir, `${fixture}.onnx`, runnable(fixtureBytes(fixture)));
}

/**
 * Writes a model with every float initializer of `minBytes` or more moved to `<name>.data` beside it
 * (location/offset/length entries, data_location EXTERNAL, 64-byte aligned offsets as onnx writes them);
 * returns the .onnx path.
 */
export function writeExternal(dir: string, name: string, bytes: Uint8Array, minBytes = 1024): string {
  const model = onnx.ModelProto.decode(bytes);
  const location = `${name}.data`;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of model.graph?.initializer ?? []) {
    const raw = t.rawData;
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT || !raw || raw.length < minBytes) continue;
    const pad = (64 - (offset % 64)) % 64;
    if (pad) chunks.push(new Uint8Array(pad));
    offset += pad;
    t.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    chunks.push(raw);
    offset += raw.length;
    t.rawData = new Uint8Array(0);
  }
  writeFileSync(path.join(dir, location), Buffer.concat(chunks));
  return writeModel(dir, name, onnx.ModelProto.encode(model).finish());
}

/** The built ResNet50's ImageNet labels (descriptors of 1000-class models get these). */
export async function imagenetLabels(): Promise<string[]> {
  return (await resolveDescriptor(DIST, '', 'caffe')).labels;
}

/** A model whose only input is [N, features] (no image): Gemm → output. */
export function vectorModel(features: number, classes: number): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'mlp',
      node: [{ opType: 'Gemm', input: ['x', 'W', 'B'], output: ['y'], attribute: [transB()] }],
      initializer: [floats('W', [classes, features]), floats('B', [classes])],
      input: [valueInfo('x', ['N', features])],
      output: [valueInfo('y', ['N', classes])],
    },
  }).finish();
}

function transB(): onnx.IAttributeProto {
  return { name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 };
}

function floats(name: string, dims: number[]): onnx.ITensorProto {
  const size = dims.reduce((a, b) => a * b, 1);
  return { name, dims, dataType: 1, rawData: new Uint8Array(size * 4) };
}

/**
 * Fills every float initializer with deterministic values in [-0.1, 0.1), BatchNormalization variances
 * in [0.5, 0.6). `runnable`'s all-positive weights make deep nets saturate (every ReLU6 output 6), which
 * would make any map uniform; signed weights keep activations varied.
 */
export function signedWeights(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const variances = new Set(
    (model.graph?.node ?? []).filter((n) => n.opType === 'BatchNormalization').map((n) => n.input?.[4] ?? ''),
  );
  let seed = 4242;
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT) continue;
    const size = (t.dims ?? []).reduce((a: number, b) => a * Number(b), 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const r = seed / 2 ** 32;
      values[i] = variances.has(t.name ?? '') ? 0.5 + r * 0.1 : (r - 0.5) * 0.2;
    }
    t.rawData = new Uint8Array(values.buffer);
    t.floatData = [];
  }
  return onnx.ModelProto.encode(model).finish();
}

/** A signed-weight runnable copy of a fixture written as `dir/<fixture>.onnx`. */
export function signedFixture(dir: string, fixture: string): string {
  return writeModel(dir, `${fixture}.onnx`, signedWeights(runnable(fixtureBytes(fixture))));
}

/**
 * conv → an op our static shape inference does not know but onnxruntime runs (com.microsoft Inverse:
 * no CNN uses it, so the shape rules are unlikely ever to learn it) → conv → pool → fc, over 3×32×32.
 * `expectedMacs` counts both convs and the fc, from the builder's own shape bookkeeping.
 */
export function unknownOpModel(): { bytes: Uint8Array; expectedMacs: number; op: string } {
  const g = new GraphBuilder({ name: 'input', c: 3, h: 32, w: 32 });
  const a = g.conv(g.input, 8, 3, { pad: 1 });
  const op = 'Inverse';
  g.nodes.push({
    opType: op,
    domain: 'com.microsoft',
    name: 'inverse',
    input: [a.name],
    output: ['inverse:out'],
  });
  const b = g.relu(g.conv({ ...a, name: 'inverse:out' }, 16, 3, { stride: 2, pad: 1 }));
  g.output(g.fc(g.globalAveragePool(b), 10));
  const model = onnx.ModelProto.decode(signedWeights(g.build()));
  model.opsetImport!.push({ domain: 'com.microsoft', version: 1 });
  return { bytes: onnx.ModelProto.encode(model).finish(), expectedMacs: g.expectedMacs, op };
}
