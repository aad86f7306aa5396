// Benchmark, not a test (#18): detectors.
// 1. Post-processing alone (decode + class-aware NMS + mapping to the image): the model's own raw output on
//    a photo, and a synthetic YOLOv8n-sized output ([1, 84, 8400]: 80 classes, a crowd of overlapping boxes).
// 2. End to end through the real client (decode + letterbox + run + post-processing, one image at a time)
//    against bare onnxruntime in the same process and rounds: the same letterboxed tensor, `session.run` alone.
// Usage: npm run bench:tasks -- [--model detector.onnx] [--runs N]   (default: the 640 test fixture)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type * as Ort from 'onnxruntime-node';
import { descriptorForModel } from '../src/files/descriptorFile';
import { InferenceClient } from '../src/inference/client';
import { cpuLine, defaultThreads } from '../src/inference/cpus';
import { floatData, imageTensor } from '../src/inference/feed';
import { prepareWhole } from '../src/inference/preprocess';
import { decodeDetections, type Frame, type RawOutput } from '../src/inference/taskDecode';
import { median } from '../src/inference/timing';
import { DEFAULT_THRESHOLDS, type Task } from '../src/shared/tasks';

const ROOT = path.resolve(__dirname, '..');
const WORKER = path.join(ROOT, 'dist', 'worker.js');
const OUT = path.join(ROOT, '.bench');
const PHOTO = path.join(ROOT, 'test', 'fixtures', 'images', 'chelsea.png');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'tasks', 'yolov8t-detect-640.onnx.gz');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { model: { type: 'string' }, runs: { type: 'string', default: '30' } },
  });
  const runs = Math.max(5, Number(values.runs));
  const model = values.model ?? unpacked(FIXTURE);
  const threads = defaultThreads();
  console.log(`Machine: ${cpuLine()}; threads ${threads}; node ${process.version}`);
  const descriptor = await descriptorForModel(model, 'torchvision', []);
  const task = descriptor.task;
  if (!task || task.head === 'pixels' || task.head === 'boxes')
    throw new Error(`${model} is not a YOLO detector`);
  console.log(`Model: ${path.basename(model)} (${task.evidence}; ${task.classes} classes)\n`);

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof Ort;
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: threads });
  const bytes = readFileSync(PHOTO);
  const prepared = await prepareWhole(bytes, descriptor.preprocessing, task.fit, task.pad, 1e8);
  const feed = (): Record<string, Ort.Tensor> => ({
    [session.inputNames[0]!]: imageTensor(ort, descriptor, prepared.tensor, 1),
  });
  const out = await session.run(feed());
  const raw: RawOutput[] = task.outputs.map((n) => ({ data: floatData(out[n]!), dims: out[n]!.dims }));
  postProcessing(runs, task, raw, prepared.frame, descriptor.labels);

  const client = new InferenceClient(WORKER, {
    descriptor,
    provider: 'cpu',
    threads,
    batchSize: 1,
    maxPixels: 1e8,
  });
  try {
    await client.analyse('warm-up', readFileSync(PHOTO), DEFAULT_THRESHOLDS);
    const ours: number[] = [];
    const bare: number[] = [];
    const bareWithDecode: number[] = [];
    const rounds = 5;
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < Math.ceil(runs / rounds); i++) {
        const t = performance.now();
        await client.analyse('photo', readFileSync(PHOTO), DEFAULT_THRESHOLDS);
        ours.push(performance.now() - t);
      }
      for (let i = 0; i < Math.ceil(runs / rounds); i++) {
        const t = performance.now();
        const p = await prepareWhole(readFileSync(PHOTO), descriptor.preprocessing, task.fit, task.pad, 1e8);
        const t1 = performance.now();
        await session.run({ [session.inputNames[0]!]: imageTensor(ort, descriptor, p.tensor, 1) });
        const t2 = performance.now();
        bare.push(t2 - t1);
        bareWithDecode.push(t2 - t);
      }
    }
    const [o, b, bd] = [median(ours), median(bare), median(bareWithDecode)];
    console.log(
      '| one photo (451×300) through the detector | median ms | ratio to bare run | ratio to bare decode + run |',
    );
    console.log('| --- | ---: | ---: | ---: |');
    console.log(`| bare \`session.run\` (same tensor) | ${b.toFixed(1)} | 1.00× | |`);
    console.log(
      `| bare decode + letterbox + \`session.run\` | ${bd.toFixed(1)} | ${(bd / b).toFixed(2)}× | 1.00× |`,
    );
    console.log(
      `| CNN Lens \`analyse\` (worker: decode, run, NMS, mapping, message) | ${o.toFixed(1)} | ${(o / b).toFixed(2)}× | ${(o / bd).toFixed(2)}× |`,
    );
    console.log(`\n${ours.length} requests each, in ${rounds} interleaved rounds.`);
  } finally {
    await client.dispose();
    await session.release();
  }
}

/** Median ms of decode + NMS + mapping on the model's own output and on a synthetic 80-class crowd. */
function postProcessing(runs: number, task: Task, raw: RawOutput[], frame: Frame, labels: string[]): void {
  const time = (t: Task, outputs: RawOutput[]): { ms: number; kept: number; candidates: number } => {
    const ms: number[] = [];
    let last = decodeDetections(t, outputs, DEFAULT_THRESHOLDS, frame, labels);
    for (let i = 0; i < runs; i++) {
      const s = performance.now();
      last = decodeDetections(t, outputs, DEFAULT_THRESHOLDS, frame, labels);
      ms.push(performance.now() - s);
    }
    return { ms: median(ms), kept: last.detections.length, candidates: last.candidates };
  };
  const own = time(task, raw);
  const anchors = raw[0]!.dims[2]!;
  const classes = 80;
  const crowd = new Float32Array((4 + classes) * anchors);
  let seed = 1;
  const rnd = (): number => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  for (let a = 0; a < anchors; a++) {
    const centre = Math.floor(rnd() * 40);
    crowd[a] = 50 + (centre % 8) * 70 + rnd() * 30;
    crowd[anchors + a] = 50 + Math.floor(centre / 8) * 110 + rnd() * 30;
    crowd[2 * anchors + a] = 40 + rnd() * 80;
    crowd[3 * anchors + a] = 40 + rnd() * 80;
    for (let c = 0; c < classes; c++) crowd[(4 + c) * anchors + a] = rnd() ** 6;
  }
  const synthetic = time({ ...task, classes, masks: undefined, keypoints: undefined }, [
    { data: crowd, dims: [1, 4 + classes, anchors] },
  ]);
  console.log(
    `| post-processing of ${anchors} anchors | median ms | candidates above 0.25 | detections kept |`,
  );
  console.log('| --- | ---: | ---: | ---: |');
  console.log(
    `| the model's own output on the photo (${task.classes} classes) | ${own.ms.toFixed(2)} | ${own.candidates} | ${own.kept} |`,
  );
  console.log(
    `| synthetic YOLOv8n-sized output, 80 classes, crowded | ${synthetic.ms.toFixed(2)} | ${synthetic.candidates} | ${synthetic.kept} |`,
  );
  console.log(`\nMedians of ${runs} runs after one warm-up; target ≤ 5 ms.\n`);
}

function unpacked(gz: string): string {
  mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, path.basename(gz, '.gz'));
  writeFileSync(file, gunzipSync(readFileSync(gz)));
  return file;
}

void main().catch((err: Error) => {
  console.error(err.message);
  process.exitCode = 1;
});
