// Benchmark, not a test (#17): models as other exporters write them.
// 1. The layer table of every exporter fixture (test/fixtures/exporters): parse + analyse, median of runs.
// 2. Classify through the real client on the built ResNet50 as it is (NCHW float32) and rewritten as a
//    Keras export takes its input (channels-last: a Transpose in front) and as an fp16 conversion does
//    (float16 input: a Cast in front): ms per image end to end, one image at a time, rounds interleaved,
//    medians and the ratio to the NCHW float32 model in the same run.
// Usage: npm run bench:exporters -- [--runs N]
import { readdirSync, readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { onnx } from 'onnx-proto';
import { descriptorForModel } from '../src/files/descriptorFile';
import { resolveDescriptor } from '../src/files/modelPaths';
import type * as Ort from 'onnxruntime-node';
import { InferenceClient } from '../src/inference/client';
import { cpuLine, defaultThreads } from '../src/inference/cpus';
import { imageTensor } from '../src/inference/feed';
import { median } from '../src/inference/timing';
import { parseOnnx } from '../src/model/onnxGraph';
import { analyseGraph } from '../src/model/structure/table';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const WORKER = path.join(DIST, 'worker.js');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'exporters');
const OUT = path.join(ROOT, '.bench');
const PHOTO = path.join(ROOT, 'test', 'fixtures', 'images', 'chelsea.png');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
  const runs = Math.max(3, Number(values.runs));
  console.log(`Machine: ${cpuLine()}; default threads ${defaultThreads()}; node ${process.version}\n`);
  tables(runs);
  await classifyLayouts(runs);
}

function tables(runs: number): void {
  console.log('| exporter fixture | layer table (parse + analyse), median ms | family |');
  console.log('| --- | ---: | --- |');
  const medians: [string, number][] = [];
  for (const file of readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.onnx.gz'))
    .sort()) {
    const bytes = gunzipSync(readFileSync(path.join(FIXTURES, file)));
    const ms: number[] = [];
    let family = '';
    for (let i = 0; i <= runs; i++) {
      const t = performance.now();
      family = analyseGraph(parseOnnx(bytes)).table.family;
      if (i > 0) ms.push(performance.now() - t); // the first run warms the code up
    }
    const name = file.replace(/\.onnx\.gz$/, '');
    medians.push([name, median(ms)]);
    console.log(`| ${name} | ${median(ms).toFixed(1)} | ${family} |`);
  }
  const [slowest, worst] = medians.reduce((a, b) => (b[1] > a[1] ? b : a));
  console.log(`\nSlowest: ${slowest} at ${worst.toFixed(1)} ms (target ≤ 1000 ms).\n`);
}

/** The built ResNet50 with its input as another exporter writes it, written to .bench/. */
async function rewritten(modelPath: string, kind: 'nhwc' | 'fp16'): Promise<string> {
  const model = onnx.ModelProto.decode(await fs.readFile(modelPath));
  const graph = model.graph!;
  const input = graph.input!.find((i) => !(graph.initializer ?? []).some((t) => t.name === i.name))!;
  const inner = `${input.name!}_${kind}`;
  for (const n of graph.node!) n.input = n.input!.map((t) => (t === input.name ? inner : t));
  const dims = input.type!.tensorType!.shape!.dim!;
  if (kind === 'nhwc') {
    graph.node!.unshift({
      opType: 'Transpose',
      input: [input.name!],
      output: [inner],
      attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 3, 1, 2] }],
    });
    input.type!.tensorType!.shape!.dim = [dims[0]!, dims[2]!, dims[3]!, dims[1]!];
  } else {
    graph.node!.unshift({
      opType: 'Cast',
      input: [input.name!],
      output: [inner],
      attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
    });
    input.type!.tensorType!.elemType = onnx.TensorProto.DataType.FLOAT16;
  }
  const file = path.join(OUT, `resnet50.${kind}.onnx`);
  await fs.mkdir(OUT, { recursive: true });
  await fs.writeFile(file, onnx.ModelProto.encode(model).finish());
  return file;
}

async function classifyLayouts(runs: number): Promise<void> {
  const base = await resolveDescriptor(DIST, '', 'caffe');
  const variants = {
    'NCHW float32 (as built)': { ...base, sha256: undefined },
    'NHWC float32 (Keras/tf2onnx input)': await descriptorForModel(
      await rewritten(base.modelPath, 'nhwc'),
      'caffe',
      base.labels,
    ),
    'NCHW float16 input (fp16 conversion)': await descriptorForModel(
      await rewritten(base.modelPath, 'fp16'),
      'caffe',
      base.labels,
    ),
  };
  const samples = new Map<string, number[]>(Object.keys(variants).map((k) => [k, []]));
  const rounds = 4;
  for (let r = 0; r < rounds; r++) {
    for (const [name, descriptor] of Object.entries(variants)) {
      // One client at a time: an idle session's threads would slow the measured one.
      const client = new InferenceClient(WORKER, {
        descriptor,
        provider: 'cpu',
        threads: 0,
        batchSize: 1,
        maxPixels: 1e8,
      });
      try {
        await client.classify('warm-up', readFileSync(PHOTO), { topK: 5 });
        for (let i = 0; i < Math.ceil(runs / rounds); i++) {
          const t = performance.now();
          await client.classify('photo', readFileSync(PHOTO), { topK: 5 });
          samples.get(name)!.push(performance.now() - t);
        }
      } finally {
        await client.dispose();
      }
    }
  }
  const reference = median(samples.get('NCHW float32 (as built)')!);
  console.log('| ResNet50 input as written by | classify end to end (decode + run), median ms | ratio |');
  console.log('| --- | ---: | ---: |');
  for (const [name, ms] of samples) {
    console.log(`| ${name} | ${median(ms).toFixed(1)} | ${(median(ms) / reference).toFixed(3)}× |`);
  }
  console.log(
    `\n${[...samples.values()][0]!.length} requests each, in ${rounds} interleaved rounds; target ≤ 1.1×.\n`,
  );
  // What of that is ours: laying out and typing one crop for each input (imageTensor), without a run.
  const ort = (await import('onnxruntime-node')) as typeof Ort;
  const planes = Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i * 0.01) * 50);
  console.log('| input | imageTensor (lay out and type one 224² crop), median ms |');
  console.log('| --- | ---: |');
  for (const [name, descriptor] of Object.entries(variants)) {
    const ms: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      imageTensor(ort, descriptor, planes, 1);
      ms.push(performance.now() - t);
    }
    console.log(`| ${name} | ${median(ms).toFixed(2)} |`);
  }
}

void main();
