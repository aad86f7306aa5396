// The rows of a detector or segmenter that are no layers: what prepares the image before the first learned
// layer and what turns the head's maps into boxes or a class map after the last one.
import type { RowFacts } from './blocks';

/** Who reads a row's outputs and who makes its inputs. */
export interface Links {
  readers: (r: number) => number[];
  producers: (r: number) => number[];
}

/** Which rows are learned layers and which sit on the image grid. */
export interface Learned {
  /** A layer with weights on the grid, or a fully connected one (a two-stage detector's RoI head). */
  learned: (r: number) => boolean;
  onGrid: boolean[];
}

// Ops whose result depends on the values of the data, not on positions: proposals picked by score, NMS
// (torchvision's sits in an If), RoI pooling at the picked boxes. A learned layer behind them (Faster
// R-CNN's RoI head) does not make what leads to them a layer.
const SELECTION = new Set(['TopK', 'NonZero', 'NonMaxSuppression', 'If', 'Loop', 'RoiAlign', 'MaxRoiPool']);
// A class map resampled to the input's size after the last layer (torchvision's segmenters) is mapped back
// to the image's pixels, as a detector's boxes are.
const RESAMPLING = new Set(['Resize', 'Upsample']);

/**
 * Pre-processing: rows before the first learned layer, computed from the image alone (torchvision's
 * GeneralizedRCNNTransform: normalise by mean and std, resize, batch the image).
 */
export function preRows(all: number[], facts: RowFacts[], { learned }: Learned, links: Links): Set<number> {
  const pre = new Set<number>();
  for (const r of all) {
    if (learned(r) || facts[r]!.weighted) continue;
    if (links.producers(r).every((p) => pre.has(p))) pre.add(r);
  }
  // Only what a layer reads: the image batch, not a side output computed from the input.
  const reachesLayer = new Set<number>();
  for (const r of [...all].reverse()) {
    if (pre.has(r) && links.readers(r).some((c) => reachesLayer.has(c) || (!pre.has(c) && learned(c))))
      reachesLayer.add(r);
  }
  return reachesLayer;
}

/**
 * Post-processing: rows off the image grid with no learned layer after them (box decoding with its DFL
 * expectation, anchors and strides, score sigmoid, the concatenations over scales), what follows a selection
 * without weights of its own (a two-stage detector's proposals and RoI pooling), and a segmenter's last
 * resampling of its map.
 */
export function postRows(
  all: number[],
  facts: RowFacts[],
  { learned, onGrid }: Learned,
  links: Links,
): Set<number> {
  const selects = (r: number): boolean => SELECTION.has(facts[r]!.op);
  const selected = new Array<boolean>(facts.length).fill(false);
  for (const r of all) selected[r] = links.producers(r).some((p) => selects(p) || selected[p]!);
  const learnedAfter = new Array<boolean>(facts.length).fill(false);
  for (const r of [...all].reverse())
    learnedAfter[r] = links.readers(r).some((c) => learned(c) || (learnedAfter[c]! && !selects(c)));
  const last = (r: number): boolean => !learned(r) && !learnedAfter[r]!;
  return new Set(
    all.filter(
      (r) =>
        (!onGrid[r]! && !learned(r) && (!learnedAfter[r]! || selects(r) || selected[r]!)) ||
        (last(r) && RESAMPLING.has(facts[r]!.op)),
    ),
  );
}
