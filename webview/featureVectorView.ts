// A layer whose output has no spatial extent (a fully connected layer, a global pool): one value per channel,
// shown as a ranked list of bars. As feature maps they would be tiles of one pixel each, which show nothing.
import * as l10n from '@vscode/l10n';
import type { FeatureMaps } from '../src/shared/exploration';
import { h } from './dom';

/** Whether a layer's output is 1×1 per channel, so that `featureVectorSection` shows it. */
export function isVector(maps: FeatureMaps): boolean {
  return maps.height * maps.width === 1;
}

/** The section for the values received so far (pages appended in order, largest value first). */
export function featureVectorSection(
  pages: FeatureMaps[],
  more: HTMLElement | undefined,
  heading: (title: string) => HTMLElement,
): HTMLElement {
  const [first] = pages;
  if (!first) throw new Error('featureVectorSection: no page of values');
  const values = pages.flatMap((p) => p.maps);
  const largest = Math.max(0, ...values.map((m) => Math.abs(m.mean)));
  const rows = values.map((m) => {
    const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
    bar.style.setProperty('--p', String(largest > 0 ? Math.abs(m.mean) / largest : 0));
    return h(
      'tr',
      { 'data-channel': String(m.channel) },
      h('th', { scope: 'row' }, l10n.t('ch {0}', m.channel)),
      h('td', { class: 'num' }, m.mean.toFixed(3)),
      h('td', {}, bar),
    );
  });
  return h(
    'section',
    { id: 'feature-maps', 'aria-labelledby': 'fm-title', 'data-kind': 'vector' },
    heading(l10n.t('Values · {0}', first.layer)),
    h(
      'p',
      { class: 'muted', id: 'fm-vector-note' },
      l10n.t(
        "{0} outputs {1}: one value per channel and no spatial map (each channel is 1×1), so the values are shown instead of maps. {2} of {3} channels, largest value first; bars: each value's magnitude against the largest shown (the sign is in the value).",
        first.layer,
        first.out_shape.join('×'),
        values.length,
        first.channels,
      ),
    ),
    h(
      'table',
      { id: 'fm-vector', 'aria-label': l10n.t('Values of {0} by channel', first.layer) },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, l10n.t('channel')),
          h('th', { scope: 'col' }, l10n.t('value')),
          h('th', { scope: 'col' }, l10n.t('magnitude')),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
    more,
  );
}
