// How many images the worker decodes at once, sized together with onnxruntime's threads (every CPU by
// default): enough decodes that the next batch is ready before the run in progress ends, and no more, since
// each decode beyond that takes a core from the run it was meant to hide behind. Each decode is one libvips
// thread (the worker sets sharp.concurrency(1)), so a slot is a core.

/** Weight of the newest measurement in the running means. */
const ALPHA = 0.25;
/** Decode this much faster than the runs consume images, so that a slow file does not stall a batch. */
const MARGIN = 1.5;

/** Counts decode slots and learns from the decodes and runs it is told about how many it needs. */
export class DecodePacer {
  private decodeMs: number | undefined;
  private runMsPerImage: number | undefined;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  /** `cpus`: the most decodes at once, and how many there are before anything is measured. */
  constructor(private readonly cpus: number) {}

  /** Records one image's decode (ms of wall time). */
  decoded(ms: number): void {
    this.decodeMs = mean(this.decodeMs, ms);
  }

  /** Records one run of `images` images (ms of wall time). */
  ran(ms: number, images: number): void {
    this.runMsPerImage = mean(this.runMsPerImage, ms / Math.max(1, images));
    this.admit();
  }

  /**
   * Decodes allowed at once: every CPU until a decode and a run are measured, then as many as keep the
   * decoding ahead of the runs by {@link MARGIN} (one decode per slot; a run's images are decoded while the
   * previous run goes on), at least one, at most every CPU.
   */
  get slots(): number {
    if (this.decodeMs === undefined || this.runMsPerImage === undefined) return this.cpus;
    const needed = Math.ceil((MARGIN * this.decodeMs) / Math.max(this.runMsPerImage, 1e-3));
    return Math.min(this.cpus, Math.max(1, needed));
  }

  /** Waits for a free slot; call {@link release} when the decode is done, failed or not. */
  acquire(): Promise<void> {
    if (this.active < this.slots) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    this.active--;
    this.admit();
  }

  private admit(): void {
    while (this.waiting.length > 0 && this.active < this.slots) {
      this.active++;
      this.waiting.shift()!();
    }
  }
}

function mean(previous: number | undefined, sample: number): number {
  return previous === undefined ? sample : previous + ALPHA * (sample - previous);
}
