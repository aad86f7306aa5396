// Activation ranges from calibration images, by percentile: one pass finds each tensor's extremes over all
// images, a second fills a histogram between them, and the range keeps the given share of values, so that
// a few outliers do not stretch the 256 levels over values that almost never occur.

const BINS = 4096;

/** Collects the values tensors take over the calibration images. */
export class RangeCollector {
  private readonly extremes = new Map<string, { min: number; max: number }>();
  private readonly histograms = new Map<
    string,
    { counts: Float64Array; min: number; max: number; n: number }
  >();

  /** First pass: widens each tensor's [min, max]. */
  observeExtremes(tensor: string, data: ArrayLike<number>): void {
    let { min, max } = this.extremes.get(tensor) ?? { min: Infinity, max: -Infinity };
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    this.extremes.set(tensor, { min, max });
  }

  /** Second pass: counts each tensor's values in bins between the extremes of the first pass. */
  observeHistogram(tensor: string, data: ArrayLike<number>): void {
    let h = this.histograms.get(tensor);
    if (!h) {
      const e = this.extremes.get(tensor);
      if (!e) throw new Error(`no extremes were observed for ${tensor}`);
      h = { counts: new Float64Array(BINS), min: e.min, max: e.max, n: 0 };
      this.histograms.set(tensor, h);
    }
    const width = (h.max - h.min) / BINS || 1;
    for (let i = 0; i < data.length; i++) {
      const b = Math.min(BINS - 1, Math.max(0, Math.floor((data[i]! - h.min) / width)));
      h.counts[b]!++;
    }
    h.n += data.length;
  }

  /**
   * Each tensor's range: the values between the (100 − p) and p percentiles, widened to include 0 (a
   * quantized zero must be exact: padding and ReLU produce it).
   */
  ranges(percentile: number): Map<string, [number, number]> {
    const out = new Map<string, [number, number]>();
    for (const [tensor, h] of this.histograms) {
      const width = (h.max - h.min) / BINS;
      const tail = (h.n * (100 - percentile)) / 100;
      let lo = h.min;
      let hi = h.max;
      let seen = 0;
      for (let b = 0; b < BINS; b++) {
        seen += h.counts[b]!;
        if (seen > tail) {
          lo = h.min + b * width;
          break;
        }
      }
      seen = 0;
      for (let b = BINS - 1; b >= 0; b--) {
        seen += h.counts[b]!;
        if (seen > tail) {
          hi = h.min + (b + 1) * width;
          break;
        }
      }
      out.set(tensor, [Math.min(0, lo), Math.max(0, hi)]);
    }
    return out;
  }
}

/** uint8 scale and zero point for a range that contains 0. */
export function uint8Params(lo: number, hi: number): { scale: number; zeroPoint: number } {
  const span = Math.max(hi - lo, 1e-8);
  const scale = span / 255;
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}
