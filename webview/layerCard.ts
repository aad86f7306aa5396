// The layer table's detail card: everything known about one row, block or stage, with units — also the
// values of the columns that the pane is too narrow to show.
import * as l10n from '@vscode/l10n';
import { nchwText, percent, shapeText } from '../src/shared/format';
import type { BlockSummary, LayerRow, LayerTable, StageSummary } from '../src/shared/layerTable';
import type { Profile, TimedRow } from '../src/shared/profile';
import type { LayerActivationView } from '../src/shared/protocol';
import type { QuantizedRow } from '../src/shared/quantization';
import { h } from './dom';
import { msText, referenceFigure } from './figures';
import { blockCounts, int } from './text';

/** What the panel has measured besides the table: a profile's times, the int8 error, this image's outputs. */
export interface Measured {
  times: { profile: Profile; byName: Map<string, TimedRow> } | null;
  quantization: Map<string, QuantizedRow> | null;
  activations: Map<string, LayerActivationView>;
}

/** A definition list builder for the card. */
function definitions(): { dl: HTMLElement; add: (k: string, v: string) => void } {
  const dl = h('dl');
  return { dl, add: (k, v) => dl.append(h('dt', {}, k), h('dd', {}, v)) };
}

/** A row's role in words, for the card. */
function roleText(role: LayerRow['role']): string {
  switch (role) {
    case 'stem':
      return l10n.t('stem');
    case 'main':
      return l10n.t('main path');
    case 'projection':
      return l10n.t('projection shortcut');
    case 'branch':
      return l10n.t('parallel branch');
    case 'se':
      return l10n.t('squeeze-and-excitation');
    case 'join':
      return l10n.t('join of branches');
    case 'pool':
      return l10n.t('pooling');
    case 'fc':
      return l10n.t('classifier');
    case 'conv':
      return l10n.t('convolution outside blocks');
    case 'other':
      return l10n.t('other');
  }
}

/** "1,234 (0.52 % of the model)": a count of multiply-adds and its share of the model's. */
function macsText(macs: number, table: LayerTable): string {
  return l10n.t(
    '{0} ({1} of the model)',
    int(macs),
    percent(table.totals.macs ? macs / table.totals.macs : 0, 2),
  );
}

/** The card for a layer row. */
function rowCard(row: LayerRow, table: LayerTable, m: Measured): HTMLElement[] {
  const { dl, add } = definitions();
  add(l10n.t('input'), shapeText(row.in_shape));
  add(
    l10n.t('output'),
    nchwText(row.out_shape, row.channels_last) + (row.measured ? ` ${l10n.t('(measured by a run)')}` : ''),
  );
  if (row.kernel) add(l10n.t('kernel'), row.kernel.join('×'));
  if (row.stride)
    add(l10n.t('stride'), row.stride.join('×') + (row.downsample ? ` ${l10n.t('(downsamples)')}` : ''));
  if (row.pads) add(l10n.t('padding'), l10n.t('{0} (top, left, bottom, right)', row.pads.join(', ')));
  if (row.dilations) add(l10n.t('dilation'), row.dilations.join('×'));
  if (row.group !== null) add(l10n.t('groups'), String(row.group));
  const weights = row.params - row.folded_params;
  add(
    l10n.t('parameters'),
    `${int(row.params)}` +
      (row.folded_params
        ? ` ${l10n.t('({0} weights + bias, {1} BatchNorm folded)', int(weights), int(row.folded_params))}`
        : ''),
  );
  if (row.buffers > 0)
    add(l10n.t('buffers'), l10n.t('{0} (BatchNorm running mean and variance)', int(row.buffers)));
  if (row.shared.length > 0)
    add(l10n.t('shared tensors'), l10n.t('{0} (counted once)', row.shared.join(', ')));
  add(l10n.t('multiply-adds'), macsText(row.macs, table));
  if (row.receptive_field && row.effective_stride && row.rf_center) {
    add(
      l10n.t('receptive field'),
      l10n.t('{0} input pixels per output position', row.receptive_field.join('×')),
    );
    add(
      l10n.t('effective stride'),
      l10n.t('{0} input pixels between neighbouring positions', row.effective_stride.join('×')),
    );
    add(
      l10n.t('position (0, 0)'),
      l10n.t('centred at y {0}, x {1} of the crop', String(row.rf_center[0]), String(row.rf_center[1])),
    );
  } else {
    add(l10n.t('receptive field'), l10n.t('the whole image (past global pooling)'));
  }
  timeDefinition(add, row.name, m);
  const q = m.quantization?.get(row.name);
  if (q) add(l10n.t('int8 error'), quantText(q));
  add(l10n.t('activation'), row.activation ?? l10n.t('none'));
  add(l10n.t('role'), roleText(row.role));
  add(l10n.t('counted in depth'), row.counted ? l10n.t('yes') : l10n.t('no'));
  add(l10n.t('ONNX nodes'), row.onnx_nodes.map((n, i) => `${n} (${row.onnx_ops[i]})`).join(', '));
  const a = m.activations.get(row.name);
  if (a) {
    add(l10n.t('measured output'), shapeText(a.out_shape));
    add(
      l10n.t('this image'),
      l10n.t(
        'mean {0}, min {1}, max {2}, {3} zeros',
        a.mean.toFixed(3),
        a.min.toFixed(3),
        a.max.toFixed(3),
        percent(a.zero_fraction, 1),
      ),
    );
  }
  return [
    h('h3', {}, row.name),
    h('p', { class: 'muted' }, [row.stage, row.block, row.op].filter(Boolean).join(' · ')),
    row.unknown ? h('p', { class: 'error-text', id: 'card-unknown' }, row.unknown) : undefined,
    dl,
  ].filter((e): e is HTMLElement => e !== undefined);
}

/** The card for a block row. */
function blockCard(b: BlockSummary, table: LayerTable, m: Measured): HTMLElement[] {
  const { dl, add } = definitions();
  add(l10n.t('kind'), b.kind);
  add(l10n.t('notation'), b.notation);
  if (b.shortcut) add(l10n.t('shortcut'), b.shortcut);
  if (b.residual) add(l10n.t('residual form'), b.residual);
  add(l10n.t('input'), shapeText(b.in_shape));
  add(l10n.t('output'), shapeText(b.out_shape));
  if (b.stride_on) add(l10n.t('downsamples at'), b.stride_on);
  add(l10n.t('counted layers'), String(b.counted));
  add(l10n.t('parameters'), int(b.params));
  if (b.buffers > 0) add(l10n.t('buffers'), int(b.buffers));
  add(l10n.t('multiply-adds'), macsText(b.macs, table));
  timeDefinition(add, b.block, m);
  return [h('h3', {}, b.block), h('p', { class: 'muted' }, l10n.t('{0} · block', b.stage)), dl];
}

/** The card for a stage row. */
function stageCard(s: StageSummary, table: LayerTable, m: Measured): HTMLElement[] {
  const { dl, add } = definitions();
  add(l10n.t('output'), shapeText(s.out_shape));
  add(l10n.t('width'), String(s.width ?? '?'));
  add(l10n.t('counted layers'), String(s.counted));
  if (s.blocks > 0) add(l10n.t('blocks'), blockCounts(table.blocks.filter((b) => b.stage === s.stage)));
  add(l10n.t('layout'), s.layout);
  add(l10n.t('parameters'), int(s.params));
  if (s.buffers > 0) add(l10n.t('buffers'), int(s.buffers));
  add(l10n.t('multiply-adds'), macsText(s.macs, table));
  timeDefinition(add, s.stage, m);
  return [h('h3', {}, s.stage), h('p', { class: 'muted' }, l10n.t('stage')), dl];
}

/** The card's time line for a row, block or stage, when a profile has it. */
function timeDefinition(add: (k: string, v: string) => void, name: string, { times }: Measured): void {
  const t = times?.byName.get(name);
  if (!t || !times) return;
  const ref = referenceFigure(t.gflops, times.profile.peak_gflops);
  add(
    l10n.t('time'),
    l10n.t(
      '{0} ms per run of batch {1} ({2} of the run)',
      msText(t.ms),
      times.profile.batch,
      percent(t.share),
    ) +
      (t.gflops !== null ? `, ${t.gflops.toFixed(1)} GFLOP/s` : '') +
      (ref !== null ? ` = ${ref.text}` : '') +
      `, ${t.provider}` +
      (t.fallback ? ` ${l10n.t('(CPU fallback)')}` : ''),
  );
}

/** "28.1 dB SQNR, cosine 0.998 (the error jumps here)". */
function quantText(q: QuantizedRow): string {
  if (q.missing) return l10n.t('not compared: the {0} model has no output here', q.missing);
  const db = q.sqnr_db === null ? l10n.t('identical') : l10n.t('{0} dB SQNR', q.sqnr_db.toFixed(1));
  return (
    db +
    (q.cosine !== null ? `, ${l10n.t('cosine {0}', q.cosine.toFixed(4))}` : '') +
    (q.jump ? ` ${l10n.t('(the error jumps here)')}` : '')
  );
}

/** The card for a table row (`tr` with `data-row`, `data-block` or `data-stage`); undefined for other rows. */
export function cardContent(tr: HTMLElement, table: LayerTable, m: Measured): HTMLElement[] | undefined {
  const { row, block, stage } = tr.dataset;
  const r = row === undefined ? undefined : table.rows[Number(row)];
  if (r) return rowCard(r, table, m);
  const b = block === undefined ? undefined : table.blocks.find((x) => x.block === block);
  if (b) return blockCard(b, table, m);
  const s = stage === undefined ? undefined : table.stages.find((x) => x.stage === stage);
  return s && stageCard(s, table, m);
}
