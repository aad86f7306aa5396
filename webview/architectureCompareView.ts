// Architectures side by side: one column per model, rows for the totals, the measured speed and the stages
// (lined up by output resolution, a detector's by part: src/shared/stageAlignment.ts), with bars against the
// row's largest value and ratios to the first model.
import * as l10n from '@vscode/l10n';
import { compact } from '../src/shared/format';
import type { ArchitectureComparison, ModelComparison } from '../src/shared/protocol';
import { alignStages, strideLabel, type StageLine } from '../src/shared/stageAlignment';
import { h } from './dom';
import { int } from './text';
import { vscode } from './vscodeApi';

/** A number cell: the value, a bar (share of the row's largest) and the ratio to the first model. */
function numberCell(row: (number | undefined)[], index: number, text: (v: number) => string): HTMLElement {
  const value = row[index];
  if (value === undefined) return h('td', { class: 'num' }, '');
  const max = Math.max(...row.map((v) => v ?? 0));
  const first = row[0];
  const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
  bar.style.setProperty('--p', String(max > 0 ? value / max : 0));
  const ratio = first !== undefined && first > 0 && index > 0 ? ` ×${formatRatio(value / first)}` : '';
  return h(
    'td',
    { class: 'num' },
    h('span', { class: 'value' }, text(value)),
    ratio
      ? h('span', { class: 'ratio muted', title: l10n.t('relative to the first model') }, ratio)
      : undefined,
    bar,
  );
}

function formatRatio(r: number): string {
  return r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r.toPrecision(2);
}

function msOf(m: ModelComparison, batch: number): number | undefined {
  return m.timing?.find((t) => t.batch === batch)?.msPerImage;
}

/** Why a model has no time at `batch`: not measured yet, cancelled, failed, or the model cannot take it. */
function noTime(m: ModelComparison, c: ArchitectureComparison, busy: boolean, batch: number): string {
  if (m.error) return '';
  if (m.timingError) return l10n.t('timing failed');
  if (m.timing) return l10n.t('the model does not take batch {0}', batch);
  if (c.cancelled) return l10n.t('not timed (cancelled)');
  return busy ? l10n.t('timing…') : '';
}

/** A line's row id: 'stride-4', 'stride-4x8', 'pooled', 'part-backbone'. */
function lineKey(line: StageLine<unknown>): string {
  if (line.by === 'part') return `part-${line.part}`;
  if (line.by === 'pooled') return 'pooled';
  const [sh, sw] = line.stride;
  return `stride-${sw === undefined || sw === sh ? sh : line.stride.join('x')}`;
}

/** A line's header: the resolution as a fraction of the input, or the part. */
function lineHead(line: StageLine<unknown>): HTMLElement {
  if (line.by === 'part') return h('th', { scope: 'row' }, line.part);
  if (line.by === 'pooled')
    return h(
      'th',
      { scope: 'row', title: l10n.t('after global pooling: one value per channel') },
      l10n.t('pooled'),
    );
  const [sh, sw] = line.stride;
  return h(
    'th',
    {
      scope: 'row',
      title: l10n.t(
        "output stride {0}: the stage's output has 1/{0} of the input's height and width",
        sw === undefined || sw === sh ? String(sh) : line.stride.join('×'),
      ),
    },
    l10n.t('output {0}', strideLabel(line.stride)),
  );
}

/** The comparison section; `busy` is the progress line while models are read and timed. */
export function architectureCompareSection(
  c: ArchitectureComparison,
  busy: string | undefined,
  onClose: () => void,
): HTMLElement {
  const models = c.models;
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, ''),
    ...models.map((m, i) =>
      h(
        'th',
        { scope: 'col', 'data-model': String(i), title: m.file },
        h('span', { class: 'model-col-name' }, m.name),
        m.file !== m.name ? h('br') : undefined,
        m.file !== m.name ? h('span', { class: 'muted' }, m.file) : undefined,
      ),
    ),
  );
  const rows: HTMLElement[] = [];
  const textRow = (label: string, cells: (m: ModelComparison) => string | HTMLElement, id?: string): void => {
    rows.push(
      h(
        'tr',
        id ? { 'data-row': id } : {},
        h('th', { scope: 'row' }, label),
        ...models.map((m) => h('td', {}, m.error ? '' : cells(m))),
      ),
    );
  };
  const numRow = (
    label: string,
    values: (number | undefined)[],
    text: (v: number) => string,
    id: string,
    title?: string,
  ): HTMLElement => {
    const row = h(
      'tr',
      { 'data-row': id },
      h('th', { scope: 'row', ...(title ? { title } : {}) }, label),
      ...values.map((_, i) => numberCell(values, i, text)),
    );
    rows.push(row);
    return row;
  };
  rows.push(
    h(
      'tr',
      { 'data-row': 'family' },
      h('th', { scope: 'row' }, l10n.t('family')),
      ...models.map((m) =>
        m.error
          ? h('td', { class: 'error-text', role: 'alert' }, l10n.t('could not be read: {0}', m.error))
          : h('td', {}, m.family ? h('span', { class: 'badge family' }, m.family) : '…'),
      ),
    ),
  );
  textRow(l10n.t('depth'), (m) => h('span', { class: 'equation-small' }, m.depth ?? ''), 'depth');
  textRow(l10n.t('input'), (m) => m.input ?? '', 'input');
  numRow(
    l10n.t('parameters'),
    models.map((m) => m.params),
    int,
    'params',
  );
  numRow(
    l10n.t('buffers'),
    models.map((m) => m.buffers),
    int,
    'buffers',
    l10n.t('BatchNorm running statistics'),
  );
  numRow(
    l10n.t('multiply-adds'),
    models.map((m) => m.macs),
    compact,
    'macs',
    l10n.t('per image'),
  );
  for (const batch of [1, 8]) {
    const values = models.map((m) => msOf(m, batch));
    const row = numRow(
      l10n.t('ms/image, batch {0}', batch),
      values,
      (v) => v.toFixed(v < 10 ? 2 : 1),
      `ms-b${batch}`,
      l10n.t('median of the timed runs on this machine ({0}, {1})', c.provider, c.precision),
    );
    models.forEach((m, i) => {
      if (values[i] === undefined) {
        const cell = row.children[i + 1] as HTMLElement;
        cell.textContent = noTime(m, c, busy !== undefined, batch);
        if (m.timingError) cell.title = m.timingError;
      }
    });
  }
  textRow(l10n.t('stages'), (m) => String(m.stages?.length ?? ''), 'stage-count');
  const lines = alignStages(models.map((m) => m.stages ?? []));
  const seen = new Map<string, number>();
  for (const line of lines) {
    const key = lineKey(line);
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    const params = line.cells.map((s) => s?.params);
    const macs = line.cells.map((s) => s?.macs);
    const maxParams = Math.max(0, ...params.map((v) => v ?? 0));
    const maxMacs = Math.max(0, ...macs.map((v) => v ?? 0));
    rows.push(
      h(
        'tr',
        { class: 'stage-row', 'data-row': n > 1 ? `${key}-${n}` : key },
        lineHead(line),
        ...line.cells.map((s, i) => {
          if (models[i]!.error) return h('td', {}, '');
          if (!s)
            return h(
              'td',
              { class: 'gap muted', title: l10n.t('no stage of this model outputs at this resolution') },
              '—',
            );
          const size = s.out_size ? s.out_size.join('×') : '?';
          const bar = (v: number, max: number, cls: string): HTMLElement => {
            const b = h('span', { class: `bar ${cls}`, 'aria-hidden': 'true' });
            b.style.setProperty('--p', String(max > 0 ? v / max : 0));
            return b;
          };
          return h(
            'td',
            {},
            h('strong', {}, s.stage),
            ` · ${l10n.t('{0}, {1} ch', size, String(s.width ?? '?'))} · ` +
              (s.counted === 1 ? l10n.t('{0} layer', s.counted) : l10n.t('{0} layers', s.counted)),
            h('br'),
            h('span', { class: 'muted' }, l10n.t('{0} params', compact(s.params))),
            bar(s.params, maxParams, 'params'),
            h('span', { class: 'muted' }, l10n.t('{0} mult-adds', compact(s.macs))),
            bar(s.macs, maxMacs, 'macs'),
          );
        }),
      ),
    );
  }
  const runs = models.find((m) => m.timing?.length)?.timing?.[0]?.runs ?? l10n.t('several');
  const close = h('button', { type: 'button', id: 'arch-compare-close' }, l10n.t('Close'));
  close.addEventListener('click', onClose);
  const cancel = h('button', { type: 'button', id: 'arch-compare-cancel' }, l10n.t('Cancel'));
  cancel.addEventListener('click', () => vscode.postMessage({ type: 'cancelComparison' }));
  return h(
    'section',
    { id: 'arch-compare', 'aria-labelledby': 'arch-compare-title', 'aria-busy': String(busy !== undefined) },
    h('h2', { id: 'arch-compare-title' }, l10n.t('Compare architectures · {0} models', models.length)),
    busy
      ? h('p', { id: 'arch-compare-status', class: 'busy', role: 'status' }, busy, ' ', cancel)
      : h(
          'p',
          { class: 'muted' },
          `${l10n.t("Bars: share of the row's largest value; ×: ratio to {0}.", models[0]?.name ?? l10n.t('the first model'))} ` +
            `${lines[0]?.by === 'part' ? l10n.t('Stages line up by part.') : l10n.t("Stages line up by the resolution they output (output /4: a quarter of the input's height and width); — where a model has no stage at that resolution.")} ` +
            (c.precision === 'int8'
              ? l10n.t(
                  'Times: median ms per image over {0} runs after a warm-up, one model at a time, on this machine ({1}, {2}; a model without its int8 file runs fp32).',
                  runs,
                  c.provider,
                  c.precision,
                )
              : l10n.t(
                  'Times: median ms per image over {0} runs after a warm-up, one model at a time, on this machine ({1}, {2}).',
                  runs,
                  c.provider,
                  c.precision,
                )) +
            (c.cancelled ? ` ${l10n.t('Cancelled: models not timed are marked.')}` : ''),
          ' ',
          close,
        ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'arch-compare-table', 'aria-label': l10n.t('Architectures side by side') },
        h('thead', {}, head),
        h('tbody', {}, ...rows),
      ),
    ),
  );
}
