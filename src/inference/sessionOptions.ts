// The options every onnxruntime session of ours starts from, so that the classify, exploration, gradient,
// profiling and peak sessions (and the benchmark's bare one) are made alike.
import type * as Ort from 'onnxruntime-node';

/**
 * The providers to try in order; `threads` intra-op threads (0: onnxruntime's default), one inter-op
 * thread, sequential execution, every graph optimisation, warnings and below not logged.
 */
export function sessionOptions(providers: string[], threads: number): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
}
