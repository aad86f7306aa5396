// Explanations of the current image: a method (CAM, Grad-CAM, HiResCAM, occlusion, Score-CAM) at a stage or
// block, the map of a top class over the crop the model saw (opacity slider), and on request each map's
// faithfulness beside a random map's: deletion and insertion curves, their areas, Average Drop and Increase
// in Confidence, and in words whether the map beats chance. The exploration's CAM shows without a request.
import * as l10n from '@vscode/l10n';
import { percent } from '../src/shared/format';
import {
  defaultExplainLayer,
  EXPLAIN_METHODS,
  type ClassMap,
  type ExplainableLayer,
  type ExplainedClass,
  type ExplainMethod,
  type MapMethod,
  type MapScores,
} from '../src/shared/exploration';
import type { ExplainRequestView, ExplainState, ExplorationView } from '../src/shared/protocol';
import { heatCanvas } from './colormap';
import { h } from './dom';
import {
  beatsRandom,
  deletionNote,
  FAITHFULNESS_MEASURES,
  increaseInConfidenceText,
  measureName,
  verdict,
} from './figures';
import { requests, vscode } from './vscodeApi';

/** How a map method is named and explained (a new method must be named here); names of methods stay. */
function methodText(method: MapMethod): { name: string; title: string; explain: (m: MapFacts) => string } {
  switch (method) {
    case 'cam':
      return {
        name: 'CAM',
        title: l10n.t('Why: class activation map (CAM)'),
        explain: (m) =>
          l10n.t(
            "Where {0}'s features carry the evidence for each class (fc weights × last conv features, ReLU), over the crop the model saw.",
            m.layer,
          ),
      };
    case 'eigencam':
      return {
        name: 'EigenCAM',
        title: l10n.t('Where: EigenCAM (class-agnostic)'),
        explain: (m) =>
          l10n.t(
            "The first principal component of {0}'s features, over the crop the model saw: where the network looks, not the evidence for one class.",
            m.layer,
          ),
      };
    case 'gradcam':
      return {
        name: 'Grad-CAM',
        title: l10n.t('Why: Grad-CAM'),
        explain: (m) =>
          l10n.t(
            "{0}'s channels weighted by the mean gradient of the class's logit, summed, ReLU: where {0}'s features raise the class.",
            m.layer,
          ),
      };
    case 'hirescam':
      return {
        name: 'HiResCAM',
        title: l10n.t('Why: HiResCAM'),
        explain: (m) =>
          l10n.t(
            "The gradient of the class's logit times {0}'s features, element by element, summed over channels, ReLU: what the model computes there, position by position.",
            m.layer,
          ),
      };
    case 'occlusion':
      return {
        name: l10n.t('Occlusion'),
        title: l10n.t('Why: occlusion sensitivity'),
        explain: (m) =>
          l10n.t(
            "How much the class's probability drops when a {0}×{0}-pixel patch (every {1} pixels) is covered with the mean colour.",
            String(m.patch),
            String(m.stride),
          ),
      };
    case 'scorecam':
      return {
        name: 'Score-CAM',
        title: l10n.t('Why: Score-CAM'),
        explain: (m) =>
          l10n.t(
            "{0} of {1}'s channels (the most active), each weighted by the class's probability when the image is seen through that channel's map.",
            String(m.channels),
            m.layer,
          ),
      };
  }
}

/** "Grad-CAM at conv4_x": a method, and the layer it read (occlusion reads none). */
function atLayer(name: string, method: MapMethod, layer: string): string {
  return layer && method !== 'occlusion' ? l10n.t('{0} at {1}', name, layer) : name;
}

/** What a method's explanation text mentions. */
interface MapFacts {
  layer: string;
  patch?: number;
  stride?: number;
  channels?: number;
}

/** The maps shown: the exploration's CAM, or an explanation from the host. */
interface Shown {
  method: MapMethod;
  layer: string;
  rows: number;
  cols: number;
  crop: number;
  classes: (ClassMap | ExplainedClass)[];
  facts: MapFacts;
  /** Why there are no maps (or why EigenCAM stands in); null otherwise. */
  reason: string | null;
}

/** View options kept across re-renders: the class, the opacity, the method and its settings. */
const view = {
  classIndex: 0,
  opacity: 0.5,
  method: 'cam' as ExplainMethod,
  /** null: the method's own (CAM) or default layer. */
  layer: null as string | null,
  patch: '32',
  stride: '16',
  channels: '32',
};

/** The model's explainable layers once the host has listed them; a string says why it could not. */
let layers: ExplainableLayer[] | string | undefined;
let layersAsked = false;
/** Whether the webview has said `ready` (the host answers nothing before). */
let connected = false;

/** The webview has said `ready`: requests get answers from now on. */
export function explanationsConnected(): void {
  connected = true;
}
/** The host's last explanation state. */
let state: ExplainState | undefined;

/** The panel's model changed: its layers and explanations no longer apply. */
export function resetExplanations(): void {
  layers = undefined;
  layersAsked = false;
  state = undefined;
  view.method = 'cam';
  view.layer = null;
}

export function setExplainableLayers(next: ExplainableLayer[] | string): void {
  layers = next;
}

export function setExplanation(next: ExplainState | null): void {
  state = next ?? undefined;
}

/** A new image is current: explain it the way the panel was explaining (the exploration's CAM needs nothing). */
export function followExplanation(): void {
  if (!isPlainCam()) requests.send({ type: 'explain', ...request(false) });
}

/** Whether the view is the exploration's own CAM, which needs no request. */
function isPlainCam(): boolean {
  return view.method === 'cam' && view.layer === null;
}

/** The request for the view's method, layer and settings. */
function request(metrics: boolean): ExplainRequestView {
  const r: ExplainRequestView = { method: view.method, layer: view.layer, metrics };
  if (view.method === 'occlusion') {
    r.layer = null;
    r.patch = Number(view.patch);
    r.stride = Number(view.stride);
  }
  if (view.method === 'scorecam') r.channels = Number(view.channels);
  return r;
}

/** Whether `a` asks for the same maps as `b` (metrics aside). */
function sameMaps(a: ExplainRequestView, b: ExplainRequestView): boolean {
  return (
    a.method === b.method &&
    a.layer === b.layer &&
    a.patch === b.patch &&
    a.stride === b.stride &&
    a.channels === b.channels
  );
}

/** Why a layer cannot be used with `method`; null when it can (Score-CAM reads any listed layer). */
function unsupported(
  layer: ExplainableLayer,
  method: ExplainMethod,
  camLayer: string | undefined,
): string | null {
  switch (method) {
    case 'gradcam':
    case 'hirescam':
      return layer.reason;
    case 'cam':
      return layer.cam
        ? null
        : l10n.t('CAM reads only {0}', camLayer ?? l10n.t('the features before the global pool'));
    case 'scorecam':
    case 'occlusion':
      return null;
  }
}

/** The layer the view uses for its method: the one chosen, else the one the worker defaults to. */
function effectiveLayer(list: ExplainableLayer[]): string | null {
  if (view.method === 'occlusion') return null;
  return view.layer ?? defaultExplainLayer(list, view.method);
}

/** A setting of the occlusion or Score-CAM method. */
type Setting = 'patch' | 'stride' | 'channels';

/** Problems with the occlusion and Score-CAM settings as typed, one line each, with the setting it is about. */
function settingProblems(crop: number, channels: number | undefined): { key: Setting; text: string }[] {
  const out: { key: Setting; text: string }[] = [];
  const whole = (v: string, max: number): boolean =>
    Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= max;
  if (view.method === 'occlusion') {
    if (!whole(view.patch, crop))
      out.push({ key: 'patch', text: l10n.t('Patch must be a whole number of pixels from 1 to {0}', crop) });
    if (!whole(view.stride, crop))
      out.push({
        key: 'stride',
        text: l10n.t('Stride must be a whole number of pixels from 1 to {0}', crop),
      });
  }
  if (view.method === 'scorecam' && channels !== undefined && !whole(view.channels, channels)) {
    out.push({ key: 'channels', text: l10n.t('Channels must be a whole number from 1 to {0}', channels) });
  }
  return out;
}

/** What to draw for `file`: the host's explanation for the view, or the exploration's CAM. */
function shown(x: ExplorationView, file: string): Shown | undefined {
  const s = state;
  if (
    s?.status === 'done' &&
    s.file === file &&
    (isPlainCam()
      ? s.request.method === 'cam' && s.request.layer === null
      : sameMaps(s.request, request(false)))
  ) {
    const e = s.explanation;
    return {
      method: e.method,
      layer: e.layer ?? '',
      rows: e.rows,
      cols: e.cols,
      crop: e.crop,
      classes: e.classes,
      facts: { layer: e.layer ?? '', patch: e.patch, stride: e.stride, channels: e.channels },
      reason: e.reason,
    };
  }
  if (!isPlainCam() || !x.cam) return undefined;
  const cam = x.cam;
  return {
    method: cam.method,
    layer: cam.layer,
    rows: cam.rows,
    cols: cam.cols,
    crop: cam.crop,
    classes: cam.classes,
    facts: { layer: cam.layer },
    reason: cam.method === 'eigencam' ? x.cam_reason : null,
  };
}

/** The explanation section for the current image (`file`, explored as `x`). */
export function camSection(x: ExplorationView, file: string, rerender: () => void): HTMLElement {
  if (!layers && !layersAsked && connected) {
    layersAsked = true;
    requests.send({ type: 'listExplainableLayers' });
  }
  const maps = shown(x, file);
  const running = state && state.file === file && state.status !== 'done' ? state : undefined;
  const method = maps?.method ?? view.method;
  const head = h(
    'div',
    { class: 'section-head' },
    h(
      'h2',
      { id: 'cam-title' },
      maps ? atLayer(methodText(maps.method).title, maps.method, maps.layer) : methodText(method).title,
    ),
  );
  const body: (HTMLElement | undefined)[] = [
    head,
    controls(x, rerender),
    maps && maps.classes.length > 0
      ? h('p', { class: 'muted' }, methodText(maps.method).explain(maps.facts))
      : undefined,
    running ? progressLine(running) : undefined,
  ];
  if (!maps && !running) {
    const why = isPlainCam() ? x.cam_reason : undefined;
    body.push(
      h(
        'p',
        { id: 'cam-reason', class: 'muted' },
        why
          ? l10n.t(
              'No class activation map: {0}. Grad-CAM, occlusion or Score-CAM may still explain this model.',
              why,
            )
          : l10n.t('Choose a method and a layer to explain this image.'),
      ),
    );
  } else if (maps && maps.classes.length === 0) {
    body.push(
      h(
        'p',
        { id: 'cam-reason', class: 'notice', role: 'note' },
        l10n.t('No map: {0}.', maps.reason ?? l10n.t('nothing to show')),
      ),
    );
  } else if (maps) {
    if (maps.reason)
      body.push(
        h('p', { id: 'cam-reason', class: 'muted' }, l10n.t('No class activation map: {0}', maps.reason)),
      );
    body.push(...mapView(maps, x, file, running !== undefined));
  }
  return h('section', { id: 'cam', 'data-method': maps?.method ?? view.method }, ...body);
}

/** Method, layer and the method's settings; each change explains again. */
function controls(x: ExplorationView, rerender: () => void): HTMLElement {
  const list = Array.isArray(layers) ? layers : [];
  const camLayer = list.find((l) => l.cam)?.layer;
  const crop = x.cam?.crop ?? (state?.status === 'done' ? state.explanation.crop : 224);
  const explainNow = (): void => {
    rerender();
    if (isPlainCam()) return;
    const chosen = list.find((l) => l.layer === effectiveLayer(list));
    if (settingProblems(crop, chosen?.shape[0]).length > 0) return;
    requests.send({ type: 'explain', ...request(false) });
  };

  const methodSelect = h(
    'select',
    { id: 'explain-method', 'aria-describedby': 'explain-unsupported' },
    ...EXPLAIN_METHODS.map((m) =>
      h('option', { value: m, ...(m === view.method && { selected: '' }) }, methodText(m).name),
    ),
  ) as HTMLSelectElement;
  methodSelect.addEventListener('change', () => {
    view.method = methodSelect.value as ExplainMethod;
    // A layer the new method cannot use gives way to its default.
    const chosen = list.find((l) => l.layer === view.layer);
    if (chosen && unsupported(chosen, view.method, camLayer) !== null) view.layer = null;
    if (view.method === 'cam') view.layer = null;
    view.classIndex = 0;
    explainNow();
  });

  const current = effectiveLayer(list);
  const layerSelect = h('select', {
    id: 'explain-layer',
    'aria-describedby': 'explain-unsupported',
  }) as HTMLSelectElement;
  if (typeof layers === 'string') layerSelect.append(h('option', {}, l10n.t('layers could not be listed')));
  else if (!layers) layerSelect.append(h('option', {}, l10n.t('listing layers…')));
  const notAvailable = ` — ${l10n.t('not available')}`;
  for (const l of list) {
    const why = unsupported(l, view.method, camLayer);
    const label = `${l.kind === 'block' ? '\u00a0\u00a0\u00a0' : ''}${l.layer} (${l.shape.join('×')})${why ? notAvailable : ''}`;
    const option = h(
      'option',
      {
        value: l.layer,
        ...(why && { disabled: '', title: why }),
        ...(l.layer === current && { selected: '' }),
      },
      label,
    );
    layerSelect.append(option);
  }
  layerSelect.disabled = list.length === 0;
  layerSelect.addEventListener('change', () => {
    const picked = layerSelect.value;
    view.layer = view.method === 'cam' && picked === camLayer ? null : picked;
    view.classIndex = 0;
    explainNow();
  });

  const chosen = list.find((l) => l.layer === current);
  const problems = settingProblems(crop, chosen?.shape[0]);
  const setting = (key: Setting, label: string): HTMLElement => {
    const input = h('input', {
      type: 'number',
      id: `explain-${key}`,
      min: '1',
      step: '1',
      value: view[key],
      'aria-invalid': String(problems.some((p) => p.key === key)),
      'aria-describedby': 'explain-problems',
    }) as HTMLInputElement;
    input.addEventListener('input', () => {
      view[key] = input.value;
      rerender();
    });
    input.addEventListener('change', explainNow);
    return h('label', { class: 'pp-field' }, h('span', {}, label), input);
  };

  const unavailable = list
    .map((l) => ({ l, why: unsupported(l, view.method, camLayer) }))
    .filter((u) => u.why);
  const occlusion = view.method === 'occlusion';
  return h(
    'div',
    { class: 'explain-controls' },
    h('label', { class: 'pp-field' }, h('span', {}, l10n.t('Method')), methodSelect),
    // Occlusion changes the image, not a layer: no Layer list, and the reason in its place.
    occlusion
      ? h(
          'p',
          { id: 'explain-layer-note', class: 'muted' },
          l10n.t('Occlusion perturbs the input image (it covers one patch at a time) and reads no layer.'),
        )
      : h('label', { class: 'pp-field' }, h('span', {}, l10n.t('Layer')), layerSelect),
    view.method === 'occlusion' ? setting('patch', l10n.t('Patch')) : undefined,
    view.method === 'occlusion' ? setting('stride', l10n.t('Stride')) : undefined,
    view.method === 'scorecam' ? setting('channels', l10n.t('Channels')) : undefined,
    problems.length > 0
      ? h(
          'ul',
          { id: 'explain-problems', class: 'pp-problems error-text', 'aria-live': 'polite' },
          ...problems.map((p) => h('li', {}, p.text)),
        )
      : undefined,
    unavailable.length > 0
      ? h(
          'details',
          { id: 'explain-unsupported', class: 'unsupported' },
          h(
            'summary',
            {},
            l10n.t(
              '{0} of {1} layers not available for {2}',
              unavailable.length,
              list.length,
              methodText(view.method).name,
            ),
          ),
          h('ul', {}, ...unavailable.map(({ l, why }) => h('li', {}, h('strong', {}, l.layer), `: ${why}`))),
        )
      : undefined,
  );
}

/** "Grad-CAM at conv4_x…" with Cancel, or the failure with "Show log". */
function progressLine(s: Exclude<ExplainState, { status: 'done' }>): HTMLElement {
  if (s.status === 'running') {
    const cancel = h('button', { type: 'button', id: 'explain-cancel' }, l10n.t('Cancel'));
    cancel.addEventListener('click', () => vscode.postMessage({ type: 'cancelJob', job: 'explain' }));
    return h(
      'div',
      { class: 'job-status' },
      h('p', { id: 'explain-status', class: 'busy', role: 'status' }, s.message),
      cancel,
    );
  }
  if (s.status === 'cancelled')
    return h('p', { id: 'explain-status', class: 'muted', role: 'status' }, l10n.t('Cancelled.'));
  const log = h('button', { type: 'button' }, l10n.t('Show log'));
  log.addEventListener('click', () => vscode.postMessage({ type: 'command', command: 'showLog' }));
  return h('div', { id: 'explain-error', class: 'error', role: 'alert' }, h('p', {}, s.message), log);
}

/** The class buttons, the map over the crop with its opacity, "Check faithfulness" and the figures. */
function mapView(maps: Shown, x: ExplorationView, file: string, busy: boolean): HTMLElement[] {
  const eigen = maps.method === 'eigencam';
  view.classIndex = Math.min(view.classIndex, maps.classes.length - 1);
  const canvas = h('canvas', {
    id: 'cam-canvas',
    width: String(maps.crop),
    height: String(maps.crop),
    role: 'img',
    'data-grid': `${maps.rows}×${maps.cols}`,
  }) as HTMLCanvasElement;
  const image = new Image();
  const figures = h('div', { id: 'faithfulness', 'aria-live': 'polite' });
  const draw = (): void => {
    const c = maps.classes[view.classIndex];
    if (!c) throw new Error(`no map for class ${view.classIndex} of ${maps.classes.length}`);
    canvas.setAttribute(
      'aria-label',
      eigen
        ? l10n.t('EigenCAM map (class-agnostic) over the center crop')
        : l10n.t(
            '{0} map of {1} over the center crop, {2}×{3}',
            methodText(maps.method).name,
            c.label,
            maps.rows,
            maps.cols,
          ),
    );
    const ctx = canvas.getContext('2d')!;
    ctx.clearRect(0, 0, maps.crop, maps.crop);
    if (image.complete && image.naturalWidth) ctx.drawImage(image, 0, 0, maps.crop, maps.crop);
    ctx.globalAlpha = view.opacity;
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(heatCanvas(c.grid, maps.cols, maps.rows), 0, 0, maps.crop, maps.crop);
    ctx.globalAlpha = 1;
    canvas.dataset.drawn = c.label;
    figures.replaceChildren(...faithfulnessView(maps, c));
  };
  image.addEventListener('load', draw);
  if (x.preview) image.src = x.preview;

  const classes = h('div', { role: 'radiogroup', 'aria-label': l10n.t('Class'), class: 'cam-classes' });
  maps.classes.forEach((c, i) => {
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
    'aria-label': l10n.t('Heat-map opacity'),
  }) as HTMLInputElement;
  slider.addEventListener('input', () => {
    view.opacity = Number(slider.value);
    draw();
  });
  const hasMetrics = maps.classes.some((c) => 'metrics' in c && c.metrics);
  const check = h(
    'button',
    {
      type: 'button',
      id: 'check-faithfulness',
      title: l10n.t(
        'Deletion and insertion curves, Average Drop and Increase in Confidence of each map, beside a random map’s',
      ),
    },
    l10n.t('Check faithfulness'),
  ) as HTMLButtonElement;
  check.disabled = busy || eigen;
  check.addEventListener('click', () => {
    const r = request(true);
    // The exploration's CAM: the same map, asked of the host with its figures.
    requests.send({ type: 'explain', ...r, method: maps.method === 'eigencam' ? 'cam' : r.method });
  });
  draw();
  return [
    classes,
    h(
      'div',
      { class: 'cam-body' },
      canvas,
      h(
        'div',
        { class: 'cam-side' },
        h('label', { class: 'opacity' }, `${l10n.t('Opacity')} `, slider),
        h(
          'p',
          { class: 'muted', id: 'cam-grid' },
          l10n.t(
            '{0}×{1} map, upsampled over the {2}×{2} crop of {3}',
            maps.rows,
            maps.cols,
            maps.crop,
            file,
          ),
        ),
        hasMetrics ? undefined : check,
        eigen
          ? h(
              'p',
              { class: 'muted' },
              l10n.t('EigenCAM belongs to no class, so there is no class probability to check it against.'),
            )
          : undefined,
        figures,
      ),
    ),
  ];
}

/** The selected class's faithfulness beside the random map's, or nothing when not measured. */
function faithfulnessView(maps: Shown, c: ClassMap | ExplainedClass): HTMLElement[] {
  const m = 'metrics' in c ? c.metrics : undefined;
  if (!m) return [];
  const name = atLayer(methodText(maps.method).name, maps.method, maps.layer);
  const cells = (s: MapScores, rival: MapScores, who: string): HTMLElement =>
    h(
      'tr',
      { 'data-map': who },
      h('th', { scope: 'row' }, who === 'map' ? l10n.t('this map') : l10n.t('random map')),
      ...FAITHFULNESS_MEASURES.map((measure) => {
        const v = s[measure.key];
        const better = who === 'map' && beatsRandom(s, rival, measure.key);
        const curve =
          measure.key === 'deletion_auc'
            ? s.deletion
            : measure.key === 'insertion_auc'
              ? s.insertion
              : undefined;
        return h(
          'td',
          { class: `num${better ? ' better' : ''}` },
          curve ? sparkline(curve, who, measureName(measure.key)) : '',
          measure.key === 'average_drop'
            ? `${v.toFixed(1)}%`
            : measure.key === 'increase_in_confidence'
              ? increaseInConfidenceText(v)
              : v.toFixed(3),
        );
      }),
    );
  return [
    h(
      'p',
      { id: 'faithfulness-verdict' },
      h('strong', {}, `${l10n.t('{0} for {1}:', name, c.label)} `),
      `${verdict(m, m.random)}.`,
    ),
    ...[deletionNote(m, m.random)].flatMap((note) =>
      note ? [h('p', { id: 'faithfulness-deletion-note' }, note)] : [],
    ),
    h(
      'table',
      {
        id: 'faithfulness-table',
        'aria-label': l10n.t('Faithfulness of the map for {0}, beside a random map', c.label),
      },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, ''),
          ...FAITHFULNESS_MEASURES.map((measure) =>
            h(
              'th',
              {
                scope: 'col',
                title: measure.better === 'higher' ? l10n.t('higher is better') : l10n.t('lower is better'),
              },
              `${measureName(measure.key)}${measure.key === 'increase_in_confidence' ? ` (${l10n.t('% of images')})` : ''} ${measure.better === 'higher' ? '↑' : '↓'}`,
            ),
          ),
        ),
      ),
      h('tbody', {}, cells(m, m.random, 'map'), cells(m.random, m, 'random')),
    ),
    h(
      'p',
      { class: 'muted' },
      l10n.t(
        'Deletion: the class probability as the most salient pixels are replaced by the mean colour (area: lower is better). Insertion: as they are put back onto a blurred copy (higher is better). Average Drop: the probability lost when the image is seen through the map; Increase in Confidence: the share of images (here the one image) whose probability rises when seen through the map. The random map is the same for every class.',
      ),
    ),
  ];
}

/** A small curve (0 … 1 probability against the share of pixels), in the theme's chart colours. */
function sparkline(values: number[], who: string, what: string): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = 72;
  canvas.height = 22;
  canvas.className = 'spark curve';
  canvas.setAttribute('role', 'img');
  canvas.setAttribute(
    'aria-label',
    who === 'map'
      ? l10n.t('{0} curve of the map: {1}', what, values.map((v) => v.toFixed(2)).join(', '))
      : l10n.t('{0} curve of the random map: {1}', what, values.map((v) => v.toFixed(2)).join(', ')),
  );
  const ctx = canvas.getContext('2d')!;
  const style = getComputedStyle(document.body);
  const colour = style
    .getPropertyValue(who === 'map' ? '--vscode-charts-blue' : '--vscode-charts-orange')
    .trim();
  ctx.strokeStyle = colour || style.color;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  values.forEach((v, i) => {
    const px = (i / Math.max(1, values.length - 1)) * (canvas.width - 2) + 1;
    const py = canvas.height - 1 - Math.max(0, Math.min(1, v)) * (canvas.height - 2);
    if (i === 0) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  });
  ctx.stroke();
  return canvas;
}
