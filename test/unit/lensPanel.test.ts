// LensPanel against a fake webview (no workbench): the page pulls the state when it says `ready`, malformed
// messages are refused, requests are answered with their ids, messages reach the handlers, a reloaded
// window revives the panel from the state its page saved, and a disposed panel posts nothing.
import { fake, l10n, type FakeWebview, type FakeWebviewPanel } from './helpers/vscodeFake';
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import * as vscode from 'vscode';
import { LensPanel, type PanelHandlers } from '../../src/host/panel/panel';
import type { FeatureMaps } from '../../src/shared/exploration';
import type {
  ArchitectureView,
  ExplorationView,
  HostMessage,
  ImageFailure,
  ImageResult,
} from '../../src/shared/protocol';
import { savedPanel, type SavedPanel } from '../../src/shared/savedPanel';
import { ROOT } from './helpers/paths';

const cat: ImageResult = {
  file: 'photos/cat.png',
  uri: 'file:///ws/photos/cat.png',
  top: [{ index: 285, label: 'Egyptian cat', probability: 0.75 }],
  provider: 'cpu',
  precision: 'fp32',
  ms: { decode: 3, run: 40, total: 45 },
  width: 451,
  height: 300,
  preview: 'data:image/jpeg;base64,AAAA',
};
const broken: ImageFailure = {
  file: 'photos/broken.png',
  uri: 'file:///ws/photos/broken.png',
  error: 'bad PNG',
};
const cup: ImageResult = {
  ...cat,
  file: 'photos/cup.png',
  uri: 'file:///ws/photos/cup.png',
  top: [{ index: 967, label: 'espresso', probability: 0.99 }],
  preview: 'data:image/jpeg;base64,BBBB',
};
const { preview: _catPreview, ...catSaved } = cat;
const { preview: _cupPreview, ...cupSaved } = cup;

// Stand-ins: the panel passes them through without looking inside.
const ARCHITECTURE = { model: 'Stub net', table: { rows: [] } } as unknown as ArchitectureView;
const EXPLORATION = { key: 'k', top: cat.top, layers: [] } as unknown as ExplorationView;
const MAPS = {
  key: 'k',
  layer: 'conv2_1',
  channels: 256,
  height: 1,
  width: 2,
  offset: 32,
  maps: [],
  data: new Float32Array([0.5, -1.25]),
} as unknown as FeatureMaps;

type Call = [name: keyof PanelHandlers, ...args: unknown[]];

/** Handlers that record their calls; requests settle as `answers` says (by default at once). */
function recordingHandlers() {
  const calls: Call[] = [];
  const answers: { [K in keyof PanelHandlers]?: (...args: unknown[]) => Promise<unknown> } = {};
  const record =
    <K extends keyof PanelHandlers>(name: K, value?: unknown) =>
    (...args: unknown[]): never => {
      calls.push([name, ...args]);
      return (answers[name]?.(...args) ??
        (value === undefined ? undefined : Promise.resolve(value))) as never;
    };
  const handlers: PanelHandlers = {
    command: record('command'),
    architecture: record('architecture', ARCHITECTURE),
    export: record('export'),
    selected: record('selected'),
    featureMaps: record('featureMaps', MAPS),
    taskMaps: record('taskMaps', { file: 'a.png', maps: { method: 'EigenCAM', maps: [] } }),
    boxMap: record('boxMap'),
    listImages: record('listImages', { files: ['a.png'], truncated: false }),
    pick: record('pick'),
    openSource: record('openSource'),
    compare: record('compare', { items: [], similarity: [] }),
    listModels: record('listModels', { models: [], truncated: false }),
    openModel: record('openModel'),
    listLabelFiles: record('listLabelFiles', []),
    savePreprocessing: record('savePreprocessing', { saved: 'model.json' }),
    cancelComparison: record('cancelComparison'),
    profile: record('profile'),
    compareQuantized: record('compareQuantized'),
    compareRunPrecisions: record('compareRunPrecisions'),
    setPrecision: record('setPrecision'),
    rerun: record('rerun'),
    cancelJob: record('cancelJob'),
    explainableLayers: record('explainableLayers', []),
    explain: record('explain'),
    restored: record('restored'),
  };
  /** Calls other than the layer table the page pulls with `ready`. */
  const asked = (): Call[] => calls.filter(([name]) => name !== 'architecture');
  return { handlers, calls, asked, answers };
}

let panels: LensPanel[] = [];

/** A LensPanel with recording handlers, disposed of after the test. */
function makePanel() {
  const recorder = recordingHandlers();
  const panel = new LensPanel(vscode.Uri.file(ROOT), recorder.handlers);
  panels.push(panel);
  return { panel, ...recorder };
}

function lastPanel(): FakeWebviewPanel {
  const p = fake.panels.at(-1);
  assert.ok(p, 'no webview panel was created');
  return p;
}

/** Shows the panel and lets its page say `ready`; resolves once the layer table it pulls was posted. */
async function openReady(panel: LensPanel): Promise<FakeWebview> {
  panel.show();
  const { webview } = lastPanel();
  webview.receive({ type: 'ready' });
  await webview.waitFor((m) => isType(m, 'architecture'));
  return webview;
}

function isType<T extends HostMessage['type']>(m: unknown, type: T): m is Extract<HostMessage, { type: T }> {
  return (m as HostMessage).type === type;
}

function types(messages: unknown[]): string[] {
  return messages.map((m) => (m as HostMessage).type);
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((a, b) => {
    resolve = a;
    reject = b;
  });
  return { promise, resolve, reject };
}

/** Lets settled promises' callbacks run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

afterEach(() => {
  for (const p of panels) p.dispose();
  panels = [];
  const errors = [...fake.listenerErrors];
  fake.clearRecords();
  assert.deepEqual(errors, [], 'no event listener threw');
});

describe('LensPanel', () => {
  test('the page pulls the state with `ready`: nothing is posted before, the run and the layer table after', async () => {
    const { panel, calls } = makePanel();
    panel.show();
    const { webview, options } = lastPanel();
    assert.match(webview.html, /script-src 'nonce-[^']+'/);
    assert.ok(webview.html.includes(`style-src ${webview.cspSource}`), 'styles only from the extension');
    assert.ok(
      webview.html.includes(`${webview.cspSource}${ROOT}/dist/webview.js`),
      'script via asWebviewUri',
    );
    assert.equal(options.enableScripts, true);
    assert.deepEqual(
      webview.options.localResourceRoots?.map((u) => u.path),
      [`${ROOT}/dist`, `${ROOT}/media`, ROOT],
      'bundles, styles and the workspace folder only',
    );

    panel.beginRun(3, 'Classifying 3 images…');
    panel.addResults([cat, broken]);
    panel.setCurrent(0);
    panel.showExploration(cat.file, EXPLORATION);
    assert.deepEqual(webview.posted, [], 'the page is not ready yet');
    assert.deepEqual(calls, [], 'the layer table is not asked for before the page is ready');

    webview.receive({ type: 'ready' });
    await webview.waitFor((m) => isType(m, 'architecture'));
    assert.deepEqual(webview.posted, [
      { type: 'run', total: 3, busy: 'Classifying 3 images…' },
      { type: 'results', start: 0, items: [cat, broken] },
      { type: 'current', index: 0 },
      { type: 'exploration', file: cat.file, exploration: EXPLORATION },
      { type: 'architecture', architecture: ARCHITECTURE },
    ]);
    assert.deepEqual(calls, [['architecture']]);

    // Ready now: what happens next is posted as it happens.
    panel.addResults([cup]);
    panel.setBusy(undefined);
    assert.deepEqual(webview.posted.slice(5), [
      { type: 'results', start: 2, items: [cup] },
      { type: 'status' }, // `busy: undefined` does not survive JSON
    ]);
  });

  test('malformed messages from the page are refused and logged, without throwing or reaching a handler', async () => {
    const { panel, asked } = makePanel();
    const webview = await openReady(panel);
    panel.beginRun(2, 'Classifying…');
    panel.addResults([cat, cup]);
    const posted = webview.posted.length;
    const warnings = fake.log.filter((l) => l.startsWith('warn ')).length;
    const bad: unknown[] = [
      null,
      undefined,
      42,
      'ready',
      [],
      [{ type: 'ready' }],
      {},
      { type: 'nope' },
      { type: 'toString' },
      { type: 'constructor' },
      { type: 'ready', extra: 1 },
      { type: 'select', index: -1 },
      { type: 'select', index: 0.5 },
      { type: 'select', index: '1' },
      { type: 'export', format: 'xml' },
      { type: 'listImages' },
      { type: 'listImages', requestId: 0 },
      { type: 'listImages', requestId: 1.5 },
      { type: 'featureMaps', layer: 'conv1', count: 1000, offset: 0, requestId: 1 },
      { type: 'compare', indices: [0, 0], requestId: 2 },
      { type: 'compare', indices: [0], requestId: 2 },
      { type: 'pick', file: 'photos/cat.png\0' },
      { type: 'pick', file: '' },
      { type: 'command', command: 'workbench.action.reloadWindow' },
      { type: 'openModel', id: 7 },
      { type: 'setPrecision', precision: 'int4' },
      { type: 'cancelJob', job: 'everything' },
      { type: 'profile', batch: 65, runs: 1, requestId: 3 },
      { type: 'explain', method: 'cam', layer: null, metrics: 'yes', requestId: 4 },
      { type: 'explain', method: 'magic', layer: null, metrics: false, requestId: 4 },
    ];
    for (const m of bad) assert.doesNotThrow(() => webview.receive(m), JSON.stringify(m));
    await settle();

    assert.deepEqual(fake.listenerErrors, []);
    assert.deepEqual(asked(), [], 'no handler was called');
    assert.equal(webview.posted.length, posted, 'nothing was answered');
    assert.equal(
      fake.log.filter((l) => l.startsWith('warn ')).length - warnings,
      bad.length,
      'each one logged',
    );

    // The panel still listens.
    webview.receive({ type: 'select', index: 1 });
    assert.deepEqual(asked(), [['selected', cup]]);
  });

  test('requests are answered with their own ids, also when answered out of order or when they fail', async () => {
    const { panel, answers } = makePanel();
    const webview = await openReady(panel);
    panel.beginRun(2, 'Classifying…');
    panel.addResults([cat, cup]);

    const first = deferred<unknown>();
    const second = deferred<unknown>();
    const pending = [first, second];
    answers.listImages = () => pending.shift()!.promise;
    webview.receive({ type: 'listImages', requestId: 7 });
    webview.receive({ type: 'listImages', requestId: 8 });
    second.resolve({ files: ['new.png'], truncated: false });
    await webview.waitFor((m) => isType(m, 'images'));
    first.resolve({ files: ['old.png'], truncated: true });
    await webview.waitFor((m) => isType(m, 'images') && m.requestId === 7);
    assert.deepEqual(
      webview.posted.filter((m) => isType(m, 'images')),
      [
        { type: 'images', files: ['new.png'], truncated: false, requestId: 8 },
        { type: 'images', files: ['old.png'], truncated: true, requestId: 7 },
      ],
    );

    answers.featureMaps = () => Promise.reject(new Error('no such layer'));
    webview.receive({ type: 'featureMaps', layer: 'conv9', count: 8, offset: 0, requestId: 11 });
    assert.deepEqual(await webview.waitFor((m) => isType(m, 'featureMapsError')), {
      type: 'featureMapsError',
      layer: 'conv9',
      message: 'no such layer',
      requestId: 11,
    });

    answers.compare = () => Promise.reject(new Error('photos/cup.png could not be read'));
    webview.receive({ type: 'compare', indices: [0, 1], requestId: 12 });
    assert.deepEqual(await webview.waitFor((m) => isType(m, 'comparisonError')), {
      type: 'comparisonError',
      message: 'photos/cup.png could not be read',
      requestId: 12,
    });

    answers.savePreprocessing = () => Promise.resolve({ error: 'the built-in model cannot be changed' });
    webview.receive({
      type: 'savePreprocessing',
      preprocessing: {
        resize: 256,
        crop: 224,
        channelOrder: 'RGB',
        scale: 1,
        mean: [0, 0, 0],
        std: [1, 1, 1],
      },
      labels: '',
      requestId: 13,
    });
    assert.deepEqual(await webview.waitFor((m) => isType(m, 'preprocessingError')), {
      type: 'preprocessingError',
      message: 'the built-in model cannot be changed',
      requestId: 13,
    });

    webview.receive({ type: 'listModels', requestId: 14 });
    webview.receive({ type: 'listLabelFiles', requestId: 15 });
    webview.receive({ type: 'listExplainableLayers', requestId: 16 });
    for (const [type, requestId] of [
      ['models', 14],
      ['labelFiles', 15],
      ['explainableLayers', 16],
    ] as const) {
      const reply = await webview.waitFor<HostMessage>((m) => isType(m, type));
      assert.equal('requestId' in reply && reply.requestId, requestId, type);
    }

    // A request without an error reply that fails is logged, not answered.
    const before = webview.posted.length;
    answers.listImages = () => Promise.reject(new Error('search failed'));
    webview.receive({ type: 'listImages', requestId: 17 });
    await settle();
    assert.equal(webview.posted.length, before);
    assert.ok(fake.log.some((l) => l.startsWith('error ') && l.includes('search failed')));
  });

  test('select, compare, export, feature maps, explain and the other notifications reach the handlers', async () => {
    const { panel, asked, calls } = makePanel();
    const webview = await openReady(panel);
    panel.beginRun(3, 'Classifying…');
    panel.addResults([cat, broken, cup]);
    let from = webview.posted.length;

    webview.receive({ type: 'select', index: 2 });
    webview.receive({ type: 'select', index: 1 });
    webview.receive({ type: 'select', index: 3 }); // past the run's end: ignored
    assert.deepEqual(asked(), [
      ['selected', cup],
      ['selected', broken],
    ]);
    assert.deepEqual(webview.posted.slice(from), [
      { type: 'current', index: 2 },
      { type: 'current', index: 1 },
    ]);
    assert.equal(panel.currentEntry, broken);
    assert.equal(lastPanel().title, 'CNN Lens: broken.png');

    calls.length = 0;
    from = webview.posted.length;
    webview.receive({ type: 'compare', indices: [2, 0], requestId: 4 });
    webview.receive({ type: 'compare', indices: [0, 5], requestId: 5 }); // no entry 5: not asked, not answered
    await settle();
    assert.deepEqual(asked(), [['compare', [cup, cat]]]);
    assert.deepEqual(webview.posted.slice(from), [
      { type: 'comparison', comparison: { items: [], similarity: [] }, requestId: 4 },
    ]);

    calls.length = 0;
    webview.receive({ type: 'export', format: 'csv' });
    webview.receive({ type: 'featureMaps', layer: 'conv2_1', count: 16, offset: 32, requestId: 6 });
    webview.receive({
      type: 'explain',
      method: 'occlusion',
      layer: null,
      patch: 32,
      stride: 16,
      metrics: true,
      requestId: 7,
    });
    webview.receive({ type: 'profile', batch: 8, runs: 5, requestId: 8 });
    webview.receive({ type: 'compareQuantized', requestId: 9 });
    webview.receive({ type: 'compareRunPrecisions', requestId: 10 });
    webview.receive({ type: 'pick', file: 'photos/cat.png' });
    webview.receive({ type: 'openModel', id: '' });
    webview.receive({ type: 'command', command: 'showLog' });
    webview.receive({ type: 'setPrecision', precision: 'int8' });
    webview.receive({ type: 'cancelJob', job: 'profile' });
    webview.receive({ type: 'cancelComparison' });
    assert.deepEqual(asked(), [
      ['export', 'csv', [cat, broken, cup]],
      ['featureMaps', 'conv2_1', 16, 32],
      [
        'explain',
        { method: 'occlusion', layer: null, patch: 32, stride: 16, channels: undefined, metrics: true },
        7,
      ],
      ['profile', 8, 5, 8],
      ['compareQuantized', 9],
      ['compareRunPrecisions', 10],
      ['pick', 'photos/cat.png'],
      ['openModel', ''],
      ['command', 'showLog'],
      ['setPrecision', 'int8'],
      ['cancelJob', 'profile'],
      ['cancelComparison'],
    ]);
    const maps = await webview.waitFor<Extract<HostMessage, { type: 'featureMaps' }>>((m) =>
      isType(m, 'featureMaps'),
    );
    assert.equal(maps.requestId, 6);
    assert.ok(maps.maps.data instanceof Float32Array, 'the values arrive as binary');
    assert.deepEqual([...maps.maps.data], [0.5, -1.25]);
  });

  test('a reloaded window revives the panel with the run its page saved, and says so', async () => {
    const { panel, asked } = makePanel();
    const saved = savedPanel([cat, broken, cup], 2, '/models/mobilenet_v2.onnx');
    const revived = await fake.restorePanel(saved);

    const want: SavedPanel = {
      version: 1,
      model: '/models/mobilenet_v2.onnx',
      results: [catSaved, broken, cupSaved],
      current: 2,
    };
    assert.deepEqual(asked(), [['restored', want]]);
    assert.equal(panel.isOpen, true);
    assert.deepEqual(panel.entries, want.results);
    assert.deepEqual(panel.currentEntry, cupSaved);
    assert.ok(revived.webview.html.includes('<script nonce='), 'the revived panel gets its page again');

    revived.webview.receive({ type: 'ready' });
    await revived.webview.waitFor((m) => isType(m, 'architecture'));
    assert.deepEqual(types(revived.webview.posted), ['run', 'results', 'current', 'architecture']);
    assert.deepEqual(revived.webview.posted.slice(0, 3), [
      { type: 'run', total: 3 },
      { type: 'results', start: 0, items: [catSaved, broken, cupSaved] },
      { type: 'current', index: 2 },
    ]);

    // The restored run works as the one before the reload did.
    revived.webview.receive({ type: 'select', index: 0 });
    assert.deepEqual(asked().at(-1), ['selected', catSaved]);
  });

  test('a saved state that is not one starts the panel empty, with a warning; no state, without one', async () => {
    const malformed: unknown[] = [
      'garbage',
      { version: 2, results: [], current: 0 },
      { version: 1, results: [{ file: 'photos/cat.png' }], current: 0 },
      { version: 1, results: [catSaved], current: -1 },
      { version: 1, model: 42, results: [], current: 0 },
    ];
    for (const state of [...malformed, undefined]) {
      const { panel, asked } = makePanel();
      const warnings = fake.log.filter((l) => l.startsWith('warn ')).length;
      const revived = await fake.restorePanel(state);
      assert.deepEqual(asked(), [], `${JSON.stringify(state)}: nothing restored`);
      assert.deepEqual(panel.entries, []);
      assert.equal(
        fake.log.filter((l) => l.startsWith('warn ')).length - warnings,
        state === undefined ? 0 : 1,
        `${JSON.stringify(state)}: warned`,
      );
      revived.webview.receive({ type: 'ready' });
      await revived.webview.waitFor((m) => isType(m, 'architecture'));
      assert.deepEqual(types(revived.webview.posted), ['architecture'], 'an empty panel that works');
      panel.dispose();
    }
  });

  test('after the panel is disposed of, nothing is posted; its serializer goes with it', async () => {
    const { panel } = makePanel();
    const webview = await openReady(panel);
    panel.beginRun(1, 'Classifying…');
    const posted = webview.posted.length;

    panel.dispose();
    assert.equal(panel.isOpen, false);
    panel.addResults([cat]);
    panel.setCurrent(0);
    panel.setBusy('still busy?');
    panel.setModelBusy('opening…');
    panel.showExploration(cat.file, EXPLORATION);
    panel.showExplorationError(cat.file, 'late');
    panel.setJob('profile', { status: 'running', message: 'profiling' });
    panel.invalidateArchitecture();
    await settle();
    assert.equal(webview.posted.length, posted);
    assert.equal(webview.postsAfterDispose, 0, 'not even attempted');
    await assert.rejects(fake.restorePanel(undefined), /no webview panel serializer/);
  });

  test('closed by the user, the panel posts nothing until it is shown again and its new page is ready', async () => {
    const { panel } = makePanel();
    const first = await openReady(panel);
    panel.beginRun(1, 'Classifying…');
    lastPanel().dispose(); // the user closes the tab
    assert.equal(panel.isOpen, false);
    panel.addResults([cat]);
    panel.setCurrent(0);
    assert.equal(first.postsAfterDispose, 0);

    panel.show();
    const second = lastPanel().webview;
    assert.notEqual(second, first);
    assert.deepEqual(second.posted, []);
    second.receive({ type: 'ready' });
    await second.waitFor((m) => isType(m, 'architecture'));
    assert.deepEqual(second.posted.slice(0, 3), [
      { type: 'run', total: 1, busy: 'Classifying…' },
      { type: 'results', start: 0, items: [cat] },
      { type: 'current', index: 0 },
    ]);
  });

  test('a background reveal never covers the active editor: behind another tab of its group, the panel goes beside', async () => {
    const { panel } = makePanel();
    await openReady(panel);
    const p = lastPanel();
    const group = vscode.window.tabGroups.activeTabGroup as { activeTab: unknown; viewColumn: number };
    try {
      // In front of its group: it stays where it is.
      p.viewColumn = 2;
      group.viewColumn = 2;
      group.activeTab = { input: new vscode.TabInputWebview('mainThreadWebview-cnnLens.panel') };
      panel.show(true);
      assert.deepEqual(p.revealedTo, { column: undefined, preserveFocus: true });
      // Behind a tab of another group (the user switched tabs there): brought forward in its own.
      group.viewColumn = 1;
      group.activeTab = {
        input: new vscode.TabInputCustom(vscode.Uri.file('/w/coffee.png'), 'imagePreview'),
      };
      panel.show(true);
      assert.deepEqual(p.revealedTo, { column: undefined, preserveFocus: true });
      // Behind the image just opened in its own group: it moves beside rather than covering it.
      group.viewColumn = 2;
      panel.show(true);
      assert.deepEqual(p.revealedTo, { column: vscode.ViewColumn.Beside, preserveFocus: true });
      // Asked for in front (a command that focuses it): where it is.
      panel.show(false);
      assert.deepEqual(p.revealedTo, { column: undefined, preserveFocus: false });
    } finally {
      group.viewColumn = 1;
      group.activeTab = undefined;
    }
  });
});

describe('the fake vscode module', () => {
  test('l10n.t formats as VS Code does without a bundle', () => {
    assert.equal(l10n.t('{0} of {1} images', 3, 10), '3 of 10 images');
    assert.equal(l10n.t('{0} and {0}', 'a'), 'a and a');
    assert.equal(
      l10n.t('cannot open {file}: {reason}', { file: 'x.onnx', reason: 'gone' }),
      'cannot open x.onnx: gone',
    );
    assert.equal(l10n.t('{0} stays {1}', 'this'), 'this stays {1}');
    assert.equal(l10n.t('no arguments {0}'), 'no arguments {0}');
    assert.equal(l10n.t('{0} {1}', true, 0), 'true 0');
    assert.equal(
      l10n.t({ message: 'hello {name}', args: { name: 'you' }, comment: 'greeting' }),
      'hello you',
    );
    assert.equal(l10n.bundle, undefined);
    assert.equal(vscode.l10n.t('{0}%', 5), '5%', "installed as the module 'vscode'");
  });
});
