// Timing a model for comparing architectures: a session of its own (the classify session keeps its
// state and its batch), a fixed input of the descriptor's size, one warm-up run, the median of the rest.
import type { ModelTiming, RunProgress, WorkerConfig } from './messages';
import { createSession, ModelError } from './session';
import { imageTensor } from './feed';

/**
 * Times `runs` runs at each batch size; `cancelled` is asked between runs, `progress` told the images run
 * (warm-ups and skipped batches count).
 */
export async function timeModel(
  cfg: WorkerConfig,
  log: (m: string) => void,
  opts: { batches: number[]; runs: number },
  cancelled: () => boolean,
  progress: (p: RunProgress) => void = () => undefined,
): Promise<ModelTiming[]> {
  if (!opts.batches.every((b) => Number.isInteger(b) && b >= 1 && b <= 256)) {
    throw new ModelError(`batch sizes must be whole numbers 1…256 (got ${opts.batches.join(', ')})`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new ModelError('runs must be at least 1');
  const s = await createSession(cfg, log);
  try {
    const crop = cfg.descriptor.preprocessing.crop;
    const size = 3 * crop * crop;
    const timings: ModelTiming[] = [];
    const total = (opts.runs + 1) * opts.batches.reduce((a, b) => a + b, 0);
    let done = 0;
    for (const batch of opts.batches) {
      if (batch > s.maxBatch) {
        log(`timing: batch ${batch} skipped, the model's input takes a batch of ${s.maxBatch}`);
        done += (opts.runs + 1) * batch;
        progress({ phase: 'runs', done, total });
        continue;
      }
      // Smooth values in the range normalised images have; the same input every time, no randomness.
      const data = Float32Array.from({ length: size * batch }, (_, i) => Math.sin(i * 0.0137));
      const feeds = { [s.input]: imageTensor(s.ort, s.descriptor, data, batch) };
      const ms: number[] = [];
      for (let r = 0; r <= opts.runs; r++) {
        // run() blocks this thread: yield to the message queue so that a cancel can arrive between runs.
        await new Promise((resolve) => setImmediate(resolve));
        if (cancelled()) {
          log(`timing cancelled at batch ${batch} after ${r} of ${opts.runs + 1} runs`);
          // The client has already answered a cancelled request; this error only ends the work.
          throw new Error('cancelled');
        }
        const t = performance.now();
        await s.session.run(feeds);
        if (r > 0) ms.push(performance.now() - t); // run 0 warms up
        done += batch;
        progress({ phase: 'runs', done, total });
      }
      timings.push({ batch, msPerImage: median(ms) / batch, runs: ms.length, precision: s.info.precision });
    }
    return timings;
  } finally {
    await s.session.release();
  }
}

/** The middle value (mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
