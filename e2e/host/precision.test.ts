// cnnLens.precision in the real extension host: the worker configuration the panel makes (src/host/models.ts
// workerConfig) runs the built-in model's int8 file, runs a user model without its int8 file at fp32 (the
// panel then offers to make one), and picks the int8 file up once it exists; the setting as the typed reader
// reads it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { DEFAULTS, readSettings } from '../../src/host/config';
import { missingInt8, workerConfig, type Paths } from '../../src/host/models';
import { buildResNet } from '../../test/unit/helpers/onnxBuilder';

const extensionId = 'cnn-lens.cnn-lens';

describe('cnnLens.precision: which model file runs', () => {
  let paths: Paths;
  let dir: string;

  before(() => {
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension, `extension ${extensionId} is not loaded`);
    paths = { bundleDir: path.join(extension.extensionPath, 'dist') };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-precision-'));
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads fp32 by default, and int8 when set', async () => {
    assert.equal(readSettings().precision, 'fp32');
    const config = vscode.workspace.getConfiguration('cnnLens');
    await config.update('precision', 'int8', vscode.ConfigurationTarget.Global);
    try {
      assert.equal(readSettings().precision, 'int8');
    } finally {
      await config.update('precision', undefined, vscode.ConfigurationTarget.Global);
    }
    assert.equal(readSettings().precision, 'fp32');
  });

  it('the built-in model at int8 runs models/resnet50.int8.onnx', async () => {
    const config = await workerConfig(paths, { ...DEFAULTS, precision: 'int8' }, '');
    assert.equal(config.precision, 'int8');
    assert.equal(await missingInt8({ ...DEFAULTS, precision: 'int8' }, ''), undefined);
    const fp32 = await workerConfig(paths, DEFAULTS, '');
    assert.equal(fp32.precision, 'fp32');
  });

  it('a user model without its int8 file runs fp32 and names the file it lacks; with it, int8', async () => {
    const file = path.join(dir, 'tiny.onnx');
    const model = buildResNet({
      kind: 'basic',
      blocks: [1, 1],
      widths: [4, 8],
      stem: 4,
      size: 32,
      classes: 3,
    });
    fs.writeFileSync(file, model.build());
    const settings = { ...DEFAULTS, precision: 'int8' as const };
    assert.equal(await missingInt8(settings, file), path.join(dir, 'tiny.int8.onnx'));
    assert.equal(await missingInt8(DEFAULTS, file), undefined, 'fp32 asks for no int8 file');
    const fallback = await workerConfig(paths, settings, file);
    assert.equal(fallback.precision, 'fp32');
    assert.equal(fallback.descriptor.modelPath, file);

    // The file a quantization writes (any bytes do: the worker reads it, not this).
    fs.writeFileSync(path.join(dir, 'tiny.int8.onnx'), model.build());
    assert.equal(await missingInt8(settings, file), undefined);
    assert.equal((await workerConfig(paths, settings, file)).precision, 'int8');
  });
});
