// Feature maps of one layer: the strongest channels as a grid of heat tiles, more on request. A position of a
// tile (a click, or Enter after moving a cursor with the arrow keys) shows its receptive field on the crop the
// model saw and on the original image.
import * as l10n from '@vscode/l10n';
import type { FeatureMaps } from '../src/shared/exploration';
import type { LayerRow } from '../src/shared/layerTable';
import { heatCanvas } from './colormap';
import { h } from './dom';
import { cropPlacement, cropToOriginal, enlargeOrigin, receptiveField, type Box } from './figures';
import { featureVectorSection, isVector } from './featureVectorView';
import { requests } from './vscodeApi';

const PAGE = 16;

/** What the receptive field is drawn from: the layer's row, the crop, the original image and how one maps to the other. */
export interface FieldContext {
  /** The layer-table row of the maps' layer, when the table has it. */
  row: LayerRow | undefined;
  /** The crop the model saw (a data: URL) and the original image (a webview URL, when the webview may load it). */
  preview: string | undefined;
  source: string | undefined;
  file: string;
  /** The original image's size as displayed, and the model's preprocessing. */
  width: number;
  height: number;
  resize: number;
  crop: number;
  /** The explored layers before and after this one in the table's order, for moving from layer to layer. */
  neighbours: { previous?: string; next?: string };
}

/** The cursor of the focused tile, and the position whose receptive field is shown. */
let cursor: { channel: number; y: number; x: number } | undefined;
let picked: { channel: number; y: number; x: number } | undefined;
/** The layer the positions belong to; another layer forgets them. */
let positionsOf: string | undefined;

/** The section for maps received so far for one layer (pages appended in order); values for a 1×1 layer. */
export function featureMapsSection(pages: FeatureMaps[], context: FieldContext): HTMLElement {
  const [first] = pages;
  if (!first) throw new Error('featureMapsSection: no page of maps');
  const shown = pages.reduce((n, p) => n + p.maps.length, 0);
  const more = h(
    'button',
    { type: 'button', id: 'fm-more' },
    l10n.t('Show {0} more', Math.min(PAGE, first.channels - shown)),
  );
  more.addEventListener('click', () =>
    requests.send({ type: 'featureMaps', layer: first.layer, count: PAGE, offset: shown }),
  );
  const moreButton = shown < first.channels ? more : undefined;
  const heading = (title: string): HTMLElement =>
    h(
      'div',
      { class: 'section-head' },
      h('h2', { id: 'fm-title', tabindex: '-1' }, title),
      layerSteps(context.neighbours),
    );
  if (isVector(first)) return featureVectorSection(pages, moreButton, heading);
  if (positionsOf !== `${first.key}\n${first.layer}`) {
    positionsOf = `${first.key}\n${first.layer}`;
    cursor = undefined;
    picked = undefined;
  }
  const field = h('div', { id: 'rf', 'aria-live': 'polite' });
  const grid = h('div', { class: 'fm-grid', role: 'list' });
  const hasField = Boolean(context.row?.receptive_field);
  const keysHint = hasField ? l10n.t('; arrow keys move a cursor, Enter shows its receptive field') : '';
  const redraw = (): void => {
    for (const box of grid.querySelectorAll<HTMLElement>('.fm-cursor')) updateCursor(box);
    field.replaceChildren(...fieldView(context, first));
  };
  for (const page of pages) {
    const size = page.height * page.width;
    page.maps.forEach((m, i) => {
      const values = page.data.subarray(i * size, (i + 1) * size);
      // Each tile uses its own range so weak channels still show their pattern; the label gives the range.
      const tile = heatCanvas(values, page.width, page.height, m.min, m.max);
      tile.className = 'fm-tile';
      tile.setAttribute('aria-hidden', 'true');
      const box = h('span', { class: 'fm-cursor', 'aria-hidden': 'true' });
      box.dataset.channel = String(m.channel);
      box.dataset.width = String(page.width);
      box.dataset.height = String(page.height);
      const figure = h(
        'figure',
        {
          role: 'listitem',
          tabindex: '0',
          'data-channel': String(m.channel),
          'aria-label': l10n.t('channel {0}, mean {1}', m.channel, m.mean.toFixed(3)) + keysHint,
        },
        h('span', { class: 'fm-view' }, tile, box),
        h(
          'figcaption',
          {},
          l10n.t('ch {0}', m.channel),
          h('br'),
          `${m.min.toFixed(2)} … ${m.max.toFixed(2)}`,
        ),
      );
      const view = figure.firstElementChild as HTMLElement;
      const place = (): void => {
        const f = figure.getBoundingClientRect();
        const left = f.left + (f.width - view.offsetWidth) / 2;
        view.style.transformOrigin = enlargeOrigin(
          { left, right: left + view.offsetWidth },
          grid.getBoundingClientRect(),
        );
      };
      figure.addEventListener('mouseenter', place);
      figure.addEventListener('focus', place);
      if (hasField) wirePositions(figure, tile, m.channel, page.width, page.height, redraw);
      grid.append(figure);
      updateCursor(box);
    });
  }
  field.replaceChildren(...fieldView(context, first));
  return h(
    'section',
    { id: 'feature-maps', 'aria-labelledby': 'fm-title' },
    heading(l10n.t('Feature maps · {0}', first.layer)),
    h(
      'p',
      { class: 'muted' },
      hasField
        ? l10n.t(
            '{0} of {1} channels, strongest mean activation first; {2}×{3} each. Hover or focus a tile to enlarge it; click a position (or move the cursor with the arrow keys and press Enter) to see what it sees.',
            shown,
            first.channels,
            first.height,
            first.width,
          )
        : l10n.t(
            '{0} of {1} channels, strongest mean activation first; {2}×{3} each. Hover or focus a tile to enlarge it.',
            shown,
            first.channels,
            first.height,
            first.width,
          ),
    ),
    h('div', { class: 'fm-body' }, grid, field),
    moreButton,
  );
}

/** Clicks and keys on one tile: a click picks a position, arrows move the cursor, Enter or Space picks it. */
function wirePositions(
  figure: HTMLElement,
  tile: HTMLCanvasElement,
  channel: number,
  width: number,
  height: number,
  redraw: () => void,
): void {
  tile.addEventListener('click', (e) => {
    // The bounding box includes the hover enlargement, so the position is right at any scale.
    const r = tile.getBoundingClientRect();
    const x = Math.min(width - 1, Math.max(0, Math.floor(((e.clientX - r.left) / r.width) * width)));
    const y = Math.min(height - 1, Math.max(0, Math.floor(((e.clientY - r.top) / r.height) * height)));
    cursor = { channel, y, x };
    picked = cursor;
    redraw();
  });
  figure.addEventListener('keydown', (e) => {
    const at = cursor?.channel === channel ? cursor : { channel, y: height >> 1, x: width >> 1 };
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    const move = moves[e.key];
    if (move) {
      cursor = {
        channel,
        y: Math.min(height - 1, Math.max(0, at.y + move[0])),
        x: Math.min(width - 1, Math.max(0, at.x + move[1])),
      };
    } else if (e.key === 'Enter' || e.key === ' ') {
      cursor = at;
      picked = at;
    } else {
      return;
    }
    e.preventDefault();
    redraw();
  });
  figure.addEventListener('focus', () => {
    if (cursor?.channel === channel) return;
    cursor = { channel, y: height >> 1, x: width >> 1 };
    redraw();
  });
}

/** Places a tile's cursor box over its cell (hidden on the other tiles). */
function updateCursor(box: HTMLElement): void {
  const channel = Number(box.dataset.channel);
  const w = Number(box.dataset.width);
  const hgt = Number(box.dataset.height);
  const at = cursor?.channel === channel ? cursor : picked?.channel === channel ? picked : undefined;
  box.hidden = !at;
  if (!at) return;
  box.style.left = `${(at.x / w) * 100}%`;
  box.style.top = `${(at.y / hgt) * 100}%`;
  box.style.width = `${100 / w}%`;
  box.style.height = `${100 / hgt}%`;
  box.classList.toggle('picked', picked?.channel === channel && picked.x === at.x && picked.y === at.y);
}

/** The picked position's receptive field on the crop and on the original image, with what it means in words. */
function fieldView(context: FieldContext, maps: FeatureMaps): HTMLElement[] {
  const row = context.row;
  if (!row?.receptive_field) {
    return row
      ? [
          h(
            'p',
            { class: 'muted' },
            l10n.t('Each position of {0} sees the whole image (past global pooling).', maps.layer),
          ),
        ]
      : [];
  }
  if (!picked)
    return [h('p', { id: 'rf-hint', class: 'muted' }, l10n.t('Receptive field: pick a position on a tile.'))];
  const rf = receptiveField(row, picked.y, picked.x, context.crop);
  if (!rf) return [];
  const placement = cropPlacement(context.width, context.height, context.resize, context.crop);
  const original = cropToOriginal(rf.visible, placement);
  const clipped = rf.visible.width < rf.field.width || rf.visible.height < rf.field.height;
  const stride = row.effective_stride ?? [];
  const cropCanvas = boxCanvas('rf-crop', context.crop, context.crop, 1, context.preview, [
    { box: rf.visible, kind: 'field' },
  ]);
  cropCanvas.setAttribute(
    'aria-label',
    l10n.t('Receptive field on the {0}×{1} crop: {2}', context.crop, context.crop, boxText(rf.visible)),
  );
  const fit = Math.min(1, 320 / Math.max(context.width, context.height));
  const originalCanvas = context.source
    ? boxCanvas(
        'rf-original',
        Math.round(context.width * fit),
        Math.round(context.height * fit),
        fit,
        context.source,
        [
          {
            box: cropToOriginal({ left: 0, top: 0, width: context.crop, height: context.crop }, placement),
            kind: 'crop',
          },
          { box: original, kind: 'field' },
        ],
      )
    : undefined;
  originalCanvas?.setAttribute(
    'aria-label',
    l10n.t(
      'Receptive field on {0} ({1}×{2}): {3}; the dashed square is the crop',
      context.file,
      context.width,
      context.height,
      boxText(original),
    ),
  );
  return [
    h(
      'h3',
      { id: 'rf-title' },
      l10n.t('Receptive field · channel {0}, y {1}, x {2}', picked.channel, picked.y, picked.x),
    ),
    h(
      'p',
      { id: 'rf-text' },
      l10n.t(
        '{0} input pixels, centred at y {1}, x {2} of the crop',
        row.receptive_field.join('×'),
        rf.center[0],
        rf.center[1],
      ) +
        (clipped
          ? `, ${l10n.t(
              '{0}×{1} of them inside it (the rest is padding)',
              Math.round(rf.visible.height),
              Math.round(rf.visible.width),
            )}`
          : '') +
        `; ${l10n.t('neighbouring positions are {0} pixels apart.', stride.join('×'))}`,
    ),
    h(
      'div',
      { class: 'rf-images' },
      h('figure', {}, cropCanvas, h('figcaption', { class: 'muted' }, l10n.t('on the crop the model saw'))),
      originalCanvas
        ? h('figure', {}, originalCanvas, h('figcaption', { class: 'muted' }, l10n.t('on {0}', context.file)))
        : h(
            'p',
            { class: 'muted' },
            l10n.t('{0} is outside the workspace folders: only the crop is shown.', context.file),
          ),
    ),
  ];
}

function boxText(b: Box): string {
  return l10n.t(
    'x {0}–{1}, y {2}–{3}',
    Math.round(b.left),
    Math.round(b.left + b.width),
    Math.round(b.top),
    Math.round(b.top + b.height),
  );
}

/**
 * A canvas `width`×`height` showing `src` with boxes drawn over it, `k` canvas pixels per image pixel. The
 * boxes are drawn in the theme's focus colour, the crop's outline dashed, and everything outside the field
 * fades. `data-box` holds the field's box in image pixels, for tests.
 */
function boxCanvas(
  id: string,
  width: number,
  height: number,
  k: number,
  src: string | undefined,
  boxes: { box: Box; kind: 'field' | 'crop' }[],
): HTMLCanvasElement {
  const canvas = h('canvas', {
    id,
    width: String(width),
    height: String(height),
    role: 'img',
  }) as HTMLCanvasElement;
  const field = boxes.find((b) => b.kind === 'field')!.box;
  canvas.dataset.box = [field.left, field.top, field.width, field.height].map((v) => Math.round(v)).join(',');
  const style = getComputedStyle(document.body);
  const colour = style.getPropertyValue('--vscode-focusBorder').trim() || style.color;
  const shade = style.getPropertyValue('--vscode-editor-background').trim() || 'black';
  const image = new Image();
  const draw = (): void => {
    const ctx = canvas.getContext('2d')!;
    ctx.clearRect(0, 0, width, height);
    if (image.complete && image.naturalWidth) ctx.drawImage(image, 0, 0, width, height);
    // Everything outside the field fades, so the field stands out on any image.
    ctx.save();
    ctx.globalAlpha = 0.55;
    ctx.fillStyle = shade;
    ctx.beginPath();
    ctx.rect(0, 0, width, height);
    ctx.rect(field.left * k, field.top * k, field.width * k, field.height * k);
    ctx.fill('evenodd');
    ctx.restore();
    for (const { box, kind } of boxes) {
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2;
      ctx.setLineDash(kind === 'crop' ? [5, 4] : []);
      ctx.strokeRect(
        box.left * k + 1,
        box.top * k + 1,
        Math.max(1, box.width * k - 2),
        Math.max(1, box.height * k - 2),
      );
    }
    canvas.dataset.drawn = 'true';
  };
  image.addEventListener('load', draw);
  if (src) image.src = src;
  draw();
  return canvas;
}

/** Asks the host for the first page of a layer's maps. */
export function requestFeatureMaps(layer: string): void {
  stepped = undefined;
  requests.send({ type: 'featureMaps', layer, count: PAGE, offset: 0 });
}

/** The step button that asked for the maps on their way, which keeps focus when they arrive. */
let stepped: 'fm-previous' | 'fm-next' | undefined;

/** Buttons to the explored layer before and after, in the table's order. */
function layerSteps(neighbours: FieldContext['neighbours']): HTMLElement {
  const step = (id: 'fm-previous' | 'fm-next', layer: string | undefined, text: string, label: string) => {
    const b = h(
      'button',
      { type: 'button', id, ...(layer ? { 'aria-label': label } : { disabled: '' }) },
      text,
    );
    b.addEventListener('click', () => {
      if (!layer) return;
      requestFeatureMaps(layer);
      stepped = id;
    });
    return b;
  };
  const { previous, next } = neighbours;
  return h(
    'span',
    { class: 'fm-steps' },
    step(
      'fm-previous',
      previous,
      `← ${previous ?? ''}`.trim(),
      l10n.t('Previous layer: {0}', previous ?? ''),
    ),
    step('fm-next', next, `${next ?? ''} →`.trim(), l10n.t('Next layer: {0}', next ?? '')),
  );
}

/**
 * Where focus goes when a layer's first maps arrive: the step button that asked for them (to keep stepping),
 * else the heading.
 */
export function focusFeatureMaps(): void {
  const target = (stepped && document.getElementById(stepped)) || document.getElementById('fm-title');
  stepped = undefined;
  if (target instanceof HTMLButtonElement && target.disabled) document.getElementById('fm-title')?.focus();
  else target?.focus({ preventScroll: true });
}
