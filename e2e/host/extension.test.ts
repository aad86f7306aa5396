// Runs inside the Node extension host, against the extension loaded from the repo (dist/extension.js).
import assert from 'node:assert/strict';
import path from 'node:path';
import * as vscode from 'vscode';

const extensionId = 'cnn-lens.cnn-lens';
const commandIds = [
  'cnnLens.classify',
  'cnnLens.classifyFolder',
  'cnnLens.openArchitecture',
  'cnnLens.openModel',
  'cnnLens.openPythonModel',
  'cnnLens.analysePythonModel',
  'cnnLens.compareArchitectures',
  'cnnLens.profile',
  'cnnLens.quantizeFolder',
  'cnnLens.showRuntimeInfo',
  'cnnLens.showLog',
];

/** What the extension's activate() returns for tests. */
interface TestApi {
  readSettings(): Record<string, unknown>;
}

interface SettingSchema {
  default?: unknown;
}

/** Modules loaded so far in this host (main thread) from onnxruntime-node or sharp. */
function loadedNativeModules(): string[] {
  return Object.keys(require.cache).filter((p) =>
    /[\\/](onnxruntime-node|sharp|@img[\\/]sharp-[^\\/]*)[\\/]/.test(p),
  );
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
async function poll<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function cnnLensPanelTab(): vscode.Tab | undefined {
  return vscode.window.tabGroups.all
    .flatMap((group) => group.tabs)
    .find(
      (tab) =>
        tab.input instanceof vscode.TabInputWebview &&
        tab.input.viewType.includes('cnnLens.panel') &&
        tab.label.startsWith('CNN Lens'),
    );
}

describe('CNN Lens in the extension host', () => {
  let extension: vscode.Extension<TestApi>;
  let api: TestApi;
  let nativeAfterActivation: string[];

  before(async () => {
    const found = vscode.extensions.getExtension<TestApi>(extensionId);
    assert.ok(found, `extension ${extensionId} is not loaded`);
    extension = found;
    api = await extension.activate();
    nativeAfterActivation = loadedNativeModules();
  });

  it('activates without loading onnxruntime-node or sharp', () => {
    assert.ok(extension.isActive);
    assert.deepEqual(nativeAfterActivation, []);
  });

  it('registers its commands', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const id of commandIds) assert.ok(registered.has(id), `command ${id} is not registered`);
  });

  it('declares exactly the settings that readSettings() returns, with the same defaults', () => {
    assert.equal(typeof api?.readSettings, 'function', 'activate() should return { readSettings }');
    const configuration = extension.packageJSON.contributes?.configuration;
    const sections: { properties?: Record<string, SettingSchema> }[] = Array.isArray(configuration)
      ? configuration
      : [configuration ?? {}];
    const declared = new Map<string, unknown>();
    for (const section of sections) {
      for (const [key, schema] of Object.entries(section.properties ?? {})) {
        assert.ok(key.startsWith('cnnLens.'), `setting ${key} is outside the cnnLens section`);
        assert.ok('default' in schema, `setting ${key} declares no default`);
        declared.set(key.slice('cnnLens.'.length), schema.default);
      }
    }
    assert.ok(declared.size > 0, 'package.json declares no cnnLens settings');

    const settings = api.readSettings();
    assert.deepEqual(
      Object.keys(settings).sort(),
      [...declared.keys()].sort(),
      'setting names: readSettings() vs package.json',
    );
    for (const [name, defaultValue] of declared) {
      assert.deepEqual(
        settings[name],
        defaultValue,
        `cnnLens.${name}: readSettings() vs package.json default`,
      );
    }
  });

  it('cnnLens.classify on chelsea.png resolves and opens the CNN Lens panel', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'no workspace folder is open');
    assert.equal(cnnLensPanelTab(), undefined, 'a CNN Lens panel was open before classify');
    await vscode.commands.executeCommand(
      'cnnLens.classify',
      vscode.Uri.file(path.join(folder.uri.fsPath, 'chelsea.png')),
    );
    const tab = await poll('a CNN Lens panel tab', cnnLensPanelTab);
    assert.match(tab.label, /^CNN Lens/);
  });
});
