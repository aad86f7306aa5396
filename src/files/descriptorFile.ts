// Model descriptor files on disk: `models/resnet50.json` for the built-in model, `<model>.json` beside a
// user's model (the preprocessing editor writes it), and the labels files they name. What a descriptor
// means is decided in src/model/descriptor.ts; this module reads and writes the files.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  checkPreprocessing,
  PREPROCESSING_PRESETS,
  descriptorPathFor,
  isQuantized,
  isStrings,
  parseDescriptor,
  preprocessingFor,
  type DescriptorFile,
  type ModelDescriptor,
} from '../model/descriptor';
import { classOutput, imageInput, notClassScores, outputKindOf, scalesPixels } from '../model/modelFile';
import { ModelFileError } from '../model/onnxGraph';
import { describeOutputs, taskOf } from '../model/task';
import type { Preprocessing, PresetName } from '../shared/preprocessing';
import { readModelGraph } from './onnxFile';
import { writeAtomic } from './writeAtomic';

/** Reads a descriptor file and resolves its relative paths and presets (the built-in model's). */
export async function loadDescriptor(file: string): Promise<ModelDescriptor> {
  let raw: DescriptorFile;
  try {
    raw = await readDescriptorFile(file);
  } catch (err) {
    throw new Error(`Cannot read model descriptor ${file}: ${(err as Error).message}. Run "npm run build".`);
  }
  return {
    name: raw.name,
    modelPath: path.resolve(path.dirname(file), raw.model),
    sha256: raw.sha256,
    input: raw.input,
    output: raw.output,
    outputKind: raw.outputKind ?? 'logits',
    preprocessing: checkPreprocessing(raw.preprocessing, file),
    labels: raw.labels === undefined ? [] : await labelsOf(raw.labels, file),
    ...(raw.precision === 'int8' && { precision: raw.precision }),
  };
}

/**
 * The descriptor of any classifier ONNX file. The input size comes from the graph (see preprocessingFor);
 * `<model>.json` beside the file, if present, supplies name, preprocessing (a preset name or explicit
 * values) and labels; otherwise `preset` applies, with `defaultLabels` (ImageNet's) for 1000 classes and
 * "class i" names for any other count. Throws ModelFileError with the reason when the file is not a model
 * CNN Lens can feed.
 */
export async function descriptorForModel(
  modelFile: string,
  preset: PresetName,
  defaultLabels: string[],
): Promise<ModelDescriptor> {
  const file = path.resolve(modelFile);
  const graph = await readModelGraph(file);
  const sidecar = descriptorPathFor(file);
  const raw = (await exists(sidecar)) ? await readSidecar(sidecar) : undefined;
  const input = imageInput(graph, raw?.input);
  // A model that takes pixel values as they are (uint8, or scaling them itself) gets them so by default.
  const pixels = input.type === 'uint8' || scalesPixels(graph, input.name);
  // ultralytics' models take RGB / 255 and nothing else (its `task` metadata marks them).
  const fallback = pixels ? 'raw255' : graph.metadata.task !== undefined ? 'raw' : preset;
  const { preprocessing, assumed } = preprocessingFor(input, raw, sidecar, fallback);
  const chosen = classOutput(graph, preprocessing.crop, raw?.output);
  if (!chosen) throw new ModelFileError(`the model has no output "${raw?.output ?? ''}"`);
  const shape = graph.outputs.find((o) => o.name === chosen.name)?.shape;
  // Outputs that are not class scores: a detector's or segmenter's, read as its task; an output declared
  // as something else is refused here, with what it looks like, before anything that is open is replaced.
  const task = raw?.output === undefined ? taskOf(graph, preprocessing.crop) : undefined;
  const declared = shape && shape.length > 0 && shape.slice(1).every((d) => typeof d === 'number');
  // Such a model still opens, for its layer table; what would read its outputs says why it cannot.
  const unread =
    chosen.classes === null && !task && declared
      ? notClassScores(chosen.name, shape, describeOutputs(graph))
      : undefined;
  const classes = task ? task.classes : chosen.classes;
  let labels: string[];
  if (raw?.labels !== undefined) {
    labels = await labelsOf(raw.labels, sidecar);
    if (classes !== null && labels.length !== classes) {
      throw new ModelFileError(
        `the labels of ${sidecar} name ${labels.length} classes, but the model outputs ${classes}`,
      );
    }
  } else {
    const named = metadataNames(graph.metadata.names, classes);
    if (named) labels = named;
    else if (classes === defaultLabels.length) labels = defaultLabels;
    else labels = Array.from({ length: classes ?? 0 }, (_, i) => `class ${i}`);
  }
  const notes = [
    assumed,
    task ? undefined : chosen.note,
    fallback === 'raw' && raw?.preprocessing === undefined
      ? 'an ultralytics model: fed RGB / 255 (preset raw)'
      : undefined,
    pixels && raw?.preprocessing === undefined && fallback !== preset
      ? input.type === 'uint8'
        ? 'the model takes uint8 pixels: fed 0–255 values (preset raw255)'
        : 'the graph scales 0–255 pixel values itself: fed them as they are (preset raw255)'
      : undefined,
  ].filter((n): n is string => n !== undefined);
  const { layout, channels, type, unbatched } = input;
  // torchvision's detectors normalise inside the graph: they take RGB / 255.
  if (task?.head === 'boxes' && raw?.preprocessing === undefined) {
    const { scale, mean, std } = PREPROCESSING_PRESETS.raw;
    Object.assign(preprocessing, { scale, mean, std });
    notes.push('a detector with NMS inside (torchvision): fed RGB / 255, it normalises itself (preset raw)');
  }
  return {
    name: raw?.name ?? path.basename(file),
    modelPath: file,
    sha256: raw?.sha256,
    input: raw?.input,
    output: raw?.output ?? (!task && graph.outputs.length > 1 ? chosen.name : undefined),
    outputKind: raw?.outputKind ?? outputKindOf(graph, chosen.name),
    format: { layout, channels, type, ...(unbatched && { unbatched }) },
    preprocessing,
    labels,
    ...(notes.length > 0 && { assumed: notes.join('; ') }),
    ...(isQuantized(graph) && { precision: 'int8' as const }),
    ...(task && { task }),
    ...(unread !== undefined && { unread }),
  };
}

/**
 * Class names an exporter wrote into the model's metadata (ultralytics: `names` as a Python dict,
 * `{0: 'person', 1: 'bicycle'}`), when they name every class in order; undefined otherwise.
 */
export function metadataNames(text: string | undefined, classes: number | null): string[] | undefined {
  if (text === undefined || classes === null) return undefined;
  const names = new Map<number, string>();
  for (const m of text.matchAll(/(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g)) {
    names.set(Number(m[1]), (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1'));
  }
  if (names.size !== classes) return undefined;
  const list = Array.from({ length: classes }, (_, i) => names.get(i));
  return list.every((n): n is string => n !== undefined) ? list : undefined;
}

/**
 * Writes `<model>.json` beside the model with the given preprocessing (and labels file, relative to it),
 * keeping the other fields of a descriptor already there; returns its path. A file of that name that is
 * not a CNN Lens descriptor is left alone (an error says so).
 */
export async function writeDescriptorFile(
  modelFile: string,
  edit: { preprocessing: Preprocessing; labelsFile?: string; name?: string },
): Promise<string> {
  const model = path.resolve(modelFile);
  const target = descriptorPathFor(model);
  const dir = path.dirname(target);
  let existing: DescriptorFile | undefined;
  const text = await fs.readFile(target, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text !== undefined) {
    try {
      existing = parseDescriptor(text);
    } catch (err) {
      throw new ModelFileError(
        `${target} exists and is not a CNN Lens model descriptor (${(err as Error).message}); ` +
          'it was not overwritten: move it away to save the preprocessing',
      );
    }
  }
  const preprocessing = checkPreprocessing(edit.preprocessing, 'the edit');
  let labels = existing?.labels;
  if (edit.labelsFile !== undefined) {
    const labelsFile = path.resolve(edit.labelsFile);
    await loadLabels(labelsFile); // refuse a labels file the descriptor could not be read with
    labels = path.relative(dir, labelsFile).split(path.sep).join('/');
  }
  const out: DescriptorFile = {
    ...existing,
    name: edit.name ?? existing?.name ?? path.basename(model),
    model: path.basename(model),
    preprocessing,
    ...(labels !== undefined && { labels }),
  };
  await writeAtomic(target, JSON.stringify(out, null, 2) + '\n');
  return target;
}

/** Reads a labels file: a JSON array of names in index order. */
export async function loadLabels(file: string): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8');
  if (/\.txt$/i.test(file)) return labelLines(text, file);
  const labels = JSON.parse(text) as unknown;
  if (!isStrings(labels)) throw new Error(`Labels file ${file} is not a JSON array of strings`);
  return labels;
}

/**
 * A text labels file: one class name per line, in class order (as ONNX model zoo's `synset.txt` and
 * torchvision's `imagenet_classes.txt` are). Trailing blank lines are dropped; a blank line between names
 * would shift every class after it, so it is refused.
 */
function labelLines(text: string, file: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]?.trim() === '') lines.pop();
  if (lines.length === 0) throw new Error(`Labels file ${file} has no labels (one class name per line)`);
  const blank = lines.findIndex((l) => l.trim() === '');
  if (blank >= 0) {
    throw new Error(
      `Labels file ${file}: line ${blank + 1} is blank (one class name per line, in class order)`,
    );
  }
  return lines.map((l) => l.trim());
}

async function readDescriptorFile(file: string): Promise<DescriptorFile> {
  return parseDescriptor(await fs.readFile(file, 'utf8'));
}

/** A user's `<model>.json`, with failures as ModelFileErrors naming the file. */
async function readSidecar(file: string): Promise<DescriptorFile> {
  try {
    return await readDescriptorFile(file);
  } catch (err) {
    throw new ModelFileError(`cannot read the model descriptor ${file}: ${(err as Error).message}`);
  }
}

/** Labels given inline, or as a file relative to the descriptor. */
async function labelsOf(labels: string | string[], descriptorFile: string): Promise<string[]> {
  return typeof labels === 'string' ? loadLabels(path.resolve(path.dirname(descriptorFile), labels)) : labels;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
