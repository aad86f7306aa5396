// `cli profile [--json] [--model M] [--provider P] [--batch N] [--runs N] [--precision P]`: where the time
// goes, from onnxruntime's profiler on sessions of the worker's own: rows and stages sorted by time, with
// the profiled total, a plain run's time and this machine's peak.
import { PEAK_CONV } from '../inference/peak';
import { referenceShare } from '../shared/profile';
import type { Profile, TimedRow } from '../shared/profile';
import { intFlag, parseArgs, UsageError } from './args';
import { commandIo, type Streams } from './io';
import { clientFromArgs, RUNTIME_FLAGS } from './runtime';

/** Runs `profile`: 0 on success, 1 when the model fails, 2 on wrong usage (thrown). */
export async function runProfile(argv: string[], streams: Streams, bundleDir: string): Promise<number> {
  const args = parseArgs(argv, ['batch', 'runs', ...RUNTIME_FLAGS], ['json']);
  const io = commandIo(streams, args);
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]!}"`);
  const batch = intFlag(args, 'batch', 1, 1, 256);
  const runs = intFlag(args, 'runs', 10, 1, 1000);
  const client = await clientFromArgs(args, io, bundleDir, { batchSize: batch });
  // The warm-up run counts: its total is runs + 1. Sessions and the peak measurement are not counted.
  const progress = io.progress('profile', runs + 1, 'runs');
  try {
    const profile = await client.profile({ batch, runs, onProgress: (p) => progress.update(p.done) });
    progress.finish();
    io.stdout(args.flags.has('json') ? JSON.stringify(profile, null, 2) + '\n' : whereTheTimeGoes(profile));
    return 0;
  } catch (err) {
    io.stderr(`cnn-lens profile: ${(err as Error).message}\n`);
    return 1;
  } finally {
    progress.finish();
    await client.dispose();
  }
}

/** The readable form: the totals, then stages and layers, each sorted by time. */
export function whereTheTimeGoes(p: Profile): string {
  const overhead = (p.ms / p.plain_ms - 1) * 100;
  const other = p.other.reduce((s, o) => s + o.ms, 0);
  const lines = [
    `${p.model}: ${p.provider}, ${p.precision}, batch ${p.batch}, ${p.runs} runs (medians)`,
    `total ${ms(p.ms)} ms per run profiled; plain run ${ms(p.plain_ms)} ms ` +
      `(profiler ${overhead >= 0 ? '+' : ''}${overhead.toFixed(1)} %)`,
    `reference ${p.peak_gflops.toFixed(0)} GFLOP/s (${PEAK_CONV}, fastest of 10 runs); ` +
      '"of ref": a row\'s GFLOP/s against it, "≥ ref": as fast or faster',
    '',
    'where the time goes, by stage',
    ...table(p.stages, p),
    '',
    'by layer',
    ...table(p.rows, p),
  ];
  if (other > 0) {
    lines.push('', `outside the layers (layout conversions, kernels no layer owns): ${ms(other)} ms`);
    for (const o of p.other) lines.push(`  ${o.name} (${o.op}) ${ms(o.ms)} ms`);
  }
  return lines.join('\n') + '\n';
}

function table(rows: TimedRow[], p: Profile): string[] {
  const sorted = [...rows].sort((a, b) => b.ms - a.ms);
  const cells = [
    ['', 'ms', 'share', 'GFLOP/s', 'of ref', 'provider'],
    ...sorted.map((r) => [
      r.name,
      ms(r.ms),
      `${(r.share * 100).toFixed(1)} %`,
      r.gflops === null ? '-' : r.gflops.toFixed(1),
      refText(referenceShare(r.gflops, p.peak_gflops)),
      r.provider + (r.fallback ? ' (fell back to CPU)' : ''),
    ]),
  ];
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((l) => l[c]!.length)));
  return cells.map((l) =>
    l
      .map((cell, c) => (c === 0 || c === l.length - 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
}

function refText(share: number | 'ref' | null): string {
  return share === null ? '-' : share === 'ref' ? '≥ ref' : `${(share * 100).toFixed(0)} %`;
}

function ms(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
}
