// Detectors, instance segmenters, pose models and semantic segmenters (#18): their task read from the graph
// and metadata, and post-processing checked against a decode written independently here.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { descriptorForModel } from '../../src/files/descriptorFile';
import {
  decodeDetections,
  decodeSegmentation,
  imageRegion,
  type Frame,
} from '../../src/inference/taskDecode';
import { parseOnnx } from '../../src/model/onnxGraph';
import { headStrides, taskOf } from '../../src/model/task';
import { buildLayerTable } from '../../src/model/structure/table';
import { headFields } from '../../src/shared/layerTable';
import { iou, suppress, type Candidate } from '../../src/shared/detections';
import { DEFAULT_THRESHOLDS, type Task } from '../../src/shared/tasks';
import { InferenceClient } from '../../src/inference/client';
import { configFor } from './helpers/client';
import { tempDir, writeModel } from './helpers/models';
import { IMAGES, WORKER } from './helpers/paths';
import { GraphBuilder } from './helpers/onnxBuilder';

const NO_HANG = { timeout: 120_000 };
const EXPORTERS = path.resolve(__dirname, '..', 'fixtures', 'exporters');
const exporter = (name: string): Uint8Array =>
  gunzipSync(readFileSync(path.join(EXPORTERS, `${name}.ultralytics.onnx.gz`)));

let dir: string;
before(() => {
  dir = tempDir('tasks');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("ultralytics' detect, segment and pose exports are read as their task, with the head's strides", () => {
  const detect = taskOf(parseOnnx(exporter('yolov8n')), 640);
  assert.deepEqual(
    { ...detect, evidence: undefined },
    {
      kind: 'detect',
      head: 'anchors-last',
      outputs: ['output0'],
      classes: 80,
      strides: [8, 16, 32],
      fit: 'letterbox',
      pad: 114,
      evidence: undefined,
    },
  );
  assert.match(detect!.evidence, /ultralytics metadata: task=detect/);
  const seg = taskOf(parseOnnx(exporter('yolov8n-seg')), 640);
  assert.equal(seg?.kind, 'instances');
  assert.deepEqual([seg?.classes, seg?.masks, seg?.outputs], [80, 32, ['output0', 'output1']]);
  const pose = taskOf(parseOnnx(exporter('yolov8n-pose')), 640);
  assert.equal(pose?.kind, 'pose');
  assert.deepEqual([pose?.classes, pose?.keypoints], [1, [17, 3]]);
});

test("a detector's head scales and their receptive fields, from the layer table", () => {
  const fields = headFields(buildLayerTable(parseOnnx(exporter('yolov8n'))));
  assert.deepEqual(
    [...fields.keys()].sort((a, b) => a - b),
    [8, 16, 32],
  );
  const [p3, p4, p5] = [fields.get(8)!, fields.get(16)!, fields.get(32)!];
  assert.ok(p3 < p4 && p4 < p5, `fields ${p3}, ${p4}, ${p5} grow with the stride`);
});

test('head strides: the scales whose anchors add up, finest first', () => {
  assert.deepEqual(headStrides(8400, 640, 32, 1), [8, 16, 32]);
  assert.deepEqual(headStrides(2100, 320, 32, 1), [8, 16, 32]);
  assert.deepEqual(headStrides(3 * 2100, 320, 32, 3), [8, 16, 32]);
  assert.deepEqual(headStrides(8400 + 100, 640, 64, 1), [8, 16, 32, 64]);
  assert.equal(headStrides(1234, 640, 32, 1), undefined);
});

test("a detector's descriptor: its task, ultralytics' RGB / 255 and the class names of its metadata", async () => {
  const file = path.join(dir, 'yolov8n.onnx');
  writeFileSync(file, exporter('yolov8n'));
  const d = await descriptorForModel(file, 'torchvision', []);
  assert.equal(d.task?.kind, 'detect');
  assert.equal(d.preprocessing.crop, 640);
  assert.deepEqual([d.preprocessing.scale, d.preprocessing.mean], [1 / 255, [0, 0, 0]]);
  assert.equal(d.labels.length, 80);
  // A model built from its yaml names its classes '0' … '79'.
  assert.deepEqual(d.labels.slice(0, 3), ['0', '1', '2']);
  assert.match(d.assumed ?? '', /ultralytics model: fed RGB \/ 255/);
});

test(
  'a model whose outputs match no task opens for its table; what would run it names its outputs',
  NO_HANG,
  async () => {
    const g = new GraphBuilder({ name: 'image', c: 3, h: 32, w: 32 });
    const x = g.conv(g.input, 5, 3, { pad: 1 });
    const out = g.node('Reshape', 'flat', [x.name, g.int64s('shape', [1, 5, -1])]);
    g.outputs.push({
      name: out,
      type: { tensorType: { elemType: 1, shape: { dim: [1, 5, 1024].map((d) => ({ dimValue: d })) } } },
    });
    const file = writeModel(dir, 'odd.onnx', g.build());
    const d = await descriptorForModel(file, 'torchvision', []);
    const message =
      /has shape \[1, 5, 1024\].*detects with YOLO anchors.*this model's outputs are "[^"]+" \[1, 5, 1024\]/;
    assert.match(d.unread ?? '', message);
    const client = new InferenceClient(WORKER, configFor(d));
    try {
      assert.equal((await client.layers()).rows.filter((r) => r.op === 'Conv').length, 1);
      await assert.rejects(
        client.classify('chelsea.png', readFileSync(path.join(IMAGES, 'chelsea.png')), { topK: 5 }),
        (err: Error) =>
          message.test(err.message) && /opens for its layer table and profile only/.test(err.message),
      );
    } finally {
      await client.dispose();
    }
  },
);

/** Box centre/size → corners, written apart from the code under test. */
function corners(cx: number, cy: number, w: number, h: number): number[] {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

/** A seeded generator of numbers in [0, 1). */
function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/**
 * The independent decode: every anchor's best class, those above the threshold sorted by score, each kept
 * unless a better kept box of its class overlaps it by more than the IoU threshold (full pairwise IoU).
 */
function referenceDecode(out: Float32Array, classes: number, anchors: number, conf: number, iouMax: number) {
  const rows: { a: number; c: number; s: number; box: number[] }[] = [];
  for (let a = 0; a < anchors; a++) {
    const scores = Array.from({ length: classes }, (_, c) => out[(4 + c) * anchors + a]!);
    const s = Math.max(...scores);
    if (s <= conf) continue;
    const get = (r: number): number => out[r * anchors + a]!;
    rows.push({ a, c: scores.indexOf(s), s, box: corners(get(0), get(1), get(2), get(3)) });
  }
  rows.sort((x, y) => y.s - x.s || x.a - y.a);
  const keep: typeof rows = [];
  for (const r of rows) {
    const clash = keep.some((k) => {
      if (k.c !== r.c) return false;
      const ix = Math.max(0, Math.min(k.box[2]!, r.box[2]!) - Math.max(k.box[0]!, r.box[0]!));
      const iy = Math.max(0, Math.min(k.box[3]!, r.box[3]!) - Math.max(k.box[1]!, r.box[1]!));
      const area = (b: number[]): number => (b[2]! - b[0]!) * (b[3]! - b[1]!);
      return (ix * iy) / (area(k.box) + area(r.box) - ix * iy) > iouMax;
    });
    if (!clash) keep.push(r);
  }
  return keep;
}

test('YOLOv8 post-processing: box for box what an independent decode gives, mapped through the letterbox', () => {
  const [classes, anchors] = [3, 2100];
  const rnd = random(7);
  const out = new Float32Array((4 + classes) * anchors);
  for (let a = 0; a < anchors; a++) {
    // Clusters of overlapping boxes around a few centres, so that NMS has work to do.
    const centre = Math.floor(rnd() * 6);
    out[a] = 40 + centre * 45 + rnd() * 20;
    out[anchors + a] = 60 + (centre % 3) * 80 + rnd() * 20;
    out[2 * anchors + a] = 30 + rnd() * 40;
    out[3 * anchors + a] = 30 + rnd() * 40;
    for (let c = 0; c < classes; c++) out[(4 + c) * anchors + a] = rnd() ** 3;
  }
  const task: Task = {
    kind: 'detect',
    head: 'anchors-last',
    outputs: ['o'],
    classes,
    strides: [8, 16, 32],
    fit: 'letterbox',
    pad: 114,
    evidence: '',
  };
  // A 640×480 image letterboxed into 320×320: scale 0.5, 40 pixels of padding above and below.
  const frame: Frame = {
    width: 640,
    height: 480,
    inputWidth: 320,
    inputHeight: 320,
    scaleX: 0.5,
    scaleY: 0.5,
    padX: 0,
    padY: 40,
  };
  const result = decodeDetections(
    task,
    [{ data: out, dims: [1, 4 + classes, anchors] }],
    DEFAULT_THRESHOLDS,
    frame,
    ['a', 'b', 'c'],
  );
  const all = referenceDecode(out, classes, anchors, 0.25, 0.7);
  assert.ok(all.length > 300, `${all.length} detections: the test needs more than the cap`);
  const expected = all.slice(0, 300);
  assert.equal(result.detections.length, expected.length);
  result.detections.forEach((d, i) => {
    const e = expected[i]!;
    assert.equal(d.index, e.c);
    assert.equal(d.score, e.s);
    const mapped = [e.box[0]! / 0.5, (e.box[1]! - 40) / 0.5, e.box[2]! / 0.5, (e.box[3]! - 40) / 0.5].map(
      (v, k) => Math.min(k % 2 ? 480 : 640, Math.max(0, v)),
    );
    d.box.forEach((v, k) => assert.ok(Math.abs(v - mapped[k]!) < 1e-3, `box ${i}: ${d.box} vs ${mapped}`));
    // 2100 anchors at 320: 1600 of stride 8, 400 of 16, 100 of 32.
    assert.equal(d.stride, e.a < 1600 ? 8 : e.a < 2000 ? 16 : 32);
  });
  assert.equal(
    result.candidates,
    Array.from({ length: anchors }).filter(
      (_, a) => Math.max(...Array.from({ length: classes }, (_, c) => out[(4 + c) * anchors + a]!)) > 0.25,
    ).length,
  );
});

test('NMS: class-aware, best first, capped', () => {
  const c = (box: number[], score: number, cls: number, anchor: number): Candidate => ({
    box: box as Candidate['box'],
    score,
    cls,
    anchor,
  });
  const list = [
    c([0, 0, 10, 10], 0.9, 0, 0),
    c([1, 1, 11, 11], 0.8, 0, 1), // IoU 0.68 with the first: kept at 0.7, suppressed at 0.5
    c([1, 1, 11, 11], 0.85, 1, 2), // another class: never suppressed by class 0
    c([50, 50, 60, 60], 0.2, 0, 3), // under the threshold
  ];
  assert.ok(Math.abs(iou([0, 0, 10, 10], [1, 1, 11, 11]) - 81 / 119) < 1e-12);
  assert.deepEqual(
    suppress(list, 0.25, 0.7, 300).map((k) => k.anchor),
    [0, 2, 1],
  );
  assert.deepEqual(
    suppress(list, 0.25, 0.5, 300).map((k) => k.anchor),
    [0, 2],
  );
  assert.deepEqual(
    suppress(list, 0.25, 0.7, 2).map((k) => k.anchor),
    [0, 2],
  );
});

test('semantic segmentation: shares of the argmax over the image, the letterbox border left out', () => {
  // 2 classes over a 4×4 output of a 4×4 input whose top row is padding.
  const out = new Float32Array(2 * 16);
  for (let i = 0; i < 16; i++) out[16 + i] = i % 4 === 0 ? 1 : -1; // class 1 in the first column
  const frame: Frame = {
    width: 8,
    height: 6,
    inputWidth: 4,
    inputHeight: 4,
    scaleX: 0.5,
    scaleY: 0.5,
    padX: 0,
    padY: 1,
  };
  const r = decodeSegmentation({ data: out, dims: [1, 2, 4, 4] }, frame, ['sky', 'tree']);
  assert.deepEqual([r.map.width, r.map.height], [4, 3]);
  assert.deepEqual(r.classes, [
    { index: 0, label: 'sky', fraction: 0.75 },
    { index: 1, label: 'tree', fraction: 0.25 },
  ]);
  // Edges within an output pixel: every row the image reaches, as activation maps crop it (imageRegion).
  const partly: Frame = { ...frame, height: 5.6, padY: 0.6 };
  const p = decodeSegmentation({ data: out, dims: [1, 2, 4, 4] }, partly, ['sky', 'tree']);
  assert.deepEqual([p.map.width, p.map.height], [4, 4]);
  assert.deepEqual(imageRegion(partly, 4, 4), { x: 0, y: 0, width: 4, height: 4 });
});
