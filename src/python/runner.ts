// A warm Python helper process (python/cnn_lens_torch.py): requests go as JSON lines, one at a time, each
// under a time limit. Cancelling or running out of time interrupts the helper (SIGINT, which it answers as
// 'cancelled' and stays warm, torch imported); one that does not answer within a grace period is killed,
// and the next request starts a fresh process.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { AnalysisRequest, AnalysisResult, RequestLine } from './protocol';

/** Why the runner got no answer: no interpreter, the process died, or the time limit passed. */
export type RunnerErrorKind = 'no-python' | 'crashed' | 'timeout';

/** A request the helper could not answer (cancellation rejects with the signal's reason instead). */
export class RunnerError extends Error {
  constructor(
    message: string,
    readonly kind: RunnerErrorKind,
  ) {
    super(message);
    this.name = 'RunnerError';
  }
}

/** How to start the helper. */
export interface RunnerOptions {
  /** The interpreter: a command on PATH or a path. */
  python: string;
  /** Path of cnn_lens_torch.py. */
  helper: string;
  /** Time limit of one request in ms, including a cold start's `import torch` (default 120 000). */
  timeoutMs?: number;
  /** How long an interrupted request may take to stop before the process is killed, in ms (default 2000). */
  graceMs?: number;
  /** Everything the helper and the user's code write on stderr (prints, warnings), as it comes. */
  onStderr?: (text: string) => void;
}

// Enough of stderr to explain a crash (the end of a traceback).
const STDERR_KEPT = 8192;

interface Live {
  proc: ChildProcessWithoutNullStreams;
  /** Answers by request id. */
  waiting: Map<number, { resolve: (r: AnalysisResult) => void; reject: (e: Error) => void }>;
  stderr: string;
  /** Set once the process has exited or failed to start. */
  ended?: RunnerError;
}

/** One helper process kept warm across requests. */
export class PythonRunner {
  private live: Live | undefined;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: RunnerOptions) {}

  /** Analyses a model class (see AnalysisRequest); rejects with a RunnerError, or the signal's reason. */
  analyse(request: AnalysisRequest, signal?: AbortSignal): Promise<AnalysisResult> {
    return this.enqueue((id) => ({ ...request, id }), signal);
  }

  /** Starts the process if needed and imports torch: warms up, and says whether torch is there (kind 'no-torch'). */
  probe(signal?: AbortSignal): Promise<AnalysisResult> {
    return this.enqueue((id) => ({ id, op: 'probe' }), signal);
  }

  /** Whether a process is running (and holds torch once it has answered). */
  get warm(): boolean {
    return this.live !== undefined && this.live.ended === undefined;
  }

  /** Stops the process; requests still waiting reject. */
  dispose(): void {
    this.kill();
  }

  private enqueue(make: (id: number) => RequestLine, signal?: AbortSignal): Promise<AnalysisResult> {
    const run = this.queue.then(() => this.request(make(this.nextId++), signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async request(line: RequestLine, signal?: AbortSignal): Promise<AnalysisResult> {
    signal?.throwIfAborted();
    const live = this.start();
    const answer = new Promise<AnalysisResult>((resolve, reject) => {
      if (live.ended) reject(live.ended);
      else live.waiting.set(line.id, { resolve, reject });
    });
    live.proc.stdin.write(JSON.stringify(line) + '\n');
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stopped = new Promise<never>((_, reject) => {
      const limit = this.options.timeoutMs ?? 120_000;
      timer = setTimeout(
        () => reject(new RunnerError(`the Python helper took longer than ${limit / 1000} s`, 'timeout')),
        limit,
      );
      onAbort = () => reject(signal?.reason instanceof Error ? signal.reason : new Error('cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([answer, stopped]);
    } catch (err) {
      if (!live.ended) await this.interrupt(live, answer);
      throw err;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      live.waiting.delete(line.id);
    }
  }

  /** Interrupts the request in flight; kills the process unless it answers within the grace period. */
  private async interrupt(live: Live, answer: Promise<AnalysisResult>): Promise<void> {
    // Windows has no SIGINT for a child: there the process is killed.
    if (process.platform === 'win32') return this.kill();
    live.proc.kill('SIGINT');
    let grace: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      answer.then(
        () => true,
        () => false,
      ),
      new Promise<boolean>(
        (resolve) => (grace = setTimeout(() => resolve(false), this.options.graceMs ?? 2000)),
      ),
    ]);
    clearTimeout(grace);
    if (!answered) this.kill();
  }

  private kill(): void {
    const live = this.live;
    this.live = undefined;
    if (!live) return;
    this.end(live, new RunnerError('the Python helper was stopped', 'crashed'));
    live.proc.kill('SIGKILL');
  }

  /** The running process, or a new one. */
  private start(): Live {
    if (this.live && !this.live.ended) return this.live;
    const { python, helper } = this.options;
    const proc = spawn(python, ['-u', helper], {
      stdio: 'pipe',
      // No bytecode caches in the user's folders; UTF-8 whatever the locale.
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8' },
    });
    const live: Live = { proc, waiting: new Map(), stderr: '' };
    this.live = live;
    createInterface({ input: proc.stdout }).on('line', (text) => {
      let result: AnalysisResult;
      try {
        result = JSON.parse(text) as AnalysisResult;
      } catch {
        return; // not an answer: the helper writes nothing else here, but never trust a stray line
      }
      if (result.id !== null) live.waiting.get(result.id)?.resolve(result);
    });
    proc.stderr.setEncoding('utf8').on('data', (text: string) => {
      live.stderr = (live.stderr + text).slice(-STDERR_KEPT);
      this.options.onStderr?.(text);
    });
    proc.stdin.on('error', () => undefined); // a dead process's pipe: reported by 'exit' or 'error'
    proc.on('error', (err: NodeJS.ErrnoException) => {
      const missing = err.code === 'ENOENT' || err.code === 'EACCES';
      const message = missing ? `cannot run Python "${python}": ${err.message}` : err.message;
      this.end(live, new RunnerError(message, missing ? 'no-python' : 'crashed'));
    });
    proc.on('exit', (code, signal) => {
      const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
      const tail = live.stderr.trim() ? `:\n${live.stderr.trim()}` : '';
      this.end(live, new RunnerError(`the Python helper ${how}${tail}`, 'crashed'));
    });
    return live;
  }

  private end(live: Live, err: RunnerError): void {
    if (live.ended) return;
    live.ended = err;
    for (const { reject } of live.waiting.values()) reject(err);
    live.waiting.clear();
    if (this.live === live) this.live = undefined;
  }
}
