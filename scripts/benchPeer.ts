// Benchmark, not a test (#21): folder classification side by side with what a user would write instead.
// On the same 24 one-megapixel JPEGs (made once into .bench/peer/ from the test photos), in interleaved rounds:
// - CNN Lens with its defaults (the client as the panel and the CLI use it: decode on sharp's threads,
//   batches of 8), file → top-5, marginal ms per image over the folder;
// - the Python peer (scripts/peer/peer.py: PIL + onnxruntime, batch 8, every CPU), file → top-1;
// - bare onnxruntime in this process at batch 8 and 1 on crops decoded beforehand (run only).
// Prints medians and ratios, and whether the peer and CNN Lens agree on every top-1.
// Usage: PYTHON=/path/to/python npm run bench:peer -- [--rounds N] [--threads N]
//        (python with onnxruntime, numpy, pillow; --threads sets CNN Lens's and bare onnxruntime's, not the peer's)
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import type * as Ort from 'onnxruntime-node';
import { classifyAll, type ImageSource } from '../src/inference/classifyAll';
import { InferenceClient } from '../src/inference/client';
import { cpuLine, defaultThreads } from '../src/inference/cpus';
import { imageTensor } from '../src/inference/feed';
import { prepareImage } from '../src/inference/preprocess';
import { sessionOptions } from '../src/inference/sessionOptions';
import { median } from '../src/inference/timing';
import { resolveDescriptor } from '../src/files/modelPaths';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(ROOT, '.bench', 'peer');
const IMAGES = path.join(ROOT, 'test', 'fixtures', 'images');
const COUNT = 24;

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
    if (
      await fs.stat(file).then(
        () => true,
        () => false,
      )
    )
      continue;
    await sharp(path.join(IMAGES, sources[i % sources.length]!))
      .removeAlpha()
      .resize(w, h, { fit: 'cover', position: i % 2 ? 'left' : 'right' })
      .jpeg({ quality: 90 })
      .toFile(file);
  }
  return files;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: '3' }, threads: { type: 'string', default: '0' } },
  });
  const rounds = Math.max(1, Number(values.rounds));
  // CNN Lens's and bare onnxruntime's intra-op threads: 0 is the default (every CPU this process may use).
  const threads = Math.max(0, Number(values.threads));
  const python = process.env.PYTHON ?? 'python3';
  const files = await photos();
  const descriptor = await resolveDescriptor(DIST, '', 'caffe');
  const ort = (await import('onnxruntime-node')) as typeof Ort;
  const crops = await Promise.all(
    files.map(async (f) => (await prepareImage(await fs.readFile(f), descriptor.preprocessing, 1e8)).tensor),
  );
  const samples: Record<string, number[]> = { ours: [], peer: [], bareB8: [], bareB1: [] };
  let agree = '';
  for (let r = 0; r < rounds; r++) {
    console.error(`round ${r + 1}/${rounds}`);
    // CNN Lens with its defaults, warmed up by one image.
    const client = new InferenceClient(path.join(DIST, 'worker.js'), {
      descriptor,
      provider: 'cpu',
      threads,
      batchSize: 8,
      maxPixels: 1e8,
    });
    const sources: ImageSource[] = files.map((f) => ({ name: f, read: () => fs.readFile(f) }));
    let ours: number[] = [];
    try {
      await client.classify('warm-up', await fs.readFile(files[0]!), { topK: 5 });
      const t = performance.now();
      const outcomes = await classifyAll(client, sources, { topK: 5, inFlight: 16 });
      samples.ours!.push((performance.now() - t) / files.length);
      ours = outcomes.map((o) => (o.error === undefined ? o.result.top[0]!.index : -1));
    } finally {
      await client.dispose();
    }
    // The peer, in a process of its own.
    const { stdout } = await promisify(execFile)(
      python,
      [path.join(__dirname, 'peer', 'peer.py'), descriptor.modelPath, ...files],
      {
        maxBuffer: 1 << 20,
      },
    );
    const peer = JSON.parse(stdout) as { ms_per_image: number; top1: number[]; threads: number };
    samples.peer!.push(peer.ms_per_image);
    agree = peer.top1.every((k, i) => k === ours[i]) ? 'the same top-1 for every image' : 'top-1 differs';
    // Bare onnxruntime on crops decoded beforehand.
    const session = await ort.InferenceSession.create(descriptor.modelPath, sessionOptions(['cpu'], threads));
    try {
      const input = session.inputNames[0]!;
      for (const batch of [8, 1]) {
        await session.run({ [input]: imageTensor(ort, descriptor, crops[0]!.slice(), 1) });
        const t = performance.now();
        for (let i = 0; i < crops.length; i += batch) {
          const chunk = crops.slice(i, i + batch);
          const data = new Float32Array(chunk.reduce((n, c) => n + c.length, 0));
          chunk.forEach((c, j) => data.set(c, j * c.length));
          await session.run({ [input]: imageTensor(ort, descriptor, data, chunk.length) });
        }
        samples[batch === 8 ? 'bareB8' : 'bareB1']!.push((performance.now() - t) / crops.length);
      }
    } finally {
      await session.release();
    }
  }
  const m = (k: string): number => median(samples[k]!);
  const used = threads > 0 ? `${threads} (--threads)` : `${defaultThreads()} (the default)`;
  console.log(`Machine: ${cpuLine()}; CNN Lens and bare threads ${used}; node ${process.version}\n`);
  console.log(`| ${COUNT} JPEGs of ~1 MP, file → top class | median ms per image | vs bare b8 | vs peer |`);
  console.log('| --- | ---: | ---: | ---: |');
  const row = (label: string, k: string): void =>
    console.log(
      `| ${label} | ${m(k).toFixed(1)} | ${(m(k) / m('bareB8')).toFixed(2)}× | ${(m(k) / m('peer')).toFixed(2)}× |`,
    );
  row('CNN Lens, client as the panel uses it (decode + run)', 'ours');
  row('Python peer: PIL + onnxruntime, batch 8 (decode + run)', 'peer');
  row('bare onnxruntime, batch 8 (run only)', 'bareB8');
  row('bare onnxruntime, batch 1 (run only)', 'bareB1');
  console.log(`\n${rounds} interleaved rounds; CNN Lens and the peer give ${agree}.`);
}

void main();
