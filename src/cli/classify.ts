// `cli classify [--top K] [--json] [--provider P] … <image|folder…>`
import { round } from '../shared/format';
import { classifyAll, DEFAULT_BATCH, inFlightFor, type Outcome } from '../inference/classifyAll';
import { expandImagePaths, readImageFile } from '../files/imageFiles';
import { intFlag, parseArgs, UsageError } from './args';
import { clientFromArgs, RUNTIME_FLAGS } from './runtime';
import { commandIo, type Streams } from './io';
import { runTasks, TASK_FLAGS } from './tasks';

/** Runs `classify`; exit code 1 when any file failed. */
export async function runClassify(argv: string[], streams: Streams, bundleDir: string): Promise<number> {
  const args = parseArgs(argv, ['top', 'batch', ...RUNTIME_FLAGS, ...TASK_FLAGS], ['json']);
  const io = commandIo(streams, args);
  if (args.positionals.length === 0) throw new UsageError('classify needs at least one image or folder');
  const topK = intFlag(args, 'top', 5, 1, 1000);
  const batchSize = intFlag(args, 'batch', DEFAULT_BATCH, 1, 64);
  const client = await clientFromArgs(args, io, bundleDir, { batchSize });
  try {
    const files = await expandImagePaths(args.positionals);
    if (client.task) return await runTasks(client, files, args, io);
    const progress = io.progress('classify', files.length, 'images');
    let finished = 0;
    let outcomes: Outcome[];
    try {
      outcomes = await classifyAll(
        client,
        files.map((f) => ({ name: f, read: () => readImageFile(f) })),
        { topK, inFlight: inFlightFor(batchSize), onOutcome: () => progress.update(++finished) },
      );
    } finally {
      progress.finish();
    }
    const load = loadOf(outcomes);
    if (load !== undefined) {
      io.info(
        `cnn-lens: model loaded in ${load.toFixed(0)} ms, once before the first image; no image's ms include it\n`,
      );
    }
    io.stdout(
      args.flags.has('json') ? JSON.stringify(outcomes.map(toJson), null, 2) + '\n' : table(outcomes),
    );
    return outcomes.some((o) => o.error !== undefined) ? 1 : 0;
  } finally {
    await client.dispose();
  }
}

/** The model's load the first images waited for, reported once; undefined when it was loaded before. */
function loadOf(outcomes: Outcome[]): number | undefined {
  for (const o of outcomes)
    if (o.error === undefined && o.result.loadMs !== undefined) return o.result.loadMs;
  return undefined;
}

/** The documented JSON shape: `{file, top, provider, precision, ms}` or `{file, error}`. */
function toJson(o: Outcome): object {
  if (o.error !== undefined) return { file: o.name, error: o.error };
  const r = o.result;
  return {
    file: o.name,
    top: r.top.map((p) => ({ index: p.index, label: p.label, probability: round(p.probability, 4) })),
    provider: r.provider,
    precision: r.precision,
    ms: { decode: round(r.ms.decode, 1), run: round(r.ms.run, 1), total: round(r.ms.total, 1) },
  };
}

function table(outcomes: Outcome[]): string {
  const lines: string[] = [];
  for (const o of outcomes) {
    if (o.error !== undefined) {
      lines.push(`${o.name}: error: ${o.error}`);
      continue;
    }
    const r = o.result;
    lines.push(`${o.name}  (${r.provider}, ${r.precision}, ${r.ms.total.toFixed(0)} ms)`);
    for (const p of r.top)
      lines.push(`  ${(p.probability * 100).toFixed(1).padStart(5)}%  ${p.label} [${p.index}]`);
  }
  return lines.join('\n') + '\n';
}
