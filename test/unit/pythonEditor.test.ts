// The Python editor's host logic without VS Code: which classes get a CodeLens, the inlay-hint text and
// hover card of each construction line, where errors become diagnostics, and the debounced, cancelling
// queue of background analyses. One test reads the hints of a real analysis (skipped without torch).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { errorOutcome, lineSpan } from '../../src/host/python/errorSites';
import {
  batchShape,
  hintsForFile,
  hoverCard,
  lineHints,
  short,
  totalsText,
} from '../../src/host/python/lineHints';
import { LiveRuns } from '../../src/host/python/liveRuns';
import { findModelClasses } from '../../src/host/python/modelClasses';
import { analysePython } from '../../src/python/analysis';
import { helperScript } from '../../src/python/interpreter';
import { PythonRunner } from '../../src/python/runner';
import type { LayerRow, LayerTable } from '../../src/shared/layerTable';
import { ROOT } from './helpers/paths';
import { torchPython } from './helpers/torchPython';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'python');

test('findModelClasses: nn.Module, torch.nn.Module and Module subclasses, and classes deriving from them', () => {
  const text = [
    'import torch',
    'from torch import nn',
    'from torch.nn import Module',
    '',
    '# cnn-lens: input=1,3,32,32 args=(10,)',
    'class Net(nn.Module):',
    '    class Inner(nn.Module):  # nested: not constructible from the file',
    '        pass',
    'class Plain(torch.nn.Module):',
    '    pass',
    '# a comment',
    '@decorated',
    'class Bare(Module, metaclass=Meta):',
    '    pass',
    'class Wider(Net):',
    '    pass',
    'class Data(object):',
    '    pass',
    'class Dataset(torch.utils.data.Dataset):',
    '    pass',
  ].join('\n');
  assert.deepEqual(findModelClasses(text), [
    { name: 'Net', line: 5, configured: true },
    { name: 'Plain', line: 8, configured: false },
    { name: 'Bare', line: 12, configured: false },
    { name: 'Wider', line: 14, configured: false },
  ]);
  const fixture = readFileSync(path.join(FIXTURES, 'resnet50.py'), 'utf8');
  assert.deepEqual(
    findModelClasses(fixture).map((c) => c.name),
    ['Bottleneck', 'ResNet50'],
  );
  // A subclass listed before its base is still found.
  assert.deepEqual(
    findModelClasses('class B(A):\n  pass\nclass A(nn.Module):\n  pass\n').map((c) => c.name),
    ['B', 'A'],
  );
});

/** A layer row with the fields the editor reads; the rest as a plain convolution's. */
function row(over: Partial<LayerRow> & Pick<LayerRow, 'name'>): LayerRow {
  return {
    stage: null,
    block: null,
    op: 'Conv',
    onnx_nodes: [],
    onnx_ops: [],
    kernel: [3, 3],
    stride: [1, 1],
    pads: null,
    dilations: null,
    group: null,
    in_shape: [1, 64, 28, 28],
    out_shape: [1, 128, 28, 28],
    in_channels: 64,
    out_channels: 128,
    channels_last: false,
    params: 73_856,
    buffers: 0,
    folded_params: 0,
    macs: 57_802_752,
    counted: true,
    role: 'other',
    activation: null,
    downsample: false,
    output: over.name,
    shared: [],
    measured: false,
    unknown: null,
    receptive_field: null,
    effective_stride: null,
    rf_center: null,
    ...over,
  };
}

function table(rows: LayerRow[]): LayerTable {
  const params = rows.reduce((n, r) => n + r.params, 0);
  const macs = rows.reduce((n, r) => n + r.macs, 0);
  return {
    family: 'CNN',
    depth: String(rows.length),
    note: '',
    model: { name: 'Net', producer: 'PyTorch', opset: 17, input: null, output: null, assumed: null },
    rows,
    stages: [],
    blocks: [],
    totals: {
      params,
      buffers: 0,
      constants: 0,
      macs,
      counted: rows.length,
      rows: rows.length,
      projections: 0,
      shared: 0,
      measured: 0,
    },
    warnings: [],
  };
}

const F = '/ws/net.py';
const at = (line: number, module: string) => ({ source: { file: F, line, module } });

test('lineHints: one hint per construction line, "×k" and the shape range where a line built several modules', () => {
  const t = table([
    row({ name: 'conv', ...at(10, 'conv') }),
    row({ name: 'b0', out_shape: [1, 64, 56, 56], params: 1000, macs: 2000, ...at(12, 'blocks.0') }),
    row({ name: 'b1', out_shape: [1, 64, 56, 56], params: 1000, macs: 2000, ...at(12, 'blocks.1') }),
    row({ name: 'b2', out_shape: [1, 512, 7, 7], params: 1000, macs: 2000, ...at(12, 'blocks.2') }),
    row({ name: 'pool', op: 'MaxPool', params: 0, macs: 0, out_shape: [1, 128, 14, 14], ...at(14, 'pool') }),
    // A shared module called twice: two rows, one module, its parameters on the first row only.
    row({ name: 'shared', params: 500, macs: 100, ...at(16, 'shared'), shared: ['shared.weight'] }),
    row({ name: 'shared #2', params: 0, macs: 100, ...at(16, 'shared'), shared: ['shared.weight'] }),
    row({ name: 'cat', op: 'Concat' }), // a functional op in forward: no source, no hint
  ]);
  const hints = lineHints(t);
  assert.deepEqual(
    hints.map((h) => [h.line, h.modules, h.label]),
    [
      [9, 1, '→ N×128×28×28 · 73.9 k params · 57.8 M MACs'],
      [11, 3, '×3 → N×64×56×56 … N×512×7×7 · 3.0 k params · 6.0 k MACs'],
      [13, 1, '→ N×128×14×14'],
      [15, 1, '→ N×128×28×28 · 500 params · 200 MACs'],
    ],
  );
  const card = hoverCard(hints[1]!, 'Net');
  assert.match(card, /^\*\*Net\*\*, 3 modules built on this line/);
  assert.match(card, /\| `blocks\.2` \| Conv \| 3×3 \| 1×1 \| 64 → 128 \| N×512×7×7 \| 1\.0 k \| 2\.0 k \|/);
  assert.equal(card.split('\n').filter((l) => l.startsWith('| `')).length, 3);
  assert.match(hoverCard(hints[3]!, 'Net'), /\| `shared` \| Conv .*\| shared \| 100 \|/);
  assert.equal(totalsText(t, 23_512_345), '23.5 M params · 115.6 M MACs');
  assert.equal(short(4_100_000_000), '4.1 G');
  assert.equal(batchShape([1, 10]), 'N×10');
  assert.equal(batchShape(null), '?');
});

test('lineHints after a failed forward: shapes up to the failure, the failing line marked, no MACs', () => {
  const t = table([
    row({
      name: 'conv1',
      op: 'Conv2d',
      macs: 0,
      params: 448,
      out_shape: [1, 16, 224, 224],
      ...at(9, 'conv1'),
    }),
    row({
      name: 'conv2',
      op: 'Conv2d',
      macs: 0,
      params: 18_496,
      out_shape: null,
      unknown: 'failed here: RuntimeError: expected 32 channels',
      ...at(11, 'conv2'),
    }),
  ]);
  const hints = lineHints(t);
  assert.deepEqual(
    hints.map((h) => h.label),
    ['→ N×16×224×224 · 448 params', '→ ✗ failed here'],
  );
  assert.match(
    hoverCard(hints[1]!, 'ShapeBug'),
    /✗ failed here[\s\S]*failed here: RuntimeError: expected 32 channels/,
  );
  assert.equal(totalsText(t, undefined), '18.9 k params');
});

test('hintsForFile: only the file asked for; where two models built a line, the one listed first wins', () => {
  const model = table([
    row({ name: 'a', ...at(10, 'blocks.0.conv') }),
    row({ name: 'b', ...at(10, 'blocks.1.conv') }),
  ]);
  const block = table([row({ name: 'a', ...at(10, 'conv') })]);
  const other = table([row({ name: 'x', source: { file: '/ws/other.py', line: 3, module: 'x' } })]);
  const hints = hintsForFile(F, [
    { table: model, model: 'Net' },
    { table: block, model: 'Block' },
    { table: other, model: 'Other' },
  ]);
  assert.deepEqual(
    hints.map((h) => [h.model, h.hint.line, h.hint.modules]),
    [['Net', 9, 2]],
  );
});

test('errorOutcome: a diagnostic at the innermost user line, the class line when there is none', () => {
  const model = { file: F, line: 5, asked: false };
  const forward = errorOutcome(
    { kind: 'forward', message: 'RuntimeError: bad', file: F, line: 16, module: 'conv2' },
    model,
  );
  assert.deepEqual(forward, {
    kind: 'diagnostic',
    site: { file: F, line: 15, message: 'RuntimeError: bad (in conv2)', severity: 'error' },
  });
  const imported = errorOutcome(
    {
      kind: 'import',
      message: "ModuleNotFoundError: No module named 'blocks'",
      file: '/ws/lib.py',
      line: 2,
      module: null,
    },
    model,
  );
  assert.equal(imported.kind === 'diagnostic' && imported.site.file, '/ws/lib.py');
  const timeout = errorOutcome(
    { kind: 'timeout', message: 'took longer than 120 s', file: null, line: null, module: null },
    model,
  );
  assert.deepEqual(timeout.kind === 'diagnostic' && [timeout.site.line, timeout.site.message], [
    5,
    'CNN Lens stopped the analysis: took longer than 120 s',
  ]);
  // Missing constructor arguments: information for a block analysed only because it is in the file, an
  // error once someone asked for that class.
  const args = { kind: 'arguments' as const, message: 'Block(c) needs c', file: F, line: 6, module: null };
  const unasked = errorOutcome(args, model);
  assert.equal(unasked.kind === 'diagnostic' && unasked.site.severity, 'information');
  const asked = errorOutcome(args, { ...model, asked: true });
  assert.equal(asked.kind === 'diagnostic' && asked.site.severity, 'error');
  // The interpreter: one message, no diagnostics; a cancelled run: nothing.
  assert.equal(
    errorOutcome({ kind: 'no-torch', message: 'no torch', file: null, line: null, module: null }, model).kind,
    'interpreter',
  );
  assert.equal(
    errorOutcome({ kind: 'no-python', message: 'no python', file: null, line: null, module: null }, model)
      .kind,
    'interpreter',
  );
  assert.equal(
    errorOutcome({ kind: 'cancelled', message: '', file: null, line: null, module: null }, model).kind,
    'none',
  );
  assert.deepEqual(lineSpan('        x = self.conv2(x)  # fails  '), { start: 8, end: 34 });
  assert.deepEqual(lineSpan('   '), { start: 0, end: 3 });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('LiveRuns: requests within the debounce window make one batch; a new request cancels the batch in flight', async () => {
  const started: string[] = [];
  const finished: string[] = [];
  const aborted: string[] = [];
  const runs = new LiveRuns<string>({
    key: (k) => k,
    debounceMs: 30,
    run: (k, signal) =>
      new Promise<void>((resolve, reject) => {
        started.push(k);
        const t = setTimeout(() => {
          finished.push(k);
          resolve();
        }, 60);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          aborted.push(k);
          reject(signal.reason);
        });
      }),
  });
  runs.request(['a']);
  runs.request(['a', 'b']); // debounced together, 'a' once
  assert.equal(runs.busy('a'), true);
  await sleep(50); // 'a' runs
  assert.deepEqual(started, ['a']);
  runs.request(['c']); // cancels 'a' when its debounce ends; 'a' and 'b' join 'c'
  await runs.idle();
  assert.deepEqual(aborted, ['a']);
  assert.deepEqual(started.slice(1).sort(), ['a', 'b', 'c']);
  assert.deepEqual(finished.sort(), ['a', 'b', 'c']);
  assert.equal(runs.busy('a'), false);
  // Errors other than cancellation are reported, and the batch goes on.
  const errors: string[] = [];
  const failing = new LiveRuns<string>({
    key: (k) => k,
    debounceMs: 1,
    run: async (k) => {
      if (k === 'x') throw new Error('boom');
    },
    onError: (k, err) => errors.push(`${k}: ${(err as Error).message}`),
  });
  failing.request(['x', 'y']);
  await failing.idle();
  assert.deepEqual(errors, ['x: boom']);
  runs.dispose();
  failing.dispose();
});

test('LiveRuns.restart: the run in flight is cancelled at once and runs again, with the items asked for', async () => {
  const started: string[] = [];
  const reported: string[] = [];
  const kills: (() => void)[] = [];
  const runs = new LiveRuns<string>({
    key: (k) => k,
    debounceMs: 10,
    // Like an analysis: it settles when done or when its process is killed, and reports unless cancelled.
    run: (k, signal) =>
      new Promise<void>((resolve) => {
        started.push(k);
        const settle = (): void => {
          if (!signal.aborted) reported.push(k);
          resolve();
        };
        const t = setTimeout(settle, 40);
        kills.push(() => {
          clearTimeout(t);
          settle();
        });
      }),
  });
  runs.request(['first']);
  await sleep(25); // 'first' runs: its first analysis, nothing recorded yet
  // The interpreter changes: restart, then the old interpreter's process is killed under the run.
  runs.restart(['done-before']);
  kills[0]!();
  assert.equal(runs.busy('first'), true, 'the cancelled run waits to run again');
  await runs.idle();
  assert.deepEqual(started.sort(), ['done-before', 'first', 'first']);
  assert.deepEqual(reported.sort(), ['done-before', 'first'], 'the killed run is not reported; the rerun is');
  runs.dispose();
});

const torch = torchPython();
const runner = new PythonRunner({ python: torch.python, helper: helperScript(ROOT) });
after(() => runner.dispose());

test(
  'the hints of a real model: helpers, loops, comprehensions and a shared module',
  { skip: torch.skip },
  async () => {
    const file = path.join(FIXTURES, 'built.py');
    const a = await analysePython(runner, { file, class: 'Built' });
    assert.equal(a.error, null);
    const hints = hintsForFile(file, [{ table: a.table!, model: 'Built' }]);
    const lines = readFileSync(file, 'utf8').split('\n');
    const on = (text: string) => hints.find((h) => lines[h.hint.line]!.includes(text))?.hint;
    assert.equal(on('# loop conv')?.label, '×2 → N×32×8×8 · 18.5 k params · 1.2 M MACs');
    assert.match(on('# pointwise conv')!.label, /^×3 → N×16×8×8 · 1\.6 k params · 98\.3 k MACs$/);
    // A helper function built the branches: the hint is on its line, with the three modules it made.
    // The shared conv: one module called twice, its parameters once, the MACs of both calls.
    assert.equal(on('# shared conv')?.label, '→ N×48×8×8 · 20.8 k params · 2.7 M MACs');
    assert.equal(on('# fc')?.label, '→ N×10 · 490 params · 480 MACs');
    // The helper in blocks.py built the stem's convolutions: their hints are in that file, not this one.
    const blocks = hintsForFile(path.join(FIXTURES, 'blocks.py'), [{ table: a.table!, model: 'Built' }]);
    assert.ok(blocks.length > 0, 'hints in blocks.py');
  },
);
