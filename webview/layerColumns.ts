// The layer table's columns and which of them fit its pane. Each column has a width; where the pane is narrower
// than all of them, columns go in COLLAPSE_ORDER (their values stay in the detail card). The choice is made by
// CSS container queries generated from these widths, so the first layout already has the right columns and a
// resize needs no script.
import * as l10n from '@vscode/l10n';

export type ColumnKey =
  | 'name'
  | 'kernel'
  | 'stride'
  | 'channels'
  | 'output'
  | 'rf'
  | 'params'
  | 'macs'
  | 'time'
  | 'quant'
  | 'act';

/** Columns shown only once filled: a profile's times, the current image's int8 error, its activations. */
export interface Filled {
  time: boolean;
  quant: boolean;
  act: boolean;
}

interface Width {
  key: ColumnKey;
  /** The track's width in em, cell padding included (the name column's least; it takes what is left). */
  em: number;
  filled?: keyof Filled;
}

/** Widths in table order (em, so that they follow the editor's font size). */
const WIDTHS: readonly Width[] = [
  { key: 'name', em: 13 },
  { key: 'kernel', em: 5.2 },
  { key: 'stride', em: 5 },
  { key: 'channels', em: 7.5 },
  { key: 'output', em: 7 },
  { key: 'rf', em: 7.4 },
  { key: 'params', em: 6.8 },
  { key: 'macs', em: 7 },
  { key: 'time', em: 8.5, filled: 'time' },
  { key: 'quant', em: 11.5, filled: 'quant' },
  { key: 'act', em: 20, filled: 'act' },
];

/** The activations column without its statistics: the histogram alone. */
const ACT_COMPACT_EM = 6.8;

/**
 * What goes first when the pane is too narrow: the activations' statistics, then whole columns, the model's
 * own figures (output size, parameters) and a profile's times last. The layer and its multiply-adds stay.
 */
export const COLLAPSE_ORDER = [
  'act-stats',
  'kernel',
  'stride',
  'rf',
  'channels',
  'quant',
  'act',
  'output',
  'params',
  'time',
] as const;
type Step = (typeof COLLAPSE_ORDER)[number];

/** A column's header text and tooltip. */
export function columnHeader(key: ColumnKey): { label: string; title?: string } {
  switch (key) {
    case 'name':
      return { label: l10n.t('Layer') };
    case 'kernel':
      return { label: l10n.t('Kernel') };
    case 'stride':
      return { label: l10n.t('Stride') };
    case 'channels':
      return { label: l10n.t('Channels'), title: l10n.t('input → output channels') };
    case 'output':
      return { label: l10n.t('Output'), title: l10n.t('output height × width') };
    case 'rf':
      return {
        label: l10n.t('RF / stride'),
        title: l10n.t('receptive field of one output position, and effective stride, in input pixels'),
      };
    case 'params':
      return { label: l10n.t('Params'), title: l10n.t('parameters (weights and biases)') };
    case 'macs':
      return { label: l10n.t('Mult-adds'), title: l10n.t('multiply-adds per image') };
    case 'time':
      return { label: l10n.t('Time'), title: l10n.t('median ms per run, from the last profile') };
    case 'quant':
      return {
        label: l10n.t('int8 error'),
        title: l10n.t('SQNR (dB) and cosine of the int8 output against fp32, for the current image'),
      };
    case 'act':
      return {
        label: l10n.t('Activations'),
        title: l10n.t('histogram, mean, max and share of zeros of the output, for the current image'),
      };
  }
}

/** Every column's key, in table order. */
export const COLUMN_KEYS: readonly ColumnKey[] = WIDTHS.map((w) => w.key);

/** The columns there is something to show in. */
function present(filled: Filled): ColumnKey[] {
  return WIDTHS.filter((w) => !w.filled || filled[w.filled]).map((w) => w.key);
}

/**
 * The collapse steps that apply to what is filled, in order, each with the width (em) that the table needs
 * while the step is not taken: a pane narrower than that takes it.
 */
export function collapseSteps(filled: Filled): { step: Step; needs: number }[] {
  const shown = new Set(present(filled));
  let compact = false;
  const total = (): number =>
    WIDTHS.filter((w) => shown.has(w.key)).reduce(
      (sum, w) => sum + (w.key === 'act' && compact ? ACT_COMPACT_EM : w.em),
      0,
    );
  const out: { step: Step; needs: number }[] = [];
  for (const step of COLLAPSE_ORDER) {
    if (step === 'act-stats' ? !shown.has('act') : !shown.has(step)) continue;
    out.push({ step, needs: total() });
    if (step === 'act-stats') compact = true;
    else shown.delete(step);
  }
  return out;
}

/**
 * The stylesheet that lays the table out for what is filled: each column's width as `--w-<column>` (0 for a
 * column not shown, whose cells are not rendered either; the layer column's is its least) and one container
 * query per collapse step, narrowest last.
 */
export function columnStyles(filled: Filled): string {
  const shown = new Set(present(filled));
  const widths = WIDTHS.map((w) => `--w-${w.key}: ${shown.has(w.key) ? w.em : 0}em;`);
  const rules = [
    `#layers { ${widths.join(' ')} }`,
    ...WIDTHS.filter((w) => !shown.has(w.key)).map((w) => `#layers .c-${w.key} { display: none; }`),
  ];
  for (const { step, needs } of collapseSteps(filled)) {
    const body =
      step === 'act-stats'
        ? `#layers { --w-act: ${ACT_COMPACT_EM}em; } #layers .act .stats { display: none; }`
        : `#layers { --w-${step}: 0em; } #layers .c-${step} { display: none; }`;
    rules.push(`@container layers (width < ${needs.toFixed(2)}em) { ${body} }`);
  }
  return rules.join('\n');
}
