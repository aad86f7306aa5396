// Stages side by side by output resolution (src/shared/stageAlignment.ts) on the layer tables of real
// exports: MobileNet V2's 56×56 stage2 beside DenseNet's and ConvNeXt's 56×56 stage1 and ResNet's conv2_x (by
// position it sat beside their 28×28 stage2), gaps where a model has no stage at a resolution, the stem
// first where a model has two stages at one; detectors line up by part.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { parseOnnx } from '../../src/model/onnxGraph';
import { buildLayerTable } from '../../src/model/structure/table';
import type { LayerTable } from '../../src/shared/layerTable';
import {
  alignStages,
  stageOutputStrides,
  strideLabel,
  type StageLine,
} from '../../src/shared/stageAlignment';
import { fixtureGraph } from './helpers/fixtures';

const TASKS = path.resolve(__dirname, '..', 'fixtures', 'tasks');

/** A table's stages as the comparison holds them. */
function stagesOf(
  t: LayerTable,
): { stage: string; out_size: (number | string)[] | null; output_stride: number[] | null }[] {
  const strides = stageOutputStrides(t);
  return t.stages.map((s) => ({
    stage: s.stage,
    out_size: s.out_size,
    output_stride: strides.get(s.stage) ?? null,
  }));
}

/** Each line as its label and each model's stage there ('-' for a gap). */
function text(lines: StageLine<{ stage: string }>[]): string[] {
  return lines.map((l) => {
    const label = l.by === 'part' ? l.part : l.by === 'pooled' ? 'pooled' : strideLabel(l.stride);
    return [label, ...l.cells.map((s) => s?.stage ?? '-')].join(' ');
  });
}

const CLASSIFIERS = ['mobilenet_v2.ts', 'densenet121.ts', 'convnext_tiny.ts', 'resnet50.ts', 'vgg16.ts'];

test('MobileNet V2, DenseNet-121, ConvNeXt-T, ResNet-50, VGG-16: one line per output stride, gaps, the stems first, the stages that leave a resolution together', () => {
  const tables = CLASSIFIERS.map((f) => buildLayerTable(fixtureGraph(f)));
  const lines = alignStages(tables.map(stagesOf));
  assert.deepEqual(text(lines), [
    '/1 - - - - stem',
    '/2 stem stem - conv1 -',
    '/2 stage1 - - - stage1',
    '/4 - - stem - -',
    '/4 stage2 stage1 stage1 conv2_x stage2',
    '/8 stage3 stage2 stage2 conv3_x stage3',
    '/16 stage4 stage3 stage3 conv4_x stage4',
    '/32 stage5 stage4 stage4 conv5_x -',
    'pooled head head head fc head',
  ]);
  // Every stage is shown once, and a line holds stages of one output size (all five take 224×224).
  tables.forEach((t, i) =>
    assert.deepEqual(
      lines.flatMap((l) => (l.cells[i] ? [l.cells[i].stage] : [])),
      t.stages.map((s) => s.stage),
    ),
  );
  for (const l of lines) {
    const sizes = new Set(l.cells.flatMap((s) => (s ? [s.out_size?.join('×')] : [])));
    assert.equal(sizes.size, 1, `${text([l])[0]}: ${[...sizes].join(', ')}`);
  }
});

test('the output stride is the input pixels between output positions at any input size (EfficientNetV2-S at 384)', () => {
  const t = buildLayerTable(fixtureGraph('efficientnet_v2_s.ts'));
  const s = stagesOf(t);
  assert.deepEqual(
    s.map((x) => [x.stage, x.out_size?.join('×'), x.output_stride?.join('×') ?? null]),
    [
      ['stem', '192×192', '2×2'],
      ['stage1', '192×192', '2×2'],
      ['stage2', '96×96', '4×4'],
      ['stage3', '48×48', '8×8'],
      ['stage4', '24×24', '16×16'],
      ['stage5', '12×12', '32×32'],
      ['head', '1×1', null],
    ],
  );
  // Beside ResNet-50 at 224: 96×96 and 56×56 are both a quarter of their inputs.
  const lines = alignStages([s, stagesOf(buildLayerTable(fixtureGraph('resnet50.ts')))]);
  assert.ok(text(lines).includes('/4 stage2 conv2_x'), text(lines).join('\n'));
  assert.equal(strideLabel([16, 8]), '/16×8');
});

test('detectors line up by part, the pre-processing of torchvision’s beside nothing of YOLO’s', () => {
  const table = (f: string): LayerTable =>
    buildLayerTable(parseOnnx(gunzipSync(readFileSync(path.join(TASKS, f)))));
  const yolo = table('yolov8t-detect.onnx.gz');
  const ssd = table('ssdlite320_mobilenet_v3_large.graph.onnx.gz');
  const lines = alignStages([stagesOf(yolo), stagesOf(ssd)]);
  assert.deepEqual(text(lines), [
    'pre-processing - pre-processing',
    'backbone backbone backbone',
    'neck neck neck',
    'head head head',
    'post-processing post-processing post-processing',
  ]);
});
