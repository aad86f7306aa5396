// The CLI's progress line on long runs, `classify  120/1000 images · 14.2 images/s · 1 min 02 s left`,
// redrawn in place on stderr when it is a terminal. Stream, clock and timer are parameters, so that tests
// need no terminal and no waiting.

/** Where the line is drawn (stderr): its width in columns, when known, bounds the line so that it never wraps. */
export interface ProgressStream {
  write: (s: string) => void;
  columns?: () => number | undefined;
}

/** What the line counts, and the clock and timer it uses. */
export interface ProgressOptions {
  /** The line's first word, e.g. the command. */
  label: string;
  total: number;
  /** What is counted, plural: `images`, `runs`. */
  unit: string;
  /** Milliseconds; default `performance.now`. */
  now?: () => number;
  /** Calls `fn` in `ms` and returns its cancel; default a timer that does not keep the process alive. */
  later?: (fn: () => void, ms: number) => () => void;
}

/** What a command reports to as its work finishes; a no-op where no line is drawn. */
export interface Progress {
  /** `done` of the total have finished. */
  update(done: number): void;
  /** Takes the line away, leaving the terminal as it was; later updates are ignored. */
  finish(): void;
}

/** Progress that draws nothing (stderr not a terminal, or --quiet). */
export const NO_PROGRESS: Progress = { update: () => undefined, finish: () => undefined };

/** Least time between two drawings of the line: at most 10 a second. */
export const REDRAW_MS = 100;
/**
 * The rate counts about this much of the recent past, from the first count drawn above 0 on: the time
 * before anything is done is mostly start-up (loading the model), not the pace of the work.
 */
export const RATE_WINDOW_MS = 10_000;
/** No rate, and so no time left, until work has been timed over at least this long. */
export const MIN_RATE_SPAN_MS = 1000;

/** Carriage return and erase the whole line: the cursor is back at its start on an empty line. */
export const CLEAR_LINE = '\r\x1b[2K';

/**
 * Whether to draw progress: only on a terminal that can erase a line (not TERM=dumb), and not with
 * --quiet. Anything else (a pipe, a file, a CI log) would keep every redraw.
 */
export function showsProgress(stderrIsTTY: boolean, term: string | undefined, quiet: boolean): boolean {
  return stderrIsTTY && term !== 'dumb' && !quiet;
}

/** The line's text: count, then the rate and the time left once there is a rate. */
export function progressText(
  label: string,
  unit: string,
  done: number,
  total: number,
  perSecond: number | undefined,
): string {
  const parts = [`${label}  ${done}/${total} ${unit}`];
  if (perSecond !== undefined && perSecond > 0) {
    parts.push(`${formatRate(perSecond)} ${unit}/s`);
    if (done < total) parts.push(`${formatDuration((total - done) / perSecond)} left`);
  }
  return parts.join(' · ');
}

/** Three significant figures at most, one decimal from 1 up: `0.25`, `14.2`, `310`. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 100) return perSecond.toFixed(0);
  if (perSecond >= 1) return perSecond.toFixed(1);
  return perSecond.toPrecision(2);
}

/** Whole seconds, rounded up: `45 s`, `1 min 02 s`, `2 h 05 min`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad2(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${pad2(Math.floor(s / 60) % 60)} min`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** A point on the way: `done` finished at `t`. */
interface Sample {
  t: number;
  done: number;
}

/**
 * One self-rewriting line, drawn when made. Updates are drawn by a timer, at most every REDRAW_MS and never
 * in the update's own turn: a batch's results arrive one after another in one turn, and a line drawn at
 * the first of them would leave the others out of its count and its rate.
 */
export class ProgressLine implements Progress {
  private readonly now: () => number;
  private readonly later: (fn: () => void, ms: number) => () => void;
  private done = 0;
  /** Counts drawn, the rate is measured from: the oldest is at or before the window's start. */
  private readonly samples: Sample[] = [];
  /** The text on the screen; '' when nothing is. */
  private shown = '';
  private lastDraw = Number.NEGATIVE_INFINITY;
  private cancelRedraw: (() => void) | undefined;
  private over = false;

  constructor(
    private readonly out: ProgressStream,
    private readonly opts: ProgressOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.later = opts.later ?? unrefTimer;
    this.draw();
  }

  /** Whether finish() has been called. */
  get finished(): boolean {
    return this.over;
  }

  update(done: number): void {
    if (this.over) return;
    this.done = Math.min(Math.max(done, 0), this.opts.total);
    this.cancelRedraw ??= this.later(
      () => {
        this.cancelRedraw = undefined;
        if (!this.over) this.draw();
      },
      Math.max(0, this.lastDraw + REDRAW_MS - this.now()),
    );
  }

  /** Writes `text` (whole lines) where the line is, and draws the line again below it. */
  above(text: string): void {
    if (this.shown === '') this.out.write(text);
    else this.out.write(CLEAR_LINE + text + this.shown);
  }

  finish(): void {
    if (this.over) return;
    this.over = true;
    this.cancelRedraw?.();
    this.cancelRedraw = undefined;
    if (this.shown !== '') this.out.write(CLEAR_LINE);
    this.shown = '';
  }

  /** Records the count at `t`; items per second over the recent window, undefined until MIN_RATE_SPAN_MS of it. */
  private rate(t: number): number | undefined {
    if (this.done === 0) return undefined;
    this.samples.push({ t, done: this.done });
    // Keep one sample at or before the window's start, as the point the rate is measured from.
    while (this.samples.length > 1 && this.samples[1]!.t <= t - RATE_WINDOW_MS) this.samples.shift();
    const from = this.samples[0]!;
    const span = t - from.t;
    return span >= MIN_RATE_SPAN_MS ? ((this.done - from.done) * 1000) / span : undefined;
  }

  private draw(): void {
    const t = this.now();
    this.lastDraw = t;
    const { label, unit, total } = this.opts;
    const text = fit(progressText(label, unit, this.done, total, this.rate(t)), this.out.columns?.());
    if (text === this.shown) return;
    this.out.write(CLEAR_LINE + text);
    this.shown = text;
  }
}

/** Cut to one short of the terminal's width: a line that reaches the edge wraps, and \r cannot undo that. */
function fit(text: string, columns: number | undefined): string {
  return columns !== undefined && columns > 1 && text.length >= columns ? text.slice(0, columns - 1) : text;
}

function unrefTimer(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return () => clearTimeout(timer);
}
