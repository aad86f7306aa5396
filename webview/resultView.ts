// The classification section: the current image's top classes, failures, and the list of all images.
import * as l10n from '@vscode/l10n';
import { percent } from '../src/shared/format';
import type { OutputKind } from '../src/shared/outputs';
import { isFailure, type ImageFailure, type ImageResult, type PanelState } from '../src/shared/protocol';
import { h } from './dom';
import { foundSection } from './foundView';

/** The section for the current image (with the crop the model saw), or a hint when there is none. */
export function resultSection(
  state: PanelState,
  outputKind: OutputKind = 'logits',
  /** A detector's receptive field per head stride, from the layer table (empty until it is read). */
  fields: ReadonlyMap<number, number> = new Map(),
): HTMLElement | undefined {
  const current = state.results[state.current];
  if (!current) {
    if (state.busy) return undefined;
    return h(
      'p',
      { class: 'hint' },
      l10n.t(
        'Right-click an image in the Explorer and choose “Classify with CNN Lens”, or run it from the Command Palette.',
      ),
    );
  }
  if (isFailure(current)) return failureView(current);
  return current.found ? foundSection(current, current.found, fields) : resultView(current, outputKind);
}

function failureView(f: ImageFailure): HTMLElement {
  return h(
    'section',
    { id: 'error', class: 'error', role: 'alert' },
    h('h2', {}, l10n.t('Cannot classify {0}', f.file)),
    h('p', {}, f.error),
  );
}

function resultView(r: ImageResult, outputKind: OutputKind): HTMLElement {
  const multiLabel = outputKind === 'sigmoid';
  const list = h('ol', {
    id: 'top5',
    'aria-label': multiLabel ? l10n.t('Top classes by sigmoid score') : l10n.t('Top classes'),
  });
  for (const p of r.top) {
    const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
    bar.style.setProperty('--p', String(p.probability));
    list.append(
      h(
        'li',
        { title: l10n.t('ImageNet class {0}', p.index) },
        h('span', { class: 'label' }, p.label),
        h('span', { class: 'prob' }, percent(p.probability)),
        bar,
      ),
    );
  }
  return h(
    'section',
    { id: 'result' },
    h('h2', { class: 'result-file' }, r.file),
    h(
      'div',
      { class: 'result-body' },
      r.preview
        ? h('img', {
            src: r.preview,
            alt: l10n.t('{0}, center crop seen by the model', r.file),
            width: '224',
            height: '224',
          })
        : undefined,
      list,
    ),
    multiLabel
      ? h(
          'p',
          { id: 'multi-label', class: 'muted', role: 'note' },
          l10n.t(
            "Per-class sigmoid scores (a multi-label head): each is the class's own, they need not sum to 100 %.",
          ),
        )
      : undefined,
    h(
      'p',
      { id: 'runinfo', class: 'muted' },
      l10n.t(
        '{0} · {1} · {2} ms (decode {3} ms, run {4} ms) · {5}×{6}',
        r.provider,
        r.precision ?? 'fp32',
        Math.round(r.ms.total),
        Math.round(r.ms.decode),
        Math.round(r.ms.run),
        r.width,
        r.height,
      ),
      r.loadMs === undefined
        ? undefined
        : ' · ' + l10n.t('model loaded first in {0} ms (not in this image’s time)', Math.round(r.loadMs)),
    ),
  );
}
