// Two images side by side: their top classes and, stage by stage, how their activations differ.
import * as l10n from '@vscode/l10n';
import { percent } from '../src/shared/format';
import type { LayerTable } from '../src/shared/layerTable';
import type { ExplorationView } from '../src/shared/protocol';
import { h } from './dom';

interface StageStats {
  stage: string;
  mean: number;
  zeros: number;
}

/** Mean activation and zero fraction per stage, averaged over the stage's rows. */
function stageStats(x: ExplorationView, table: LayerTable | undefined): StageStats[] {
  const stageOf = new Map((table?.rows ?? []).map((r) => [r.name, r.stage ?? r.name]));
  const groups = new Map<string, { mean: number; zeros: number; n: number }>();
  for (const l of x.layers) {
    const stage = stageOf.get(l.name) ?? '?';
    const g = groups.get(stage) ?? { mean: 0, zeros: 0, n: 0 };
    g.mean += l.mean;
    g.zeros += l.zero_fraction;
    g.n++;
    groups.set(stage, g);
  }
  return [...groups].map(([stage, g]) => ({ stage, mean: g.mean / g.n, zeros: g.zeros / g.n }));
}

/**
 * Relative difference of the per-layer mean activations within each stage: 0 where the two images
 * excite the stage alike, towards 1 where they diverge.
 */
function divergence(
  a: ExplorationView,
  b: ExplorationView,
  table: LayerTable | undefined,
): Map<string, number> {
  const stageOf = new Map((table?.rows ?? []).map((r) => [r.name, r.stage ?? r.name]));
  const byName = new Map(b.layers.map((l) => [l.name, l]));
  const sums = new Map<string, { d: number; n: number }>();
  for (const la of a.layers) {
    const lb = byName.get(la.name);
    if (!lb) continue;
    const stage = stageOf.get(la.name) ?? '?';
    const s = sums.get(stage) ?? { d: 0, n: 0 };
    const scale = Math.max(Math.abs(la.mean), Math.abs(lb.mean), 1e-9);
    s.d += Math.abs(la.mean - lb.mean) / scale;
    s.n++;
    sums.set(stage, s);
  }
  return new Map([...sums].map(([k, s]) => [k, s.d / s.n]));
}

/** The comparison section. */
export function compareSection(
  items: { file: string; exploration: ExplorationView }[],
  table: LayerTable | undefined,
): HTMLElement {
  const [a, b] = items;
  if (!a || !b) throw new Error(`compare needs two explorations, got ${items.length}`);
  const side = (item: { file: string; exploration: ExplorationView }): HTMLElement =>
    h(
      'div',
      { class: 'compare-side' },
      h('h3', {}, item.file),
      item.exploration.preview
        ? h('img', { src: item.exploration.preview, alt: item.file, width: '160', height: '160' })
        : undefined,
      h('ol', {}, ...item.exploration.top.map((p) => h('li', {}, `${p.label} ${percent(p.probability)}`))),
    );
  const sa = stageStats(a.exploration, table);
  const sb = new Map(stageStats(b.exploration, table).map((s) => [s.stage, s]));
  const div = divergence(a.exploration, b.exploration, table);
  const rows = sa.map((s) => {
    const o = sb.get(s.stage);
    const d = div.get(s.stage) ?? 0;
    const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
    bar.style.setProperty('--p', String(Math.min(1, d)));
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, s.stage),
      h('td', { class: 'num' }, s.mean.toFixed(3)),
      h('td', { class: 'num' }, percent(s.zeros, 0)),
      h('td', { class: 'num' }, o ? o.mean.toFixed(3) : ''),
      h('td', { class: 'num' }, o ? percent(o.zeros, 0) : ''),
      h('td', { class: 'divergence' }, bar, ` ${d.toFixed(2)}`),
    );
  });
  return h(
    'section',
    { id: 'compare' },
    h('h2', {}, l10n.t('Compare')),
    h('div', { class: 'compare-sides' }, side(a), side(b)),
    h(
      'table',
      { id: 'compare-table', 'aria-label': l10n.t('Per-stage activations of both images') },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, l10n.t('stage')),
          h('th', { scope: 'col' }, l10n.t('A mean')),
          h('th', { scope: 'col' }, l10n.t('A zeros')),
          h('th', { scope: 'col' }, l10n.t('B mean')),
          h('th', { scope: 'col' }, l10n.t('B zeros')),
          h(
            'th',
            { scope: 'col', title: l10n.t('mean relative difference of the per-layer mean activations') },
            l10n.t('divergence'),
          ),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
  );
}
