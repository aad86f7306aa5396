// Class activation maps: the 7×7 evidence map of a top class, upsampled over the 224×224 crop; for heads
// CAM cannot read, one class-agnostic EigenCAM map.
import { percent } from '../src/shared/format';
import type { ClassActivationMaps } from '../src/shared/exploration';
import type { ExplorationView } from '../src/shared/protocol';
import { heatCanvas } from './colormap';
import { h } from './dom';

/** How each map method is named and explained (a new method must be named here). */
const METHODS: Record<ClassActivationMaps['method'], { title: string; explain: (layer: string) => string }> =
  {
    cam: {
      title: 'Why: class activation map (CAM)',
      explain: (layer) =>
        `Where ${layer}'s features carry the evidence for each class (fc weights × last conv features, ReLU), over the crop the model saw.`,
    },
    eigencam: {
      title: 'Where: EigenCAM (class-agnostic)',
      explain: (layer) =>
        `The first principal component of ${layer}'s features, over the crop the model saw: where the network looks, not the evidence for one class.`,
    },
  };

/** View options kept across re-renders. */
const view = { classIndex: 0, opacity: 0.5 };

/** The CAM section for an exploration, or a note on why there is none. */
export function camSection(x: ExplorationView): HTMLElement | undefined {
  const cam = x.cam;
  if (!cam || cam.classes.length === 0) {
    return x.cam_reason
      ? h('p', { id: 'cam-reason', class: 'muted' }, `No class activation map: ${x.cam_reason}`)
      : undefined;
  }
  const eigen = cam.method === 'eigencam';
  view.classIndex = Math.min(view.classIndex, cam.classes.length - 1);
  const canvas = h('canvas', {
    id: 'cam-canvas',
    width: String(cam.crop),
    height: String(cam.crop),
    role: 'img',
  }) as HTMLCanvasElement;
  const image = new Image();
  const draw = (): void => {
    const c = cam.classes[view.classIndex];
    canvas.setAttribute(
      'aria-label',
      eigen
        ? 'EigenCAM map (class-agnostic) over the center crop'
        : `Class activation map of ${c.label} over the center crop`,
    );
    const ctx = canvas.getContext('2d')!;
    ctx.clearRect(0, 0, cam.crop, cam.crop);
    if (image.complete && image.naturalWidth) ctx.drawImage(image, 0, 0, cam.crop, cam.crop);
    ctx.globalAlpha = view.opacity;
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(heatCanvas(c.grid, cam.cols, cam.rows), 0, 0, cam.crop, cam.crop);
    ctx.globalAlpha = 1;
    canvas.dataset.drawn = c.label;
  };
  image.addEventListener('load', draw);
  if (x.preview) image.src = x.preview;

  const classes = h('div', { role: 'radiogroup', 'aria-label': 'Class', class: 'cam-classes' });
  cam.classes.forEach((c, i) => {
    const b = h(
      'button',
      {
        type: 'button',
        role: 'radio',
        'aria-checked': String(i === view.classIndex),
        'data-index': String(c.index),
      },
      c.index < 0 ? c.label : `${c.label} ${percent(c.probability)}`,
    );
    b.addEventListener('click', () => {
      view.classIndex = i;
      for (const other of classes.children) other.setAttribute('aria-checked', String(other === b));
      draw();
    });
    classes.append(b);
  });
  const slider = h('input', {
    type: 'range',
    id: 'cam-opacity',
    min: '0',
    max: '1',
    step: '0.05',
    value: String(view.opacity),
    'aria-label': 'Heat-map opacity',
  }) as HTMLInputElement;
  slider.addEventListener('input', () => {
    view.opacity = Number(slider.value);
    draw();
  });
  draw();
  return h(
    'section',
    { id: 'cam', 'data-method': cam.method },
    h('h2', { id: 'cam-title' }, METHODS[cam.method].title),
    h('p', { class: 'muted' }, METHODS[cam.method].explain(cam.layer)),
    eigen && x.cam_reason
      ? h('p', { id: 'cam-reason', class: 'muted' }, `No class activation map: ${x.cam_reason}`)
      : undefined,
    classes,
    h('div', { class: 'cam-body' }, canvas, h('label', { class: 'opacity' }, 'Opacity ', slider)),
  );
}
