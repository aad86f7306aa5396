// `cli quantize --images <folder> [--model M] [--hold-out 0.2] [--out file] [--json]`: calibrates the model on
// most of the folder's images, writes its int8 model and reports fp32 against int8 on the held-out rest.
import { DEFAULT_HOLD_OUT } from '../inference/client';
import { rowNameByNode } from '../shared/layerTable';
import { expandImagePaths } from '../files/imageFiles';
import {
  MIN_AGREEMENT_IMAGES,
  tooFewForAgreement,
  type QuantizeProgress,
  type QuantizeReport,
} from '../shared/quantization';
import { parseArgs, UsageError } from './args';
import { commandIo, type Streams } from './io';
import { NO_PROGRESS } from './progress';
import { clientFromArgs, RUNTIME_FLAGS } from './runtime';

const PHASES: Record<QuantizeProgress['phase'], string> = {
  ranges: 'calibration pass 1 of 2 (ranges)',
  histograms: 'calibration pass 2 of 2 (histograms)',
  writing: 'writing the int8 model',
  evaluating: 'fp32 against int8 on the held-out images',
};

/** The progress line's label in each phase over images. */
const LABELS: Record<Exclude<QuantizeProgress['phase'], 'writing'>, string> = {
  ranges: 'calibrate 1/2',
  histograms: 'calibrate 2/2',
  evaluating: 'check int8',
};

/** Runs `quantize`: 0 when the int8 model was written, 1 when quantizing failed, 2 on wrong usage (thrown). */
export async function runQuantize(argv: string[], streams: Streams, bundleDir: string): Promise<number> {
  const args = parseArgs(argv, ['images', 'hold-out', 'out', ...RUNTIME_FLAGS], ['json']);
  const io = commandIo(streams, args);
  const folder = args.flags.get('images');
  if (typeof folder !== 'string') throw new UsageError('quantize needs --images <folder>');
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]!}"`);
  if (args.flags.has('precision'))
    throw new UsageError('quantize reads the fp32 model; --precision does not apply');
  const holdOut = Number(args.flags.get('hold-out') ?? DEFAULT_HOLD_OUT);
  if (!(holdOut >= 0 && holdOut <= 0.9)) throw new UsageError('--hold-out must be a share 0…0.9');
  const out = args.flags.get('out');
  const images = await expandImagePaths([folder]);
  const client = await clientFromArgs(args, io, bundleDir, { batchSize: 1 });
  let phase = '';
  let progress = NO_PROGRESS;
  try {
    const report = await client.quantizeModel({
      images,
      holdOut,
      ...(typeof out === 'string' && { out }),
      onProgress: (p) => {
        if (p.phase !== phase) {
          phase = p.phase;
          progress.finish();
          io.info(
            `cnn-lens quantize: ${PHASES[p.phase]}${p.phase === 'writing' ? '' : `, ${p.total} images`}\n`,
          );
          progress = p.phase === 'writing' ? NO_PROGRESS : io.progress(LABELS[p.phase], p.total, 'images');
        }
        progress.update(p.done);
      },
    });
    progress.finish();
    if (args.flags.has('json')) io.stdout(JSON.stringify(report, null, 2) + '\n');
    else io.stdout(quantizeSummary(report, await client.layers().then(rowNameByNode, () => undefined)));
    return 0;
  } catch (err) {
    io.stderr(`cnn-lens quantize: ${(err as Error).message}\n`);
    return 1;
  } finally {
    progress.finish();
    await client.dispose();
  }
}

/**
 * The readable report: what was written (the layers left in float by their table names, when `names` has
 * them; the JSON keeps the ONNX node names), then fp32 against int8 on the held-out images.
 */
export function quantizeSummary(r: QuantizeReport, names?: ReadonlyMap<string, string>): string {
  const a = r.agreement;
  const float = r.float_nodes.map((n) => names?.get(n) ?? n);
  const lines = [
    `wrote ${r.out}: ${r.quantized_nodes} nodes in int8 (${float.join(', ') || 'none'} in float), ` +
      `calibrated on ${r.calibration.images.length} images (percentile ${r.calibration.percentile}), ` +
      `${(r.ms / 1000).toFixed(1)} s`,
  ];
  if (a.images === 0) lines.push('no images were held out: agreement not measured');
  else {
    const kept = a.images - a.changed.length;
    const dp = `mean |Δp| of fp32's top-1 class ${a.mean_abs_dp!.toFixed(4)}`;
    lines.push(
      tooFewForAgreement(a)
        ? `held out n = ${a.images}: too few images to measure agreement (fewer than ${MIN_AGREEMENT_IMAGES}); ` +
            `${kept} of ${a.images} kept fp32's top-1 class, ${dp}`
        : `held out ${a.images} images: top-1 agreement ${(a.top1_agreement! * 100).toFixed(1)} % ` +
            `(${kept}/${a.images}), ${dp}`,
    );
    for (const c of a.changed) {
      lines.push(
        `  changed: ${c.name}: ${c.fp32.label} ${(c.fp32.probability * 100).toFixed(1)} % → ` +
          `${c.int8.label} ${(c.int8.probability * 100).toFixed(1)} %`,
      );
    }
  }
  for (const s of r.skipped) lines.push(`skipped ${s.name}: ${s.reason}`);
  return lines.join('\n') + '\n';
}
