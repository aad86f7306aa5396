// The arithmetic behind the panel's measured views: the profile's ranking, a feature-map position's
// receptive field on the crop and on the original image, and what faithfulness figures say in words.
// No DOM here, so unit tests can import it.
import * as l10n from '@vscode/l10n';
import type { LayerSimilarity } from '../src/shared/exploration';
import type { LayerRow, LayerTable } from '../src/shared/layerTable';
import { percent } from '../src/shared/format';
import { referenceShare, type Profile, type TimedRow } from '../src/shared/profile';
import { MIN_AGREEMENT_IMAGES, tooFewForAgreement, type AgreementReport } from '../src/shared/quantization';

/** Rows of one profile level, slowest first; ties keep the table's order. */
export function slowestFirst(rows: readonly TimedRow[]): TimedRow[] {
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => b.r.ms - a.r.ms || a.i - b.i)
    .map(({ r }) => r);
}

/** How much the profiler slowed the runs down: profiled over plain, minus one (0.04 = 4 % slower). */
export function profilerOverhead(p: Profile): number | null {
  return p.plain_ms > 0 ? p.ms / p.plain_ms - 1 : null;
}

/** A row's rate against the profile's reference convolution: its bar's length (0…1) and its words, "42% of ref"
 *  or "≥ ref" when it matched or beat the reference (never a share over 100 %); null without one. */
export function referenceFigure(
  gflops: number | null,
  reference: number,
): { bar: number; text: string } | null {
  const share = referenceShare(gflops, reference);
  if (share === null) return null;
  return share === 'ref'
    ? { bar: 1, text: l10n.t('≥ ref') }
    : { bar: share, text: l10n.t('{0} of ref', percent(share, 0)) };
}

/**
 * An agreement report's headline and the count after it: "97.5% top-1 agreement" "(39 of 40 images)", or
 * over fewer than MIN_AGREEMENT_IMAGES, "n = 1: too few images to measure agreement" and the count alone.
 */
export function agreementHeadline(a: AgreementReport): { headline: string; count: string } {
  const agree = a.images - a.changed.length;
  if (a.top1_agreement === null) return { headline: l10n.t('no images'), count: '' };
  if (tooFewForAgreement(a)) {
    const min = MIN_AGREEMENT_IMAGES;
    return {
      headline: l10n.t('n = {0}: too few images to measure agreement', a.images),
      count:
        a.images === 1
          ? l10n.t(
              '({0} of {1} image kept fp32’s top-1 class; a rate needs {2} or more)',
              agree,
              a.images,
              min,
            )
          : l10n.t(
              '({0} of {1} images kept fp32’s top-1 class; a rate needs {2} or more)',
              agree,
              a.images,
              min,
            ),
    };
  }
  return {
    headline: l10n.t('{0} top-1 agreement', percent(a.top1_agreement)),
    count: l10n.t('({0} of {1} images)', agree, a.images),
  };
}

/** "12.3", "1.25", "0.043": milliseconds with three significant digits where small. */
export function msText(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toPrecision(2);
}

/** A rectangle in pixels: left and top edges, width and height. */
export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** What one output position of a row sees of the model's input (the crop), in crop pixels. */
export interface ReceptiveField {
  /** The whole field, which may reach past the crop into the padding. */
  field: Box;
  /** The part inside the crop. */
  visible: Box;
  /** Centre of the position, [y, x] in crop pixels. */
  center: [number, number];
}

/**
 * The receptive field of output position (y, x) of `row` on a `crop`×`crop` input: centred at
 * rf_center + (y, x)·effective_stride, receptive_field pixels across (pixel i spans [i, i + 1)). Undefined
 * for rows past global pooling, which see the whole image.
 */
export function receptiveField(
  row: Pick<LayerRow, 'receptive_field' | 'effective_stride' | 'rf_center'>,
  y: number,
  x: number,
  crop: number,
): ReceptiveField | undefined {
  const [rh, rw] = row.receptive_field ?? [];
  const [sh, sw] = row.effective_stride ?? [];
  const [ch, cw] = row.rf_center ?? [];
  if ([rh, rw, sh, sw, ch, cw].some((v) => v === undefined || !Number.isFinite(v))) return undefined;
  const cy = ch! + y * sh!;
  const cx = cw! + x * sw!;
  const field = { left: cx - rw! / 2, top: cy - rh! / 2, width: rw!, height: rh! };
  const left = Math.max(0, field.left);
  const top = Math.max(0, field.top);
  const right = Math.min(crop, field.left + field.width);
  const bottom = Math.min(crop, field.top + field.height);
  const visible = { left, top, width: Math.max(0, right - left), height: Math.max(0, bottom - top) };
  return { field, visible, center: [cy, cx] };
}

/**
 * Where the crop lies in the original image (`width`×`height` as displayed): the shorter side resized to
 * `resize` (each side rounded, never below the crop), then the central `crop` pixels, as the worker's
 * preprocessing does. Returns the scale from crop pixels to original pixels along each axis and the crop's
 * offset in resized pixels.
 */
export function cropPlacement(
  width: number,
  height: number,
  resize: number,
  crop: number,
): { sx: number; sy: number; offsetX: number; offsetY: number } {
  const scale = resize / Math.min(width, height);
  const rw = Math.max(crop, Math.round(width * scale));
  const rh = Math.max(crop, Math.round(height * scale));
  return { sx: width / rw, sy: height / rh, offsetX: (rw - crop) >> 1, offsetY: (rh - crop) >> 1 };
}

/** A box in crop pixels as a box in the original image's pixels. */
export function cropToOriginal(box: Box, placement: ReturnType<typeof cropPlacement>): Box {
  const { sx, sy, offsetX, offsetY } = placement;
  return {
    left: (box.left + offsetX) * sx,
    top: (box.top + offsetY) * sy,
    width: box.width * sx,
    height: box.height * sy,
  };
}

/** The figures of one map, or of the random map beside it. */
export interface FaithfulnessFigures {
  deletion_auc: number;
  insertion_auc: number;
  average_drop: number;
  increase_in_confidence: number;
}

/** Which way each figure is better (its name: measureName). */
export const FAITHFULNESS_MEASURES = [
  { key: 'insertion_auc', better: 'higher' },
  { key: 'deletion_auc', better: 'lower' },
  { key: 'average_drop', better: 'lower' },
  { key: 'increase_in_confidence', better: 'higher' },
] as const;

/** A faithfulness figure's name: "insertion", "Average Drop". */
export function measureName(key: (typeof FAITHFULNESS_MEASURES)[number]['key']): string {
  switch (key) {
    case 'insertion_auc':
      return l10n.t('insertion');
    case 'deletion_auc':
      return l10n.t('deletion');
    case 'average_drop':
      return l10n.t('Average Drop');
    case 'increase_in_confidence':
      return l10n.t('Increase in Confidence');
  }
}

/** Whether the map beats the random map at one measure (equal is not beating it). */
export function beatsRandom(
  map: FaithfulnessFigures,
  random: FaithfulnessFigures,
  key: (typeof FAITHFULNESS_MEASURES)[number]['key'],
): boolean {
  const better = FAITHFULNESS_MEASURES.find((m) => m.key === key)!.better;
  return better === 'higher' ? map[key] > random[key] : map[key] < random[key];
}

/**
 * Increase in Confidence with its unit: the share of images whose confidence rose when seen through the
 * map (one image here: 0 % or 100 %), "0% of 1 image".
 */
export function increaseInConfidenceText(share: number, images = 1): string {
  return images === 1
    ? l10n.t('{0} of 1 image', percent(share, 0))
    : l10n.t('{0} of {1} images', percent(share, 0), images);
}

/**
 * What it means when the random map wins at deletion, in words beside the numbers; undefined when this
 * map wins. Deletion rewards any order that breaks the whole object up early, and scattered random pixels
 * do that well, so insertion is the curve to read beside it.
 */
export function deletionNote(map: FaithfulnessFigures, random: FaithfulnessFigures): string | undefined {
  if (beatsRandom(map, random, 'deletion_auc')) return undefined;
  return l10n.t(
    'The random map wins at deletion: taking out random pixels lowers the class probability faster ({0} area) than taking out the pixels this map ranks highest ({1}). Scattered deletions break the whole object up early, so a random order often wins here; this map does not single out pixels the class cannot do without. Read insertion beside it.',
    random.deletion_auc.toFixed(3),
    map.deletion_auc.toFixed(3),
  );
}

/** "beats random at insertion, not at deletion", from the two curves' areas. */
export function verdict(map: FaithfulnessFigures, random: FaithfulnessFigures): string {
  const ins = beatsRandom(map, random, 'insertion_auc');
  const del = beatsRandom(map, random, 'deletion_auc');
  if (ins && del) return l10n.t('beats random at insertion and at deletion');
  if (!ins && !del) return l10n.t('does not beat random at insertion or at deletion');
  return ins
    ? l10n.t('beats random at insertion, not at deletion')
    : l10n.t('beats random at deletion, not at insertion');
}

/**
 * Per stage, the similarity at its output (its last row both images have): the stage's own answer, where
 * an average over its rows would mix in what the stage has already transformed.
 */
export function stageSimilarity(
  similarity: readonly LayerSimilarity[],
  table: LayerTable | undefined,
): Map<string, LayerSimilarity> {
  const stageOf = new Map((table?.rows ?? []).map((r) => [r.name, r.stage ?? r.name]));
  const order = new Map((table?.rows ?? []).map((r, i) => [r.name, i]));
  const out = new Map<string, LayerSimilarity>();
  const sorted = [...similarity].sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  for (const s of sorted) out.set(stageOf.get(s.name) ?? '?', s);
  return out;
}

/** How much a hovered or focused feature-map tile grows (media/panel.css scales .fm-view by it). */
export const FM_ENLARGE = 2.4;

/**
 * Where a feature-map tile grows from when enlarged: from its top edge, so that it never covers the
 * heading above the grid, and from its left or right edge where growing about its centre would cross
 * the grid's edge (the first column was clipped at the panel's left).
 */
export function enlargeOrigin(
  tile: { left: number; right: number },
  bounds: { left: number; right: number },
  scale = FM_ENLARGE,
): string {
  const grow = ((tile.right - tile.left) * (scale - 1)) / 2;
  const x = tile.left - grow < bounds.left ? 'left' : tile.right + grow > bounds.right ? 'right' : 'center';
  return `${x} top`;
}
