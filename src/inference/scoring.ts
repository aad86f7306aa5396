// Class probabilities of many preprocessed images for the explanation methods (occlusion, Score-CAM,
// faithfulness), batched through one session. Their image sets overlap: every class's occlusion and
// Score-CAM images are the same, the random map's faithfulness images are the same for every class, and
// the whole, blurred and mean-colour images recur in every curve. Each distinct image is run once per
// request: images are known by a hash of their values, and a class's scorer reads its column.
import { createHash } from 'node:crypto';
import type { Scorer } from '../model/explain/faithfulness';
import { floatData, imageTensor } from './feed';
import { toScores } from './postprocess';
import type { LoadedSession } from './session';

/** Runs a batch of images (NCHW, one after another) and returns each one's class probabilities. */
export type BatchRunner = (images: Float32Array[]) => Promise<Float32Array[]>;

/** Thrown when the request was cancelled between two batches. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/** One request's scores: distinct images run in batches of `batch`, each once. */
export class ScoreBook {
  private readonly seen = new Map<string, Float32Array>();
  /** Images run through the model so far. */
  scored = 0;

  constructor(
    private readonly run: BatchRunner,
    private readonly batch: number,
    private readonly cancelled: () => boolean,
  ) {}

  /** A scorer of class `k`, for the functions of src/model/explain. */
  of(k: number): Scorer {
    return async (images) => (await this.probabilities(images)).map((p) => p[k]!);
  }

  /** Every image's class probabilities; images seen before in this request are not run again. */
  async probabilities(images: Float32Array[]): Promise<Float32Array[]> {
    const keys = images.map(fingerprint);
    const todo = new Map<string, Float32Array>();
    keys.forEach((key, i) => {
      if (!this.seen.has(key)) todo.set(key, images[i]!);
    });
    const pending = [...todo];
    for (let i = 0; i < pending.length; i += this.batch) {
      if (this.cancelled()) throw new Cancelled();
      const chunk = pending.slice(i, i + this.batch);
      const out = await this.run(chunk.map(([, image]) => image));
      chunk.forEach(([key], j) => this.seen.set(key, out[j]!));
      this.scored += chunk.length;
    }
    return keys.map((key) => this.seen.get(key)!);
  }
}

/** Names an image by its values (SHA-1: ~0.3 ms for a 224² image, a hundredth of a forward pass). */
function fingerprint(image: Float32Array): string {
  return createHash('sha1')
    .update(new Uint8Array(image.buffer, image.byteOffset, image.byteLength))
    .digest('base64');
}

/** A BatchRunner over a classifier session: each image's class scores (see toScores). */
export function sessionRunner(session: () => Promise<LoadedSession>): BatchRunner {
  return async (images) => {
    const s = await session();
    const crop = s.descriptor.preprocessing.crop;
    const out: Float32Array[] = [];
    // A model with a fixed batch takes the images in runs of that size.
    const step = Math.min(images.length, s.maxBatch);
    for (let i = 0; i < images.length; i += step) {
      const chunk = images.slice(i, i + step);
      const size = 3 * crop * crop;
      const data = new Float32Array(size * chunk.length);
      chunk.forEach((x, j) => data.set(x, j * size));
      const r = await s.session.run({
        [s.input]: imageTensor(s.ort, s.descriptor, data, chunk.length),
      });
      const scores = floatData(r[s.output]!);
      const classes = scores.length / chunk.length;
      for (let j = 0; j < chunk.length; j++) {
        const row = scores.subarray(j * classes, (j + 1) * classes);
        out.push(Float32Array.from(toScores(row, s.descriptor.outputKind)));
      }
    }
    return out;
  };
}
