// The options every onnxruntime session of ours starts from, so that the classify, exploration, gradient,
// profiling and peak sessions (and the benchmark's bare one) are made alike.
import type * as Ort from 'onnxruntime-node';
import { threadsFor } from './cpus';

/**
 * The providers to try in order; `threads` intra-op threads (0: every CPU this process may use, see
 * ./cpus: onnxruntime's own default runs one thread on a 2-CPU machine), one inter-op thread, sequential
 * execution, every graph optimisation, warnings and below not logged.
 */
export function sessionOptions(providers: string[], threads: number): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    intraOpNumThreads: threadsFor(threads),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
}
