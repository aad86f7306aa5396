// Runs a detector or segmenter on one image: the whole image into the input (letterboxed or stretched),
// one `session.run`, every output the task reads decoded into what the model found. Worker-side only.
import type { TaskAnswer, Thresholds } from '../shared/tasks';
import { floatData, imageTensor } from './feed';
import { prepareWhole, wholePreview } from './preprocess';
import { ModelError, type LoadedSession } from './session';
import { decodeDetections, decodeSegmentation, type RawOutput } from './taskDecode';

/** The lowest confidence the panel's slider offers. */
const PANEL_FLOOR = 0.05;
/** The longest side of the image the panel draws boxes on. */
export const PREVIEW_SIDE = 640;

/** One image through a task model; its `ms` leave out the model's loading, which comes before. */
export async function analyseImage(
  s: LoadedSession,
  bytes: Uint8Array,
  thresholds: Thresholds,
  maxPixels: number,
  /** For the panel: the whole image as a JPEG, and every candidate its sliders may show. */
  forPanel = false,
): Promise<TaskAnswer> {
  const d = s.descriptor;
  const task = d.task;
  if (!task) throw new ModelError(`${d.name} is a classifier: classify it instead`);
  const started = performance.now();
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
      : decodeDetections(
          task,
          outputs,
          thresholds,
          prepared.frame,
          d.labels,
          forPanel ? PANEL_FLOOR : undefined,
        );
  const post = performance.now() - t1;
  const preview = forPanel ? await wholePreview(bytes, PREVIEW_SIDE, maxPixels) : undefined;
  return {
    ...found,
    ...(preview && { preview }),
    provider: s.info.provider,
    precision: s.info.precision,
    ms: { decode, run, post, total: performance.now() - started },
    width: prepared.width,
    height: prepared.height,
  };
}
