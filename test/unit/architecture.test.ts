// The Architecture panel's core: ONNX parsing, our shape inference, ResNet grouping and `cli layers`,
// on synthetic ResNets built in the test, on onnxruntime's own shapes, and on models/resnet50.onnx.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { runLayers } from '../../src/cli/layers';
import { parseOnnx } from '../../src/model/onnxGraph';
import { readOnnxFile } from '../../src/files/onnxFile';
import { graphCost } from '../../src/model/cost';
import { normaliseGraph } from '../../src/model/normalise';
import { inferShapes, windowOutput } from '../../src/model/shapes';
import { buildLayerTable } from '../../src/model/structure/table';
import type { LayerRow, LayerTable } from '../../src/shared/layerTable';
import { attr, buildResNet, GraphBuilder, type ResNetSpec } from './helpers/onnxBuilder';

const REAL_MODEL = path.resolve(__dirname, '..', '..', 'models', 'resnet50.onnx');

function tableOf(bytes: Uint8Array): LayerTable {
  return buildLayerTable(parseOnnx(bytes));
}

function countedPerStage(t: LayerTable): Record<string, number> {
  return Object.fromEntries(t.stages.map((s) => [s.stage, s.counted]));
}

function rowsOf(t: LayerTable, block: string, role: LayerRow['role']): LayerRow[] {
  return t.rows.filter((r) => r.block === block && r.role === role);
}

// Checks every invariant that holds for any synthetic ResNet the builder makes.
function checkResNet(spec: ResNetSpec, expectedCounted: Record<string, number>): LayerTable {
  const g = buildResNet(spec);
  const t = tableOf(g.build());
  assert.equal(t.family, 'ResNet');
  assert.deepEqual(countedPerStage(t), expectedCounted);
  assert.equal(
    t.totals.params + t.totals.buffers,
    g.weightElements(),
    'params + buffers = float initializers',
  );
  assert.equal(t.totals.buffers, g.bufferElements(), 'buffers = BatchNorm running statistics');
  assert.equal(t.totals.macs, g.expectedMacs, 'MACs = builder’s independent count');
  assert.equal(
    t.blocks.length,
    spec.blocks.reduce((a, b) => a + b, 0),
  );
  assert.deepEqual(t.warnings, []);
  // Stage output sizes halve from the stem on: size/2 (conv1), size/4, size/8, …
  const sizes = t.stages.map((s) => s.out_size);
  const expectedSizes = [spec.size / 2, ...spec.blocks.map((_, i) => spec.size / 2 ** (i + 2)), 1];
  assert.deepEqual(
    sizes,
    expectedSizes.map((s) => [s, s]),
  );
  return t;
}

test('parseOnnx reads what onnx-proto wrote, skipping weights but keeping small int tensors', () => {
  const g = new GraphBuilder({ name: 'x', c: 3, h: 8, w: 8 });
  let x = g.pad(g.input, 1, 'p');
  x = g.conv(x, 4, 3, { stride: 2, name: 'c' });
  const flat = g.node('Flatten', 'f', [x.name], [attr.int('axis', -1)]);
  g.output(flat);
  const bytes = g.build();
  const graph = parseOnnx(bytes);
  const reference = onnx.ModelProto.decode(bytes);

  assert.equal(graph.opset, 17);
  assert.equal(graph.irVersion, 8);
  assert.deepEqual(
    graph.nodes.map((n) => [n.name, n.op, n.inputs, n.outputs]),
    reference.graph!.node!.map((n) => [n.name, n.opType, n.input, n.output]),
  );
  assert.deepEqual(graph.nodes[1]!.attrs, {
    kernel_shape: [3, 3],
    strides: [2, 2],
    group: 1,
    dilations: [1, 1],
    pads: [0, 0, 0, 0],
  });
  assert.equal(graph.nodes[2]!.attrs.axis, -1, 'negative int64 attributes survive');
  assert.equal(graph.nodes[0]!.attrs.mode, 'constant');
  assert.deepEqual(graph.inputs, [{ name: 'x', elemType: 1, shape: ['N', 3, 8, 8] }]);
  assert.deepEqual(graph.initializers.get('c/W'), {
    name: 'c/W',
    dims: [4, 3, 3, 3],
    dataType: 1,
    size: 108,
  });
  assert.deepEqual(graph.initializers.get('p/pads')?.ints, [0, 0, 1, 1, 0, 0, 1, 1]);
  assert.throws(() => parseOnnx(new Uint8Array([0x3a, 0x05, 0x01])), /Truncated/);
});

test('int64_data pads and float_data weights parse without decoding the floats', () => {
  const model = onnx.ModelProto.encode({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      node: [{ opType: 'Pad', name: 'p', input: ['x', 'pads'], output: ['y'] }],
      initializer: [
        { name: 'pads', dims: [8], dataType: 7, int64Data: [0, 0, 2, 1, 0, 0, 2, 1] },
        { name: 'w', dims: [2, 3], dataType: 1, floatData: [1, 2, 3, 4, 5, 6] },
      ],
      // IR < 4 style: initializers repeated as graph inputs.
      input: [
        {
          name: 'x',
          type: {
            tensorType: {
              elemType: 1,
              shape: { dim: [{ dimValue: 1 }, { dimValue: 2 }, { dimValue: 5 }, { dimValue: 5 }] },
            },
          },
        },
        { name: 'pads', type: { tensorType: { elemType: 7 } } },
      ],
    },
  }).finish();
  const graph = parseOnnx(model);
  assert.deepEqual(graph.initializers.get('pads')?.ints, [0, 0, 2, 1, 0, 0, 2, 1]);
  assert.equal(graph.initializers.get('w')?.ints, undefined);
  assert.deepEqual(
    graph.inputs.map((i) => i.name),
    ['x'],
  );
  const net = normaliseGraph(graph);
  const shapes = inferShapes(net.graph);
  assert.deepEqual(shapes.shapes.get('y'), [1, 2, 9, 7]);
  const cost = graphCost(net, shapes);
  assert.equal(cost.params, 6, 'the int64 pads are not parameters; the unused float tensor is');
  assert.match(cost.warnings.join('\n'), /1 float initializer \(6 elements\) feed no node/);
});

test('windowOutput follows the ONNX formula, including ceil_mode', () => {
  assert.equal(windowOutput(224, 7, 2, 1, 3, 3, false), 112);
  assert.equal(windowOutput(112, 3, 2, 1, 1, 1, false), 56);
  assert.equal(windowOutput(56, 1, 2, 1, 0, 0, false), 28);
  assert.equal(windowOutput(7, 3, 1, 2, 2, 2, false), 7, 'dilation 2 widens the window to 5');
  assert.equal(windowOutput(6, 3, 2, 1, 0, 0, true), 3);
  assert.equal(windowOutput(6, 3, 2, 1, 0, 0, false), 2);
  assert.equal(windowOutput(4, 1, 2, 1, 0, 1, true), 2, 'a window starting in the end padding is dropped');
  assert.throws(() => windowOutput(2, 5, 1, 1, 0, 0, false), /larger than padded input/);
});

test('unknown ops and bad shapes are reported, never thrown', () => {
  const g = new GraphBuilder({ name: 'x', c: 3, h: 8, w: 8 });
  const weird = g.node('Mystery', 'm', [g.input.name]);
  const after = g.conv({ name: weird, c: 3, h: 8, w: 8 }, 4, 3, { pad: 1, name: 'c' });
  const bad = g.node('Add', 'bad_add', [g.input.name, g.weight('seven', [7])]);
  g.output(after.name);
  g.output(bad);
  const shapes = inferShapes(parseOnnx(g.build()));
  assert.equal(shapes.shapes.get(weird), null);
  assert.equal(shapes.shapes.get(after.name), null);
  assert.match(shapes.warnings.join('\n'), /m: unsupported op Mystery/);
  assert.match(shapes.warnings.join('\n'), /bad_add: cannot broadcast/);
  assert.equal(shapes.warnings.length, 2, 'nodes blocked by an unknown input are not reported again');
  const t = buildLayerTable(parseOnnx(g.build()));
  assert.equal(t.totals.params, 3 * 4 * 9 + 4 + 7, 'params are still counted');
  const conv = t.rows.find((r) => r.op === 'Conv')!;
  assert.equal(conv.out_shape, null);
  assert.match(conv.unknown ?? '', /unknown/, 'the row says why its numbers are missing');
  const mystery = t.rows.find((r) => r.op === 'Mystery')!;
  assert.match(mystery.unknown ?? '', /unsupported op Mystery/, 'the op is named on its row');
  assert.match(
    t.warnings.join('\n'),
    /c: multiply-adds unknown/,
    'a conv without a shape is a warning, not a silent 0',
  );
});

test('ResNet-18 style (basic blocks, 2 per stage): 18 counted layers, projections where the shape changes', () => {
  const t = checkResNet(
    { kind: 'basic', blocks: [2, 2, 2, 2], widths: [8, 16, 32, 64], stem: 8, size: 64, classes: 10 },
    { conv1: 1, conv2_x: 4, conv3_x: 4, conv4_x: 4, conv5_x: 4, fc: 1 },
  );
  assert.equal(t.totals.counted, 18);
  assert.deepEqual(
    t.rows.filter((r) => r.role === 'projection').map((r) => r.block),
    ['conv3_1', 'conv4_1', 'conv5_1'],
  );
  assert.deepEqual(
    t.blocks.map((b) => [b.kind, b.shortcut]),
    t.blocks.map((b) => [
      'basic',
      ['conv3_1', 'conv4_1', 'conv5_1'].includes(b.block) ? 'projection' : 'identity',
    ]),
  );
  assert.equal(t.blocks[0]!.residual, 'relu(F(x) + x)');
  assert.equal(t.blocks[2]!.residual, 'relu(F(x) + W_s·x)');
  const conv3 = rowsOf(t, 'conv3_1', 'main');
  assert.deepEqual(
    conv3.map((r) => [r.kernel, r.stride, r.in_shape, r.out_shape]),
    [
      [
        [3, 3],
        [2, 2],
        ['N', 8, 16, 16],
        ['N', 16, 8, 8],
      ],
      [
        [3, 3],
        [1, 1],
        ['N', 16, 8, 8],
        ['N', 16, 8, 8],
      ],
    ],
  );
  assert.deepEqual(
    conv3.map((r) => r.activation),
    ['relu after BN', 'relu after residual add'],
  );
  const stem = t.rows[0]!;
  assert.deepEqual([stem.stage, stem.role, stem.name, stem.counted], ['conv1', 'stem', 'conv1 7×7, 8', true]);
  assert.deepEqual(stem.onnx_nodes, ['conv1', 'bn_conv1', 'conv1_relu']);
  assert.equal(stem.folded_params, 2 * 8, 'BatchNorm scale and bias');
  assert.equal(stem.params, 8 * 3 * 49 + 8 + 2 * 8);
  assert.equal(stem.buffers, 2 * 8, 'BatchNorm running mean and variance');
  const pool = t.rows[1]!;
  assert.deepEqual([pool.stage, pool.role, pool.block, pool.counted], ['conv2_x', 'pool', null, false]);
  assert.deepEqual(
    t.rows.filter((r) => r.stage === 'fc').map((r) => [r.role, r.op, r.out_shape]),
    [
      ['pool', 'GlobalAveragePool', ['N', 64, 1, 1]],
      ['fc', 'Gemm', ['N', 10]],
    ],
  );
});

test('ResNet-34 layout (3, 4, 6, 3 basic blocks): 34 counted layers', () => {
  const t = checkResNet(
    { kind: 'basic', blocks: [3, 4, 6, 3], widths: [4, 8, 16, 32], stem: 4, size: 64, classes: 5 },
    { conv1: 1, conv2_x: 6, conv3_x: 8, conv4_x: 12, conv5_x: 6, fc: 1 },
  );
  assert.equal(t.totals.counted, 34);
  assert.equal(t.totals.projections, 3);
  assert.deepEqual(
    t.stages.map((s) => s.layout),
    [
      '7×7, 4, stride 2',
      '3×3 max pool, stride 2; [3×3, 4; 3×3, 4] × 3',
      '[3×3, 8; 3×3, 8] × 4',
      '[3×3, 16; 3×3, 16] × 6',
      '[3×3, 32; 3×3, 32] × 3',
      'global avg pool; 5-d fc',
    ],
  );
});

test('bottleneck ResNet, torchvision v1.5 style: the stride is reported on the 3×3 conv', () => {
  const t = checkResNet(
    {
      kind: 'bottleneck',
      blocks: [3, 4, 6, 3],
      widths: [4, 8, 16, 32],
      stem: 4,
      size: 64,
      classes: 10,
      strideOn: '3x3',
    },
    { conv1: 1, conv2_x: 9, conv3_x: 12, conv4_x: 18, conv5_x: 9, fc: 1 },
  );
  assert.equal(t.totals.counted, 50);
  assert.deepEqual(
    t.rows.filter((r) => r.role === 'projection').map((r) => [r.block, r.stride]),
    [
      ['conv2_1', [1, 1]],
      ['conv3_1', [2, 2]],
      ['conv4_1', [2, 2]],
      ['conv5_1', [2, 2]],
    ],
  );
  for (const block of ['conv3_1', 'conv4_1', 'conv5_1']) {
    assert.deepEqual(
      rowsOf(t, block, 'main').map((r) => r.stride),
      [
        [1, 1],
        [2, 2],
        [1, 1],
      ],
    );
    assert.equal(
      t.blocks.find((b) => b.block === block)?.stride_on,
      `${block} b 3×3, ${rowsOf(t, block, 'main')[1]!.out_shape![1]}`,
    );
  }
  assert.ok(t.blocks.every((b) => b.kind === 'bottleneck'));
  assert.ok(
    t.rows
      .filter((r) => r.role === 'main' || r.role === 'stem')
      .every((r) => r.downsample === r.stride![0]! > 1),
  );
});

test('Keras v1 style bottleneck with Pad nodes: stride on the first 1×1, Pad folded into the stem rows', () => {
  const t = checkResNet(
    { kind: 'bottleneck', blocks: [2, 2], widths: [4, 8], stem: 4, size: 32, classes: 3, padNodes: true },
    { conv1: 1, conv2_x: 6, conv3_x: 6, fc: 1 },
  );
  assert.deepEqual(
    rowsOf(t, 'conv3_1', 'main').map((r) => r.stride),
    [
      [2, 2],
      [1, 1],
      [1, 1],
    ],
  );
  const [conv1, pool] = t.rows;
  assert.deepEqual(conv1!.onnx_nodes, ['conv1_pad', 'conv1', 'bn_conv1', 'conv1_relu']);
  assert.deepEqual(
    [conv1!.pads, conv1!.in_shape, conv1!.out_shape],
    [
      [3, 3, 3, 3],
      ['N', 3, 32, 32],
      ['N', 4, 16, 16],
    ],
  );
  assert.deepEqual(
    [pool!.onnx_nodes, pool!.pads, pool!.out_shape],
    [
      ['pool1_pad', 'pool1'],
      [1, 1, 1, 1],
      ['N', 4, 8, 8],
    ],
  );
});

test('3×3 convolutions without a pooling between them (strided, then a global pool) are no VGG', () => {
  // As the PyTorch editor's TinyNet: conv 3×3, conv 3×3 stride 2, global average pool, fc.
  const g = new GraphBuilder({ name: 'x', c: 3, h: 32, w: 32 });
  let x = g.relu(g.conv(g.input, 16, 3, { pad: 1 }));
  x = g.relu(g.conv(x, 32, 3, { stride: 2, autoPad: 'SAME_UPPER' }));
  g.output(g.fc(g.globalAveragePool(x), 10));
  assert.equal(tableOf(g.build()).family, 'CNN');
});

test('a plain conv stack: stages by resolution, conv groups, the same columns', () => {
  const g = new GraphBuilder({ name: 'x', c: 3, h: 32, w: 32 });
  let x = g.relu(g.bn(g.conv(g.input, 8, 3, { pad: 1 })));
  x = g.maxPool(x, 2, 2);
  x = g.relu(g.conv(x, 16, 3, { stride: 2, autoPad: 'SAME_UPPER' }));
  g.output(g.fc(g.globalAveragePool(x), 4));
  const t = tableOf(g.build());
  assert.equal(t.family, 'VGG', 'only 3×3 convolutions between poolings');
  assert.deepEqual(
    t.rows.map((r) => [r.stage, r.block, r.op]),
    [
      ['stem', 'stem.1', 'Conv'],
      ['stage1', null, 'MaxPool'],
      ['stage1', 'stage1.1', 'Conv'],
      ['head', null, 'GlobalAveragePool'],
      ['head', null, 'Gemm'],
    ],
  );
  assert.deepEqual(t.rows[0]!.onnx_ops, ['Conv', 'BatchNormalization', 'Relu']);
  assert.deepEqual(t.rows[4]!.onnx_ops, ['Flatten', 'Gemm'], 'the Flatten belongs to the fc layer');
  assert.deepEqual(
    t.blocks.map((b) => b.kind),
    ['conv group', 'conv group'],
  );
  assert.equal(t.totals.counted, 3);
  assert.equal(t.depth, '1 + 1 + 1 = 3');
  assert.equal(t.totals.params + t.totals.buffers, g.weightElements());
  assert.equal(t.totals.macs, g.expectedMacs);
  assert.deepEqual(t.rows[2]!.out_shape, ['N', 16, 8, 8]);
  assert.deepEqual(t.rows[2]!.pads, [0, 0, 1, 1], 'SAME_UPPER puts the odd pad at the end');
});

test('an Add whose inputs do not branch from one tensor: nested regions, never a flat list', () => {
  const g = new GraphBuilder({ name: 'x', c: 4, h: 8, w: 8 });
  const x = g.relu(g.conv(g.input, 4, 3, { pad: 1 }));
  const y = g.add(g.conv(x, 4, 3, { pad: 1 }), x);
  // y's branch passes through the first Add before reaching a fork: a dense-style skip, not a chain.
  const z = g.add(g.conv(y, 4, 1), g.conv(x, 4, 1));
  g.output(z.name);
  const t = tableOf(g.build());
  assert.equal(t.family, 'CNN');
  assert.match(t.note ?? '', /single-entry, single-exit regions/);
  assert.equal(t.blocks.length, 1, 'one region from the first conv to the last Add');
  assert.ok(t.rows.every((r) => r.stage !== null));
  assert.equal(t.totals.macs, g.expectedMacs);
});

test('our shapes agree with onnxruntime on intermediate tensors', async () => {
  const ort = await import('onnxruntime-node');
  const g = new GraphBuilder({ name: 'x', c: 3, h: 17, w: 19 });
  const t: string[] = [];
  const keep = <T extends { name: string }>(v: T): T => (t.push(v.name), v);
  const a = keep(g.conv(g.input, 4, 3, { stride: 2, autoPad: 'SAME_UPPER', name: 'same_upper' }));
  const b = keep(g.conv(g.input, 4, 4, { stride: 2, autoPad: 'SAME_LOWER', name: 'same_lower' }));
  keep(g.add(a, b, 'sum'));
  const c = keep(g.conv(g.pad(g.input, 2), 6, 3, { dilation: 2, autoPad: 'VALID', name: 'dilated' }));
  keep(g.conv(c, 6, 3, { group: 3, stride: 2, pads: [0, 1, 2, 0], name: 'grouped_asym' }));
  keep(g.maxPool(c, 3, 2, 1, true, 'ceil_pool'));
  keep(g.maxPool(c, 2, 3, 0, true, 'ceil_pool2'));
  // 4×5 input: in W, ceil_mode's last window would start in the end padding and is dropped (3, not 4).
  const small = keep(g.conv(c, 6, 3, { stride: 4, autoPad: 'VALID', name: 'shrink' }));
  keep(g.maxPool(small, 2, 2, 1, true, 'ceil_drop'));
  const avg = g.node(
    'AveragePool',
    'avg',
    [c.name],
    [attr.ints('kernel_shape', [3, 2]), attr.ints('strides', [2, 2]), attr.int('ceil_mode', 1)],
  );
  t.push(avg);
  const bn = keep(g.relu(g.bn(c)));
  const gap = keep(g.globalAveragePool(bn));
  t.push(g.fc(gap, 7, 'fc'));
  for (const name of t) g.output(name);
  const bytes = g.build();

  const ours = inferShapes(parseOnnx(bytes), { batch: 2 });
  assert.deepEqual(ours.warnings, []);
  const session = await ort.InferenceSession.create(bytes);
  const input = new ort.Tensor('float32', new Float32Array(2 * 3 * 17 * 19), [2, 3, 17, 19]);
  const result = await session.run({ x: input });
  for (const name of t) assert.deepEqual(ours.shapes.get(name), [...result[name]!.dims], name);
  await session.release();
});

test('cli layers: JSON rows carry the documented keys; Markdown has subtotals; errors give exit codes', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cnn-lens-layers-'));
  const file = path.join(dir, 'r18.onnx');
  await fs.writeFile(
    file,
    buildResNet({
      kind: 'basic',
      blocks: [2, 2, 2, 2],
      widths: [4, 8, 8, 8],
      stem: 4,
      size: 32,
      classes: 3,
    }).build(),
  );
  const run = async (argv: string[], model = file): Promise<[number, string, string]> => {
    let out = '';
    let err = '';
    const code = await runLayers(
      argv,
      { stdout: (s) => (out += s), stderr: (s) => (err += s) },
      model,
      'python/cnn_lens_torch.py',
    );
    return [code, out, err];
  };
  const [code, out] = await run(['--json']);
  assert.equal(code, 0);
  const table = JSON.parse(out) as LayerTable;
  for (const key of [
    'stage',
    'block',
    'name',
    'op',
    'kernel',
    'stride',
    'pads',
    'in_shape',
    'out_shape',
    'params',
    'macs',
    'counted',
  ]) {
    assert.ok(
      table.rows.every((r) => key in r),
      key,
    );
  }
  assert.equal(table.totals.counted, 18);

  const [, md] = await run(['--markdown', '--model', file], '/nowhere.onnx');
  assert.match(md, /\*\*conv3_x subtotal\*\* \(4 layers, out 4×4, 8\)/);
  assert.match(md, /\| \*\*total\*\* \(18 layers\) \|/);
  const [, text] = await run([]);
  assert.match(
    text,
    /^ResNet, 18 weighted layers \(conv1 1 \+ conv2_x 4 \+ conv3_x 4 \+ conv4_x 4 \+ conv5_x 4 \+ fc 1\)/,
  );
  assert.match(text, /^18 +fc +fc 3 /m);

  assert.equal((await run(['--json', '--markdown']))[0], 2);
  assert.equal((await run(['--frobnicate']))[0], 2);
  const [missing, , err] = await run([], path.join(dir, 'missing.onnx'));
  assert.equal(missing, 1);
  assert.match(err, /missing\.onnx/);
  await fs.rm(dir, { recursive: true });
});

// Multiply-adds of ResNet50 v1 at 224×224 from the paper's table, computed without the graph.
function resnet50V1Macs(): number {
  let macs = 112 * 112 * 64 * 3 * 7 * 7;
  let cin = 64;
  let size = 56;
  [3, 4, 6, 3].forEach((blocks, s) => {
    const width = 64 * 2 ** s;
    for (let b = 0; b < blocks; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      const out = size / stride;
      macs += out * out * width * cin; // 1×1 (carries the stride in v1)
      macs += out * out * width * width * 9; // 3×3
      macs += out * out * 4 * width * width; // 1×1 expand
      if (b === 0) macs += out * out * 4 * width * cin; // projection
      cin = 4 * width;
      size = out;
    }
  });
  return macs + 2048 * 1000;
}

test(
  'models/resnet50.onnx: 50 layers, 4 projections, v1 strides, 25,583,592 params + 53,120 buffers',
  { skip: !existsSync(REAL_MODEL) && 'models/resnet50.onnx is not built (npm run model)' },
  async (ctx) => {
    const started = performance.now();
    const graph = await readOnnxFile(REAL_MODEL);
    const t = buildLayerTable(graph);
    const ms = performance.now() - started;
    assert.equal(t.family, 'ResNet');
    assert.deepEqual(countedPerStage(t), {
      conv1: 1,
      conv2_x: 9,
      conv3_x: 12,
      conv4_x: 18,
      conv5_x: 9,
      fc: 1,
    });
    assert.equal(t.totals.counted, 50);
    assert.equal(t.totals.params, 25_583_592, 'Keras: 25,636,712 in all, of which 53,120 non-trainable');
    assert.equal(t.totals.buffers, 53_120);
    assert.equal(t.totals.macs, resnet50V1Macs());
    assert.equal(t.totals.macs, 3_857_973_248);
    assert.deepEqual(t.warnings, []);

    const layout = { conv2_x: [64, 3], conv3_x: [128, 4], conv4_x: [256, 6], conv5_x: [512, 3] } as const;
    for (const [stage, [width, blocks]] of Object.entries(layout)) {
      const stageBlocks = t.blocks.filter((b) => b.stage === stage);
      assert.equal(stageBlocks.length, blocks, stage);
      for (const [i, b] of stageBlocks.entries()) {
        const main = rowsOf(t, b.block, 'main');
        assert.deepEqual(
          main.map((r) => [r.kernel, r.out_shape![1]]),
          [
            [[1, 1], width],
            [[3, 3], width],
            [[1, 1], 4 * width],
          ],
          b.block,
        );
        const strided = stage !== 'conv2_x' && i === 0;
        assert.deepEqual(
          main.map((r) => r.stride![0]),
          [strided ? 2 : 1, 1, 1],
          b.block,
        );
        assert.equal(b.shortcut, i === 0 ? 'projection' : 'identity', b.block);
      }
    }
    const projections = t.rows.filter((r) => r.role === 'projection');
    assert.deepEqual(
      projections.map((r) => [r.block, r.onnx_nodes, r.stride]),
      [
        ['conv2_1', ['res2a_branch1', 'bn2a_branch1'], [1, 1]],
        ['conv3_1', ['res3a_branch1', 'bn3a_branch1'], [2, 2]],
        ['conv4_1', ['res4a_branch1', 'bn4a_branch1'], [2, 2]],
        ['conv5_1', ['res5a_branch1', 'bn5a_branch1'], [2, 2]],
      ],
    );
    assert.deepEqual(
      t.stages.map((s) => [s.stage, s.out_shape]),
      [
        ['conv1', ['N', 64, 112, 112]],
        ['conv2_x', ['N', 256, 56, 56]],
        ['conv3_x', ['N', 512, 28, 28]],
        ['conv4_x', ['N', 1024, 14, 14]],
        ['conv5_x', ['N', 2048, 7, 7]],
        ['fc', ['N', 1000]],
      ],
    );
    assert.deepEqual(
      t.stages.map((s) => s.out_size![0]),
      [112, 56, 28, 14, 7, 1],
    );
    const fc = t.rows.at(-1)!;
    assert.deepEqual(
      [fc.name, fc.onnx_nodes.at(-1), fc.params, fc.macs],
      ['fc 1000', 'fc1000', 2_049_000, 2_048_000],
    );
    assert.deepEqual(t.rows[0]!.onnx_nodes.slice(0, 3), ['conv1_pad', 'conv1', 'bn_conv1']);
    assert.ok(ms < 1000, `parse + infer + group took ${ms.toFixed(0)} ms`);
    ctx.diagnostic(`resnet50: ${t.totals.macs} MACs, ${t.totals.params} params, ${ms.toFixed(0)} ms`);
  },
);
