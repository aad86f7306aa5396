// The results table of a run: thumbnail, file, top-1 and probability; sortable, filterable, exportable.
import * as l10n from '@vscode/l10n';
import { percent } from '../src/shared/format';
import {
  isFailure,
  type ImageEntry,
  type ImageResult,
  type PanelState,
  type PredictionView,
} from '../src/shared/protocol';
import { h } from './dom';
import { requests, vscode } from './vscodeApi';

type SortKey = 'file' | 'label' | 'probability';

/** View options that survive re-renders (not persisted: a reload starts unsorted). */
const view = { sort: 'file' as SortKey | null, descending: false, filter: '' };
/** Entries ticked for comparison (indices into the run). */
const ticked = new Set<number>();

/** A new run starts: nothing is ticked. */
export function resetResultsTable(): void {
  ticked.clear();
}

/** The top-1 prediction of an image: a classifier's top class, a detector's best detection, a segmenter's
 *  largest class; undefined for a detector that found nothing. */
function top1(e: ImageResult): PredictionView | undefined {
  return e.top[0];
}

const topLabel = (e: ImageEntry): string => (isFailure(e) ? '' : (top1(e)?.label ?? ''));
const topProb = (e: ImageEntry): number => (isFailure(e) ? -1 : (top1(e)?.probability ?? -1));

function compare(a: ImageEntry, b: ImageEntry, key: SortKey): number {
  if (key === 'probability') return topProb(a) - topProb(b);
  return (key === 'file' ? a.file : topLabel(a)).localeCompare(key === 'file' ? b.file : topLabel(b));
}

/** The table section for runs of more than one image; re-rendered by `rerender` on sort/filter. */
export function resultsTable(state: PanelState, rerender: () => void): HTMLElement | undefined {
  if (state.total < 2) return undefined;
  const failed = state.results.filter(isFailure).length;
  const needle = view.filter.trim().toLowerCase();
  const indexed = state.results
    .map((entry, index) => ({ entry, index }))
    .filter(
      ({ entry }) =>
        !needle ||
        (isFailure(entry) ? entry.error : entry.top.map((p) => p.label).join(' '))
          .toLowerCase()
          .includes(needle),
    );
  if (view.sort) {
    const key = view.sort;
    indexed.sort((a, b) => compare(a.entry, b.entry, key) * (view.descending ? -1 : 1));
  }

  const filter = h('input', {
    type: 'search',
    id: 'results-filter',
    placeholder: l10n.t('Filter by label'),
    'aria-label': l10n.t('Filter results by label'),
    value: view.filter,
  }) as HTMLInputElement;
  filter.addEventListener('input', () => {
    view.filter = filter.value;
    rerender();
  });

  const header = (label: string, key: SortKey): HTMLElement => {
    const sorted = view.sort === key ? (view.descending ? 'descending' : 'ascending') : 'none';
    const b = h(
      'button',
      { type: 'button', class: 'sort' },
      label,
      sorted === 'none' ? '' : sorted === 'ascending' ? ' ▲' : ' ▼',
    );
    b.addEventListener('click', () => {
      view.descending = view.sort === key ? !view.descending : key === 'probability';
      view.sort = key;
      rerender();
    });
    return h('th', { scope: 'col', 'aria-sort': sorted }, b);
  };

  const rows = indexed.map(({ entry, index }) => {
    const select = (): void => vscode.postMessage({ type: 'select', index });
    const tr = h(
      'tr',
      {
        tabindex: '0',
        'aria-selected': String(index === state.current),
        class: isFailure(entry) ? 'failed' : '',
        title: isFailure(entry)
          ? entry.error
          : entry.top.map((p) => `${p.label}: ${percent(p.probability)}`).join('\n'),
      },
      h(
        'td',
        {},
        !isFailure(entry) && entry.preview
          ? h('img', { src: entry.preview, alt: '', width: '40', height: '40' })
          : '',
      ),
      h('td', { class: 'file' }, entry.file),
      isFailure(entry)
        ? h('td', { class: 'error-text', colspan: '2' }, entry.error)
        : h('td', {}, top1(entry)?.label ?? l10n.t('nothing found')),
      isFailure(entry)
        ? undefined
        : h('td', { class: 'num' }, top1(entry) ? percent(top1(entry)!.probability) : '—'),
      h('td', {}, isFailure(entry) ? '' : compareBox(index, entry.file, rerender)),
    );
    tr.addEventListener('click', select);
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        select();
      }
    });
    return tr;
  });

  const exportButton = (format: 'csv' | 'json'): HTMLElement => {
    const b = h('button', { type: 'button' }, l10n.t('Export {0}', format.toUpperCase()));
    b.addEventListener('click', () => vscode.postMessage({ type: 'export', format }));
    return b;
  };

  return h(
    'section',
    { id: 'results' },
    h(
      'h2',
      {},
      l10n.t('Images: {0} classified, {1} failed', state.results.length - failed, failed),
      state.results.length < state.total
        ? ` ${l10n.t('({0} of {1})', state.results.length, state.total)}`
        : '',
    ),
    h(
      'div',
      { class: 'results-tools' },
      filter,
      compareButton(),
      precisionsButton(state.results.length - failed),
      exportButton('csv'),
      exportButton('json'),
      ranAt(state.results),
    ),
    h(
      'table',
      { id: 'results-table', 'aria-label': l10n.t('Classified images') },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, ''),
          header(l10n.t('File'), 'file'),
          header(l10n.t('Top-1'), 'label'),
          header(l10n.t('Probability'), 'probability'),
          h('th', { scope: 'col' }, l10n.t('Compare')),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
  );
}

/** "ran at fp32": the precision(s) of the run's results, so that they stay labelled after a switch. */
function ranAt(results: readonly ImageEntry[]): HTMLElement | undefined {
  const ran = [...new Set(results.flatMap((r) => ('error' in r ? [] : [r.precision ?? 'fp32'])))];
  return ran.length === 0
    ? undefined
    : h('span', { class: 'run-precision muted' }, l10n.t('ran at {0}', ran.join(', ')));
}

function compareBox(index: number, file: string, rerender: () => void): HTMLElement {
  const box = h('input', { type: 'checkbox', 'aria-label': l10n.t('Compare {0}', file) }) as HTMLInputElement;
  box.checked = ticked.has(index);
  // Two make a comparison: once two are ticked, the others wait until one is unticked.
  box.disabled = !box.checked && ticked.size >= 2;
  box.addEventListener('click', (e) => e.stopPropagation());
  box.addEventListener('keydown', (e) => e.stopPropagation());
  box.addEventListener('change', () => {
    if (box.checked) ticked.add(index);
    else ticked.delete(index);
    rerender();
  });
  return box;
}

function compareButton(): HTMLElement {
  const b = h(
    'button',
    { type: 'button', id: 'compare-button' },
    l10n.t('Compare {0}/2', ticked.size),
  ) as HTMLButtonElement;
  b.disabled = ticked.size !== 2;
  b.title = l10n.t('Tick two images to see them side by side');
  b.addEventListener('click', () => requests.send({ type: 'compare', indices: [...ticked] }));
  return b;
}

/** "fp32 vs int8": the run's classified images at both precisions (agreement, images that changed class). */
function precisionsButton(classified: number): HTMLElement {
  const b = h(
    'button',
    {
      type: 'button',
      id: 'compare-run-precisions',
      title: l10n.t(
        'Classify these images at fp32 and at int8: top-1 agreement, mean |Δp|, the images that changed class',
      ),
    },
    l10n.t('fp32 vs int8'),
  ) as HTMLButtonElement;
  b.disabled = classified === 0;
  b.addEventListener('click', () => requests.send({ type: 'compareRunPrecisions' }));
  return b;
}
