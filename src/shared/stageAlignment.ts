// Stages of several models side by side (Compare Architectures, `cli compare`), lined up by the resolution
// they output rather than by position: MobileNet V2's 56×56 stage2 beside ResNet's 56×56 conv2_x, not beside
// DenseNet's 28×28 stage2. The resolution is the output stride, the input pixels between neighbouring output
// positions (4 for 56×56 out of 224×224), which the layer table already has per row and which holds for any
// input size. Detectors and segmenters line up by part (backbone beside backbone) instead.
import type { LayerTable } from './layerTable';

/** What the alignment reads of a stage. */
export interface StridedStage {
  stage: string;
  /** [height, width] in input pixels between neighbouring output positions; null past global pooling. */
  output_stride: number[] | null;
}

/** One line of the side-by-side stages: each model's stage there, or a gap. */
export type StageLine<S> = { cells: (S | undefined)[] } & (
  | { by: 'stride'; stride: number[] }
  | { by: 'pooled' }
  | { by: 'part'; part: string }
);

/** The parts of a detector or segmenter, in order (src/model/structure names its stages so). */
const PARTS = ['pre-processing', 'backbone', 'neck', 'head', 'post-processing'];
/** The parts every detector and segmenter has. */
const REQUIRED_PARTS = ['backbone', 'neck', 'head'];

/** Each stage's output stride: that of the stage's last row (null past global pooling). */
export function stageOutputStrides(table: LayerTable): Map<string, number[] | null> {
  const strides = new Map<string, number[] | null>();
  for (const r of table.rows) if (r.stage !== null) strides.set(r.stage, r.effective_stride);
  return strides;
}

/**
 * The lines of `models`' stages (each in table order). Models that all have a backbone, neck and head line
 * up by part. Others line up by output stride, smallest first, then what follows global pooling; where a
 * model has several stages at one stride (MobileNet V2's stem and stage1 at /2) the stride gets as many
 * lines, a model's first stage (its stem) takes the first of them and its other stages the last ones, so
 * that the stages leaving a resolution line up.
 */
export function alignStages<S extends StridedStage>(models: readonly (readonly S[])[]): StageLine<S>[] {
  if (models.length > 0 && models.every((m) => REQUIRED_PARTS.every((p) => m.some((s) => s.stage === p)))) {
    return PARTS.filter((part) => models.some((m) => m.some((s) => s.stage === part))).map((part) => ({
      by: 'part',
      part,
      cells: models.map((m) => m.find((s) => s.stage === part)),
    }));
  }
  const keyOf = (s: S): string => s.output_stride?.join('×') ?? 'pooled';
  const groups = new Map<string, { stride: number[] | null; members: S[][] }>();
  models.forEach((m, i) => {
    for (const s of m) {
      const key = keyOf(s);
      if (!groups.has(key)) groups.set(key, { stride: s.output_stride, members: models.map(() => []) });
      groups.get(key)!.members[i]!.push(s);
    }
  });
  const area = (s: number[] | null): number => (s ? s[0]! * (s[1] ?? s[0]!) : Infinity);
  const ordered = [...groups.values()].sort(
    (a, b) => area(a.stride) - area(b.stride) || (a.stride?.[0] ?? 0) - (b.stride?.[0] ?? 0),
  );
  const lines: StageLine<S>[] = [];
  for (const { stride, members } of ordered) {
    const count = Math.max(...members.map((m) => m.length));
    const columns = members.map((m, i) => place(m, count, m[0] !== undefined && m[0] === models[i]![0]));
    for (let line = 0; line < count; line++) {
      const cells = columns.map((c) => c[line]);
      lines.push(stride ? { by: 'stride', stride, cells } : { by: 'pooled', cells });
    }
  }
  return lines;
}

/** `count` slots for one model's stages at one stride: its stem first, the others at the end. */
function place<S>(stages: S[], count: number, startsWithStem: boolean): (S | undefined)[] {
  const slots: (S | undefined)[] = new Array<S | undefined>(count).fill(undefined);
  const rest = startsWithStem ? stages.slice(1) : stages;
  if (startsWithStem) slots[0] = stages[0];
  rest.forEach((s, i) => (slots[count - rest.length + i] = s));
  return slots;
}

/** "/4", or "/4×8" where height and width differ. */
export function strideLabel(stride: readonly number[]): string {
  const [h, w] = stride;
  return w === undefined || w === h ? `/${h}` : `/${h}×${w}`;
}
