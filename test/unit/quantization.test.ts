// The quantization explorer's backend: per-row fp32 vs int8 error for one image (checked against bare
// onnxruntime sessions of both files), both precisions for a set of images with the agreement report, and
// quantizing a user's model (weights in an external data file) with images, checked by independent runs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { onnx } from 'onnx-proto';
import type * as Ort from 'onnxruntime-node';
import { comparePrecisionsAll } from '../../src/inference/classifyAll';
import { InferenceClient, InferenceError } from '../../src/inference/client';
import type { WorkerConfig } from '../../src/inference/messages';
import { analyseModel } from '../../src/inference/modelAnalysis';
import { prepareImage } from '../../src/inference/preprocess';
import { compareRows } from '../../src/inference/quantCompare';
import { descriptorForModel } from '../../src/files/descriptorFile';
import type { ModelDescriptor } from '../../src/model/descriptor';
import { withOutputs } from '../../src/model/explorationModel';
import { quantizedDescriptor } from '../../src/files/modelPaths';
import type { LayerTable } from '../../src/shared/layerTable';
import { quantizeSummary } from '../../src/cli/quantize';
import {
  agreement,
  cosine,
  pairClassifications,
  sqnrDb,
  tooFewForAgreement,
  type QuantizeProgress,
  type QuantizeReport,
} from '../../src/shared/quantization';
import { cpuConfig } from './helpers/client';
import { fixtureBytes, runnable } from './helpers/fixtures';
import { imagenetLabels, signedWeights, tempDir, writeExternal } from './helpers/models';
import { IMAGES, ROOT, WORKER } from './helpers/paths';
import { cli } from './helpers/cli';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof Ort;
const CALIBRATION = path.join(ROOT, 'models', 'calibration');
const read = (f: string): Buffer => readFileSync(path.join(IMAGES, f));
const NO_HANG = { timeout: 300_000 };

let dir: string;
let labels: string[];
let fp32: WorkerConfig;
let table: LayerTable;

before(async () => {
  dir = tempDir('quant');
  labels = await imagenetLabels();
  fp32 = await cpuConfig();
  table = (await analyseModel(fp32.descriptor, () => undefined)).table;
});
after(() => rmSync(dir, { recursive: true, force: true }));

const score = (
  index: number,
  probability: number,
): { index: number; label: string; probability: number } => ({
  index,
  label: `c${index}`,
  probability,
});

test('sqnrDb and cosine: known values, identical and zero vectors', () => {
  assert.ok(Math.abs(sqnrDb([1, 2], [1, 1])! - 10 * Math.log10(5)) < 1e-12);
  assert.ok(Math.abs(sqnrDb([3, 4], [3.3, 4.4])! - 20) < 1e-9, 'noise of 10 % in amplitude is 20 dB');
  assert.equal(sqnrDb([1, 2], [1, 2]), null);
  assert.equal(sqnrDb([0, 0], [0, 1]), -Infinity);
  assert.ok(Math.abs(cosine([1, 0], [1, 1]) - Math.SQRT1_2) < 1e-12);
  assert.equal(cosine([0, 0], [0, 0]), 1);
  assert.equal(cosine([0, 0], [1, 0]), 0);
});

test('agreement: top-1 agreement, mean |Δp| of fp32’s top-1 class, changed images; lists paired by name', () => {
  const fp = [
    { name: 'a', top: [score(1, 0.9), score(2, 0.1)] },
    { name: 'b', top: [score(3, 0.6), score(4, 0.3)] },
    { name: 'c', top: [score(5, 0.5), score(6, 0.4)] },
    { name: 'only-fp32', top: [score(1, 1)] },
  ];
  const q = [
    { name: 'c', top: [score(6, 0.45), score(7, 0.2)] }, // 5 fell outside int8's list: bounded by 0
    { name: 'a', top: [score(1, 0.8), score(2, 0.2)] },
    { name: 'b', top: [score(4, 0.5), score(3, 0.4)] },
    { name: 'failed', top: [] },
  ];
  const pairs = pairClassifications(fp, q);
  assert.deepEqual(
    pairs.map((p) => p.name),
    ['a', 'b', 'c'],
  );
  const r = agreement(pairs);
  assert.equal(r.images, 3);
  assert.ok(Math.abs(r.top1_agreement! - 1 / 3) < 1e-12);
  assert.ok(Math.abs(r.mean_abs_dp! - (0.1 + 0.2 + 0.5) / 3) < 1e-12);
  assert.equal(r.dp_bounded, 1);
  assert.deepEqual(
    r.changed.map((c) => [c.name, c.fp32.index, c.int8.index]),
    [
      ['b', 3, 4],
      ['c', 5, 6],
    ],
  );
  // An exact probability wins over the list and the bound.
  const exact = agreement([{ ...pairs[2]!, int8_p_of_fp32_top1: 0.3 }]);
  assert.deepEqual([exact.dp_bounded, exact.mean_abs_dp!.toFixed(6)], [0, '0.200000']);
  assert.deepEqual(agreement([]), {
    images: 0,
    top1_agreement: null,
    mean_abs_dp: null,
    dp_bounded: 0,
    changed: [],
  });
});

test('the quantize report never headlines a rate over fewer than 20 held-out images', () => {
  const pairOf = (name: string, agrees: boolean) => ({
    name,
    fp32: [score(1, 0.9)],
    int8: [score(agrees ? 1 : 2, 0.8)],
  });
  const report = (held: number): QuantizeReport => ({
    out: 'm.int8.onnx',
    quantized_nodes: 10,
    float_nodes: [],
    calibration: { images: ['x.jpg'], percentile: 99.99 },
    held_out: Array.from({ length: held }, (_, i) => `h${i}.jpg`),
    agreement: agreement(Array.from({ length: held }, (_, i) => pairOf(`h${i}.jpg`, i !== 3))),
    skipped: [],
    ms: 1000,
  });
  const one = quantizeSummary(report(1));
  assert.match(one, /held out n = 1: too few images to measure agreement \(fewer than 20\); 1 of 1 kept/);
  assert.doesNotMatch(one, /100\.0 %|top-1 agreement/);
  assert.equal(tooFewForAgreement({ images: 19 }), true);
  assert.equal(tooFewForAgreement({ images: 0 }), false, 'none: "not measured", said apart');
  const forty = quantizeSummary(report(40));
  assert.match(forty, /held out 40 images: top-1 agreement 97\.5 % \(39\/40\)/);
  // The layers left in float by the layer table's names where given, else their ONNX node names.
  const float = { ...report(1), float_nodes: ['/features/features.0/Conv', 'fc1000'] };
  assert.match(quantizeSummary(float), /\(\/features\/features\.0\/Conv, fc1000 in float\)/);
  const named = quantizeSummary(float, new Map([['/features/features.0/Conv', 'stem 3×3, 64']]));
  assert.match(named, /\(stem 3×3, 64, fc1000 in float\)/);
});

test('compareRows: a main-path drop of more than 6 dB is a jump; shortcuts neither jump nor reset the path; missing rows', () => {
  const n = 64;
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  // Noise scaled to give an exact SQNR: Σx² / Σe² = 10^(dB/10).
  const at = (db: number): Float32Array => {
    const e = Float32Array.from({ length: n }, (_, i) => Math.cos(3 * i));
    const k = Math.sqrt(
      x.reduce((s, v) => s + v * v, 0) / e.reduce((s, v) => s + v * v, 0) / 10 ** (db / 10),
    );
    return Float32Array.from(x, (v, i) => v + k * e[i]!);
  };
  const rows = table.rows;
  const projections = rows.flatMap((r, i) => (r.role === 'projection' ? [i] : []));
  const [p1, p2] = [projections[0]!, projections[1]!];
  const fp = new Map(rows.map((r) => [r.name, x]));
  const q = new Map(rows.map((r) => [r.name, at(40)]));
  q.set(rows[3]!.name, at(33)); // -7 dB: a jump
  q.set(rows[4]!.name, at(30)); // -3 dB from the row before: none
  q.set(rows[p1]!.name, at(10)); // a shortcut far below the main path: no jump
  q.set(rows[p1 + 1]!.name, at(25)); // -5 dB from the last main-path row (30), +15 from the shortcut: none
  q.set(rows[p2]!.name, at(60)); // a shortcut above the main path ...
  q.set(rows[p2 + 1]!.name, at(36)); // ... is not the reference: -4 dB from 40, not -24 from 60
  q.delete(rows[10]!.name);
  fp.delete(rows[11]!.name);
  const out = compareRows(table, fp, q);
  assert.equal(out.length, rows.length);
  assert.deepEqual(
    out.filter((r) => r.jump).map((r) => r.name),
    [rows[3]!.name],
  );
  assert.ok(Math.abs(out[3]!.sqnr_db! - 33) < 1e-6);
  assert.deepEqual(
    [out[10]!.missing, out[10]!.sqnr_db, out[11]!.missing, out[0]!.missing],
    ['int8', null, 'fp32', undefined],
  );
});

/** One tensor of a bare CPU session of `file`, for the image as `d` prepares it. */
async function tensorOf(
  file: string,
  tensor: string,
  d: ModelDescriptor,
  image: string,
): Promise<Float32Array> {
  const bytes = withOutputs(readFileSync(file), [tensor]);
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  try {
    const { tensor: x } = await prepareImage(read(image), d.preprocessing, 1e8);
    const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x, [1, 3, 224, 224]) }, [tensor]);
    return out[tensor]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

test(
  'compareQuantized: every row compared; one row’s SQNR and cosine equal bare runs of both files; top-K of both',
  NO_HANG,
  async () => {
    const client = new InferenceClient(WORKER, { ...fp32, exploreIdleMs: 0 });
    const int8Client = new InferenceClient(WORKER, { ...fp32, precision: 'int8' });
    try {
      const r = await client.compareQuantized('chelsea.png', read('chelsea.png'), { topK: 3 });
      assert.deepEqual(
        r.rows.map((x) => x.name),
        table.rows.map((x) => x.name),
      );
      assert.ok(r.rows.every((x) => x.missing === undefined && x.cosine !== null));
      assert.equal(r.provider, 'cpu');
      // conv1 is float in both models (only BatchNorm folding differs); the first int8 row after it jumps.
      assert.ok(r.rows[0]!.sqnr_db! > 60, `conv1 ${r.rows[0]!.sqnr_db}`);
      assert.ok(r.rows[1]!.jump && r.rows[1]!.sqnr_db! < 60);
      // Each int8 row is read as the next layer reads it (after its Q/DQ pair, which clamps like the ReLU the
      // quantizer dropped): no row is far from fp32 on this photo.
      const worst = r.rows.reduce((a, b) => (b.sqnr_db! < a.sqnr_db! ? b : a));
      assert.ok(worst.sqnr_db! > 15, `${worst.name}: ${worst.sqnr_db} dB`);
      const name = 'conv2_1 a 1×1, 64';
      const q = await quantizedDescriptor(fp32.descriptor);
      const int8Table = (await analyseModel(q, () => undefined)).table;
      const x = await tensorOf(
        fp32.descriptor.modelPath,
        table.rows.find((t) => t.name === name)!.output,
        fp32.descriptor,
        'chelsea.png',
      );
      const y = await tensorOf(
        q.modelPath,
        int8Table.rows.find((t) => t.name === name)!.output,
        q,
        'chelsea.png',
      );
      const row = r.rows.find((t) => t.name === name)!;
      assert.ok(Math.abs(row.sqnr_db! - sqnrDb(x, y)!) < 0.05, `${row.sqnr_db} vs bare ${sqnrDb(x, y)}`);
      assert.ok(Math.abs(row.cosine! - cosine(x, y)) < 1e-4);

      const a = await client.classify('chelsea.png', read('chelsea.png'), { topK: 3 });
      const b = await int8Client.classify('chelsea.png', read('chelsea.png'), { topK: 3 });
      assert.deepEqual(
        r.top_fp32.map((t) => t.index),
        a.top.map((t) => t.index),
      );
      assert.deepEqual(
        r.top_int8.map((t) => t.index),
        b.top.map((t) => t.index),
      );
      r.top_int8.forEach((t, i) => assert.ok(Math.abs(t.probability - b.top[i]!.probability) < 1e-4));
    } finally {
      await Promise.all([client.dispose(), int8Client.dispose()]);
    }
  },
);

test(
  'comparePrecisions / comparePrecisionsAll: both precisions as their own clients classify; failures per file',
  NO_HANG,
  async () => {
    const client = new InferenceClient(WORKER, fp32);
    const a = new InferenceClient(WORKER, fp32);
    const b = new InferenceClient(WORKER, { ...fp32, precision: 'int8' });
    try {
      const files = ['chelsea.png', 'coffee.png', 'orange.jpg'];
      const sources = [...files, 'missing.png'].map((f) => ({
        name: f,
        read: () => fs.readFile(path.join(IMAGES, f)),
      }));
      const outcomes = await comparePrecisionsAll(client, sources, { topK: 5, inFlight: 4 });
      assert.equal(outcomes[3]!.error, 'the file does not exist');
      for (const [i, f] of files.entries()) {
        const pair = outcomes[i]!.result!;
        assert.equal(pair.name, f);
        const [x, y] = [await a.classify(f, read(f), { topK: 5 }), await b.classify(f, read(f), { topK: 5 })];
        assert.deepEqual(
          pair.fp32.map((t) => t.index),
          x.top.map((t) => t.index),
        );
        assert.deepEqual(
          pair.int8.map((t) => t.index),
          y.top.map((t) => t.index),
        );
        pair.int8.forEach((t, k) => assert.ok(Math.abs(t.probability - y.top[k]!.probability) < 1e-5));
        const p = y.top.find((t) => t.index === x.top[0]!.index)!.probability;
        assert.ok(Math.abs(pair.int8_p_of_fp32_top1! - p) < 1e-5);
      }
      const report = agreement(outcomes.flatMap((o) => (o.result ? [o.result] : [])));
      assert.deepEqual([report.images, report.top1_agreement, report.dp_bounded], [3, 1, 0]);
    } finally {
      await Promise.all([client.dispose(), a.dispose(), b.dispose()]);
    }
  },
);

/** ResNet-18 (TorchScript export, signed deterministic weights) with its weights in an external data file. */
async function userResNet18(name: string): Promise<ModelDescriptor> {
  const sub = path.join(dir, name);
  await fs.mkdir(sub);
  const file = writeExternal(sub, 'resnet18.onnx', signedWeights(runnable(fixtureBytes('resnet18.ts'))));
  return descriptorForModel(file, 'torchvision', labels);
}

const calibrationPhotos = (): string[] =>
  readdirSync(CALIBRATION)
    .filter((f) => f.endsWith('.jpg'))
    .slice(0, 12)
    .map((f) => path.join(CALIBRATION, f));

test(
  'quantizeModel: a user model with external data calibrated on images, written beside it, agreement as independent runs find it',
  NO_HANG,
  async () => {
    const d = await userResNet18('ok');
    const client = new InferenceClient(WORKER, { ...fp32, descriptor: d });
    const phases: QuantizeProgress['phase'][] = [];
    try {
      const images = [
        ...calibrationPhotos(),
        { name: 'notes.png', bytes: new TextEncoder().encode('not an image') },
      ];
      const report = await client.quantizeModel({
        images,
        holdOut: 0.25,
        onProgress: (p) => {
          if (phases.at(-1) !== p.phase) phases.push(p.phase);
        },
      });
      assert.deepEqual(phases, ['ranges', 'histograms', 'writing', 'evaluating']);
      const out = path.join(path.dirname(d.modelPath), 'resnet18.int8.onnx');
      assert.equal(report.out, out);
      const names = images.map((i) => (typeof i === 'string' ? i : i.name));
      assert.deepEqual(
        [...report.calibration.images, ...report.held_out, ...report.skipped.map((s) => s.name)].sort(),
        [...names].sort(),
      );
      assert.ok(report.held_out.length >= 2 && report.calibration.images.length >= 8);
      assert.match(report.skipped.find((s) => s.name === 'notes.png')!.reason, /not a supported image/);
      assert.ok(report.quantized_nodes >= 15, `${report.quantized_nodes} nodes in int8`);
      assert.equal(report.float_nodes.length, 2);

      const model = onnx.ModelProto.decode(readFileSync(out));
      const ops = new Set(model.graph!.node!.map((n) => n.opType));
      assert.ok(ops.has('QuantizeLinear') && ops.has('DequantizeLinear') && !ops.has('Identity'));
      assert.ok(model.graph!.initializer!.some((t) => t.dataType === onnx.TensorProto.DataType.INT8));
      assert.ok(
        model.graph!.initializer!.every((t) => t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL),
      );
      assert.equal((await descriptorForModel(out, 'torchvision', labels)).precision, 'int8');

      // Independently: each precision's own client on the held-out images.
      const a = new InferenceClient(WORKER, { ...fp32, descriptor: d });
      const b = new InferenceClient(WORKER, { ...fp32, descriptor: d, precision: 'int8' });
      try {
        const tops = async (
          c: InferenceClient,
        ): Promise<{ name: string; top: { index: number; label: string; probability: number }[] }[]> =>
          Promise.all(
            report.held_out.map(async (f) => ({
              name: f,
              top: (await c.classify(f, readFileSync(f), { topK: 5 })).top,
            })),
          );
        const [x, y] = [await tops(a), await tops(b)];
        assert.equal((await b.runtimeInfo()).model, out);
        const expected = agreement(pairClassifications(x, y));
        assert.equal(report.agreement.top1_agreement, expected.top1_agreement);
        assert.deepEqual(
          report.agreement.changed.map((c) => c.name),
          expected.changed.map((c) => c.name),
        );
        // The report knows int8's probability of every fp32 top-1 class; top-5 lists may not.
        if (expected.dp_bounded === 0) {
          assert.ok(Math.abs(report.agreement.mean_abs_dp! - expected.mean_abs_dp!) < 1e-4);
        }
      } finally {
        await Promise.all([a.dispose(), b.dispose()]);
      }
    } finally {
      await client.dispose();
    }
  },
);

test(
  'quantizeModel: an undecodable file first in the held-out order is skipped and the next image is held out, wherever the folder is',
  NO_HANG,
  async () => {
    const d = await userResNet18('undecodable');
    const client = new InferenceClient(WORKER, { ...fp32, descriptor: d });
    try {
      const photos = calibrationPhotos().slice(0, 2);
      // The split orders by a hash of each file name: name the bad file so that it comes first.
      const key = (f: string): string => createHash('sha256').update(path.basename(f)).digest('hex');
      const first = photos.map(key).sort()[0]!;
      const bad = Array.from({ length: 200 }, (_, i) => `bad-${i}.png`).find((n) => key(n) < first)!;
      const run = (folder: string): Promise<QuantizeReport> =>
        client.quantizeModel({
          images: [
            ...photos.map((f) => ({ name: path.join(folder, path.basename(f)), bytes: readFileSync(f) })),
            { name: path.join(folder, bad), bytes: new TextEncoder().encode('not an image') },
          ],
          holdOut: 0.34,
          out: path.join(dir, 'undecodable', 'out.int8.onnx'),
        });
      const [here, there] = [await run('/one/photos'), await run('/elsewhere/copy')];
      assert.deepEqual(
        here.skipped.map((s) => s.name),
        [path.join('/one/photos', bad)],
      );
      assert.equal(here.held_out.length, 1);
      assert.equal(here.agreement.images, 1);
      assert.equal(here.calibration.images.length, 1);
      assert.deepEqual(
        [here.held_out, there.held_out].map((h) => h.map((f) => path.basename(f))),
        [[path.basename(here.held_out[0]!)], [path.basename(here.held_out[0]!)]],
      );
    } finally {
      await client.dispose();
    }
  },
);

test(
  'quantizeModel: cancelled before writing leaves no file; the built-in model, an int8 model and bad shares are refused',
  NO_HANG,
  async () => {
    const d = await userResNet18('cancel');
    const client = new InferenceClient(WORKER, { ...fp32, descriptor: d });
    try {
      const abort = new AbortController();
      await assert.rejects(
        client.quantizeModel({
          images: calibrationPhotos(),
          signal: abort.signal,
          onProgress: (p) => {
            if (p.phase === 'histograms') abort.abort();
          },
        }),
        (e: InferenceError) => e.kind === 'cancelled',
      );
      // The worker stops at its next image; then nothing but the model and its data is in the folder.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.deepEqual(readdirSync(path.dirname(d.modelPath)).sort(), [
        'resnet18.onnx',
        'resnet18.onnx.data',
      ]);
      await assert.rejects(
        client.quantizeModel({ images: calibrationPhotos(), holdOut: 0.95 }),
        /held-out share must be 0…0.9/,
      );
    } finally {
      await client.dispose();
    }
    const builtIn = new InferenceClient(WORKER, fp32);
    const int8 = new InferenceClient(WORKER, {
      ...fp32,
      descriptor: await quantizedDescriptor(fp32.descriptor),
    });
    try {
      await assert.rejects(
        builtIn.quantizeModel({ images: calibrationPhotos() }),
        (e: InferenceError) =>
          e.kind === 'model' && /already has its int8 model .*give an output path/.test(e.message),
      );
      await assert.rejects(int8.quantizeModel({ images: calibrationPhotos() }), /is quantized already/);
    } finally {
      await Promise.all([builtIn.dispose(), int8.dispose()]);
    }
    assert.ok(existsSync(path.join(ROOT, 'models', 'resnet50.int8.onnx')));
  },
);

test(
  'cli quantize --json --out and classify --precision int8 with the result; usage errors',
  NO_HANG,
  async () => {
    const d = await userResNet18('cli');
    const photos = path.join(dir, 'photos');
    await fs.mkdir(photos);
    for (const f of calibrationPhotos().slice(0, 6))
      await fs.copyFile(f, path.join(photos, path.basename(f)));
    const out = path.join(dir, 'cli', 'elsewhere.onnx');
    const q = await cli(
      'quantize',
      '--json',
      '--images',
      photos,
      '--model',
      d.modelPath,
      '--hold-out',
      '0.34',
      '--out',
      out,
    );
    assert.equal(q.code, 0, q.stderr);
    const report = JSON.parse(q.stdout) as { out: string; held_out: string[]; agreement: { images: number } };
    assert.deepEqual([report.out, report.held_out.length, report.agreement.images], [out, 2, 2]);
    assert.match(q.stderr, /cnn-lens quantize: calibration pass 1 of 2 \(ranges\), 4 images\n/);
    assert.match(q.stderr, /cnn-lens quantize: fp32 against int8 on the held-out images, 2 images\n/);
    // Not beside the model under its own name: int8 classification still finds no model.
    const c = await cli(
      'classify',
      '--json',
      '--precision',
      'int8',
      '--model',
      d.modelPath,
      path.join(IMAGES, 'chelsea.png'),
    );
    assert.equal(c.code, 1);
    assert.match(c.stderr, /no int8 model for .*resnet18\.onnx/);
    const builtIn = await cli('classify', '--json', '--precision', 'int8', path.join(IMAGES, 'chelsea.png'));
    assert.equal(builtIn.code, 0, builtIn.stderr);
    const [entry] = JSON.parse(builtIn.stdout) as { precision: string; top: { index: number }[] }[];
    assert.deepEqual([entry!.precision, entry!.top[0]!.index], ['int8', 285]);
    for (const [args, message] of [
      [['quantize'], /quantize needs --images <folder>/],
      [['quantize', '--images', photos, '--hold-out', '2'], /--hold-out must be a share 0…0.9/],
      [['quantize', '--images', photos, '--precision', 'int8'], /--precision does not apply/],
      [
        ['classify', '--precision', 'int4', path.join(IMAGES, 'chelsea.png')],
        /--precision must be one of fp32, int8/,
      ],
    ] as const) {
      const r = await cli(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
    }
    const refused = await cli('quantize', '--images', photos);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already has its int8 model/);
  },
);
