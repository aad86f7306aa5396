// The classification section: the current image's top classes, failures, and the list of all images.
import { percent } from '../src/shared/format';
import { isFailure, type ImageFailure, type ImageResult, type PanelState } from '../src/shared/protocol';
import { h } from './dom';

/** The section for the current image, or a hint when there is none; the crop is left out when a CAM shows it. */
export function resultSection(state: PanelState, showCrop: boolean): HTMLElement | undefined {
  const current = state.results[state.current];
  if (!current) {
    if (state.busy) return undefined;
    return h(
      'p',
      { class: 'hint' },
      'Right-click an image in the Explorer and choose “Classify with CNN Lens”, or run it from the Command Palette.',
    );
  }
  return isFailure(current) ? failureView(current) : resultView(current, showCrop);
}

function failureView(f: ImageFailure): HTMLElement {
  return h(
    'section',
    { id: 'error', class: 'error', role: 'alert' },
    h('h2', {}, `Cannot classify ${f.file}`),
    h('p', {}, f.error),
  );
}

function resultView(r: ImageResult, showCrop: boolean): HTMLElement {
  const list = h('ol', { id: 'top5', 'aria-label': 'Top classes' });
  for (const p of r.top) {
    const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
    bar.style.setProperty('--p', String(p.probability));
    list.append(
      h(
        'li',
        { title: `ImageNet class ${p.index}` },
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
      showCrop && r.preview
        ? h('img', {
            src: r.preview,
            alt: `${r.file}, center crop seen by the model`,
            width: '224',
            height: '224',
          })
        : undefined,
      list,
    ),
    h(
      'p',
      { id: 'runinfo', class: 'muted' },
      `${r.provider} · ${r.precision ?? 'fp32'} · ${Math.round(r.ms.total)} ms (decode ${Math.round(r.ms.decode)} ms, run ${Math.round(r.ms.run)} ms) · ${r.width}×${r.height}`,
    ),
  );
}
