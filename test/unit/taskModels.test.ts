// Detectors and segmenters with real weights (test/fixtures/tasks): our post-processing of their raw outputs
// against what the frameworks' own post-processing gives on the same outputs (ultralytics'
// non_max_suppression and process_mask, yolov5's rule, torchvision's graph, the segmenter's argmax), and the
// whole path through the worker on a real photo against an independent decode of the same run.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type * as Ort from 'onnxruntime-node';
import { descriptorForModel } from '../../src/files/descriptorFile';
import { InferenceClient } from '../../src/inference/client';
import { anchorCell, decodeDetections, decodeSegmentation, type Frame } from '../../src/inference/taskDecode';
import { DEFAULT_THRESHOLDS, type Task } from '../../src/shared/tasks';
import { cli } from './helpers/cli';
import { configFor } from './helpers/client';
import { tempDir, writeModel } from './helpers/models';
import { IMAGES, WORKER } from './helpers/paths';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof Ort;
const DIR = path.resolve(__dirname, '..', 'fixtures', 'tasks');
const NO_HANG = { timeout: 120_000 };

interface RefDetection {
  box: number[];
  score: number;
  class: number;
  mask_pixels_input?: number;
  keypoints?: number[][];
}
interface RefModel {
  task: string;
  input_shape: number[];
  conf?: number;
  iou?: number;
  detections?: RefDetection[];
  class_fraction?: number[];
}
const REFERENCE = JSON.parse(readFileSync(path.join(DIR, 'reference.json'), 'utf8')) as {
  models: Record<string, RefModel>;
};

let dir: string;
before(() => {
  dir = tempDir('task-models');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The fixture written out as a model file with the descriptor CNN Lens makes for it. */
async function open(name: string) {
  const file = writeModel(dir, `${name}.onnx`, gunzipSync(readFileSync(path.join(DIR, `${name}.onnx.gz`))));
  return { file, descriptor: await descriptorForModel(file, 'torchvision', []) };
}

/** The references' input: x[i] = 0.5 + 0.5 sin(0.0137 i) over the flat tensor. */
function syntheticInput(shape: number[]): Ort.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return new ort.Tensor(
    'float32',
    Float32Array.from({ length: size }, (_, i) => 0.5 + 0.5 * Math.sin(0.0137 * i)),
    shape,
  );
}

/** The model's raw outputs on the synthetic input, as the task reads them. */
async function rawOutputs(file: string, task: Task, shape: number[]) {
  const session = await ort.InferenceSession.create(file);
  try {
    const out = await session.run({ [session.inputNames[0]!]: syntheticInput(shape) });
    return task.outputs.map((name) => ({
      data: Float32Array.from(out[name]!.data as ArrayLike<number>, Number),
      dims: out[name]!.dims,
    }));
  } finally {
    await session.release();
  }
}

/** The input itself as the image: no letterbox, no scaling. */
function identity(size: number): Frame {
  return {
    width: size,
    height: size,
    inputWidth: size,
    inputHeight: size,
    scaleX: 1,
    scaleY: 1,
    padX: 0,
    padY: 0,
  };
}

const clip = (v: number, size: number): number => Math.min(size, Math.max(0, v));

for (const name of ['yolov8t-detect', 'yolov8t-detect-640', 'yolov8t-seg', 'yolov8t-pose', 'yolov5-layout']) {
  test(`${name}: box for box what the framework's own NMS gives on the same output`, NO_HANG, async () => {
    const ref = REFERENCE.models[`${name}.onnx.gz`]!;
    const { file, descriptor } = await open(name);
    const task = descriptor.task!;
    const size = ref.input_shape[3]!;
    const outputs = await rawOutputs(file, task, ref.input_shape);
    const thresholds = { ...DEFAULT_THRESHOLDS, confidence: ref.conf!, iou: ref.iou! };
    const r = decodeDetections(task, outputs, thresholds, identity(size), descriptor.labels);
    const expected = ref.detections!;
    assert.ok(expected.length > 5);
    assert.equal(r.detections.length, expected.length);
    r.detections.forEach((d, i) => {
      const e = expected[i]!;
      assert.equal(d.index, e.class, `detection ${i}`);
      assert.ok(Math.abs(d.score - e.score) < 1e-4, `detection ${i}: score ${d.score} vs ${e.score}`);
      d.box.forEach((v, k) =>
        assert.ok(Math.abs(v - clip(e.box[k]!, size)) < 0.02, `detection ${i}: ${d.box} vs ${e.box}`),
      );
      if (e.mask_pixels_input !== undefined) {
        // process_mask upsamples in float32 on torch: pixels whose logit is ~0 may fall either way.
        const diff = Math.abs(d.maskPixels! - e.mask_pixels_input);
        assert.ok(
          diff <= Math.max(3, e.mask_pixels_input * 0.002),
          `mask ${i}: ${d.maskPixels} vs ${e.mask_pixels_input}`,
        );
      }
      e.keypoints?.forEach(([x, y, v], k) => {
        const [kx, ky, kv] = d.keypoints![k]!;
        assert.ok(
          Math.abs(kx - clip(x!, size)) < 0.02 &&
            Math.abs(ky - clip(y!, size)) < 0.02 &&
            Math.abs(kv - v!) < 1e-4,
        );
      });
    });
  });
}

test(
  'a torchvision detector: its own boxes, scores and labels, read by shape and type',
  NO_HANG,
  async () => {
    const ref = REFERENCE.models['tv-detect.onnx.gz']!;
    const { file, descriptor } = await open('tv-detect');
    const task = descriptor.task!;
    assert.equal(task.head, 'boxes');
    assert.deepEqual(descriptor.format, { layout: 'NCHW', channels: 3, type: 'float32', unbatched: true });
    const outputs = await rawOutputs(file, task, ref.input_shape);
    const r = decodeDetections(task, outputs, { ...DEFAULT_THRESHOLDS, confidence: 0 }, identity(320), []);
    assert.equal(r.detections.length, ref.detections!.length);
    r.detections.forEach((d, i) => {
      const e = ref.detections![i]!;
      assert.equal(d.index, e.class);
      assert.ok(Math.abs(d.score - e.score) < 1e-4);
      d.box.forEach((v, k) => assert.ok(Math.abs(v - e.box[k]!) < 0.02));
    });
  },
);

for (const name of ['unet-seg', 'tv-seg', 'aspp-seg-s8']) {
  test(`${name}: class shares are the model's own argmax`, NO_HANG, async () => {
    const ref = REFERENCE.models[`${name}.onnx.gz`]!;
    const { file, descriptor } = await open(name);
    const task = descriptor.task!;
    assert.equal(task.kind, 'segment');
    const [out] = await rawOutputs(file, task, ref.input_shape);
    const r = decodeSegmentation(out!, identity(ref.input_shape[3]!), descriptor.labels);
    ref.class_fraction!.forEach((fraction, index) => {
      const got = r.classes.find((c) => c.index === index)?.fraction ?? 0;
      assert.ok(Math.abs(got - fraction) < 1e-3, `class ${index}: ${got} vs ${fraction}`);
    });
  });
}

test(
  'through the worker: a real photo letterboxed, detections in its pixels, masks counted',
  NO_HANG,
  async () => {
    const { descriptor } = await open('yolov8t-seg');
    const client = new InferenceClient(WORKER, configFor(descriptor));
    try {
      const bytes = readFileSync(path.join(IMAGES, 'chelsea.png'));
      const r = await client.analyse('chelsea.png', bytes, DEFAULT_THRESHOLDS, { preview: true });
      if (r.task !== 'instances') throw new Error(`task ${r.task}, not instances`);
      assert.deepEqual([r.width, r.height], [451, 300]);
      assert.ok(r.detections.length > 0);
      for (const d of r.detections) {
        assert.ok(d.box[0] >= 0 && d.box[2] <= 451 && d.box[1] >= 0 && d.box[3] <= 300, `${d.box}`);
        assert.ok(d.maskPixels !== undefined && d.maskPixels <= 451 * 300);
        assert.ok([8, 16, 32].includes(d.stride!));
      }
      // The sliders' candidates hold every detection, and the class map covers the image's aspect.
      assert.ok(r.boxes!.length >= r.candidates);
      assert.deepEqual([r.map!.width, r.map!.height], [320, 213]);
      assert.ok(r.preview && r.preview.length > 1000);
      // What reads class scores says it cannot, instead of printing a detector's boxes as 14,700 "classes".
      await assert.rejects(
        client.explore('chelsea.png', readFileSync(path.join(IMAGES, 'chelsea.png')), { topK: 5 }),
        /yolov8t-seg\.onnx is an instance segmenter \(ultralytics metadata: task=segment\): explore reads class scores/,
      );
    } finally {
      await client.dispose();
    }
  },
);

test(
  'cli classify --json by task, --masks writes the class map; compare lines detectors up by part',
  NO_HANG,
  async () => {
    const seg = (await open('yolov8t-seg')).file;
    const unet = (await open('unet-seg')).file;
    const photo = path.join(IMAGES, 'chelsea.png');
    const masks = path.join(dir, 'masks');
    const detected = await cli('classify', '--json', '--quiet', '--conf', '0.3', '--model', seg, photo);
    assert.equal(detected.code, 0, detected.stderr);
    const [d] = JSON.parse(detected.stdout) as {
      task: string;
      detections: { score: number; box: number[]; mask_pixels: number }[];
    }[];
    assert.equal(d!.task, 'instances');
    assert.ok(d!.detections.length > 0 && d!.detections.every((x) => x.score > 0.3 && x.mask_pixels >= 0));
    const segmented = await cli('classify', '--json', '--quiet', '--masks', masks, '--model', unet, photo);
    assert.equal(segmented.code, 0, segmented.stderr);
    const [s] = JSON.parse(segmented.stdout) as { task: string; classes: { fraction: number }[] }[];
    assert.equal(s!.task, 'segment');
    assert.ok(Math.abs(s!.classes.reduce((sum, c) => sum + c.fraction, 0) - 1) < 1e-3);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sharp = require('sharp') as typeof import('sharp');
    const meta = await sharp(path.join(masks, 'chelsea.png')).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels], [451, 300, 1]);
    const usage = await cli('classify', '--conf', '2', '--model', seg, photo);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--conf must be a number 0…1/);
    const compared = await cli('compare', '--no-timing', '--quiet', seg, (await open('yolov8t-detect')).file);
    assert.equal(compared.code, 0, compared.stderr);
    assert.match(compared.stdout, /^ {2}backbone {2,}10×10, 64, 6; [\d.]+ k, [\d.]+ M/m);
    assert.match(compared.stdout, /^ {2}head {2,}/m);
  },
);

test(
  'cli explain on a detector: EigenCAM of its backbone and neck outputs over the image',
  NO_HANG,
  async () => {
    const seg = (await open('yolov8t-seg')).file;
    const photo = path.join(IMAGES, 'chelsea.png');
    const r = await cli('explain', '--json', '--quiet', '--model', seg, photo);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      method: string;
      maps: {
        stage: string;
        stride: number;
        width: number;
        height: number;
        peak: number[];
        grid: number[];
      }[];
    };
    assert.equal(out.method, 'EigenCAM');
    assert.equal(out.maps[0]!.stage, 'backbone');
    assert.ok(out.maps.slice(1).every((m) => m.stage === 'neck'));
    for (const m of out.maps) {
      // The map covers the image, not the letterbox: 451×300 letterboxed into 320² is 320×213 of input pixels.
      assert.equal(m.width, 320 / m.stride);
      assert.ok(
        Math.abs(m.height - Math.ceil(213 / m.stride + 1)) <= 1,
        `${m.height} rows at stride ${m.stride}`,
      );
      assert.equal(m.grid.length, m.width * m.height);
      assert.equal(Math.max(...m.grid), 1);
      assert.ok(m.grid.every((v) => v >= 0 && v <= 1));
      assert.equal(m.grid[m.peak[1]! * m.width + m.peak[0]!], 1);
    }
    const other = await cli('explain', '--quiet', '--method', 'gradcam', '--model', seg, photo);
    assert.equal(other.code, 1);
    assert.match(
      other.stderr,
      /explained with EigenCAM .* gradcam of a box's class score is not in this version/,
    );
  },
);

test(
  "Grad-CAM of a box: its class logit's gradient at the neck output of its head scale",
  NO_HANG,
  async () => {
    const detector = (await open('yolov8t-detect')).file;
    const photo = path.join(IMAGES, 'chelsea.png');
    const r = await cli('explain', '--json', '--quiet', '--box', '1', '--model', detector, photo);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      method: string;
      detection: { stride: number; label: string };
      map: { layer: string; target: string; stride: number; width: number; grid: number[] };
    };
    assert.equal(out.method, 'Grad-CAM');
    assert.equal(
      out.map.stride,
      out.detection.stride,
      'the map is at the resolution of the head scale that found the box',
    );
    assert.match(out.map.target, new RegExp(`^P\\d \\(stride ${out.detection.stride}\\)`));
    assert.equal(out.map.width, 320 / out.map.stride);
    assert.equal(Math.max(...out.map.grid), 1);
    assert.ok(out.map.grid.every((v) => v >= 0 && v <= 1));
    const none = await cli('explain', '--quiet', '--box', '300', '--model', detector, photo);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /--box 300, but the model found \d+ boxes above 0\.25/);
  },
);

test('the cell of an anchor: scale by scale, finest first, row-major', () => {
  assert.deepEqual(anchorCell(0, [8, 16, 32], 320), { stride: 8, x: 0, y: 0, side: 40 });
  assert.deepEqual(anchorCell(41, [8, 16, 32], 320), { stride: 8, x: 1, y: 1, side: 40 });
  assert.deepEqual(anchorCell(1600 + 21, [8, 16, 32], 320), { stride: 16, x: 1, y: 1, side: 20 });
  assert.deepEqual(anchorCell(2099, [8, 16, 32], 320), { stride: 32, x: 9, y: 9, side: 10 });
  assert.equal(anchorCell(2100, [8, 16, 32], 320), undefined);
});
