// The architecture section: the layer table as a keyboard-navigable treegrid with a detail card.
import * as l10n from '@vscode/l10n';
import { compact, nchwText, percent, shapeText } from '../src/shared/format';
import type { LayerActivationView } from '../src/shared/protocol';
import type { BlockSummary, LayerRow, LayerTable, StageSummary } from '../src/shared/layerTable';
import type { Profile, TimedRow } from '../src/shared/profile';
import type { ArchitectureView } from '../src/shared/protocol';
import type { QuantizationReport, QuantizedRow } from '../src/shared/quantization';
import { h } from './dom';
import { msText, referenceFigure } from './figures';
import { blockCounts, int } from './text';
import { requestFeatureMaps } from './featureMapsView';
import { requests, vscode } from './vscodeApi';

/** Column headers, with a class for the columns shown only once there is something to show. */
function columns(): [string, string, string?][] {
  return [
    [l10n.t('Layer'), ''],
    [l10n.t('Kernel'), ''],
    [l10n.t('Stride'), ''],
    [l10n.t('Channels'), ''],
    [l10n.t('Output'), ''],
    [
      l10n.t('RF / stride'),
      'col-rf',
      l10n.t('receptive field of one output position, and effective stride, in input pixels'),
    ],
    [l10n.t('Params'), ''],
    [l10n.t('Mult-adds'), ''],
    [l10n.t('Time'), 'col-time', l10n.t('median ms per run, from the last profile')],
    [
      l10n.t('int8 error'),
      'col-quant',
      l10n.t('SQNR (dB) and cosine of the int8 output against fp32, for the current image'),
    ],
    [l10n.t('Activations'), ''],
  ];
}

/** Renders the section; returns it and the time the render took (for the benchmark note). */
export function architectureSection(view: ArchitectureView): HTMLElement {
  const t0 = performance.now();
  const { table } = view;
  const card = h(
    'aside',
    { id: 'layer-card', class: 'card empty', 'aria-live': 'polite' },
    h('p', { class: 'muted' }, l10n.t('Hover or focus a layer to see its shapes.')),
  );
  const grid = h('table', {
    id: 'layers',
    role: 'treegrid',
    'aria-label': l10n.t('{0} layers', view.model),
    'aria-describedby': 'layer-card',
  });
  grid.append(
    h(
      'thead',
      {},
      h(
        'tr',
        { role: 'row' },
        ...columns().map(([name, cls, title]) =>
          h('th', { role: 'columnheader', scope: 'col', class: cls, ...(title && { title }) }, name),
        ),
      ),
    ),
  );
  const body = h('tbody');
  grid.append(body);
  for (const tr of tableRows(table)) body.append(tr);
  wireInteraction(body, table, card);
  fillTimes(grid);
  fillQuantization(grid);
  const section = h(
    'section',
    { id: 'architecture', 'aria-labelledby': 'architecture-title' },
    h(
      'div',
      { class: 'section-head' },
      h('h2', { id: 'architecture-title' }, l10n.t('Architecture · {0}', view.model)),
      quantizationButton(),
      compareButton(),
    ),
    summary(table),
    h('div', { class: 'arch-body' }, h('div', { class: 'table-wrap' }, grid), card),
  );
  section.dataset.renderMs = (performance.now() - t0).toFixed(1);
  return section;
}

/** "fp32 vs int8 for this image": the current image at both precisions, row by row. */
function quantizationButton(): HTMLElement {
  const b = h(
    'button',
    {
      type: 'button',
      id: 'compare-precisions',
      title: l10n.t(
        'Run the current image at fp32 and at int8 and compare every layer’s output (SQNR, cosine)',
      ),
    },
    l10n.t('fp32 vs int8 for this image'),
  );
  b.addEventListener('click', () => requests.send({ type: 'compareQuantized' }));
  return b;
}

/** "Compare with other models…": the Compare Architectures command, with this model among the choices. */
function compareButton(): HTMLElement {
  const b = h('button', { type: 'button', id: 'compare-models' }, l10n.t('Compare with other models…'));
  b.addEventListener('click', () => vscode.postMessage({ type: 'command', command: 'compareArchitectures' }));
  return b;
}

function summary(table: LayerTable): HTMLElement {
  const t = table.totals;
  const counted = table.stages.filter((s) => s.counted > 0);
  const extras = [
    t.buffers > 0 ? l10n.t('{0} buffers (BatchNorm running statistics)', int(t.buffers)) : '',
    t.constants > 0
      ? l10n.t('{0} constants (anchors, strides, scales: not parameters)', int(t.constants))
      : '',
    t.projections > 0
      ? l10n.t('{0} projection shortcuts, not counted in the {1}', t.projections, t.counted)
      : '',
    t.shared > 0 ? l10n.t('{0} shared tensors counted once', t.shared) : '',
    t.measured > 0
      ? t.measured === 1
        ? l10n.t('{0} shape measured by a run', t.measured)
        : l10n.t('{0} shapes measured by a run', t.measured)
      : '',
  ].filter(Boolean);
  return h(
    'div',
    { class: 'summary' },
    h(
      'p',
      { id: 'depth', class: 'equation' },
      h('span', { id: 'family', class: 'badge' }, table.family),
      ` ${l10n.t('{0} weighted layers', table.depth)}`,
      h('span', { class: 'muted' }, ` (${counted.map((s) => s.stage).join(', ')})`),
    ),
    h(
      'p',
      { id: 'totals' },
      l10n.t(
        '{0} parameters · {1} multiply-adds per image ({2})',
        int(t.params),
        int(t.macs),
        compact(t.macs),
      ),
      extras.length > 0 ? ` · ${extras.join(' · ')}` : '',
    ),
    table.model.assumed
      ? h('p', { id: 'assumed', class: 'notice', role: 'note' }, l10n.t('Assumed: {0}.', table.model.assumed))
      : undefined,
    table.note ? h('p', { id: 'table-note', class: 'muted' }, table.note) : undefined,
    table.warnings.length > 0 ? warningsList(table.warnings) : undefined,
  );
}

/** What could not be inferred or counted: open when short, a disclosure when long. */
function warningsList(warnings: string[]): HTMLElement {
  const title =
    warnings.length === 1 ? l10n.t('{0} warning', warnings.length) : l10n.t('{0} warnings', warnings.length);
  const details = h(
    'details',
    { id: 'warnings', class: 'notice warnings' },
    h('summary', {}, title),
    h('ul', {}, ...warnings.map((w) => h('li', {}, w))),
  );
  if (warnings.length <= 3) details.setAttribute('open', '');
  return details;
}

/** Stage rows (level 1), block rows (level 2) and layer rows under them. */
function tableRows(table: LayerTable): HTMLElement[] {
  const stages = new Map(table.stages.map((s) => [s.stage, s]));
  const blocks = new Map(table.blocks.map((b) => [b.block, b]));
  const blocksOf = new Map<string, BlockSummary[]>();
  for (const b of table.blocks) blocksOf.set(b.stage, [...(blocksOf.get(b.stage) ?? []), b]);
  const out: HTMLElement[] = [];
  let lastStage: string | null = null;
  let lastBlock: string | null = null;
  let uniform = false;
  let n = 0;
  table.rows.forEach((row, i) => {
    if (row.stage !== lastStage) {
      lastStage = row.stage;
      lastBlock = null;
      const stage = row.stage === null ? undefined : stages.get(row.stage);
      const own = (row.stage !== null && blocksOf.get(row.stage)) || [];
      // In a stage of identical blocks the stage's layout already gives the notation ("[…] × 3").
      uniform = own.every((b) => b.notation === own[0]?.notation);
      if (stage) out.push(stageRow(stage, own));
    }
    if (row.block && row.block !== lastBlock) {
      lastBlock = row.block;
      const block = blocks.get(row.block);
      if (block) out.push(blockRow(block, !uniform));
    }
    if (row.counted) n++;
    out.push(layerRow(row, i, row.block ? 3 : 2, row.counted ? n : undefined));
  });
  return out;
}

function stageRow(s: StageSummary, blocks: readonly BlockSummary[]): HTMLElement {
  const size = s.out_size ? s.out_size.join('×') : '?';
  const counts =
    blocks.length > 0
      ? blockCounts(blocks)
      : s.blocks > 0
        ? s.blocks === 1
          ? l10n.t('{0} block', s.blocks)
          : l10n.t('{0} blocks', s.blocks)
        : '';
  const tr = h(
    'tr',
    {
      role: 'row',
      class: 'stage',
      'aria-level': '1',
      'aria-expanded': 'true',
      'data-stage': s.stage,
      tabindex: '-1',
    },
    h(
      'td',
      { role: 'gridcell', colspan: '6' },
      h('span', { class: 'twisty', 'aria-hidden': 'true' }),
      h('strong', {}, s.stage),
      ` · ${l10n.t('output {0}, {1} ch', size, String(s.width ?? '?'))} · `,
      h(
        'span',
        { class: 'stage-count' },
        s.counted === 1 ? l10n.t('{0} layer', s.counted) : l10n.t('{0} layers', s.counted),
      ),
      counts ? h('span', { class: 'stage-blocks' }, ` · ${counts}`) : undefined,
      s.layout ? h('span', { class: 'muted layout' }, ` · ${s.layout}`) : undefined,
    ),
    h('td', { role: 'gridcell', class: 'num' }, int(s.params)),
    h('td', { role: 'gridcell', class: 'num' }, compact(s.macs)),
    h('td', { role: 'gridcell', class: 'num col-time time' }),
    h('td', { role: 'gridcell', class: 'col-quant' }),
    h('td', { role: 'gridcell' }),
  );
  return tr;
}

/** A block row: its kind, its notation where the stage's layout does not already say it, the shortcut. */
function blockRow(b: BlockSummary, showNotation: boolean): HTMLElement {
  return h(
    'tr',
    { role: 'row', class: 'block', 'aria-level': '2', 'data-block': b.block, tabindex: '-1' },
    h(
      'td',
      { role: 'gridcell', colspan: '6' },
      h('strong', {}, b.block),
      ` · ${b.kind}`,
      showNotation || b.shortcut ? ' · ' : '',
      showNotation ? h('code', { class: 'notation' }, b.notation) : undefined,
      b.shortcut
        ? h(
            'span',
            { class: b.shortcut === 'projection' ? 'badge projection' : 'badge' },
            l10n.t('{0} shortcut', b.shortcut),
          )
        : undefined,
      b.residual ? h('code', { class: 'residual' }, b.residual) : undefined,
    ),
    h('td', { role: 'gridcell', class: 'num' }, int(b.params)),
    h('td', { role: 'gridcell', class: 'num' }, compact(b.macs)),
    h('td', { role: 'gridcell', class: 'num col-time time' }),
    h('td', { role: 'gridcell', class: 'col-quant' }),
    h('td', { role: 'gridcell' }),
  );
}

/** Role, counting and shape-source badges of a layer row. */
function rowBadges(row: LayerRow): HTMLElement[] {
  const weighted = row.params > 0 || row.macs > 0;
  const notCounted = !row.counted && weighted ? ` · ${l10n.t('not counted')}` : '';
  const out: HTMLElement[] = [];
  const badge = (cls: string, text: string, title: string): void => {
    out.push(h('span', { class: `badge ${cls}`, title }, text));
  };
  switch (row.role) {
    case 'projection':
      badge(
        'projection',
        l10n.t('projection · not counted'),
        l10n.t('projection shortcut: not on the path the depth counts'),
      );
      break;
    case 'se':
      badge('se', `SE${notCounted}`, l10n.t('squeeze-and-excitation: channel weights from a global pool'));
      break;
    case 'branch':
      badge('branch', `${l10n.t('branch')}${notCounted}`, l10n.t('a parallel branch of the block'));
      break;
    case 'join':
      badge('join', l10n.t('join'), l10n.t('joins branches ({0})', row.op));
      break;
    default:
      if (notCounted)
        badge('uncounted', l10n.t('not counted'), l10n.t('weighted, but not on the path the depth counts'));
  }
  if (row.shared.length > 0) {
    badge(
      'shared',
      l10n.t('shared'),
      l10n.t('weights read by other rows too, counted once: {0}', row.shared.join(', ')),
    );
  }
  if (row.measured)
    badge('measured', l10n.t('measured'), l10n.t('output shape measured by an onnxruntime run'));
  if (row.unknown) badge('unknown', l10n.t('unknown'), row.unknown);
  return out;
}

function layerRow(row: LayerRow, index: number, level: number, counted: number | undefined): HTMLElement {
  const inC = row.in_channels ?? undefined;
  const outC = row.out_channels ?? undefined;
  const hw = row.channels_last ? row.out_shape?.slice(1, 3) : row.out_shape?.slice(2);
  const spatial =
    row.out_shape && row.out_shape.length === 4 && hw
      ? hw.join('×') + (row.channels_last ? ' (NHWC)' : '')
      : shapeText(row.out_shape?.slice(1) ?? null);
  const strideText = row.stride ? row.stride.join('×') : '';
  return h(
    'tr',
    {
      role: 'row',
      class: `layer role-${row.role}${row.counted ? '' : ' uncounted'}${row.unknown ? ' unknown' : ''}`,
      'aria-level': String(level),
      'data-row': String(index),
      'data-name': row.name,
      'data-shape': shapeText(row.out_shape?.slice(1) ?? null),
      tabindex: '-1',
    },
    h(
      'td',
      { role: 'gridcell', class: 'name' },
      h('span', { class: 'ordinal' }, counted ? String(counted) : ''),
      row.name,
      ...rowBadges(row),
      row.source ? sourceLink(row.source) : undefined,
    ),
    h('td', { role: 'gridcell' }, row.kernel ? row.kernel.join('×') : ''),
    h(
      'td',
      { role: 'gridcell' },
      row.downsample
        ? h(
            'span',
            { class: 'badge downsample', title: l10n.t('downsamples: stride {0}', strideText) },
            `↓ ${strideText}`,
          )
        : strideText,
    ),
    h('td', { role: 'gridcell' }, inC !== undefined && outC !== undefined ? `${inC} → ${outC}` : ''),
    h('td', { role: 'gridcell' }, spatial),
    rfCell(row),
    h('td', { role: 'gridcell', class: 'num' }, int(row.params)),
    h('td', { role: 'gridcell', class: 'num' }, compact(row.macs)),
    h('td', { role: 'gridcell', class: 'num col-time time' }),
    h('td', { role: 'gridcell', class: 'col-quant quant' }),
    h('td', { role: 'gridcell', class: 'act' }),
  );
}

/** "35 / 4": the receptive field and effective stride (both sides when they differ); blank past global pooling. */
function rfCell(row: LayerRow): HTMLElement {
  const rf = row.receptive_field;
  const stride = row.effective_stride;
  if (!rf || !stride) return h('td', { role: 'gridcell', class: 'col-rf num' });
  const side = (v: number[]): string => (v[0] === v[1] ? String(v[0]) : v.join('×'));
  return h(
    'td',
    {
      role: 'gridcell',
      class: 'col-rf num',
      title: l10n.t(
        'each output position sees {0} input pixels; neighbours are {1} pixels apart',
        rf.join('×'),
        stride.join('×'),
      ),
    },
    `${side(rf)} / ${side(stride)}`,
  );
}

/** The last profile's times, by row, block and stage name; null when there is no profile. */
let times: { profile: Profile; byName: Map<string, TimedRow> } | null = null;

/** Shows a profile's times in the Time column (null hides the column). */
export function showTimes(profile: Profile | null): void {
  times = profile
    ? {
        profile,
        byName: new Map([...profile.rows, ...profile.blocks, ...profile.stages].map((r) => [r.name, r])),
      }
    : null;
  const grid = document.getElementById('layers');
  if (grid) fillTimes(grid);
}

function fillTimes(grid: HTMLElement): void {
  const t0 = performance.now();
  grid.classList.toggle('has-time', times !== null);
  const header = grid.querySelector<HTMLElement>('th.col-time');
  if (header) header.textContent = times ? l10n.t('Time (batch {0})', times.profile.batch) : l10n.t('Time');
  for (const td of grid.querySelectorAll<HTMLElement>('td.time')) {
    const tr = td.parentElement!;
    const name = tr.dataset.name ?? tr.dataset.block ?? tr.dataset.stage ?? '';
    const t = times?.byName.get(name);
    if (!t || !times) {
      td.replaceChildren();
      td.removeAttribute('title');
      continue;
    }
    td.title =
      l10n.t('{0} of the run; {1}', percent(t.share), t.provider) +
      (t.fallback ? ` ${l10n.t('(CPU fallback)')}` : '');
    td.replaceChildren(
      `${msText(t.ms)} ms`,
      t.fallback
        ? h(
            'span',
            { class: 'badge fallback', title: l10n.t('ran on the CPU: the GPU provider could not take it') },
            'CPU',
          )
        : '',
    );
  }
  grid.dataset.timesMs = (performance.now() - t0).toFixed(1);
}

/** The current image's fp32-vs-int8 error, by row name; null when there is none. */
let quantization: Map<string, QuantizedRow> | null = null;

/** Shows the int8 error per row in its column (null hides the column). */
export function showQuantization(report: QuantizationReport | null): void {
  quantization = report ? new Map(report.rows.map((r) => [r.name, r])) : null;
  const grid = document.getElementById('layers');
  if (grid) fillQuantization(grid);
}

function fillQuantization(grid: HTMLElement): void {
  const t0 = performance.now();
  grid.classList.toggle('has-quant', quantization !== null);
  for (const td of grid.querySelectorAll<HTMLElement>('td.quant')) {
    const q = quantization?.get(td.parentElement!.dataset.name ?? '');
    td.replaceChildren(...(q ? quantCell(q) : []));
  }
  grid.dataset.quantMs = (performance.now() - t0).toFixed(1);
}

/** "28.1 dB · 0.998", the jump marked, or why nothing was compared. */
function quantCell(q: QuantizedRow): (Node | string)[] {
  if (q.missing)
    return [
      h(
        'span',
        { class: 'muted', title: l10n.t('the {0} model has no output for this row', q.missing) },
        '–',
      ),
    ];
  const db =
    q.sqnr_db === null ? l10n.t('exact') : q.sqnr_db === -Infinity ? '−∞ dB' : `${q.sqnr_db.toFixed(1)} dB`;
  return [
    h('span', { class: 'sqnr' }, db),
    q.cosine !== null ? h('span', { class: 'muted' }, ` · ${q.cosine.toFixed(3)}`) : '',
    q.jump
      ? h(
          'span',
          {
            class: 'badge jump',
            title: l10n.t(
              'SQNR fell by more than 6 dB from the previous main-path row: the error jumps here',
            ),
          },
          l10n.t('jump'),
        )
      : '',
  ];
}

/** The current image's per-layer results, by row name; empty when no image has been explored. */
let activations = new Map<string, LayerActivationView>();

/** Fills the Activations column (and the card) with an explored image's per-layer results. */
export function showActivations(layers: readonly LayerActivationView[] | undefined): void {
  activations = new Map((layers ?? []).map((l) => [l.name, l]));
  for (const tr of document.querySelectorAll<HTMLElement>('#layers tr.layer')) {
    const cell = tr.querySelector<HTMLElement>('td.act');
    const a = activations.get(tr.dataset.name ?? '');
    if (!cell) continue;
    cell.replaceChildren(...(a ? activationCell(a, tr.dataset.shape ?? '') : []));
  }
}

function activationCell(a: LayerActivationView, computed: string): (Node | string)[] {
  const spark = document.createElement('canvas');
  spark.width = 48;
  spark.height = 14;
  spark.className = 'spark';
  spark.setAttribute('aria-hidden', 'true');
  const ctx = spark.getContext('2d')!;
  const peak = Math.max(1, ...a.histogram);
  const w = spark.width / a.histogram.length;
  ctx.fillStyle = getComputedStyle(document.body).getPropertyValue('--vscode-charts-blue') || '#3794ff';
  a.histogram.forEach((c, i) => {
    const bh = c > 0 ? Math.max(1, (c / peak) * spark.height) : 0;
    ctx.fillRect(i * w, spark.height - bh, w - 0.5, bh);
  });
  const measured = shapeText(a.out_shape.slice(1));
  const mismatch = measured !== computed;
  return [
    spark,
    h(
      'span',
      { class: 'stats' },
      l10n.t('μ {0} · max {1} · {2} zero', a.mean.toFixed(2), a.max.toFixed(1), percent(a.zero_fraction, 0)),
    ),
    mismatch
      ? h(
          'span',
          { class: 'badge mismatch', title: l10n.t('measured {0}, computed {1}', measured, computed) },
          l10n.t('shape differs'),
        )
      : '',
  ];
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

/** The detail card for one row. */
function cardFor(row: LayerRow, table: LayerTable): HTMLElement[] {
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
  timeDefinition(add, row.name);
  const q = quantization?.get(row.name);
  if (q) add(l10n.t('int8 error'), quantText(q));
  add(l10n.t('activation'), row.activation ?? l10n.t('none'));
  add(l10n.t('role'), roleText(row.role));
  add(l10n.t('counted in depth'), row.counted ? l10n.t('yes') : l10n.t('no'));
  add(l10n.t('ONNX nodes'), row.onnx_nodes.map((n, i) => `${n} (${row.onnx_ops[i]})`).join(', '));
  const a = activations.get(row.name);
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
function blockCard(b: BlockSummary, table: LayerTable): HTMLElement[] {
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
  timeDefinition(add, b.block);
  return [h('h3', {}, b.block), h('p', { class: 'muted' }, l10n.t('{0} · block', b.stage)), dl];
}

/** The card for a stage row. */
function stageCard(s: StageSummary, table: LayerTable): HTMLElement[] {
  const { dl, add } = definitions();
  add(l10n.t('output'), shapeText(s.out_shape));
  add(l10n.t('width'), String(s.width ?? '?'));
  add(l10n.t('counted layers'), String(s.counted));
  if (s.blocks > 0) add(l10n.t('blocks'), blockCounts(table.blocks.filter((b) => b.stage === s.stage)));
  add(l10n.t('layout'), s.layout);
  add(l10n.t('parameters'), int(s.params));
  if (s.buffers > 0) add(l10n.t('buffers'), int(s.buffers));
  add(l10n.t('multiply-adds'), macsText(s.macs, table));
  timeDefinition(add, s.stage);
  return [h('h3', {}, s.stage), h('p', { class: 'muted' }, l10n.t('stage')), dl];
}

/** The card's time line for a row, block or stage, when a profile has it. */
function timeDefinition(add: (k: string, v: string) => void, name: string): void {
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

/** Roving focus, arrow keys, collapse/expand, hover and focus → card. */
function wireInteraction(body: HTMLElement, table: LayerTable, card: HTMLElement): void {
  const visibleRows = (): HTMLElement[] =>
    [...body.querySelectorAll<HTMLElement>('tr')].filter((r) => !r.hidden);
  const stages = new Map(table.stages.map((s) => [s.stage, s]));
  const blocks = new Map(table.blocks.map((b) => [b.block, b]));
  const rowAt = (index: string): LayerRow => {
    const r = table.rows[Number(index)];
    if (!r) throw new Error(`data-row ${index} is not a row of the layer table`);
    return r;
  };
  const show = (tr: HTMLElement): void => {
    const { row, block, stage } = tr.dataset;
    const b = block === undefined ? undefined : blocks.get(block);
    const s = stage === undefined ? undefined : stages.get(stage);
    const content =
      row !== undefined
        ? cardFor(rowAt(row), table)
        : b
          ? blockCard(b, table)
          : s
            ? stageCard(s, table)
            : undefined;
    if (!content) return;
    card.replaceChildren(...content);
    card.classList.remove('empty');
  };
  const focusRow = (tr: HTMLElement | undefined): void => {
    if (!tr) return;
    for (const r of body.querySelectorAll<HTMLElement>('tr[tabindex="0"]')) r.tabIndex = -1;
    tr.tabIndex = 0;
    tr.focus();
  };
  const setExpanded = (stage: HTMLElement, expanded: boolean): void => {
    stage.setAttribute('aria-expanded', String(expanded));
    let next = stage.nextElementSibling as HTMLElement | null;
    while (next && !next.classList.contains('stage')) {
      next.hidden = !expanded;
      next = next.nextElementSibling as HTMLElement | null;
    }
  };
  const first = body.querySelector<HTMLElement>('tr');
  if (first) first.tabIndex = 0;
  body.addEventListener('mouseover', (e) => {
    const tr = (e.target as HTMLElement).closest<HTMLElement>('tr');
    if (tr) show(tr);
  });
  body.addEventListener('focusin', (e) => show(e.target as HTMLElement));
  // In narrow panels the card floats over the table: hide it once neither pointer nor focus is on a row.
  body.addEventListener('mouseleave', () => {
    if (!body.contains(document.activeElement)) card.classList.add('empty');
  });
  body.addEventListener('focusout', (e) => {
    if (!body.contains(e.relatedTarget as Node | null)) card.classList.add('empty');
  });
  body.addEventListener('click', (e) => {
    const tr = (e.target as HTMLElement).closest<HTMLElement>('tr');
    if (!tr) return;
    if (tr.classList.contains('stage')) setExpanded(tr, tr.getAttribute('aria-expanded') !== 'true');
    else openMaps(tr);
    focusRow(tr);
  });
  body.addEventListener('keydown', (e) => {
    const tr = (e.target as HTMLElement).closest<HTMLElement>('tr');
    if (!tr) return;
    const rows = visibleRows();
    const i = rows.indexOf(tr);
    const stage = tr.classList.contains('stage') ? tr : findStage(tr);
    switch (e.key) {
      case 'ArrowDown':
        focusRow(rows[i + 1]);
        break;
      case 'ArrowUp':
        focusRow(rows[i - 1]);
        break;
      case 'Home':
        focusRow(rows[0]);
        break;
      case 'End':
        focusRow(rows[rows.length - 1]);
        break;
      case 'PageDown':
        focusRow(rows[Math.min(rows.length - 1, i + 10)]);
        break;
      case 'PageUp':
        focusRow(rows[Math.max(0, i - 10)]);
        break;
      case 'ArrowRight':
        if (tr === stage && tr.getAttribute('aria-expanded') === 'false') setExpanded(tr, true);
        else focusRow(rows[i + 1]);
        break;
      case 'ArrowLeft':
        if (tr === stage && tr.getAttribute('aria-expanded') === 'true') setExpanded(tr, false);
        else if (stage) focusRow(stage);
        break;
      case 'Enter':
      case ' ':
        if (tr === stage) setExpanded(tr, tr.getAttribute('aria-expanded') !== 'true');
        else if (!openMaps(tr)) openRowSource(tr);
        break;
      default:
        return;
    }
    e.preventDefault();
  });
}

/** A layer row opens its feature maps once an image has been explored; returns whether it did. */
function openMaps(tr: HTMLElement): boolean {
  const name = tr.dataset.name;
  if (!name || !activations.has(name)) return false;
  requestFeatureMaps(name);
  return true;
}

/** A Python model's row: "file.py:12", a button that opens the line which constructed its module. */
function sourceLink(source: { file: string; line: number }): HTMLElement {
  const where = `${source.file.split(/[\\/]/).pop()}:${source.line}`;
  const b = h(
    'button',
    { type: 'button', class: 'source-link', tabindex: '-1', title: l10n.t('Go to source: {0}', where) },
    where,
  );
  b.addEventListener('click', (e) => {
    e.stopPropagation();
    vscode.postMessage({ type: 'openSource', file: source.file, line: source.line });
  });
  return b;
}

/** Enter on a Python model's row (nothing explored) goes to its source. */
function openRowSource(tr: HTMLElement): void {
  tr.querySelector<HTMLElement>('.source-link')?.click();
}

/**
 * Marks the rows that the Python editor's cursor line built (expanding their stage, scrolling the first into
 * view without taking focus from the editor); no names clears the mark.
 */
export function markRows(names: readonly string[]): void {
  const body = document.querySelector<HTMLElement>('#layers tbody');
  if (!body) return;
  const wanted = new Set(names);
  let first: HTMLElement | undefined;
  for (const tr of body.querySelectorAll<HTMLElement>('tr.layer')) {
    const hit = wanted.has(tr.dataset.name ?? '');
    tr.classList.toggle('from-source', hit);
    if (!hit || first) continue;
    first = tr;
    const stage = findStage(tr);
    if (stage?.getAttribute('aria-expanded') === 'false') stage.click();
  }
  first?.scrollIntoView({ block: 'nearest' });
}

function findStage(tr: HTMLElement): HTMLElement | undefined {
  let prev = tr.previousElementSibling as HTMLElement | null;
  while (prev && !prev.classList.contains('stage')) prev = prev.previousElementSibling as HTMLElement | null;
  return prev ?? undefined;
}

/**
 * Moves keyboard focus to the row, block or stage named `name` (expanding its stage), as a link from the
 * profile and quantization views; returns whether the table has it.
 */
export function focusLayer(name: string): boolean {
  const body = document.querySelector<HTMLElement>('#layers tbody');
  const tr = [...(body?.querySelectorAll<HTMLElement>('tr') ?? [])].find(
    (r) => r.dataset.name === name || r.dataset.block === name || r.dataset.stage === name,
  );
  if (!body || !tr) return false;
  const stage = tr.classList.contains('stage') ? undefined : findStage(tr);
  if (stage?.getAttribute('aria-expanded') === 'false') stage.click();
  for (const r of body.querySelectorAll<HTMLElement>('tr[tabindex="0"]')) r.tabIndex = -1;
  tr.tabIndex = 0;
  tr.scrollIntoView({ block: 'center' });
  tr.focus({ preventScroll: true });
  return true;
}

/** Moves keyboard focus into the table (after "Open Architecture"). */
export function focusArchitecture(): void {
  const section = document.getElementById('architecture');
  section?.scrollIntoView({ block: 'start' });
  section?.querySelector<HTMLElement>('tbody tr[tabindex="0"]')?.focus();
}
