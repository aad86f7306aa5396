// `cli explain [--json] [--layer NAME] [--provider P] <image>`: what each layer does with one image and
// where the top classes' evidence lies (class activation maps), from the worker's exploration session.
import { InferenceError } from '../inference/client';
import { readImageFile } from '../model/imageFiles';
import type { ClassMap, Exploration, FeatureMaps } from '../shared/exploration';
import { intFlag, parseArgs, UsageError } from './args';
import { clientFromArgs, RUNTIME_FLAGS } from './runtime';
import type { Io } from './io';

/** Channels listed for `--layer`. */
const LAYER_CHANNELS = 16;
// Heat-map characters, from cold to hot, for the readable summary.
const SHADES = ' .:-=+*#%@';

/** Runs `explain`: 0 on success, 1 when the image or model fails, 2 on wrong usage (thrown). */
export async function runExplain(argv: string[], io: Io, bundleDir: string): Promise<number> {
  const args = parseArgs(argv, ['layer', 'top', ...RUNTIME_FLAGS], ['json']);
  if (args.positionals.length !== 1) throw new UsageError('explain needs exactly one image');
  const file = args.positionals[0]!;
  const layer = args.flags.get('layer');
  if (layer === true) throw new UsageError('--layer needs a layer name');
  const topK = intFlag(args, 'top', 5, 1, 1000);
  const client = await clientFromArgs(args, io, bundleDir, { batchSize: 1, exploreIdleMs: 0 });
  try {
    let bytes: Uint8Array;
    try {
      bytes = await readImageFile(file);
    } catch (err) {
      io.stderr(`cnn-lens explain: cannot read ${file}: ${(err as Error).message}\n`);
      return 1;
    }
    let result: Exploration;
    try {
      result = await client.explore(file, bytes, { topK });
    } catch (err) {
      if (!(err instanceof InferenceError)) throw err;
      io.stderr(`cnn-lens explain: ${file}: ${err.message}\n`);
      return 1;
    }
    if (layer !== undefined && !result.layers.some((l) => l.name === layer)) {
      io.stderr(
        `cnn-lens explain: no layer "${layer}"; the layers are:\n  ${result.layers.map((l) => l.name).join('\n  ')}\n`,
      );
      return 2;
    }
    const maps =
      layer === undefined
        ? undefined
        : await client.featureMaps(result.key, layer, { count: LAYER_CHANNELS });
    io.stdout(
      args.flags.has('json')
        ? JSON.stringify(toJson(file, result, maps), null, 2) + '\n'
        : summary(file, result, maps),
    );
    return 0;
  } finally {
    await client.dispose();
  }
}

/** The documented JSON shape: `{file, top, layers, cam, cam_method[, feature_maps]}`. */
function toJson(file: string, r: Exploration, maps: FeatureMaps | undefined): object {
  return {
    file,
    top: r.top.map((p) => ({ index: p.index, label: p.label, probability: round(p.probability, 4) })),
    layers: r.layers.map((l) => ({
      name: l.name,
      out_shape: l.out_shape,
      mean: sig(l.mean),
      max: sig(l.max),
      zero_fraction: round(l.zero_fraction, 4),
    })),
    cam: (r.cam?.classes ?? []).map((c) => ({
      index: c.index,
      label: c.label,
      grid: c.grid.map((v) => round(v, 4)),
    })),
    cam_method: r.cam?.method ?? null,
    ...(maps && {
      feature_maps: {
        layer: maps.layer,
        out_shape: maps.out_shape,
        channels: maps.maps.map((m) => ({
          channel: m.channel,
          mean: sig(m.mean),
          min: sig(m.min),
          max: sig(m.max),
        })),
      },
    }),
  };
}

function summary(file: string, r: Exploration, maps: FeatureMaps | undefined): string {
  const lines = [`${file}  (${r.provider}, ${r.precision}, ${r.ms.total.toFixed(0)} ms)`, '', 'top classes'];
  for (const p of r.top)
    lines.push(`  ${(p.probability * 100).toFixed(1).padStart(5)}%  ${p.label} [${p.index}]`);
  lines.push(
    '',
    `${'layer'.padEnd(24)} ${'output'.padEnd(16)} ${'mean'.padStart(8)} ${'max'.padStart(8)}  zeros`,
  );
  for (const l of r.layers) {
    lines.push(
      `${l.name.padEnd(24)} ${l.out_shape.slice(1).join('×').padEnd(16)} ${l.mean.toFixed(3).padStart(8)} ` +
        `${l.max.toFixed(2).padStart(8)}  ${(l.zero_fraction * 100).toFixed(0).padStart(3)}%`,
    );
  }
  if (r.cam?.method === 'cam') {
    const c = r.cam;
    lines.push(
      '',
      `class activation maps over ${c.layer} (${c.rows}×${c.cols} cells of the ${c.crop}² crop)`,
    );
    for (const m of c.classes)
      lines.push(`  ${m.label} [${m.index}]: peak at row ${peak(m, c.cols).join(', col ')}`);
    lines.push('', `${c.classes[0]!.label}:`, ...heatMap(c.classes[0]!, c.rows, c.cols));
  } else if (r.cam) {
    const c = r.cam;
    const map = c.classes[0]!;
    lines.push(
      '',
      `no class activation maps: ${r.cam_reason ?? 'unknown reason'}`,
      `EigenCAM over ${c.layer} instead (class-agnostic; ${c.rows}×${c.cols} cells of the ${c.crop}² crop): ` +
        `peak at row ${peak(map, c.cols).join(', col ')}`,
      ...heatMap(map, c.rows, c.cols),
    );
  } else lines.push('', `no class activation maps: ${r.cam_reason ?? 'unknown reason'}`);
  if (maps) {
    lines.push(
      '',
      `${maps.layer}: strongest ${maps.maps.length} of ${maps.channels} channels (${maps.height}×${maps.width})`,
    );
    for (const m of maps.maps) {
      lines.push(
        `  channel ${String(m.channel).padStart(4)}  mean ${m.mean.toFixed(3)}  min ${m.min.toFixed(3)}  max ${m.max.toFixed(3)}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

/** [row, col] of a map's highest cell. */
function peak(m: ClassMap, cols: number): [number, number] {
  let best = 0;
  m.grid.forEach((v, i) => {
    if (v > m.grid[best]!) best = i;
  });
  return [Math.floor(best / cols), best % cols];
}

function heatMap(m: ClassMap, rows: number, cols: number): string[] {
  const out: string[] = [];
  for (let y = 0; y < rows; y++) {
    const cells = m.grid.slice(y * cols, (y + 1) * cols);
    out.push(
      '  ' +
        cells
          .map((v) => SHADES[Math.min(SHADES.length - 1, Math.floor(v * SHADES.length))]!.repeat(2))
          .join(''),
    );
  }
  return out;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

// Activations span many magnitudes; five significant digits keep small means readable.
function sig(v: number): number {
  return Number(v.toPrecision(5));
}
