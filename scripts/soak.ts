// Soak run, not a test: many images through one InferenceClient, checking that memory stays flat.
// Prints the process RSS (the worker thread's native memory included: it is one process) every 100
// images, and the ratio of the last to the one at 100; exits 1 above MAX_GROWTH or on a wrong answer.
// Usage: npm run soak -- [--images 500] [--provider cpu]
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { classifyAll, type ImageSource } from '../src/inference/classifyAll';
import { InferenceClient } from '../src/inference/client';
import type { ProviderSetting } from '../src/inference/providers';
import { resolveDescriptor } from '../src/files/modelPaths';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const IMAGES = path.join(ROOT, 'test', 'fixtures', 'images');
const CHECKPOINT = 100;
const MAX_GROWTH = 1.1;

interface Image {
  name: string;
  bytes: Buffer;
  label: string;
}

/** The fixtures as they are, and as JPEGs of about 1 and 1.5 MP (aspect kept, so labels hold). */
async function mix(): Promise<Image[]> {
  const fixtures: [string, string][] = [
    ['chelsea.png', 'Egyptian cat'],
    ['coffee.png', 'espresso'],
    ['orange.jpg', 'orange'],
  ];
  const out: Image[] = [];
  for (const [f, label] of fixtures) {
    const file = path.join(IMAGES, f);
    out.push({ name: f, bytes: readFileSync(file), label });
    const { width = 1, height = 1 } = await sharp(file).metadata();
    for (const megapixels of [1, 1.5]) {
      const scale = Math.sqrt((megapixels * 1e6) / (width * height));
      const [w, h] = [Math.round(width * scale), Math.round(height * scale)];
      const bytes = await sharp(file).resize(w, h).jpeg({ quality: 90 }).toBuffer();
      out.push({ name: `${f} as ${w}×${h}.jpg`, bytes, label });
    }
  }
  return out;
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { images: { type: 'string', default: '500' }, provider: { type: 'string', default: 'cpu' } },
  });
  const count = Number(values.images);
  if (!Number.isInteger(count) || count < CHECKPOINT) throw new Error(`--images must be ≥ ${CHECKPOINT}`);
  const images = await mix();
  const descriptor = await resolveDescriptor(DIST, '', 'caffe');
  const client = new InferenceClient(path.join(DIST, 'worker.js'), {
    descriptor,
    provider: values.provider as ProviderSetting,
    threads: 0,
    batchSize: 8,
    maxPixels: 100_000_000,
  });
  /** The kind of image the i-th request reads: the mix in turn. */
  const imageAt = (i: number): Image => {
    const image = images[i % images.length];
    if (!image) throw new Error('soak: no images to mix');
    return image;
  };
  const sources: ImageSource[] = Array.from({ length: count }, (_, i) => {
    const image = imageAt(i);
    // A fresh copy each time: the client transfers the buffer to the worker.
    return { name: `${i}: ${image.name}`, read: async () => Buffer.from(image.bytes) };
  });
  const rss: [number, number][] = [];
  const started = performance.now();
  let done = 0;
  let wrong = 0;
  console.log(
    `soak: ${count} images (${images.length} kinds) through one client, provider ${values.provider}`,
  );
  try {
    await classifyAll(client, sources, {
      topK: 1,
      inFlight: 16,
      onOutcome: (o, i) => {
        const want = imageAt(i).label;
        const top = o.error === undefined ? o.result.top[0] : undefined;
        if (top?.label !== want) {
          wrong++;
          console.log(`  ${o.name}: ${o.error ?? top?.label ?? 'no prediction'}, wanted ${want}`);
        }
        if (++done % CHECKPOINT === 0 || done === count) {
          const r = process.memoryUsage().rss;
          rss.push([done, r]);
          const s = ((performance.now() - started) / 1000).toFixed(0);
          console.log(`  ${String(done).padStart(5)} images  rss ${mb(r).padStart(7)}  ${s} s`);
        }
      },
    });
  } finally {
    await client.dispose();
  }
  const [start] = rss;
  const end = rss.at(-1);
  if (!start || !end) throw new Error('soak: no checkpoint was reached');
  const [firstAt, first] = start;
  const [lastAt, last] = end;
  const ratio = last / first;
  console.log(
    `rss at ${firstAt}: ${mb(first)}, at ${lastAt}: ${mb(last)}, ratio ${ratio.toFixed(3)} ` +
      `(limit ${MAX_GROWTH}); ${wrong} wrong`,
  );
  if (ratio > MAX_GROWTH || wrong > 0) process.exitCode = 1;
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exitCode = 1;
});
