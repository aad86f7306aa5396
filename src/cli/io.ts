// Where a CLI command writes: results on stdout, everything else on stderr, where a progress line may be
// drawn. stdout is the same with or without progress and --quiet.
import type { Args } from './args';
import { NO_PROGRESS, ProgressLine, showsProgress, type Progress } from './progress';

/** The streams a command is given: the process's, or a test's collectors. */
export interface Streams {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Set when stderr is a terminal, the only place progress is drawn: its width (it may change) and TERM. */
  terminal?: { columns: () => number | undefined; term: string | undefined };
}

/** What a command writes through. */
export interface Io {
  /** Results: tables and JSON. */
  stdout: (s: string) => void;
  /** Errors and warnings: always written. */
  stderr: (s: string) => void;
  /** Informational lines (phases, providers skipped): left out with --quiet. */
  info: (s: string) => void;
  /** Starts a progress line over `total` `unit`, ending any before it; drawn on a terminal only, not --quiet. */
  progress: (label: string, total: number, unit: string) => Progress;
}

/** The Io of a command run with `args` (--quiet) on `streams`. */
export function commandIo(streams: Streams, args: Args): Io {
  const quiet = args.flags.has('quiet');
  const terminal = streams.terminal;
  const drawn = showsProgress(terminal !== undefined, terminal?.term, quiet);
  let line: ProgressLine | undefined;
  // While a line is drawn, other stderr output goes above it.
  const stderr = (s: string): void => {
    if (line && !line.finished) line.above(s);
    else streams.stderr(s);
  };
  return {
    // Results come after the work: a line still drawn would sit in front of them on a terminal.
    stdout: (s) => {
      line?.finish();
      streams.stdout(s);
    },
    stderr,
    info: quiet ? () => undefined : stderr,
    progress: (label, total, unit) => {
      line?.finish();
      if (!drawn || !terminal) return NO_PROGRESS;
      line = new ProgressLine({ write: streams.stderr, columns: terminal.columns }, { label, total, unit });
      return line;
    },
  };
}
