// Benchmark, not a test (#21): folder classification side by side with what a user would write instead.
// On the same 24 one-megapixel JPEGs (made once into .bench/peer/ from the test photos), in interleaved rounds:
// - CNN Lens (the client as the panel and the CLI use it: decode in the worker, batches), file → top-5,
//   ms per image over the folder: with its defaults (every CPU, DEFAULT_BATCH), with one thread, at int8,
//   and at the other batches of 1, 2, 4, 8 and 16 (the measurement the default batch comes from);
// - the Python peer (scripts/peer/peer.py: PIL + onnxruntime, batch 8, every CPU), file → top-1;
// - bare onnxruntime in this process at batch 8 (fp32 and int8) and 1 on crops decoded beforehand (run only);
// - one image, the right-click case: CNN Lens end to end (warm) against bare prepareImage + batch-1 run.
// Prints medians and ratios, the targets, and whether the peer and CNN Lens agree on every top-1.
// Usage: PYTHON=/path/to/python npm run bench:peer -- [--rounds N]
//        (python with onnxruntime, numpy, pillow)
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import type * as Ort from 'onnxruntime-node';
import { classifyAll, DEFAULT_BATCH, inFlightFor, type ImageSource } from '../src/inference/classifyAll';
import { InferenceClient } from '../src/inference/client';
import { cpuLine, defaultThreads } from '../src/inference/cpus';
import { imageTensor } from '../src/inference/feed';
import { prepareImage } from '../src/inference/preprocess';
import { sessionOptions } from '../src/inference/sessionOptions';
import { median } from '../src/inference/timing';
import { resolveDescriptor } from '../src/files/modelPaths';
import type { ModelDescriptor } from '../src/model/descriptor';
import type { Precision } from '../src/shared/quantization';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(ROOT, '.bench', 'peer');
const IMAGES = path.join(ROOT, 'test', 'fixtures', 'images');
const COUNT = 24;
/** Batch sizes the folder runs are measured at; the default's is the defaults row. */
const SWEEP = [1, 2, 4, 8, 16];
const BATCHES = SWEEP.filter((b) => b !== DEFAULT_BATCH);
/** The targets (#21). */
const TARGETS = { folderVsBare: 1.15, int8VsFp32: 0.6, singleVsBare: 1.2 };

/** 24 JPEGs of about 1 MP: the three test photos at several sizes and crops, both orientations. */
async function photos(): Promise<string[]> {
  await fs.mkdir(OUT, { recursive: true });
  const sharp = (await import('sharp')).default;
  const sources = ['chelsea.png', 'coffee.png', 'orange.jpg'];
  const sizes: [number, number][] = [
    [1280, 800],
    [1024, 1024],
    [800, 1280],
    [1200, 900],
    [1152, 864],
    [900, 1200],
    [1100, 1000],
    [1000, 1100],
  ];
  const files: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    const [w, h] = sizes[i % sizes.length]!;
    const file = path.join(OUT, `photo${String(i).padStart(2, '0')}.jpg`);
    files.push(file);
    const made = await fs.stat(file).then(
      () => true,
      () => false,
    );
    if (made) continue;
    await sharp(path.join(IMAGES, sources[i % sources.length]!))
      .removeAlpha()
      .resize(w, h, { fit: 'cover', position: i % 2 ? 'left' : 'right' })
      .jpeg({ quality: 90 })
      .toFile(file);
  }
  return files;
}

/** One configuration of the client: threads (0: the default), batch size, precision. */
interface ClientRun {
  key: string;
  label: string;
  threads: number;
  batch: number;
  precision: Precision;
}

/** The folder through a fresh client (warmed up by one image): ms per image, and each file's top-1. */
async function clientFolder(
  descriptor: ModelDescriptor,
  files: string[],
  run: ClientRun,
): Promise<{ ms: number; top1: number[] }> {
  const client = new InferenceClient(path.join(DIST, 'worker.js'), {
    descriptor,
    provider: 'cpu',
    threads: run.threads,
    batchSize: run.batch,
    maxPixels: 1e8,
    precision: run.precision,
  });
  try {
    await client.classify('warm-up', await fs.readFile(files[0]!), { topK: 5 });
    const sources: ImageSource[] = files.map((f) => ({ name: f, read: () => fs.readFile(f) }));
    const t = performance.now();
    // As the panel and the CLI queue them (inFlightFor).
    const outcomes = await classifyAll(client, sources, { topK: 5, inFlight: inFlightFor(run.batch) });
    const ms = (performance.now() - t) / files.length;
    return { ms, top1: outcomes.map((o) => (o.error === undefined ? o.result.top[0]!.index : -1)) };
  } finally {
    await client.dispose();
  }
}

/** One image end to end through a warm client, `n` times: ms each. */
async function clientSingle(descriptor: ModelDescriptor, file: string, n: number): Promise<number[]> {
  const client = new InferenceClient(path.join(DIST, 'worker.js'), {
    descriptor,
    provider: 'cpu',
    threads: 0,
    batchSize: 8,
    maxPixels: 1e8,
  });
  try {
    await client.classify('warm-up', await fs.readFile(file), { topK: 5 });
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await client.classify(file, await fs.readFile(file), { topK: 5 });
      ms.push(performance.now() - t);
    }
    return ms;
  } finally {
    await client.dispose();
  }
}

/** Bare onnxruntime on crops decoded beforehand, warmed up by one run: ms per image at `batch`. */
async function bare(
  ort: typeof Ort,
  session: Ort.InferenceSession,
  descriptor: ModelDescriptor,
  crops: Float32Array[],
  batch: number,
): Promise<number> {
  const input = session.inputNames[0]!;
  await session.run({ [input]: imageTensor(ort, descriptor, crops[0]!.slice(), 1) });
  const t = performance.now();
  for (let i = 0; i < crops.length; i += batch) {
    const chunk = crops.slice(i, i + batch);
    const data = new Float32Array(chunk.reduce((n, c) => n + c.length, 0));
    chunk.forEach((c, j) => data.set(c, j * c.length));
    await session.run({ [input]: imageTensor(ort, descriptor, data, chunk.length) });
  }
  return (performance.now() - t) / crops.length;
}

/** `use` with a fresh session of `modelPath` made as ours are (sessionOptions, default threads). */
async function withSession<T>(
  ort: typeof Ort,
  modelPath: string,
  use: (s: Ort.InferenceSession) => Promise<T>,
): Promise<T> {
  const session = await ort.InferenceSession.create(modelPath, sessionOptions(['cpu'], 0));
  try {
    return await use(session);
  } finally {
    await session.release();
  }
}

/** Stops with what to do when the peer's Python lacks what the peer imports. */
async function checkPeer(python: string): Promise<void> {
  try {
    await promisify(execFile)(python, ['-c', 'import onnxruntime, numpy, PIL']);
  } catch {
    console.error(
      `bench:peer: ${python} cannot import onnxruntime, numpy and PIL (the Python peer needs them): ` +
        'set PYTHON to a Python that has them, e.g. PYTHON=.venv/bin/python npm run bench:peer',
    );
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
  const rounds = Math.max(1, Number(values.rounds));
  const python = process.env.PYTHON ?? 'python3';
  await checkPeer(python);
  const files = await photos();
  const descriptor = await resolveDescriptor(DIST, '', 'caffe');
  const int8Path = descriptor.modelPath.replace(/\.onnx$/, '.int8.onnx');
  const ort = (await import('onnxruntime-node')) as typeof Ort;
  const bytes = await Promise.all(files.map((f) => fs.readFile(f)));
  const crops = await Promise.all(
    bytes.map(async (b) => (await prepareImage(b, descriptor.preprocessing, 1e8)).tensor),
  );
  const cpus = defaultThreads();
  const runs: ClientRun[] = [
    {
      key: 'ours',
      label: `defaults (${cpus} threads, batch ${DEFAULT_BATCH})`,
      threads: 0,
      batch: DEFAULT_BATCH,
      precision: 'fp32',
    },
    {
      key: 'ours-t1',
      label: `threads 1 (batch ${DEFAULT_BATCH})`,
      threads: 1,
      batch: DEFAULT_BATCH,
      precision: 'fp32',
    },
    { key: 'ours-int8', label: 'int8, defaults', threads: 0, batch: DEFAULT_BATCH, precision: 'int8' },
    ...BATCHES.map(
      (batch): ClientRun => ({
        key: `ours-b${batch}`,
        label: `batch ${batch} (${cpus} threads)`,
        threads: 0,
        batch,
        precision: 'fp32',
      }),
    ),
  ];
  const samples: Record<string, number[]> = {};
  const add = (key: string, ms: number): void => void (samples[key] ??= []).push(ms);
  let agree = '';
  for (let r = 0; r < rounds; r++) {
    console.error(`round ${r + 1}/${rounds}`);
    for (const run of runs) {
      const { ms, top1 } = await clientFolder(descriptor, files, run);
      add(run.key, ms);
      if (run.key !== 'ours') continue;
      // The peer, in a process of its own, right after CNN Lens's defaults.
      const { stdout } = await promisify(execFile)(
        python,
        [path.join(__dirname, 'peer', 'peer.py'), descriptor.modelPath, ...files],
        { maxBuffer: 1 << 20 },
      );
      const peer = JSON.parse(stdout) as { ms_per_image: number; top1: number[]; threads: number };
      add('peer', peer.ms_per_image);
      agree = peer.top1.every((k, i) => k === top1[i]) ? 'the same top-1 for every image' : 'top-1 differs';
    }
    await withSession(ort, descriptor.modelPath, async (session) => {
      add('bare-b8', await bare(ort, session, descriptor, crops, 8));
      add('bare-b1', await bare(ort, session, descriptor, crops, 1));
    });
    await withSession(ort, int8Path, async (session) =>
      add('bare-b8-int8', await bare(ort, session, descriptor, crops, 8)),
    );
    // One image: the client end to end, against prepareImage and a batch-1 run bare.
    for (const ms of await clientSingle(descriptor, files[0]!, 10)) add('single', ms);
    await withSession(ort, descriptor.modelPath, async (session) => {
      for (let i = 0; i < 10; i++) {
        const t = performance.now();
        const crop = (await prepareImage(bytes[0]!, descriptor.preprocessing, 1e8)).tensor;
        add('single-decode', performance.now() - t);
        add('single-run', await bare(ort, session, descriptor, [crop], 1));
      }
    });
  }
  const m = (k: string): number => median(samples[k]!);
  const x = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  console.log(`Machine: ${cpuLine()}; default threads ${cpus}; node ${process.version}\n`);
  console.log(`| ${COUNT} JPEGs of ~1 MP, file → top class | median ms per image | vs bare b8 | vs peer |`);
  console.log('| --- | ---: | ---: | ---: |');
  const row = (label: string, k: string, vs = 'bare-b8'): void =>
    console.log(`| ${label} | ${m(k).toFixed(1)} | ${x(m(k), m(vs))} | ${x(m(k), m('peer'))} |`);
  row(`CNN Lens, ${runs[0]!.label}`, 'ours');
  row(`CNN Lens, ${runs[1]!.label}`, 'ours-t1');
  for (const batch of BATCHES) row(`CNN Lens, batch ${batch}`, `ours-b${batch}`);
  row('Python peer: PIL + onnxruntime, batch 8, every CPU (decode + run)', 'peer');
  row('bare onnxruntime, batch 8 (run only)', 'bare-b8');
  row('bare onnxruntime, batch 1 (run only)', 'bare-b1');
  console.log(
    `| CNN Lens, int8, defaults | ${m('ours-int8').toFixed(1)} | ${x(m('ours-int8'), m('bare-b8-int8'))} (vs bare int8 b8) | ${x(m('ours-int8'), m('ours'))} (vs CNN Lens fp32) |`,
  );
  row('bare onnxruntime, int8, batch 8 (run only)', 'bare-b8-int8');
  const reference = m('single-decode') + m('single-run');
  console.log(
    `\nOne 1 MP JPEG end to end (warm client): ${m('single').toFixed(1)} ms; bare prepareImage ` +
      `${m('single-decode').toFixed(1)} + batch-1 run ${m('single-run').toFixed(1)} = ${reference.toFixed(1)} ms ` +
      `(${samples.single!.length} each).`,
  );
  const verdict = (value: number, bound: number): string =>
    `${value.toFixed(2)} (≤ ${bound}: ${value <= bound ? 'met' : 'MISSED'})`;
  console.log(
    `Targets: folder / bare b8 ${verdict(m('ours') / m('bare-b8'), TARGETS.folderVsBare)}; folder / peer ` +
      `${verdict(m('ours') / m('peer'), 1)}; int8 / fp32 folder ${verdict(m('ours-int8') / m('ours'), TARGETS.int8VsFp32)}; ` +
      `one image / (decode + run) ${verdict(m('single') / reference, TARGETS.singleVsBare)}.`,
  );
  const key = (b: number): string => (b === DEFAULT_BATCH ? 'ours' : `ours-b${b}`);
  const best = SWEEP.reduce((a, b) => (m(key(b)) < m(key(a)) ? b : a));
  console.log(
    `Fastest folder batch here: ${best}. ${rounds} interleaved rounds; CNN Lens and the peer give ${agree}.`,
  );
}

void main();
