// The profile request: onnxruntime's profiler on sessions of their own (fp32 and int8), attributed to the
// layer table the `layers` request serves, with a plain run beside it and the machine's peak; classification
// in the same worker is unchanged around it; cancel; the CLI's JSON and its "where the time goes" table.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, watch } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { InferenceClient, InferenceError } from '../../src/inference/client';
import type { WorkerConfig } from '../../src/inference/messages';
import { descriptorForModel } from '../../src/files/descriptorFile';
import type { Profile } from '../../src/shared/profile';
import { cpuConfig } from './helpers/client';
import { signedWeights, tempDir, writeModel } from './helpers/models';
import { GraphBuilder } from './helpers/onnxBuilder';
import { IMAGES, WORKER } from './helpers/paths';
import { cli } from './helpers/cli';

const read = (f: string): Buffer => readFileSync(path.join(IMAGES, f));
const NO_HANG = { timeout: 300_000 };

let fp32: WorkerConfig;
let dir: string;

before(async () => {
  fp32 = await cpuConfig();
  dir = tempDir('profiling');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** What every profile of the built-in ResNet50 must hold, whatever the precision. */
function checkProfile(p: Profile, rows: string[], batch: number, runs: number): void {
  assert.deepEqual([p.batch, p.runs, p.provider], [batch, runs, 'cpu']);
  assert.deepEqual(
    p.rows.map((r) => r.name),
    rows,
  );
  assert.deepEqual(
    p.stages.map((s) => s.name),
    ['conv1', 'conv2_x', 'conv3_x', 'conv4_x', 'conv5_x', 'fc'],
  );
  assert.ok(p.stages.every((s) => s.ms > 0 && s.provider === 'CPUExecutionProvider' && !s.fallback));
  assert.ok(p.rows.filter((r) => r.gflops !== null).every((r) => r.ms > 0 && r.gflops! > 0));
  assert.ok(p.ms > 0 && p.plain_ms > 0 && p.peak_gflops > 0);
  // Shares are of the profiled total. Each row's median may come from another run, so the sums only
  // approximate the total (noise on a loaded machine moves them); counting a kernel twice would double them.
  const shares = p.rows.reduce((s, r) => s + r.share, 0);
  assert.ok(shares > 0.5 && shares <= 1.5, `rows hold ${shares} of the total`);
  const stageMs = p.stages.reduce((s, r) => s + r.ms, 0);
  assert.ok(stageMs <= p.ms * 1.5, `stages (${stageMs} ms) fit in the run (${p.ms} ms)`);
}

test(
  'profile: fp32 at batch 2 and int8 at batch 1, rows named as in `layers`; classification unchanged around it; no temp files left',
  NO_HANG,
  async () => {
    // The workers' temporary folder is one of the test's own, so that other processes' files do not count.
    const tmp = path.join(dir, 'tmp');
    mkdirSync(tmp);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    const seen = new Set<string>();
    const watcher = watch(tmp, (_event, name) => {
      if (name?.startsWith('cnn-lens-profile-')) seen.add(name);
    });
    const client = new InferenceClient(WORKER, fp32);
    const int8 = new InferenceClient(WORKER, { ...fp32, precision: 'int8' });
    try {
      const first = await client.classify('chelsea.png', read('chelsea.png'), { topK: 5 });
      const info = await client.runtimeInfo();
      const rows = (await client.layers()).rows.map((r) => r.name);
      const p = await client.profile({ batch: 2, runs: 3 });
      checkProfile(p, rows, 2, 3);
      assert.equal(p.precision, 'fp32');
      assert.equal(p.model, fp32.descriptor.name);
      const again = await client.classify('chelsea.png', read('chelsea.png'), { topK: 5 });
      assert.deepEqual(again.top, first.top, 'the same session answers the same');
      assert.deepEqual(await client.runtimeInfo(), info, 'the classify session was not recreated');

      const q = await int8.profile({ runs: 2 });
      checkProfile(q, rows, 1, 2);
      assert.equal(q.precision, 'int8');
      assert.match(q.model, /int8/);
    } finally {
      // Assigning undefined would set the string 'undefined'.
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      watcher.close();
      await Promise.all([client.dispose(), int8.dispose()]);
    }
    assert.equal(seen.size, 2, 'one folder per profile request');
    assert.deepEqual(
      readdirSync(tmp).filter((f) => seen.has(f)),
      [],
    );
  },
);

test(
  'profile: cancel stops it and the worker goes on; a batch the input cannot take and bad counts are refused',
  NO_HANG,
  async () => {
    const g = new GraphBuilder({ name: 'input', c: 3, h: 32, w: 32 }, 1);
    g.output(g.fc(g.globalAveragePool(g.relu(g.conv(g.input, 8, 3, { stride: 2, pad: 1 }))), 10));
    const fixed = writeModel(dir, 'fixed.onnx', signedWeights(g.build()));
    const small = new InferenceClient(WORKER, {
      ...fp32,
      descriptor: await descriptorForModel(fixed, 'torchvision', []),
    });
    const client = new InferenceClient(WORKER, fp32);
    try {
      await assert.rejects(
        small.profile({ batch: 2 }),
        (e: InferenceError) =>
          e.kind === 'model' && /takes a batch of 1; cannot profile batch 2/.test(e.message),
      );
      await assert.rejects(small.profile({ runs: 0 }), /runs must be a whole number 1…1000/);
      const abort = new AbortController();
      const p = client.profile({ runs: 1000, signal: abort.signal });
      setTimeout(() => abort.abort(), 2000);
      await assert.rejects(p, (e: InferenceError) => e.kind === 'cancelled');
      const r = await client.classify('coffee.png', read('coffee.png'), { topK: 1 });
      assert.equal(r.top[0]!.label, 'espresso');
    } finally {
      await Promise.all([small.dispose(), client.dispose()]);
    }
  },
);

test(
  'cli profile: --json is the Profile; the text table sorts stages and layers by time',
  NO_HANG,
  async () => {
    const json = await cli('profile', '--json', '--provider', 'cpu', '--runs', '2', '--precision', 'int8');
    assert.equal(json.code, 0, json.stderr);
    const p = JSON.parse(json.stdout) as Profile;
    assert.deepEqual([p.precision, p.runs, p.batch], ['int8', 2, 1]);
    for (const r of p.rows) {
      for (const key of ['name', 'ms', 'share', 'gflops', 'provider']) assert.ok(key in r, key);
    }

    const text = await cli('profile', '--provider', 'cpu', '--runs', '2', '--batch', '2');
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.split('\n');
    assert.match(lines[0]!, /^ResNet50 .*: cpu, fp32, batch 2, 2 runs/);
    assert.match(
      lines[1]!,
      /^total [\d.]+ ms per run profiled; plain run [\d.]+ ms \(profiler [+-][\d.]+ %\)$/,
    );
    assert.match(
      lines[2]!,
      /^reference \d+ GFLOP\/s \(3×3 convolution, 256→256 channels on 56×56, batch 1, fastest of 10 runs\); "of ref": /,
    );
    const section = (title: string): string[] => {
      const start = lines.indexOf(title) + 2;
      const end = lines.indexOf('', start);
      return lines.slice(start, end < 0 ? undefined : end);
    };
    const ms = (l: string): number => Number(l.trim().split(/\s{2,}/)[1]);
    for (const title of ['where the time goes, by stage', 'by layer']) {
      const values = section(title).map(ms);
      assert.ok(values.length >= 6, title);
      assert.deepEqual(
        values,
        [...values].sort((a, b) => b - a),
        `${title} sorted by time`,
      );
    }
    assert.equal(section('where the time goes, by stage').length, 6);
    const usage = await cli('profile', '--batch', '0');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--batch must be a whole number 1…256/);
  },
);
