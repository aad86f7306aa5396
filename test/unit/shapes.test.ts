// Shape inference checked against onnxruntime: on the real exported fixtures (every intermediate tensor,
// and the folded values of the shape subgraphs), and on small hand-built graphs for each op whose inputs
// or attributes changed across opsets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import type * as Ort from 'onnxruntime-node';
import type { AttrValue, Dim } from '../../src/model/onnxGraph';
import { parseOnnx } from '../../src/model/onnxGraph';
import { normaliseGraph } from '../../src/model/normalise';
import {
  inferShapes,
  windowOutput,
  type GraphShapes,
  type Shape,
  type ShapeOptions,
} from '../../src/model/shapes';
import { FIXTURES, fixtureBytes, fixtureGraph, runnable } from './helpers/fixtures';
import { at, floatTensor, int64Tensor, OpGraph } from './helpers/opGraphs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof Ort;

// Small enough to run with every tensor fetched (a few seconds in all); the big ones are parsed only.
const RUN_FAMILIES = [
  'mobilenet_v2.',
  'mobilenet_v3_small.',
  'shufflenet_v2_x1_0.',
  'efficientnet_b0.',
  'squeezenet1_1.',
  'googlenet.',
  'regnet_y_400mf.',
  'mnasnet1_0.',
];
const RUN_SINGLES = [
  'densenet121.op7',
  'resnet18.op9',
  'resnet18.dynhw',
  'convnext_tiny.ts',
  'convnext_tiny.op13',
];
const RUN = FIXTURES.filter((n) => RUN_SINGLES.includes(n) || RUN_FAMILIES.some((f) => n.startsWith(f)));

/** Every node output of a model declared as a graph output (untyped: onnxruntime reports what it computes). */
function exposeAll(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const outputs = (graph.output ??= []);
  const have = new Set(outputs.map((o) => o.name));
  for (const node of graph.node ?? []) {
    for (const o of node.output ?? []) {
      if (o && !have.has(o)) {
        outputs.push({ name: o });
        have.add(o);
      }
    }
  }
  return onnx.ModelProto.encode(model).finish();
}

/** Runs a model once on deterministic inputs; every output's dims and (for small tensors) values. */
async function runOrt(
  bytes: Uint8Array,
  inputs: { name: string; dims: number[]; type?: 'float32' | 'int64' }[],
): Promise<Map<string, { dims: number[]; data: number[] | undefined; type: string }>> {
  const session = await ort.InferenceSession.create(bytes, {
    graphOptimizationLevel: 'disabled',
    intraOpNumThreads: 2,
  });
  try {
    const feeds: Record<string, Ort.Tensor> = {};
    for (const { name, dims, type } of inputs) {
      const size = dims.reduce((a, b) => a * b, 1);
      // Some zeros, some negatives: NonZero, Relu and friends see varied data.
      const ramp = (i: number): number => ((i * 7) % 5) - 2;
      feeds[name] =
        type === 'int64'
          ? new ort.Tensor(
              'int64',
              BigInt64Array.from({ length: size }, (_, i) => BigInt(Math.abs(ramp(i)))),
              dims,
            )
          : new ort.Tensor(
              'float32',
              Float32Array.from({ length: size }, (_, i) => ramp(i) / 4),
              dims,
            );
    }
    const result = await session.run(feeds);
    const out = new Map<string, { dims: number[]; data: number[] | undefined; type: string }>();
    for (const [name, t] of Object.entries(result)) {
      const small = t.size <= 1024 && t.type !== 'string';
      const data = small ? Array.from(t.data as ArrayLike<number | bigint | boolean>, Number) : undefined;
      out.set(name, { dims: [...t.dims], data, type: t.type });
    }
    return out;
  } finally {
    await session.release();
  }
}

/** A symbolic dim ('N', 'N·2') evaluated at N = n. */
function evalDim(d: Dim, n: number): number {
  if (typeof d === 'number') return d;
  return d.split('·').reduce((p, f) => p * (f === 'N' ? n : Number(f)), 1);
}

/** Asserts that folded values equal what onnxruntime computed (float32 rounding allowed). */
function assertValues(ours: GraphShapes, name: string, data: number[] | undefined, n = 2): void {
  const mine = ours.values.get(name);
  if (!mine || !data) return;
  assert.equal(mine.length, data.length, `${name}: folded length`);
  mine.forEach((e, i) => {
    // '?' claims nothing; everything else must be right.
    if (e === '?') return;
    const v = evalDim(e, n);
    const ok = v === data[i] || Math.abs(v - data[i]!) <= 1e-6 * Math.max(1, Math.abs(v));
    assert.ok(ok, `${name}[${i}]: folded ${v}, onnxruntime ${data[i]}`);
  });
}

for (const name of RUN) {
  test(`fixture ${name}: every tensor's shape and folded value agree with onnxruntime at batch 2`, async (t) => {
    const graph = fixtureGraph(name);
    const normal = normaliseGraph(graph).graph;
    const input = graph.inputs[0]!;
    const dims = input.shape!.map((d, i) => (typeof d === 'number' ? d : i === 0 ? 2 : 224));
    const measuredAt = performance.now();
    const raw = inferShapes(graph, { batch: 2 });
    const ours = inferShapes(normal, { batch: 2 });
    const symbolic = inferShapes(normal);
    t.diagnostic(`inference: ${(performance.now() - measuredAt).toFixed(1)} ms for 3 passes`);
    assert.deepEqual([raw.warnings, ours.warnings, symbolic.warnings], [[], [], []]);

    const result = await runOrt(exposeAll(runnable(fixtureBytes(name))), [{ name: input.name, dims }]);
    let compared = 0;
    let folded = 0;
    for (const [tensor, { dims: ortDims, data: all, type }] of result) {
      // runnable() gave the float weights values of its own: only the shape arithmetic is comparable.
      const data = type === 'float32' ? undefined : all;
      // The raw graph still has every Identity and Constant: it must know every tensor.
      assert.deepEqual(raw.shapes.get(tensor), ortDims, `${tensor} (raw graph)`);
      assertValues(raw, tensor, data);
      if (data && raw.values.has(tensor)) folded++;
      if (!ours.shapes.has(tensor)) continue;
      assert.deepEqual(ours.shapes.get(tensor), ortDims, tensor);
      assertValues(ours, tensor, data);
      // With the batch left symbolic, the same shapes and values come out in terms of N.
      const sym = symbolic.shapes.get(tensor);
      assert.ok(sym, `${tensor}: no symbolic shape`);
      assert.deepEqual(
        sym.map((d) => evalDim(d, 2)),
        ortDims,
        `${tensor} symbolic ${JSON.stringify(sym)}`,
      );
      assertValues(symbolic, tensor, data);
      compared++;
    }
    // Every node of the normalised graph has its first output among them.
    assert.ok(compared >= normal.nodes.length, `only ${compared} tensors compared`);
    t.diagnostic(`${compared} tensors compared, ${folded} folded values checked`);
  });
}

test('all fixtures infer without warnings; the batch stays N; a symbolic H×W is assumed 224×224', async (t) => {
  assert.ok(FIXTURES.length >= 53, `${FIXTURES.length} fixtures`);
  for (const name of FIXTURES) {
    const graph = normaliseGraph(fixtureGraph(name)).graph;
    const ours = inferShapes(graph);
    assert.deepEqual(ours.warnings, [], name);
    assert.deepEqual(ours.unresolved, [], name);
    assert.ok(
      ours.nodes.every((n) => n.outShape !== null && !n.error),
      name,
    );
    const logits = ours.shapes.get(graph.outputs[0]!.name);
    assert.deepEqual(logits, [name === 'convnext_tiny.dynamo' ? 1 : 'N', 1000], name);
    if (name === 'resnet18.dynhw') {
      assert.equal(ours.assumed, 'input "input" has symbolic height and width; assumed 224×224');
    } else assert.equal(ours.assumed, null, name);
  }
  for (const [label, big] of [
    ['raw', fixtureGraph('efficientnet_v2_s.dynamo')],
    ['normalised', normaliseGraph(fixtureGraph('efficientnet_v2_s.dynamo')).graph],
  ] as const) {
    const runs = 20;
    inferShapes(big); // warm-up: the first call pays for compiling the rules
    const start = performance.now();
    for (let i = 0; i < runs; i++) inferShapes(big);
    const ms = (performance.now() - start) / runs;
    t.diagnostic(
      `efficientnet_v2_s.dynamo ${label} (${big.nodes.length} nodes): ${ms.toFixed(2)} ms per inference`,
    );
  }
});

test('resnet18.dynhw at another size: opts.spatial replaces the symbolic H and W', () => {
  const graph = normaliseGraph(fixtureGraph('resnet18.dynhw')).graph;
  const ours = inferShapes(graph, { spatial: [160, 96] });
  assert.equal(ours.assumed, 'input "input" has symbolic height and width; assumed 160×96');
  const conv1 = ours.nodes.find((n) => n.node.op === 'Conv')!;
  assert.deepEqual(conv1.outShape, ['N', 64, 80, 48]);
  const pooled = ours.nodes.find((n) => n.node.op === 'GlobalAveragePool')!;
  assert.deepEqual(pooled.inShapes[0], ['N', 512, 5, 3]);
});

// ---- Hand-built graphs, one op family at a time, each at the opsets where its inputs or attributes changed.

/** Infers a graph, runs it in onnxruntime (symbolic dims fed as `n`) and compares every node output. */
async function check(g: OpGraph, opts: ShapeOptions = {}, n = 2): Promise<GraphShapes> {
  const bytes = g.build();
  const ours = inferShapes(parseOnnx(bytes), opts);
  assert.deepEqual(ours.warnings, [], `opset ${g.opset}: warnings`);
  const feeds = g.inputs.map((i) => ({
    name: i.name!,
    dims: i.type!.tensorType!.shape!.dim!.map((d) => (d.dimParam ? n : Number(d.dimValue))),
    type: i.type!.tensorType!.elemType === onnx.TensorProto.DataType.INT64 ? ('int64' as const) : undefined,
  }));
  const result = await runOrt(bytes, feeds);
  for (const name of g.outputs) {
    const r = result.get(name);
    assert.ok(r, `onnxruntime gave no ${name}`);
    const mine = ours.shapes.get(name);
    const info = ours.nodes.find((x) => x.node.outputs.includes(name));
    assert.ok(mine, `opset ${g.opset} ${name}: no shape (${info?.error})`);
    assert.deepEqual(
      mine.map((d) => evalDim(d, n)),
      r.dims,
      `opset ${g.opset} ${name}: ours ${JSON.stringify(mine)}`,
    );
    assertValues(ours, name, r.data, n);
  }
  return ours;
}

/** The shape inferred for a node's first output. */
function outOf(ours: GraphShapes, tensor: string): Shape | undefined {
  return ours.shapes.get(tensor);
}

test('Pad: pads attribute (opset 7), pads input (11, 13), axes input (18), wrap mode (19); negative pads crop', async () => {
  const pads = [0, 0, 1, 2, 0, 0, 2, -1];
  for (const [opset, mode] of [
    [7, 'constant'],
    [7, 'reflect'],
    [11, 'edge'],
    [13, 'constant'],
    [18, 'reflect'],
    [19, 'wrap'],
  ] as const) {
    const g = new OpGraph(opset);
    const x = g.input('x', ['N', 2, 5, 6]);
    const p = mode === 'constant' ? pads : pads.map((v) => Math.max(v, 0));
    let y: string;
    if (opset < 11) y = g.op('Pad', [x], [at.ints('pads', p), at.str('mode', mode), at.float('value', 0.5)]);
    else if (opset < 18) y = g.op('Pad', [x, g.ints(p), g.floats([], [0.5])], [at.str('mode', mode)]);
    else {
      // Only H and W given, through axes (negative axes count from the back).
      const hw = [p[2]!, p[3]!, p[6]!, p[7]!];
      y = g.op('Pad', [x, g.ints(hw), '', g.ints([-2, -1])], [at.str('mode', mode)]);
    }
    const ours = await check(g);
    assert.deepEqual(ours.nodes[0]!.padAmounts, p);
    assert.deepEqual(outOf(ours, y), ['N', 2, 8, mode === 'constant' ? 7 : 8]);
  }
});

test('Clip: min/max attributes (opset 7), inputs (11, 13, one omitted)', async () => {
  for (const opset of [7, 11, 13]) {
    const g = new OpGraph(opset);
    const x = g.input('x', [2, 3, 4]);
    if (opset < 11) g.op('Clip', [x], [at.float('min', -0.1), at.float('max', 0.2)]);
    else {
      g.op('Clip', [x, g.floats([], [-0.1]), g.floats([], [0.2])]);
      g.op('Clip', [x, '', g.floats([], [0.2])]);
    }
    await check(g);
  }
});

test('Squeeze/Unsqueeze: axes attribute (opset 11), axes input (13, 21); no axes drops every 1', async () => {
  for (const opset of [11, 13, 21]) {
    const g = new OpGraph(opset);
    const x = g.input('x', [2, 1, 3, 1]);
    const axes = (v: number[]): [string[], ReturnType<typeof at.ints>[]] =>
      opset < 13 ? [[], [at.ints('axes', v)]] : [[g.ints(v)], []];
    const [si, sa] = axes([-1, 1]);
    const s = g.op('Squeeze', [x, ...si], sa);
    g.op('Squeeze', [x]);
    const [ui, ua] = axes([0, -1, 3]);
    const u = g.op('Unsqueeze', [s, ...ui], ua);
    const ours = await check(g);
    assert.deepEqual(outOf(ours, s), [2, 3]);
    assert.deepEqual(outOf(ours, u), [1, 2, 3, 1, 1]);
  }
});

test('Split: split attribute (opset 11), split input (13), num_outputs with a short last part (18), equal parts', async () => {
  for (const opset of [11, 13, 18]) {
    const g = new OpGraph(opset);
    const x = g.input('x', ['N', 6, 7]);
    if (opset < 13) g.node('Split', [x], [at.int('axis', 1), at.ints('split', [2, 4])], 2);
    else g.node('Split', [x, g.ints([2, 4])], [at.int('axis', 1)], 2);
    // From opset 18 equal parts need num_outputs.
    if (opset >= 18) g.node('Split', [x], [at.int('axis', -1), at.int('num_outputs', 3)], 3);
    else g.node('Split', [x], [at.int('axis', 1)], 3);
    const ours = await check(g);
    const parts = ours.nodes.map((n) => n.outShapes);
    assert.deepEqual(parts[0], [
      ['N', 2, 7],
      ['N', 4, 7],
    ]);
    if (opset >= 18) {
      assert.deepEqual(parts[1], [
        ['N', 6, 3],
        ['N', 6, 3],
        ['N', 6, 1],
      ]);
    }
  }
});

test('Slice: attributes (opset 7), inputs (10), steps, negative and clamped indices (13)', async () => {
  const big = 2 ** 62;
  {
    const g = new OpGraph(7);
    const x = g.input('x', [4, 10, 6]);
    const y = g.op(
      'Slice',
      [x],
      [at.ints('starts', [1, -3]), at.ints('ends', [big, 100]), at.ints('axes', [1, -1])],
    );
    assert.deepEqual(outOf(await check(g), y), [4, 9, 3]);
  }
  {
    const g = new OpGraph(10);
    const x = g.input('x', [4, 10, 6]);
    const y = g.op('Slice', [x, g.ints([-20, 2]), g.ints([3, -1])]);
    assert.deepEqual(outOf(await check(g), y), [3, 7, 6]);
    // On a symbolic axis only "all of it" can be named; min(3, N) cannot.
    const s = new OpGraph(10);
    const z = s.input('z', ['N', 10]);
    const all = s.op('Slice', [z, s.ints([0]), s.ints([big])]);
    const some = s.op('Slice', [z, s.ints([0]), s.ints([3])]);
    const ours = inferShapes(parseOnnx(s.build()));
    assert.deepEqual(
      [outOf(ours, all), outOf(ours, some)],
      [
        ['N', 10],
        ['?', 10],
      ],
    );
  }
  const g = new OpGraph(13);
  const x = g.input('x', ['N', 10, 6, 5]);
  const cases: [number[], number[], number[], number[], Dim[]][] = [
    [[-1], [-big], [1], [-1], ['N', 10, 6, 5]],
    [
      [8, 0],
      [1, big],
      [1, 2],
      [-3, 2],
      ['N', 3, 3, 5],
    ],
    [[0], [big], [0], [1], ['N', 10, 6, 5]],
    [[2], [2], [2], [1], ['N', 10, 0, 5]],
    [[-100], [100], [-1], [2], ['N', 10, 6, 3]],
    [[5], [-20], [3], [-2], ['N', 10, 6, 3]],
  ];
  const ys = cases.map(([s, e, a, st]) => g.op('Slice', [x, g.ints(s), g.ints(e), g.ints(a), g.ints(st)]));
  const ours = await check(g);
  ys.forEach((y, i) => assert.deepEqual(outOf(ours, y), cases[i]![4], `case ${i}`));
});

test('Resize: scales at input 1 (opset 10); roi/scales/sizes (11, 13); axes and keep_aspect_ratio_policy (18); Upsample 7 and 9', async () => {
  {
    const g = new OpGraph(7);
    const x = g.input('x', ['N', 3, 5, 7]);
    const y = g.op('Upsample', [x], [at.floats('scales', [1, 1, 2, 3])]);
    assert.deepEqual(outOf(await check(g), y), ['N', 3, 10, 21]);
  }
  {
    const g = new OpGraph(9);
    const x = g.input('x', ['N', 3, 5, 7]);
    const y = g.op('Upsample', [x, g.floats([4], [1, 1, 2, 1.5])]);
    assert.deepEqual(outOf(await check(g), y), ['N', 3, 10, 10]);
  }
  {
    const g = new OpGraph(10);
    const x = g.input('x', ['N', 3, 5, 7]);
    const y = g.op('Resize', [x, g.floats([4], [1, 1, 0.5, 1.5])]);
    assert.deepEqual(outOf(await check(g), y), ['N', 3, 2, 10]);
  }
  {
    const g = new OpGraph(11);
    const x = g.input('x', ['N', 3, 5, 7]);
    const a = g.op('Resize', [x, g.floats([0], []), g.floats([4], [1, 1, 1.7, 0.6])]);
    const b = g.op('Resize', [x, g.floats([0], []), g.floats([0], []), g.ints([2, 3, 9, 4])]);
    const roi = g.floats([8], [0, 0, 0.2, 0.1, 1, 1, 0.8, 0.9]);
    // onnxruntime sizes tf_crop_and_resize by the scales alone (the spec also multiplies by the roi extent).
    const c = g.op(
      'Resize',
      [x, roi, g.floats([4], [1, 1, 2, 2])],
      [at.str('coordinate_transformation_mode', 'tf_crop_and_resize'), at.str('mode', 'linear')],
    );
    const ours = await check(g);
    assert.deepEqual(
      [a, b, c].map((t) => outOf(ours, t)),
      [
        ['N', 3, 8, 4],
        [2, 3, 9, 4],
        ['N', 3, 10, 14],
      ],
    );
  }
  {
    const g = new OpGraph(13);
    const x = g.input('x', ['N', 3, 5, 7]);
    const y = g.op('Resize', [x, '', '', g.ints([2, 3, 4, 14])], [at.str('mode', 'linear')]);
    assert.deepEqual(outOf(await check(g), y), [2, 3, 4, 14]);
  }
  {
    const g = new OpGraph(18);
    const x = g.input('x', ['N', 3, 5, 7]);
    const axes = at.ints('axes', [2, 3]);
    const a = g.op(
      'Resize',
      [x, '', '', g.ints([8, 20])],
      [axes, at.str('keep_aspect_ratio_policy', 'not_larger')],
    );
    const b = g.op(
      'Resize',
      [x, '', '', g.ints([8, 20])],
      [axes, at.str('keep_aspect_ratio_policy', 'not_smaller')],
    );
    const c = g.op('Resize', [x, '', g.floats([2], [3, 0.5])], [axes]);
    const ours = await check(g);
    assert.deepEqual(
      [a, b, c].map((t) => outOf(ours, t)),
      [
        ['N', 3, 8, 11],
        ['N', 3, 14, 20],
        ['N', 3, 15, 3],
      ],
    );
  }
});

test('Reduce*: axes attribute (opset 11, 17), input (ReduceSum 13, the others 18), keepdims, noop_with_empty_axes', async () => {
  {
    const g = new OpGraph(11);
    const x = g.input('x', ['N', 3, 4, 5]);
    const a = g.op('ReduceMean', [x], [at.ints('axes', [-1, 1]), at.int('keepdims', 0)]);
    const b = g.op('ReduceSum', [x], [at.ints('axes', [2])]);
    const c = g.op('ReduceL2', [x]);
    const ours = await check(g);
    assert.deepEqual(
      [a, b, c].map((t) => outOf(ours, t)),
      [
        ['N', 4],
        ['N', 3, 1, 5],
        [1, 1, 1, 1],
      ],
    );
  }
  {
    const g = new OpGraph(13);
    const x = g.input('x', ['N', 3, 4, 5]);
    const a = g.op('ReduceSum', [x, g.ints([1, 3])], [at.int('keepdims', 0)]);
    const b = g.op('ReduceSum', [x], [at.int('noop_with_empty_axes', 1)]);
    const c = g.op('ReduceMax', [x], [at.ints('axes', [0])]);
    const d = g.op('ReduceLogSumExp', [x], [at.ints('axes', [3]), at.int('keepdims', 0)]);
    const ours = await check(g);
    assert.deepEqual(
      [a, b, c, d].map((t) => outOf(ours, t)),
      [
        ['N', 4],
        ['N', 3, 4, 5],
        [1, 3, 4, 5],
        ['N', 3, 4],
      ],
    );
  }
  {
    const g = new OpGraph(18);
    const x = g.input('x', ['N', 3, 4, 5]);
    const ops = [
      'ReduceMax',
      'ReduceMin',
      'ReduceProd',
      'ReduceL1',
      'ReduceL2',
      'ReduceSumSquare',
      'ReduceMean',
    ];
    const outs = ops.map((op) => g.op(op, [x, g.ints([-2])], [at.int('keepdims', 0)]));
    const all = g.op('ReduceMean', [x]);
    const none = g.op('ReduceMax', [x, g.ints([])], [at.int('noop_with_empty_axes', 1)]);
    const ours = await check(g);
    for (const o of outs) assert.deepEqual(outOf(ours, o), ['N', 3, 5]);
    assert.deepEqual(outOf(ours, all), [1, 1, 1, 1]);
    assert.deepEqual(outOf(ours, none), ['N', 3, 4, 5]);
  }
});

test('Shape: start and end (opset 15), folded to values that keep the symbolic batch', async () => {
  const g = new OpGraph(15);
  const x = g.input('x', ['N', 3, 4, 5]);
  const whole = g.op('Shape', [x]);
  const mid = g.op('Shape', [x], [at.int('start', 1), at.int('end', -1)]);
  const tail = g.op('Shape', [x], [at.int('start', -2), at.int('end', 100)]);
  const empty = g.op('Shape', [x], [at.int('start', 3), at.int('end', 1)]);
  const size = g.op('Size', [x]);
  const ours = await check(g, {}, 3);
  assert.deepEqual(ours.values.get(whole), ['N', 3, 4, 5]);
  assert.deepEqual(ours.values.get(mid), [3, 4]);
  assert.deepEqual(ours.values.get(tail), [4, 5]);
  assert.deepEqual(ours.values.get(empty), []);
  assert.deepEqual(ours.values.get(size), ['N·60']);
});

test('ConvTranspose: strides, output_padding, group, dilations, output_shape and auto_pad', async () => {
  const g = new OpGraph(11);
  const x = g.input('x', ['N', 4, 5, 6]);
  const w = g.floats([4, 3, 3, 3]);
  const a = g.op(
    'ConvTranspose',
    [x, w, g.floats([6])],
    [
      at.int('group', 2),
      at.ints('strides', [2, 3]),
      at.ints('output_padding', [1, 2]),
      at.ints('pads', [1, 0, 1, 2]),
      at.ints('dilations', [1, 2]),
    ],
  );
  const b = g.op('ConvTranspose', [x, w], [at.ints('strides', [2, 2]), at.ints('output_shape', [10, 13])]);
  const c = g.op('ConvTranspose', [x, w], [at.ints('strides', [2, 2]), at.str('auto_pad', 'SAME_UPPER')]);
  const d = g.op('ConvTranspose', [x, g.floats([4, 2, 1, 1])]);
  const ours = await check(g);
  assert.deepEqual(
    [a, b, c, d].map((t) => outOf(ours, t)),
    [
      ['N', 6, 10, 20],
      ['N', 3, 10, 13],
      ['N', 3, 10, 12],
      ['N', 2, 5, 6],
    ],
  );
  assert.deepEqual(ours.nodes[0]!.window, {
    kernel: [3, 3],
    strides: [2, 3],
    pads: [1, 0, 1, 2],
    dilations: [1, 2],
    group: 2,
    ceilMode: false,
  });
  // output_shape [10, 13] from 5×6 at stride 2: total padding 1 in H (at the begin, as the spec says) and 0 in W.
  assert.deepEqual(ours.nodes[1]!.window!.pads, [1, 0, 0, 0]);
});

test('Conv and pools: groups, dilations, asymmetric pads, auto_pad, ceil_mode, MaxPool indices, LpPool', async () => {
  const g = new OpGraph(19);
  const x = g.input('x', ['N', 6, 17, 19]);
  const a = g.op(
    'Conv',
    [x, g.floats([4, 3, 3, 2])],
    [
      at.int('group', 2),
      at.ints('dilations', [2, 3]),
      at.ints('strides', [2, 1]),
      at.ints('pads', [0, 1, 2, 0]),
    ],
  );
  // onnxruntime refuses dilations with SAME padding.
  const b = g.op(
    'Conv',
    [x, g.floats([6, 1, 3, 3])],
    [at.int('group', 6), at.ints('strides', [3, 2]), at.str('auto_pad', 'SAME_LOWER')],
  );
  const c = g.op(
    'Conv',
    [x, g.floats([2, 6, 4, 4])],
    [at.str('auto_pad', 'VALID'), at.ints('strides', [3, 3])],
  );
  const [mp, idx] = g.node(
    'MaxPool',
    [x],
    [
      at.ints('kernel_shape', [3, 2]),
      at.ints('strides', [2, 2]),
      at.ints('dilations', [2, 1]),
      at.ints('pads', [1, 1, 1, 1]),
      at.int('ceil_mode', 1),
    ],
    2,
  );
  const avg = g.op(
    'AveragePool',
    [x],
    [at.ints('kernel_shape', [3, 3]), at.ints('strides', [2, 2]), at.int('ceil_mode', 1)],
  );
  const lp = g.op(
    'LpPool',
    [x],
    [at.ints('kernel_shape', [2, 3]), at.ints('strides', [2, 2]), at.int('p', 2)],
  );
  const gl = g.op('GlobalLpPool', [x]);
  const gm = g.op('GlobalMaxPool', [x]);
  const ours = await check(g);
  assert.deepEqual(
    [a, b, c, mp!, idx!, avg, lp, gl, gm].map((t) => outOf(ours, t)),
    [
      ['N', 4, 8, 17],
      ['N', 6, 6, 10],
      ['N', 2, 5, 6],
      ['N', 6, 8, 10],
      ['N', 6, 8, 10],
      ['N', 6, 8, 9],
      ['N', 6, 8, 9],
      ['N', 6, 1, 1],
      ['N', 6, 1, 1],
    ],
  );
  // SAME_LOWER: H needs 1 (at the begin), W needs 2 (one each side).
  assert.deepEqual(ours.nodes[1]!.window!.pads, [1, 1, 0, 1]);
  assert.equal(windowOutput(5, 2, 2, 1, 1, 1, true), 3);
});

test('MatMul: numpy batch broadcasting and 1-D operands; Gemm with transA/transB', async () => {
  const g = new OpGraph(13);
  const x = g.input('x', ['N', 1, 3, 4]);
  const v = g.input('v', [4]);
  const cases: [string, string, Dim[]][] = [
    [x, g.floats([5, 4, 6]), ['N', 5, 3, 6]],
    [x, v, ['N', 1, 3]],
    [v, g.floats([2, 4, 7]), [2, 7]],
    [v, v, []],
    [g.floats([7, 1, 2, 4]), g.floats([3, 4, 1]), [7, 3, 2, 1]],
  ];
  const outs = cases.map(([a, b]) => g.op('MatMul', [a, b]));
  const m = g.input('m', [5, 3]);
  const gemm = g.op(
    'Gemm',
    [m, g.floats([4, 5]), g.floats([1, 4])],
    [at.int('transA', 1), at.int('transB', 1)],
  );
  const ours = await check(g);
  outs.forEach((o, i) => assert.deepEqual(outOf(ours, o), cases[i]![2], `case ${i}`));
  assert.deepEqual(outOf(ours, gemm), [3, 4]);
});

test('Einsum: batched matmul, transpose, attention scores, implicit output, ellipsis', async () => {
  const g = new OpGraph(12);
  const a = g.input('a', ['N', 3, 4]);
  const b = g.input('b', ['N', 4, 5]);
  const q = g.floats([2, 2, 3, 8]);
  const k = g.floats([2, 2, 6, 8]);
  const cases: [string, string[], Dim[]][] = [
    ['bij,bjk->bik', [a, b], ['N', 3, 5]],
    ['bij->bji', [a], ['N', 4, 3]],
    ['bhqd, bhkd -> bhqk', [q, k], [2, 2, 3, 6]],
    ['ij,jk', [g.floats([3, 4]), g.floats([4, 2])], [3, 2]],
    ['...ij,...jk->...ik', [a, b], ['N', 3, 5]],
    // A label bound to N in one operand and 2 in another: N must be 2.
    ['bij,bjk->bik', [a, g.floats([2, 4, 5])], [2, 3, 5]],
    ['bij->b', [a], ['N']],
  ];
  const outs = cases.map(([eq, ins]) => g.op('Einsum', ins, [at.str('equation', eq)]));
  const ours = await check(g);
  outs.forEach((o, i) => assert.deepEqual(outOf(ours, o), cases[i]![2], cases[i]![0]));
});

test('unary, broadcasting and logical ops keep or broadcast shapes (opset 20: Gelu, Mish, HardSwish, …)', async () => {
  const g = new OpGraph(20);
  const x = g.input('x', ['N', 3, 4, 5]);
  const unary = [
    'Relu',
    'Sigmoid',
    'HardSigmoid',
    'HardSwish',
    'Tanh',
    'Softplus',
    'Softsign',
    'Mish',
    'Gelu',
    'Erf',
    'Exp',
    'Log',
    'Sqrt',
    'Reciprocal',
    'Neg',
    'Abs',
    'Floor',
    'Ceil',
    'Round',
    'Sign',
    'Sin',
    'Cos',
    'Elu',
    'Selu',
    'Celu',
    'LeakyRelu',
    'ThresholdedRelu',
    'Shrink',
    'Softmax',
    'LogSoftmax',
    'Hardmax',
    'IsNaN',
    'IsInf',
    'Identity',
  ];
  for (const op of unary) g.op(op, [x]);
  g.op('Cast', [x], [at.int('to', onnx.TensorProto.DataType.INT64)]);
  g.op('CastLike', [x, g.ints([1])]);
  g.op('CumSum', [x, g.ints([1], [])]);
  g.op('Trilu', [x, g.ints([1], [])], [at.int('upper', 0)]);
  g.op('PRelu', [x, g.floats([3, 1, 1])]);
  g.op('Add', [x, g.floats([5])]);
  g.op('Sub', [g.floats([3, 1, 5]), x]);
  g.op('Mul', [x, g.floats([])]);
  g.op('Div', [x, g.floats([1, 3, 1, 1])]);
  g.op('Pow', [x, g.floats([1], [2])]);
  g.op('Mod', [x, g.floats([4, 1], [0.5, 0.7, 0.9, 1.1])], [at.int('fmod', 1)]);
  for (const op of ['Max', 'Min', 'Sum', 'Mean']) g.op(op, [x, g.floats([5]), g.floats([4, 1])]);
  const lt = g.op('Less', [x, g.floats([5])]);
  const gt = g.op('Greater', [x, g.floats([4, 1])]);
  for (const op of ['Equal', 'LessOrEqual', 'GreaterOrEqual']) g.op(op, [x, g.floats([1, 1, 1])]);
  for (const op of ['And', 'Or', 'Xor']) g.op(op, [lt, gt]);
  g.op('Not', [lt]);
  g.op('Where', [lt, x, g.floats([3, 1, 1])]);
  const ours = await check(g);
  for (const n of ours.nodes) assert.equal(n.outShape?.[0], 'N', n.node.name);
});

test('normalisations, Gemm, Flatten, Transpose, Concat, Gather*, Expand, Tile, Depth/Space, TopK, ArgMax', async () => {
  const g = new OpGraph(17);
  const x = g.input('x', ['N', 4, 6, 8]);
  const c4 = g.floats([4]);
  g.op('BatchNormalization', [x, c4, c4, c4, g.floats([4], [1, 1, 1, 1])]);
  g.op('InstanceNormalization', [x, c4, c4]);
  g.node('LayerNormalization', [x, g.floats([6, 8]), g.floats([6, 8])], [at.int('axis', -2)], 3);
  g.op('LRN', [x], [at.int('size', 3)]);
  g.op('MeanVarianceNormalization', [x]);
  for (const axis of [0, 1, -1, 4]) g.op('Flatten', [x], [at.int('axis', axis)]);
  g.op('Transpose', [x], [at.ints('perm', [0, 2, 3, 1])]);
  g.op('Transpose', [x]);
  g.op('Concat', [x, g.op('Relu', [x]), x], [at.int('axis', -1)]);
  g.op('Gather', [x, g.ints([0, 2, 1, 3, 3, 0], [2, 3])], [at.int('axis', 1)]);
  g.op('Gather', [x, g.ints([-1], [])], [at.int('axis', 3)]);
  g.op('GatherElements', [x, g.ints([0, 1, 1, 0], [1, 1, 2, 2])], [at.int('axis', 2)]);
  g.op('GatherND', [x, g.ints([0, 1, 1, 2], [2, 2])], [at.int('batch_dims', 0)]);
  g.op('Expand', [g.floats([4, 1, 8]), g.ints([2, 1, 6, 1])]);
  g.op('Tile', [x, g.ints([1, 2, 1, 3])]);
  g.op('DepthToSpace', [x], [at.int('blocksize', 2), at.str('mode', 'CRD')]);
  g.op('SpaceToDepth', [x], [at.int('blocksize', 2)]);
  g.node('TopK', [x, g.ints([3])], [at.int('axis', 2)], 2);
  g.node('TopK', [x, g.ints([5])], [], 2);
  g.op('ArgMax', [x], [at.int('axis', -1), at.int('keepdims', 0)]);
  g.op('ArgMin', [x], [at.int('axis', 1)]);
  const m = g.input('m', [3, 6]);
  g.op('Gemm', [m, g.floats([6, 7]), g.floats([7])]);
  g.op('Gemm', [g.floats([6, 3]), g.floats([2, 6])], [at.int('transA', 1), at.int('transB', 1)]);
  await check(g);
  // TopK's k was an attribute before opset 10.
  const old = new OpGraph(9);
  const y = old.input('y', ['N', 10]);
  old.node('TopK', [y], [at.int('k', 4)], 2);
  await check(old);
});

test('Reshape with allowzero (opset 14), Range over floats; BatchNormalization training outputs (opset 7, 15)', async () => {
  const g = new OpGraph(14);
  const x = g.input('x', ['N', 0, 4]);
  const keep = g.op('Reshape', [x, g.ints([0, -1])]);
  const zero = g.op('Reshape', [x, g.ints([0, 4, 0])], [at.int('allowzero', 1)]);
  const r = g.op('Range', [g.floats([], [0.5]), g.floats([], [3.2]), g.floats([], [0.7])]);
  const ours = await check(g);
  assert.deepEqual([outOf(ours, keep), outOf(ours, zero), outOf(ours, r)], [['N', 0], [0, 4, 0], [4]]);
  // onnxruntime's inference build has no training BatchNormalization: checked against the spec alone.
  for (const [opset, outputs, attrs] of [
    [7, 5, []],
    [15, 3, [at.int('training_mode', 1)]],
  ] as const) {
    const b = new OpGraph(opset);
    const y = b.input('y', ['N', 4, 6, 6]);
    const c4 = b.floats([4]);
    b.node('BatchNormalization', [y, c4, c4, c4, c4], [...attrs], outputs);
    const shapes = inferShapes(parseOnnx(b.build())).nodes[0]!.outShapes;
    assert.deepEqual(shapes, [['N', 4, 6, 6], ...new Array(outputs - 1).fill([4])]);
  }
});

test('GroupNormalization (opset 21) and Dropout with its mask (opset 13)', async () => {
  const g = new OpGraph(21);
  const x = g.input('x', ['N', 6, 4, 4]);
  g.op('GroupNormalization', [x, g.floats([6]), g.floats([6])], [at.int('num_groups', 3)]);
  await check(g);
  const d = new OpGraph(13);
  const y = d.input('y', ['N', 6]);
  d.node('Dropout', [y, d.floats([], [0.5])], [], 2);
  await check(d);
});

test('folding: a channel shuffle with a symbolic batch (Shape → Gather → Unsqueeze → Concat → Reshape)', async () => {
  const g = new OpGraph(13);
  const x = g.input('x', ['N', 8, 4, 6]);
  const shape = g.op('Shape', [x]);
  const n = g.op('Gather', [shape, g.ints([0], [])], [at.int('axis', 0)]);
  const n1 = g.op('Unsqueeze', [n, g.ints([0])]);
  const hw = g.op('Slice', [shape, g.ints([2]), g.ints([2 ** 62])]);
  const target = g.op('Concat', [n1, g.ints([2, 4]), hw], [at.int('axis', 0)]);
  const split = g.op('Reshape', [x, target]);
  const shuffled = g.op('Transpose', [split], [at.ints('perm', [0, 2, 1, 3, 4])]);
  const back = g.op('Concat', [n1, g.ints([-1]), hw], [at.int('axis', 0)]);
  const y = g.op('Reshape', [shuffled, back]);
  const ours = await check(g, {}, 3);
  assert.deepEqual(ours.values.get(target), ['N', 2, 4, 4, 6]);
  assert.deepEqual(ours.values.get(back), ['N', -1, 4, 6]);
  assert.deepEqual(outOf(ours, split), ['N', 2, 4, 4, 6]);
  assert.deepEqual(outOf(ours, y), ['N', 8, 4, 6]);
});

test('folding: Div/Mul/Cast/Floor on dims, Equal/Where (dynamo), Range, ConstantOfShape, ReduceProd, Expand, Tile', async () => {
  const g = new OpGraph(17);
  const x = g.input('x', ['N', 8, 4, 6]);
  const shape = g.op('Shape', [x]);
  // channels // 2 in int64, then (float) H / 2 floored and cast back, as TorchScript exports it.
  const c = g.op('Gather', [shape, g.ints([1])]);
  const half = g.op('Div', [c, g.ints([2], [])]);
  const h = g.op('Cast', [g.op('Gather', [shape, g.ints([2])]), ''.length ? '' : ''].slice(0, 1), [
    at.int('to', onnx.TensorProto.DataType.FLOAT),
  ]);
  const hHalf = g.op(
    'Cast',
    [g.op('Floor', [g.op('Div', [h, g.floats([], [2])])])],
    [at.int('to', onnx.TensorProto.DataType.INT64)],
  );
  const nTimes = g.op('Mul', [g.op('Gather', [shape, g.ints([0])]), g.ints([2])]);
  const target = g.op('Concat', [nTimes, half, hHalf, g.ints([-1])], [at.int('axis', 0)]);
  const r = g.op('Reshape', [x, target]);
  // The dynamo exporter's allowzero emulation: where the target says 0, take the input's dim.
  const t0 = g.ints([0, 16, 0, -1]);
  const picked = g.op('Where', [g.op('Equal', [t0, g.ints([0], [])]), shape, t0]);
  const r2 = g.op('Reshape', [x, picked]);
  const rng = g.op('Range', [g.ints([0], []), g.op('Squeeze', [c, g.ints([0])]), g.ints([3], [])]);
  const zeros = g.op('ConstantOfShape', [shape], [at.tensor('value', floatTensor('v', [1.5], [1]))]);
  const volume = g.op('ReduceProd', [shape], [at.int('keepdims', 0)]);
  const flat = g.op('Reshape', [x, g.op('Unsqueeze', [volume, g.ints([0])])]);
  const ex = g.op('Expand', [g.floats([1, 8, 1, 1]), shape]);
  const tiled = g.op('Tile', [g.ints([1, 2], [1, 2]), g.op('Slice', [shape, g.ints([0]), g.ints([2])])]);
  const less = g.op('Less', [shape, g.ints([5, 5, 5, 5])]);
  const ours = await check(g, {}, 3);
  assert.deepEqual(ours.values.get(target), ['N·2', 4, 2, -1]);
  assert.deepEqual(outOf(ours, r), ['N·2', 4, 2, 12]);
  assert.deepEqual(ours.values.get(picked), ['N', 16, 4, -1]);
  assert.deepEqual(outOf(ours, r2), ['N', 16, 4, 3]);
  assert.deepEqual(ours.values.get(rng), [0, 3, 6]);
  assert.deepEqual(outOf(ours, zeros), ['N', 8, 4, 6]);
  assert.deepEqual(ours.values.get(volume), ['N·192']);
  assert.deepEqual(outOf(ours, flat), ['N·192']);
  assert.deepEqual(outOf(ours, ex), ['N', 8, 4, 6]);
  assert.deepEqual(outOf(ours, tiled), ['N', 16]);
  // N ≥ 1 is all that is known: N < 5 cannot be decided, 8 < 5 can.
  assert.deepEqual(ours.values.get(less), ['?', 0, 1, 0]);
});

test('a raw graph: Constant nodes (value, value_float, value_ints), Identity and Dropout are inferred and folded', async () => {
  const g = new OpGraph(13);
  const x = g.input('x', ['N', 6]);
  const a = g.op('Constant', [], [at.tensor('value', int64Tensor('t', [3, 2], [2]))]);
  const b = g.op('Constant', [], [at.float('value_float', 2.5)]);
  const c = g.op('Constant', [], [at.ints('value_ints', [0, -1])]);
  const ra = g.op('Reshape', [g.op('Identity', [x]), g.op('Concat', [a, g.ints([-1])], [at.int('axis', 0)])]);
  const rc = g.op('Reshape', [g.node('Dropout', [x], [], 1)[0]!, c]);
  g.op('Mul', [x, b]);
  const ours = await check(g, {}, 3);
  assert.deepEqual(ours.values.get(a), [3, 2]);
  assert.deepEqual(ours.values.get(b), [2.5]);
  assert.deepEqual(outOf(ours, ra), [3, 2, 'N']);
  assert.deepEqual(outOf(ours, rc), ['N', 6]);
});

test('an unsupported op is a warning and its tensor unresolved; what depends on it is blocked, not warned', () => {
  const g = new OpGraph(17);
  const x = g.input('x', ['N', 3, 8, 8]);
  const a = g.op('Relu', [x]);
  const [b] = g.node('Attention', [a], [], 1, 'com.microsoft');
  const c = g.op('Frobnicate', [a]);
  const d = g.op('Add', [b!, a]);
  const e = g.op('Relu', [d]);
  const ours = inferShapes(parseOnnx(g.build()));
  assert.equal(ours.warnings.length, 2);
  assert.match(ours.warnings[0]!, /^Attention_\d+: unsupported op Attention \(domain com\.microsoft\)$/);
  assert.match(ours.warnings[1]!, /^Frobnicate_\d+: unsupported op Frobnicate$/);
  assert.deepEqual(ours.unresolved, [b, c]);
  const [relu, fused, frob, add, relu2] = ours.nodes;
  assert.deepEqual(relu!.outShape, ['N', 3, 8, 8]);
  assert.equal(fused!.blocked, undefined);
  assert.equal(frob!.error, 'unsupported op Frobnicate');
  assert.equal(add!.blocked, true);
  assert.equal(add!.error, `shape of input '${b}' unknown`);
  assert.equal(relu2!.blocked, true);
  assert.equal(ours.shapes.get(e), null);
});

test('NonZero is data-dependent: unresolved until a measuring run fills it in, then everything downstream resolves', async () => {
  const g = new OpGraph(13);
  const x = g.input('x', [3, 4]);
  const nz = g.op('NonZero', [x]);
  const t = g.op('Transpose', [nz]);
  const s = g.op('Shape', [t]);
  const y = g.op('Reshape', [x, g.ints([-1, 2])]);
  const bytes = g.build();
  const before = inferShapes(parseOnnx(bytes));
  assert.deepEqual(before.unresolved, [nz]);
  assert.equal(before.warnings.length, 1);
  assert.match(before.warnings[0]!, /NonZero_\d+: NonZero's output size depends on the input's values/);
  assert.equal(before.nodes[1]!.blocked, true);
  assert.deepEqual(before.shapes.get(y), [6, 2]);

  const run = await runOrt(bytes, [{ name: x, dims: [3, 4] }]);
  const measured = new Map([[nz, run.get(nz)!.dims]]);
  const after = inferShapes(parseOnnx(bytes), { measured });
  assert.deepEqual([after.warnings, after.unresolved], [[], []]);
  assert.equal(after.nodes[0]!.measured, true);
  assert.equal(after.nodes[0]!.error, undefined);
  assert.deepEqual(after.shapes.get(t), run.get(t)!.dims);
  assert.deepEqual(after.values.get(s), run.get(s)!.data);
});

test('bad graphs: per-node errors, never a throw', () => {
  const g = new OpGraph(17);
  const x = g.input('x', ['N', 3, 8, 8]);
  g.op('Conv', [x, g.floats([4, 2, 3, 3])]);
  g.op('Reshape', [x, g.ints([5, -1])]);
  g.op('Reshape', [x, g.ints([-1, -1])]);
  g.op('Concat', [x, g.floats([1, 3, 8])], [at.int('axis', 1)]);
  g.op('MaxPool', [x], [at.str('kernel_shape', 'big')]);
  g.op('Relu', ['nowhere']);
  g.op('Add', [x, g.floats([2, 1, 1])]);
  g.op('Transpose', [x], [at.ints('perm', [0, 1, 1, 2])]);
  g.op('Gather', [g.op('Shape', [x]), g.ints([7], [])]);
  g.op('Reshape', [x, g.input('target', [2], onnx.TensorProto.DataType.INT64)]);
  const ours = inferShapes(parseOnnx(g.build()), { batch: 2 });
  const errors = ours.nodes.map((n) => n.error ?? '');
  assert.match(errors[0]!, /Conv expects 2 input channels, got 3/);
  assert.match(errors[1]!, /cannot reshape 2×3×8×8 into \[5, -1\]/);
  assert.match(errors[2]!, /more than one -1/);
  assert.match(errors[3]!, /Concat inputs differ in rank/);
  assert.match(errors[4]!, /kernel_shape is not a list of numbers/);
  assert.match(errors[5]!, /input 'nowhere' is not produced by any node or initializer/);
  assert.match(errors[6]!, /cannot broadcast 2×3×8×8 with 2×1×1/);
  assert.match(errors[7]!, /not a permutation/);
  assert.match(errors[9]!, /Gather index 7 is out of range/);
  assert.match(errors[10]!, /Reshape's target shape \('target'\) is not a constant/);
  assert.equal(ours.warnings.length, 10);
  assert.deepEqual(
    ours.nodes.filter((n) => n.blocked).map((n) => n.node.name),
    [],
  );
  assert.doesNotThrow(() => inferShapes({ ...parseOnnx(g.build()), nodes: [], inputs: [] }));
});

test('mutated real graphs never make inference throw; every unknown shape carries a reason', (t) => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const junk: AttrValue[] = [-3, 0, 1e9, 2.5, 'SAME_UPPER', [], [-1, 99], ['a'], null];
  let broken = 0;
  let rounds = 0;
  for (const name of [
    'shufflenet_v2_x1_0.ts',
    'convnext_tiny.op13',
    'mobilenet_v3_small.dynamo',
    'googlenet.op9',
  ]) {
    const clean = fixtureGraph(name);
    const ops = [...new Set(clean.nodes.map((n) => n.op)), 'NonZero', 'Einsum', 'Resize', 'TopK', 'Pad'];
    for (let round = 0; round < 60; round++) {
      const nodes = clean.nodes.map((n) => ({ ...n, inputs: [...n.inputs], attrs: { ...n.attrs } }));
      for (let k = 0; k < 5; k++) {
        const node = nodes[rand(nodes.length)]!;
        const attrNames = Object.keys(node.attrs);
        const what = rand(5);
        if (what === 0) node.op = ops[rand(ops.length)]!;
        else if (what === 1) node.inputs.splice(rand(node.inputs.length + 1), 1);
        else if (what === 2) node.inputs.push(nodes[rand(nodes.length)]!.outputs[0] ?? '');
        else if (attrNames.length > 0)
          node.attrs[attrNames[rand(attrNames.length)]!] = junk[rand(junk.length)]!;
        else node.attrs.axis = junk[rand(junk.length)]!;
      }
      let ours: GraphShapes | undefined;
      assert.doesNotThrow(() => (ours = inferShapes({ ...clean, nodes })), `${name} round ${round}`);
      for (const info of ours!.nodes) {
        if (!info.outShape)
          assert.ok(info.error, `${name} round ${round}: ${info.node.op} unknown without a reason`);
      }
      rounds++;
      if (ours!.warnings.length > 0) broken++;
    }
  }
  // The mutations do reach the error paths.
  t.diagnostic(`${broken} of ${rounds} mutated graphs have warnings`);
  assert.ok(broken > rounds / 2, `${broken} of ${rounds}`);
});

test('assumed: what is left open about the input is said, not guessed', () => {
  const at4 = (dims: Dim[]): string | null => {
    const g = new OpGraph(17);
    g.op('Relu', [g.input('x', dims)]);
    return inferShapes(parseOnnx(g.build())).assumed;
  };
  assert.equal(at4(['N', 3, 224, 224]), null);
  assert.equal(at4([1, 3, 'H', 224]), 'input "x" has a symbolic height; assumed 224');
  assert.equal(
    at4(['N', 'C', 'H', 'W']),
    'input "x" has an unknown channel count (N×C×H×W); its size is left as it is',
  );
  assert.equal(at4(['N', 'T', 80]), 'input "x" is 3-D with symbolic dims (N×T×80); they are left symbolic');
  const g = new OpGraph(17);
  const x = g.input('x', ['batch', 3, 'h', 'w']);
  const y = g.op('Relu', [x]);
  const ours = inferShapes(parseOnnx(g.build()), { batch: 4, spatial: [32, 48] });
  assert.deepEqual(ours.shapes.get(y), [4, 3, 32, 48]);
});
