// `cli explain [--json] [--method M] [--layer NAME] [--metrics] <image>`: what each layer does with one
// image and where the top classes' evidence lies (CAM, Grad-CAM, HiResCAM, occlusion or Score-CAM, with
// their faithfulness on request), from the worker's exploration session.
import { round } from '../shared/format';
import { InferenceError, type InferenceClient } from '../inference/client';
import { DEFAULT_THRESHOLDS, type LayerMap, type TaskMaps } from '../shared/tasks';
import { readImageFile } from '../files/imageFiles';
import {
  DEFAULT_EXPLAINED_CLASSES,
  EXPLAIN_METHODS,
  type ClassMap,
  type ExplainableLayer,
  type ExplainMethod,
  type Explanation,
  type Exploration,
  type FeatureMaps,
  type MapScores,
} from '../shared/exploration';
import { intFlag, parseArgs, UsageError, type Args } from './args';
import { clientFromArgs, RUNTIME_FLAGS } from './runtime';
import { commandIo, type Io, type Streams } from './io';

/** Channels listed for `--layer`. */
const LAYER_CHANNELS = 16;
// Heat-map characters, from cold to hot, for the readable summary.
const SHADES = ' .:-=+*#%@';

/** What `--layer` names: an explainable layer to explain at, and the row whose feature maps to list. */
interface LayerChoice {
  explain: string | undefined;
  /** Null for features no row outputs (DenseNet's after the pool row's BatchNorm and ReLU). */
  row: string | null;
}

/** Runs `explain`: 0 on success, 1 when the image, model or map fails, 2 on wrong usage (thrown). */
export async function runExplain(argv: string[], streams: Streams, bundleDir: string): Promise<number> {
  const args = parseArgs(
    argv,
    ['method', 'layer', 'classes', 'top', 'patch', 'stride', 'channels', 'batch', 'box', ...RUNTIME_FLAGS],
    ['json', 'metrics'],
  );
  const io = commandIo(streams, args);
  if (args.positionals.length !== 1) throw new UsageError('explain needs exactly one image');
  const file = args.positionals[0]!;
  const layer = args.flags.get('layer');
  if (layer === true) throw new UsageError('--layer needs a layer name');
  const method = methodFlag(args);
  const topK = intFlag(args, 'top', 5, 1, 1000);
  const batchSize = intFlag(args, 'batch', 8, 1, 64);
  const options = {
    method,
    classes: intFlag(args, 'classes', DEFAULT_EXPLAINED_CLASSES, 1, 1000),
    metrics: args.flags.has('metrics'),
    patch: optionalInt(args, 'patch'),
    stride: optionalInt(args, 'stride'),
    channels: optionalInt(args, 'channels'),
  };
  const client = await clientFromArgs(args, io, bundleDir, { batchSize, exploreIdleMs: 0 });
  try {
    let bytes: Uint8Array;
    try {
      bytes = await readImageFile(file);
    } catch (err) {
      io.stderr(`cnn-lens explain: cannot read ${file}: ${(err as Error).message}\n`);
      return 1;
    }
    if (client.task) return await explainTask(client, file, bytes, args, io);
    let result: Exploration;
    let choice: LayerChoice | undefined;
    let explanation: Explanation;
    try {
      result = await client.explore(file, bytes, { topK });
      if (layer !== undefined) {
        const layers = await client.explainableLayers();
        choice = chooseLayer(layer, result, layers);
        if (!choice) {
          const names = [...layers.map((l) => l.layer), ...result.layers.map((l) => l.name)];
          io.stderr(
            `cnn-lens explain: no layer "${layer}"; the stages, blocks and layers are:\n  ${names.join('\n  ')}\n`,
          );
          return 2;
        }
      }
      explanation = await client.explain(result.key, { ...options, layer: choice?.explain });
    } catch (err) {
      if (!(err instanceof InferenceError)) throw err;
      io.stderr(`cnn-lens explain: ${file}: ${err.message}\n`);
      return 1;
    }
    const row = choice?.row;
    const maps = row ? await client.featureMaps(result.key, row, { count: LAYER_CHANNELS }) : undefined;
    io.stdout(
      args.flags.has('json')
        ? JSON.stringify(toJson(file, result, explanation, maps), null, 2) + '\n'
        : summary(file, result, explanation, maps),
    );
    if (explanation.classes.length > 0) return 0;
    io.stderr(`cnn-lens explain: ${file}: no ${method} maps: ${explanation.reason ?? 'unknown reason'}\n`);
    return 1;
  } finally {
    await client.dispose();
  }
}

/**
 * A detector or segmenter: EigenCAM of its backbone's and each neck level's output over the image, the
 * only method that needs no class score. JSON: `{file, task, method, maps: [{layer, stage, block, stride,
 * width, height, peak, grid}]}` (`peak` [column, row] of the map's maximum; `grid` row-major 0…1).
 */
async function explainTask(
  client: InferenceClient,
  file: string,
  bytes: Uint8Array,
  args: Args,
  io: Io,
): Promise<number> {
  const method = args.flags.get('method');
  if (method !== undefined && method !== 'cam') {
    io.stderr(
      `cnn-lens explain: ${file}: detectors and segmenters are explained with EigenCAM (--method cam, the ` +
        `default); ${String(method)} of a box's class score is not in this version\n`,
    );
    return 1;
  }
  let maps: TaskMaps;
  try {
    if (args.flags.has('box'))
      return await explainBox(client, file, bytes, intFlag(args, 'box', 1, 1, 300), args, io);
    maps = await client.taskMaps(file, bytes);
  } catch (err) {
    if (!(err instanceof InferenceError)) throw err;
    io.stderr(`cnn-lens explain: ${file}: ${err.message}\n`);
    return 1;
  }
  const cells = maps.maps.map((m) => ({ m, peak: peakOf(m) }));
  if (args.flags.has('json')) {
    const json = {
      file,
      task: client.task!.kind,
      method: maps.method,
      maps: cells.map(({ m, peak }) => ({
        layer: m.layer,
        stage: m.stage,
        block: m.block,
        ...mapJson(m, peak),
      })),
    };
    io.stdout(JSON.stringify(json, null, 2) + '\n');
    return 0;
  }
  const lines = [
    `${file}  (${client.task!.kind}: EigenCAM, the activations' first principal component, 0…1)`,
  ];
  for (const { m, peak } of cells) {
    const where = m.block ?? m.stage;
    lines.push(
      '',
      `${m.layer}  (${where}, stride ${m.stride ?? '?'}, ${m.width}×${m.height}; peak at column ${peak[0]}, row ${peak[1]})`,
    );
    if (m.width <= 48) lines.push(...heatMap(Array.from(m.data), m.height, m.width));
  }
  io.stdout(lines.join('\n') + '\n');
  return 0;
}

/**
 * Grad-CAM of detection `n` (1 = the best, at the default thresholds): `{file, task, method: 'Grad-CAM',
 * detection: {index, label, score, box, stride}, map: {layer, target, stride, width, height, peak, grid}}`.
 */
async function explainBox(
  client: InferenceClient,
  file: string,
  bytes: Uint8Array,
  n: number,
  args: Args,
  io: Io,
): Promise<number> {
  const found = await client.analyse(file, new Uint8Array(bytes), DEFAULT_THRESHOLDS); // a copy: requests take their buffer
  const d = found.task === 'segment' ? undefined : found.detections[n - 1];
  if (!d || d.anchor === undefined) {
    const count = found.task === 'segment' ? 0 : found.detections.length;
    io.stderr(
      `cnn-lens explain: ${file}: --box ${n}, but the model found ${count} boxes above ${DEFAULT_THRESHOLDS.confidence}\n`,
    );
    return 1;
  }
  const m = await client.boxMap(file, bytes, { anchor: d.anchor, index: d.index });
  const peak = peakOf(m);
  if (args.flags.has('json')) {
    const json = {
      file,
      task: found.task,
      method: 'Grad-CAM',
      detection: {
        index: d.index,
        label: d.label,
        score: round(d.score, 4),
        box: d.box.map((v) => round(v, 1)),
        stride: d.stride,
      },
      map: { layer: m.layer, target: m.target, ...mapJson(m, peak) },
    };
    io.stdout(JSON.stringify(json, null, 2) + '\n');
    return 0;
  }
  const box = d.box.map((v) => v.toFixed(0)).join(', ');
  io.stdout(
    [
      `${file}  (box ${n}: ${d.label} ${(d.score * 100).toFixed(1)}%, box ${box}; Grad-CAM of its class logit at ${m.target})`,
      `${m.layer}  (stride ${m.stride ?? '?'}, ${m.width}×${m.height}; peak at column ${peak[0]}, row ${peak[1]})`,
      ...(m.width <= 48 ? heatMap(Array.from(m.data), m.height, m.width) : []),
    ].join('\n') + '\n',
  );
  return 0;
}

/** A map's size, peak and values as the JSON answers carry them. */
function mapJson(m: LayerMap, peak: [number, number]): object {
  const grid = Array.from(m.data, (v) => round(v, 3));
  return { stride: m.stride, width: m.width, height: m.height, peak, grid };
}

/** [column, row] of a map's maximum. */
function peakOf(m: LayerMap): [number, number] {
  let best = 0;
  m.data.forEach((v, i) => {
    if (v > m.data[best]!) best = i;
  });
  return [best % m.width, Math.floor(best / m.width)];
}

function methodFlag(args: Args): ExplainMethod {
  const method = args.flags.get('method') ?? 'cam';
  if (!EXPLAIN_METHODS.includes(method as ExplainMethod)) {
    throw new UsageError(`--method must be one of ${EXPLAIN_METHODS.join(', ')}`);
  }
  return method as ExplainMethod;
}

function optionalInt(args: Args, name: string): number | undefined {
  return args.flags.has(name) ? intFlag(args, name, 0, 1, 100_000) : undefined;
}

/**
 * An explainable layer is explained at and lists the feature maps of the row whose output it is; another row
 * of the layer table lists its own and leaves the maps at the method's default layer. Undefined when nothing
 * has that name.
 */
function chooseLayer(name: string, r: Exploration, layers: ExplainableLayer[]): LayerChoice | undefined {
  const stage = layers.find((l) => l.layer === name);
  if (stage) return { explain: stage.layer, row: stage.row };
  return r.layers.some((l) => l.name === name) ? { explain: undefined, row: name } : undefined;
}

/**
 * The documented JSON shape: `{file, top, layers, cam, cam_method[, cam_reason][, feature_maps]}`; each
 * `cam` entry is `{index, label, grid, layer, method[, metrics]}`.
 */
function toJson(file: string, r: Exploration, e: Explanation, maps: FeatureMaps | undefined): object {
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
    cam: e.classes.map((c) => ({
      index: c.index,
      label: c.label,
      grid: c.grid.map((v) => round(v, 4)),
      layer: e.layer,
      method: e.method,
      ...(c.metrics && { metrics: { ...scores(c.metrics), random: scores(c.metrics.random) } }),
    })),
    cam_method: e.classes.length > 0 ? e.method : null,
    ...(e.reason !== null && { cam_reason: e.reason }),
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

/** A map's four faithfulness figures (the curves stay out of the JSON). */
function scores(m: MapScores): object {
  return {
    deletion_auc: round(m.deletion_auc, 4),
    insertion_auc: round(m.insertion_auc, 4),
    average_drop: round(m.average_drop, 2),
    increase_in_confidence: m.increase_in_confidence,
  };
}

/** Names a method for the summary. */
const TITLES: Record<Explanation['method'], string> = {
  cam: 'class activation maps',
  eigencam: 'EigenCAM (class-agnostic)',
  gradcam: 'Grad-CAM',
  hirescam: 'HiResCAM',
  occlusion: 'occlusion sensitivity',
  scorecam: 'Score-CAM',
};

function summary(file: string, r: Exploration, e: Explanation, maps: FeatureMaps | undefined): string {
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
  lines.push('', ...explanationLines(e));
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

/** The text report of an explanation: what the maps are, where each peaks, its faithfulness in words. */
export function explanationLines(e: Explanation): string[] {
  const first = e.classes[0];
  if (!first) return [`no ${TITLES[e.method]}: ${e.reason ?? 'unknown reason'}`];
  const where =
    e.layer === null
      ? `${e.patch}-pixel patches every ${e.stride} pixels`
      : `${e.layer}${e.channels ? `, ${e.channels} channels` : ''}`;
  const lines = [
    ...(e.method === 'eigencam' ? [`no class activation maps: ${e.reason ?? 'unknown reason'}`] : []),
    `${TITLES[e.method]} over ${where} (${e.rows}×${e.cols} cells of the ${e.crop}² crop)`,
  ];
  for (const c of e.classes) {
    const name = c.index >= 0 ? `${c.label} [${c.index}]` : c.label;
    lines.push(`  ${name}: peak at row ${peak(c, e.cols).join(', col ')}`);
    if (c.metrics) {
      const m = c.metrics;
      lines.push(
        `    deletion AUC ${m.deletion_auc.toFixed(3)} (random ${m.random.deletion_auc.toFixed(3)}, lower is better), ` +
          `insertion AUC ${m.insertion_auc.toFixed(3)} (random ${m.random.insertion_auc.toFixed(3)}, higher is better), ` +
          `average drop ${m.average_drop.toFixed(1)}% (random ${m.random.average_drop.toFixed(1)}%), ` +
          `increase in confidence ${m.increase_in_confidence * 100}% of 1 image (random ${m.random.increase_in_confidence * 100}%)`,
      );
      if (m.deletion_auc >= m.random.deletion_auc)
        lines.push(
          '    the random map wins at deletion: taking out random pixels lowers the probability faster than ' +
            'taking out the pixels this map ranks highest (scattered deletions break the object up early); ' +
            'read insertion beside it',
        );
    }
  }
  lines.push('', `${first.label}:`, ...heatMap(first.grid, e.rows, e.cols));
  return lines;
}

/** [row, col] of a map's highest cell. */
function peak(m: ClassMap, cols: number): [number, number] {
  let best = 0;
  m.grid.forEach((v, i) => {
    if (v > m.grid[best]!) best = i;
  });
  return [Math.floor(best / cols), best % cols];
}

function heatMap(grid: readonly number[], rows: number, cols: number): string[] {
  const out: string[] = [];
  for (let y = 0; y < rows; y++) {
    const cells = grid.slice(y * cols, (y + 1) * cols);
    out.push(
      '  ' +
        cells
          .map((v) => SHADES[Math.min(SHADES.length - 1, Math.floor(v * SHADES.length))]!.repeat(2))
          .join(''),
    );
  }
  return out;
}

// Activations span many magnitudes; five significant digits keep small means readable.
function sig(v: number): number {
  return Number(v.toPrecision(5));
}
