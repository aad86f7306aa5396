// CNNs as other exporters write them (#17): timm, Keras applications through tf2onnx (channels last, BatchNorm
// as Mul + Add, Softmax at the end), ultralytics, onnxslim and fp16 conversion, as graph-only fixtures
// (test/fixtures/exporters, made by scripts/fixtures/exporters). The answers are independent of CNN Lens:
// the `onnx` package's counts of the file, the framework's own parameter count, and the papers' block counts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { findCamSource } from '../../src/model/cam';
import { classOutput, imageInput, outputKindOf } from '../../src/model/modelFile';
import { parseOnnx, type OnnxGraph } from '../../src/model/onnxGraph';
import { buildLayerTable } from '../../src/model/structure/table';
import { metadataNames } from '../../src/files/descriptorFile';

const DIR = path.resolve(__dirname, '..', 'fixtures', 'exporters');

interface Reference {
  params: number;
  buffers: number;
  macs: number;
  macs_unknown: string[];
  framework_params: number;
  /** Channels of the BatchNorms the exporter folded into a convolution (each leaves C of its 2C). */
  bn_folded_channels?: number;
  /** Float tensors that are no layer's weight (anchors, strides, bounds), as the exporter script counts them. */
  non_weight_constants: number;
  /** Keras only: its trainable parameters. */
  framework_trainable?: number;
  final_op: string;
  topologically_sorted: boolean;
  input: (number | string)[];
  metadata_props?: Record<string, string>;
}

const REFERENCE = JSON.parse(readFileSync(path.join(DIR, 'reference.json'), 'utf8')) as Record<
  string,
  Reference
>;

function graph(name: string): OnnxGraph {
  return parseOnnx(gunzipSync(readFileSync(path.join(DIR, `${name}.onnx.gz`))));
}

/** The family each fixture must get, with the block counts of its paper; 'CNN' where CNN Lens does not
 *  recognise the family yet (a wrong name is worse than none). */
const EXPECTED: Record<string, { family: string; blocks?: Record<string, number> }> = {
  'resnet50.timm': { family: 'ResNet', blocks: { bottleneck: 16 } },
  'resnet50d.timm': { family: 'ResNet', blocks: { bottleneck: 16 } },
  'legacy_xception.timm': { family: 'Xception', blocks: { 'residual block': 12 } },
  'xception41.timm': { family: 'Xception', blocks: { 'residual block': 12 } },
  'Xception.keras': { family: 'Xception', blocks: { 'residual block': 12 } },
  'repvgg_a2.timm': { family: 'RepVGG', blocks: { 'residual block': 22 } }, // 1 + 2 + 4 + 14 + 1
  'res2net50_26w_4s.timm': { family: 'Res2Net', blocks: { 'residual block': 16 } },
  'resnest14d.timm': { family: 'ResNeSt', blocks: { 'residual block': 4 } },
  'ghostnet_100.timm': { family: 'GhostNet', blocks: { 'residual block': 16 } },
  'mixnet_s.timm': { family: 'MixNet' },
  'inception_v4.timm': { family: 'Inception-v4', blocks: { 'inception module': 16 } },
  'InceptionV3.keras': { family: 'Inception v3', blocks: { 'inception module': 11 } },
  'tf_efficientnet_b0.timm': { family: 'EfficientNet', blocks: { MBConv: 16 } },
  'EfficientNetB0.keras': { family: 'EfficientNet', blocks: { MBConv: 16 } },
  'efficientnet_lite0.timm': { family: 'EfficientNet-Lite', blocks: { MBConv: 16 } },
  'tf_efficientnet_lite0.timm': { family: 'EfficientNet-Lite', blocks: { MBConv: 16 } },
  'tf_efficientnet_lite0.onnxslim': { family: 'EfficientNet-Lite', blocks: { MBConv: 16 } },
  'vgg16.timm': { family: 'VGG' },
  'DenseNet121.keras': { family: 'DenseNet', blocks: { 'dense layer': 58, transition: 3 } },
  'MobileNetV2.keras': { family: 'MobileNet V2', blocks: { 'inverted residual': 17 } },
  'MobileNetV2.keras-nchw': { family: 'MobileNet V2', blocks: { 'inverted residual': 17 } },
  'ResNet50.keras': { family: 'ResNet', blocks: { bottleneck: 16 } },
  'mobilenet_v2.fp16io': { family: 'MobileNet V2', blocks: { 'inverted residual': 17 } },
  'mobilenet_v2.onnxslim': { family: 'MobileNet V2', blocks: { 'inverted residual': 17 } },
  'resnet18.fp16': { family: 'ResNet', blocks: { basic: 8 } },
  'resnet18.onnxslim': { family: 'ResNet', blocks: { basic: 8 } },
  // Cross-stage partial stages laid out flat: 1 + 2 + 8 + 8 + 4 Darknet residual blocks.
  'cspdarknet53.timm': { family: 'CSPDarknet', blocks: { 'residual block': 23 } },
  // Aggregation nodes (residual blocks' outputs concatenated into a 1×1); its trees stay generic modules.
  'dla34.timm': { family: 'DLA' },
  // Residual and dense paths side by side, cut where a layer reads their join: 3 + 4 + 12 + 3.
  'dpn68.timm': { family: 'DPN', blocks: { 'dual path block': 22 } },
  // Its parallel resolutions, one block each (56², 28², 14², 7²), none over 35 % of the multiply-adds.
  'hrnet_w18_small.timm': { family: 'HRNet', blocks: { 'resolution branch': 4 } },
  'inception_resnet_v2.timm': {
    family: 'Inception-ResNet',
    // 10 × Inception-ResNet-A, 20 × B, 10 × C; the stem's mixed module and Reduction-A and -B.
    blocks: { 'residual block': 40, 'inception module': 3 },
  },
  // Named, but its partial residuals read as generic modules; the paper's 16 blocks are not shown yet.
  'rexnet_100.timm': { family: 'ReXNet' },
  // C2f modules with 1, 2, 2, 1 bottlenecks (3×3 → 3×3 around an identity), laid out flat.
  'yolov8n-cls.ultralytics': { family: 'YOLOv8', blocks: { basic: 2, 'residual block': 4 } },
  // A detector is named after its backbone (the classifier's C2f modules, 1 + 2 + 2 + 1, and SPPF); its
  // neck and head are blocks of their own (#18, test/unit/detectorStructure.test.ts).
  'yolov8n.ultralytics': { family: 'YOLOv8', blocks: { basic: 2, 'residual block': 4 } },
  'yolov8n-seg.ultralytics': { family: 'YOLOv8', blocks: { basic: 2, 'residual block': 4 } },
  'yolov8n-pose.ultralytics': { family: 'YOLOv8', blocks: { basic: 2, 'residual block': 4 } },
};

test('every exporter fixture has an expectation', () => {
  assert.deepEqual(Object.keys(REFERENCE).sort(), Object.keys(EXPECTED).sort());
});

for (const [name, ref] of Object.entries(REFERENCE)) {
  test(`${name}: parameters, constants, multiply-adds, family and blocks as exported`, () => {
    const g = graph(name);
    const t = buildLayerTable(g);
    const detector = /^yolov8n(-seg|-pose)?\.ultralytics$/.test(name);
    // The file's float tensors are the parameters plus the constants.
    assert.equal(t.totals.params + t.totals.constants, ref.params, 'float tensors as the file holds them');
    if (detector) assert.ok(t.totals.constants > 40_000, 'anchor points and strides are constants');
    else assert.ok(t.totals.constants <= 16, `a classifier's constants are bounds (${t.totals.constants})`);
    // What the framework counts. A torch exporter folds BatchNorm into the convolution before it, which
    // leaves C of its 2C parameters; where the reference's own numbers show that relation, ours must too.
    const folded = ref.bn_folded_channels ?? 0;
    if (ref.framework_trainable === undefined) {
      if (ref.params - ref.non_weight_constants + folded === ref.framework_params) {
        assert.equal(t.totals.constants, ref.non_weight_constants, 'constants');
        assert.equal(
          t.totals.params + folded,
          ref.framework_params,
          "the framework's parameters, less folding",
        );
      }
    } else if (ref.params === ref.framework_trainable) {
      // tf2onnx folds BatchNorm's four vectors into the two of Mul + Add (or into the convolution).
      assert.equal(t.totals.params, ref.framework_trainable, "Keras's trainable parameters");
    }
    if (ref.macs_unknown.length === 0)
      assert.equal(t.totals.macs, ref.macs, 'multiply-adds as onnx infers them');
    assert.deepEqual(
      t.warnings.filter((w) => !/running statistic/.test(w)),
      [],
      'nothing unknown',
    );
    assert.deepEqual(
      t.stages.filter((s) => s.macs === 0).map((s) => s.stage),
      [],
      'no stage without multiply-adds',
    );
    const expected = EXPECTED[name]!;
    assert.equal(t.family, expected.family);
    for (const [kind, count] of Object.entries(expected.blocks ?? {})) {
      assert.equal(t.blocks.filter((b) => b.kind === kind).length, count, `${kind} blocks`);
    }
  });
}

test('inputs and outputs as each exporter writes them: layout, type, what the output holds', () => {
  for (const [name, ref] of Object.entries(REFERENCE)) {
    const g = graph(name);
    const input = imageInput(g);
    assert.equal(input.layout, ref.input[3] === 3 ? 'NHWC' : 'NCHW', name);
    const out = classOutput(g, 224);
    const kind = out ? outputKindOf(g, out.name) : undefined;
    assert.equal(kind === 'probabilities', ref.final_op === 'Softmax', `${name}: Softmax at the end`);
  }
  assert.equal(imageInput(graph('mobilenet_v2.fp16io')).type, 'float32', 'fp16 inside, float32 at the edges');
  assert.equal(imageInput(graph('resnet18.fp16')).type, 'float16');
});

test('fp16 conversion left the nodes out of order: read in topological order all the same', () => {
  assert.equal(REFERENCE['mobilenet_v2.fp16io']!.topologically_sorted, false);
  const g = graph('mobilenet_v2.fp16io');
  const seen = new Set([...g.inputs.map((i) => i.name), ...g.initializers.keys(), '']);
  for (const n of g.nodes) {
    for (const i of n.inputs) assert.ok(seen.has(i), `${n.name} reads ${i} before it is made`);
    for (const o of n.outputs) seen.add(o);
  }
});

test('CAM finds its classifier as exporters write it: a bias Add and Softmax after MatMul (Keras), a 1×1 conv head (DLA)', () => {
  for (const name of [
    'ResNet50.keras',
    'Xception.keras',
    'dla34.timm',
    'yolov8n-cls.ultralytics',
    'resnet50.timm',
  ]) {
    const cam = findCamSource(graph(name));
    assert.ok(cam.source, `${name}: ${cam.reason}`);
    assert.ok(cam.source.height > 1 && cam.source.classes === 1000, name);
  }
  assert.match(findCamSource(graph('vgg16.timm')).reason ?? '', /are 1×1: there is no map to draw/);
  assert.match(
    findCamSource(graph('yolov8n.ultralytics')).reason ?? '',
    /not computed by a fully connected layer/,
  );
});

test('look-alikes get their own family or none, never the one they resemble', () => {
  const dir = path.resolve(__dirname, '..', 'fixtures', 'lookalikes');
  const family = (name: string): string =>
    buildLayerTable(parseOnnx(gunzipSync(readFileSync(path.join(dir, `${name}.timm.onnx.gz`))))).family;
  assert.deepEqual(
    ['skresnet18', 'resnest50d', 'seresnext26d_32x4d', 'cspresnet50', 'fbnetc_100', 'darknet53'].map(family),
    ['SKNet', 'ResNeSt', 'SE-ResNeXt', 'CSPResNet', 'CNN', 'Darknet-53'],
  );
});

test("ultralytics' classifier: class names from its metadata", () => {
  const g = graph('yolov8n-cls.ultralytics');
  const names = metadataNames(g.metadata.names, 1000);
  assert.equal(names?.length, 1000);
  assert.equal(g.metadata.task, 'classify');
});
