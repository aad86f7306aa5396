// Pure pieces: provider order, postprocessing, message validation, CLI arguments, image file names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs, UsageError } from '../../src/cli/args';
import { softmax, topK } from '../../src/inference/postprocess';
import { providerCandidates } from '../../src/inference/providers';
import { isImagePath } from '../../src/files/imageFiles';
import { isWebviewMessage } from '../../src/shared/protocol';

test('auto prefers a GPU provider the platform has and always ends with CPU', () => {
  const linux = { platform: 'linux' as const, arch: 'x64', cudaInstalled: false };
  assert.deepEqual(providerCandidates('auto', linux), ['webgpu', 'cpu']);
  assert.deepEqual(providerCandidates('auto', { ...linux, cudaInstalled: true }), ['cuda', 'webgpu', 'cpu']);
  assert.deepEqual(providerCandidates('auto', { ...linux, arch: 'arm64' }), ['cpu']);
  assert.deepEqual(providerCandidates('auto', { ...linux, platform: 'win32' }), ['webgpu', 'dml', 'cpu']);
  assert.deepEqual(providerCandidates('auto', { ...linux, platform: 'darwin', arch: 'arm64' }), [
    'webgpu',
    'coreml',
    'cpu',
  ]);
  assert.deepEqual(providerCandidates('cpu', linux), ['cpu']);
  assert.deepEqual(providerCandidates('cuda', linux), ['cuda', 'cpu']);
});

test('softmax is stable for large logits and top-k ranks with labels', () => {
  const p = softmax([1000, 1001, 999]);
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.deepEqual(
    topK(p, 2, ['a', 'b', 'c']).map((x) => x.label),
    ['b', 'a'],
  );
  assert.equal(topK([0.5, 0.5], 2, [])[1]?.label, 'class 1');
});

test('webview messages are validated at run time', () => {
  assert.ok(isWebviewMessage({ type: 'ready' }));
  assert.ok(isWebviewMessage({ type: 'select', index: 2 }));
  assert.ok(isWebviewMessage({ type: 'command', command: 'showLog' }));
  assert.ok(isWebviewMessage({ type: 'featureMaps', layer: 'conv1', count: 16, offset: 0, requestId: 3 }));
  for (const bad of [
    null,
    'ready',
    { type: 'nope' },
    { type: 'select', index: -1 },
    { type: 'select', index: '1' },
    { type: 'command', command: 'workbench.action.terminal.new' },
    { type: 'ready', extra: 1 },
    { type: 'select', index: 2, extra: 1 },
    // A request without the id its answer must echo.
    { type: 'featureMaps', layer: 'conv1', count: 16, offset: 0 },
  ]) {
    assert.equal(isWebviewMessage(bad), false, JSON.stringify(bad));
  }
});

test('CLI arguments: valued flags, booleans, unknown options', () => {
  const a = parseArgs(
    ['--top', '3', '--json', 'a.png', '--model=x.onnx', '--', '--odd.png'],
    ['top', 'model'],
    ['json'],
  );
  assert.equal(a.flags.get('top'), '3');
  assert.equal(a.flags.get('json'), true);
  assert.equal(a.flags.get('model'), 'x.onnx');
  assert.deepEqual(a.positionals, ['a.png', '--odd.png']);
  assert.throws(() => parseArgs(['--nope'], [], []), UsageError);
  assert.throws(() => parseArgs(['--top'], ['top'], []), /--top needs a value/);
});

test('image file names are matched case-insensitively', () => {
  assert.ok(isImagePath('a/B.JPEG'));
  assert.ok(isImagePath('x.tif'));
  assert.ok(!isImagePath('notes.txt'));
  assert.ok(!isImagePath('png'));
});
