// Benchmark, not a test: bare onnxruntime beside our InferenceClient (end to end, decode, cold start,
// batching, main-thread event-loop delay), int8 beside fp32 (latency, folder throughput, top-1 agreement),
// the profile request (its overhead, classification beside it) and explanations (Grad-CAM against one
// forward pass, faithfulness curves against 25, occlusion, Score-CAM). Prints a Markdown table and writes
// .bench/results.json.
// Usage: npm run bench -- [--runs N] [--quick] [--provider auto|cpu|webgpu] [--threads N]
//        [--photos <folder>]… (photos that are not calibration photos, for the agreement of int8 with fp32)
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import type * as Ort from 'onnxruntime-node';
import {
  classifyAll,
  comparePrecisionsAll,
  inFlightFor,
  type ImageSource,
} from '../src/inference/classifyAll';
import { InferenceClient } from '../src/inference/client';
import { cpuLine, defaultThreads } from '../src/inference/cpus';
import type { Classification, WorkerConfig } from '../src/inference/messages';
import { prepareImage } from '../src/inference/preprocess';
import { median } from '../src/inference/timing';
import type { ProviderSetting } from '../src/inference/providers';
import { sessionOptions } from '../src/inference/sessionOptions';
import { VERIFIED_FILE } from '../src/inference/verified';
import { descriptorForModel } from '../src/files/descriptorFile';
import { sha256File } from '../src/files/sha256';
import type { ModelDescriptor } from '../src/model/descriptor';
import { expandImagePaths } from '../src/files/imageFiles';
import { quantizedDescriptor, resolveDescriptor } from '../src/files/modelPaths';
import { readOnnxFile } from '../src/files/onnxFile';
import { analyseGraph } from '../src/model/structure/table';
import { agreement, type AgreementReport, type PrecisionPair } from '../src/shared/quantization';
import { fixtureBytes, FIXTURES, REFERENCE, runnable } from '../test/unit/helpers/fixtures';
import { measureRender, RENDER_TARGET_MS } from './benchRender';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const WORKER = path.join(DIST, 'worker.js');
const IMAGES = path.join(ROOT, 'test', 'fixtures', 'images');
const CALIBRATION = path.join(ROOT, 'models', 'calibration');
const OUT = path.join(ROOT, '.bench');
const BENCH_PROVIDERS: readonly ProviderSetting[] = ['auto', 'cpu', 'webgpu'];
const TOP_K = 5;
const BATCH = 8;
const MANY = 50;
const MAX_PIXELS = 100_000_000;

const TARGETS = {
  ratio1mp: 1.15,
  decode12mp: 60,
  loopDelay: 20,
  /** int8 / fp32 session.run time at batch 1 and 8, at most. */
  int8Latency: 0.6,
  /** Folder throughput with int8 / with fp32, at least. */
  int8Throughput: 1.6,
  /** Profiled total / plain run, at most. */
  profileOverhead: 1.1,
  /** Classification's session.run beside or after a profile request / without one, at most. */
  beside: 1.1,
  /** Grad-CAM at one layer / one bare forward pass (batch 1), at most. */
  gradCam: 3,
  /** A 20-step pair of faithfulness curves, in single forward passes, at most. */
  curvePasses: 25,
};
/** The layer Grad-CAM is timed at, and the classes of a request (the panel's top 5). */
const GRADCAM_LAYER = 'conv4_x';
const EXPLAINED = 5;
/** Runs per profile request (the CLI's default). */
const PROFILE_RUNS = 10;
/** The largest fixture by parameters (VGG-16), made runnable and written once to .bench/: a real 0.5 GB file. */
const BIG_FIXTURE = FIXTURES.filter((f) => REFERENCE[f]!.external === 0).sort(
  (a, b) => REFERENCE[b]!.params - REFERENCE[a]!.params,
)[0]!;
const BIG_FILE = path.join(OUT, `${BIG_FIXTURE}.runnable.onnx`);
/** Above this share of CPU time used by other processes, the report warns that ratios are unreliable. */
const BUSY_SHARE = 0.1;

/** A generated JPEG: from which fixture, at what size. */
interface Jpeg {
  key: string;
  source: string;
  width: number;
  height: number;
  file: string;
}

const JPEG_224: Jpeg = jpeg('224', 'chelsea.png', 224, 224);
const JPEG_1MP: Jpeg = jpeg('1mp', 'chelsea.png', 1280, 800);
const JPEG_12MP: Jpeg = jpeg('12mp', 'chelsea.png', 4000, 3000);
/** The mix for the many-images phase: about 1 MP each, both orientations, three photographs. */
const MIX_1MP: Jpeg[] = [
  JPEG_1MP,
  jpeg('1mp-coffee', 'coffee.png', 1024, 1024),
  jpeg('1mp-orange', 'orange.jpg', 1200, 900),
  jpeg('1mp-portrait', 'chelsea.png', 800, 1280),
  jpeg('1mp-coffee-wide', 'coffee.png', 1152, 864),
];

/** One row of the table; statistics are computed from `samples` when printing. */
interface Row {
  key: string;
  measurement: string;
  provider: string;
  samples: number[];
  /** Key of the bare-onnxruntime row this one is compared with. */
  vs?: string;
  /** Images per sample, for images/s. */
  images?: number;
}

interface Stats {
  median: number;
  min: number;
  max: number;
  runs: number;
}

interface Options {
  runs: number;
  /** Bare and client measurements alternate this many times. */
  rounds: number;
  cold: number;
  provider: ProviderSetting;
  threads: number;
  /** Folders of photos calibration never saw, for int8's agreement with fp32. */
  photos: string[];
}

const rows: Row[] = [];
const extra: Record<string, unknown> = {};
const seenLogs = new Set<string>();

/** Declares a table row (rows print in declaration order); phases add its samples. */
function row(key: string, measurement: string, more: Partial<Row> = {}): Row {
  const r: Row = { key, measurement, provider: '', samples: [], ...more };
  rows.push(r);
  return r;
}

/** Every row, in table order. */
const R = {
  prepare224: row('prepare-224', `decode + preprocess (prepareImage), ${describe(JPEG_224)}`, {
    provider: 'sharp',
  }),
  prepare1mp: row('prepare-1mp', `decode + preprocess (prepareImage), ${describe(JPEG_1MP)}`, {
    provider: 'sharp',
  }),
  prepare12mp: row('prepare-12mp', `decode + preprocess (prepareImage), ${describe(JPEG_12MP)}`, {
    provider: 'sharp',
  }),
  bareB1: row('bare-b1', 'bare ORT session.run, batch 1', { images: 1 }),
  client224: row('client-224', `client end to end, ${describe(JPEG_224)}`, { vs: 'bare-b1', images: 1 }),
  client1mp: row('client-1mp', `client end to end, ${describe(JPEG_1MP)}`, { vs: 'bare-b1', images: 1 }),
  client1mpRun: row('client-1mp-run', '  of which worker session.run (Classification.ms.run)', {
    vs: 'bare-b1',
  }),
  client1mpDecode: row(
    'client-1mp-decode',
    '  of which worker decode + preprocess (Classification.ms.decode)',
    {
      provider: 'sharp',
    },
  ),
  client12mp: row('client-12mp', `client end to end, ${describe(JPEG_12MP)}`, { vs: 'bare-b1', images: 1 }),
  client12mpDecode: row(
    'client-12mp-decode',
    '  of which worker decode + preprocess (Classification.ms.decode)',
    {
      provider: 'sharp',
    },
  ),
  bareB1Int8: row('bare-b1-int8', 'bare ORT session.run, batch 1, int8 (models/resnet50.int8.onnx)', {
    vs: 'bare-b1',
    images: 1,
  }),
  bareB8: row('bare-b8', `bare ORT session.run, batch ${BATCH}`, { images: BATCH }),
  bareB8Int8: row('bare-b8-int8', `bare ORT session.run, batch ${BATCH}, int8`, {
    vs: 'bare-b8',
    images: BATCH,
  }),
  bare8x1: row('bare-8x1', `bare ORT ${BATCH}× session.run batch 1, sequential`, { images: BATCH }),
  clientBurst: row('client-burst', `client ${BATCH} requests at once, ${describe(JPEG_1MP)}`, {
    vs: 'bare-b8',
    images: BATCH,
  }),
  client8x1: row('client-8x1', `client ${BATCH} requests in sequence, ${describe(JPEG_1MP)}`, {
    vs: 'bare-8x1',
    images: BATCH,
  }),
  bareCold: row('bare-cold', 'bare ORT cold start: create + first run'),
  clientColdFresh: row(
    'client-cold-fresh',
    `client cold start, model not yet checked: new client → first classify (${describe(JPEG_224)})`,
    { vs: 'bare-cold' },
  ),
  clientCold: row(
    'client-cold',
    `client cold start, model checked before (size and time unchanged): same (${describe(JPEG_224)})`,
    { vs: 'bare-cold' },
  ),
  clientColdStart: row(
    'client-cold-start',
    '  of which worker start-up until the request is handled (end to end − Classification.ms.total)',
  ),
  clientColdCreate: row('client-cold-create', '  of which session create + warm-up (RuntimeInfo.ms)'),
  clientColdRun: row('client-cold-run', '  of which first session.run (Classification.ms.run)'),
  sha: row('model-sha256', '  before create: sha256 of the 100 MB model file (measured here)', {
    provider: 'node:crypto',
  }),
  many: row('many', `classifyAll ${MANY} mixed ~1 MP JPEGs (inFlight ${inFlightFor(BATCH)}), whole pass`, {
    images: MANY,
  }),
  loopDelay: row('loop-delay', '  main-thread max event-loop delay during the pass'),
  manyInt8: row(
    'many-int8',
    `classifyAll ${MANY} mixed ~1 MP JPEGs at int8 (inFlight ${inFlightFor(BATCH)}), whole pass`,
    {
      vs: 'many',
      images: MANY,
    },
  ),
  profile: row(
    'profile',
    `profile request, batch 1: profiled total (Profile.ms, median of ${PROFILE_RUNS} runs)`,
    {
      vs: 'profile-plain',
    },
  ),
  profilePlain: row(
    'profile-plain',
    '  plain run of the identical unprofiled session beside it (Profile.plain_ms)',
  ),
  profileInt8: row('profile-int8', 'profile request, batch 1, int8: profiled total (Profile.ms)', {
    vs: 'profile-plain-int8',
  }),
  profilePlainInt8: row(
    'profile-plain-int8',
    '  plain run of the identical unprofiled session beside it (Profile.plain_ms)',
  ),
  duringProfile: row(
    'classify-during-profile',
    `client ${describe(JPEG_1MP)} while a profile request runs in its worker: session.run (Classification.ms.run)`,
    { vs: 'client-1mp-run' },
  ),
  duringProfileE2e: row(
    'classify-during-profile-e2e',
    "  end to end (waits for the profile's run in progress)",
    {
      vs: 'client-1mp',
    },
  ),
  afterProfile: row(
    'classify-after-profile',
    `client ${describe(JPEG_1MP)} after a profile request: session.run (Classification.ms.run)`,
    { vs: 'client-1mp-run' },
  ),
  gradCam1: row(
    'gradcam-1',
    `Grad-CAM at ${GRADCAM_LAYER}, 1 class: client explain (image by key), end to end`,
    {
      vs: 'bare-b1',
    },
  ),
  gradCam1Worker: row('gradcam-1-worker', '  of which in the worker (Explanation.ms.total)', {
    vs: 'bare-b1',
  }),
  gradCam5: row(
    'gradcam-5',
    `Grad-CAM at ${GRADCAM_LAYER}, top ${EXPLAINED} classes (the gradient model at batch ${EXPLAINED}), end to end`,
    { vs: 'bare-b1' },
  ),
  gradCam5Worker: row('gradcam-5-worker', '  of which in the worker (Explanation.ms.total)', {
    vs: 'bare-b1',
  }),
  bare25x1: row('bare-25x1', 'bare ORT 25× session.run batch 1, sequential', { images: 25 }),
  faithfulness1: row(
    'faithfulness-1',
    'faithfulness, 20 steps, 1 class: the map’s and a random map’s deletion + insertion curves, Average Drop, IiC (Explanation.ms.metrics)',
    { vs: 'bare-25x1' },
  ),
  faithfulness1Pair: row('faithfulness-1-pair', '  per pair of curves (ms.metrics / 2 maps)', {
    vs: 'bare-25x1',
  }),
  faithfulness5: row(
    'faithfulness-5',
    `faithfulness, 20 steps, top ${EXPLAINED} classes and the random map (Explanation.ms.metrics)`,
    { vs: 'bare-25x1' },
  ),
  faithfulness5Pair: row('faithfulness-5-pair', `  per pair of curves (ms.metrics / ${EXPLAINED + 1} maps)`, {
    vs: 'bare-25x1',
  }),
  occlusion: row(
    'occlusion',
    `occlusion, default patch 32 / stride 16 (13×13 positions), top ${EXPLAINED} classes (Explanation.ms.map)`,
  ),
  scoreCam: row(
    'scorecam',
    `Score-CAM, k = 32 channels of the last stage, top ${EXPLAINED} classes (Explanation.ms.map)`,
  ),
  loopIdle: row('loop-delay-idle', 'main-thread max event-loop delay, idle 1 s, no worker (noise floor)', {
    provider: '-',
  }),
  bigRead: row('big-read', `readOnnxFile of the largest runnable fixture (${BIG_FIXTURE})`, {
    provider: 'node:fs',
  }),
  bigTable: row('big-table', '  then analyseGraph of its graph (shapes, costs, layer table)', {
    provider: '-',
  }),
  bigDescribe: row('big-describe', '  descriptorForModel of it (read + input size + class count)', {
    provider: 'node:fs',
  }),
};

async function main(): Promise<void> {
  const opts = readOptions();
  const ortVersion = await packageVersion('onnxruntime-node');
  const cpuStart = cpuSnapshot();
  const facts =
    `Machine: ${cpuLine()} (availableParallelism ${os.availableParallelism()}, default threads ` +
    `${defaultThreads()}), ${os.platform()} ${os.arch()}, node ${process.version}, ` +
    `onnxruntime-node ${ortVersion}`;
  progress(facts);
  await fs.mkdir(OUT, { recursive: true });
  await Promise.all([JPEG_224, JPEG_12MP, ...MIX_1MP].map(ensureJpeg));

  const descriptor = await resolveDescriptor(DIST, '', 'caffe');
  const config: WorkerConfig = {
    descriptor,
    provider: opts.provider,
    threads: opts.threads,
    batchSize: BATCH,
    maxPixels: MAX_PIXELS,
  };
  const int8 = await quantizedDescriptor(descriptor);
  const ort = (await import('onnxruntime-node')) as typeof Ort;
  const tensor = (await prepareImage(await fs.readFile(JPEG_1MP.file), descriptor.preprocessing, MAX_PIXELS))
    .tensor;

  // Only one onnxruntime session exists at a time: idle ones spin and slow the other
  // (notes/performance.md). Decode, bare and client phases alternate in rounds, so that load
  // from elsewhere on the machine drifts into both sides of each ratio alike.
  let provider = '';
  for (let i = 0; i < opts.cold; i++) {
    progress(`cold start ${i + 1}/${opts.cold}`);
    // The first start after the record of checked models is gone hashes the model; the next reuses the check.
    await fs.rm(VERIFIED_FILE, { force: true });
    await clientCold(config, R.clientColdFresh);
    provider = await clientCold(config, R.clientCold);
    await bareCold(ort, descriptor, tensor, providersFor(provider), opts);
  }
  R.sha.samples = await repeat(opts.cold, 0, () => timed(() => sha256File(descriptor.modelPath)));
  await bigModel(opts.cold);
  for (let i = 0; i < opts.rounds; i++) {
    const roundStart = cpuSnapshot();
    const n = Math.floor(((i + 1) * opts.runs) / opts.rounds) - Math.floor((i * opts.runs) / opts.rounds);
    progress(`round ${i + 1}/${opts.rounds}: prepareImage, ${n} runs each`);
    await prepareRound(descriptor, n);
    progress(`round ${i + 1}/${opts.rounds}: bare onnxruntime, ${n} runs each`);
    await bareWarm(ort, descriptor, tensor, providersFor(provider), opts, n, {
      b1: R.bareB1,
      b8: R.bareB8,
      eightX1: R.bare8x1,
      twentyFiveX1: R.bare25x1,
    });
    // QDQ models are for the CPU: GPU providers run the fp32 model at precision int8.
    await bareWarm(ort, int8, tensor, ['cpu'], opts, n, { b1: R.bareB1Int8, b8: R.bareB8Int8 });
    progress(`round ${i + 1}/${opts.rounds}: client, ${n} runs each`);
    await idleRound();
    await clientWarm(config, n);
    progress(`round ${i + 1}/${opts.rounds}: client at int8, profile requests`);
    await clientInt8(config, n);
    await profileRound(config, n);
    progress(`round ${i + 1}/${opts.rounds}: explanations`);
    await explainRound(config, n);
    ((extra.othersCpuShareByRound ??= []) as number[]).push(othersShare(roundStart, cpuSnapshot()));
  }

  progress('webview table renders in headless Chromium');
  const render = await measureRender({ runs: opts.runs });
  rows.push(...render.rows);
  extra.render = render.notes;

  progress('agreement of int8 with fp32 on the photos');
  extra.agreement = await agreementOnPhotos(config, opts.photos);

  const report = renderReport(facts, othersShare(cpuStart, cpuSnapshot()));
  process.stdout.write(report.markdown);
  await fs.writeFile(path.join(OUT, 'results.json'), JSON.stringify(report.json, null, 2) + '\n');
  progress(`wrote ${path.relative(ROOT, path.join(OUT, 'results.json'))}`);
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      quick: { type: 'boolean', default: false },
      provider: { type: 'string', default: 'auto' },
      threads: { type: 'string', default: '0' },
      photos: { type: 'string', multiple: true, default: [] },
    },
  });
  const runs = values.runs !== undefined ? Number(values.runs) : values.quick ? 5 : 20;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  const provider = values.provider as ProviderSetting;
  if (!BENCH_PROVIDERS.includes(provider)) {
    throw new Error(`--provider must be one of ${BENCH_PROVIDERS.join(', ')}`);
  }
  const threads = Number(values.threads);
  if (!Number.isInteger(threads) || threads < 0)
    throw new Error('--threads must be 0 (onnxruntime decides) or more');
  return {
    runs,
    rounds: Math.min(10, Math.ceil(runs / 2)),
    cold: Math.min(5, runs),
    provider,
    threads,
    photos: values.photos,
  };
}

// ---------------------------------------------------------------------------------------------------
// Phases

/** Decode + resize + normalise alone, in this thread (sharp works on libuv's pool either way). */
async function prepareRound(d: ModelDescriptor, n: number): Promise<void> {
  const cases: [Jpeg, Row][] = [
    [JPEG_224, R.prepare224],
    [JPEG_1MP, R.prepare1mp],
    [JPEG_12MP, R.prepare12mp],
  ];
  for (const [img, r] of cases) {
    const bytes = await fs.readFile(img.file);
    r.samples.push(
      ...(await repeat(n, 1, () => timed(() => prepareImage(bytes, d.preprocessing, MAX_PIXELS)))),
    );
  }
}

/**
 * Reading and analysing a big model, as opening one in the panel does: the largest fixture with its
 * weights filled in, written once to .bench/. Memory is measured in a fresh process, where the allocator
 * has nothing freed earlier to reuse: its RSS growth, right after the read and the analysis, beyond the
 * file's size.
 */
async function bigModel(n: number): Promise<void> {
  const size = await fs.stat(BIG_FILE).then(
    (s) => s.size,
    () => 0,
  );
  if (size === 0) {
    progress(`writing ${path.relative(ROOT, BIG_FILE)} (runnable ${BIG_FIXTURE}, once)`);
    await fs.writeFile(BIG_FILE, runnable(fixtureBytes(BIG_FIXTURE)));
  }
  const bytes = (await fs.stat(BIG_FILE)).size;
  R.bigRead.measurement = `readOnnxFile of the largest runnable fixture (${BIG_FIXTURE}, ${(bytes / 2 ** 20).toFixed(0)} MB file)`;
  for (let i = 0; i < n; i++) {
    progress(`big model ${i + 1}/${n}`);
    let t = performance.now();
    const graph = await readOnnxFile(BIG_FILE);
    R.bigRead.samples.push(performance.now() - t);
    t = performance.now();
    analyseGraph(graph, { spatial: [224, 224] });
    R.bigTable.samples.push(performance.now() - t);
    R.bigDescribe.samples.push(await timed(() => descriptorForModel(BIG_FILE, 'torchvision', [])));
  }
  // maxRSS would not do: Linux carries it over from this (large) process through fork and exec.
  const probe = `
    const { readOnnxFile } = require('./src/files/onnxFile.ts');
    const { analyseGraph } = require('./src/model/structure/table.ts');
    const base = process.memoryUsage().rss;
    readOnnxFile(${JSON.stringify(BIG_FILE)}).then((g) => {
      const read = process.memoryUsage().rss;
      analyseGraph(g, { spatial: [224, 224] });
      process.stdout.write(String(Math.max(read, process.memoryUsage().rss) - base));
    });`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', probe], {
    cwd: ROOT,
  });
  extra.bigModel = { fixture: BIG_FIXTURE, bytes, rssGrowthMB: Number(stdout) / 2 ** 20 };
}

/** A fresh client's first classify: worker start, session create, decode, first run. Returns the provider. */
async function clientCold(config: WorkerConfig, total: Row): Promise<string> {
  const t = performance.now();
  const client = newClient(config);
  try {
    const r = await client.classify('cold', await fs.readFile(JPEG_224.file), { topK: TOP_K });
    const ms = performance.now() - t;
    total.samples.push(ms);
    if (total !== R.clientCold) {
      total.provider = r.provider;
      return r.provider;
    }
    R.clientColdStart.samples.push(ms - r.ms.total);
    R.clientColdRun.samples.push(r.ms.run);
    const info = await client.runtimeInfo();
    R.clientColdCreate.samples.push(info.ms.create + info.ms.warmup);
    for (const x of [R.clientCold, R.clientColdStart, R.clientColdCreate, R.clientColdRun])
      x.provider = r.provider;
    extra.runtimeInfo = info;
    return r.provider;
  } finally {
    await client.dispose();
  }
}

/** The bare session tries the provider the worker ended up with, then cpu. */
function providersFor(provider: string): string[] {
  return provider === 'cpu' || provider === '' ? ['cpu'] : [provider, 'cpu'];
}

/** onnxruntime in this thread with the worker's session options: create + first run. */
async function bareCold(
  ort: typeof Ort,
  d: ModelDescriptor,
  tensor: Float32Array,
  providers: string[],
  opts: Options,
): Promise<void> {
  const crop = d.preprocessing.crop;
  const t = performance.now();
  const bare = await createBare(ort, d.modelPath, providers, opts.threads);
  try {
    await bare.session.run({
      [inputName(bare.session, d)]: new ort.Tensor('float32', tensor, [1, 3, crop, crop]),
    });
    R.bareCold.samples.push(performance.now() - t);
    R.bareCold.provider = bare.provider;
  } finally {
    await bare.session.release();
  }
}

/** One bare session of `d`'s model in this thread: batch 1, batch 8 and 8× batch 1, `n` recorded runs each. */
async function bareWarm(
  ort: typeof Ort,
  d: ModelDescriptor,
  tensor: Float32Array,
  providers: string[],
  opts: Options,
  n: number,
  out: { b1: Row; b8: Row; eightX1?: Row; twentyFiveX1?: Row },
): Promise<void> {
  const crop = d.preprocessing.crop;
  const one = new ort.Tensor('float32', tensor, [1, 3, crop, crop]);
  const eight = new Float32Array(tensor.length * BATCH);
  for (let i = 0; i < BATCH; i++) eight.set(tensor, i * tensor.length);
  const batch = new ort.Tensor('float32', eight, [BATCH, 3, crop, crop]);
  const { session, provider } = await createBare(ort, d.modelPath, providers, opts.threads);
  const input = inputName(session, d);
  for (const r of [out.b1, out.b8, out.eightX1, out.twentyFiveX1]) if (r) r.provider = provider;
  try {
    out.b1.samples.push(...(await repeat(n, 3, () => timed(() => session.run({ [input]: one })))));
    out.b8.samples.push(...(await repeat(n, 1, () => timed(() => session.run({ [input]: batch })))));
    const eightRuns = async (): Promise<void> => {
      for (let i = 0; i < BATCH; i++) await session.run({ [input]: one });
    };
    out.eightX1?.samples.push(...(await repeat(n, 0, () => timed(eightRuns))));
    const singles = async (): Promise<void> => {
      for (let i = 0; i < 25; i++) await session.run({ [input]: one });
    };
    out.twentyFiveX1?.samples.push(...(await repeat(n, 0, () => timed(singles))));
  } finally {
    await session.release();
  }
}

/**
 * Explanations of one explored 1 MP JPEG in a fresh client, after a warm-up of each kind (the gradient
 * session is built then): Grad-CAM `n` times per round; faithfulness, occlusion and Score-CAM, which run
 * dozens to hundreds of images each, once per round.
 */
async function explainRound(config: WorkerConfig, n: number): Promise<void> {
  const client = newClient({ ...config, exploreIdleMs: 0 });
  try {
    const { key } = await client.explore('explain', await fs.readFile(JPEG_1MP.file), { topK: TOP_K });
    // Images are scored by the classify session: created here, not inside the first timed request.
    const { provider } = await client.runtimeInfo();
    const gradCam = async (classes: number, e2e: Row, worker: Row): Promise<void> => {
      const samples = await repeat(n, 1, async () => {
        const t = performance.now();
        const e = await client.explain(key, { method: 'gradcam', layer: GRADCAM_LAYER, classes });
        const ms = performance.now() - t;
        worker.samples.push(e.ms.total);
        if (e.classes.length !== classes) throw new Error(`Grad-CAM at ${GRADCAM_LAYER}: ${e.reason}`);
        return ms;
      });
      worker.samples.splice(worker.samples.length - n - 1, 1); // the warm-up request
      e2e.samples.push(...samples);
    };
    await gradCam(1, R.gradCam1, R.gradCam1Worker);
    await gradCam(EXPLAINED, R.gradCam5, R.gradCam5Worker);
    const explain = async (
      opts: Parameters<InferenceClient['explain']>[1],
      r: Row,
      part: 'map' | 'metrics',
    ) => {
      const e = await client.explain(key, opts);
      r.samples.push(e.ms[part]);
      r.images = e.scored;
      return e;
    };
    const cam = { method: 'cam', metrics: true } as const;
    const one = await explain({ ...cam, classes: 1 }, R.faithfulness1, 'metrics');
    R.faithfulness1Pair.samples.push(one.ms.metrics / 2);
    const five = await explain({ ...cam, classes: EXPLAINED }, R.faithfulness5, 'metrics');
    R.faithfulness5Pair.samples.push(five.ms.metrics / (EXPLAINED + 1));
    await explain({ method: 'occlusion', classes: EXPLAINED }, R.occlusion, 'map');
    await explain({ method: 'scorecam', classes: EXPLAINED }, R.scoreCam, 'map');
    for (const r of [R.gradCam1, R.gradCam1Worker, R.gradCam5, R.gradCam5Worker]) r.provider = provider;
    for (const r of [R.faithfulness1, R.faithfulness1Pair, R.faithfulness5, R.faithfulness5Pair])
      r.provider = provider;
    for (const r of [R.occlusion, R.scoreCam]) r.provider = provider;
  } finally {
    await client.dispose();
  }
}

/** One client, warmed up: end to end per image size, a burst of 8 against 8 in sequence, many images. */
async function clientWarm(config: WorkerConfig, n: number): Promise<void> {
  const client = newClient(config);
  try {
    await client.classify('warm-up', await fs.readFile(JPEG_224.file), { topK: TOP_K });
    await endToEnd(client, JPEG_224, R.client224, n);
    const big = await endToEnd(client, JPEG_1MP, R.client1mp, n);
    R.client1mpRun.samples.push(...big.map((r) => r.ms.run));
    R.client1mpRun.provider = first(big, '1 MP results').provider;
    R.client1mpDecode.samples.push(...big.map((r) => r.ms.decode));
    const huge = await endToEnd(client, JPEG_12MP, R.client12mp, n);
    R.client12mpDecode.samples.push(...huge.map((r) => r.ms.decode));
    await burst(client, n);
    await many(client, n);
  } finally {
    await client.dispose();
  }
}

/** Sequential requests: read file → (worker) decode → preprocess → run → top-5 → result. */
async function endToEnd(client: InferenceClient, img: Jpeg, r: Row, n: number): Promise<Classification[]> {
  const results: Classification[] = [];
  const details = (extra[`requests-${img.key}`] ??= []) as RequestDetail[];
  const samples = await repeat(n, 1, async () => {
    const t = performance.now();
    const bytes = await fs.readFile(img.file);
    const read = performance.now() - t;
    const c = await client.classify(img.key, bytes, { topK: TOP_K });
    const ms = performance.now() - t;
    results.push(c);
    details.push({ endToEnd: ms, read, ms: c.ms });
    return ms;
  });
  details.splice(details.length - n - 1, 1); // the warm-up request
  r.samples.push(...samples);
  r.provider = first(results, `${img.key} results`).provider;
  return results.slice(1);
}

/** Eight requests at once (the worker batches them) against eight in sequence, 1 MP JPEGs. */
async function burst(client: InferenceClient, n: number): Promise<void> {
  const patterns = (extra.burstRuns ??= {}) as Record<string, number>;
  const read = (): Promise<Buffer> => fs.readFile(JPEG_1MP.file);
  const samples = await repeat(n, 1, async () => {
    const t = performance.now();
    const results = await Promise.all(
      Array.from({ length: BATCH }, async (_, i) =>
        client.classify(`burst-${i}`, await read(), { topK: TOP_K }),
      ),
    );
    const ms = performance.now() - t;
    const p = batchPattern(results);
    patterns[p] = (patterns[p] ?? 0) + 1;
    R.clientBurst.provider = first(results, 'burst results').provider;
    return ms;
  });
  R.clientBurst.samples.push(...samples);
  const seq = await repeat(n, 0, async () => {
    const t = performance.now();
    for (let i = 0; i < BATCH; i++) {
      const r = await client.classify(`seq-${i}`, await read(), { topK: TOP_K });
      R.client8x1.provider = r.provider;
    }
    return performance.now() - t;
  });
  R.client8x1.samples.push(...seq);
}

const MANY_SOURCES: ImageSource[] = Array.from({ length: MANY }, (_, i) => {
  const img = MIX_1MP[i % MIX_1MP.length];
  if (!img) throw new Error('MIX_1MP is empty');
  return { name: `${img.key}#${i}`, read: () => fs.readFile(img.file) };
});
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
const manyBatches: number[] = [];

/** Largest event-loop delay in ms while `f` runs. */
async function maxLoopDelay(f: () => Promise<unknown>): Promise<number> {
  loopDelay.reset();
  loopDelay.enable();
  try {
    await f();
  } finally {
    loopDelay.disable();
  }
  return loopDelay.max / 1e6;
}

/** The event-loop delay of this thread with no inference at all: the machine's noise floor. */
async function idleRound(): Promise<void> {
  R.loopIdle.samples.push(await maxLoopDelay(() => new Promise((resolve) => setTimeout(resolve, 1000))));
}

/** classifyAll over 50 mixed ~1 MP JPEGs while this thread's event-loop delay is recorded. */
async function many(
  client: InferenceClient,
  n: number,
  out: { pass: Row; delay?: Row } = { pass: R.many, delay: R.loopDelay },
): Promise<void> {
  for (let i = 0; i < n; i++) {
    let ms = 0;
    const delay = await maxLoopDelay(async () => {
      const t = performance.now();
      const outcomes = await classifyAll(client, MANY_SOURCES, { topK: TOP_K, inFlight: inFlightFor(BATCH) });
      ms = performance.now() - t;
      for (const o of outcomes) {
        if (o.error !== undefined) throw new Error(`${o.name}: ${o.error}`);
        if (out.pass === R.many) manyBatches.push(o.result.batch);
        // The int8 pass says what ran: a GPU provider runs the fp32 model even at int8.
        out.pass.provider =
          out.pass === R.many ? o.result.provider : `${o.result.provider}, ${o.result.precision}`;
        if (out.delay) out.delay.provider = o.result.provider;
      }
    });
    out.pass.samples.push(ms);
    out.delay?.samples.push(delay);
  }
  if (out.pass === R.many) {
    extra.meanBatchInClassifyAll = manyBatches.reduce((x, y) => x + y, 0) / manyBatches.length;
  }
}

/** The folder pass again with a client at precision int8, warmed up like the fp32 one. */
async function clientInt8(config: WorkerConfig, n: number): Promise<void> {
  const client = newClient({ ...config, precision: 'int8' });
  try {
    await client.classify('warm-up', await fs.readFile(JPEG_224.file), { topK: TOP_K });
    await many(client, n, { pass: R.manyInt8 });
  } finally {
    await client.dispose();
  }
}

/**
 * Profile requests at fp32 and int8 (profiled total against the plain run beside it), then classification
 * in the fp32 client's worker while a longer profile request runs there, and after it.
 */
async function profileRound(config: WorkerConfig, n: number): Promise<void> {
  const int8 = newClient({ ...config, precision: 'int8' });
  try {
    const p = await int8.profile({ runs: PROFILE_RUNS });
    R.profileInt8.samples.push(p.ms);
    R.profilePlainInt8.samples.push(p.plain_ms);
    R.profileInt8.provider = R.profilePlainInt8.provider = `${p.provider}, ${p.precision}`;
  } finally {
    await int8.dispose();
  }
  const client = newClient(config);
  try {
    const bytes = (): Promise<Buffer> => fs.readFile(JPEG_1MP.file);
    await client.classify('warm-up', await bytes(), { topK: TOP_K });
    const p = await client.profile({ runs: PROFILE_RUNS });
    R.profile.samples.push(p.ms);
    R.profilePlain.samples.push(p.plain_ms);
    R.profile.provider = R.profilePlain.provider = `${p.provider}, ${p.precision}`;
    extra.lastProfile = { fp32: { ms: p.ms, plain_ms: p.plain_ms, peak_gflops: p.peak_gflops } };
    let done = false;
    const long = client.profile({ runs: PROFILE_RUNS * 3 }).finally(() => (done = true));
    const during: { run: number; endToEnd: number }[] = [];
    while (!done) {
      const t = performance.now();
      const c = await client.classify('during', await bytes(), { topK: TOP_K });
      if (!done) during.push({ run: c.ms.run, endToEnd: performance.now() - t });
      R.duringProfile.provider = R.duringProfileE2e.provider = c.provider;
    }
    await long;
    // The first request waited for the profile's sessions to be created (create() blocks the worker).
    R.duringProfile.samples.push(...during.slice(1).map((d) => d.run));
    R.duringProfileE2e.samples.push(...during.slice(1).map((d) => d.endToEnd));
    for (let i = 0; i < n; i++) {
      const c = await client.classify('after', await bytes(), { topK: TOP_K });
      R.afterProfile.samples.push(c.ms.run);
      R.afterProfile.provider = c.provider;
    }
  } finally {
    await client.dispose();
  }
}

/** Photos in folders, without any whose bytes are a calibration photo's or a test image's. */
async function photosIn(folders: string[], exclude: Set<string>): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set(exclude);
  for (const f of await expandImagePaths(folders)) {
    const sha = await sha256File(f);
    if (seen.has(sha)) continue;
    seen.add(sha);
    out.push(f);
  }
  return out;
}

/** Top-1 agreement of int8 with fp32 on each set of photos (comparePrecisions, CPU). */
async function agreementOnPhotos(
  config: WorkerConfig,
  folders: string[],
): Promise<Record<string, AgreementReport & { files: number }>> {
  const calibration = await expandImagePaths([CALIBRATION]);
  const test = await expandImagePaths([IMAGES]);
  const known = new Set(await Promise.all([...calibration, ...test].map((f) => sha256File(f))));
  const sets: Record<string, string[]> = {
    'held out (--photos, not calibration photos)': await photosIn(folders, known),
    'calibration photos (not held out)': calibration,
    'test images (not calibration photos)': test,
  };
  const client = newClient(config);
  const out: Record<string, AgreementReport & { files: number }> = {};
  try {
    for (const [label, files] of Object.entries(sets)) {
      const sources = files.map((f) => ({ name: f, read: () => fs.readFile(f) }));
      const outcomes = await comparePrecisionsAll(client, sources, { topK: TOP_K, inFlight: 4 });
      const pairs = outcomes.flatMap((o): PrecisionPair[] => (o.result ? [o.result] : []));
      out[label] = { ...agreement(pairs), files: files.length };
    }
  } finally {
    await client.dispose();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Report

function renderReport(facts: string, others: number): { markdown: string; json: object } {
  const busy = others > BUSY_SHARE;
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const stat = (key: string): Stats | undefined => {
    const r = byKey.get(key);
    return r ? stats(r.samples) : undefined;
  };
  const lines = [
    `${facts}; other processes used ${(others * 100).toFixed(0)} % of the CPU time while this ran`,
    ...(busy
      ? [
          '',
          `**Warning:** the machine was busy: other processes took CPU time from both sides at different ` +
            'moments, so ratios against bare onnxruntime and the event-loop delay are unreliable; the ratio ' +
            'of minima and the same-request ratio below are less affected.',
        ]
      : []),
    '',
    '| measurement | provider | median ms | min | max | runs | ratio vs bare | images/s |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |',
  ];
  const jsonRows = rows.map((r) => {
    const s = stats(r.samples);
    const ref = r.vs ? stat(r.vs) : undefined;
    const ratio = ref ? s.median / ref.median : undefined;
    const perSecond = r.images ? (r.images * 1000) / s.median : undefined;
    lines.push(
      `| ${r.measurement} | ${r.provider} | ${fmt(s.median)} | ${fmt(s.min)} | ${fmt(s.max)} | ${s.runs} | ` +
        `${ratio !== undefined ? `${ratio.toFixed(2)}× ${r.vs}` : ''} | ${perSecond !== undefined ? perSecond.toFixed(1) : ''} |`,
    );
    return { ...r, ...s, ratio, vsMedian: ref?.median, imagesPerSecond: perSecond };
  });

  const ratio1mp = (stat('client-1mp')?.median ?? NaN) / (stat('bare-b1')?.median ?? NaN);
  const decode12 = stat('prepare-12mp')?.median ?? NaN;
  const delay = stat('loop-delay');
  const ratioOfMinima = (stat('client-1mp')?.min ?? NaN) / (stat('bare-b1')?.min ?? NaN);
  const verdict = (ok: boolean, loadSensitive = true): string =>
    (ok ? 'MET' : 'MISSED') + (busy && loadSensitive ? ' (unreliable: busy machine)' : '');
  const explain = explainTargets(stat);
  const targets = {
    ratio1mp: { target: TARGETS.ratio1mp, value: ratio1mp, ratioOfMinima, met: ratio1mp <= TARGETS.ratio1mp },
    decode12mp: { target: TARGETS.decode12mp, value: decode12, met: decode12 <= TARGETS.decode12mp },
    loopDelay: {
      target: TARGETS.loopDelay,
      value: delay?.median ?? NaN,
      worst: delay?.max ?? NaN,
      met: (delay?.median ?? Infinity) <= TARGETS.loopDelay,
    },
    ...int8Targets(stat),
    ...explain.json,
  };
  const breakdown = breakdownOf(extra['requests-1mp'] as RequestDetail[] | undefined);
  extra.breakdown1mp = breakdown;
  lines.push(
    '',
    `Target: end-to-end 1 MP JPEG / bare run ≤ ${TARGETS.ratio1mp}: ${ratio1mp.toFixed(2)} — ` +
      verdict(targets.ratio1mp.met) +
      `; ratio of minima ${ratioOfMinima.toFixed(2)}` +
      (breakdown ? `, end to end / the same request's own run ${breakdown.ratioOwnRun.toFixed(2)}` : ''),
    `Target: 12 MP decode + preprocess ≤ ${TARGETS.decode12mp} ms: ${fmt(decode12)} ms — ` +
      verdict(targets.decode12mp.met, false),
    `Target: main-thread max event-loop delay ≤ ${TARGETS.loopDelay} ms (median of per-pass maxima): ` +
      `${fmt(targets.loopDelay.value)} ms, worst pass ${fmt(targets.loopDelay.worst)} ms — ` +
      verdict(targets.loopDelay.met),
    `Target: int8 / fp32 session.run ≤ ${TARGETS.int8Latency}: batch 1 ${targets.int8Batch1.value.toFixed(2)} — ` +
      verdict(targets.int8Batch1.met) +
      `; batch ${BATCH} ${targets.int8Batch8.value.toFixed(2)} — ${verdict(targets.int8Batch8.met)}`,
    `Target: folder throughput int8 / fp32 ≥ ${TARGETS.int8Throughput}: ${targets.int8Throughput.value.toFixed(2)} — ` +
      verdict(targets.int8Throughput.met),
    `Target: profiled total / plain run ≤ ${TARGETS.profileOverhead} (batch 1, medians of per-request medians): ` +
      `fp32 ${targets.profileOverhead.value.toFixed(3)}, int8 ${targets.profileOverheadInt8.value.toFixed(3)} — ` +
      verdict(targets.profileOverhead.met && targets.profileOverheadInt8.met),
    ...explain.lines,
    `Target: classification's session.run beside a profile request / without ≤ ${TARGETS.beside}: during ` +
      `${targets.duringProfile.value.toFixed(2)}, after ${targets.afterProfile.value.toFixed(2)} — ` +
      verdict(targets.duringProfile.met && targets.afterProfile.met),
  );
  for (const [label, a] of Object.entries(
    extra.agreement as Record<string, AgreementReport & { files: number }>,
  )) {
    const pct = a.top1_agreement === null ? '-' : `${(a.top1_agreement * 100).toFixed(1)} %`;
    lines.push(
      `int8 top-1 agreement with fp32, ${label}: ${pct} of ${a.images} photos` +
        (a.files > a.images ? ` (${a.files - a.images} could not be read)` : '') +
        `; mean |Δp| of fp32's top-1 class ${a.mean_abs_dp?.toFixed(4) ?? '-'}` +
        (a.changed.length > 0
          ? `; changed: ${a.changed.map((c) => `${path.basename(c.name)} (${c.fp32.label} → ${c.int8.label})`).join(', ')}`
          : ''),
    );
  }
  const render600 = stat('render-deep600-shown');
  lines.push(
    ...((extra.render as string[] | undefined) ?? []),
    ...(render600
      ? [
          `Target: 600-row architecture table shown ≤ ${RENDER_TARGET_MS} ms (render, style, layout, paint): ` +
            `${fmt(render600.median)} ms — ${verdict(render600.median <= RENDER_TARGET_MS)}`,
        ]
      : []),
  );
  if (breakdown) {
    const b = breakdown;
    lines.push(
      '',
      `1 MP end to end, medians of per-request values: ${fmt(b.endToEnd)} ms; read ${fmt(b.read)} + ` +
        `worker decode ${fmt(b.decode)} + worker run ${fmt(b.run)} + worker other ${fmt(b.workerOther)} + ` +
        `messaging ${fmt(b.messaging)}; end to end − own run ${fmt(b.overOwnRun)} ms, ` +
        `end to end / own run ${b.ratioOwnRun.toFixed(2)} (same request, so no drift between phases; load still inflates the run more than the decode)`,
    );
  }
  const big = extra.bigModel as { bytes: number; rssGrowthMB: number };
  lines.push(
    `Burst of ${BATCH}: run sizes seen (sizes: bursts) ${JSON.stringify(extra.burstRuns)}; ` +
      `mean batch in classifyAll ${(extra.meanBatchInClassifyAll as number).toFixed(2)}`,
    `Reading and analysing the ${(big.bytes / 2 ** 20).toFixed(0)} MB model in a fresh process: RSS grew ` +
      `by ${fmt(big.rssGrowthMB)} MB (the graph is read; the weights are skipped by seeking)`,
    '',
  );
  const json = {
    facts,
    othersCpuShare: others,
    busy,
    rows: jsonRows,
    targets,
    details: extra,
  };
  return { markdown: lines.join('\n'), json };
}

/** The explanation targets: Grad-CAM against one forward pass, a pair of curves against 25. */
function explainTargets(stat: (key: string) => Stats | undefined): {
  lines: string[];
  json: Record<'gradCam1' | 'gradCam5' | 'curvePair', Verdict>;
} {
  const median = (key: string): number => stat(key)?.median ?? NaN;
  const fwd = median('bare-b1');
  const [one, five] = [median('gradcam-1-worker') / fwd, median('gradcam-5-worker') / fwd];
  const [e2eOne, e2eFive] = [median('gradcam-1') / fwd, median('gradcam-5') / fwd];
  const passes = (key: string): number => (median(key) / median('bare-25x1')) * TARGETS.curvePasses;
  const [pair1, pair5] = [passes('faithfulness-1-pair'), passes('faithfulness-5-pair')];
  const verdict = (ok: boolean): string => (ok ? 'MET' : 'MISSED');
  const json = {
    gradCam1: { value: one, met: one <= TARGETS.gradCam },
    gradCam5: { value: five, met: five <= TARGETS.gradCam },
    curvePair: { value: Math.max(pair1, pair5), met: Math.max(pair1, pair5) <= TARGETS.curvePasses },
  };
  const lines = [
    `Target: Grad-CAM at ${GRADCAM_LAYER} / one bare forward pass ≤ ${TARGETS.gradCam} (in the worker; the ` +
      `exploration's forward pass already holds the layer's output): 1 class ${one.toFixed(2)} — ` +
      `${verdict(one <= TARGETS.gradCam)}, top ${EXPLAINED} ${five.toFixed(2)} — ${verdict(five <= TARGETS.gradCam)}; ` +
      `client end to end ${e2eOne.toFixed(2)} and ${e2eFive.toFixed(2)}`,
    `Target: a 20-step pair of faithfulness curves ≤ the time of ${TARGETS.curvePasses} single forward passes: ` +
      `${pair1.toFixed(1)} passes per pair with 1 class, ${pair5.toFixed(1)} with ${EXPLAINED} (the random map's ` +
      `and the baselines' images shared) — ${verdict(Math.max(pair1, pair5) <= TARGETS.curvePasses)}; one ` +
      `curve ${(pair5 / 2).toFixed(1)} passes — ${verdict(pair5 / 2 <= TARGETS.curvePasses)}`,
  ];
  return { lines, json };
}

/** A ratio against its target. */
interface Verdict {
  value: number;
  met: boolean;
}

/** The int8 and profiling targets: ratios of row medians. */
function int8Targets(
  stat: (key: string) => Stats | undefined,
): Record<
  | 'int8Batch1'
  | 'int8Batch8'
  | 'int8Throughput'
  | 'profileOverhead'
  | 'profileOverheadInt8'
  | 'duringProfile'
  | 'afterProfile',
  Verdict
> {
  const ratio = (a: string, b: string): number => (stat(a)?.median ?? NaN) / (stat(b)?.median ?? NaN);
  const atMost = (value: number, target: number): Verdict => ({ value, met: value <= target });
  const throughput = ratio('many', 'many-int8');
  return {
    int8Batch1: atMost(ratio('bare-b1-int8', 'bare-b1'), TARGETS.int8Latency),
    int8Batch8: atMost(ratio('bare-b8-int8', 'bare-b8'), TARGETS.int8Latency),
    int8Throughput: { value: throughput, met: throughput >= TARGETS.int8Throughput },
    profileOverhead: atMost(ratio('profile', 'profile-plain'), TARGETS.profileOverhead),
    profileOverheadInt8: atMost(ratio('profile-int8', 'profile-plain-int8'), TARGETS.profileOverhead),
    duringProfile: atMost(ratio('classify-during-profile', 'client-1mp-run'), TARGETS.beside),
    afterProfile: atMost(ratio('classify-after-profile', 'client-1mp-run'), TARGETS.beside),
  };
}

// ---------------------------------------------------------------------------------------------------
// Helpers

function jpeg(key: string, source: string, width: number, height: number): Jpeg {
  return { key, source, width, height, file: path.join(OUT, `${key}-${width}x${height}.jpg`) };
}

function describe(img: Jpeg): string {
  const mp = (img.width * img.height) / 1e6;
  return `${img.width}×${img.height} JPEG${mp >= 0.5 ? ` (${mp.toFixed(mp < 2 ? 1 : 0)} MP)` : ''}`;
}

/** Upscales a fixture and adds grain so the JPEG has a photograph's entropy; kept between runs. */
async function ensureJpeg(img: Jpeg): Promise<void> {
  if (
    await fs.stat(img.file).then(
      (s) => s.size > 0,
      () => false,
    )
  )
    return;
  const sharp = (await import('sharp')).default;
  const { data, info } = await sharp(path.join(IMAGES, img.source))
    .removeAlpha()
    .resize(img.width, img.height, { fit: 'cover', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const random = mulberry32(img.width * 31 + img.height);
  let grain = 0;
  for (const [i, v] of data.entries()) {
    // Luminance noise per pixel, roughly Gaussian, and a little per channel.
    if (i % info.channels === 0) grain = (random() + random() + random() - 1.5) * 14;
    data[i] = Math.max(0, Math.min(255, v + grain + (random() - 0.5) * 4));
  }
  await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .jpeg({ quality: 90 })
    .toFile(img.file);
  const size = (await fs.stat(img.file)).size;
  progress(`generated ${path.relative(ROOT, img.file)} (${(size / 1024).toFixed(0)} KB)`);
}

/** A small seeded PRNG, so the generated images are the same on every machine. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A session made with the options src/inference/session.ts uses. */
async function createBare(
  ort: typeof Ort,
  modelPath: string,
  providers: string[],
  threads: number,
): Promise<{ session: Ort.InferenceSession; provider: string }> {
  let last: unknown;
  for (const provider of providers) {
    try {
      const session = await ort.InferenceSession.create(modelPath, sessionOptions([provider], threads));
      return { session, provider };
    } catch (err) {
      last = err;
      progress(`bare session: ${provider} failed (${(err as Error).message.split('\n')[0]})`);
    }
  }
  throw last;
}

function inputName(s: Ort.InferenceSession, d: ModelDescriptor): string {
  const name = d.input ?? s.inputNames[0];
  if (name === undefined) throw new Error('the model has no inputs');
  return name;
}

function newClient(config: WorkerConfig): InferenceClient {
  return new InferenceClient(WORKER, config, (m) => {
    if (!seenLogs.has(m)) progress(`worker: ${m}`);
    seenLogs.add(m);
  });
}

/** Runs `warmUp` unrecorded times, then `runs` recorded ones; returns the recorded samples. */
async function repeat(runs: number, warmUp: number, once: () => Promise<number>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < warmUp + runs; i++) {
    const ms = await once();
    if (i >= warmUp) samples.push(ms);
  }
  return samples;
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

/** Run sizes of one burst, e.g. "1+7": each run of size k reports batch k on k results. */
function batchPattern(results: Classification[]): string {
  const count = new Map<number, number>();
  for (const r of results) count.set(r.batch, (count.get(r.batch) ?? 0) + 1);
  const runs: number[] = [];
  for (const [size, n] of count) for (let i = 0; i < Math.round(n / size); i++) runs.push(size);
  return runs.sort((a, b) => a - b).join('+');
}

interface RequestDetail {
  endToEnd: number;
  read: number;
  ms: Classification['ms'];
}

/** Medians over the requests of each phase (ms), and of end to end / the request's own run. */
type Breakdown = Record<
  'endToEnd' | 'read' | 'decode' | 'run' | 'workerOther' | 'messaging' | 'overOwnRun' | 'ratioOwnRun',
  number
>;

/** Where one request's time went; medians of per-request differences, not differences of medians. */
function breakdownOf(details: RequestDetail[] | undefined): Breakdown | undefined {
  if (!details?.length) return undefined;
  const m = (f: (d: RequestDetail) => number): number => median(details.map(f));
  return {
    endToEnd: m((d) => d.endToEnd),
    read: m((d) => d.read),
    decode: m((d) => d.ms.decode),
    run: m((d) => d.ms.run),
    workerOther: m((d) => d.ms.total - d.ms.decode - d.ms.run),
    messaging: m((d) => d.endToEnd - d.read - d.ms.total),
    overOwnRun: m((d) => d.endToEnd - d.ms.run),
    ratioOwnRun: m((d) => d.endToEnd / d.ms.run),
  };
}

function stats(samples: number[]): Stats {
  return {
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    runs: samples.length,
  };
}

/** The first of `items`, which the benchmark has just measured. */
function first<T>(items: readonly T[], what: string): T {
  const [item] = items;
  if (item === undefined) throw new Error(`bench: no ${what}`);
  return item;
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

interface CpuSnapshot {
  wall: number;
  /** Busy CPU milliseconds of the whole machine, all cores. */
  busy: number;
  /** CPU milliseconds of this process, all threads. */
  own: number;
}

function cpuSnapshot(): CpuSnapshot {
  const busy = os.cpus().reduce((a, c) => a + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
  const own = process.cpuUsage();
  return { wall: performance.now(), busy, own: (own.user + own.system) / 1000 };
}

/** Share of the machine's CPU time that other processes used between two snapshots. */
function othersShare(a: CpuSnapshot, b: CpuSnapshot): number {
  const capacity = (b.wall - a.wall) * os.cpus().length;
  return Math.max(0, (b.busy - a.busy - (b.own - a.own)) / capacity);
}

async function packageVersion(name: string): Promise<string> {
  const file = path.join(ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(await fs.readFile(file, 'utf8')) as { version: string }).version;
}

/** Progress goes to stderr so that stdout holds only the report. */
function progress(message: string): void {
  console.error(`[bench] ${message}`);
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exitCode = 1;
});
