// The CLI's progress line: its text for given counts and times, throttling, the terminal left clean, the
// decision to draw it (a terminal, not --quiet), and the built CLI with stderr not a terminal.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseArgs } from '../../src/cli/args';
import { commandIo, type Streams } from '../../src/cli/io';
import {
  CLEAR_LINE,
  formatDuration,
  formatRate,
  NO_PROGRESS,
  ProgressLine,
  progressText,
  showsProgress,
} from '../../src/cli/progress';
import { CLI, IMAGES, ROOT } from './helpers/paths';
import { cli } from './helpers/cli';

/** A clock the test moves, and timers that fire only when it does. */
class FakeTime {
  t = 0;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];

  readonly now = (): number => this.t;

  readonly later = (fn: () => void, ms: number): (() => void) => {
    const timer = { at: this.t + ms, fn, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  };

  /** Timers not yet fired nor cancelled. */
  get pending(): number {
    return this.timers.filter((x) => x.live).length;
  }

  /** Moves the clock to `t`, firing the timers due by then in order. */
  advance(t: number): void {
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= t).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.t = Math.max(this.t, due.at);
      due.live = false;
      due.fn();
    }
    this.t = t;
  }
}

/** A ProgressLine on a fake clock, with everything it writes. */
function line(total: number, columns?: number): { time: FakeTime; writes: string[]; line: ProgressLine } {
  const time = new FakeTime();
  const writes: string[] = [];
  const out = { write: (s: string) => void writes.push(s), ...(columns && { columns: () => columns }) };
  return {
    time,
    writes,
    line: new ProgressLine(out, {
      label: 'classify',
      total,
      unit: 'images',
      now: time.now,
      later: time.later,
    }),
  };
}

/** What a terminal shows after `output`: the line only uses \r, \n and erase-line. */
function screen(output: string): string[] {
  const rows = [''];
  let col = 0;
  for (let i = 0; i < output.length; ) {
    const row = rows.length - 1;
    if (output.startsWith('\x1b[2K', i)) {
      rows[row] = '';
      i += 4;
      continue;
    }
    const c = output[i++]!;
    if (c === '\r') col = 0;
    else if (c === '\n') {
      rows.push('');
      col = 0;
    } else {
      const r = rows[row]!.padEnd(col);
      rows[row] = r.slice(0, col) + c + r.slice(col + 1);
      col++;
    }
  }
  return rows;
}

test('the text: count, then rate and time left once there is a rate', () => {
  assert.equal(
    progressText('classify', 'images', 120, 1000, 14.2),
    'classify  120/1000 images · 14.2 images/s · 1 min 02 s left',
  );
  assert.equal(progressText('classify', 'images', 0, 1000, undefined), 'classify  0/1000 images');
  // A stall (nothing done over the window) has no rate to divide by.
  assert.equal(progressText('profile', 'runs', 5, 11, 0), 'profile  5/11 runs');
  assert.equal(progressText('profile', 'runs', 11, 11, 3.5), 'profile  11/11 runs · 3.5 runs/s');
  assert.deepEqual([0.2, 45, 59.5, 60, 62, 3599, 3600, 3900].map(formatDuration), [
    '1 s',
    '45 s',
    '1 min 00 s',
    '1 min 00 s',
    '1 min 02 s',
    '59 min 59 s',
    '1 h 00 min',
    '1 h 05 min',
  ]);
  assert.deepEqual([0.25, 0.0123, 1, 14.24, 99.96, 310.4].map(formatRate), [
    '0.25',
    '0.012',
    '1.0',
    '14.2',
    '100.0',
    '310',
  ]);
});

test('drawn when made; updates drawn by a timer, at most every 100 ms, with the latest count', () => {
  const { time, writes, line: p } = line(1000);
  assert.deepEqual(writes, [CLEAR_LINE + 'classify  0/1000 images']);
  time.advance(1000);
  p.update(1);
  p.update(8);
  assert.equal(writes.length, 1, 'never drawn in the update’s own turn');
  time.advance(1000);
  assert.deepEqual(writes.slice(1), [CLEAR_LINE + 'classify  8/1000 images']);
  // Twenty updates in the next 100 ms: one timer, one drawing, at 1100.
  for (let i = 1; i <= 20; i++) {
    time.advance(1000 + i * 4);
    p.update(8 + i);
  }
  assert.equal(time.pending, 1);
  assert.equal(writes.length, 2);
  time.advance(1099);
  assert.equal(writes.length, 2);
  time.advance(1100);
  assert.deepEqual(writes.slice(2), [CLEAR_LINE + 'classify  28/1000 images']);
  // The same text again is not written again.
  p.update(28);
  time.advance(1300);
  assert.equal(writes.length, 3);
});

test('the rate: from the first count above 0 (start-up left out), over the last 10 s, then the time left', () => {
  const { time, writes, line: p } = line(1000);
  const at = (t: number, done: number): string => {
    time.advance(t);
    p.update(done);
    time.advance(t);
    return writes.at(-1)!.slice(CLEAR_LINE.length);
  };
  // 5 s of loading the model, then 10 images a second.
  assert.equal(at(5000, 10), 'classify  10/1000 images');
  assert.equal(at(5500, 15), 'classify  15/1000 images', 'no rate before 1 s of work');
  assert.equal(at(6000, 20), 'classify  20/1000 images · 10.0 images/s · 1 min 38 s left');
  assert.equal(at(15_000, 110), 'classify  110/1000 images · 10.0 images/s · 1 min 29 s left');
  // 100 images in the next second: measured from 6 s, 10 s back, (210 - 20) / 10.
  assert.equal(at(16_000, 210), 'classify  210/1000 images · 19.0 images/s · 42 s left');
  // From 16 s on, the window holds the fast part only: (800 - 210) / 10.
  assert.equal(at(26_000, 800), 'classify  800/1000 images · 59.0 images/s · 4 s left');
  assert.equal(at(27_000, 1000), 'classify  1000/1000 images · 71.8 images/s');
});

test('messages go above the line, which is drawn again; finish leaves the terminal clean', () => {
  const { time, writes, line: p } = line(3);
  p.above('cnn-lens: a provider was skipped\n');
  p.update(1);
  time.advance(200);
  p.above('cnn-lens: another line\n');
  p.update(2);
  p.finish();
  time.advance(1000);
  p.update(3);
  p.above('after\n');
  p.finish();
  assert.equal(time.pending, 0, 'the pending drawing is cancelled');
  assert.deepEqual(writes, [
    CLEAR_LINE + 'classify  0/3 images',
    CLEAR_LINE + 'cnn-lens: a provider was skipped\n' + 'classify  0/3 images',
    CLEAR_LINE + 'classify  1/3 images',
    CLEAR_LINE + 'cnn-lens: another line\n' + 'classify  1/3 images',
    CLEAR_LINE,
    'after\n',
  ]);
  assert.deepEqual(screen(writes.join('')), [
    'cnn-lens: a provider was skipped',
    'cnn-lens: another line',
    'after',
    '',
  ]);
  assert.ok(p.finished);
});

test('a line as wide as the terminal is cut short of its edge (a wrapped line cannot be redrawn)', () => {
  const { writes } = line(1000, 12);
  assert.deepEqual(writes, [CLEAR_LINE + 'classify  0']);
});

test('drawn only on a terminal that can erase a line, and not with --quiet', () => {
  assert.equal(showsProgress(true, 'xterm-256color', false), true);
  assert.equal(showsProgress(true, undefined, false), true);
  assert.equal(showsProgress(false, 'xterm-256color', false), false);
  assert.equal(showsProgress(true, 'xterm-256color', true), false);
  assert.equal(showsProgress(true, 'dumb', false), false);
});

test('--quiet is taken by every command and takes no value', () => {
  assert.ok(parseArgs(['--quiet', 'a.png'], ['top'], ['json']).flags.has('quiet'));
  assert.ok(parseArgs(['--quiet'], [], []).flags.has('quiet'));
  assert.throws(() => parseArgs(['--quiet=yes'], [], []), /unknown option --quiet/);
  assert.deepEqual(parseArgs(['--', '--quiet'], [], []).positionals, ['--quiet']);
});

/** Streams that collect, on a terminal 80 columns wide or not on one. */
function collect(terminal: boolean): Streams & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (s) => void out.push(s),
    stderr: (s) => void err.push(s),
    ...(terminal && { terminal: { columns: () => 80, term: 'xterm' } }),
  };
}

test('a command’s Io on a terminal: progress on stderr, errors above it, cleared before the results', () => {
  const streams = collect(true);
  const io = commandIo(streams, parseArgs(['x.png'], [], []));
  const progress = io.progress('classify', 3, 'images');
  assert.notEqual(progress, NO_PROGRESS);
  progress.update(1);
  io.info('cnn-lens: information\n');
  io.stderr('cnn-lens: x.png: an error\n');
  io.stdout('the table\n');
  assert.deepEqual(streams.out, ['the table\n']);
  assert.deepEqual(screen(streams.err.join('')), ['cnn-lens: information', 'cnn-lens: x.png: an error', '']);
  assert.match(streams.err[0]!, /classify {2}0\/3 images/);
});

test('a command’s Io with --quiet, or without a terminal: no progress; --quiet keeps errors only', () => {
  for (const [terminal, argv] of [
    [true, ['--quiet']],
    [false, ['--quiet']],
    [false, []],
  ] as const) {
    const streams = collect(terminal);
    const io = commandIo(streams, parseArgs(argv, [], []));
    const progress = io.progress('classify', 3, 'images');
    assert.equal(progress, NO_PROGRESS);
    progress.update(2);
    progress.finish();
    io.info('cnn-lens: information\n');
    io.stderr('cnn-lens: an error\n');
    io.stdout('the table\n');
    assert.deepEqual(streams.out, ['the table\n']);
    const quiet = argv.length > 0;
    assert.deepEqual(streams.err, [...(quiet ? [] : ['cnn-lens: information\n']), 'cnn-lens: an error\n']);
  }
});

/** stderr without a trace of a progress line: no carriage return, no escape, no count. */
function assertNoProgress(stderr: string): void {
  assert.ok(!stderr.includes('\r') && !stderr.includes('\x1b'), JSON.stringify(stderr));
  assert.doesNotMatch(stderr, /\d+\/\d+ (images|runs|models)/);
}

test('the CLI with stderr not a terminal: no progress; --quiet leaves stdout as it was and stderr empty', async () => {
  const plain = await cli('classify', '--json', IMAGES);
  const quiet = await cli('classify', '--json', '--quiet', IMAGES);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(quiet.code, 0, quiet.stderr);
  assertNoProgress(plain.stderr);
  assert.equal(quiet.stderr, '');
  // Only the timings differ from run to run.
  const untimed = (s: string): string => s.replace(/"(decode|run|total)": [\d.]+/g, '"$1": 0');
  assert.equal(untimed(quiet.stdout), untimed(plain.stdout));
  assert.equal((JSON.parse(plain.stdout) as unknown[]).length, 3);

  const model = path.join(ROOT, 'models', 'resnet50.onnx');
  const compared = await cli('compare', '--json', '--no-timing', model);
  const comparedQuietly = await cli('compare', '--json', '--no-timing', '--quiet', model);
  assert.equal(compared.code, 0, compared.stderr);
  assertNoProgress(compared.stderr);
  assert.equal(comparedQuietly.stdout, compared.stdout, 'byte for byte');
  assert.equal(comparedQuietly.stderr, '');
});

test('--quiet keeps errors on stderr', async () => {
  const missing = path.join(IMAGES, 'no-such-image.png');
  const { code, stdout, stderr } = await cli('explain', '--quiet', missing);
  assert.equal(code, 1);
  assert.equal(stdout, '');
  assert.match(stderr, /^cnn-lens explain: cannot read .*no-such-image\.png/);
});

test('a reader that stops early (| head) ends the CLI quietly with exit code 0', async () => {
  const child = spawn('node', [CLI, 'layers', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // The reader goes away before the first line, as `| head -c 0` does: every write finds the pipe closed.
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Error/);
});
