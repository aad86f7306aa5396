// Classifies many files through one client with bounded memory: per-file errors, order kept, cancellable.
import { setMaxListeners } from 'node:events';
import type { InferenceClient } from './client';
import type { Classification } from './messages';

/** One input: a display name and how to read its bytes. */
export interface ImageSource {
  name: string;
  read: () => Promise<Uint8Array>;
}

/** The outcome for one input: a classification, or the reason it failed. */
export type Outcome =
  | { name: string; result: Classification; error?: undefined }
  | { name: string; result?: undefined; error: string };

/** Options for {@link classifyAll}. */
export interface ClassifyAllOptions {
  topK: number;
  /** Also return the crop the model saw, as a JPEG. */
  preview?: boolean;
  /** Files read and queued at once; enough to keep the worker's next batch decoding. */
  inFlight: number;
  signal?: AbortSignal;
  onOutcome?: (o: Outcome, index: number) => void;
}

/** Classifies `sources`; a cancelled run returns the outcomes that finished (others are absent). */
export async function classifyAll(
  client: InferenceClient,
  sources: readonly ImageSource[],
  opts: ClassifyAllOptions,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(sources.length);
  // Each request in flight listens to the signal until it settles.
  if (opts.signal) setMaxListeners(Math.max(10, opts.inFlight + 1), opts.signal);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < sources.length && !opts.signal?.aborted) {
      const i = next++;
      const { name, read } = sources[i];
      let outcome: Outcome;
      try {
        const bytes = await read();
        outcome = { name, result: await client.classify(name, bytes, opts) };
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
