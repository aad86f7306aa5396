// Comparing architectures: the worker's timeModel (a session of its own, medians per batch, cancellable),
// and the CLI as a user runs it on any model: compare, layers and classify --model.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { InferenceClient, InferenceError } from '../../src/inference/client';
import type * as Ort from 'onnxruntime-node';
import { softmax } from '../../src/inference/postprocess';
import { prepareImage } from '../../src/inference/preprocess';
import { descriptorForModel } from '../../src/files/descriptorFile';
import { PREPROCESSING_PRESETS } from '../../src/model/descriptor';
import { readOnnxFile } from '../../src/files/onnxFile';
import { buildLayerTable } from '../../src/model/structure/table';
import type { LayerTable } from '../../src/shared/layerTable';
import { fixtureBytes, runnable } from './helpers/fixtures';
import { imagenetLabels, signedWeights, tempDir, unknownOpModel, writeModel } from './helpers/models';
import { attr, GraphBuilder } from './helpers/onnxBuilder';
import { IMAGES, WORKER } from './helpers/paths';
import { cli } from './helpers/cli';
import { configFor } from './helpers/client';

const read = (f: string): Buffer => readFileSync(path.join(IMAGES, f));
const NO_HANG = { timeout: 180_000 };

let labels: string[];
let dir: string;
let tiny: string;
let fixedBatch: string;
let mobilenet: string;

/** Conv → ReLU → global pool → fc over 3×32×32, with a symbolic or fixed batch. */
function tinyModel(batch: number | string = 'N'): Uint8Array {
  const g = new GraphBuilder({ name: 'input', c: 3, h: 32, w: 32 }, batch);
  g.output(g.fc(g.globalAveragePool(g.relu(g.conv(g.input, 16, 3, { stride: 2, pad: 1 }))), 10));
  return signedWeights(g.build());
}

before(async () => {
  labels = await imagenetLabels();
  dir = tempDir('compare');
  tiny = writeModel(dir, 'tiny.onnx', tinyModel());
  fixedBatch = writeModel(dir, 'fixed.onnx', tinyModel(1));
  mobilenet = writeModel(dir, 'mobilenet_v2.onnx', signedWeights(runnable(fixtureBytes('mobilenet_v2.ts'))));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function client(file: string, log?: (m: string) => void): Promise<InferenceClient> {
  return new InferenceClient(WORKER, configFor(await descriptorForModel(file, 'torchvision', labels)), log);
}

test(
  'timeModel: medians per batch size from a session of its own; classification is unchanged around it',
  NO_HANG,
  async () => {
    const c = await client(tiny);
    try {
      const before = await c.classify('chelsea.png', read('chelsea.png'), { topK: 10 });
      const timings = await c.timeModel({ batches: [1, 4], runs: 5 });
      assert.deepEqual(
        timings.map((t) => [t.batch, t.runs]),
        [
          [1, 5],
          [4, 5],
        ],
      );
      for (const t of timings)
        assert.ok(t.msPerImage > 0 && Number.isFinite(t.msPerImage), `${t.msPerImage}`);
      const after = await c.classify('chelsea.png', read('chelsea.png'), { topK: 10 });
      assert.deepEqual(after.top, before.top);
      await assert.rejects(c.timeModel({ batches: [0], runs: 1 }), (err: InferenceError) => {
        assert.equal(err.kind, 'model');
        assert.match(err.message, /batch sizes must be whole numbers 1…256/);
        return true;
      });
    } finally {
      await c.dispose();
    }
    const fixed = await client(fixedBatch);
    try {
      const timings = await fixed.timeModel({ batches: [1, 8], runs: 2 });
      assert.deepEqual(
        timings.map((t) => t.batch),
        [1],
        'a fixed batch of 1 cannot be timed at 8',
      );
    } finally {
      await fixed.dispose();
    }
  },
);

test(
  'timeModel: aborting stops the worker’s runs within a run or two; the worker serves the next request',
  NO_HANG,
  async () => {
    const logs: string[] = [];
    const c = await client(mobilenet, (m) => logs.push(m));
    try {
      await c.runtimeInfo();
      const abort = new AbortController();
      // About 5,000 runs of 8 images: minutes, unless the cancel reaches the worker's run loop.
      const timing = c.timeModel({ batches: [8], runs: 5000, signal: abort.signal });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      abort.abort();
      await assert.rejects(timing, (err: InferenceError) => err.kind === 'cancelled');
      const stopped = (): string | undefined => logs.find((l) => l.startsWith('timing cancelled'));
      for (let waited = 0; !stopped() && waited < 5000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.match(stopped() ?? logs.join('\n'), /^timing cancelled at batch 8 after \d+ of 5001 runs$/);
      const r = await c.classify('coffee.png', read('coffee.png'), { topK: 1 });
      assert.equal(r.top.length, 1);
    } finally {
      await c.dispose();
    }
  },
);

interface Entry {
  file: string;
  family?: string;
  depth?: number;
  params?: number;
  buffers?: number;
  macs?: number;
  stages?: {
    stage: string;
    out_size: (number | string)[] | null;
    output_stride: number[] | null;
    width: number | string | null;
    blocks: number;
    params: number;
    macs: number;
  }[];
  blocks?: Record<string, number>;
  ms?: { batch1: number | null; batch8: number | null } | null;
  error?: string;
}

function staticTable(file: string): Promise<LayerTable> {
  return readOnnxFile(file).then((g) => buildLayerTable(g));
}

test(
  'cli compare --json: one entry per model with the table’s numbers and ms at batch 1 and 8; a bad file gets an error entry and exit 1',
  NO_HANG,
  async () => {
    const bad = writeModel(dir, 'notes.onnx', new TextEncoder().encode('not a model'));
    const { code, stdout } = await cli('compare', '--json', '--runs', '2', mobilenet, fixedBatch, bad);
    assert.equal(code, 1);
    const [m, f, b] = JSON.parse(stdout) as Entry[];
    assert.deepEqual(Object.keys(m!), [
      'file',
      'family',
      'depth',
      'params',
      'buffers',
      'macs',
      'stages',
      'blocks',
      'ms',
      'precision',
    ]);
    const table = await staticTable(mobilenet);
    assert.equal(m!.file, mobilenet);
    assert.equal(m!.family, 'MobileNet V2');
    assert.equal(m!.depth, table.totals.counted);
    assert.deepEqual(
      [m!.params, m!.buffers, m!.macs],
      [table.totals.params, table.totals.buffers, table.totals.macs],
    );
    // MobileNet V2's stem, stage1 … stage5 at 1/2, 1/2, 1/4 … 1/32 of the input; its head past the pool.
    const strides = [[2, 2], [2, 2], [4, 4], [8, 8], [16, 16], [32, 32], null];
    assert.deepEqual(
      m!.stages,
      table.stages.map((s, i) => ({
        stage: s.stage,
        out_size: s.out_size,
        output_stride: strides[i],
        width: s.width,
        blocks: s.blocks,
        params: s.params,
        macs: s.macs,
      })),
    );
    assert.deepEqual(m!.blocks, { 'inverted residual': 17 });
    assert.ok(m!.ms!.batch1! > 0 && m!.ms!.batch8! > 0, JSON.stringify(m!.ms));
    assert.ok(f!.ms!.batch1! > 0);
    assert.equal(f!.ms!.batch8, null, 'a fixed batch of 1 has no batch-8 time');
    assert.deepEqual(Object.keys(b!), ['file', 'error']);
    assert.match(b!.error!, /notes\.onnx: the file is not an ONNX model/);
  },
);

test('cli compare: --no-timing, the side-by-side text table, usage errors (exit 2)', NO_HANG, async () => {
  const json = await cli('compare', '--json', '--no-timing', tiny, mobilenet);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(
    (JSON.parse(json.stdout) as Entry[]).map((e) => e.ms),
    [null, null],
  );
  const text = await cli('compare', '--runs', '1', tiny, mobilenet);
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.split('\n');
  assert.match(lines[0]!, /^\s+tiny\.onnx\s+mobilenet_v2\.onnx$/);
  assert.match(text.stdout, /\nfamily\s+\S.*MobileNet V2\n/);
  assert.match(text.stdout, /\ninput\s+32×32\s+224×224\n/);
  assert.match(text.stdout, /\nmultiply-adds\s+[\d.]+ k\s+300\.77 M\n/);
  assert.match(text.stdout, /\nms\/image, batch 8\s+\d+\.\d\s+\d+\.\d\n/);
  assert.match(text.stdout, /\ninverted residual blocks\s+-\s+17\n/);
  for (const args of [[], ['--runs', '0', tiny], ['--bogus', tiny]]) {
    const usage = await cli('compare', ...args);
    assert.equal(usage.code, 2, args.join(' '));
    assert.match(
      usage.stderr,
      /compare needs at least one model file|--runs must be a whole number 1…1000|unknown option --bogus/,
    );
  }
});

test(
  'cli compare: classifiers’ stages line up by output stride, with gaps (MobileNet V2 beside DenseNet-121)',
  NO_HANG,
  async () => {
    const densenet = writeModel(dir, 'densenet121.onnx', fixtureBytes('densenet121.ts'));
    const { code, stdout, stderr } = await cli('compare', '--no-timing', mobilenet, densenet);
    assert.equal(code, 0, stderr);
    const lines = stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('stages by output stride'));
    assert.ok(at > 0, stdout);
    const stages = lines.slice(at + 1).filter((l) => l.trim() !== '');
    const cells = stages.map((l) => l.trim().split(/\s{2,}/));
    assert.deepEqual(
      cells.map((c) => [c[0], c[1]?.split(':')[0], c[2]?.split(':')[0]]),
      [
        ['/2', 'stem', 'stem'],
        ['/2', 'stage1', '-'],
        ['/4', 'stage2', 'stage1'],
        ['/8', 'stage3', 'stage2'],
        ['/16', 'stage4', 'stage3'],
        ['/32', 'stage5', 'stage4'],
        ['pooled', 'head', 'head'],
      ],
    );
    // Beside each other, the same output size: 56×56 at /4 (by position MobileNet's 56×56 stage2 sat beside
    // DenseNet's 28×28 stage2).
    assert.match(cells[2]![1]!, /^stage2: 56×56, 24, 2;/);
    assert.match(cells[2]![2]!, /^stage1: 56×56, 256, 6;/);
  },
);

test(
  'cli layers --json --model: any model, rows with stage and block, shapes measured where static inference cannot decide',
  NO_HANG,
  async () => {
    const graphOnly = writeModel(dir, 'densenet121.onnx', fixtureBytes('densenet121.ts'));
    const { code, stdout } = await cli('layers', '--json', '--model', graphOnly);
    assert.equal(code, 0);
    const table = JSON.parse(stdout) as LayerTable;
    assert.equal(table.family, 'DenseNet');
    assert.ok(table.rows.every((r) => 'stage' in r && 'block' in r));
    assert.ok(table.rows.some((r) => r.block !== null));
    assert.equal(table.blocks.filter((b) => b.kind === 'dense layer').length, 58);

    const m = unknownOpModel();
    const unknown = writeModel(dir, 'unknown-op.onnx', m.bytes);
    const measured = await cli('layers', '--json', '--model', unknown);
    assert.equal(measured.code, 0, measured.stderr);
    const t = JSON.parse(measured.stdout) as LayerTable;
    assert.equal(t.totals.macs, m.expectedMacs);
    assert.ok(t.totals.measured >= 1);
    assert.match(measured.stderr, /measured \d+ tensor shapes by a run/);

    // A graph CNN Lens cannot feed (channels-last input) still gets its static table.
    const n = new GraphBuilder({ name: 'input', c: 224, h: 224, w: 3 });
    const nchw = n.node('Transpose', 'to_nchw', ['input'], [attr.ints('perm', [0, 3, 1, 2])]);
    n.output(n.fc(n.globalAveragePool(n.conv({ name: nchw, c: 3, h: 224, w: 224 }, 8, 3)), 10));
    const nhwc = await cli('layers', '--json', '--model', writeModel(dir, 'nhwc.onnx', n.build()));
    assert.equal(nhwc.code, 0, nhwc.stderr);
    assert.equal((JSON.parse(nhwc.stdout) as LayerTable).totals.macs, n.expectedMacs);
  },
);

test(
  'cli classify --model with --preprocessing tf: Inception v3 at 299 with ImageNet labels; an unknown preset is a usage error',
  NO_HANG,
  async () => {
    const inception = writeModel(
      dir,
      'inception_v3.onnx',
      signedWeights(runnable(fixtureBytes('inception_v3.ts'))),
    );
    const { code, stdout, stderr } = await cli(
      'classify',
      '--json',
      '--provider',
      'cpu',
      '--model',
      inception,
      '--preprocessing',
      'tf',
      path.join(IMAGES, 'orange.jpg'),
    );
    assert.equal(code, 0, stderr);
    const [entry] = JSON.parse(stdout) as { top: { index: number; label: string; probability: number }[] }[];
    assert.equal(entry!.top.length, 5);
    for (const p of entry!.top) assert.equal(p.label, labels[p.index]);
    // The same image through tf preprocessing at 299 (resize 342) and a bare session.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ort = require('onnxruntime-node') as typeof Ort;
    const session = await ort.InferenceSession.create(inception);
    try {
      const p = { ...PREPROCESSING_PRESETS.tf, crop: 299, resize: 342 };
      const { tensor } = await prepareImage(read('orange.jpg'), p, 1e8);
      const out = await session.run({ input: new ort.Tensor('float32', tensor, [1, 3, 299, 299]) });
      const probs = softmax(out[session.outputNames[0]!]!.data as Float32Array);
      for (const t of entry!.top) assert.ok(Math.abs(t.probability - probs[t.index]!) <= 1e-4, t.label);
      assert.equal(entry!.top[0]!.index, probs.indexOf(Math.max(...probs)));
    } finally {
      await session.release();
    }
    const usage = await cli(
      'classify',
      '--model',
      inception,
      '--preprocessing',
      'keras',
      path.join(IMAGES, 'orange.jpg'),
    );
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--preprocessing must be one of torchvision, caffe, tf, raw/);
  },
);
