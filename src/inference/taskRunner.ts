// Runs a detector or segmenter on one image: the whole image into the input (letterboxed or stretched),
// one `session.run`, every output the task reads decoded into what the model found. Worker-side only.
import type { TaskAnswer, Thresholds } from '../shared/tasks';
import { floatData, imageTensor } from './feed';
import { prepareWhole } from './preprocess';
import { ModelError, type LoadedSession } from './session';
import { decodeDetections, decodeSegmentation, type RawOutput } from './taskDecode';

/** One image through a task model; `started` is when the request arrived (for `ms.total`). */
export async function analyseImage(
  s: LoadedSession,
  bytes: Uint8Array,
  thresholds: Thresholds,
  maxPixels: number,
  started: number,
): Promise<TaskAnswer> {
  const d = s.descriptor;
  const task = d.task;
  if (!task) throw new ModelError(`${d.name} is a classifier: classify it instead`);
  const prepared = await prepareWhole(bytes, d.preprocessing, task.fit, task.pad, maxPixels);
  const decode = performance.now() - started;
  const t = performance.now();
  const out = await s.session.run({ [s.input]: imageTensor(s.ort, d, prepared.tensor, 1) });
  const run = performance.now() - t;
  const t1 = performance.now();
  const outputs: RawOutput[] = task.outputs.map((name) => {
    const tensor = out[name];
    if (!tensor) throw new ModelError(`the model gave no output "${name}"`);
    return { data: floatData(tensor), dims: tensor.dims };
  });
  const found =
    task.head === 'pixels'
      ? decodeSegmentation(outputs[0]!, prepared.frame, d.labels)
      : decodeDetections(task, outputs, thresholds, prepared.frame, d.labels);
  const post = performance.now() - t1;
  return {
    ...found,
    provider: s.info.provider,
    precision: s.info.precision,
    ms: { decode, run, post, total: performance.now() - started },
    width: prepared.width,
    height: prepared.height,
  };
}
