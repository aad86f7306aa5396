// The worker's on-demand sessions (exploration, precision pairs, gradients) are let go after a while
// without requests: this counts the work in flight and calls `release` once none has been for `ms`.

/** How long an on-demand session stays after its last request, unless the worker configuration says. */
const DEFAULT_IDLE_MS = 120_000;

/** Calls `release` when no work has run for `ms` (0 or less: never); `busy` marks work in flight. */
export class IdleRelease {
  private timer: NodeJS.Timeout | undefined;
  private active = 0;

  constructor(
    private readonly ms: number | undefined,
    private readonly release: () => void,
  ) {}

  /** Runs `work` with the timer off; the timer starts again when the last work in flight ends. */
  async busy<T>(work: () => Promise<T>): Promise<T> {
    this.cancel();
    this.active++;
    try {
      return await work();
    } finally {
      if (--this.active === 0) this.arm();
    }
  }

  /** Stops the timer (the session is being released anyway). */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const ms = this.ms ?? DEFAULT_IDLE_MS;
    if (ms <= 0) return;
    this.timer = setTimeout(this.release, ms);
    this.timer.unref();
  }
}

/** Runs jobs one after another, whether the one before succeeded or failed. */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const next = this.tail.then(job, job);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
