// Background analyses as the editor asks for them: requests within the debounce window go together, a new
// request cancels the batch in flight (its unfinished models join the new batch), models run one at a time.
// Pure: no 'vscode', so the tests drive it with a fake analysis.

/** Runs keyed by a string (a model's file and class); `run` must reject or settle promptly on abort. */
export interface LiveRunsOptions<K> {
  key(item: K): string;
  run(item: K, signal: AbortSignal): Promise<void>;
  /** Wait after the last request before starting, in ms. */
  debounceMs: number;
  /** A run that failed other than by cancellation. */
  onError?(item: K, err: unknown): void;
}

/** A debounced, cancelling queue of analyses. */
export class LiveRuns<K> {
  private pending = new Map<string, K>();
  private timer: NodeJS.Timeout | undefined;
  private current: { abort: AbortController; remaining: Map<string, K> } | undefined;
  private done: Promise<void> = Promise.resolve();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: LiveRunsOptions<K>) {}

  /** Asks for `items` to be analysed after the debounce window; cancels the batch in flight. */
  request(items: readonly K[]): void {
    for (const item of items) this.pending.set(this.options.key(item), item);
    if (this.pending.size === 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.start(), this.options.debounceMs);
  }

  /**
   * Cancels the batch in flight at once, so that no run of it reports (e.g. the interpreter changed under
   * it), and asks for its unfinished items and `items` again after the debounce window.
   */
  restart(items: readonly K[]): void {
    const previous = this.current;
    previous?.abort.abort(new Error('restarted'));
    this.request([...items, ...(previous?.remaining.values() ?? [])]);
  }

  /** Whether `item` waits or runs. */
  busy(item: K): boolean {
    const key = this.options.key(item);
    return this.pending.has(key) || (this.current?.remaining.has(key) ?? false);
  }

  /** Settles once nothing waits or runs. */
  idle(): Promise<void> {
    if (!this.timer && !this.current && this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels everything; nothing runs afterwards. */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    this.current?.abort.abort(new Error('cancelled'));
    this.notifyIdle();
  }

  private start(): void {
    this.timer = undefined;
    const previous = this.current;
    if (previous) {
      previous.abort.abort(new Error('edited again'));
      for (const [k, item] of previous.remaining) if (!this.pending.has(k)) this.pending.set(k, item);
    }
    const batch = { abort: new AbortController(), remaining: this.pending };
    this.pending = new Map();
    this.current = batch;
    // Each batch starts once the cancelled one has stopped: one model at a time.
    this.done = this.done.then(() => this.runBatch(batch));
  }

  private async runBatch(batch: { abort: AbortController; remaining: Map<string, K> }): Promise<void> {
    for (const [k, item] of [...batch.remaining]) {
      if (batch.abort.signal.aborted) break;
      try {
        await this.options.run(item, batch.abort.signal);
      } catch (err) {
        if (!batch.abort.signal.aborted) this.options.onError?.(item, err);
      }
      if (!batch.abort.signal.aborted) batch.remaining.delete(k);
    }
    if (this.current === batch) {
      this.current = undefined;
      this.notifyIdle();
    }
  }

  private notifyIdle(): void {
    if (this.timer || this.current || this.pending.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
