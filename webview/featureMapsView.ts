// Feature maps of one layer: the strongest channels as a grid of heat tiles, more on request.
import type { FeatureMaps } from '../src/shared/exploration';
import { heatCanvas } from './colormap';
import { h } from './dom';
import { vscode } from './vscodeApi';

const PAGE = 16;

/** The section for maps received so far for one layer (pages appended in order). */
export function featureMapsSection(pages: FeatureMaps[]): HTMLElement {
  const first = pages[0];
  const shown = pages.reduce((n, p) => n + p.maps.length, 0);
  const grid = h('div', { class: 'fm-grid', role: 'list' });
  for (const page of pages) {
    const size = page.height * page.width;
    page.maps.forEach((m, i) => {
      const values = page.data.subarray(i * size, (i + 1) * size);
      // Each tile uses its own range so weak channels still show their pattern; the label gives the range.
      const tile = heatCanvas(values, page.width, page.height, m.min, m.max);
      tile.className = 'fm-tile';
      tile.setAttribute('aria-hidden', 'true');
      grid.append(
        h(
          'figure',
          {
            role: 'listitem',
            tabindex: '0',
            'aria-label': `channel ${m.channel}, mean ${m.mean.toFixed(3)}`,
          },
          tile,
          h('figcaption', {}, `ch ${m.channel}`, h('br'), `${m.min.toFixed(2)} … ${m.max.toFixed(2)}`),
        ),
      );
    });
  }
  const more = h(
    'button',
    { type: 'button', id: 'fm-more' },
    `Show ${Math.min(PAGE, first.channels - shown)} more`,
  );
  more.addEventListener('click', () =>
    vscode.postMessage({ type: 'featureMaps', layer: first.layer, count: PAGE, offset: shown }),
  );
  return h(
    'section',
    { id: 'feature-maps', 'aria-labelledby': 'fm-title' },
    h('h2', { id: 'fm-title', tabindex: '-1' }, `Feature maps · ${first.layer}`),
    h(
      'p',
      { class: 'muted' },
      `${shown} of ${first.channels} channels, strongest mean activation first; ${first.height}×${first.width} each. Hover or focus a tile to enlarge it.`,
    ),
    grid,
    shown < first.channels ? more : undefined,
  );
}

/** Asks the host for the first page of a layer's maps. */
export function requestFeatureMaps(layer: string): void {
  vscode.postMessage({ type: 'featureMaps', layer, count: PAGE, offset: 0 });
}
