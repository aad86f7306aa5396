// Detectors and segmenters in the layer table (#18, item 3): backbone, neck and head as stages, per-scale
// head blocks named by their stride, box decoding as post-processing rows that are no layers. The answers
// come from outside CNN Lens: ultralytics' own parameter count (test/fixtures/exporters/reference.json),
// the YOLOv8 architecture (backbone to SPPF, a PAN neck of four C2f levels, three decoupled head scales)
// and a U-Net built here.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { renderMarkdown, renderText } from '../../src/cli/tableText';
import { parseOnnx } from '../../src/model/onnxGraph';
import { buildLayerTable } from '../../src/model/structure/table';
import type { LayerTable } from '../../src/shared/layerTable';
import { GraphBuilder, type Tensor } from './helpers/onnxBuilder';

const EXPORTERS = path.resolve(__dirname, '..', 'fixtures', 'exporters');
const TASKS = path.resolve(__dirname, '..', 'fixtures', 'tasks');

interface Reference {
  macs: number;
  framework_params: number;
  bn_folded_channels: number;
  non_weight_constants: number;
}
const REFERENCE = JSON.parse(readFileSync(path.join(EXPORTERS, 'reference.json'), 'utf8')) as Record<
  string,
  Reference
>;

function table(file: string): LayerTable {
  return buildLayerTable(parseOnnx(gunzipSync(readFileSync(file))));
}

const YOLO = ['yolov8n.ultralytics', 'yolov8n-seg.ultralytics', 'yolov8n-pose.ultralytics'];
// The YOLOv8 detectors of the task fixtures, where they exist (test/fixtures/tasks, made by
// scripts/fixtures/tasks). Their width-1/16 scale keeps the head at 64 channels, so its P3 branches hold
// most of the work: the 35 % bound is for the real scales.
const MORE = existsSync(TASKS)
  ? readdirSync(TASKS)
      .filter((f) => /^yolov8t-.*\.onnx\.gz$/.test(f))
      .map((f) => path.join(TASKS, f))
  : [];

/** Whether each value's occurrences in `xs` form one run (rows of a stage or block shown together);
 *  null (rows outside blocks) may recur. */
function contiguous(xs: (string | null)[]): boolean {
  const done = new Set<string>();
  return xs.every((x, i) => {
    const prev = xs[i - 1];
    if (i === 0 || prev === x) return true;
    if (prev !== null && prev !== undefined) done.add(prev);
    return x === null || !done.has(x);
  });
}

const DETECTOR_STAGES = ['backbone', 'neck', 'head', 'post-processing'];

/** What every detector's table must show. */
function checkDetector(t: LayerTable, name: string, bounded = true, stages = DETECTOR_STAGES): void {
  assert.deepEqual(
    t.stages.map((s) => s.stage),
    stages,
    `${name}: stages`,
  );
  for (const b of bounded ? t.blocks : [])
    assert.ok(
      b.macs <= 0.35 * t.totals.macs,
      `${name}: ${b.block} holds ${((100 * b.macs) / t.totals.macs).toFixed(1)} %`,
    );
  const post = t.rows.filter((r) => r.stage === 'post-processing');
  assert.ok(post.length > 0 && post.every((r) => !r.counted), `${name}: post-processing rows are no layers`);
  const pre = t.rows.filter((r) => r.stage === 'pre-processing');
  assert.ok(
    pre.every((r) => !r.counted && r.params === 0),
    `${name}: pre-processing rows are no layers, mean and std no parameters`,
  );
  assert.ok(contiguous(t.rows.map((r) => r.stage)), `${name}: each stage's rows together`);
  assert.ok(contiguous(t.rows.map((r) => r.block)), `${name}: each block's rows together`);
  assert.equal(t.totals.counted, t.rows.filter((r) => r.counted).length);
}

for (const name of YOLO) {
  test(`${name}: backbone to SPPF, a four-level PAN neck, P3/P4/P5 head, box decoding apart`, () => {
    const t = table(path.join(EXPORTERS, `${name}.onnx.gz`));
    const ref = REFERENCE[name]!;
    checkDetector(t, name);
    assert.equal(t.family, 'YOLOv8', 'named after its backbone');
    assert.equal(t.totals.macs, ref.macs);
    // Anchor points and strides are constants; what is left are ultralytics' parameters less BatchNorm
    // folding (the DFL's fixed 1×16 weights included: torch counts them as a parameter too).
    assert.equal(t.totals.params, ref.framework_params - ref.bn_folded_channels, 'parameters');
    assert.equal(t.totals.constants, ref.non_weight_constants, 'constants');

    const rowsOf = (stage: string): LayerTable['rows'] => t.rows.filter((r) => r.stage === stage);
    // The backbone ends with SPPF: three 5×5 max pools at stride 32, then its 1×1.
    const backbone = rowsOf('backbone');
    assert.equal(backbone.filter((r) => r.op === 'MaxPool').length, 3);
    assert.deepEqual(backbone.at(-1)!.out_shape, [1, 256, 20, 20]);
    assert.deepEqual(
      t.blocks.filter((b) => b.stage === 'neck').map((b) => [b.block, b.kind]),
      [
        ['top-down P4', 'top-down'],
        ['top-down P3', 'top-down'],
        ['bottom-up P4', 'bottom-up'],
        ['bottom-up P5', 'bottom-up'],
      ],
    );
    assert.equal(rowsOf('neck').filter((r) => r.op === 'Resize').length, 2, 'both upsamplings in the neck');
    const heads = t.blocks.filter((b) => b.stage === 'head').map((b) => b.block);
    const scales = ['P3 (stride 8)', 'P4 (stride 16)', 'P5 (stride 32)'];
    assert.deepEqual(heads, name.includes('seg') ? ['mask prototypes', ...scales] : scales);
    // Box, class (and mask coefficient or keypoint) branches side by side at each scale.
    const branches = name.includes('-') ? 3 : 2;
    const p3 = rowsOf('head').filter((r) => r.block === 'P3 (stride 8)' && r.role === 'branch');
    assert.equal(new Set(p3.map((r) => r.name.split(' ')[3])).size, branches, 'branches at P3');
    assert.ok(p3.every((r) => r.out_shape?.[2] === 80 || r.out_shape?.length === 3));

    // Post-processing: the DFL expectation over 16 bins, the anchors' Sub/Add, the strides' Mul.
    const post = rowsOf('post-processing');
    const dfl = post.filter((r) => /DFL expectation over 16 bins/.test(r.name));
    assert.equal(dfl.length, 1);
    assert.equal(dfl[0]!.params, 16);
    assert.equal(
      post.reduce((s, r) => s + r.params, 0),
      16,
      'no other parameters after the head',
    );
    for (const op of ['Sub', 'Mul', 'Sigmoid']) {
      assert.ok(
        post.some((r) => r.onnx_ops.includes(op)),
        `${op} is post-processing`,
      );
    }
    assert.deepEqual(post.at(-1)!.out_shape, t.model.output!.shape, 'the output is decoded there');
  });
}

for (const file of MORE) {
  test(`${path.basename(file)}: stages of a detector`, () => {
    checkDetector(table(file), path.basename(file), false);
  });
}

test('the markdown and text tables show a detector stage by stage, post-processing last', () => {
  const t = table(path.join(EXPORTERS, 'yolov8n.ultralytics.onnx.gz'));
  const md = renderMarkdown(t);
  const subtotals = [...md.matchAll(/\*\*([a-z-]+) subtotal\*\*/g)].map((m) => m[1]);
  assert.deepEqual(subtotals, ['backbone', 'neck', 'head', 'post-processing']);
  const text = renderText(t);
  const at = ['backbone', 'neck', 'head', 'post-processing'].map((s) => text.indexOf(`\n${s} `));
  assert.ok(
    at.every((i, k) => i > 0 && (k === 0 || i > at[k - 1]!)),
    'stage summaries in order',
  );
  const json = JSON.parse(JSON.stringify(t)) as LayerTable;
  assert.deepEqual(
    json.stages.map((s) => s.stage),
    ['backbone', 'neck', 'head', 'post-processing'],
  );
});

/** A U-Net: encoder 32² → 16² → 8², decoder back with skip concatenations, a 1×1 to 3 classes per pixel. */
function unet(): Uint8Array {
  const b = new GraphBuilder({ name: 'image', c: 3, h: 32, w: 32 }, 1);
  const conv = (x: Tensor, c: number, stride = 1): Tensor => b.conv(x, c, 3, { stride, pad: 1, bias: true });
  b.initializers.push({ name: 'scales', dims: [4], dataType: 1, floatData: [1, 1, 2, 2] });
  const up = (x: Tensor): Tensor => ({
    name: b.node(
      'Resize',
      b.fresh('up'),
      [x.name, '', 'scales'],
      [{ name: 'mode', type: 3, s: Buffer.from('nearest') }],
    ),
    c: x.c,
    h: x.h * 2,
    w: x.w * 2,
  });
  const cat = (x: Tensor, y: Tensor): Tensor => ({
    name: b.node('Concat', b.fresh('cat'), [x.name, y.name], [{ name: 'axis', type: 2, i: 1 }]),
    c: x.c + y.c,
    h: x.h,
    w: x.w,
  });
  const e1 = conv(b.input, 8);
  const e2 = conv(conv(e1, 16, 2), 16);
  const bottom = conv(conv(e2, 32, 2), 32);
  const d2 = conv(cat(up(bottom), e2), 16);
  const d1 = conv(cat(up(d2), e1), 8);
  const out = b.conv(d1, 3, 1, { bias: true, name: 'classifier' });
  b.output(out.name);
  return b.build();
}

test('a U-Net: the encoder is the backbone, the decoder the neck, the per-pixel classifier the head', () => {
  const t = buildLayerTable(parseOnnx(unet()));
  assert.deepEqual(
    t.stages.map((s) => s.stage),
    ['backbone', 'neck', 'head'],
  );
  const stageOf = (op: string): (string | null)[] => t.rows.filter((r) => r.op === op).map((r) => r.stage);
  assert.deepEqual(stageOf('Resize'), ['neck', 'neck']);
  assert.deepEqual(stageOf('Concat'), ['neck', 'neck']);
  assert.deepEqual(
    t.rows.filter((r) => r.stage === 'head').map((r) => r.out_shape),
    [[1, 3, 32, 32]],
    'the head is the 1×1 classifier',
  );
  assert.deepEqual(
    t.rows.filter((r) => r.stage === 'backbone').map((r) => r.out_shape?.[2]),
    [32, 16, 16, 8, 8],
    'the encoder down to its bottleneck',
  );
  assert.deepEqual(
    t.blocks.filter((b) => b.stage === 'neck').map((b) => b.block),
    ['top-down P1', 'top-down P0'],
  );
  assert.equal(t.family, 'U-Net', 'a plain encoder under a U-Net decoder is no VGG');
});

test("segmenters are named for what they are: U-Net, and DeepLab's ASPP is no inception module", () => {
  assert.equal(table(path.join(TASKS, 'unet-seg.onnx.gz')).family, 'U-Net');
  const aspp = table(path.join(TASKS, 'aspp-seg-s8.onnx.gz'));
  assert.equal(aspp.family, 'CNN', 'parallel dilated convolutions do not make a GoogLeNet');
  assert.deepEqual(
    aspp.blocks.filter((b) => b.kind === 'ASPP').map((b) => b.notation),
    ['ASPP [rates 1, 2, 4, 6, 1] → 80 ch'],
  );
});

test('classifiers keep their stages; a backbone without a head is no detector', () => {
  const cls = table(path.join(EXPORTERS, 'yolov8n-cls.ultralytics.onnx.gz'));
  assert.deepEqual(
    cls.stages.map((s) => s.stage),
    ['stem', 'stage1', 'stage2', 'stage3', 'stage4', 'head'],
  );
  // A feature extractor's output [1, 32, 8, 8] is its coarsest map: nothing was upsampled again.
  const b = new GraphBuilder({ name: 'image', c: 3, h: 32, w: 32 }, 1);
  const x = b.conv(b.conv(b.input, 16, 3, { stride: 2, pad: 1 }), 32, 3, { stride: 2, pad: 1 });
  b.output(x.name);
  const t = buildLayerTable(parseOnnx(b.build()));
  assert.ok(!t.stages.some((s) => s.stage === 'backbone'), t.stages.map((s) => s.stage).join(', '));
});

// torchvision's detectors (test/fixtures/tasks: graph-only copies of the real-size models and a tiny RetinaNet
// with weights): their NMS sits in an If's subgraph, so the boxes [K, 4] and integer labels among the outputs
// say what they are. What torchvision builds them from: GeneralizedRCNNTransform (normalise, resize, batch),
// a MobileNet V3 trunk, SSDlite's extra layers or an FPN, heads per level (Faster R-CNN's RPN and RoI box
// head), then box decoding and NMS.
const TV_STAGES = ['pre-processing', 'backbone', 'neck', 'head', 'post-processing'];

function rowsOf(t: LayerTable, stage: string): LayerTable['rows'] {
  return t.rows.filter((r) => r.stage === stage);
}

function blocksOf(t: LayerTable, stage: string): string[] {
  return t.blocks.filter((b) => b.stage === stage).map((b) => b.block);
}

test('SSDlite 320 (MobileNet V3): the trunk, four extra levels as the neck, a head per level, decoding apart', () => {
  const t = table(path.join(TASKS, 'ssdlite320_mobilenet_v3_large.graph.onnx.gz'));
  checkDetector(t, 'ssdlite', true, TV_STAGES);
  assert.equal(t.family, 'MobileNet V3', 'named after its backbone once the rest is cut away');
  assert.ok(
    rowsOf(t, 'pre-processing').some((r) => r.onnx_ops.includes('Sub') && r.onnx_ops.includes('Div')),
    'the normalisation is pre-processing',
  );
  // Extra layers: 1×1, depthwise 3×3 at stride 2, 1×1 down to 5×5, 3×3, 2×2 and 1×1.
  assert.deepEqual(blocksOf(t, 'neck'), ['bottom-up P6', 'bottom-up P7', 'bottom-up P8', 'bottom-up P9']);
  // The head reads the trunk's expansion at stride 16, its last map at 32 and the four extra maps.
  const levels = [16, 32, 64, 128, 256, 512].map((s) => `P${Math.log2(s)} (stride ${s})`);
  assert.deepEqual(blocksOf(t, 'head'), levels);
  for (const b of t.blocks.filter((x) => x.stage === 'head'))
    assert.match(
      b.notation,
      /^\[dw 3×3, \d+ → 1×1, 24 \| dw 3×3, \d+ → 1×1, 546\]$/,
      'box and class branches',
    );
  assert.ok(rowsOf(t, 'post-processing').some((r) => r.onnx_ops.includes('TopK')));
  assert.ok(
    rowsOf(t, 'backbone').every((r) => r.out_shape?.[2] !== 5),
    'no extra level in the trunk',
  );
});

test('Faster R-CNN (MobileNet V3, FPN): FPN as the neck, RPN per level and the RoI box head, proposals apart', () => {
  const t = table(path.join(TASKS, 'fasterrcnn_mobilenet_v3_large_320_fpn.graph.onnx.gz'));
  checkDetector(t, 'fasterrcnn', true, TV_STAGES);
  assert.equal(t.family, 'MobileNet V3');
  // torchvision's 320 FPN taps two stride-32 maps (both 10×10), and max-pools the last to P6.
  assert.deepEqual(blocksOf(t, 'neck'), ['top-down P5', 'top-down P5 #2', 'bottom-up P6']);
  const neck = rowsOf(t, 'neck');
  assert.equal(neck.filter((r) => r.op === 'Conv' && r.kernel?.[0] === 1).length, 2, 'both laterals');
  assert.ok(neck.some((r) => r.op === 'Resize') && neck.some((r) => r.op === 'MaxPool'));
  assert.deepEqual(blocksOf(t, 'head'), [
    'RPN P5 (stride 32)',
    'RPN P5 (stride 32) #2',
    'RPN P6 (stride 64)',
    'RoI box head',
  ]);
  // TwoMLPHead's two fully connected layers, then class scores and box deltas for 91 classes.
  assert.deepEqual(
    rowsOf(t, 'head')
      .filter((r) => r.block === 'RoI box head')
      .map((r) => r.out_channels),
    [1024, 1024, 91, 364],
  );
  // Proposals (decoding, TopK, NMS in an If) and the RoI pooling that reads them are bookkeeping.
  const post = rowsOf(t, 'post-processing');
  for (const op of ['TopK', 'If', 'RoiAlign'])
    assert.ok(
      post.some((r) => r.onnx_ops.includes(op)),
      `${op} is post-processing`,
    );
  assert.equal(
    [...rowsOf(t, 'pre-processing'), ...post].reduce((s, r) => s + r.params, 0),
    0,
    'anchors, mean and std are no parameters',
  );
});

test('tv-detect (RetinaNet on a tiny trunk): no neck, classification and box heads per level', () => {
  const t = table(path.join(TASKS, 'tv-detect.onnx.gz'));
  // A three-map trunk without an FPN: its 64-channel heads hold most of the work, so no bound here.
  checkDetector(t, 'tv-detect', false, ['pre-processing', 'backbone', 'head', 'post-processing']);
  assert.equal(t.family, 'CNN', 'strided convolutions without poolings are no VGG');
  assert.deepEqual(blocksOf(t, 'head'), ['P3 (stride 8)', 'P4 (stride 16)', 'P5 (stride 32)']);
  for (const b of t.blocks.filter((x) => x.stage === 'head'))
    assert.equal(b.notation.split(' | ').length, 2, `${b.block}: classification and regression branches`);
});

test("torchvision's segmenters: the trunk, the ASPP / LR-ASPP / FCN head, the resize to the input apart", () => {
  const cases: [string, string, string[]][] = [
    ['deeplabv3_mobilenet_v3_large.graph', 'MobileNet V3', ['ASPP']],
    ['lraspp_mobilenet_v3_large.graph', 'MobileNet V3', ['P4 (stride 16)', 'P3 (stride 8)']],
    ['fcn_resnet50.graph', 'ResNet', ['P3 (stride 8)']],
    ['tv-seg', 'CNN', ['P5 (stride 32)', 'P4 (stride 16)']],
  ];
  for (const [file, family, heads] of cases) {
    const t = table(path.join(TASKS, `${file}.onnx.gz`));
    assert.deepEqual(
      t.stages.map((s) => s.stage),
      ['backbone', 'head', 'post-processing'],
      file,
    );
    assert.equal(t.family, family, file);
    assert.deepEqual(blocksOf(t, 'head'), heads, file);
    // The logits resampled to the input's pixels, as a detector's boxes are mapped back: no layer.
    const post = rowsOf(t, 'post-processing');
    assert.deepEqual(
      post.map((r) => [r.op, r.counted, r.out_shape?.slice(2)]),
      [['Resize', false, [256, 256]]],
      file,
    );
    // The bound is for the real-size models; DeepLabV3's ASPP alone is 72 % of its work (three dilated 3×3
    // convolutions, 960 → 256 channels), a fact of the model.
    const bounded = file.endsWith('.graph') && !file.startsWith('deeplab');
    for (const b of bounded ? t.blocks : []) assert.ok(b.macs <= 0.35 * t.totals.macs, `${file}: ${b.block}`);
  }
  const deeplab = table(path.join(TASKS, 'deeplabv3_mobilenet_v3_large.graph.onnx.gz'));
  assert.deepEqual(
    deeplab.blocks.filter((b) => b.stage === 'head').map((b) => [b.kind, b.notation]),
    [['ASPP', 'ASPP [rates 1, 12, 24, 36, 1] → 1280 ch']],
  );
});

test("a segmenter at its trunk's own stride 8 (ASPP, no upsampling) is one: the head is the ASPP and classifier", () => {
  const t = table(path.join(TASKS, 'aspp-seg-s8.onnx.gz'));
  assert.deepEqual(
    t.stages.map((s) => s.stage),
    ['backbone', 'head'],
  );
  assert.deepEqual(
    rowsOf(t, 'backbone').map((r) => r.out_shape?.[2]),
    [128, 64, 32],
    'three strided convolutions to stride 8',
  );
  assert.deepEqual(
    t.blocks.filter((b) => b.stage === 'head').map((b) => b.kind),
    ['ASPP'],
  );
  assert.deepEqual(
    rowsOf(t, 'head').at(-1)!.out_shape?.slice(1),
    [4, 32, 32],
    'the classifier ends the head',
  );
});
