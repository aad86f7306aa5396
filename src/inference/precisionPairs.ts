// Classifying the same image at both precisions: an fp32 and an int8 CPU session of one model, fed the
// same decoded tensor, for agreement over a folder and the held-out check after quantizing.
import type { ModelDescriptor } from '../model/descriptor';
import type { PrecisionPair } from '../shared/quantization';
import { IdleRelease, Serial } from './idleRelease';
import type { WorkerConfig } from './messages';
import { floatData, imageTensor } from './feed';
import { topK, toScores } from './postprocess';
import { createSession, ModelError, type LoadedSession, type SessionExtras } from './session';

/** Both sessions' top-K for one prepared image, and int8's probability of fp32's top-1 class. */
export async function classifyBoth(
  fp32: LoadedSession,
  int8: LoadedSession,
  tensor: Float32Array,
  k: number,
): Promise<Omit<PrecisionPair, 'name'>> {
  const [p, q] = [await probabilities(fp32, tensor), await probabilities(int8, tensor)];
  const labels = fp32.descriptor.labels;
  const top = topK(p, k, labels);
  return { fp32: top, int8: topK(q, k, labels), int8_p_of_fp32_top1: q[top[0]!.index]! };
}

async function probabilities(s: LoadedSession, tensor: Float32Array): Promise<ArrayLike<number>> {
  const out = await s.session.run({ [s.input]: imageTensor(s.ort, s.descriptor, tensor, 1) });
  return toScores(floatData(out[s.output]!), s.descriptor.outputKind);
}

/**
 * A CPU session at each precision, made for comparing them (both exist at once: their idle threads do not
 * spin, so that neither slows the other), created on first use and let go when idle.
 */
export async function pairSessions(
  cfg: WorkerConfig,
  log: (m: string) => void,
  int8?: { descriptor: ModelDescriptor; model: Uint8Array },
): Promise<[LoadedSession, LoadedSession]> {
  const quiet: SessionExtras = { options: { extra: { session: { intra_op: { allow_spinning: '0' } } } } };
  const cpu = { ...cfg, provider: 'cpu' as const };
  const a = await createSession({ ...cpu, precision: 'fp32' }, log, quiet);
  try {
    if (a.info.precision !== 'fp32') {
      throw new ModelError(
        'this model file is quantized already: open its float model to compare precisions',
      );
    }
    const b = int8
      ? await createSession({ ...cpu, descriptor: int8.descriptor }, log, {
          ...quiet,
          model: async () => int8.model,
        })
      : await createSession({ ...cpu, precision: 'int8' }, log, quiet);
    return [a, b];
  } catch (err) {
    await a.session.release();
    throw err;
  }
}

/** The worker's pair of sessions for comparePrecisions requests: one request at a time, released when idle. */
export class PrecisionPairs {
  private sessions: Promise<[LoadedSession, LoadedSession]> | undefined;
  private readonly serial = new Serial();
  private readonly idle: IdleRelease;

  constructor(
    private readonly cfg: WorkerConfig,
    private readonly log: (m: string) => void,
  ) {
    this.idle = new IdleRelease(cfg.exploreIdleMs, () => {
      if (!this.sessions) return;
      this.log('precision comparison sessions released after being idle');
      void this.release();
    });
  }

  /** Both precisions' top-K for one prepared image. */
  classify(tensor: Float32Array, k: number): Promise<Omit<PrecisionPair, 'name'>> {
    const job = async (): Promise<Omit<PrecisionPair, 'name'>> => {
      this.sessions ??= pairSessions(this.cfg, this.log).catch((err) => {
        this.sessions = undefined;
        throw err;
      });
      const [fp32, int8] = await this.sessions;
      return classifyBoth(fp32, int8, tensor, k);
    };
    return this.idle.busy(() => this.serial.run(job));
  }

  /** Lets both sessions go. */
  async release(): Promise<void> {
    this.idle.cancel();
    const s = this.sessions;
    this.sessions = undefined;
    const pair = await s?.catch(() => undefined);
    await Promise.all(pair?.map((x) => x.session.release()) ?? []);
  }
}
