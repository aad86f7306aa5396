// Where an analysis error goes in the editor: a diagnostic at its line in the user's files, a one-time
// message about the interpreter, or nothing (a cancelled run). Pure: no 'vscode'.
import type { PythonModelError } from '../../python/analysis';

/** A diagnostic to show: 0-based line of `file`. */
export interface ErrorSite {
  file: string;
  line: number;
  message: string;
  /** 'error' for a model that fails; 'information' for a building block analysed on its own that needs
   *  arguments nobody asked for. */
  severity: 'error' | 'information';
}

/** What an error means for the editor. */
export type ErrorOutcome =
  | { kind: 'diagnostic'; site: ErrorSite }
  /** The interpreter cannot run the helper at all: say once what to install or set, never per file. */
  | { kind: 'interpreter'; message: string }
  | { kind: 'none' };

/**
 * The outcome of `error` for the class defined at `model.line` (0-based) of `model.file`. Errors without a
 * line (time limit, a crashed helper) go on the class line. A class that needs constructor arguments gets
 * an Error only when someone asked for it (the command, its CodeLens, a `# cnn-lens:` comment); analysed on
 * its own because it is in the file (a residual block inside the model) it gets an Information.
 */
export function errorOutcome(
  error: PythonModelError,
  model: { file: string; line: number; asked: boolean },
): ErrorOutcome {
  switch (error.kind) {
    case 'cancelled':
      return { kind: 'none' };
    case 'no-torch':
    case 'no-python':
      return { kind: 'interpreter', message: error.message };
    default: {
      const at = error.file !== null && error.line !== null;
      const message =
        error.kind === 'forward' && error.module ? `${error.message} (in ${error.module})` : error.message;
      const severity = error.kind === 'arguments' && !model.asked ? 'information' : 'error';
      return {
        kind: 'diagnostic',
        site: {
          file: at ? error.file! : model.file,
          line: at ? error.line! - 1 : model.line,
          message: `${messagePrefix(error.kind)}${message}`,
          severity,
        },
      };
    }
  }
}

function messagePrefix(kind: PythonModelError['kind']): string {
  switch (kind) {
    case 'timeout':
      return 'CNN Lens stopped the analysis: ';
    case 'crashed':
    case 'internal':
      return 'CNN Lens could not analyse the model: ';
    default:
      return '';
  }
}

/** The span a diagnostic underlines on a line: its text without the indentation and trailing spaces. */
export function lineSpan(text: string): { start: number; end: number } {
  const start = text.length - text.trimStart().length;
  const end = text.trimEnd().length;
  return end > start ? { start, end } : { start: 0, end: text.length };
}
