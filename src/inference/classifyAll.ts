// Classifies (or analyses, for detectors and segmenters) many files through one client with bounded memory: per-file errors, order kept, cancellable.
// The same at both precisions, for agreement between fp32 and int8 over a folder.
import { setMaxListeners } from 'node:events';
import type { PrecisionPair } from '../shared/quantization';
import type { TaskAnswer, Thresholds } from '../shared/tasks';
import type { InferenceClient } from './client';
import type { Classification } from './messages';

/** One input: a display name and how to read its bytes. */
export interface ImageSource {
  name: string;
  read: () => Promise<Uint8Array>;
}

/** The outcome for one input: a classification (or a pair of them), or the reason it failed. */
export type Outcome<T = Classification> =
  | { name: string; result: T; error?: undefined }
  | { name: string; result?: undefined; error: string };

/** Options for {@link classifyAll} and {@link comparePrecisionsAll}. */
export interface ClassifyAllOptions<T = Classification> {
  topK: number;
  /** Also return the crop the model saw, as a JPEG. */
  preview?: boolean;
  /** Files read and queued at once; enough to keep the worker's next batch decoding. */
  inFlight: number;
  signal?: AbortSignal;
  onOutcome?: (o: Outcome<T>, index: number) => void;
}

/**
 * Most images per run when several are queued (setting cnnLens.batchSize, CLI --batch). Measured with
 * `npm run bench:peer` on 2 CPUs (a folder of 1 MP JPEGs, three quiet runs): batches 1 to 16 lie within about
 * 6 % of each other and the fastest changed from run to run (4, 2, 16), 4 at most 6 % behind it; a smaller
 * batch starts and ends the pipeline sooner and holds less memory.
 */
export const DEFAULT_BATCH = 4;

/**
 * Images to keep queued in the worker for batches of `batch`: three batches. The worker's `session.run`
 * blocks its thread, so only images whose decode was handed to sharp before a run starts decode while it
 * runs; with three batches queued the next two are always there, and the one after the next gets its decode
 * started between runs. With two, every other batch's decode waited for the run before it to end.
 */
export function inFlightFor(batch: number): number {
  return 3 * batch;
}

/** Classifies `sources`; a cancelled run returns the outcomes that finished (others are absent). */
export function classifyAll(
  client: InferenceClient,
  sources: readonly ImageSource[],
  opts: ClassifyAllOptions,
): Promise<Outcome[]> {
  return eachImage(sources, opts, (name, bytes) => client.classify(name, bytes, opts));
}

/**
 * Classifies `sources` at fp32 and int8 (client.comparePrecisions); `agreement` in src/shared/quantization
 * turns the results into the folder's report. A cancelled run returns the outcomes that finished.
 */
export function comparePrecisionsAll(
  client: InferenceClient,
  sources: readonly ImageSource[],
  opts: ClassifyAllOptions<PrecisionPair>,
): Promise<Outcome<PrecisionPair>[]> {
  return eachImage(sources, opts, (name, bytes) => client.comparePrecisions(name, bytes, opts));
}

/** How many images are in flight, the cancel signal, and who hears of each outcome. */
export type EachImageOptions<T> = Pick<ClassifyAllOptions<T>, 'inFlight' | 'signal' | 'onOutcome'>;

/**
 * Runs a detector or segmenter (client.analyse) on `sources` with the given thresholds; a cancelled run
 * returns the outcomes that finished.
 */
export function analyseAll(
  client: InferenceClient,
  sources: readonly ImageSource[],
  thresholds: Thresholds,
  opts: EachImageOptions<TaskAnswer> & { preview?: boolean },
): Promise<Outcome<TaskAnswer>[]> {
  return eachImage(sources, opts, (name, bytes) => client.analyse(name, bytes, thresholds, opts));
}

/** Reads and sends `inFlight` sources at a time, in order, each failure its own outcome. */
async function eachImage<T>(
  sources: readonly ImageSource[],
  opts: EachImageOptions<T>,
  request: (name: string, bytes: Uint8Array) => Promise<T>,
): Promise<Outcome<T>[]> {
  const outcomes: Outcome<T>[] = new Array(sources.length);
  // Each request in flight listens to the signal until it settles.
  if (opts.signal) setMaxListeners(Math.max(10, opts.inFlight + 1), opts.signal);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let source = sources[next]; source && !opts.signal?.aborted; source = sources[next]) {
      const i = next++;
      const { name, read } = source;
      let outcome: Outcome<T>;
      try {
        const bytes = await read();
        outcome = { name, result: await request(name, bytes) };
      } catch (err) {
        if (opts.signal?.aborted) return;
        outcome = { name, error: describeReadError(err as NodeJS.ErrnoException) };
      }
      outcomes[i] = outcome;
      opts.onOutcome?.(outcome, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.inFlight) }, lane));
  return outcomes.filter((o) => o !== undefined);
}

/** File-system errors in words; other errors keep their (already specific) message. */
function describeReadError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'the file does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied: the file cannot be read';
    case 'EISDIR':
      return 'it is a folder, not an image file';
    case 'ELOOP':
      return 'the path is a symbolic link loop';
    default:
      return err.message;
  }
}
