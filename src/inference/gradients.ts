// Gradients in the worker: which explainable layers of a model Grad-CAM supports, and onnxruntime
// sessions of the gradient models (src/model/gradient) that compute ∂(class logit)/∂A from a layer's output
// A. Each gradient model is built once per model and layer and kept for the next images; only the last few
// are kept, because each holds the weights after its layer (up to the whole model's).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import type * as Ort from 'onnxruntime-node';
import type { ModelDescriptor } from '../model/descriptor';
import { buildGradientModel, findLogits, gradientSupport } from '../model/gradient';
import { sessionOptions } from './sessionOptions';

/** Gradient sessions kept at once. */
const KEPT_SESSIONS = 2;

/** A gradient model's session with its target's shape for one image, or why the layer has none. */
type Built = { session: Ort.InferenceSession; classes: number; target: number[] } | { unsupported: string };

/** Session settings of the worker that gradient sessions follow. */
export interface GradientSettings {
  /** Intra-op threads; 0 lets onnxruntime choose. */
  threads: number;
  log: (m: string) => void;
}

/** Support lists and gradient sessions, by model file and layer output. */
export class GradientModels {
  private readonly support = new Map<string, Promise<(string | null)[]>>();
  /** Most recently used last. */
  private readonly sessions = new Map<string, Promise<Built>>();

  constructor(private readonly settings: GradientSettings) {}

  /**
   * Why Grad-CAM cannot explain each of the model's explainable layers' `tensors` (null where it can);
   * computed once.
   */
  layers(d: ModelDescriptor, tensors: readonly string[]): Promise<(string | null)[]> {
    const key = [d.modelPath, ...tensors].join('\n');
    let s = this.support.get(key);
    if (!s) {
      const crop = d.preprocessing.crop;
      s = decode(d.modelPath).then((model) => gradientSupport(model, tensors, { spatial: [crop, crop] }));
      s.catch(() => this.support.delete(key));
      this.support.set(key, s);
    }
    return s;
  }

  /**
   * ∂(logit of class k)/∂A for each k of `classes`, at the layer output `tensor` whose values for one image
   * are `features` ([1, C, H, W] as `dims`): one run of the gradient model on as many copies of A, one-hot
   * seeds. Returns the gradients one after another (classes × C × H × W), or why there are none.
   */
  async gradients(
    d: ModelDescriptor,
    tensor: string,
    provider: string,
    a: { features: Float32Array; dims: number[] },
    classes: number[],
  ): Promise<Float32Array | { unsupported: string }> {
    const built = await this.session(d, tensor, provider);
    if ('unsupported' in built) return built;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ort = require('onnxruntime-node') as typeof Ort;
    const size = a.features.length;
    const x = new Float32Array(classes.length * size);
    const seed = new Float32Array(classes.length * built.classes);
    classes.forEach((k, i) => {
      x.set(a.features, i * size);
      seed[i * built.classes + k] = 1;
    });
    const out = await built.session.run(
      {
        features: new ort.Tensor('float32', x, [classes.length, ...a.dims.slice(1)]),
        seed: new ort.Tensor('float32', seed, [classes.length, built.classes]),
      },
      ['gradient'],
    );
    return out.gradient!.data as Float32Array;
  }

  /**
   * ∂(target[index])/∂A for one element of a tensor other than the logits (`index` into one image's
   * `target`: a detector's class logit at one anchor), at the layer output `tensor` whose values are
   * `features`. Returns the gradient ([C, H, W] of A), or why there is none.
   */
  async gradientAt(
    d: ModelDescriptor,
    tensor: string,
    target: string,
    provider: string,
    a: { features: Float32Array; dims: number[] },
    index: number,
  ): Promise<Float32Array | { unsupported: string }> {
    const built = await this.session(d, tensor, provider, target);
    if ('unsupported' in built) return built;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ort = require('onnxruntime-node') as typeof Ort;
    const seed = new Float32Array(built.target.reduce((n, v) => n * v, 1));
    seed[index] = 1;
    const out = await built.session.run(
      {
        features: new ort.Tensor('float32', a.features, [1, ...a.dims.slice(1)]),
        seed: new ort.Tensor('float32', seed, [1, ...built.target]),
      },
      ['gradient'],
    );
    return out.gradient!.data as Float32Array;
  }

  /** Releases every gradient session (idle, or the worker is closing). */
  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    this.support.clear();
    await Promise.all(
      all.map((b) => b.then((s) => ('session' in s ? s.session.release() : undefined), noop)),
    );
  }

  /** The gradient session from `tensor` to `target` (default: the classifier's logits). */
  private session(d: ModelDescriptor, tensor: string, provider: string, target?: string): Promise<Built> {
    const key = `${d.modelPath}\n${tensor}\n${provider}\n${target ?? ''}`;
    let s = this.sessions.get(key);
    if (s) this.sessions.delete(key);
    else {
      s = this.create(d, tensor, provider, target);
      s.catch(() => this.sessions.delete(key));
    }
    this.sessions.set(key, s);
    for (const [k, old] of this.sessions) {
      if (this.sessions.size <= KEPT_SESSIONS) break;
      this.sessions.delete(k);
      void old.then((b) => ('session' in b ? b.session.release() : undefined), noop);
    }
    return s;
  }

  private async create(
    d: ModelDescriptor,
    tensor: string,
    provider: string,
    target?: string,
  ): Promise<Built> {
    const model = await decode(d.modelPath);
    const crop = d.preprocessing.crop;
    const built = buildGradientModel(model, tensor, target ?? findLogits(model), { spatial: [crop, crop] });
    if ('unsupported' in built) return { unsupported: built.unsupported };
    if (built.note) this.settings.log(`gradient model at ${tensor}: ${built.note}`);
    const bytes = onnx.ModelProto.encode(built.model).finish();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ort = require('onnxruntime-node') as typeof Ort;
    const options = (providers: string[]): Ort.InferenceSession.SessionOptions => ({
      ...sessionOptions(providers, this.settings.threads),
      extra: {
        session: {
          // Weights kept in an external data file resolve beside the model; idle threads must not spin
          // and slow the classify and exploration sessions sharing these cores.
          model_external_initializers_file_folder_path: path.dirname(d.modelPath),
          intra_op: { allow_spinning: '0' },
        },
      },
    });
    let session: Ort.InferenceSession;
    try {
      // Ops the GPU provider lacks (ScatterElements' reduction, say) fall back to the CPU node by node.
      session = await ort.InferenceSession.create(
        bytes,
        options(provider === 'cpu' ? ['cpu'] : [provider, 'cpu']),
      );
    } catch (err) {
      if (provider === 'cpu') throw err;
      this.settings.log(
        `gradient model on ${provider} failed (${(err as Error).message.split('\n')[0]}); using the CPU`,
      );
      session = await ort.InferenceSession.create(bytes, options(['cpu']));
    }
    const classes = built.logits[1];
    const shape = built.logits.slice(1).map((v) => (typeof v === 'number' ? v : 1));
    return { session, classes: typeof classes === 'number' ? classes : d.labels.length, target: shape };
  }
}

/** The model with its weights (external ones stay references, resolved by onnxruntime). */
async function decode(file: string): Promise<onnx.IModelProto> {
  const bytes = await fs.readFile(file);
  return onnx.ModelProto.decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

function noop(): void {}
