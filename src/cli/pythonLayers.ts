// `layers --model FILE.py --class NAME`: the layer table of a PyTorch model class, through the Python helper.
import type { Args } from './args';
import { UsageError } from './args';
import { analysePython, type PythonAnalysis, type PythonModelError } from '../python/analysis';
import { defaultPython } from '../python/interpreter';
import type { ConstructorArgs } from '../python/protocol';
import { PythonRunner } from '../python/runner';

/** The flags only Python models take. */
export const PYTHON_FLAGS = ['python', 'class', 'input', 'args'] as const;

// A command-line run waits for big models; the editor sets its own limit.
const CLI_TIME_LIMIT_MS = 600_000;

/** What to analyse, read from the flags; throws UsageError when they do not say it. */
export interface PythonModelArgs {
  python: string;
  file: string;
  className: string;
  input?: number[];
  args?: ConstructorArgs;
}

/** Reads --python, --class, --input and --args for the Python file `file`. */
export function pythonModelArgs(args: Args, file: string): PythonModelArgs {
  const flag = (name: string): string | undefined => {
    const v = args.flags.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  const className = flag('class');
  if (!className) throw new UsageError('a Python model needs --class NAME (the nn.Module subclass to build)');
  const out: PythonModelArgs = { python: flag('python') ?? defaultPython(), file, className };
  const input = flag('input');
  if (input !== undefined) {
    const dims = input.split(',').map(Number);
    if (!dims.every((d) => Number.isInteger(d) && d > 0))
      throw new UsageError(`--input must be positive whole numbers separated by commas, e.g. 1,3,224,224`);
    out.input = dims;
  }
  const json = flag('args');
  if (json !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      throw new UsageError(`--args must be JSON: a list of positional arguments or an object of keywords`);
    }
    if (typeof value !== 'object' || value === null)
      throw new UsageError(`--args must be a JSON list (positional) or object (keywords), e.g. [10]`);
    out.args = value as ConstructorArgs;
  }
  return out;
}

/** Runs the helper once (one process, one request) and returns its analysis. */
export async function analysePythonFile(m: PythonModelArgs, helper: string): Promise<PythonAnalysis> {
  const runner = new PythonRunner({ python: m.python, helper, timeoutMs: CLI_TIME_LIMIT_MS });
  try {
    return await analysePython(runner, {
      file: m.file,
      class: m.className,
      ...(m.input && { input: m.input }),
      ...(m.args && { args: m.args }),
    });
  } finally {
    runner.dispose();
  }
}

/** The error's message, with what to do about a missing interpreter. */
function message(e: PythonModelError): string {
  return e.kind === 'no-python'
    ? `${e.message} (--python or $CNN_LENS_PYTHON choose the interpreter)`
    : e.message;
}

/** The error as `layers --json` prints it: where, what, and the rows that ran before it. */
export function errorJson(a: PythonAnalysis & { error: PythonModelError }): string {
  const e = a.error;
  const out = {
    error: message(e),
    file: e.file,
    line: e.line,
    kind: e.kind,
    module: e.module,
    table: a.table,
  };
  return JSON.stringify(out, null, 2) + '\n';
}

/** The error as one line for stderr: `file:line: message`. */
export function errorLine(e: PythonModelError): string {
  const where = e.file ? `${e.file}${e.line ? `:${e.line}` : ''}: ` : '';
  return `${where}${message(e)}`;
}
