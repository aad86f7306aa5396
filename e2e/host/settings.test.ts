// Settings changes in the real extension host: only settings the inference worker was made with restart it
// (src/host/runtime.ts applySettings); the others apply to the worker that runs.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';

const extensionId = 'cnn-lens.cnn-lens';

/** What the extension's activate() returns for tests. */
interface TestApi {
  readSettings(): { topK: number; threads: number; maxPixels: number };
  inferenceStarted(): boolean;
  workersStarted(): number;
  settingsApplied(): Promise<void>;
}

/** Sets a user setting and waits until the extension has applied it. */
async function change(
  api: TestApi,
  key: 'topK' | 'threads' | 'maxPixels',
  value: number | undefined,
): Promise<void> {
  await vscode.workspace.getConfiguration('cnnLens').update(key, value, vscode.ConfigurationTarget.Global);
  const deadline = Date.now() + 10_000;
  // The change event reaches the extension with the new value; wait for the value, then for the change.
  while (value !== undefined && api.readSettings()[key] !== value) {
    if (Date.now() > deadline) throw new Error(`cnnLens.${key} did not become ${value}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await api.settingsApplied();
}

describe('settings changes and the inference worker', () => {
  let api: TestApi;

  before(async () => {
    const extension = vscode.extensions.getExtension<TestApi>(extensionId);
    assert.ok(extension, `extension ${extensionId} is not loaded`);
    api = await extension.activate();
  });

  after(async () => {
    for (const key of ['topK', 'threads', 'maxPixels'] as const) await change(api, key, undefined);
  });

  it('topK and maxPixels keep the running worker; threads restarts it', async () => {
    // Runtime Info loads the model in the panel's worker, without opening the panel.
    await vscode.commands.executeCommand('cnnLens.showRuntimeInfo');
    assert.equal(api.inferenceStarted(), true, 'the worker runs');
    const workers = api.workersStarted();

    await change(api, 'topK', 3);
    await change(api, 'maxPixels', 50_000_000);
    await vscode.commands.executeCommand('cnnLens.showRuntimeInfo');
    assert.equal(
      api.workersStarted(),
      workers,
      'topK is read per request, the pixel limit sent: same worker',
    );

    await change(api, 'threads', 1);
    await vscode.commands.executeCommand('cnnLens.showRuntimeInfo');
    assert.equal(api.workersStarted(), workers + 1, 'a worker with the new thread count replaced it');
  });
});
