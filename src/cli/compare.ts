// `cli compare [--json] [--runs N] [--no-timing] [--provider P] [--threads N] [--precision P] <model.onnx…>`:
// architectures side by side (depth, parameters, multiply-adds, stages, blocks) and, unless --no-timing,
// milliseconds per image at batch 1 and 8 on this machine (--precision int8: each model's int8 file). Models are
// analysed and timed one after another, each in a worker of its own, so that no two timings share the CPU. The
// stages line up by output resolution (src/shared/stageAlignment.ts), a detector's by part.
import type { ModelTiming } from '../inference/messages';
import { descriptorForModel } from '../files/descriptorFile';
import { compact } from '../shared/format';
import type { LayerTable } from '../shared/layerTable';
import type { Precision } from '../shared/quantization';
import { alignStages, stageOutputStrides, strideLabel } from '../shared/stageAlignment';
import { intFlag, parseArgs, UsageError } from './args';
import { commandIo, type Streams } from './io';
import { newClient, presetFlag, runtimeSettings } from './runtime';

/** Batch sizes timed, as the JSON's `ms.batch1` and `ms.batch8`. */
const BATCHES = [1, 8];

/** One model's row of the comparison (the documented JSON shape). */
export type CompareEntry =
  | {
      file: string;
      family: string;
      /** Weighted layers on the longest path (the table's depth equation's total). */
      depth: number;
      params: number;
      buffers: number;
      macs: number;
      stages: {
        stage: string;
        out_size: (number | string)[] | null;
        /** Input pixels between neighbouring output positions, [height, width]; null past global pooling. */
        output_stride: number[] | null;
        width: number | string | null;
        blocks: number;
        params: number;
        macs: number;
      }[];
      /** Blocks by kind, e.g. { bottleneck: 16 }. */
      blocks: Record<string, number>;
      /** Median ms per image; null without timing, a batch null when the model's input cannot take it. */
      ms: { batch1: number | null; batch8: number | null } | null;
      /** The precision the timings ran at; null without timing. */
      precision: Precision | null;
      error?: undefined;
    }
  | { file: string; error: string };

/** An entry and the side of the input its model was timed at (for the text table). */
interface Compared {
  entry: CompareEntry;
  crop?: number;
}

/** Runs `compare`: 0 when every model was compared, 1 when any failed (its entry says why). */
export async function runCompare(argv: string[], streams: Streams, bundleDir: string): Promise<number> {
  const args = parseArgs(
    argv,
    ['runs', 'provider', 'threads', 'preprocessing', 'precision'],
    ['json', 'no-timing'],
  );
  const io = commandIo(streams, args);
  if (args.positionals.length === 0) throw new UsageError('compare needs at least one model file');
  const runs = intFlag(args, 'runs', 10, 1, 1000);
  const timing = !args.flags.has('no-timing');
  const settings = runtimeSettings(args);
  const preset = presetFlag(args);
  const compared: Compared[] = [];
  // Timing is most of the work: count the images timed (warm-ups too), else the models.
  const perModel = timing ? (runs + 1) * BATCHES.reduce((a, b) => a + b, 0) : 1;
  const models = args.positionals;
  const progress = io.progress('compare', models.length * perModel, timing ? 'images' : 'models');
  try {
    for (const [i, file] of models.entries()) {
      try {
        const descriptor = await descriptorForModel(file, preset, []);
        // No image is classified: the batch size only matters to the classify session, which never starts.
        const client = newClient(bundleDir, { descriptor, ...settings, batchSize: 1 }, io);
        try {
          const table = await client.layers();
          const onProgress = (p: { done: number }): void => progress.update(i * perModel + p.done);
          const timings = timing ? await client.timeModel({ batches: BATCHES, runs, onProgress }) : null;
          compared.push({ entry: entry(file, table, timings), crop: descriptor.preprocessing.crop });
        } finally {
          await client.dispose();
        }
      } catch (err) {
        compared.push({ entry: { file, error: (err as Error).message } });
      }
      progress.update((i + 1) * perModel);
    }
  } finally {
    progress.finish();
  }
  const entries = compared.map((c) => c.entry);
  io.stdout(args.flags.has('json') ? JSON.stringify(entries, null, 2) + '\n' : sideBySide(compared));
  return entries.some((e) => e.error !== undefined) ? 1 : 0;
}

function entry(file: string, t: LayerTable, timings: ModelTiming[] | null): CompareEntry {
  const blocks: Record<string, number> = {};
  for (const b of t.blocks) blocks[b.kind] = (blocks[b.kind] ?? 0) + 1;
  const ms = (batch: number): number | null => {
    const m = timings?.find((x) => x.batch === batch);
    return m ? Math.round(m.msPerImage * 100) / 100 : null;
  };
  const strides = stageOutputStrides(t);
  return {
    file,
    family: t.family,
    depth: t.totals.counted,
    params: t.totals.params,
    buffers: t.totals.buffers,
    macs: t.totals.macs,
    stages: t.stages.map((s) => ({
      stage: s.stage,
      out_size: s.out_size,
      output_stride: strides.get(s.stage) ?? null,
      width: s.width,
      blocks: s.blocks,
      params: s.params,
      macs: s.macs,
    })),
    blocks,
    ms: timings && { batch1: ms(1), batch8: ms(8) },
    precision: timings?.[0]?.precision ?? null,
  };
}

/** The readable form: one column per model, one line per measure, then the stages side by side. */
function sideBySide(compared: Compared[]): string {
  const ok = compared.flatMap((c) => (c.entry.error === undefined ? [{ ...c.entry, crop: c.crop }] : []));
  const lines: string[][] = [];
  if (ok.length > 0) {
    const row = (label: string, cell: (e: (typeof ok)[number]) => string): void => {
      lines.push([label, ...ok.map(cell)]);
    };
    const ms = (v: number | null | undefined): string => (v == null ? '-' : v.toFixed(1));
    row('', (e) => e.file.split(/[\\/]/).pop()!);
    row('family', (e) => e.family);
    row('input', (e) => `${e.crop}×${e.crop}`);
    row('depth', (e) => String(e.depth));
    row('parameters', (e) => compact(e.params));
    row('buffers', (e) => compact(e.buffers));
    row('multiply-adds', (e) => compact(e.macs));
    row('precision', (e) => e.precision ?? '-');
    row('ms/image, batch 1', (e) => ms(e.ms?.batch1));
    row('ms/image, batch 8', (e) => ms(e.ms?.batch8));
    const kinds = [...new Set(ok.flatMap((e) => Object.keys(e.blocks)))];
    for (const kind of kinds) row(`${kind} blocks`, (e) => String(e.blocks[kind] ?? '-'));
    const aligned = alignStages(ok.map((e) => e.stages));
    const byPart = aligned[0]?.by === 'part';
    lines.push([
      byPart
        ? 'stages by part (output, width, blocks; params, mult-adds)'
        : 'stages by output stride (output, width, blocks; params, mult-adds)',
      ...ok.map(() => ''),
    ]);
    for (const line of aligned) {
      const label =
        line.by === 'part' ? line.part : line.by === 'pooled' ? 'pooled' : strideLabel(line.stride);
      lines.push([
        `  ${label}`,
        ...line.cells.map((s) => {
          // A model with no stage at this resolution: a gap.
          if (!s) return '-';
          const size = s.out_size ? s.out_size.join('×') : '?';
          const shape = `${size}, ${s.width ?? '?'}${s.blocks > 0 ? `, ${s.blocks}` : ''}`;
          return `${byPart ? '' : `${s.stage}: `}${shape}; ${compact(s.params)}, ${compact(s.macs)}`;
        }),
      ]);
    }
  }
  const widths = lines.length > 0 ? lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length))) : [];
  const text = lines.map((l) =>
    l
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
  for (const { entry: e } of compared) if (e.error !== undefined) text.push(`${e.file}: error: ${e.error}`);
  return text.join('\n') + '\n';
}
