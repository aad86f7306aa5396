// Where the time goes: onnxruntime's profiler on a session of its own (the classify session is untouched),
// beside runs of an identical unprofiled session, so that the profiler's own cost shows, and this
// machine's peak rate (./peak) as the yardstick for each row's GFLOP/s. Both sessions are created for the
// request and released after it.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ModelDescriptor } from '../model/descriptor';
import { attribute, parseTrace, type Trace } from '../model/profile';
import type { Profile } from '../shared/profile';
import type { Precision } from '../shared/quantization';
import type { RunProgress, WorkerConfig } from './messages';
import type { ModelAnalysis } from './modelAnalysis';
import { createSession, ModelError, type LoadedSession } from './session';
import { median } from './timing';
import { imageTensor } from './feed';

/** What profiling takes from the worker: its tables, and its cached peak measurements. */
export interface ProfileDeps {
  analysis: (d: ModelDescriptor) => Promise<ModelAnalysis>;
  peak: (provider: string, precision: Precision) => Promise<number>;
}

/**
 * `runs` profiled runs at `batch` after one warm-up run, attributed to the table's rows; `progress` is told
 * the runs done (the warm-up counts).
 */
export async function profileModel(
  cfg: WorkerConfig,
  log: (m: string) => void,
  opts: { batch: number; runs: number },
  cancelled: () => boolean,
  deps: ProfileDeps,
  progress: (p: RunProgress) => void = () => undefined,
): Promise<Profile> {
  if (!Number.isInteger(opts.batch) || opts.batch < 1 || opts.batch > 256) {
    throw new ModelError(`the batch must be a whole number 1…256 (got ${opts.batch})`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1 || opts.runs > 1000) {
    throw new ModelError(`runs must be a whole number 1…1000 (got ${opts.runs})`);
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cnn-lens-profile-'));
  // Two sessions alike but for the profiler, run in turn so that load from elsewhere hits both alike.
  // Neither spins while idle: a spinning one would slow the other (and the classify session).
  const quiet = { intra_op: { allow_spinning: '0' } };
  const sessions: LoadedSession[] = [];
  try {
    const plain = await createSession(cfg, log, { options: { extra: { session: quiet } } });
    sessions.push(plain);
    const profiled = await createSession(cfg, log, {
      options: {
        extra: { session: quiet },
        enableProfiling: true,
        profileFilePrefix: path.join(dir, 'profile'),
      },
    });
    sessions.push(profiled);
    const plainMs = median(await alternateRuns(plain, profiled, opts, cancelled, progress));
    profiled.session.endProfiling();
    const files = await fs.readdir(dir);
    if (files.length !== 1) throw new Error(`onnxruntime wrote ${files.length} profile files (expected 1)`);
    // GPU providers' warm-up runs are in the trace too: only the last `runs` runs are the measured ones.
    const trace = lastRuns(
      parseTrace(JSON.parse(await fs.readFile(path.join(dir, files[0]!), 'utf8'))),
      opts.runs,
    );
    const { provider, precision } = profiled.info;
    const [analysis, peak] = await Promise.all([
      deps.analysis(profiled.descriptor),
      deps.peak(provider, precision),
    ]);
    return attribute(trace, analysis.table, analysis.graph, {
      model: profiled.descriptor.name,
      provider,
      precision,
      batch: opts.batch,
      plainMs,
      peakGflops: peak,
    });
  } finally {
    await Promise.all(sessions.map((s) => s.session.release()));
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * One warm-up run of each, then `runs` runs of each in turn on a fixed input; returns the plain session's
 * times (the profiled one's are in its trace). `cancelled` is asked between runs.
 */
async function alternateRuns(
  plain: LoadedSession,
  profiled: LoadedSession,
  opts: { batch: number; runs: number },
  cancelled: () => boolean,
  progress: (p: RunProgress) => void,
): Promise<number[]> {
  if (opts.batch > plain.maxBatch) {
    throw new ModelError(
      `the model's input takes a batch of ${plain.maxBatch}; cannot profile batch ${opts.batch}`,
    );
  }
  const crop = plain.descriptor.preprocessing.crop;
  // Smooth values in the range normalised images have; the same input every time, no randomness.
  const data = Float32Array.from({ length: 3 * crop * crop * opts.batch }, (_, i) => Math.sin(i * 0.0137));
  const input = imageTensor(plain.ort, plain.descriptor, data, opts.batch);
  const ms: number[] = [];
  for (let r = 0; r <= opts.runs; r++) {
    // run() blocks this thread: yield to the message queue so that a cancel can arrive between runs.
    await new Promise((resolve) => setImmediate(resolve));
    // The client has already answered a cancelled request; this error only ends the work.
    if (cancelled()) throw new Error('cancelled');
    const t = performance.now();
    await plain.session.run({ [plain.input]: input });
    if (r > 0) ms.push(performance.now() - t); // run 0 warms up
    await profiled.session.run({ [profiled.input]: input });
    progress({ phase: 'runs', done: r + 1, total: opts.runs + 1 });
  }
  return ms;
}

/** The trace of its last `n` runs, renumbered from 0. */
function lastRuns(trace: Trace, n: number): Trace {
  const first = Math.max(0, trace.runs.length - n);
  return {
    runs: trace.runs.slice(first),
    events: trace.events.filter((e) => e.run >= first).map((e) => ({ ...e, run: e.run - first })),
  };
}
