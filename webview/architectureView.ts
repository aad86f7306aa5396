// The architecture section: the layer table as a keyboard-navigable treegrid, its detail card in a pane beside
// it. Rows are CSS grid rows (not table layout) so that rows out of view skip style and layout
// (content-visibility), and the columns that fit the pane come from container queries (layerColumns.ts).
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import * as l10n from '@vscode/l10n';
import { compact, percent, shapeText } from '../src/shared/format';
import type { LayerActivationView } from '../src/shared/protocol';
import type { BlockSummary, LayerRow, LayerTable, StageSummary } from '../src/shared/layerTable';
import type { Profile } from '../src/shared/profile';
import type { ArchitectureView } from '../src/shared/protocol';
import type { QuantizationReport, QuantizedRow } from '../src/shared/quantization';
import { detailCard, focusQuietly } from './detailCard';
import { h } from './dom';
import { msText } from './figures';
import { cardContent, type Measured } from './layerCard';
import { COLUMN_KEYS, columnHeader, columnStyles, type ColumnKey, type Filled } from './layerColumns';
import { showSection } from './sections';
import { splitPane } from './splitPane';
import { blockCounts, int } from './text';
import { requestFeatureMaps } from './featureMapsView';
import { vscode } from './vscodeApi';

/**
 * Rows per group of the table's body. A group out of view skips style, layout and paint as one
 * (content-visibility): per row, the bookkeeping of 600 skipped rows cost more than it saved.
 */
const ROWS_PER_GROUP = 32;
/**
 * Groups made before the table is first shown (one fills a pane about 700 px tall); the others are made a few
 * per task after it, so that building a 600-row table's DOM does not hold up its first frame.
 */
const FIRST_GROUPS = 1;
const GROUPS_PER_TASK = 4;

/** Makes the table's remaining groups at once: for what needs every row (keys, links, collapsing a stage). */
let finishTable: () => void = () => undefined;

/** The table's body rows, in order across its groups. */
function bodyRows(grid: ParentNode = document): HTMLElement[] {
  return [...grid.querySelectorAll<HTMLElement>('#layers tbody tr')];
}

/** What the panel has measured for the rows (the columns and the card show it). */
const measured: Measured = { times: null, quantization: null, activations: new Map() };

/** The columns' layout for what is filled, adopted by the page (a constructed sheet: no inline style). */
const columnSheet = new CSSStyleSheet();
document.adoptedStyleSheets = [...document.adoptedStyleSheets, columnSheet];
let columnCss = '';

/** Lays the columns out for what is filled now: unfilled columns take no room. */
function layOutColumns(): void {
  const filled: Filled = {
    time: measured.times !== null,
    quant: measured.quantization !== null,
    act: measured.activations.size > 0,
  };
  const css = columnStyles(filled);
  if (css !== columnCss) columnSheet.replaceSync((columnCss = css));
  const grid = document.getElementById('layers');
  grid?.classList.toggle('has-time', filled.time);
  grid?.classList.toggle('has-quant', filled.quant);
  grid?.classList.toggle('has-act', filled.act);
}

/** A grid cell of column `key`. */
function cell(key: ColumnKey, cls = '', ...children: (Node | string | undefined)[]): HTMLElement {
  return h('td', { role: 'gridcell', class: `c-${key}${cls ? ` ${cls}` : ''}` }, ...children);
}

/**
 * Renders the section for a host `width` px wide (0 when it is not shown); the time the render took goes on
 * it as `data-render-ms`, and on the table as `data-complete-ms` once its last group is made (for the
 * benchmark).
 */
export function architectureSection(view: ArchitectureView, width: number): HTMLElement {
  const t0 = performance.now();
  const { table } = view;
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
        ...COLUMN_KEYS.map((key) => {
          const { label, title } = columnHeader(key);
          return h(
            'th',
            { role: 'columnheader', scope: 'col', class: `c-${key}`, ...(title && { title }) },
            label,
          );
        }),
      ),
    ),
  );
  buildGroups(grid, tableRows(table), t0);
  const card = detailCard(grid, (tr) => cardContent(tr, table, measured));
  wireInteraction(grid);
  setTimesHeader(grid);
  layOutColumns();
  const pane = h('div', { class: 'table-pane' }, grid);
  const section = h(
    'section',
    { id: 'architecture', 'aria-labelledby': 'architecture-title' },
    h(
      'div',
      { class: 'section-head' },
      h('h2', { id: 'architecture-title' }, l10n.t('Architecture · {0}', view.model)),
    ),
    summary(table),
    splitPane(pane, card, 'arch-split', width),
  );
  section.dataset.renderMs = (performance.now() - t0).toFixed(1);
  return section;
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
  return h(
    'vscode-collapsible',
    {
      id: 'warnings',
      class: 'warnings',
      heading: title,
      ...(warnings.length <= 3 && { open: '' }),
    },
    h('ul', {}, ...warnings.map((w) => h('li', {}, w))),
  );
}

/**
 * Appends the rows in groups: the first at once, the rest in later tasks (or at once when something needs
 * them, through `finishTable`). Each group gets what has been measured for its rows as it is made.
 */
function buildGroups(grid: HTMLElement, rows: (() => HTMLElement)[], t0: number): void {
  let next = 0;
  const make = (groups: number): void => {
    for (; groups > 0 && next < rows.length; groups--, next += ROWS_PER_GROUP) {
      const group = h(
        'tbody',
        { role: 'rowgroup' },
        ...rows.slice(next, next + ROWS_PER_GROUP).map((f) => f()),
      );
      fillTimes(group);
      fillQuantization(group);
      fillActivations(group);
      grid.append(group);
    }
    if (next >= rows.length) grid.dataset.completeMs = (performance.now() - t0).toFixed(1);
  };
  make(FIRST_GROUPS);
  const finish = (): void => make(Infinity);
  finishTable = finish;
  const step = (): void => {
    // Another table replaced this one, or something needed the rest at once.
    if (finishTable !== finish || next >= rows.length) return;
    make(GROUPS_PER_TASK);
    setTimeout(step, 0);
  };
  // After the first frame has painted, so that those rows do not weigh on it.
  requestAnimationFrame(() => setTimeout(step, 0));
}

/** Stage rows (level 1), block rows (level 2) and layer rows under them, each made when called. */
function tableRows(table: LayerTable): (() => HTMLElement)[] {
  const stages = new Map(table.stages.map((s) => [s.stage, s]));
  const blocks = new Map(table.blocks.map((b) => [b.block, b]));
  const blocksOf = new Map<string, BlockSummary[]>();
  for (const b of table.blocks) blocksOf.set(b.stage, [...(blocksOf.get(b.stage) ?? []), b]);
  const out: (() => HTMLElement)[] = [];
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
      if (stage) out.push(() => stageRow(stage, own));
    }
    if (row.block && row.block !== lastBlock) {
      lastBlock = row.block;
      const block = blocks.get(row.block);
      const notation = !uniform;
      if (block) out.push(() => blockRow(block, notation));
    }
    if (row.counted) n++;
    const ordinal = row.counted ? n : undefined;
    out.push(() => layerRow(row, i, row.block ? 3 : 2, ordinal));
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
    cell(
      'name',
      'span',
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
    ...summaryCells(s.params, s.macs),
  );
  return tr;
}

/** A block row: its kind, its notation where the stage's layout does not already say it, the shortcut. */
function blockRow(b: BlockSummary, showNotation: boolean): HTMLElement {
  return h(
    'tr',
    { role: 'row', class: 'block', 'aria-level': '2', 'data-block': b.block, tabindex: '-1' },
    cell(
      'name',
      'span',
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
    ...summaryCells(b.params, b.macs),
  );
}

/** The cells after a stage's or block's label: its parameters and multiply-adds. */
function summaryCells(params: number, macs: number): HTMLElement[] {
  return [cell('params', 'num', int(params)), cell('macs', 'num', compact(macs))];
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
    cell(
      'name',
      'name',
      h('span', { class: 'ordinal' }, counted ? String(counted) : ''),
      h('span', { class: 'layer-name' }, row.name),
      ...rowBadges(row),
      row.source ? sourceLink(row.source) : undefined,
    ),
    cell('kernel', '', row.kernel ? row.kernel.join('×') : ''),
    cell(
      'stride',
      '',
      row.downsample
        ? h(
            'span',
            { class: 'badge downsample', title: l10n.t('downsamples: stride {0}', strideText) },
            `↓ ${strideText}`,
          )
        : strideText,
    ),
    cell('channels', '', inC !== undefined && outC !== undefined ? `${inC} → ${outC}` : ''),
    cell('output', '', spatial),
    rfCell(row),
    cell('params', 'num', int(row.params)),
    cell('macs', 'num', compact(row.macs)),
  );
}

/** "35 / 4": the receptive field and effective stride (both sides when they differ); blank past global pooling. */
function rfCell(row: LayerRow): HTMLElement {
  const rf = row.receptive_field;
  const stride = row.effective_stride;
  if (!rf || !stride) return cell('rf', 'num');
  const side = (v: number[]): string => (v[0] === v[1] ? String(v[0]) : v.join('×'));
  return h(
    'td',
    {
      role: 'gridcell',
      class: 'c-rf num',
      title: l10n.t(
        'each output position sees {0} input pixels; neighbours are {1} pixels apart',
        rf.join('×'),
        stride.join('×'),
      ),
    },
    `${side(rf)} / ${side(stride)}`,
  );
}

/** Shows a profile's times in the Time column (null hides the column). */
export function showTimes(profile: Profile | null): void {
  measured.times = profile
    ? {
        profile,
        byName: new Map([...profile.rows, ...profile.blocks, ...profile.stages].map((r) => [r.name, r])),
      }
    : null;
  const grid = document.getElementById('layers');
  if (grid) {
    const t0 = performance.now();
    setTimesHeader(grid);
    fillTimes(grid);
    grid.dataset.timesMs = (performance.now() - t0).toFixed(1);
  }
  layOutColumns();
}

/** The Time column's header says which batch the profile ran. */
function setTimesHeader(grid: HTMLElement): void {
  const { times } = measured;
  const header = grid.querySelector<HTMLElement>('th.c-time');
  if (header) header.textContent = times ? l10n.t('Time (batch {0})', times.profile.batch) : l10n.t('Time');
}

/**
 * Cells of the filled columns, made in every row once there is something to show (empty where a row has no
 * value, so that the rows line up) and none before: most tables have none.
 */
const FILLED_CLASS = { time: 'num time', quant: 'quant', act: 'act' } as const;

/** Puts `content` in the row's cell of a filled column (made where missing, in column order); none removes it. */
function fillCell(
  tr: HTMLElement,
  key: keyof typeof FILLED_CLASS,
  content: (Node | string)[] | undefined,
  title?: string,
): void {
  let td = tr.querySelector<HTMLElement>(`:scope > .c-${key}`);
  if (!content) {
    td?.remove();
    return;
  }
  if (!td) {
    td = cell(key, FILLED_CLASS[key]);
    const later = COLUMN_KEYS.slice(COLUMN_KEYS.indexOf(key) + 1).map((k) => `c-${k}`);
    const next = [...tr.children].find((c) => later.some((cls) => c.classList.contains(cls)));
    tr.insertBefore(td, next ?? null);
  }
  td.replaceChildren(...content);
  if (title) td.title = title;
  else td.removeAttribute('title');
}

/** The Time cells of the rows under `root` (the table, or a group of it). */
function fillTimes(root: HTMLElement): void {
  const { times } = measured;
  if (!times && !root.querySelector('td.c-time')) return;
  for (const tr of root.querySelectorAll<HTMLElement>('tbody tr')) {
    const name = tr.dataset.name ?? tr.dataset.block ?? tr.dataset.stage ?? '';
    const t = times?.byName.get(name);
    fillCell(
      tr,
      'time',
      !times
        ? undefined
        : !t
          ? []
          : [
              `${msText(t.ms)} ms`,
              t.fallback
                ? h(
                    'span',
                    {
                      class: 'badge fallback',
                      title: l10n.t('ran on the CPU: the GPU provider could not take it'),
                    },
                    'CPU',
                  )
                : '',
            ],
      t &&
        l10n.t('{0} of the run; {1}', percent(t.share), t.provider) +
          (t.fallback ? ` ${l10n.t('(CPU fallback)')}` : ''),
    );
  }
}

/** Shows the int8 error per row in its column (null hides the column). */
export function showQuantization(report: QuantizationReport | null): void {
  measured.quantization = report ? new Map(report.rows.map((r) => [r.name, r])) : null;
  const grid = document.getElementById('layers');
  if (grid) {
    const t0 = performance.now();
    fillQuantization(grid);
    grid.dataset.quantMs = (performance.now() - t0).toFixed(1);
  }
  layOutColumns();
}

/** The int8 error cells of the layer rows under `root` (the table, or a group of it). */
function fillQuantization(root: HTMLElement): void {
  if (!measured.quantization && !root.querySelector('td.c-quant')) return;
  for (const tr of root.querySelectorAll<HTMLElement>('tbody tr')) {
    const q = measured.quantization?.get(tr.dataset.name ?? '');
    fillCell(tr, 'quant', !measured.quantization ? undefined : q ? quantCell(q) : []);
  }
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

/** Fills the Activations column (and the card) with an explored image's per-layer results. */
export function showActivations(layers: readonly LayerActivationView[] | undefined): void {
  measured.activations = new Map((layers ?? []).map((l) => [l.name, l]));
  const grid = document.getElementById('layers');
  if (grid) fillActivations(grid);
  layOutColumns();
}

/** The Activations cells of the layer rows under `root` (the table, or a group of it). */
function fillActivations(root: HTMLElement): void {
  if (measured.activations.size === 0 && !root.querySelector('td.c-act')) return;
  const explored = measured.activations.size > 0;
  for (const tr of root.querySelectorAll<HTMLElement>('tbody tr')) {
    const a = tr.dataset.name === undefined ? undefined : measured.activations.get(tr.dataset.name);
    fillCell(tr, 'act', !explored ? undefined : a ? activationCell(a, tr.dataset.shape ?? '') : []);
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

/** Roving focus, arrow keys, collapse/expand (the detail card follows focus on its own). */
function wireInteraction(grid: HTMLElement): void {
  const visibleRows = (): HTMLElement[] => bodyRows(grid).filter((r) => !r.hidden);
  const focusRow = (tr: HTMLElement | undefined): void => {
    if (!tr) return;
    for (const r of grid.querySelectorAll<HTMLElement>('tbody tr[tabindex="0"]')) r.tabIndex = -1;
    tr.tabIndex = 0;
    tr.focus();
  };
  const setExpanded = (stage: HTMLElement, expanded: boolean): void => {
    stage.setAttribute('aria-expanded', String(expanded));
    const all = bodyRows(grid);
    for (let i = all.indexOf(stage) + 1; i < all.length && !all[i]!.classList.contains('stage'); i++) {
      all[i]!.hidden = !expanded;
    }
  };
  const first = grid.querySelector<HTMLElement>('tbody tr');
  if (first) first.tabIndex = 0;
  grid.addEventListener('click', (e) => {
    const tr = (e.target as HTMLElement).closest<HTMLElement>('tbody tr');
    if (!tr) return;
    finishTable();
    if (tr.classList.contains('stage')) setExpanded(tr, tr.getAttribute('aria-expanded') !== 'true');
    else openMaps(tr);
    focusRow(tr);
  });
  grid.addEventListener('keydown', (e) => {
    const tr = (e.target as HTMLElement).closest<HTMLElement>('tbody tr');
    if (!tr) return;
    finishTable();
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
  if (!name || !measured.activations.has(name)) return false;
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
  finishTable();
  const wanted = new Set(names);
  let first: HTMLElement | undefined;
  for (const tr of document.querySelectorAll<HTMLElement>('#layers tr.layer')) {
    const hit = wanted.has(tr.dataset.name ?? '');
    tr.classList.toggle('from-source', hit);
    if (!hit || first) continue;
    first = tr;
    const stage = findStage(tr);
    if (stage?.getAttribute('aria-expanded') === 'false') stage.click();
  }
  first?.scrollIntoView({ block: 'nearest' });
}

/** The stage row a row belongs to (the last stage row before it). */
function findStage(tr: HTMLElement): HTMLElement | undefined {
  const rows = bodyRows();
  for (let i = rows.indexOf(tr); i >= 0; i--) if (rows[i]!.classList.contains('stage')) return rows[i];
  return undefined;
}

/**
 * Moves keyboard focus to the row, block or stage named `name` (expanding its stage), as a link from the
 * profile and quantization views; returns whether the table has it.
 */
export function focusLayer(name: string): boolean {
  finishTable();
  const rows = bodyRows();
  const tr = rows.find(
    (r) => r.dataset.name === name || r.dataset.block === name || r.dataset.stage === name,
  );
  if (!tr) return false;
  showSection('architecture');
  const stage = tr.classList.contains('stage') ? undefined : findStage(tr);
  if (stage?.getAttribute('aria-expanded') === 'false') stage.click();
  for (const r of rows) if (r.tabIndex === 0) r.tabIndex = -1;
  tr.tabIndex = 0;
  tr.scrollIntoView({ block: 'center' });
  tr.focus({ preventScroll: true });
  return true;
}

/**
 * Opens the architecture tab with keyboard focus in the table (after "Open Architecture"); the detail card
 * waits for the user to point at or move to a row.
 */
export function focusArchitecture(): void {
  showSection('architecture');
  const row = document.querySelector<HTMLElement>('#layers tbody tr[tabindex="0"]');
  if (row) focusQuietly(row);
}
