// The inference worker thread: owns the classify InferenceSession (and, once asked to explore, the
// exploration one in ./exploration; for explanations, gradient sessions in ./explainer; for timing,
// profiling, comparing precisions and quantizing, sessions of their own), decodes images, batches runs.
// onnxruntime's create() and run() block the calling thread, which is why they live here.
import { parentPort, workerData } from 'node:worker_threads';
import type { ModelDescriptor } from '../model/descriptor';
import { ModelFileError } from '../model/onnxGraph';
import type { Precision } from '../shared/quantization';
import { Explainer } from './explainer';
import { Explorer } from './exploration';
import type {
  CallReply,
  CallRequest,
  Classification,
  JobProgress,
  WorkerCall,
  WorkerConfig,
  WorkerRequest,
  WorkerResponse,
} from './messages';
import { analyseModel, type ModelAnalysis } from './modelAnalysis';
import { measurePeak } from './peak';
import { floatData, imageTensor } from './feed';
import { topK, toScores } from './postprocess';
import { PrecisionPairs } from './precisionPairs';
import { ImageError, prepareImage, wholePreview } from './preprocess';
import { profileModel } from './profiling';
import { compareQuantized } from './quantCompare';
import { quantizeModel } from './quantizeJob';
import { sessionRunner } from './scoring';
import { createSession, ModelError, type LoadedSession } from './session';
import { analyseImage, PREVIEW_SIDE } from './taskRunner';
import { boxGradCam } from './boxExplain';
import { GradientModels } from './gradients';
import { timeModel } from './timing';

/** A decoded image waiting for a run. */
interface Ready {
  id: number;
  topK: number;
  tensor: Float32Array;
  preview?: Uint8Array;
  width: number;
  height: number;
  started: number;
  decodeMs: number;
  /** The model load this request waited for before its decode began, when it did. */
  loadMs?: number;
}

const port = parentPort!;
const cfg = workerData as WorkerConfig;
const ready: Ready[] = [];
let session: Promise<LoadedSession> | undefined;
/** How long the session took to load, from the first request that needed it; undefined until it has. */
let sessionLoadMs: number | undefined;
/** Analyses by model file: the float model's (the `layers` answer) and, when it runs, its int8 model's. */
const analyses = new Map<string, Promise<ModelAnalysis>>();
/** Peak GFLOP/s by provider and precision, measured once. */
const peaks = new Map<string, Promise<number>>();
/** Long requests in progress (timing, profile, quantize), and whether the client has cancelled each. */
const jobs = new Map<number, boolean>();
let running = false;
let scheduled = false;
/** Images whose decode is under way. */
let decoding = 0;

const send = (m: WorkerResponse, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
/** Answers a request with the reply of its type. */
const reply = <K extends WorkerCall>(id: number, value: CallReply<K>, transfer: ArrayBuffer[] = []): void =>
  send({ type: 'reply', id, value }, transfer);
const log = (message: string): void => send({ type: 'log', message });
/** Tells the client how far request `id` has got. */
const progressOf =
  (id: number) =>
  (progress: JobProgress): void =>
    send({ type: 'progress', id, progress });
/** Exploration sessions by provider and precision: the panel's, and the CPU pair that compares precisions. */
const explorers = new Map<string, Explorer>();
/** The worker's configuration and its explorers' copies: a `limits` request updates them in place. */
const configs: WorkerConfig[] = [cfg];
// Separate sessions, created on the first request that needs them: the classify session stays as it is.
const explorer = explorerFor(cfg.provider, cfg.precision ?? 'fp32');
const pairs = new PrecisionPairs(cfg, log);
// Explanations read the panel's exploration and score their images through the classify session.
const explainer = new Explainer({
  explorer,
  run: sessionRunner(getSession),
  batch: cfg.batchSize,
  threads: cfg.threads,
  idleMs: cfg.exploreIdleMs,
  log,
});

/** The session, created on first use; a failed creation is retried by the next request. */
function getSession(): Promise<LoadedSession> {
  if (!session) {
    const t = performance.now();
    session = createSession(cfg, log, { status: (message) => send({ type: 'status', message }) }).then(
      (s) => {
        sessionLoadMs ??= performance.now() - t;
        return s;
      },
      (err) => {
        session = undefined;
        throw err;
      },
    );
  }
  return session;
}

/** A model's layer table (shapes measured where needed), computed once; a failure is retried by the next request. */
function analysisOf(d: ModelDescriptor): Promise<ModelAnalysis> {
  let a = analyses.get(d.modelPath);
  if (!a) {
    a = analyseModel(d, log).catch((err) => {
      analyses.delete(d.modelPath);
      throw err;
    });
    analyses.set(d.modelPath, a);
  }
  return a;
}

function explorerFor(provider: WorkerConfig['provider'], precision: Precision): Explorer {
  const key = `${provider}/${precision}`;
  let e = explorers.get(key);
  if (!e) {
    const config = { ...cfg, provider, precision };
    configs.push(config);
    e = new Explorer(config, log, analysisOf);
    explorers.set(key, e);
  }
  return e;
}

function peakOf(provider: string, precision: Precision): Promise<number> {
  const key = `${provider}/${precision}`;
  let p = peaks.get(key);
  if (!p) {
    p = measurePeak(provider, precision, cfg.threads).catch((err) => {
      peaks.delete(key);
      throw err;
    });
    peaks.set(key, p);
  }
  return p;
}

/** Gradient sessions of detectors' class logits, for Grad-CAM of a box. */
const boxGradients = new GradientModels({ threads: cfg.threads, log });

/** Answers a request with what `work` settles with, or with its failure. */
function answer<K extends WorkerCall>(req: CallRequest<K>, work: Promise<CallReply<K>>): void {
  work.then(
    (value) => reply<K>(req.id, value),
    (err: Error) => fail(req.id, err),
  );
}

/** Runs a cancellable request; a cancelled one is already answered by the client, so its end is not sent. */
function job<K extends WorkerCall>(
  req: CallRequest<K>,
  work: (cancelled: () => boolean) => Promise<CallReply<K>>,
): void {
  const { id } = req;
  jobs.set(id, false);
  const cancelled = (): boolean => jobs.get(id) === true;
  work(cancelled)
    .then(
      (value) => reply<K>(id, value),
      (err: Error) => {
        if (!cancelled()) fail(id, err);
      },
    )
    .finally(() => jobs.delete(id));
}

// Requests that read a classifier's class scores: a detector's or segmenter's outputs are no such thing.
const CLASSIFIER_ONLY: ReadonlySet<WorkerRequest['type']> = new Set([
  'classify',
  'explore',
  'featureMaps',
  'explain',
  'explainableLayers',
  'compareQuantized',
  'comparePrecisions',
  'quantize',
]);

// Requests that read a detector's or segmenter's outputs.
const TASK_ONLY: ReadonlySet<WorkerRequest['type']> = new Set(['analyse', 'taskMaps', 'boxMap']);

/** Why a request cannot be answered for a detector or segmenter, in words. */
function notForTasks(type: string): ModelError {
  const task = cfg.descriptor.task!;
  const what = {
    detect: 'a detector',
    instances: 'an instance segmenter',
    pose: 'a pose model',
    segment: 'a segmenter',
  }[task.kind];
  return new ModelError(
    `${cfg.descriptor.name} is ${what} (${task.evidence}): ${type} reads class scores, which it does not output; ` +
      'its boxes, masks or class shares come from Classify, where it looks from EigenCAM and Grad-CAM of a box, ' +
      'its architecture from the layer table and its time from the profile (per-layer exploration and ' +
      'quantization of detectors and segmenters are not in this version)',
  );
}

port.on('message', (req: WorkerRequest) => {
  if (cfg.descriptor.task && CLASSIFIER_ONLY.has(req.type) && 'id' in req) {
    fail(req.id, notForTasks(req.type));
    return;
  }
  if (!cfg.descriptor.task && cfg.descriptor.unread === undefined && TASK_ONLY.has(req.type) && 'id' in req) {
    fail(
      req.id,
      new ModelError(`${cfg.descriptor.name} is a classifier: ${req.type} is for detectors and segmenters`),
    );
    return;
  }
  const { unread } = cfg.descriptor;
  const runsIt = CLASSIFIER_ONLY.has(req.type) || TASK_ONLY.has(req.type);
  if (unread !== undefined && runsIt && 'id' in req) {
    fail(req.id, new ModelError(`${unread}: it opens for its layer table and profile only`));
    return;
  }
  switch (req.type) {
    case 'classify':
      void accept(req);
      return;
    case 'taskMaps':
      answer(req, explorer.taskMaps(req.bytes));
      return;
    case 'boxMap':
      answer(
        req,
        explorer.withTaskRun(req.bytes, (run) => boxGradCam(run, boxGradients, req)),
      );
      return;
    case 'analyse':
      answer(
        req,
        getSession().then((s) => analyseImage(s, req.bytes, req.thresholds, cfg.maxPixels, req.preview)),
      );
      return;
    case 'layers':
      // Parsed here, not on the host's thread: reading and parsing a 100 MB model takes ~100 ms.
      answer(
        req,
        analysisOf(cfg.descriptor).then((a) => a.table),
      );
      return;
    case 'explore':
      answer(req, explorer.explore(req.bytes, req.topK, req.preview));
      return;
    case 'preview':
      // A detector's boxes are drawn on the whole image; a classifier's preview is the crop it sees.
      answer(
        req,
        cfg.descriptor.task
          ? wholePreview(req.bytes, PREVIEW_SIDE, cfg.maxPixels)
          : prepareImage(req.bytes, cfg.descriptor.preprocessing, cfg.maxPixels, true).then(
              (p) => p.preview ?? new Uint8Array(),
            ),
      );
      return;
    case 'featureMaps':
      explorer.featureMaps(req.key, req.layer, req.count, req.offset, req.bytes).then(
        (maps) => reply<'featureMaps'>(req.id, maps, [maps.data.buffer as ArrayBuffer]),
        (err: Error) => fail(req.id, err),
      );
      return;
    case 'explain':
      job(req, (cancelled) => explainer.explain(req.image, req.request, cancelled));
      return;
    case 'explainableLayers':
      answer(req, explainer.layers());
      return;
    case 'runtimeInfo':
      answer(
        req,
        getSession().then((s) => s.info),
      );
      return;
    case 'time':
      job(req, (cancelled) => timeModel(cfg, log, req, cancelled, progressOf(req.id)));
      return;
    case 'profile':
      job(req, (cancelled) =>
        profileModel(cfg, log, req, cancelled, { analysis: analysisOf, peak: peakOf }, progressOf(req.id)),
      );
      return;
    case 'compareQuantized': {
      const both = { fp32: explorerFor('cpu', 'fp32'), int8: explorerFor('cpu', 'int8') };
      answer(
        req,
        analysisOf(cfg.descriptor).then(({ table }) =>
          compareQuantized({ ...both, table, labels: cfg.descriptor.labels }, req.bytes, req.topK),
        ),
      );
      return;
    }
    case 'comparePrecisions':
      answer(
        req,
        prepareImage(req.bytes, cfg.descriptor.preprocessing, cfg.maxPixels)
          .then((p) => pairs.classify(p.tensor, req.topK))
          .then((pair) => ({ name: req.name, ...pair })),
      );
      return;
    case 'quantize':
      job(req, (cancelled) =>
        quantizeModel(cfg, log, req, {
          cancelled,
          progress: (p) => send({ type: 'progress', id: req.id, progress: p }),
        }),
      );
      return;
    case 'cancel':
      if (jobs.has(req.target)) jobs.set(req.target, true);
      return;
    case 'limits':
      for (const c of configs) c.maxPixels = req.maxPixels;
      return;
    default:
      req satisfies never;
  }
});

/** Decodes one request (on sharp's threads) and queues it for the next run. */
async function accept(req: CallRequest<'classify'>): Promise<void> {
  decoding++;
  try {
    // The model loads first: creating a session blocks this thread, so a decode timed across it would count
    // the load (seconds) as decode. The load is reported apart, once (`loadMs`), not in any image's `ms`.
    // A failed load is reported by the run, which tries it again.
    const waited =
      sessionLoadMs === undefined &&
      (await getSession().then(
        () => true,
        () => false,
      ));
    const loadMs = waited ? sessionLoadMs : undefined;
    const started = performance.now();
    const p = await prepareImage(req.bytes, cfg.descriptor.preprocessing, cfg.maxPixels, req.preview);
    const decodeMs = performance.now() - started;
    ready.push({
      id: req.id,
      topK: req.topK,
      ...p,
      started,
      decodeMs,
      ...(loadMs !== undefined && { loadMs }),
    });
  } catch (err) {
    fail(req.id, err as Error);
  } finally {
    decoding--;
    schedulePump();
  }
}

/** Pumps after the current event-loop turn, so that every decode finished by then joins the batch. */
function schedulePump(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    void pump();
  });
}

/** Runs queued images in batches of up to `batchSize`, one run at a time. */
async function pump(): Promise<void> {
  if (running || ready.length === 0) return;
  // While more images are decoding, wait for them to fill the batch: one run of 8 beats 1 + 7.
  if (decoding > 0 && ready.length < cfg.batchSize) return;
  running = true;
  let batch: Ready[] = [];
  try {
    const s = await getSession();
    batch = ready.splice(0, Math.max(1, Math.min(cfg.batchSize, s.maxBatch)));
    const { crop } = cfg.descriptor.preprocessing;
    const size = 3 * crop * crop;
    const data = new Float32Array(size * batch.length);
    batch.forEach((r, i) => data.set(r.tensor, i * size));
    const t = performance.now();
    const out = await s.session.run({
      [s.input]: imageTensor(s.ort, cfg.descriptor, data, batch.length),
    });
    const runMs = performance.now() - t;
    const output = out[s.output];
    if (!output) throw new ModelError(`the model gave no output "${s.output}"`);
    const scores = floatData(output);
    const classes = scores.length / batch.length;
    batch.forEach((r, i) => {
      const row = scores.subarray(i * classes, (i + 1) * classes);
      const probs = toScores(row, cfg.descriptor.outputKind);
      const result: Classification = {
        top: topK(probs, r.topK, cfg.descriptor.labels),
        provider: s.info.provider,
        precision: s.info.precision,
        ms: { decode: r.decodeMs, run: runMs, total: performance.now() - r.started },
        ...(r.loadMs !== undefined && { loadMs: r.loadMs }),
        batch: batch.length,
        width: r.width,
        height: r.height,
        preview: r.preview,
      };
      reply<'classify'>(r.id, result);
    });
  } catch (err) {
    // A model failure fails everything waiting; the next request retries the session.
    for (const r of [...batch, ...ready.splice(0)]) fail(r.id, err as Error);
  } finally {
    running = false;
  }
  schedulePump();
}

function fail(id: number, err: Error): void {
  const model = err instanceof ModelError || err instanceof ModelFileError;
  const kind = err instanceof ImageError ? 'image' : model ? 'model' : 'internal';
  send({ type: 'failed', id, message: err.message, kind });
}
