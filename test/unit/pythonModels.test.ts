// PyTorch models read from their Python code: the helper (python/cnn_lens_torch.py) in a real Python with
// torch, the runner, the table through the same structure code as any ONNX model, and `layers` on the CLI.
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { analysePython, type PythonAnalysis } from '../../src/python/analysis';
import { helperScript } from '../../src/python/interpreter';
import { PythonRunner } from '../../src/python/runner';
import { moduleOfNode } from '../../src/python/sources';
import type { LayerRow, LayerTable } from '../../src/shared/layerTable';
import { cli } from './helpers/cli';
import { ROOT } from './helpers/paths';
import { torchPython } from './helpers/torchPython';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'python');
const HELPER = helperScript(ROOT);
const torch = torchPython();
const skip = torch.skip;
const runner = new PythonRunner({ python: torch.python, helper: HELPER });
after(() => runner.dispose());

const fixture = (name: string): string => path.join(FIXTURES, name);

/** The 1-based line of `file` holding `text` (exactly one line must). */
function lineOf(file: string, text: string): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  const hits = lines.flatMap((l, i) => (l.includes(text) ? [i + 1] : []));
  assert.equal(hits.length, 1, `${text} in ${file}`);
  return hits[0]!;
}

/** Analyses a class and checks that it worked. */
async function analysed(file: string, cls: string): Promise<PythonAnalysis & { table: LayerTable }> {
  const a = await analysePython(runner, { file, class: cls });
  assert.equal(a.error, null, JSON.stringify(a.error));
  assert.ok(a.table && a.result);
  return { ...a, table: a.table };
}

/** The rows whose source is module `module`. */
const rowsOf = (table: LayerTable, module: string): LayerRow[] =>
  table.rows.filter((r) => r.source?.module === module);

const WEIGHTED = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

test('node names map back to module paths: nested scopes, containers only indexed, repeated calls', () => {
  const paths = ['', 'a', 'a.1', 'a.1.0', 'a.1.0.inner', 'a.1.0.inner.1', 'a.1.0.inner.1.0', 'd', 'd.x', 'c'];
  assert.equal(moduleOfNode('/a/a.1/a.1.0/inner/inner.1/inner.1.0/Conv', paths), 'a.1.0.inner.1.0');
  assert.equal(moduleOfNode('/x/Conv', paths), 'd.x'); // a ModuleDict's key alone
  assert.equal(moduleOfNode('/c_1/Conv', paths), 'c'); // the second call of a shared module
  assert.equal(moduleOfNode('/Concat', paths), ''); // the model's own forward
  assert.equal(moduleOfNode('/a/unknown/Relu', paths), 'a'); // the deepest scope that is known
  assert.equal(moduleOfNode('Identity_3', paths), null);
});

test(
  'layers built by helpers, nested Sequential, loops, comprehensions and sharing: lines, parameters, shapes',
  { skip },
  async () => {
    const file = fixture('built.py');
    const blocks = fixture('blocks.py');
    const { table, result } = await analysed(file, 'Built');
    // Exactly the model's own parameters() and BatchNorm's running statistics, BatchNorm not folded.
    assert.equal(table.totals.params, result!.parameters);
    assert.equal(table.totals.params, 46_490);
    assert.equal(table.totals.buffers, result!.buffers);
    assert.ok(table.rows.some((r) => r.onnx_ops.includes('BatchNormalization')));
    assert.deepEqual(result!.input, [1, 3, 32, 32]);
    assert.equal(result!.input_from, 'comment');
    for (const row of table.rows.filter((r) => WEIGHTED.has(r.op)))
      assert.ok(row.source, `${row.name} has a source line`);

    const at = (module: string, f: string, text: string): LayerRow[] => {
      const rows = rowsOf(table, module);
      assert.ok(rows.length > 0, module);
      for (const r of rows) assert.deepEqual([r.source!.file, r.source!.line], [f, lineOf(f, text)], module);
      return rows;
    };
    // A helper in another file: its own line, not its callers'.
    at('features.0.0', blocks, '# conv_bn conv');
    at('features.1.0.0', blocks, '# conv_bn conv');
    assert.deepEqual(at('features.1.1', file, '# features nested')[0]!.out_shape, [1, 32, 8, 8]);
    at('loop.0', file, '# loop conv');
    at('loop.1', file, '# loop conv');
    for (const b of [0, 1, 2]) at(`branches.${b}`, file, '# pointwise conv');
    // A module called twice: two rows on its line, its weights counted once.
    const shared = at('shared', file, '# shared conv');
    assert.equal(shared.length, 2);
    assert.deepEqual(
      shared.map((r) => r.params),
      [20_784, 0],
    );
    assert.deepEqual(at('fc', file, '# fc')[0]!.out_shape, [1, 10]);
    // torch.cat of the three branches: a join row of 48 channels, the model's own op (no module line).
    const concat = table.rows.find((r) => r.op === 'Concat');
    assert.deepEqual(concat?.out_shape, [1, 48, 8, 8]);
    assert.equal(concat?.source, undefined);

    // Modules: containers too, at the innermost user line of their construction.
    const mod = (p: string) => result!.modules.find((m) => m.path === p)!;
    assert.deepEqual(mod('features.0').source, {
      file: blocks,
      line: lineOf(blocks, 'return nn.Sequential('),
    });
    assert.deepEqual(mod('').source, { file, line: lineOf(file, 'class Built(') });
    assert.equal(mod('').params, result!.parameters);
  },
);

test('a ResNet-50 written out in PyTorch reads as ResNet-50, every layer on its line', { skip }, async () => {
  const file = fixture('resnet50.py');
  const { table, result } = await analysed(file, 'ResNet50');
  assert.equal(table.family, 'ResNet');
  assert.equal(table.depth, '1 + 9 + 12 + 18 + 9 + 1 = 50');
  assert.equal(table.totals.params, 25_557_032);
  assert.equal(table.totals.params, result!.parameters);
  assert.equal(table.totals.buffers, 53_120);
  assert.equal(table.totals.projections, 4);
  const weighted = table.rows.filter((r) => WEIGHTED.has(r.op));
  assert.equal(weighted.length, 54);
  for (const row of weighted) assert.ok(row.source?.file === file, row.name);
  const line = (m: string) => rowsOf(table, m)[0]?.source?.line;
  assert.equal(line('layer3.0.conv2'), lineOf(file, 'self.conv2 = nn.Conv2d('));
  assert.equal(line('layer2.0.downsample.0'), lineOf(file, 'nn.Conv2d(self.inplanes, planes * Bottleneck'));
  assert.equal(line('fc'), lineOf(file, 'self.fc = nn.Linear('));
  assert.deepEqual(rowsOf(table, 'layer4.2.conv3')[0]?.out_shape, [1, 2048, 7, 7]);
});

test(
  'a shape bug: the error at the forward line that failed, and the rows that ran up to it',
  { skip },
  async () => {
    const file = fixture('shape_bug.py');
    const a = await analysePython(runner, { file, class: 'ShapeBug' });
    assert.equal(a.error?.kind, 'forward');
    assert.equal(a.error?.file, file);
    assert.equal(a.error?.line, lineOf(file, '# fails here'));
    assert.equal(a.error?.module, 'conv2');
    assert.match(a.error?.message ?? '', /expected input\[1, 16, 224, 224\] to have 32 channels/);
    const rows = a.table!.rows;
    assert.deepEqual(
      rows.map((r) => [r.name, r.out_shape]),
      [
        ['conv1', [1, 16, 224, 224]],
        ['bn1', [1, 16, 224, 224]],
        ['conv2', null],
      ],
    );
    assert.match(rows[2]!.unknown ?? '', /^failed here: RuntimeError/);
    assert.deepEqual(rows[2]!.in_shape, [1, 16, 224, 224]);
    assert.equal(rows[2]!.source?.line, lineOf(file, '# wrong in_channels'));
    assert.equal(a.table!.totals.params, 448 + 32 + 18_496);
  },
);

test(
  'a syntax error, a missing class, missing constructor arguments: each says where',
  { skip },
  async () => {
    const broken = fixture('syntax_error.py');
    const syntax = await analysePython(runner, { file: broken, class: 'Broken' });
    assert.deepEqual(
      [syntax.error?.kind, syntax.error?.file, syntax.error?.line, syntax.table],
      ['syntax', broken, 7, null],
    );
    assert.match(syntax.error!.message, /SyntaxError: '\(' was never closed/);

    const missing = await analysePython(runner, { file: fixture('built.py'), class: 'Bulit' });
    assert.equal(missing.error?.kind, 'no-class');
    assert.match(missing.error!.message, /no class Bulit .*its nn\.Module classes: Built$/);

    const file = fixture('needs_args.py');
    const needs = await analysePython(runner, { file, class: 'Unconfigured' });
    assert.equal(needs.error?.kind, 'arguments');
    assert.equal(needs.error?.line, lineOf(file, 'class Unconfigured('));
    assert.match(
      needs.error!.message,
      /^Unconfigured\(num_classes, width, depth=2\) needs num_classes, width: /,
    );
  },
);

test(
  'constructor arguments and input from the comment above the class, or from the request',
  { skip },
  async () => {
    const file = fixture('needs_args.py');
    const fromComment = await analysed(file, 'Configured');
    assert.equal(fromComment.result!.args_from, 'comment');
    assert.deepEqual(fromComment.result!.output_shape, [1, 7]);
    assert.deepEqual(rowsOf(fromComment.table, 'conv')[0]?.out_shape, [1, 24, 32, 32]);

    const given = await analysePython(runner, {
      file,
      class: 'Configured',
      args: { num_classes: 3, width: 8 },
      input: [2, 3, 20, 20],
    });
    assert.equal(given.result?.args_from, 'request');
    assert.deepEqual(given.result?.output_shape, [2, 3]);
    assert.deepEqual(rowsOf(given.table!, 'conv')[0]?.out_shape, [2, 8, 20, 20]);
  },
);

test('a model returning a tuple: the table follows its first tensor and says so', { skip }, async () => {
  const { table, result } = await analysed(fixture('tuple_out.py'), 'TwoHeads');
  assert.deepEqual(result!.output_shape, [1, 5]);
  assert.deepEqual(table.model.output?.shape, [1, 5]);
  assert.deepEqual(result!.notes, [
    'the model returns a tuple: the table follows its first tensor, output[0]',
  ]);
  assert.ok(table.warnings.includes(result!.notes[0]!));
});

test(
  'warm: an edit is read on the next request, without importing torch again; the files stay as they were',
  { skip },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cnn-lens-py-'));
    for (const f of ['built.py', 'blocks.py']) cpSync(fixture(f), path.join(dir, f));
    const file = path.join(dir, 'built.py');
    const blocks = path.join(dir, 'blocks.py');
    const before = (await analysed(file, 'Built')).table;
    const stamp = statSync(file).mtimeMs;
    // Two lines more above conv_bn, in the imported file: its rows move down two lines.
    writeFileSync(blocks, '# a comment\n# another\n' + readFileSync(blocks, 'utf8'));
    const again = await analysed(file, 'Built');
    assert.equal(again.result!.ms!.import, 0);
    assert.equal(
      rowsOf(again.table, 'features.0.0')[0]!.source!.line,
      rowsOf(before, 'features.0.0')[0]!.source!.line + 2,
    );
    assert.deepEqual(readdirSync(dir).sort(), ['blocks.py', 'built.py']); // no __pycache__
    const probe = await runner.probe();
    assert.deepEqual([probe.ok, probe.versions.torch?.split('.')[0]], [true, '2']);
    assert.equal(statSync(file).mtimeMs, stamp);
  },
);

test(
  'a forward pass that never ends: cancelled or timed out, and the process stays warm',
  { skip },
  async () => {
    const endless = { file: fixture('endless.py'), class: 'Endless' };
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('edited again')), 1000);
    await assert.rejects(analysePython(runner, endless, controller.signal), /edited again/);
    const next = await analysed(fixture('tuple_out.py'), 'TwoHeads');
    assert.equal(next.result!.ms!.import, 0, 'the interrupted process answered the next request');

    const limited = new PythonRunner({ python: torch.python, helper: HELPER, timeoutMs: 4000 });
    try {
      const a = await analysePython(limited, endless);
      assert.equal(a.error?.kind, 'timeout');
      assert.match(a.error!.message, /longer than 4 s/);
    } finally {
      limited.dispose();
    }
  },
);

test(
  'no interpreter, or one without torch: one clear message each',
  { skip: skip || process.platform === 'win32' },
  async () => {
    const nowhere = new PythonRunner({ python: 'no-such-python-3', helper: HELPER });
    const none = await analysePython(nowhere, { file: fixture('built.py'), class: 'Built' });
    assert.equal(none.error?.kind, 'no-python');
    assert.match(none.error!.message, /cannot run Python "no-such-python-3"/);
    // The same interpreter without its site-packages (-S) has no torch.
    const dir = mkdtempSync(path.join(tmpdir(), 'cnn-lens-py-'));
    const bare = path.join(dir, 'python');
    writeFileSync(bare, `#!/bin/sh\nexec "${torch.python}" -S "$@"\n`);
    chmodSync(bare, 0o755);
    const noTorch = new PythonRunner({ python: bare, helper: HELPER });
    try {
      const a = await analysePython(noTorch, { file: fixture('built.py'), class: 'Built' });
      assert.equal(a.error?.kind, 'no-torch');
      assert.match(a.error!.message, /cannot import torch .*install it: pip install torch onnx/);
    } finally {
      noTorch.dispose();
    }
  },
);

test(
  'cli layers --python: the table with sources; on a failure exit 1 with { error, file, line } and the rows that ran',
  { skip },
  async () => {
    const ok = await cli(
      'layers',
      '--json',
      '--python',
      torch.python,
      '--model',
      fixture('needs_args.py'),
      '--class',
      'Configured',
      '--args',
      '[3, 8]',
      '--input',
      '1,3,16,16',
    );
    assert.equal(ok.code, 0, ok.stderr);
    const table = JSON.parse(ok.stdout) as LayerTable;
    assert.equal(table.totals.params, 3 * 8 * 9 + 8 + 8 * 3 + 3);
    const conv = table.rows.find((r) => r.op === 'Conv')!;
    assert.deepEqual(conv.source, {
      file: fixture('needs_args.py'),
      line: lineOf(fixture('needs_args.py'), 'self.conv = '),
      module: 'conv',
    });

    const file = fixture('shape_bug.py');
    const bad = await cli(
      'layers',
      '--json',
      '--python',
      torch.python,
      '--model',
      file,
      '--class',
      'ShapeBug',
    );
    assert.equal(bad.code, 1);
    const out = JSON.parse(bad.stdout) as { error: string; file: string; line: number; table: LayerTable };
    assert.deepEqual([out.file, out.line], [file, lineOf(file, '# fails here')]);
    assert.match(out.error, /RuntimeError: Given groups=1/);
    assert.deepEqual(
      out.table.rows.map((r) => r.name),
      ['conv1', 'bn1', 'conv2'],
    );

    const text = await cli('layers', '--python', torch.python, '--model', file, '--class', 'ShapeBug');
    assert.equal(text.code, 1);
    assert.match(text.stderr, new RegExp(`shape_bug\\.py:${lineOf(file, '# fails here')}: RuntimeError`));
    assert.match(text.stdout, /conv1 .* shape_bug\.py:9/);

    const usage = await cli('layers', '--model', file);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /needs --class NAME/);
  },
);
