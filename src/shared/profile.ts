// Where the time goes: onnxruntime's per-kernel profile of a model, attributed to the layer table's rows.
// Plain data (no 'vscode', no Node) so the webview may import it; snake_case keys because this is also the
// CLI's `profile --json` output.
import type { Precision } from './quantization';

/** Measured time of one layer-table row (or a block, or a stage), per run of the batch. */
export interface TimedRow {
  /** The row's name as in `layers` (or the block / stage name). */
  name: string;
  stage: string | null;
  block: string | null;
  /** Median milliseconds per run over the profiled runs. */
  ms: number;
  /** Share of the profiled total (0…1). */
  share: number;
  /** Achieved GFLOP/s: 2 × multiply-adds × batch / time; null when the row has no multiply-adds. */
  gflops: number | null;
  /** Where its kernels ran ('CPUExecutionProvider', 'WebGpuExecutionProvider', …; 'mixed' when several). */
  provider: string;
  /** Set when the session runs on a GPU provider but this row's kernels ran on the CPU. */
  fallback: boolean;
  /** The onnxruntime kernels (fused nodes included) counted for this row. */
  kernels: string[];
}

/** Time spent outside the table's rows: layout conversions onnxruntime inserts, or kernels it could not place. */
export interface UntimedKernel {
  name: string;
  op: string;
  ms: number;
}

/** The convolution a profile's rates are measured against, in words. */
export const REFERENCE_CONV = '3×3 convolution, 256→256 channels on 56×56, batch 1';

/**
 * A row's achieved rate against the reference convolution's: a share below 1, or 'ref' when it matched or
 * beat it; null without a rate or a reference. The reference is one convolution timed on this machine, not
 * the hardware's limit: a layer can run faster, and a share over 100 % would read as "more than the peak".
 */
export function referenceShare(gflops: number | null, reference: number): number | 'ref' | null {
  if (gflops === null || !(reference > 0)) return null;
  const share = gflops / reference;
  return share >= 1 ? 'ref' : share;
}

/** A whole profile. */
export interface Profile {
  model: string;
  /** The session's execution provider. */
  provider: string;
  /** The precision the profiled model ran at. */
  precision: Precision;
  batch: number;
  runs: number;
  /** Median milliseconds per profiled run (the total). */
  ms: number;
  /** Median milliseconds of plain (unprofiled) runs of the same session settings, for comparison. */
  plain_ms: number;
  /**
   * The reference: GFLOP/s of one large convolution (REFERENCE_CONV) timed on this machine and provider,
   * the fastest of a few runs. A yardstick, not the hardware's limit (the key keeps its first name).
   */
  peak_gflops: number;
  rows: TimedRow[];
  blocks: TimedRow[];
  stages: TimedRow[];
  /** Layout conversions and unattributed kernels. */
  other: UntimedKernel[];
}
