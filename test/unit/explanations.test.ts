// Explanations through the real worker, checked against computations made here: Grad-CAM against CAM and
// the fc weights at the last stage, against finite differences of the logits at conv4_x (a model with a
// perturbation input at that tensor), HiResCAM against Grad-CAM where the gradient is spatially constant,
// occlusion and Score-CAM against CAM, the metrics against a direct faithfulness run with a bare session;
// refusals with their reasons (ConvNeXt's LayerNormalization), a model with external weights, cancelling,
// and the CLI's JSON.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { InferenceClient, InferenceError } from '../../src/inference/client';
import type { WorkerConfig } from '../../src/inference/messages';
import { prepareImage } from '../../src/inference/preprocess';
import { softmax } from '../../src/inference/postprocess';
import { findCamSource, normaliseMap } from '../../src/model/cam';
import { descriptorForModel } from '../../src/files/descriptorFile';
import { faithfulness } from '../../src/model/explain/faithfulness';
import { upsample } from '../../src/model/explain/maps';
import { parseOnnx } from '../../src/model/onnxGraph';
import { readFloats } from '../../src/model/quantize/tensors';
import {
  defaultExplainLayer,
  type ExplainableLayer,
  type Explanation,
  type Exploration,
} from '../../src/shared/exploration';
import { cpuConfig } from './helpers/client';
import { fixtureBytes, runnable } from './helpers/fixtures';
import { imagenetLabels, signedWeights, tempDir, writeExternal, writeModel } from './helpers/models';
import { CLI, IMAGES, WORKER } from './helpers/paths';

const read = (f: string): Buffer => readFileSync(path.join(IMAGES, f));
const NO_HANG = { timeout: 180_000 };

let config: WorkerConfig;
let client: InferenceClient;
let chelsea: Exploration;
let layers: ExplainableLayer[];
let dir: string;

before(async () => {
  config = { ...(await cpuConfig()), exploreIdleMs: 0 };
  client = new InferenceClient(WORKER, config);
  chelsea = await client.explore('chelsea.png', read('chelsea.png'), { topK: 5 });
  layers = await client.explainableLayers();
  dir = tempDir('explanations');
});
after(async () => {
  await client.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let [ma, mb] = [0, 0];
  for (let i = 0; i < n; i++) [ma, mb] = [ma + a[i]! / n, mb + b[i]! / n];
  let [ab, aa, bb] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

test("explainableLayers: ResNet50's stages and blocks with their rows and shapes, none 1×1; CAM's layer is the one drawn", () => {
  const byName = new Map(layers.map((l) => [l.layer, l]));
  const stages = layers.filter((l) => l.kind === 'stage').map((l) => l.layer);
  assert.deepEqual(stages, ['conv1', 'conv2_x', 'conv3_x', 'conv4_x', 'conv5_x']);
  assert.equal(layers.filter((l) => l.kind === 'block').length, 16);
  const conv4 = byName.get('conv4_x')!;
  assert.deepEqual(conv4.shape, [1024, 14, 14]);
  assert.equal(conv4.row, 'conv4_6 c 1×1, 1024');
  assert.equal(byName.get('conv4_6')!.row, conv4.row, 'a stage ends where its last block does');
  assert.deepEqual([conv4.reason, conv4.cam], [null, false]);
  // The classifier's output is 1×1 per class: no map, so not listed (it was, as "not available").
  assert.equal(byName.get('fc'), undefined);
  for (const l of layers) assert.ok(l.shape[1]! * l.shape[2]! > 1, `${l.layer}: ${l.shape.join('×')}`);
  assert.deepEqual(
    layers.filter((l) => l.cam).map((l) => l.layer),
    ['conv5_x', 'conv5_3'],
  );
  assert.equal(chelsea.cam!.layer, 'conv5_x', "the exploration's map names the layer the list selects");
  for (const method of ['cam', 'gradcam', 'hirescam', 'scorecam'] as const)
    assert.equal(defaultExplainLayer(layers, method), 'conv5_x', method);
});

test(
  'Grad-CAM at the last stage equals CAM within 1e-4 through the worker (ResNet50, chelsea); α = fc weight / (H·W)',
  NO_HANG,
  async () => {
    const cam = await client.explain(chelsea.key, { method: 'cam' });
    const grad = await client.explain(chelsea.key, { method: 'gradcam' });
    assert.deepEqual([cam.method, cam.layer, cam.rows, cam.cols], ['cam', 'conv5_x', 7, 7]);
    assert.deepEqual([grad.method, grad.layer, grad.rows, grad.cols], ['gradcam', 'conv5_x', 7, 7]);
    assert.deepEqual(
      grad.classes.map((c) => c.index),
      chelsea.top.map((p) => p.index),
    );
    // The explanation's CAM is the exploration's.
    chelsea.cam!.classes.forEach((c, i) => assert.deepEqual(cam.classes[i]!.grid, c.grid));
    // The fc weights, read here from the file.
    const bytes = await fs.readFile(config.descriptor.modelPath);
    const source = findCamSource(parseOnnx(bytes)).source!;
    const model = onnx.ModelProto.decode(bytes);
    const w = readFloats(model.graph!.initializer!.find((t) => t.name === source.weight)!);
    grad.classes.forEach((c, i) => {
      const diff = maxDiff(c.grid, cam.classes[i]!.grid);
      assert.ok(diff <= 1e-4, `${c.label}: Grad-CAM differs from CAM by ${diff}`);
      const want = Array.from({ length: source.channels }, (_, ch) => {
        const weight = source.classMajor
          ? w[c.index * source.channels + ch]!
          : w[ch * source.classes + c.index]!;
        return (source.alpha * weight) / 49;
      });
      const scale = Math.max(...want.map(Math.abs));
      assert.ok(maxDiff(c.mean_gradient!, want) <= 1e-5 * scale, `${c.label}: α is w / 49`);
    });
  },
);

test(
  'HiResCAM equals Grad-CAM where the gradient is spatially constant (GAP → fc), and not at conv4_x',
  NO_HANG,
  async () => {
    const hires = await client.explain(chelsea.key, { method: 'hirescam', classes: 3 });
    const grad = await client.explain(chelsea.key, { method: 'gradcam', classes: 3 });
    hires.classes.forEach((c, i) => {
      assert.ok(maxDiff(c.grid, grad.classes[i]!.grid) <= 1e-5, c.label);
      assert.deepEqual(c.mean_gradient, grad.classes[i]!.mean_gradient);
    });
    const inner = await client.explain(chelsea.key, { method: 'hirescam', layer: 'conv4_x', classes: 1 });
    const innerGrad = await client.explain(chelsea.key, { method: 'gradcam', layer: 'conv4_x', classes: 1 });
    const diff = maxDiff(inner.classes[0]!.grid, innerGrad.classes[0]!.grid);
    assert.ok(diff > 0.05, `at conv4_x each position has its own gradient (max |Δ| ${diff})`);
  },
);

/**
 * ResNet50 with an input `delta` added to `tensor` before anything reads it: runs of the whole model at
 * A + δ, for finite differences at that layer, made here without the gradient builder.
 */
async function perturbable(tensor: string, dims: number[]): Promise<ort.InferenceSession> {
  const model = onnx.ModelProto.decode(await fs.readFile(config.descriptor.modelPath));
  const g = model.graph!;
  for (const n of g.node!) n.input = n.input!.map((i) => (i === tensor ? `${tensor}+delta` : i));
  const at = g.node!.findIndex((n) => n.output!.includes(tensor));
  g.node!.splice(at + 1, 0, {
    opType: 'Add',
    name: 'delta',
    input: [tensor, 'delta'],
    output: [`${tensor}+delta`],
  });
  const dim = (d: number | string): onnx.TensorShapeProto.IDimension =>
    typeof d === 'number' ? { dimValue: d } : { dimParam: d };
  g.input!.push({
    name: 'delta',
    type: {
      tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: ['N', ...dims].map(dim) } },
    },
  });
  g.output!.push({ name: tensor });
  return ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
}

test(
  'Grad-CAM at conv4_x: 14×14, its gradient agrees with finite differences of the logits, its map is Σ α·A',
  NO_HANG,
  async () => {
    const e = await client.explain(chelsea.key, { method: 'gradcam', layer: 'conv4_x', classes: 2 });
    assert.deepEqual([e.layer, e.rows, e.cols, e.reason], ['conv4_x', 14, 14, null]);
    const hires = await client.explain(chelsea.key, { method: 'hirescam', layer: 'conv4_x', classes: 1 });
    const [C, plane] = [1024, 196];
    const session = await perturbable('activation_39', [C, 14, 14]);
    try {
      const image = (await prepareImage(read('chelsea.png'), config.descriptor.preprocessing, 1e8)).tensor;
      /** Logits of the image with A + δ for each δ. */
      const logitsAt = async (deltas: Float32Array[]): Promise<{ logits: Float32Array; a: Float32Array }> => {
        const x = new Float32Array(deltas.length * image.length);
        const d = new Float32Array(deltas.length * C * plane);
        deltas.forEach((delta, b) => {
          x.set(image, b * image.length);
          d.set(delta, b * C * plane);
        });
        const out = await session.run({
          input: new ort.Tensor('float32', x, [deltas.length, 3, 224, 224]),
          delta: new ort.Tensor('float32', d, [deltas.length, C, 14, 14]),
        });
        return {
          logits: out.logits!.data as Float32Array,
          a: (out.activation_39!.data as Float32Array).slice(0, C * plane),
        };
      };
      const { a } = await logitsAt([new Float32Array(C * plane)]);
      const eps = 0.01;
      for (const c of e.classes) {
        const alpha = c.mean_gradient!;
        assert.equal(alpha.length, C);
        // Its map is ReLU(Σ α_c A_c), normalised, with A from this independent run.
        const raw = new Float64Array(plane);
        for (let ch = 0; ch < C; ch++)
          for (let p = 0; p < plane; p++) raw[p]! += alpha[ch]! * a[ch * plane + p]!;
        assert.ok(maxDiff(c.grid, normaliseMap(raw)) <= 1e-4, c.label);
        // α_c = (1/HW)·d logit / dε of A + ε on the whole channel c: the three largest |α| and two others.
        const order = [...alpha.keys()].sort((x, y) => Math.abs(alpha[y]!) - Math.abs(alpha[x]!));
        const channels = [...order.slice(0, 3), order[200]!, order[700]!];
        const deltas = channels.flatMap((ch) =>
          [eps, -eps].map((s) => {
            const delta = new Float32Array(C * plane);
            delta.fill(s, ch * plane, (ch + 1) * plane);
            return delta;
          }),
        );
        const { logits } = await logitsAt(deltas);
        const largest = Math.abs(alpha[order[0]!]!);
        channels.forEach((ch, i) => {
          const fd =
            (logits[2 * i * 1000 + c.index]! - logits[(2 * i + 1) * 1000 + c.index]!) / (2 * eps) / plane;
          const err = Math.abs(fd - alpha[ch]!);
          assert.ok(
            err <= 0.02 * Math.abs(fd) + 0.01 * largest,
            `${c.label}, channel ${ch}: α ${alpha[ch]}, FD ${fd}`,
          );
        });
      }
      // HiResCAM's raw value at position p is Σ_c ∂y/∂A[c,p]·A[c,p]: the derivative along A scaled at p alone.
      // Positive cells keep their ratios to the peak after normalisation.
      const c = hires.classes[0]!;
      const cells = [...c.grid.keys()].filter((p) => c.grid[p]! > 0.2).slice(0, 5);
      const peak = c.grid.indexOf(1);
      const deltas = [peak, ...cells].flatMap((p) =>
        [eps, -eps].map((s) => {
          const delta = new Float32Array(C * plane);
          for (let ch = 0; ch < C; ch++) delta[ch * plane + p] = s * a[ch * plane + p]!;
          return delta;
        }),
      );
      const { logits } = await logitsAt(deltas);
      const fd = [peak, ...cells].map(
        (_, i) => (logits[2 * i * 1000 + c.index]! - logits[(2 * i + 1) * 1000 + c.index]!) / (2 * eps),
      );
      cells.forEach((p, i) => {
        const ratio = fd[i + 1]! / fd[0]!;
        assert.ok(
          Math.abs(ratio - c.grid[p]!) <= 0.02,
          `HiResCAM cell ${p}: ${c.grid[p]} vs FD ratio ${ratio}`,
        );
      });
    } finally {
      await session.release();
    }
  },
);

test(
  'occlusion (default patch 32, stride 16) and Score-CAM (32 channels) through the worker point where CAM points (coffee.png)',
  NO_HANG,
  async () => {
    const coffee = await client.explore('coffee.png', read('coffee.png'), { topK: 5 });
    const cam = await client.explain(coffee.key, { method: 'cam', classes: 1 });
    const occ = await client.explain(coffee.key, { method: 'occlusion', classes: 2 });
    assert.deepEqual([occ.layer, occ.rows, occ.cols, occ.patch, occ.stride], [null, 13, 13, 32, 16]);
    assert.equal(occ.scored, 1 + 13 * 13, 'the second class reuses the first one’s images');
    const score = await client.explain(coffee.key, { method: 'scorecam', classes: 1 });
    assert.deepEqual(
      [score.layer, score.rows, score.cols, score.channels, score.scored],
      ['conv5_x', 7, 7, 32, 32],
    );
    const camGrid = cam.classes[0]!.grid;
    const rOcc = correlation(occ.classes[0]!.grid, upsample({ rows: 7, cols: 7, values: camGrid }, 13));
    const rScore = correlation(score.classes[0]!.grid, camGrid);
    assert.ok(rOcc > 0.3, `occlusion agrees with CAM (r = ${rOcc.toFixed(2)})`);
    assert.ok(rScore > 0.5, `Score-CAM agrees with CAM (r = ${rScore.toFixed(2)})`);
  },
);

test(
  'metrics equal a direct faithfulness(...) run with a bare session; shared images are scored once',
  NO_HANG,
  async () => {
    const e = await client.explain(chelsea.key, { method: 'cam', classes: 2, metrics: true });
    // Per map: deletion and insertion interiors (19 + 19) and the image through the map; the whole, blurred
    // and mean-colour images, and the random map's 39, serve every class.
    assert.equal(e.scored, 3 + 39 * (e.classes.length + 1));
    const session = await ort.InferenceSession.create(config.descriptor.modelPath);
    try {
      const image = (await prepareImage(read('chelsea.png'), config.descriptor.preprocessing, 1e8)).tensor;
      const scorer =
        (k: number) =>
        async (images: Float32Array[]): Promise<number[]> => {
          const out: number[] = [];
          for (let i = 0; i < images.length; i += 8) {
            const batch = images.slice(i, i + 8);
            const x = new Float32Array(batch.length * image.length);
            batch.forEach((b, j) => x.set(b, j * image.length));
            const r = await session.run({ input: new ort.Tensor('float32', x, [batch.length, 3, 224, 224]) });
            const logits = r.logits!.data as Float32Array;
            for (let j = 0; j < batch.length; j++)
              out.push(softmax(logits.subarray(j * 1000, (j + 1) * 1000))[k]!);
          }
          return out;
        };
      for (const c of e.classes) {
        const want = await faithfulness(image, { rows: 7, cols: 7, values: c.grid }, scorer(c.index), {
          crop: 224,
          steps: 20,
        });
        const got = c.metrics!;
        for (const [name, m, w] of [
          ['map', got, want],
          ['random', got.random, want.random],
        ] as const) {
          assert.ok(maxDiff(m.deletion, w.deletion) <= 1e-4, `${c.label} ${name} deletion`);
          assert.ok(maxDiff(m.insertion, w.insertion) <= 1e-4, `${c.label} ${name} insertion`);
          assert.ok(Math.abs(m.deletion_auc - w.deletion_auc) <= 1e-4, `${c.label} ${name} deletion AUC`);
          assert.ok(Math.abs(m.insertion_auc - w.insertion_auc) <= 1e-4, `${c.label} ${name} insertion AUC`);
          assert.ok(Math.abs(m.average_drop - w.average_drop) <= 1e-2, `${c.label} ${name} average drop (%)`);
          assert.equal(m.increase_in_confidence, w.increase_in_confidence, `${c.label} ${name}`);
        }
      }
    } finally {
      await session.release();
    }
  },
);

test(
  "ConvNeXt: Grad-CAM's refusal names LayerNormalization; Score-CAM works there; CAM only at its own layer",
  NO_HANG,
  async () => {
    const file = writeModel(dir, 'convnext_tiny.onnx', runnable(fixtureBytes('convnext_tiny.ts')));
    const d = await descriptorForModel(file, 'torchvision', await imagenetLabels());
    const convnext = new InferenceClient(WORKER, { ...config, descriptor: d });
    try {
      const list = await convnext.explainableLayers();
      const refused = list.filter((l) => l.reason !== null);
      assert.ok(refused.length > 0);
      for (const l of refused)
        assert.match(l.reason!, /^LayerNormalization node "[^"]+": no backward rule for this op$/);
      const layer = defaultExplainLayer(list, 'gradcam')!;
      assert.ok(
        refused.some((l) => l.layer === layer),
        'no stage is supported: the default is the last one with a map',
      );
      const bytes = read('chelsea.png');
      const grad = await convnext.explain({ name: 'chelsea.png', bytes }, { method: 'gradcam' });
      assert.equal(grad.layer, layer);
      assert.deepEqual(grad.classes, []);
      assert.equal(grad.reason, list.find((l) => l.layer === layer)!.reason);
      // Score-CAM needs no gradient; the image is the one the worker holds now (by key).
      const score = await convnext.explain(grad.key, { method: 'scorecam', layer, classes: 1, channels: 4 });
      assert.equal(score.reason, null);
      assert.equal(score.classes[0]!.grid.length, score.rows * score.cols);
      const other = list.find((l) => !l.cam)!;
      const cam = await convnext.explain(grad.key, { method: 'cam', layer: other.layer });
      assert.deepEqual(cam.classes, []);
      assert.match(cam.reason!, /^(CAM explains|EigenCAM, standing in for CAM, reads) only /);
    } finally {
      await convnext.dispose();
    }
  },
);

test(
  'GoogLeNet (dynamo export, weights in an external .data file): Grad-CAM at the last stage equals CAM, and runs at an inner one',
  NO_HANG,
  async () => {
    const sub = tempDir('googlenet-grad');
    const file = writeExternal(
      sub,
      'googlenet.onnx',
      signedWeights(runnable(fixtureBytes('googlenet.dynamo'))),
    );
    const d = await descriptorForModel(file, 'torchvision', await imagenetLabels());
    const googlenet = new InferenceClient(WORKER, { ...config, descriptor: d });
    try {
      const list = await googlenet.explainableLayers();
      const last = defaultExplainLayer(list, 'gradcam')!;
      assert.ok(list.find((l) => l.layer === last)!.cam, `${last} is where CAM reads`);
      const bytes = read('coffee.png');
      const cam: Explanation = await googlenet.explain(
        { name: 'coffee.png', bytes },
        { method: 'cam', classes: 3 },
      );
      const grad = await googlenet.explain(cam.key, { method: 'gradcam', classes: 3 });
      assert.equal(cam.method, 'cam');
      grad.classes.forEach((c, i) => assert.ok(maxDiff(c.grid, cam.classes[i]!.grid) <= 1e-4, c.label));
      const inner = list.filter((l) => l.kind === 'stage' && l.reason === null && l.layer !== last).at(-1)!;
      const e = await googlenet.explain(cam.key, { method: 'gradcam', layer: inner.layer, classes: 1 });
      assert.deepEqual([e.rows, e.cols], inner.shape!.slice(1));
      assert.ok(new Set(e.classes[0]!.grid).size > 5, `${inner.layer}: a map with structure`);
    } finally {
      await googlenet.dispose();
      rmSync(sub, { recursive: true, force: true });
    }
  },
);

test(
  'cancelling an occlusion request rejects it at once and stops its runs in the worker; the next request is served',
  NO_HANG,
  async () => {
    const logs: string[] = [];
    const own = new InferenceClient(WORKER, config, (m) => logs.push(m));
    try {
      const x = await own.explore('chelsea.png', read('chelsea.png'), { topK: 5 });
      const abort = new AbortController();
      const pending = own.explain(x.key, { method: 'occlusion', metrics: true, signal: abort.signal });
      setTimeout(() => abort.abort(), 300);
      await assert.rejects(pending, (err: InferenceError) => err.kind === 'cancelled');
      const next = await own.explain(x.key, { method: 'cam', classes: 1 });
      assert.equal(next.classes[0]!.index, 285);
      // Occlusion alone is 170 images per class; the log says how far it got when a batch saw the cancel.
      const said = (): RegExpExecArray | undefined =>
        logs.map((m) => /^occlusion cancelled after scoring (\d+) images$/.exec(m)).find((m) => m !== null) ??
        undefined;
      while (!said()) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(Number(said()![1]) < 170, `stopped after ${said()![1]} images`);
    } finally {
      await own.dispose();
    }
  },
);

test(
  'cli explain --json --method gradcam --layer conv4_x --metrics --classes 2: the documented keys',
  NO_HANG,
  async () => {
    const run = promisify(execFile);
    const image = path.join(IMAGES, 'chelsea.png');
    const args = [
      'explain',
      '--json',
      '--method',
      'gradcam',
      '--layer',
      'conv4_x',
      '--metrics',
      '--classes',
      '2',
      image,
    ];
    const { stdout } = await run('node', [CLI, ...args]);
    const out = JSON.parse(stdout) as {
      cam: {
        index: number;
        grid: number[];
        layer: string;
        method: string;
        metrics: Record<string, unknown>;
      }[];
      cam_method: string;
      feature_maps: { layer: string; out_shape: number[] };
    };
    assert.deepEqual(Object.keys(out), ['file', 'top', 'layers', 'cam', 'cam_method', 'feature_maps']);
    assert.equal(out.cam_method, 'gradcam');
    assert.equal(out.cam.length, 2);
    assert.deepEqual(Object.keys(out.cam[0]!), ['index', 'label', 'grid', 'layer', 'method', 'metrics']);
    assert.deepEqual([out.cam[0]!.index, out.cam[0]!.grid.length, out.cam[0]!.layer], [285, 196, 'conv4_x']);
    const figures = ['deletion_auc', 'insertion_auc', 'average_drop', 'increase_in_confidence'];
    assert.deepEqual(Object.keys(out.cam[0]!.metrics), [...figures, 'random']);
    assert.deepEqual(Object.keys(out.cam[0]!.metrics.random as object), figures);
    assert.deepEqual(out.feature_maps.out_shape, [1, 1024, 14, 14], "the stage's output");
    // CAM elsewhere than its layer: no maps, the reason, exit code 1; an unknown method: usage, exit code 2.
    const refused = await run('node', [CLI, 'explain', '--json', '--layer', 'conv4_x', image]).catch(
      (e) => e,
    );
    assert.equal(refused.code, 1);
    const r = JSON.parse(refused.stdout) as { cam: unknown[]; cam_method: null; cam_reason: string };
    assert.deepEqual([r.cam, r.cam_method], [[], null]);
    assert.match(r.cam_reason, /^CAM explains only conv5_x/);
    const usage = await run('node', [CLI, 'explain', '--method', 'lime', image]).catch((e) => e);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--method must be one of cam, gradcam, hirescam, occlusion, scorecam/);
  },
);
