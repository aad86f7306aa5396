// The CLI as a user runs it: a real process, real model, JSON on stdout, exit codes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { at } from './helpers/at';
import { CLI, IMAGES } from './helpers/paths';
import { cli } from './helpers/cli';
import { explanationLines } from '../../src/cli/explain';

interface Entry {
  file: string;
  top?: { index: number; label: string; probability: number }[];
  provider?: string;
  precision?: string;
  ms?: { decode: number; run: number; total: number };
  error?: string;
}

test('classify --json prints one JSON array; a bad file gets an error entry and exit code 1', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cnnlens-cli-'));
  const bad = path.join(dir, 'notes.png');
  writeFileSync(bad, 'not an image');
  const chelsea = path.join(IMAGES, 'chelsea.png');
  const { code, stdout } = await cli('classify', '--json', chelsea, bad);
  assert.equal(code, 1);
  const out = JSON.parse(stdout) as Entry[];
  assert.equal(out.length, 2);
  const first = at(out, 0);
  assert.equal(first.file, chelsea);
  assert.deepEqual(Object.keys(first), ['file', 'top', 'provider', 'precision', 'ms']);
  assert.equal(first.top?.length, 5);
  assert.deepEqual(first.top?.[0]?.index, 285);
  assert.equal(first.top?.[0]?.label, 'Egyptian cat');
  assert.equal(first.provider, 'cpu');
  assert.equal(first.precision, 'fp32');
  assert.ok((first.ms?.total ?? 0) > 0);
  assert.deepEqual(out[1], { file: bad, error: 'not a supported image (unrecognised file format)' });
});

test('classify --json: per-image ms leave out the model load, which stderr reports once', async () => {
  const loadOf = (stderr: string): number => {
    const loads = [...stderr.matchAll(/model loaded in (\d+) ms, once before the first image/g)];
    assert.equal(loads.length, 1, stderr);
    return Number(at(loads, 0)[1]);
  };
  // Loading ResNet50 (the sha256 of 100 MB, then the session) takes far longer than decoding a small
  // image: a decode timed across the load, as it was, is at least the load.
  const files = ['chelsea.png', 'coffee.png', 'orange.jpg'].map((f) => path.join(IMAGES, f));
  const three = await cli('classify', '--json', ...files);
  assert.equal(three.code, 0, three.stderr);
  const load = loadOf(three.stderr);
  for (const e of JSON.parse(three.stdout) as Entry[]) {
    assert.deepEqual(Object.keys(e.ms ?? {}), ['decode', 'run', 'total'], e.file);
    assert.ok(e.ms!.decode < load / 2, `${e.file}: decode ${e.ms!.decode} ms vs load ${load} ms`);
  }
  // One image alone: its total is its decode and its run, nothing of the load before them.
  const one = await cli('classify', '--json', at(files, 0));
  const ms = at(JSON.parse(one.stdout) as Entry[], 0).ms!;
  const oneLoad = loadOf(one.stderr);
  assert.ok(ms.total < oneLoad, `total ${ms.total} ms vs load ${oneLoad} ms`);
  assert.ok(ms.total >= ms.decode + ms.run - 0.2, JSON.stringify(ms));
});

test('classify walks folders recursively for image files only, with --top', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cnnlens-cli-'));
  mkdirSync(path.join(dir, 'sub'));
  copyFileSync(path.join(IMAGES, 'coffee.png'), path.join(dir, 'sub', 'COFFEE.PNG'));
  copyFileSync(path.join(IMAGES, 'orange.jpg'), path.join(dir, 'orange.jpg'));
  writeFileSync(path.join(dir, 'readme.txt'), 'skip me');
  const { code, stdout } = await cli('classify', '--json', '--top', '2', dir);
  assert.equal(code, 0);
  const out = JSON.parse(stdout) as Entry[];
  assert.deepEqual(
    out.map((e) => [path.relative(dir, e.file), e.top?.[0]?.label, e.top?.length]),
    [
      ['orange.jpg', 'orange', 2],
      [path.join('sub', 'COFFEE.PNG'), 'espresso', 2],
    ],
  );
});

test('a provider that cannot start falls back to CPU with one log line', async () => {
  const { code, stdout, stderr } = await cli(
    'classify',
    '--json',
    '--provider',
    'webgpu',
    path.join(IMAGES, 'orange.jpg'),
  );
  assert.equal(code, 0);
  const entry = at(JSON.parse(stdout) as Entry[], 0);
  assert.equal(entry.top?.[0]?.label, 'orange');
  // On a machine with a working WebGPU adapter the provider is webgpu and nothing is logged.
  if (entry.provider === 'cpu') assert.equal(stderr.match(/execution provider webgpu/g)?.length, 1, stderr);
  else assert.equal(entry.provider, 'webgpu');
});

test(
  'a WebGPU adapter that cannot be created falls back to CPU with one log line, not an error',
  {
    skip: process.platform !== 'linux' && 'the Vulkan loader trick is Linux-only',
  },
  async () => {
    // An empty libvulkan.so.1 gets past our loader check, so onnxruntime really tries WebGPU and fails
    // the way it does on a machine without a usable GPU ("Failed to get a WebGPU adapter").
    const dir = mkdtempSync(path.join(tmpdir(), 'cnnlens-vk-'));
    writeFileSync(path.join(dir, 'libvulkan.so.1'), '');
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(
        'node',
        [CLI, 'classify', '--json', '--provider', 'webgpu', path.join(IMAGES, 'orange.jpg')],
        { env: { ...process.env, LD_LIBRARY_PATH: dir } },
        (err, out, errOut) => (err ? reject(err) : resolve({ stdout: out, stderr: errOut })),
      ),
    );
    const entry = at(JSON.parse(stdout) as Entry[], 0);
    assert.equal(entry.provider, 'cpu');
    assert.equal(entry.top?.[0]?.label, 'orange');
    // Besides the summary of the model's load, which every classify run prints once.
    const lines = stderr
      .split('\n')
      .filter((l) => l.startsWith('cnn-lens:') && !l.includes('model loaded in'));
    assert.equal(lines.length, 1, stderr);
    assert.match(
      at(lines, 0),
      /execution provider webgpu unavailable \(.*WebGPU adapter.*\); trying the next one/,
    );
  },
);

test('the readable table and usage errors', async () => {
  const { code, stdout } = await cli('classify', path.join(IMAGES, 'coffee.png'));
  assert.equal(code, 0);
  assert.match(stdout, /coffee\.png {2}\(cpu, fp32, \d+ ms\)\n +\d+\.\d% {2}espresso \[967\]/);
  const usage = await cli('classify', '--top', 'many', 'x.png');
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--top must be a whole number 1…1000/);
});

test('explain --metrics text: Increase in Confidence with its unit; a random map winning at deletion said in words', async () => {
  const scores = (deletion: number, increase: number) => ({
    deletion: [],
    deletion_auc: deletion,
    insertion: [],
    insertion_auc: 0.5,
    average_drop: 12,
    increase_in_confidence: increase,
  });
  const explanation = (deletion: number) => ({
    key: 'k',
    method: 'gradcam' as const,
    layer: 'conv4_x',
    rows: 1,
    cols: 1,
    crop: 224,
    classes: [
      {
        index: 285,
        label: 'Egyptian cat',
        probability: 0.9,
        grid: [1],
        metrics: { ...scores(deletion, 0), random: scores(0.2, 1) },
      },
    ],
    reason: null,
    scored: 1,
    ms: { map: 1, metrics: 1, total: 2 },
  });
  const lost = explanationLines(explanation(0.3)).join('\n');
  assert.match(lost, /increase in confidence 0% of 1 image \(random 100%\)/);
  assert.match(
    lost,
    /the random map wins at deletion: taking out random pixels lowers the probability faster/,
  );
  assert.doesNotMatch(explanationLines(explanation(0.1)).join('\n'), /random map wins/);
});
