// Reading model files as exporters write them: weights in an external .data file (also past 2 GB), and the
// specific errors for files that are not models, truncated ones, and missing or short data files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { readOnnxFile } from '../../src/files/onnxFile';
import { buildLayerTable } from '../../src/model/structure/table';
import { buildResNet, type ResNetSpec } from './helpers/onnxBuilder';

/** Moves every float initializer of a model into `<file>.data` (at `base` + its offset), as exporters do. */
function externalise(bytes: Uint8Array, dataName: string, base = 0): { model: Uint8Array; data: Buffer } {
  const model = onnx.ModelProto.decode(bytes);
  const chunks: Buffer[] = [];
  let offset = base;
  for (const t of model.graph!.initializer!) {
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT) continue;
    const raw = Buffer.from(t.rawData!);
    chunks.push(raw);
    t.rawData = new Uint8Array(0);
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.externalData = [
      { key: 'location', value: dataName },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    offset += raw.length;
  }
  return { model: onnx.ModelProto.encode(model).finish(), data: Buffer.concat(chunks) };
}

const spec: ResNetSpec = { kind: 'basic', blocks: [1, 1], widths: [4, 8], stem: 4, size: 32, classes: 5 };

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'cnn-lens-onnx-'));
}

test('external data: the graph reads from the .onnx; the .data file is checked, weights never read', async () => {
  const dir = await tempDir();
  const g = buildResNet(spec);
  const { model, data } = externalise(g.build(), 'net.onnx.data');
  await fs.writeFile(path.join(dir, 'net.onnx'), model);
  await fs.writeFile(path.join(dir, 'net.onnx.data'), data);
  const t = buildLayerTable(await readOnnxFile(path.join(dir, 'net.onnx')));
  assert.equal(t.family, 'ResNet');
  assert.equal(t.totals.params + t.totals.buffers, g.weightElements());

  await fs.truncate(path.join(dir, 'net.onnx.data'), data.length - 4);
  await assert.rejects(
    readOnnxFile(path.join(dir, 'net.onnx')),
    /"net\.onnx\.data" is [\d,]+ bytes, but tensor .* needs [\d,]+: the file is truncated/,
  );
  await fs.rm(path.join(dir, 'net.onnx.data'));
  await assert.rejects(
    readOnnxFile(path.join(dir, 'net.onnx')),
    /keeps its weights in "net\.onnx\.data" beside it, and that file is missing/,
  );
  await fs.rm(dir, { recursive: true });
});

test('external data past 2 GB (sparse file): read in milliseconds, the data file never loaded', async () => {
  const dir = await tempDir();
  const base = 3 * 2 ** 30; // the tensors start 3 GiB into the data file
  const { model, data } = externalise(buildResNet(spec).build(), 'big.onnx.data', base);
  await fs.writeFile(path.join(dir, 'big.onnx'), model);
  const handle = await fs.open(path.join(dir, 'big.onnx.data'), 'w');
  await handle.write(data, 0, data.length, base);
  await handle.close();
  const t = buildLayerTable(await readOnnxFile(path.join(dir, 'big.onnx')));
  assert.equal(t.family, 'ResNet');
  assert.ok((await fs.stat(path.join(dir, 'big.onnx.data'))).size > 3 * 2 ** 30);
  const rss = process.memoryUsage().rss;
  assert.ok(rss < 2 ** 30, `the 3 GB data file was not read (rss ${(rss / 2 ** 20).toFixed(0)} MB)`);
  await fs.rm(dir, { recursive: true });
});

test('an external data location outside the model folder is refused', async () => {
  const dir = await tempDir();
  const { model } = externalise(buildResNet(spec).build(), '../../etc/passwd');
  await fs.writeFile(path.join(dir, 'evil.onnx'), model);
  await assert.rejects(readOnnxFile(path.join(dir, 'evil.onnx')), /outside the model's folder/);
  await fs.rm(dir, { recursive: true });
});

test('not a model, a truncated model, a folder, a missing file: specific messages', async () => {
  const dir = await tempDir();
  const good = buildResNet(spec).build();
  await fs.writeFile(path.join(dir, 'text.onnx'), 'this is not a model\n');
  await fs.writeFile(path.join(dir, 'page.onnx'), '<!doctype html><html><body>404 Not Found</body></html>\n');
  await fs.writeFile(path.join(dir, 'cut.onnx'), good.subarray(0, Math.floor(good.length / 2)));
  await fs.writeFile(path.join(dir, 'empty.onnx'), '');
  await fs.mkdir(path.join(dir, 'dir.onnx'));
  await assert.rejects(readOnnxFile(path.join(dir, 'text.onnx')), /text\.onnx is not a readable ONNX model/);
  await assert.rejects(readOnnxFile(path.join(dir, 'page.onnx')), (err: Error & { problem?: string }) => {
    assert.equal(err.problem, 'not onnx', 'a web page saved as .onnx is not a truncated model');
    return true;
  });
  await assert.rejects(
    readOnnxFile(path.join(dir, 'cut.onnx')),
    /cut\.onnx is not a readable ONNX model: Truncated/,
  );
  await assert.rejects(readOnnxFile(path.join(dir, 'empty.onnx')), /empty\.onnx is empty \(0 bytes\)/);
  await assert.rejects(readOnnxFile(path.join(dir, 'dir.onnx')), /dir\.onnx is not a file/);
  await assert.rejects(readOnnxFile(path.join(dir, 'nowhere.onnx')), /nowhere\.onnx does not exist/);
  await fs.rm(dir, { recursive: true });
});
