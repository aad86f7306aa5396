// Any CNN: the layer tables of 21 torchvision families, exported by both ONNX exporters and at old opsets
// (graph-only fixtures), against numbers computed independently with the `onnx` package (reference.json),
// torchvision's published multiply-adds, and the block counts of each family's paper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLayerTable } from '../../src/model/structure/table';
import { nchwText } from '../../src/shared/format';
import type { LayerTable } from '../../src/shared/layerTable';
import { FIXTURES, fixtureGraph, REFERENCE } from './helpers/fixtures';

/** torchvision's documented multiply-adds ("GFLOPS"), in G, at the model's input size. */
const TORCHVISION_GMACS: Record<string, number> = {
  alexnet: 0.71,
  vgg16: 15.47,
  resnet18: 1.81,
  resnet34: 3.66,
  resnet50: 4.09,
  resnet101: 7.8,
  resnext50_32x4d: 4.23,
  wide_resnet50_2: 11.4,
  squeezenet1_1: 0.35,
  mobilenet_v2: 0.3,
  mobilenet_v3_small: 0.06,
  mobilenet_v3_large: 0.22,
  efficientnet_b0: 0.39,
  efficientnet_v2_s: 8.37,
  densenet121: 2.83,
  googlenet: 1.5,
  inception_v3: 5.71,
  shufflenet_v2_x1_0: 0.14,
  regnet_x_400mf: 0.41,
  regnet_y_400mf: 0.4,
  convnext_tiny: 4.46,
  mnasnet1_0: 0.31,
};

/** What each family's paper says: the family, block counts by kind, blocks per body stage, depth. */
interface Expected {
  family: string;
  blocks: Record<string, number>;
  perStage?: number[];
  depth?: number;
}

const EXPECTED: Record<string, Expected> = {
  alexnet: { family: 'plain CNN', blocks: { 'conv group': 3 }, depth: 8 },
  vgg16: { family: 'VGG', blocks: { 'conv group': 5 }, depth: 16 },
  resnet18: { family: 'ResNet', blocks: { basic: 8 }, perStage: [2, 2, 2, 2], depth: 18 },
  resnet34: { family: 'ResNet', blocks: { basic: 16 }, perStage: [3, 4, 6, 3], depth: 34 },
  resnet50: { family: 'ResNet', blocks: { bottleneck: 16 }, perStage: [3, 4, 6, 3], depth: 50 },
  resnet101: { family: 'ResNet', blocks: { bottleneck: 33 }, perStage: [3, 4, 23, 3], depth: 101 },
  resnext50_32x4d: { family: 'ResNeXt', blocks: { bottleneck: 16 }, perStage: [3, 4, 6, 3], depth: 50 },
  wide_resnet50_2: { family: 'Wide ResNet', blocks: { bottleneck: 16 }, perStage: [3, 4, 6, 3], depth: 50 },
  squeezenet1_1: { family: 'SqueezeNet', blocks: { 'fire module': 8 }, perStage: [2, 2, 4] },
  mobilenet_v2: {
    family: 'MobileNet V2',
    blocks: { 'inverted residual': 17 },
    perStage: [1, 2, 3, 7, 4],
    depth: 53,
  },
  mobilenet_v3_small: { family: 'MobileNet V3', blocks: { 'inverted residual': 11 } },
  mobilenet_v3_large: { family: 'MobileNet V3', blocks: { 'inverted residual': 15 } },
  efficientnet_b0: { family: 'EfficientNet', blocks: { MBConv: 16 }, perStage: [1, 2, 2, 6, 5] },
  efficientnet_v2_s: { family: 'EfficientNetV2', blocks: { 'Fused-MBConv': 10, MBConv: 30 } },
  densenet121: {
    family: 'DenseNet',
    blocks: { 'dense layer': 58, transition: 3 },
    perStage: [6, 13, 25, 17],
    depth: 121,
  },
  googlenet: { family: 'GoogLeNet', blocks: { 'inception module': 9 }, perStage: [2, 5, 2], depth: 22 },
  inception_v3: { family: 'Inception v3', blocks: { 'inception module': 11 }, perStage: [3, 5, 3] },
  shufflenet_v2_x1_0: { family: 'ShuffleNet V2', blocks: { 'ShuffleNet V2 unit': 16 }, perStage: [4, 8, 4] },
  regnet_x_400mf: { family: 'RegNetX', blocks: { 'X block': 22 }, perStage: [1, 2, 7, 12] },
  regnet_y_400mf: { family: 'RegNetY', blocks: { 'Y block': 16 }, perStage: [1, 3, 6, 6] },
  convnext_tiny: { family: 'ConvNeXt', blocks: { 'ConvNeXt block': 18 }, perStage: [3, 3, 9, 3] },
  mnasnet1_0: { family: 'MnasNet', blocks: { MBConv: 17 }, perStage: [1, 3, 3, 5, 5] },
};

const tables = new Map<string, LayerTable>();
function table(name: string): LayerTable {
  let t = tables.get(name);
  if (!t) {
    t = buildLayerTable(fixtureGraph(name));
    tables.set(name, t);
  }
  return t;
}

function kinds(t: LayerTable): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of t.blocks) out[b.kind] = (out[b.kind] ?? 0) + 1;
  return out;
}

for (const name of FIXTURES) {
  const family = name.split('.')[0]!;
  test(`${name}: params and buffers exact, MACs, every Conv a row, blocks and stages as the paper`, () => {
    const t = table(name);
    const ref = REFERENCE[name]!;
    assert.deepEqual(
      t.warnings.filter((w) => !/running statistic/.test(w)),
      [],
      'nothing unknown',
    );
    // The file's float tensors are the parameters plus the constants; a classifier's constants are
    // scalars and bounds (Clip's 0 and 6), never more than a few elements.
    assert.equal(t.totals.params + t.totals.constants, ref.params, 'params as the file holds them');
    assert.ok(t.totals.constants <= 16, `constants ${t.totals.constants}: only scalars and bounds`);
    assert.equal(t.totals.buffers, ref.buffers, 'BatchNorm running statistics apart');
    assert.equal(
      t.rows.reduce((s, r) => s + r.params + r.buffers, 0),
      t.totals.params + t.totals.buffers,
      'every tensor on exactly one row',
    );
    // onnx's own inference gives up on a symbolic batch in ShuffleNet's shuffle and on symbolic H×W;
    // the same architecture's dynamo export is the reference there.
    const macs = ref.macs_unknown.length > 0 ? REFERENCE[`${family}.dynamo`]!.macs : ref.macs;
    assert.equal(t.totals.macs, macs, 'multiply-adds as onnx infers them');
    assert.equal(
      Math.round(t.totals.macs / 1e7) / 100,
      TORCHVISION_GMACS[family],
      'torchvision documents these',
    );
    const convs = t.rows.filter((r) => r.op === 'Conv');
    assert.equal(convs.length, ref.ops.Conv ?? 0, 'every Conv is a row');
    // A pooling between stages opens the next stage (AlexNet's pool5 the head): every stage computes.
    assert.ok(t.stages.length >= (family === 'alexnet' ? 4 : 5), `${t.stages.length} stages`);
    assert.deepEqual(
      t.stages.filter((s) => s.macs === 0).map((s) => s.stage),
      [],
      'no stage without multiply-adds',
    );
    assert.ok(t.rows.every((r) => r.stage !== null));
    assert.equal(new Set(t.rows.map((r) => r.name)).size, t.rows.length, 'row names are unique');

    const want = EXPECTED[family]!;
    assert.equal(t.family, want.family);
    assert.deepEqual(kinds(t), want.blocks);
    if (want.perStage) {
      const body = t.stages.filter((s) => s.blocks > 0).map((s) => s.blocks);
      assert.deepEqual(body, want.perStage, 'blocks per stage');
    }
    if (want.depth !== undefined) {
      assert.equal(t.totals.counted, want.depth, 'depth');
      assert.match(t.depth, new RegExp(`= ${want.depth}$`));
    }
  });
}

test('Identity-shared weights (random-init exports) are one tensor: counted once, rows say shared', () => {
  const t = table('resnet18.ts');
  assert.equal(t.family, 'ResNet', 'the shared zero biases no longer hide the residual structure');
  assert.ok(t.totals.shared > 0);
  const sharing = t.rows.filter((r) => r.shared.length > 0);
  assert.ok(sharing.length >= 2, 'every reader of a shared tensor says so');
  const first = sharing[0]!.shared[0]!;
  assert.ok(sharing.filter((r) => r.shared.includes(first)).length >= 2);
});

test('the current exporter (dynamo, opset 20, ReduceMean pooling, external data) loses no multiply-adds', () => {
  const t = table('efficientnet_b0.dynamo');
  assert.equal(REFERENCE['efficientnet_b0.dynamo']!.external > 0, true, 'weights are in the .onnx.data file');
  assert.equal(t.totals.macs, 385_814_752);
  const fc = t.rows.at(-1)!;
  assert.deepEqual([fc.role, fc.macs], ['fc', 1280 * 1000]);
  assert.equal(t.model.opset, 20);
});

test('DenseNet: BatchNorm running mean and variance are buffers, not parameters', () => {
  const t = table('densenet121.dynamo');
  assert.ok(t.totals.buffers > 0);
  const norm = t.rows.find((r) => r.onnx_ops[0] === 'BatchNormalization')!;
  assert.ok(norm.buffers > 0);
  assert.equal(norm.activation, 'relu; pre-activation: BN, relu', 'BN → ReLU → conv, as the paper draws it');
});

test('symbolic height and width: 224×224 is assumed and said so', () => {
  const t = table('resnet18.dynhw');
  assert.match(t.model.assumed ?? '', /224×224/);
  assert.deepEqual(t.stages.at(-2)!.out_size, [7, 7]);
  const other = buildLayerTable(fixtureGraph('resnet18.dynhw'), { spatial: [160, 160] });
  assert.deepEqual(other.stages.at(-2)!.out_size, [5, 5], 'the descriptor size wins over 224');
});

test('paper notation per stage', () => {
  const layout = (name: string, stage: string): string =>
    table(name).stages.find((s) => s.stage === stage)!.layout;
  assert.equal(layout('efficientnet_b0.ts', 'stage3'), 'MBConv6, k5×5, SE 0.25, 40 ch × 2');
  assert.equal(layout('mobilenet_v2.ts', 'stage2'), 'bottleneck t=6, 24 ch × 2');
  assert.equal(layout('convnext_tiny.ts', 'stage1'), '[d7×7, 96; 1×1, 384; 1×1, 96] × 3');
  assert.equal(
    layout('resnext50_32x4d.ts', 'conv2_x'),
    '3×3 max pool, stride 2; [1×1, 128; 3×3, 128, C=32; 1×1, 256] × 3',
  );
  assert.match(layout('densenet121.ts', 'stage1'), /dense layer \[1×1, 128; 3×3, 32\] × 6/);
  assert.match(
    layout('googlenet.ts', 'stage1'),
    /^3×3 max pool, stride 2; inception \[1×1, 64 \| 1×1, 96 → 3×3, 128 \| 1×1, 16 → 3×3, 32 \| max pool 3×3 → 1×1, 32\] → 256 ch/,
  );
  assert.equal(
    layout('shufflenet_v2_x1_0.ts', 'stage1'),
    'ShuffleNet V2 unit s2, 116 ch × 1; ShuffleNet V2 unit, 116 ch × 3',
  );
  assert.equal(table('googlenet.ts').blocks[0]!.block, 'inception (3a)');
});

test('receptive fields and effective strides: the known values of VGG-16, AlexNet, ResNet-50', () => {
  const field = (name: string, pick: (t: LayerTable) => LayerTable['rows'][number]): (number[] | null)[] => {
    const r = pick(table(name));
    return [r.receptive_field, r.effective_stride, r.rf_center];
  };
  const lastSpatial = (t: LayerTable): LayerTable['rows'][number] =>
    [...t.rows].reverse().find((r) => r.receptive_field !== null)!;
  assert.deepEqual(
    field('vgg16.ts', lastSpatial),
    [
      [212, 212],
      [32, 32],
      [16, 16],
    ],
    'VGG-16 pool5',
  );
  assert.deepEqual(
    field('alexnet.ts', lastSpatial),
    [
      [195, 195],
      [32, 32],
      [31.5, 31.5],
    ],
    'AlexNet pool5',
  );
  const resnet = field('resnet50.ts', (t) => t.rows.find((r) => r.name.startsWith('conv5_3 c'))!);
  assert.deepEqual(
    resnet.slice(0, 2),
    [
      [427, 427],
      [32, 32],
    ],
    'torchvision ResNet-50 (stride on the 3×3)',
  );
  const first = table('resnet50.ts').rows[0]!;
  assert.deepEqual(
    [first.receptive_field, first.rf_center],
    [
      [7, 7],
      [0.5, 0.5],
    ],
    'padding 3 centres a 7×7 on pixel 0',
  );
  assert.equal(
    table('resnet50.ts').rows.at(-1)!.receptive_field,
    null,
    'past global pooling: the whole image',
  );
  const se = table('efficientnet_b0.ts').rows.find((r) => r.role === 'se' && r.name.includes('scale'));
  assert.ok(se === undefined || se.receptive_field !== null, 'an SE gate does not make the features global');
});

test("ConvNeXt's channels-last layers: the layer's own channels, shapes in N×C×H×W with a marker", () => {
  for (const name of ['convnext_tiny.ts', 'convnext_tiny.op13', 'convnext_tiny.dynamo']) {
    const rows = table(name).rows.filter((r) => r.block === 'stage1.1');
    const [a, b, c] = rows.filter((r) => r.macs > 0);
    assert.deepEqual(
      [a, b, c].map((r) => [r!.in_channels, r!.out_channels, r!.channels_last]),
      [
        [96, 96, true], // depthwise 7×7, then LayerNorm on the permuted tensor
        [96, 384, true], // pointwise Linear on [N, 56, 56, 96]
        [384, 96, false], // back to channels-first after the layer scale and permute
      ],
      name,
    );
    assert.equal(nchwText(b!.out_shape, b!.channels_last).replace(/^1/, 'N'), 'N×384×56×56 (NHWC)');
  }
});

test('squeeze-and-excitation: every block names its gate "SE scale", with or without a residual around it', () => {
  for (const name of [
    'efficientnet_b0.ts',
    'efficientnet_v2_s.ts',
    'mobilenet_v3_large.ts',
    'regnet_y_400mf.ts',
  ]) {
    const rows = buildLayerTable(fixtureGraph(name)).rows;
    const gates = rows.filter((r) => r.op === 'Mul' && r.role !== 'other');
    assert.ok(gates.length > 0, name);
    assert.deepEqual(
      rows.filter((r) => / multiply$/.test(r.name)).map((r) => r.name),
      [],
      `${name}: no SE gate named "multiply"`,
    );
    for (const r of gates.filter((g) => g.role === 'se')) assert.match(r.name, / SE scale$/, name);
    // Each SE block has its scale row.
    const seBlocks = new Set(rows.filter((r) => r.role === 'se').map((r) => r.block));
    const scaled = new Set(rows.filter((r) => / SE scale$/.test(r.name)).map((r) => r.block));
    assert.deepEqual(
      [...seBlocks].filter((b) => !scaled.has(b)),
      [],
      name,
    );
  }
});
