// What a detector or segmenter found in the current image: boxes with labels and scores over the whole image,
// instance or class masks as a translucent overlay with a legend, sliders that filter the boxes again without
// running the model, and the detections as a keyboard-navigable table.
import * as l10n from '@vscode/l10n';
import { percent } from '../src/shared/format';
import { suppress, type Candidate } from '../src/shared/detections';
import type { FoundView, ImageResult } from '../src/shared/protocol';
import type { BoxMap, Detection, LayerMap, TaskMaps } from '../src/shared/tasks';
import { heat, heatCanvas } from './colormap';
import { h } from './dom';
import { requests } from './vscodeApi';

const SVG = 'http://www.w3.org/2000/svg';

// A categorical palette that stays readable over photographs (labels sit on a dark plate in its colour).
const PALETTE: [number, number, number][] = [
  [230, 25, 75],
  [60, 180, 75],
  [255, 225, 25],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
  [240, 50, 230],
  [210, 245, 60],
  [250, 190, 212],
];
const colour = (i: number): [number, number, number] => PALETTE[i % PALETTE.length]!;
const css = ([r, g, b]: [number, number, number], a = 1): string => `rgba(${r}, ${g}, ${b}, ${a})`;

/** What "where it looks" shows for the current image: EigenCAM's maps, one box's Grad-CAM, or why neither. */
type Explained =
  | { file: string; maps: TaskMaps }
  | { file: string; box: BoxMap; detection: Detection }
  | { file: string; error: string };
let explained: Explained | undefined;
let shownMap = 0;
/** The detection last focused in the table: the one Grad-CAM explains. */
let selected: Detection | undefined;
/** The detection a Grad-CAM request is for, until its answer arrives. */
let asked: Detection | undefined;

/** The host answered a `taskMaps` request. */
export function setTaskMaps(
  answer: { file: string; maps: TaskMaps } | { file: string; error: string },
): void {
  explained = answer;
  if ('maps' in answer) shownMap = Math.min(shownMap, Math.max(0, answer.maps.maps.length - 1));
}

/** The host answered a `boxMap` request. */
export function setBoxMap(answer: { file: string; map: BoxMap } | { file: string; error: string }): void {
  explained =
    'map' in answer && asked
      ? { file: answer.file, box: answer.map, detection: asked }
      : (answer as Explained);
}

/** The sliders' positions per image, kept while the panel re-renders. */
const chosen = new Map<string, { confidence: number; iou: number }>();

/** The section for a detector's or segmenter's answer on one image. */
export function foundSection(
  r: ImageResult,
  found: FoundView,
  fields: ReadonlyMap<number, number>,
): HTMLElement {
  const section = h('section', { id: 'found', 'aria-label': l10n.t('What the model found') });
  const figure = h('div', { class: 'found-figure' });
  const image = h('img', {
    src: r.preview ?? '',
    alt: l10n.t('{0}, the whole image the model saw', r.file),
  });
  figure.append(image);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${r.width} ${r.height}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', 'found-boxes');
  svg.setAttribute('aria-hidden', 'true');
  const list = h('div', { class: 'found-list' });
  const summary = h('p', { id: 'found-summary', class: 'muted', role: 'status' });
  section.append(h('h2', { class: 'result-file' }, r.file), summary);
  if (found.task === 'segment') {
    const map = maskCanvas(found, () => true);
    if (map) figure.append(map);
    summary.textContent = l10n.t(
      'Semantic segmentation: {0} classes present; shares of the image’s pixels (argmax per pixel at the model’s output resolution).',
      found.classes?.length ?? 0,
    );
    section.append(h('div', { class: 'result-body' }, figure, legend(found)), whereItLooks(r, found, figure));
    return withRunInfo(section, r);
  }
  figure.append(svg);
  const run = found.thresholds!;
  const state = chosen.get(r.uri) ?? { confidence: run.confidence, iou: run.iou };
  const byAnchor = new Map(found.detections.map((d) => [d.anchor, d]));
  let mask: HTMLCanvasElement | undefined;
  const draw = (): void => {
    chosen.set(r.uri, state);
    const kept = suppress(found.candidates, state.confidence, state.iou, run.maxDetections);
    const shown = kept.map((c) => detectionOf(c, byAnchor.get(c.anchor), found.labels));
    // Masks belong to the run's detections: those still shown keep theirs.
    const visible = new Set(
      kept.flatMap((c) => {
        const i = found.detections.findIndex((d) => d.anchor === c.anchor);
        return i < 0 ? [] : [i + 1];
      }),
    );
    mask?.remove();
    mask = maskCanvas(found, (v) => visible.has(v));
    if (mask) figure.insertBefore(mask, svg);
    drawBoxes(svg, shown, r.width, fields);
    list.replaceChildren(detectionsTable(shown, svg, fields));
    summary.textContent = l10n.t(
      '{0} detections with score above {1} after NMS at IoU {2} ({3} candidates above {4}); boxes in the image’s pixels.',
      shown.length,
      state.confidence.toFixed(2),
      state.iou.toFixed(2),
      found.candidates.filter((c) => c.score > state.confidence).length,
      state.confidence.toFixed(2),
    );
  };
  const sliders = h(
    'div',
    { class: 'found-sliders' },
    slider('found-confidence', l10n.t('Score threshold'), state.confidence, 0.05, (v) => {
      state.confidence = v;
      draw();
    }),
    slider('found-iou', l10n.t('NMS IoU threshold'), state.iou, 0.05, (v) => {
      state.iou = v;
      draw();
    }),
  );
  draw();
  section.append(sliders, h('div', { class: 'result-body' }, figure, list), whereItLooks(r, found, figure));
  if (found.task === 'pose') {
    section.append(
      h('p', { class: 'muted' }, l10n.t('Keypoints: dots where the model’s visibility score is above 0.5.')),
    );
  }
  return withRunInfo(section, r);
}

/** A candidate as a detection: the run's own (with keypoints, stride, mask) when it was one. */
function detectionOf(c: Candidate, run: Detection | undefined, labels: string[]): Detection {
  return (
    run ?? {
      index: c.cls,
      label: labels[c.cls] ?? `class ${c.cls}`,
      score: c.score,
      box: c.box,
      anchor: c.anchor,
    }
  );
}

function slider(
  id: string,
  label: string,
  value: number,
  min: number,
  change: (v: number) => void,
): HTMLElement {
  const input = h('input', {
    id,
    type: 'range',
    min: String(min),
    max: '1',
    step: '0.01',
    value: String(value),
  }) as HTMLInputElement;
  const out = h('output', { for: id }, value.toFixed(2));
  input.addEventListener('input', () => {
    out.textContent = Number(input.value).toFixed(2);
    change(Number(input.value));
  });
  return h('label', { class: 'found-slider' }, label, input, out);
}

function drawBoxes(
  svg: SVGSVGElement,
  detections: Detection[],
  width: number,
  fields: ReadonlyMap<number, number>,
): void {
  const font = Math.max(10, width / 45);
  const children = detections.map((d, i) => {
    const g = document.createElementNS(SVG, 'g');
    g.setAttribute('data-index', String(i));
    const [x1, y1, x2, y2] = d.box;
    const rect = document.createElementNS(SVG, 'rect');
    for (const [k, v] of Object.entries({ x: x1, y: y1, width: x2 - x1, height: y2 - y1 }))
      rect.setAttribute(k, String(v));
    rect.setAttribute('stroke', css(colour(d.index)));
    const text = `${d.label} ${percent(d.score, 0)}`;
    const plate = document.createElementNS(SVG, 'rect');
    const label = document.createElementNS(SVG, 'text');
    const ty = y1 > font * 1.3 ? y1 - font * 0.3 : y1 + font;
    for (const [k, v] of Object.entries({
      x: x1,
      y: ty - font,
      width: text.length * font * 0.6,
      height: font * 1.25,
    }))
      plate.setAttribute(k, String(v));
    plate.setAttribute('class', 'plate');
    plate.setAttribute('fill', css(colour(d.index), 0.85));
    label.setAttribute('x', String(x1 + font * 0.2));
    label.setAttribute('y', String(ty));
    label.setAttribute('font-size', String(font));
    label.textContent = text;
    const title = document.createElementNS(SVG, 'title');
    title.textContent = describe(d, fields);
    g.append(rect, plate, label, title);
    for (const [x, y, v] of d.keypoints ?? []) {
      if (v < 0.5) continue;
      const dot = document.createElementNS(SVG, 'circle');
      dot.setAttribute('cx', String(x));
      dot.setAttribute('cy', String(y));
      dot.setAttribute('r', String(font / 3));
      dot.setAttribute('fill', css(colour(d.index)));
      g.append(dot);
    }
    return g;
  });
  svg.replaceChildren(...children);
}

/** A detection in words: class, score, head scale with its stride and receptive field, box. */
function describe(d: Detection, fields: ReadonlyMap<number, number>): string {
  const box = d.box.map((v) => Math.round(v)).join(', ');
  const rf = d.stride === undefined ? undefined : fields.get(d.stride);
  const scale =
    d.stride === undefined
      ? ''
      : rf === undefined
        ? l10n.t(' · head scale of stride {0}', d.stride)
        : l10n.t(' · head scale of stride {0}, receptive field {1} px of the input', d.stride, rf);
  return `${d.label} · ${percent(d.score, 1)}${scale} · ${l10n.t('box {0}', box)}`;
}

function detectionsTable(
  detections: Detection[],
  svg: SVGSVGElement,
  fields: ReadonlyMap<number, number>,
): HTMLElement {
  if (detections.length === 0)
    return h('p', { class: 'hint' }, l10n.t('No detections above the thresholds.'));
  const highlight = (i: number | undefined): void => {
    for (const g of svg.querySelectorAll('g'))
      g.classList.toggle('active', g.getAttribute('data-index') === String(i));
  };
  const body = h('tbody');
  detections.forEach((d, i) => {
    const row = h(
      'tr',
      { tabindex: i === 0 ? '0' : '-1', 'data-index': String(i), title: describe(d, fields) },
      h('td', { class: 'swatch-cell' }, swatch(colour(d.index))),
      h('td', {}, d.label),
      h('td', { class: 'num' }, percent(d.score, 1)),
      h('td', { class: 'num' }, d.box.map((v) => Math.round(v)).join(', ')),
      h('td', { class: 'num' }, d.stride === undefined ? '—' : String(d.stride)),
      h('td', { class: 'num' }, fields.has(d.stride ?? NaN) ? String(fields.get(d.stride!)) : '—'),
      h('td', { class: 'num' }, d.maskPixels !== undefined ? d.maskPixels.toLocaleString() : '—'),
    );
    row.addEventListener('focus', () => {
      highlight(i);
      selected = d;
      const grad = document.getElementById('found-gradcam');
      if (grad)
        grad.textContent = l10n.t('Grad-CAM of the selected box ({0} {1})', d.label, percent(d.score, 0));
    });
    row.addEventListener('mouseenter', () => highlight(i));
    row.addEventListener('mouseleave', () => highlight(undefined));
    row.addEventListener('blur', () => highlight(undefined));
    row.addEventListener('keydown', (e) => {
      const next =
        e.key === 'ArrowDown'
          ? row.nextElementSibling
          : e.key === 'ArrowUp'
            ? row.previousElementSibling
            : null;
      if (!(next instanceof HTMLElement)) return;
      e.preventDefault();
      row.tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
    });
    body.append(row);
  });
  return h(
    'table',
    { id: 'detections', class: 'found-table' },
    h('caption', {}, l10n.t('Detections, best first (↑↓ to move; the box is outlined in the image)')),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { 'aria-label': l10n.t('Colour') }),
        h('th', {}, l10n.t('Class')),
        h('th', {}, l10n.t('Score')),
        h('th', {}, l10n.t('Box x1, y1, x2, y2 (px)')),
        h('th', { title: l10n.t('Stride of the head scale whose anchor found it') }, l10n.t('Stride')),
        h(
          'th',
          { title: l10n.t('Receptive field of that head scale, in input pixels (from the layer table)') },
          l10n.t('RF (px)'),
        ),
        h('th', { title: l10n.t('Pixels of the image inside the instance mask') }, l10n.t('Mask px')),
      ),
    ),
    body,
  );
}

function legend(found: FoundView): HTMLElement {
  return h(
    'table',
    { id: 'segments', class: 'found-table' },
    h('caption', {}, l10n.t('Classes by share of the image')),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { 'aria-label': l10n.t('Colour') }),
        h('th', {}, l10n.t('Class')),
        h('th', {}, l10n.t('Share')),
      ),
    ),
    h(
      'tbody',
      {},
      ...(found.classes ?? []).map((c) =>
        h(
          'tr',
          {},
          h('td', { class: 'swatch-cell' }, swatch(colour(c.index))),
          h('td', {}, c.label),
          h('td', { class: 'num' }, percent(c.fraction, 1)),
        ),
      ),
    ),
  );
}

function swatch(rgb: [number, number, number]): HTMLElement {
  const s = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  s.style.background = css(rgb);
  return s;
}

/**
 * The class map as a translucent canvas over the image: a segmenter's class per pixel, or an instance
 * segmenter's detection + 1 (only those `shown` accepts).
 */
function maskCanvas(found: FoundView, shown: (value: number) => boolean): HTMLCanvasElement | undefined {
  const map = found.map;
  if (!map) return undefined;
  const bytes = Uint8Array.from(atob(map.base64), (c) => c.charCodeAt(0));
  const canvas = h('canvas', { class: 'found-mask', 'aria-hidden': 'true' }) as HTMLCanvasElement;
  canvas.width = map.width;
  canvas.height = map.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return undefined;
  const img = ctx.createImageData(map.width, map.height);
  const instances = found.task !== 'segment';
  for (let i = 0; i < bytes.length; i++) {
    const v = bytes[i]!;
    if (v === 255 || (instances && (v === 0 || !shown(v)))) continue;
    const cls = instances ? (found.detections[v - 1]?.index ?? 0) : v;
    const [r, g, b] = colour(cls);
    img.data.set([r, g, b, 110], i * 4);
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

function withRunInfo(section: HTMLElement, r: ImageResult): HTMLElement {
  section.append(
    h(
      'p',
      { id: 'runinfo', class: 'muted' },
      l10n.t(
        '{0} · {1} · decode {2} ms, run {3} ms (this image; model loading not included) · {4}×{5}',
        r.provider,
        r.precision ?? 'fp32',
        Math.round(r.ms.decode),
        Math.round(r.ms.run),
        r.width,
        r.height,
      ),
    ),
  );
  return section;
}

/**
 * "Where it looks": EigenCAM of the backbone's and each neck level's output, one at a time, or Grad-CAM of
 * the selected detection's class score, over the image with a colour legend; asked for with a button (each
 * runs the model with every layer exposed).
 */
function whereItLooks(r: ImageResult, found: FoundView, figure: HTMLElement): HTMLElement {
  const section = h('div', { id: 'found-explain', class: 'found-explain' });
  const eigen = h('button', { type: 'button', id: 'found-eigencam' }, l10n.t('Where it looks (EigenCAM)'));
  eigen.addEventListener('click', () => {
    eigen.setAttribute('disabled', '');
    eigen.textContent = l10n.t('Computing EigenCAM…');
    requests.send({ type: 'taskMaps' });
  });
  const buttons = h('div', { class: 'found-explain-buttons' }, eigen);
  // The selected detection while it is one of this image's candidates, else the best one.
  const mine = (d: Detection): boolean =>
    found.candidates.some((c) => c.anchor === d.anchor && c.cls === d.index);
  const box = selected && mine(selected) ? selected : found.detections[0];
  if (found.task !== 'segment' && box?.anchor !== undefined) {
    const grad = h(
      'button',
      {
        type: 'button',
        id: 'found-gradcam',
        title: l10n.t('Focus a row of the detections table to choose the box'),
      },
      l10n.t('Grad-CAM of the selected box ({0} {1})', box.label, percent(box.score, 0)),
    );
    grad.addEventListener('click', () => {
      grad.setAttribute('disabled', '');
      asked = box;
      requests.send({ type: 'boxMap', anchor: box.anchor!, index: box.index });
    });
    buttons.append(grad);
  }
  section.append(buttons);
  const shown = explained?.file === r.file ? explained : undefined;
  if (!shown) return section;
  if ('error' in shown) {
    section.append(h('p', { class: 'error-text', role: 'alert' }, shown.error));
    return section;
  }
  if ('box' in shown) {
    const m = shown.box;
    overlay(figure, m);
    const d = shown.detection;
    section.append(
      h(
        'p',
        { id: 'found-gradcam-title' },
        l10n.t(
          'Grad-CAM of {0} {1} (stride {2}) at {3}',
          d.label,
          percent(d.score, 0),
          d.stride ?? '?',
          m.layer,
        ),
      ),
      colourLegend(),
      h(
        'p',
        { class: 'muted' },
        l10n.t(
          "Grad-CAM: {0}'s channels weighted by the mean gradient of the box's class logit (the head's {1} at the box's cell, before the sigmoid), summed, ReLU, scaled to its maximum; shown over the image.",
          m.layer,
          m.target,
        ),
      ),
    );
    return section;
  }
  const maps = shown.maps.maps;
  const map = maps[shownMap];
  if (!map) {
    section.append(h('p', { class: 'hint' }, l10n.t('No backbone or neck output to explain.')));
    return section;
  }
  const select = h('select', {
    id: 'found-eigencam-layer',
    'aria-label': l10n.t('Layer'),
  }) as HTMLSelectElement;
  maps.forEach((m, i) => {
    const stride = m.stride === null ? '' : l10n.t(', stride {0}', m.stride);
    const option = h('option', { value: String(i) }, `${m.layer} (${m.width}×${m.height}${stride})`);
    if (i === shownMap) option.setAttribute('selected', '');
    select.append(option);
  });
  overlay(figure, map);
  select.addEventListener('change', () => {
    shownMap = Number(select.value);
    overlay(figure, maps[shownMap]!);
  });
  section.append(
    h('label', {}, l10n.t('EigenCAM at'), ' ', select),
    colourLegend(),
    h(
      'p',
      { class: 'muted' },
      l10n.t(
        "EigenCAM: the layer's activations projected on their first principal component, scaled to its maximum (no class, no gradient); shown over the image, the letterbox border left out.",
      ),
    ),
  );
  return section;
}

/** Shows a map over the figure's image, under the boxes and over the masks, replacing the one shown. */
function overlay(figure: HTMLElement, map: LayerMap): void {
  const canvas = heatCanvas(map.data, map.width, map.height);
  canvas.classList.add('found-heat');
  canvas.setAttribute('aria-hidden', 'true');
  const old = figure.querySelector('.found-heat');
  if (old) old.replaceWith(canvas);
  else figure.insertBefore(canvas, figure.querySelector('svg'));
}

/** The heat ramp from 0 to 1 with its ends named. */
function colourLegend(): HTMLElement {
  const bar = h('span', { class: 'heat-legend-bar', 'aria-hidden': 'true' });
  const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => `rgb(${heat(t).map(Math.round).join(', ')}) ${t * 100}%`);
  bar.style.background = `linear-gradient(to right, ${stops.join(', ')})`;
  return h(
    'div',
    { class: 'heat-legend' },
    h('span', {}, '0'),
    bar,
    h('span', {}, l10n.t('1 (the map’s maximum)')),
  );
}
