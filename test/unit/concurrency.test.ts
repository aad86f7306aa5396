// Load: 200 requests at once through one client, the same cancelled part-way, and 200 files on the CLI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { getEventListeners } from 'node:events';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { classifyAll, type Outcome } from '../../src/inference/classifyAll';
import { InferenceClient } from '../../src/inference/client';
import { at } from './helpers/at';
import { CLI, IMAGES, WORKER } from './helpers/paths';
import { cpuConfig } from './helpers/client';

const TOP1: Record<string, string> = {
  'chelsea.png': 'Egyptian cat',
  'coffee.png': 'espresso',
  'orange.jpg': 'orange',
};
const FIXTURES = Object.keys(TOP1);
const N = 200;
/** Request i reads fixture i mod 3; its name `i:file` says which, so a mixed-up answer shows. */
const files = Array.from({ length: N }, (_, i) => at(FIXTURES, i % FIXTURES.length));
const nameOf = (i: number): string => `${i}:${files[i]}`;
/** The top-1 label that the request named `i:file` should get. */
const wantFor = (name: string): string | undefined => TOP1[name.slice(name.indexOf(':') + 1)];
const read = (f: string): Promise<Buffer> => Promise.resolve(readFileSync(path.join(IMAGES, f)));

let client: InferenceClient;

before(async () => {
  client = new InferenceClient(WORKER, await cpuConfig());
});
after(() => client.dispose());

test(`${N} classify requests at once all complete with the right top-1`, async () => {
  const results = await Promise.all(
    files.map(async (f, i) => client.classify(nameOf(i), await read(f), { topK: 1 })),
  );
  assert.equal(results.length, N);
  const wrong = results
    .map((r, i) => [nameOf(i), r.top[0]?.label] as const)
    .filter(([name, label]) => label !== wantFor(name));
  assert.deepEqual(wrong, []);
  assert.ok(
    results.every((r) => r.batch >= 1 && r.batch <= 8),
    'a run held more than batchSize images',
  );
  assert.ok(
    results.some((r) => r.batch > 1),
    'requests queued together were not batched',
  );
});

test(`${N} requests cancelled after the first 20 results: those are kept and right, the rest absent`, async () => {
  const abort = new AbortController();
  const seen = new Map<number, Outcome>();
  const outcomes = await classifyAll(
    client,
    files.map((f, i) => ({ name: nameOf(i), read: () => read(f) })),
    {
      topK: 1,
      inFlight: 16,
      signal: abort.signal,
      onOutcome: (o, i) => {
        seen.set(i, o);
        if (seen.size === 20) abort.abort();
      },
    },
  );
  assert.ok(outcomes.length >= 20 && outcomes.length < N, `${outcomes.length} outcomes`);
  // Exactly the outcomes reported before the cancel took effect, in input order; none is an error.
  const reported = [...seen.keys()].sort((a, b) => a - b);
  assert.deepEqual(
    outcomes.map((o) => o.name),
    reported.map(nameOf),
  );
  for (const o of outcomes) {
    assert.equal(o.error, undefined, `${o.name}: ${o.error}`);
    assert.equal(o.result?.top[0]?.label, wantFor(o.name), o.name);
  }
  const r = await client.classify('orange.jpg', await read('orange.jpg'), { topK: 1 });
  assert.equal(r.top[0]?.label, 'orange');
});

test('one signal over many requests keeps no abort listener per finished request', async () => {
  const abort = new AbortController();
  const outcomes = await classifyAll(
    client,
    files.slice(0, 12).map((f, i) => ({ name: nameOf(i), read: () => read(f) })),
    { topK: 1, inFlight: 4, signal: abort.signal },
  );
  assert.equal(outcomes.length, 12);
  assert.equal(getEventListeners(abort.signal, 'abort').length, 0);
});

test(`the CLI with ${N} file arguments: exit code 0, ${N} entries in order with the right labels`, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cnnlens-many-'));
  try {
    const args = files.map((f, i) => {
      const link = path.join(dir, `${String(i).padStart(3, '0')}-${f}`);
      symlinkSync(path.join(IMAGES, f), link);
      return link;
    });
    // A non-zero exit code rejects, failing the test with the CLI's output.
    const { stdout } = await promisify(execFile)('node', [CLI, 'classify', '--json', '--top', '1', ...args], {
      timeout: 180_000,
      maxBuffer: 16 * 2 ** 20,
    });
    const entries = JSON.parse(stdout) as { file: string; error?: string; top?: { label: string }[] }[];
    assert.equal(entries.length, N);
    assert.deepEqual(
      entries.map((e) => e.file),
      args,
    );
    const wrong = entries
      .map((e) => [e.file, e.error ?? e.top?.[0]?.label])
      .filter(([, label], i) => label !== TOP1[at(files, i)]);
    assert.deepEqual(wrong, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
