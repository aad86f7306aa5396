// What fp32 and int8 runs of one model say about each other: per-layer error for one image, and agreement
// over a set of images. Plain data and pure functions (no 'vscode', no Node) so the webview may import
// them; multi-word keys are snake_case because this is also the CLI's JSON output format.
import type { ClassScore } from './exploration';

/** Numeric precision of a model run: the float model, or its int8 (QDQ) quantization. */
export type Precision = 'fp32' | 'int8';

export const PRECISIONS: readonly Precision[] = ['fp32', 'int8'];

/** SQNR drop from the previous main-path row beyond which a row is marked as where the error jumps. */
export const JUMP_DB = 6;

/** fp32 against int8 at one layer-table row's output, for one image. */
export interface QuantizedRow {
  /** The row's name as in `layers` (both models' tables name their rows alike). */
  name: string;
  /** 10·log10(Σx² / Σ(x−y)²) over the row's output, x fp32 and y int8; null when identical or not compared. */
  sqnr_db: number | null;
  /** Cosine of the two outputs as vectors; null when not compared. */
  cosine: number | null;
  /** SQNR fell by more than JUMP_DB from the previous main-path row (shortcuts are not on the main path). */
  jump: boolean;
  /** Which model has no output for this row (nothing was compared); absent when both have it. */
  missing?: Precision;
}

/** The quantization error of one image, row by row, and both precisions' top classes. */
export interface QuantizationReport {
  rows: QuantizedRow[];
  top_fp32: ClassScore[];
  top_int8: ClassScore[];
  /** Both runs use the CPU provider: QDQ graphs are what the CPU runs fast, and GPU rounding would blur the error. */
  provider: string;
  /**
   * One run of each exploration model (every row's output exposed, the first maybe cold): what the
   * comparison cost, not either precision's speed, so the panel does not show them as timings.
   */
  ms: { fp32: number; int8: number; total: number };
}

/** One image classified at both precisions. */
export interface PrecisionPair {
  name: string;
  fp32: ClassScore[];
  int8: ClassScore[];
  /** int8's probability of fp32's top-1 class, when known exactly (it may lie outside int8's top-K). */
  int8_p_of_fp32_top1?: number;
}

/** An image whose top-1 class differs between the precisions. */
export interface ChangedImage {
  name: string;
  fp32: ClassScore;
  int8: ClassScore;
}

/** How far int8 follows fp32 over a set of images. */
export interface AgreementReport {
  /** Images classified at both precisions. */
  images: number;
  /** Share of them (0…1) with the same top-1 class; null for no images. */
  top1_agreement: number | null;
  /** Mean |p_fp32 − p_int8| of fp32's top-1 class; null for no images. */
  mean_abs_dp: number | null;
  /**
   * Images where fp32's top-1 class was outside int8's top-K list and no exact value came with the pair:
   * counted with int8 probability 0, which makes mean_abs_dp an upper bound.
   */
  dp_bounded: number;
  changed: ChangedImage[];
}

/** A named top-K list, as `classify --json` writes them and classifyAll's outcomes carry them. */
export interface NamedTop {
  name: string;
  top: ClassScore[];
}

/**
 * Fewest images an agreement is given as a rate over: below it one image that changes class moves the rate
 * by more than 5 points, and "100 % (1 of 1)" says nothing. Fewer are shown as a count with a note.
 */
export const MIN_AGREEMENT_IMAGES = 20;

/** Whether a report's images are too few to give its agreement as a rate (none: nothing to give). */
export function tooFewForAgreement(a: Pick<AgreementReport, 'images'>): boolean {
  return a.images > 0 && a.images < MIN_AGREEMENT_IMAGES;
}

/** Pairs two lists of classifications by image name; names on one side only are left out. */
export function pairClassifications(fp32: readonly NamedTop[], int8: readonly NamedTop[]): PrecisionPair[] {
  const other = new Map(int8.map((c) => [c.name, c.top]));
  return fp32.flatMap((c) => {
    const top = other.get(c.name);
    return top && c.top.length > 0 && top.length > 0 ? [{ name: c.name, fp32: c.top, int8: top }] : [];
  });
}

/** Top-1 agreement, mean |Δp| of fp32's top-1 class, and the images that changed class. */
export function agreement(pairs: readonly PrecisionPair[]): AgreementReport {
  let agree = 0;
  let dp = 0;
  let bounded = 0;
  const changed: ChangedImage[] = [];
  for (const p of pairs) {
    const a = p.fp32[0]!;
    const b = p.int8[0]!;
    if (a.index === b.index) agree++;
    else changed.push({ name: p.name, fp32: a, int8: b });
    let q = p.int8_p_of_fp32_top1 ?? p.int8.find((c) => c.index === a.index)?.probability;
    if (q === undefined) {
      bounded++;
      q = 0;
    }
    dp += Math.abs(a.probability - q);
  }
  const n = pairs.length;
  return {
    images: n,
    top1_agreement: n > 0 ? agree / n : null,
    mean_abs_dp: n > 0 ? dp / n : null,
    dp_bounded: bounded,
    changed,
  };
}

/** SQNR in dB of `y` as an approximation of `x`; null when they are equal (no error to measure). */
export function sqnrDb(x: ArrayLike<number>, y: ArrayLike<number>): number | null {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < x.length; i++) {
    signal += x[i]! * x[i]!;
    noise += (x[i]! - y[i]!) ** 2;
  }
  if (noise === 0) return null;
  // An all-zero reference against a non-zero copy has no signal at all: as bad as it gets.
  return signal === 0 ? -Infinity : 10 * Math.log10(signal / noise);
}

/** Cosine of two vectors; 1 when both are all zeros, 0 when only one is. */
export function cosine(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let dot = 0;
  let nx = 0;
  let ny = 0;
  for (let i = 0; i < x.length; i++) {
    dot += x[i]! * y[i]!;
    nx += x[i]! * x[i]!;
    ny += y[i]! * y[i]!;
  }
  if (nx === 0 && ny === 0) return 1;
  return nx === 0 || ny === 0 ? 0 : dot / Math.sqrt(nx * ny);
}

/** Where a quantization job is: the two calibration passes, writing the model, the held-out check. */
export interface QuantizeProgress {
  phase: 'ranges' | 'histograms' | 'writing' | 'evaluating';
  /** Images (or steps) done of `total` in this phase. */
  done: number;
  total: number;
}

/** What quantizing a model with a set of images produced. */
export interface QuantizeReport {
  /** The int8 model written (absolute path). */
  out: string;
  /** Images whose activation ranges set the int8 scales, and the share of values each range keeps. */
  calibration: { images: string[]; percentile: number };
  /** Images kept out of calibration: the agreement below is measured on them. */
  held_out: string[];
  /** Images that could not be decoded, and why. */
  skipped: { name: string; reason: string }[];
  /** Nodes left in float, and how many run in int8. */
  float_nodes: string[];
  quantized_nodes: number;
  /** fp32 against the new int8 model on the held-out images. */
  agreement: AgreementReport;
  /** Milliseconds from the request to the report. */
  ms: number;
}
