// Checking gradient models against finite differences in onnxruntime: deterministic weights for models
// built without them, one batched run that holds the gradients of several classes and every perturbed copy
// of A, and a comparison that skips elements sitting on a kink (ReLU at 0, a max pool's tie).
import assert from 'node:assert/strict';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { buildGradientModel, type GradientModel } from '../../../src/model/gradient';
import { withOutputs } from '../../../src/model/explorationModel';

/** A deterministic uniform generator in [0, 1) (32-bit LCG; Math.imul keeps the product exact). */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/**
 * Gives every float initializer without values (or with only zeros) deterministic ones that keep
 * activations of order 1 through deep networks: LeCun-uniform weights (variance 1/fan-in), BatchNorm scales and variances in
 * [0.5, 1.5], small biases and means. Tensors that have values (Clip's bounds) keep them.
 */
export function fillWeights(model: onnx.IModelProto, seed = 1): void {
  const g = model.graph!;
  const source = new Map<string, string>();
  for (const n of g.node ?? []) if (n.opType === 'Identity') source.set(n.output![0]!, n.input![0]!);
  const resolve = (t: string): string => (source.has(t) ? resolve(source.get(t)!) : t);
  const positive = new Set<string>();
  for (const n of g.node ?? []) {
    if (n.opType !== 'BatchNormalization') continue;
    positive.add(resolve(n.input![1]!));
    positive.add(resolve(n.input![4]!));
  }
  const rand = generator(seed);
  for (const t of g.initializer ?? []) {
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT || hasValues(t)) continue;
    const dims = (t.dims ?? []).map(Number);
    const size = dims.reduce((a, b) => a * b, 1);
    const fanIn = dims.slice(1).reduce((a, b) => a * b, 1);
    const bound = dims.length >= 2 ? Math.sqrt(3 / fanIn) : 0.2;
    const values = Float32Array.from({ length: size }, () =>
      positive.has(t.name!) ? 0.5 + rand() : (2 * rand() - 1) * bound,
    );
    t.rawData = new Uint8Array(values.buffer);
    t.floatData = [];
    t.externalData = [];
    t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
  }
}

function hasValues(t: onnx.ITensorProto): boolean {
  if (t.floatData && t.floatData.length > 0) return t.floatData.some((v) => v !== 0);
  const raw = t.rawData;
  return !!raw && raw.length > 0 && raw.some((b) => b !== 0);
}

/** Runs a model once and returns its outputs as float arrays with their dims. */
export async function runOnce(
  bytes: Uint8Array,
  feeds: Record<string, { data: Float32Array; dims: number[] }>,
): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    const input = Object.fromEntries(
      Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.dims)]),
    );
    const out = await s.run(input);
    return Object.fromEntries(
      Object.entries(out).map(([k, v]) => [k, { data: v.data as Float32Array, dims: [...v.dims] }]),
    );
  } finally {
    await s.release();
  }
}

/** A's values and the logits for one input of the original model (batch 1). */
export async function featuresOf(
  bytes: Uint8Array,
  input: { name: string; data: Float32Array; dims: number[] },
  from: string,
  logits: string,
): Promise<{ features: Float32Array; dims: number[]; logits: Float32Array }> {
  const out = await runOnce(withOutputs(bytes, [from, logits]), { [input.name]: input });
  return { features: out[from]!.data, dims: out[from]!.dims, logits: out[logits]!.data };
}

/** What a finite-difference check found. */
export interface CheckResult {
  gradient: GradientModel;
  /** The gradients of the classes asked for, one array per class. */
  gradients: Float32Array[];
  /** Element×class pairs compared, and pairs skipped because every step crossed a kink. */
  compared: number;
  kinks: number;
  /** Largest error as a fraction of the tolerance (≤ 1 passes). */
  worst: number;
}

/** Options of `checkGradient`. */
export interface CheckOptions {
  classes?: number[];
  /** Elements of A to perturb (flat indices within one image); default: corners, edges and the centre. */
  elements?: number[];
  /** How many of the largest |gradient| elements of the first class to add. */
  largest?: number;
  /** Steps tried from the largest down, until the one-sided differences agree. */
  eps?: number[];
  rtol?: number;
  /** Absolute tolerance as a fraction of the class's largest |gradient| (float32 rounding in the logits). */
  atol?: number;
  /** The logits the original model gave for these features, to compare with the recomputed ones. */
  logits?: Float32Array;
}

/**
 * Builds the gradient model of `from`, runs it once for the gradients of several classes (one-hot seeds)
 * and once for ±ε copies of A (zero seeds), and compares each gradient element with the central difference
 * of its class's logit, within rtol·|g| + atol + the logits' float32 rounding over the step. Steps shrink
 * from 3e-2 to 1e-3 until one is smooth (its one-sided differences agree) and the next confirms it; a ReLU
 * at 0 or a max pool's near-tie inside a step breaks either. A pair no step resolves is skipped as a kink,
 * and the check fails if more than a third are.
 */
export async function checkGradient(
  model: onnx.IModelProto,
  from: string,
  logits: string,
  features: Float32Array,
  dims: number[],
  opts: CheckOptions = {},
): Promise<CheckResult> {
  const built = buildGradientModel(model, from, logits);
  if ('unsupported' in built) assert.fail(built.unsupported);
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(built.model).finish());
  try {
    const classes = opts.classes ?? [0, 1, 2];
    const k = Number(built.logits[1]);
    const size = features.length;
    const run = async (
      rows: Float32Array[],
      seeds: number[],
    ): Promise<{ logits: Float32Array; gradient: Float32Array }> => {
      const x = new Float32Array(rows.length * size);
      rows.forEach((r, i) => x.set(r, i * size));
      const seed = new Float32Array(rows.length * k);
      seeds.forEach((c, i) => c >= 0 && (seed[i * k + c] = 1));
      const out = await session.run({
        features: new ort.Tensor('float32', x, [rows.length, ...dims.slice(1)]),
        seed: new ort.Tensor('float32', seed, [rows.length, k]),
      });
      return { logits: out.logits!.data as Float32Array, gradient: out.gradient!.data as Float32Array };
    };
    const base = await run(
      classes.map(() => features),
      classes,
    );
    const gradients = classes.map((_, i) => base.gradient.slice(i * size, (i + 1) * size));
    if (opts.logits) {
      for (let j = 0; j < k; j++) {
        const [a, b] = [base.logits[j]!, opts.logits[j]!];
        assert.ok(Math.abs(a - b) <= 1e-4 * (1 + Math.abs(b)), `logit ${j}: recomputed ${a}, model ${b}`);
      }
    }
    const picks = new Set(opts.elements ?? spreadElements(dims));
    const first = gradients[0]!;
    const order = [...first.keys()].sort((a, b) => Math.abs(first[b]!) - Math.abs(first[a]!));
    order.slice(0, opts.largest ?? 4).forEach((i) => picks.add(i));
    const elements = [...picks];
    const steps = opts.eps ?? [3e-2, 1e-2, 3e-3, 1e-3];
    const rows: Float32Array[] = [];
    // The steps actually taken in float32, [up, down] per element and ε.
    const taken: [number, number][] = [];
    for (const i of elements) {
      for (const eps of steps) {
        const up = features.slice();
        const down = features.slice();
        up[i] = Math.fround(features[i]! + eps);
        down[i] = Math.fround(features[i]! - eps);
        rows.push(up, down);
        taken.push([up[i]! - features[i]!, features[i]! - down[i]!]);
      }
    }
    const moved = await run(
      rows,
      rows.map(() => -1),
    );
    const rtol = opts.rtol ?? 1e-2;
    let [compared, kinks, worst] = [0, 0, 0];
    classes.forEach((c, ci) => {
      const g = gradients[ci]!;
      const atol = (opts.atol ?? 1e-3) * g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const at0 = base.logits[ci * k + c]!;
      // A difference of logits is good to a few units in the last place of the largest logit (the sums
      // that make a logit run through values that large): 4 ulp / step.
      const scale = base.logits.subarray(ci * k, (ci + 1) * k).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const rounding = 4 * 2 ** (Math.floor(Math.log2(scale || 1)) - 23);
      elements.forEach((i, p) => {
        const estimates = steps.map((_, s) => {
          const row = p * steps.length + s;
          const [hUp, hDown] = taken[row]!;
          const up = moved.logits[2 * row * k + c]!;
          const down = moved.logits[(2 * row + 1) * k + c]!;
          const tol = rtol * Math.abs(g[i]!) + atol + rounding / Math.min(hUp, hDown);
          const smooth = Math.abs((up - at0) / hUp - (at0 - down) / hDown) <= 2 * tol;
          return { central: (up - down) / (hUp + hDown), tol, smooth };
        });
        // The largest step whose one-sided differences agree and whose central difference the next smaller
        // step confirms (a kink inside the step shows at one scale or the other); the smallest step on its
        // own when nothing larger is confirmed. The confirming, smaller step is the estimate.
        const at = estimates.findIndex((d, s) => {
          const next = estimates[s + 1];
          if (!next) return d.smooth;
          return d.smooth && next.smooth && Math.abs(d.central - next.central) <= next.tol;
        });
        const found = at < 0 ? undefined : (estimates[at + 1] ?? estimates[at]!);
        if (!found) {
          kinks++;
          return;
        }
        compared++;
        const err = Math.abs(found.central - g[i]!) / found.tol;
        worst = Math.max(worst, err);
        assert.ok(err <= 1, `class ${c}, element ${i}: gradient ${g[i]}, finite difference ${found.central}`);
      });
    });
    assert.ok(kinks * 3 <= compared + kinks, `${kinks} of ${compared + kinks} pairs sit on kinks`);
    return { gradient: built, gradients, compared, kinks, worst };
  } finally {
    await session.release();
  }
}

/** Corners and edges of a few channels' planes, where padding and output_padding matter, and the centre. */
function spreadElements(dims: number[]): number[] {
  const [c, h, w] = [dims[1] ?? 1, dims[2] ?? 1, dims[3] ?? 1];
  const plane = h * w;
  const at = (ch: number, y: number, x: number): number => ch * plane + y * w + x;
  const last = c - 1;
  const mid = Math.floor(c / 2);
  return [
    at(0, 0, 0),
    at(last, h - 1, w - 1),
    at(mid, h - 1, 0),
    at(mid, 0, w - 1),
    at(last, Math.floor(h / 2), Math.floor(w / 2)),
    at(0, h - 1, Math.floor(w / 2)),
  ].filter((i, k, all) => all.indexOf(i) === k);
}
