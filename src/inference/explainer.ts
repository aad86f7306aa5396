// Explanations, worker side: maps of where the evidence for an image's top classes lies, by CAM (EigenCAM
// where CAM is impossible), Grad-CAM and HiResCAM at any supported stage or block output, occlusion and
// Score-CAM, and on request each map's faithfulness beside a random map's. Activations come from the
// exploration session (which already ran the image); images to score go through the classify session in
// batches, each distinct image once per request (./scoring).
import { normaliseMap } from '../model/cam';
import { faithfulness } from '../model/explain/faithfulness';
import { occlusionMap, scoreCam } from '../model/explain/gradientFree';
import {
  DEFAULT_OCCLUSION,
  DEFAULT_SCORECAM_CHANNELS,
  defaultExplainLayer,
  FAITHFULNESS_STEPS,
  type ExplainableLayer,
  type ExplainedClass,
  type Explanation,
} from '../shared/exploration';
import { mapsOver, type Activation, type Activations, type Explorer, type Loaded } from './exploration';
import { gradCamMap, hiResCamMap, meanGradient } from './gradCam';
import { GradientModels } from './gradients';
import { IdleRelease } from './idleRelease';
import type { ExplainImage, ExplainRequest } from './messages';
import { topK, type Prediction } from './postprocess';
import { Cancelled, ScoreBook, type BatchRunner } from './scoring';

/** What the explainer works with. */
export interface ExplainerDeps {
  explorer: Explorer;
  /** Class probabilities of preprocessed images (the classify session), and how many per run. */
  run: BatchRunner;
  batch: number;
  /** Intra-op threads of the gradient sessions; 0 lets onnxruntime choose. */
  threads: number;
  /** Ms unused after which gradient sessions are let go (0: never). */
  idleMs?: number;
  log: (m: string) => void;
}

/** An explainable layer, as listed and as the worker finds it. */
interface Layer {
  info: ExplainableLayer;
  tensor: string;
}

/** A method's maps before metrics: the grid size, what it used, the classes. */
type Maps = Omit<Explanation, 'key' | 'method' | 'scored' | 'ms'> & { method?: Explanation['method'] };

/** Serves explain and explainableLayers requests. */
export class Explainer {
  private readonly gradients: GradientModels;
  private readonly idle: IdleRelease;

  constructor(private readonly deps: ExplainerDeps) {
    this.gradients = new GradientModels({ threads: deps.threads, log: deps.log });
    this.idle = new IdleRelease(deps.idleMs, () => void this.gradients.release());
  }

  /** The explainable layers of the model the exploration runs, with Grad-CAM's support there. */
  async layers(): Promise<ExplainableLayer[]> {
    return this.idle.busy(async () => {
      const { loaded } = await this.deps.explorer.model();
      return (await this.layersOf(loaded)).map((l) => l.info);
    });
  }

  /** Maps of `req.method` for the image's top classes; stops between batches once `cancelled()`. */
  async explain(image: ExplainImage, req: ExplainRequest, cancelled: () => boolean): Promise<Explanation> {
    return this.idle.busy(async () => {
      const book = new ScoreBook(this.deps.run, this.deps.batch, cancelled);
      try {
        return await this.compute(image, req, book, cancelled);
      } catch (err) {
        // The client has already answered a cancelled request; the log says that the work stopped.
        if (err instanceof Cancelled)
          this.deps.log(`${req.method} cancelled after scoring ${book.scored} images`);
        throw err;
      }
    });
  }

  private async compute(
    image: ExplainImage,
    req: ExplainRequest,
    book: ScoreBook,
    cancelled: () => boolean,
  ): Promise<Explanation> {
    const started = performance.now();
    const { loaded, acts } = await this.deps.explorer.activations(image);
    const layers = await this.layersOf(loaded);
    const crop = loaded.session.descriptor.preprocessing.crop;
    const maps = await this.maps(loaded, acts, layers, req, book, cancelled);
    const mapMs = performance.now() - started;
    if (req.metrics) {
      for (const c of maps.classes) {
        // EigenCAM's map belongs to no class: it is checked against the top class.
        const k =
          c.index >= 0 ? c.index : topK(acts.probabilities, 1, loaded.session.descriptor.labels)[0]!.index;
        const grid = { rows: maps.rows, cols: maps.cols, values: c.grid };
        c.metrics = await faithfulness(acts.image, grid, book.of(k), { crop, steps: FAITHFULNESS_STEPS });
      }
    }
    const total = performance.now() - started;
    return {
      key: acts.key,
      ...maps,
      method: maps.method ?? req.method,
      scored: book.scored,
      ms: { map: mapMs, metrics: total - mapMs, total },
    };
  }

  private async maps(
    loaded: Loaded,
    acts: Activations,
    layers: Layer[],
    req: ExplainRequest,
    book: ScoreBook,
    cancelled: () => boolean,
  ): Promise<Maps> {
    const d = loaded.session.descriptor;
    const at: At = {
      acts,
      crop: d.preprocessing.crop,
      top: topK(acts.probabilities, Math.max(1, req.classes), d.labels),
      book,
    };
    switch (req.method) {
      case 'occlusion':
        return occlusion(at, req);
      case 'cam':
        return this.cam(loaded, layers, at, req.layer);
      case 'scorecam':
      case 'gradcam':
      case 'hirescam': {
        const name =
          req.layer ??
          defaultExplainLayer(
            layers.map((l) => l.info),
            req.method,
          );
        if (name === null)
          return none(at, undefined, 'no layer outputs a feature map [N, C, H, W] bigger than 1×1');
        const layer = this.find(layers, name);
        if (req.method === 'scorecam') return scoreCamMaps(at, layer, req.channels);
        if (cancelled()) throw new Cancelled();
        return this.gradientMaps(loaded, at, layer, req.method);
      }
    }
  }

  /** CAM (or EigenCAM) at its own layer; any other layer gets the reason. */
  private cam(loaded: Loaded, layers: Layer[], at: At, layer: string | undefined): Maps {
    const maps = loaded.model.maps;
    const asked = layer === undefined ? undefined : this.find(layers, layer);
    if (!maps) return none(at, asked, loaded.model.camReason ?? 'no layer to make a map from');
    if (asked && !asked.info.cam) {
      const what = maps.method === 'cam' ? 'CAM explains' : 'EigenCAM, standing in for CAM, reads';
      return none(at, asked, `${what} only ${maps.layer}; Grad-CAM and Score-CAM explain other layers`);
    }
    const cam = mapsOver(maps, at.acts, at.crop, at.top);
    const { method, rows, cols, classes } = cam;
    return { method, layer: maps.layer, rows, cols, crop: at.crop, classes, reason: loaded.model.camReason };
  }

  /** Grad-CAM or HiResCAM: one run of the layer's gradient model for every class. */
  private async gradientMaps(
    loaded: Loaded,
    at: At,
    layer: Layer,
    method: 'gradcam' | 'hirescam',
  ): Promise<Maps> {
    if (layer.info.reason !== null) return none(at, layer, layer.info.reason);
    const a = output(at.acts, layer);
    const g = await this.gradients.gradients(
      loaded.session.descriptor,
      layer.tensor,
      loaded.session.info.provider,
      { features: a.data, dims: a.dims },
      at.top.map((c) => c.index),
    );
    if (!(g instanceof Float32Array)) return none(at, layer, g.unsupported);
    const [channels, rows, cols] = layer.info.shape;
    const size = a.data.length;
    const classes = at.top.map((c, i): ExplainedClass => {
      const grad = g.subarray(i * size, (i + 1) * size);
      const alpha = meanGradient(grad, channels!);
      const raw = method === 'gradcam' ? gradCamMap(a.data, alpha) : hiResCamMap(a.data, grad, channels!);
      return { ...c, grid: normaliseMap(raw), mean_gradient: Array.from(alpha) };
    });
    return { layer: layer.info.layer, rows: rows!, cols: cols!, crop: at.crop, classes, reason: null };
  }

  private find(layers: Layer[], name: string): Layer {
    const layer = layers.find((l) => l.info.layer === name);
    if (!layer) {
      throw new Error(
        `the model has no explainable layer "${name}" (it has ${layers.map((l) => l.info.layer).join(', ')})`,
      );
    }
    return layer;
  }

  private async layersOf(loaded: Loaded): Promise<Layer[]> {
    const outputs = loaded.model.explainable;
    const reasons = await this.gradients.layers(
      loaded.session.descriptor,
      outputs.map((o) => o.tensor),
    );
    const maps = loaded.model.maps;
    const camTensor = maps?.method === 'cam' ? maps.source.features : maps?.features;
    return outputs.map(
      (o, i): Layer => ({
        tensor: o.tensor,
        info: {
          layer: o.layer,
          kind: o.kind,
          row: o.row,
          shape: o.shape,
          reason: reasons[i] ?? null,
          cam: o.tensor === camTensor,
        },
      }),
    );
  }
}

/** What every method reads: the image's activations, the crop, the classes to explain, the scores. */
interface At {
  acts: Activations;
  crop: number;
  top: Prediction[];
  book: ScoreBook;
}

/** No maps, and why; the grid size is the layer's when there is one. */
function none(at: At, layer: Layer | undefined, reason: string): Maps {
  const [, rows = 0, cols = 0] = layer?.info.shape ?? [];
  return { layer: layer?.info.layer ?? null, rows, cols, crop: at.crop, classes: [], reason };
}

/** The layer's output for this image, which the exploration holds for every row. */
function output(acts: Activations, layer: Layer): Activation {
  const a = acts.tensors.get(layer.tensor);
  if (!a) throw new Error(`the exploration holds no output of ${layer.info.layer} (${layer.tensor})`);
  return a;
}

/** Occlusion: the patch grid's drops, one class after another over the same scored images. */
async function occlusion(at: At, req: ExplainRequest): Promise<Maps> {
  const { crop, acts } = at;
  const scale = crop / DEFAULT_OCCLUSION.crop;
  const patch = Math.min(crop, Math.max(1, Math.round(req.patch ?? DEFAULT_OCCLUSION.patch * scale)));
  const stride = Math.max(1, Math.round(req.stride ?? DEFAULT_OCCLUSION.stride * scale));
  const baseline = new Float32Array(acts.image.length); // the mean colour after normalisation
  const classes: ExplainedClass[] = [];
  let positions = 0;
  for (const c of at.top) {
    const grid = await occlusionMap(acts.image, baseline, at.book.of(c.index), { crop, patch, stride });
    positions = grid.rows;
    classes.push({ ...c, grid: normaliseMap(grid.values) });
  }
  return { layer: null, rows: positions, cols: positions, crop, classes, reason: null, patch, stride };
}

/** Score-CAM over the layer's strongest channels, one class after another over the same scored images. */
async function scoreCamMaps(at: At, layer: Layer, channels: number | undefined): Promise<Maps> {
  const [c, height, width] = layer.info.shape;
  const k = Math.min(c!, Math.max(1, channels ?? DEFAULT_SCORECAM_CHANNELS));
  const baseline = new Float32Array(at.acts.image.length);
  const features = { channels: c!, height: height!, width: width!, data: output(at.acts, layer).data };
  const classes: ExplainedClass[] = [];
  for (const p of at.top) {
    const grid = await scoreCam(at.acts.image, baseline, features, at.book.of(p.index), at.crop, k);
    classes.push({ ...p, grid: normaliseMap(grid.values) });
  }
  return {
    layer: layer.info.layer,
    rows: height!,
    cols: width!,
    crop: at.crop,
    classes,
    reason: null,
    channels: k,
  };
}
