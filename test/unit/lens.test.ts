// Lens (src/host/lens.ts) driven through a fake webview with the real inference worker and the built
// ResNet50 (npm run build): a run classified and posted with the reference top-1, entries selected and
// explored, a stale exploration dropped, settings that keep or replace the worker, and the run rebuilt
// from the state its page saved after a reload. The tests run in order and share the first Lens.
import { fake, type FakeWebview } from './helpers/vscodeFake';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as vscode from 'vscode';
import { InferenceClient } from '../../src/inference/client';
import { Lens } from '../../src/host/lens';
import type { HostMessage, ImageEntry, ImageResult } from '../../src/shared/protocol';
import { savedPanel } from '../../src/shared/savedPanel';
import { signedFixture, tempDir } from './helpers/models';
import { IMAGES, ROOT } from './helpers/paths';

const expected = JSON.parse(readFileSync(path.join(IMAGES, 'expected.json'), 'utf8')) as Record<
  string,
  { top5: { index: number; label: string }[] }
>;
const FILES = ['chelsea.png', 'coffee.png', 'orange.jpg'];

type Posted<T extends HostMessage['type']> = Extract<HostMessage, { type: T }>;

function isType<T extends HostMessage['type']>(m: unknown, type: T): m is Posted<T> {
  return (m as HostMessage).type === type;
}

/** Messages of one type posted from index `from` on. */
function postedOf<T extends HostMessage['type']>(webview: FakeWebview, type: T, from = 0): Posted<T>[] {
  return webview.posted.slice(from).filter((m): m is Posted<T> => isType(m, type));
}

/** The run as the page sees it: the last `run`, with the `results` posted after it applied in order. */
function pageRun(webview: FakeWebview): ImageEntry[] {
  let start = webview.posted.length - 1;
  while (start > 0 && !isType(webview.posted[start], 'run')) start--;
  const entries: ImageEntry[] = [];
  for (const m of postedOf(webview, 'results', start)) entries.splice(m.start, m.items.length, ...m.items);
  return entries;
}

/** The next exploration of `file` posted from index `from` on. */
function explorationOf(webview: FakeWebview, file: string, from: number): Promise<Posted<'exploration'>> {
  return webview.waitFor((m) => isType(m, 'exploration') && m.file === file, from);
}

function top1(entry: ImageEntry | undefined): string {
  assert.ok(entry && !('error' in entry), `${entry?.file} classified`);
  const [first] = entry.top;
  assert.ok(first);
  return first.label;
}

function expectedTop1(file: string): string {
  const want = expected[file]?.top5[0];
  assert.ok(want, `${file} has a reference`);
  return want.label;
}

const imageUri = (file: string): vscode.Uri => vscode.Uri.file(path.join(IMAGES, file));
const context = { extensionPath: ROOT, extensionUri: vscode.Uri.file(ROOT) };
/** Lets settled promises' callbacks run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

interface ExploreCall {
  file: string;
  /** Settles when the worker has answered. */
  done: Promise<unknown>;
}

/**
 * Runs `body` with every InferenceClient.explore call recorded (the real method still answers); `asked`
 * resolves with the first call.
 */
async function watchingExplore<T>(
  body: (calls: ExploreCall[], asked: Promise<ExploreCall>) => Promise<T>,
): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(InferenceClient.prototype, 'explore')!;
  const explore = InferenceClient.prototype.explore;
  const calls: ExploreCall[] = [];
  let first!: (call: ExploreCall) => void;
  const asked = new Promise<ExploreCall>((resolve) => (first = resolve));
  InferenceClient.prototype.explore = function (this: InferenceClient, ...args) {
    const answer = explore.apply(this, args);
    const call = { file: args[0], done: answer.catch(() => undefined) };
    calls.push(call);
    first(call);
    return answer;
  };
  try {
    return await body(calls, asked);
  } finally {
    Object.defineProperty(InferenceClient.prototype, 'explore', original);
  }
}

describe('Lens through a fake webview, with the real worker', () => {
  let lens: Lens;
  let webview: FakeWebview;
  /** The first run's entries, as its page would save them before a reload. */
  let firstRun: { entries: ImageEntry[]; current: number };

  before(() => {
    fake.setWorkspace(IMAGES);
    // The CPU, as the other unit tests: `auto` would first look for GPU providers.
    fake.settings.set('cnnLens.executionProvider', 'cpu');
    lens = new Lens(context);
  });

  after(() => {
    lens.dispose();
    fake.settings.clear();
    assert.deepEqual(fake.listenerErrors, [], 'no event listener threw');
  });

  test('a classify run: every result posted with the reference top-1, the current image explored', async () => {
    lens.panel.show();
    const panel = fake.panels.at(-1);
    assert.ok(panel);
    webview = panel.webview;
    webview.receive({ type: 'ready' });

    await lens.classify(FILES.map(imageUri));

    const [run, ...moreRuns] = postedOf(webview, 'run');
    assert.deepEqual(moreRuns, []);
    assert.equal(run?.total, FILES.length);
    const entries = pageRun(webview);
    assert.deepEqual(
      entries.map((e) => e.file).sort(),
      [...FILES].sort(),
      'results in the order they finished',
    );
    for (const e of entries) {
      assert.equal(top1(e), expectedTop1(e.file), e.file);
      const r = e as ImageResult;
      assert.equal(r.top.length, 5, 'cnnLens.topK');
      assert.equal(r.provider, 'cpu');
      assert.match(r.preview ?? '', /^data:image\/jpeg;base64,/);
      assert.equal(r.uri, imageUri(e.file).toString());
    }
    // The model loaded for this run: the results that waited for it say so apart from their own times.
    const loaded = entries.map((e) => e as ImageResult).filter((r) => r.loadMs !== undefined);
    assert.ok(loaded.length > 0, 'the load is reported with the first results');
    for (const r of loaded)
      assert.ok(r.ms.decode < r.loadMs! / 2, `${r.file}: decode ${r.ms.decode} ms, load ${r.loadMs} ms`);

    // The first to finish is current, and explored.
    const current = lens.panel.currentEntry;
    assert.ok(current);
    assert.deepEqual(postedOf(webview, 'current'), [{ type: 'current', index: 0 }]);
    assert.equal(current.file, entries[0]?.file);
    const x = await explorationOf(webview, current.file, 0);
    assert.equal(x.exploration.top[0]?.label, expectedTop1(current.file));
    assert.ok(x.exploration.layers.length > 50, 'a row per layer');
    assert.ok(await webview.waitFor((m) => isType(m, 'architecture')), 'the layer table the page pulled');

    assert.equal(lens.workersStarted, 1, 'one worker for the layer table, the run and the exploration');
    assert.ok(
      fake.statusMessages.some((s) => FILES.some((f) => s.includes(`${f}: ${expectedTop1(f)}`))),
      'the status bar message names an image and its class',
    );
    assert.match(fake.statusBarItems[0]?.text ?? '', /cpu · fp32/);
    assert.deepEqual(
      fake.notifications.filter((n) => n.startsWith('error')),
      [],
    );
    firstRun = { entries: [...lens.panel.entries], current: 0 };
  });

  test('the page selects an entry: it becomes current, and its exploration is posted', async () => {
    const index = 1;
    const file = lens.panel.entries[index]?.file;
    assert.ok(file);
    const from = webview.posted.length;
    webview.receive({ type: 'select', index });
    const x = await explorationOf(webview, file, from);
    assert.deepEqual(postedOf(webview, 'current', from), [{ type: 'current', index }]);
    assert.equal(x.exploration.top[0]?.label, expectedTop1(file));
    assert.equal(lens.panel.currentEntry?.file, file);
  });

  test('an exploration that a newer selection overtook is not applied', async () => {
    // Entry 2 was never explored: the worker takes a while. Entry 0 was: it comes from the cache at once.
    // Both selections take their turn before any file is read, so the second is the newer one whatever
    // finishes first.
    const slow = lens.panel.entries[2]?.file;
    const fast = lens.panel.entries[0]?.file;
    assert.ok(slow && fast);
    const from = webview.posted.length;
    await watchingExplore(async (calls, asked) => {
      webview.receive({ type: 'select', index: 2 });
      webview.receive({ type: 'select', index: 0 });
      await explorationOf(webview, fast, from);
      // Wait for the worker's answer about the slow one, and for what the host does with it.
      await (
        await asked
      ).done;
      await settle();
      assert.deepEqual(
        calls.map((c) => c.file),
        [slow],
        'the slow one was asked of the worker; the fast one came from the cache',
      );
    });
    assert.deepEqual(
      postedOf(webview, 'exploration', from).map((m) => m.file),
      [fast],
      'the stale exploration was dropped',
    );
    assert.deepEqual(postedOf(webview, 'current', from), [
      { type: 'current', index: 2 },
      { type: 'current', index: 0 },
    ]);
    assert.equal(lens.panel.currentEntry?.file, fast);
  });

  test('topK and maxPixels keep the worker (topK applies to the next request); threads replaces it', async () => {
    assert.equal(lens.workersStarted, 1);
    fake.setSetting('cnnLens.topK', 3);
    await lens.settled();
    fake.setSetting('cnnLens.maxPixels', 50_000_000);
    await lens.settled();
    assert.equal(lens.workersStarted, 1, 'same worker');

    const file = lens.panel.entries[1]?.file;
    assert.ok(file);
    let from = webview.posted.length;
    webview.receive({ type: 'select', index: 1 });
    const x = await explorationOf(webview, file, from);
    assert.equal(x.exploration.top.length, 3, 'the new topK');
    assert.equal(lens.workersStarted, 1, 'explored by the same worker');

    from = webview.posted.length;
    const before = pageRun(webview);
    fake.setSetting('cnnLens.threads', 2);
    await lens.settled();
    assert.equal(lens.workersStarted, 2, 'a worker with the new thread count replaced it');
    // Its results would be the same: the run stays as it was, nothing is classified again unasked.
    assert.deepEqual(postedOf(webview, 'run', from), []);
    assert.deepEqual(pageRun(webview), before);
    assert.equal(top1(before[1]!), expectedTop1(file));
  });

  test('switching precision keeps the run, labelled fp32, and explains nothing unasked; "rerun" classifies it at int8', async () => {
    const from = webview.posted.length;
    const before = pageRun(webview);
    assert.ok(before.length > 1);
    try {
      fake.setSetting('cnnLens.precision', 'int8');
      await lens.settled();
      assert.deepEqual(postedOf(webview, 'run', from), [], 'the run is not replaced');
      assert.deepEqual(pageRun(webview), before);
      assert.ok(
        before.every((e) => 'error' in e || (e.precision ?? 'fp32') === 'fp32'),
        'labelled fp32',
      );
      assert.deepEqual(
        postedOf(webview, 'job', from).filter((j) => j.job === 'explain' && j.state !== null),
        [],
        'no explanation ran',
      );
      const asked = webview.posted.length;
      webview.receive({ type: 'rerun' });
      await webview.waitFor((m) => isType(m, 'run'), asked);
      await webview.waitFor((m) => isType(m, 'exploration'), asked); // the run finished: its current image

      const again = pageRun(webview);
      assert.deepEqual(again.map((e) => e.file).sort(), before.map((e) => e.file).sort());
      assert.ok(again.every((e) => 'error' in e || e.precision === 'int8'));
    } finally {
      fake.setSetting('cnnLens.precision', 'fp32');
      await lens.settled();
    }
  });

  test('int8 asked for a model without an int8 file: a warning offers to quantize, the panel says it runs fp32', async () => {
    const dir = tempDir('lens-int8');
    const file = signedFixture(dir, 'mobilenet_v2.ts');
    fake.setSetting('cnnLens.modelPath', file);
    await lens.settled();
    try {
      const from = webview.posted.length;
      const notes = fake.notifications.length;
      fake.setSetting('cnnLens.precision', 'int8');
      await lens.settled();
      assert.ok(
        fake.notifications
          .slice(notes)
          .some((n) => /has no int8 model \(mobilenet_v2\.ts\.int8\.onnx\), so it runs fp32/.test(n)),
        fake.notifications.slice(notes).join('\n'),
      );
      const model = await webview.waitFor((m) => isType(m, 'model') && m.model.precision.note !== null, from);
      assert.ok(isType(model, 'model'));
      assert.match(
        model.model.precision.note ?? '',
        /mobilenet_v2\.ts\.int8\.onnx does not exist beside the model/,
      );
    } finally {
      fake.setSetting('cnnLens.precision', 'fp32');
      fake.setSetting('cnnLens.modelPath', '');
      await lens.settled();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('after a reload the panel revived from its saved state rebuilds the run: select and compare work', async () => {
    lens.dispose(); // the window reloads: a new extension host, a new Lens
    fake.settings.delete('cnnLens.topK');
    fake.settings.delete('cnnLens.maxPixels');
    fake.settings.delete('cnnLens.threads');
    lens = new Lens(context);
    const { entries, current } = firstRun;
    const revived = await fake.restorePanel(savedPanel(entries, current, undefined));
    const page = revived.webview;
    page.receive({ type: 'ready' });

    const currentFile = entries[current]?.file;
    assert.ok(currentFile);
    // The current image explored again, whether the exploration came with the replay or after it.
    const x = await explorationOf(page, currentFile, 0);
    assert.equal(x.exploration.top[0]?.label, expectedTop1(currentFile));
    // The thumbnails, never saved, made again.
    const run = postedOf(page, 'run');
    assert.deepEqual(
      run.map((m) => m.total),
      [entries.length],
    );
    const previews = async (): Promise<boolean> => {
      for (;;) {
        if (pageRun(page).every((e) => 'error' in e || e.preview)) return true;
        await page.waitFor((m) => isType(m, 'results'), page.posted.length);
      }
    };
    assert.ok(await previews());
    assert.deepEqual(
      pageRun(page).map((e) => [e.file, top1(e)]),
      entries.map((e) => [e.file, top1(e)]),
      'the saved run, as it was',
    );

    let from = page.posted.length;
    const other = (current + 1) % entries.length;
    const otherFile = entries[other]?.file;
    assert.ok(otherFile);
    page.receive({ type: 'select', index: other });
    const y = await explorationOf(page, otherFile, from);
    assert.equal(y.exploration.top[0]?.label, expectedTop1(otherFile));

    from = page.posted.length;
    page.receive({ type: 'compare', indices: [current, other], requestId: 1 });
    const c = await page.waitFor<Posted<'comparison'>>((m) => isType(m, 'comparison'), from);
    assert.equal(c.requestId, 1);
    assert.deepEqual(
      c.comparison.items.map((i) => [i.file, i.exploration.top[0]?.label]),
      [
        [currentFile, expectedTop1(currentFile)],
        [otherFile, expectedTop1(otherFile)],
      ],
    );
    // Every layer compared by the cosine of its per-channel means; those vectors stay in the host.
    const layers = c.comparison.items[0]!.exploration.layers;
    assert.deepEqual(
      c.comparison.similarity.map((s) => s.name),
      layers.map((l) => l.name),
    );
    for (const s of c.comparison.similarity)
      assert.ok(s.cosine === null || (s.cosine >= -1 && s.cosine <= 1), `${s.name}: ${s.cosine}`);
    assert.ok(c.comparison.similarity.some((s) => s.cosine !== null && s.cosine < 0.99));
    assert.ok(layers.every((l) => !('channel_means' in l)));
    assert.equal(lens.workersStarted, 1);
    assert.deepEqual(
      fake.notifications.filter((n) => n.startsWith('error')),
      [],
    );
  });
});
