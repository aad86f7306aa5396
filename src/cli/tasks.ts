// `cli classify` on a detector or segmenter: what the model found in each image, answered by task.
import { round } from '../shared/format';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { analyseAll, type Outcome } from '../inference/classifyAll';
import type { InferenceClient } from '../inference/client';
import { readImageFile } from '../files/imageFiles';
import { DEFAULT_THRESHOLDS, type ClassMap, type TaskAnswer, type Thresholds } from '../shared/tasks';
import { fractionFlag, UsageError, type Args } from './args';
import type { Io } from './io';

/** Flags only task models take. */
export const TASK_FLAGS = ['conf', 'iou', 'masks'] as const;

/** Runs the task model over `files`; exit code 1 when any failed. */
export async function runTasks(
  client: InferenceClient,
  files: string[],
  args: Args,
  io: Io,
): Promise<number> {
  const thresholds: Thresholds = {
    ...DEFAULT_THRESHOLDS,
    confidence: fractionFlag(args, 'conf', DEFAULT_THRESHOLDS.confidence),
    iou: fractionFlag(args, 'iou', DEFAULT_THRESHOLDS.iou),
  };
  const masks = args.flags.get('masks');
  if (masks === true) throw new UsageError('--masks needs a folder');
  const progress = io.progress('classify', files.length, 'images');
  let finished = 0;
  let outcomes: Outcome<TaskAnswer>[];
  try {
    outcomes = await analyseAll(
      client,
      files.map((f) => ({ name: f, read: () => readImageFile(f) })),
      thresholds,
      { inFlight: 2, onOutcome: () => progress.update(++finished) },
    );
  } finally {
    progress.finish();
  }
  if (masks !== undefined) {
    await fs.mkdir(masks, { recursive: true });
    for (const o of outcomes) {
      const map = o.result && 'map' in o.result ? o.result.map : undefined;
      if (o.result && map) await writeMap(map, o.result, path.join(masks, maskName(o.name)));
    }
  }
  io.stdout(args.flags.has('json') ? JSON.stringify(outcomes.map(toJson), null, 2) + '\n' : table(outcomes));
  return outcomes.some((o) => o.error !== undefined) ? 1 : 0;
}

/** `photo.jpg` → `photo.png` (the class map of a segmenter, the instance map of an instance segmenter). */
function maskName(file: string): string {
  return path.basename(file).replace(/\.[^.]+$/, '') + '.png';
}

/** A class map as a one-channel PNG at the image's size: class index (or detection + 1) per pixel. */
async function writeMap(
  map: ClassMap,
  image: { width: number; height: number },
  file: string,
): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sharp = require('sharp') as typeof import('sharp');
  await sharp(map.data, { raw: { width: map.width, height: map.height, channels: 1 } })
    .resize(image.width, image.height, { kernel: 'nearest', fit: 'fill' })
    .toColourspace('b-w')
    .png()
    .toFile(file);
}

/** The documented JSON: by task, boxes in the image's pixels, best first; or `{file, error}`. */
function toJson(o: Outcome<TaskAnswer>): object {
  if (o.error !== undefined) return { file: o.name, error: o.error };
  const r = o.result;
  const common = {
    file: o.name,
    task: r.task,
    provider: r.provider,
    precision: r.precision,
    ms: {
      decode: round(r.ms.decode, 1),
      run: round(r.ms.run, 1),
      post: round(r.ms.post, 2),
      total: round(r.ms.total, 1),
    },
  };
  if (r.task === 'segment') {
    return { ...common, classes: r.classes.map((c) => ({ ...c, fraction: round(c.fraction, 4) })) };
  }
  return {
    ...common,
    candidates: r.candidates,
    detections: r.detections.map((d) => ({
      index: d.index,
      label: d.label,
      score: round(d.score, 4),
      box: d.box.map((v) => round(v, 1)),
      ...(d.stride !== undefined && { stride: d.stride }),
      ...(d.maskPixels !== undefined && { mask_pixels: d.maskPixels }),
      ...(d.keypoints && {
        keypoints: d.keypoints.map(([x, y, v]) => [round(x, 1), round(y, 1), round(v, 3)]),
      }),
    })),
  };
}

function table(outcomes: Outcome<TaskAnswer>[]): string {
  const lines: string[] = [];
  for (const o of outcomes) {
    if (o.error !== undefined) {
      lines.push(`${o.name}: error: ${o.error}`);
      continue;
    }
    const r = o.result;
    lines.push(`${o.name}  (${r.task}, ${r.provider}, ${r.precision}, ${r.ms.total.toFixed(0)} ms)`);
    if (r.task === 'segment') {
      for (const c of r.classes)
        lines.push(`  ${(c.fraction * 100).toFixed(1).padStart(5)}%  ${c.label} [${c.index}]`);
      continue;
    }
    if (r.detections.length === 0) lines.push(`  no detections above ${r.thresholds.confidence}`);
    for (const d of r.detections) {
      const box = d.box.map((v) => v.toFixed(0)).join(', ');
      lines.push(`  ${(d.score * 100).toFixed(1).padStart(5)}%  ${d.label} [${d.index}]  box ${box}`);
    }
  }
  return lines.join('\n') + '\n';
}
