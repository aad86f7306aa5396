// Correctness against the Keras reference with the real model, real images and the real worker.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type * as Ort from 'onnxruntime-node';
import { classifyAll } from '../../src/inference/classifyAll';
import { InferenceClient, InferenceError } from '../../src/inference/client';
import type { WorkerConfig } from '../../src/inference/messages';
import { prepareImage } from '../../src/inference/preprocess';
import { at } from './helpers/at';
import { pngClaiming, truncatedJpeg } from './helpers/badImages';
import { IMAGES, WORKER } from './helpers/paths';
import { cpuConfig } from './helpers/client';

interface Expected {
  top5: { index: number; label: string; probability: number }[];
}
const expected = JSON.parse(readFileSync(path.join(IMAGES, 'expected.json'), 'utf8')) as Record<
  string,
  Expected
>;
const read = (f: string): Buffer => readFileSync(path.join(IMAGES, f));

let config: WorkerConfig;
let client: InferenceClient;

before(async () => {
  config = await cpuConfig();
  client = new InferenceClient(WORKER, config);
});
after(() => client.dispose());

for (const [file, { top5: want }] of Object.entries(expected)) {
  test(`${file}: top-1 and top-5 probabilities match the Keras reference`, async () => {
    const r = await client.classify(file, read(file), { topK: 5 });
    assert.equal(r.provider, 'cpu');
    assert.equal(at(r.top, 0).index, at(want, 0).index);
    assert.equal(at(r.top, 0).label, at(want, 0).label);
    for (const w of want) {
      const got = r.top.find((p) => p.index === w.index);
      assert.ok(got, `class ${w.label} missing from top-5 of ${file}`);
      assert.ok(
        Math.abs(got.probability - w.probability) <= 0.03,
        `${file} ${w.label}: ${got.probability} vs ${w.probability}`,
      );
    }
    assert.ok(r.ms.run > 0 && r.ms.total >= r.ms.run);
  });
}

test('images queued together run as one batch with the same probabilities as single runs', async () => {
  // Nine requests at once: while one run blocks the worker, the others finish decoding and queue up.
  const files = [...Object.keys(expected), ...Object.keys(expected), ...Object.keys(expected)];
  const single = [];
  for (const f of files) single.push(await client.classify(f, read(f), { topK: 1000 }));
  const batched = await Promise.all(files.map((f) => client.classify(f, read(f), { topK: 1000 })));
  assert.ok(
    batched.some((r) => r.batch > 1),
    `no batching seen: ${batched.map((r) => r.batch)}`,
  );
  for (const [i, file] of files.entries()) {
    const a = new Map(at(single, i).top.map((p) => [p.index, p.probability]));
    for (const p of at(batched, i).top) assert.ok(Math.abs(p.probability - a.get(p.index)!) <= 1e-5, file);
  }
});

test('batched logits equal single-run logits within 1e-4 (bare session on our preprocessing)', async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof Ort;
  const session = await ort.InferenceSession.create(config.descriptor.modelPath);
  const logitsOf = async (input: Ort.Tensor): Promise<Float32Array> => {
    const { logits } = await session.run({ input });
    assert.ok(logits, 'no output "logits"');
    return logits.data as Float32Array;
  };
  try {
    const tensors = await Promise.all(
      Object.keys(expected).map(
        async (f) => (await prepareImage(read(f), config.descriptor.preprocessing, 1e8)).tensor,
      ),
    );
    const size = at(tensors, 0).length;
    const batch = new Float32Array(size * tensors.length);
    tensors.forEach((t, i) => batch.set(t, i * size));
    const all = await logitsOf(new ort.Tensor('float32', batch, [tensors.length, 3, 224, 224]));
    for (const [i, tensor] of tensors.entries()) {
      const one = await logitsOf(new ort.Tensor('float32', tensor, [1, 3, 224, 224]));
      let maxDiff = 0;
      for (let k = 0; k < 1000; k++)
        maxDiff = Math.max(maxDiff, Math.abs(at(one, k) - at(all, i * 1000 + k)));
      assert.ok(maxDiff <= 1e-4, `image ${i}: max |Δlogit| ${maxDiff}`);
    }
  } finally {
    await session.release();
  }
});

test('bad inputs fail with specific errors and do not disturb the other files in the batch', async () => {
  const sources = [
    { name: 'chelsea.png', bytes: read('chelsea.png') },
    { name: 'truncated.jpg', bytes: truncatedJpeg() },
    { name: 'empty.png', bytes: Buffer.alloc(0) },
    { name: 'notes.png', bytes: Buffer.from('just some text, not an image\n') },
    { name: 'bomb.png', bytes: pngClaiming(30_000, 30_000) },
    { name: 'coffee.png', bytes: read('coffee.png') },
  ];
  const outcomes = await classifyAll(
    client,
    sources.map((s) => ({ name: s.name, read: async () => Buffer.from(s.bytes) })),
    { topK: 5, inFlight: 8 },
  );
  const byName = new Map(outcomes.map((o) => [o.name, o]));
  assert.equal(byName.get('chelsea.png')?.result?.top[0]?.label, 'Egyptian cat');
  assert.equal(byName.get('coffee.png')?.result?.top[0]?.label, 'espresso');
  assert.match(byName.get('truncated.jpg')?.error ?? '', /truncated or corrupt/);
  assert.match(byName.get('empty.png')?.error ?? '', /empty \(0 bytes\)/);
  assert.match(byName.get('notes.png')?.error ?? '', /not a supported image/);
  assert.match(
    byName.get('bomb.png')?.error ?? '',
    /30000×30000 pixels \(900 MP\), over the limit of 100 MP/,
  );
});

test('a missing file is reported as such', async () => {
  const [o] = await classifyAll(
    client,
    [
      {
        name: 'gone.png',
        read: () => import('node:fs/promises').then((fs) => fs.readFile('/nonexistent/gone.png')),
      },
    ],
    { topK: 5, inFlight: 1 },
  );
  assert.equal(o?.error, 'the file does not exist');
});

test('a new pixel limit applies to the running worker without a restart (classify and explore)', async () => {
  const own = new InferenceClient(WORKER, config);
  try {
    const worker = (): unknown => (own as unknown as { worker: unknown }).worker;
    await own.classify('chelsea.png', read('chelsea.png'), { topK: 1 });
    const info = await own.runtimeInfo();
    const first = worker();
    own.setMaxPixels(1000);
    const refused = (err: InferenceError): boolean => {
      assert.equal(err.kind, 'image');
      assert.match(err.message, /over the limit of 1,000 pixels/);
      return true;
    };
    await assert.rejects(own.classify('chelsea.png', read('chelsea.png'), { topK: 1 }), refused);
    await assert.rejects(own.explore('chelsea.png', read('chelsea.png'), { topK: 1 }), refused);
    own.setMaxPixels(100_000_000);
    assert.equal(
      (await own.classify('chelsea.png', read('chelsea.png'), { topK: 1 })).top[0]?.label,
      'Egyptian cat',
    );
    assert.equal(worker(), first, 'the same worker answered');
    assert.deepEqual(await own.runtimeInfo(), info, 'its session was not recreated');
  } finally {
    await own.dispose();
  }
});

test('a killed worker fails its pending requests clearly and the next request starts a new one', async () => {
  const pending = client.classify('chelsea.png', read('chelsea.png'), { topK: 5 });
  await (client as unknown as { worker: import('node:worker_threads').Worker }).worker.terminate();
  await assert.rejects(pending, (err: InferenceError) => {
    assert.equal(err.kind, 'internal');
    assert.match(err.message, /inference worker stopped unexpectedly/);
    return true;
  });
  const r = await client.classify('coffee.png', read('coffee.png'), { topK: 5 });
  assert.equal(r.top[0]?.label, 'espresso');
});

test('a cancelled request rejects as cancelled', async () => {
  const abort = new AbortController();
  const p = client.classify('orange.jpg', read('orange.jpg'), { topK: 5, signal: abort.signal });
  abort.abort();
  await assert.rejects(p, (err: InferenceError) => err.kind === 'cancelled');
});
