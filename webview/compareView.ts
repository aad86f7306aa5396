// Two images side by side: their top classes and, stage by stage, how their activations differ.
import * as l10n from '@vscode/l10n';
import { percent } from '../src/shared/format';
import type { LayerTable } from '../src/shared/layerTable';
import type { ComparisonView, ExplorationView } from '../src/shared/protocol';
import { h } from './dom';
import { stageSimilarity } from './figures';

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

/** The comparison section. */
export function compareSection(comparison: ComparisonView, table: LayerTable | undefined): HTMLElement {
  const { items } = comparison;
  const [a, b] = items;
  if (!a || !b) throw new Error(`compare needs two explorations, got ${items.length}`);
  const side = (item: { file: string; exploration: ExplorationView }): HTMLElement =>
    h(
      'div',
      { class: 'compare-side' },
      h('h3', {}, item.file),
      h('p', { class: 'muted compare-model' }, item.exploration.precision),
      item.exploration.preview
        ? h('img', { src: item.exploration.preview, alt: item.file, width: '160', height: '160' })
        : undefined,
      h('ol', {}, ...item.exploration.top.map((p) => h('li', {}, `${p.label} ${percent(p.probability)}`))),
    );
  const sa = stageStats(a.exploration, table);
  const sb = new Map(stageStats(b.exploration, table).map((s) => [s.stage, s]));
  const similar = stageSimilarity(comparison.similarity, table);
  const rows = sa.map((s) => {
    const o = sb.get(s.stage);
    const at = similar.get(s.stage);
    const cosine = at?.cosine ?? null;
    const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
    bar.style.setProperty('--p', String(Math.max(0, cosine ?? 0)));
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, s.stage),
      h('td', { class: 'num' }, s.mean.toFixed(3)),
      h('td', { class: 'num' }, percent(s.zeros, 0)),
      h('td', { class: 'num' }, o ? o.mean.toFixed(3) : ''),
      h('td', { class: 'num' }, o ? percent(o.zeros, 0) : ''),
      h(
        'td',
        {
          class: 'similarity',
          title: at ? l10n.t('at {0}', at.name) : '',
        },
        cosine === null ? '–' : bar,
        cosine === null ? undefined : ` ${cosine.toFixed(2)}`,
      ),
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
            {
              scope: 'col',
              title: l10n.t(
                "cosine similarity of the two images' per-channel mean activation vectors at the stage's output",
              ),
            },
            l10n.t('similarity (cosine)'),
          ),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
    h(
      'p',
      { class: 'muted', id: 'compare-metric' },
      l10n.t(
        "Similarity: the cosine of the angle between the two images' vectors of per-channel mean activations (each channel averaged over the feature map) at each stage's last layer; 1: the same channels respond in the same proportions, 0: unrelated channels respond. Means: over every value of the stage's layers; zeros: the share that is exactly 0.",
      ),
    ),
  );
}
