// The preprocessing editor: how images become the panel's model's input (resize, crop, scale, mean, std,
// channel order, labels), with presets, checks as you type, a preview of the crop over the current
// image, and Save, which writes `<model>.json` beside the model (the host reloads the model after).
import * as l10n from '@vscode/l10n';
import { PRESET_NAMES, type PresetName, type Preprocessing } from '../src/shared/preprocessing';
import type { OutputKind } from '../src/shared/outputs';
import type { ModelView } from '../src/shared/protocol';
import { h } from './dom';
import { requests } from './vscodeApi';

const PRESET_LABELS: Record<PresetName, string> = {
  torchvision: 'torchvision',
  caffe: 'Keras caffe',
  tf: 'TF [-1, 1]',
  raw: 'raw [0, 1]',
  raw255: 'raw 0–255',
};

/** The editor's fields as typed (text), so that nothing typed is lost to a re-render. */
interface Draft {
  resize: string;
  crop: string;
  channelOrder: 'RGB' | 'BGR';
  scale: string;
  mean: [string, string, string];
  std: [string, string, string];
  labels: string;
}

let model: ModelView | undefined;
let draft: Draft | undefined;
/** The model values the draft started from: a model update that finds the draft untouched replaces it. */
let base: Draft | undefined;
let open = false;
let source: { file: string; src?: string } | undefined;
let labelFiles: string[] | undefined;
let saving = false;
let outcome: { ok: boolean; text: string } | undefined;
let host: HTMLElement | undefined;

function draftOf(p: Preprocessing): Draft {
  const s = (n: number): string => String(n);
  return {
    resize: s(p.resize),
    crop: s(p.crop),
    channelOrder: p.channelOrder,
    scale: s(p.scale),
    mean: [s(p.mean[0]), s(p.mean[1]), s(p.mean[2])],
    std: [s(p.std[0]), s(p.std[1]), s(p.std[2])],
    labels: '',
  };
}

const same = (a: Draft | undefined, b: Draft | undefined): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The host's model: a new model, or the same one after a save, resets the fields; edits in progress stay. */
export function setPreprocessingModel(next: ModelView): void {
  const fresh = draftOf(next.preprocessing);
  // "Saved mobilenet_v2.json…" belongs to the model it was saved for (#19).
  if (model !== undefined && model.id !== next.id) outcome = undefined;
  if (model?.id !== next.id || same(draft, base)) draft = fresh;
  base = fresh;
  model = next;
}

export function setImageSource(file: string, src: string | undefined): void {
  source = { file, src };
}

export function setLabelFiles(files: string[]): void {
  labelFiles = files;
}

/** Save finished: `error` is why it did not. */
export function setSaveOutcome(error: string | undefined, file?: string): void {
  saving = false;
  if (error === undefined && model) {
    draft = draftOf(model.preprocessing);
    base = draft;
  }
  outcome =
    error === undefined
      ? {
          ok: true,
          text: l10n.t(
            'Saved {0}; the model was reloaded and the current image classified again.',
            String(file),
          ),
        }
      : { ok: false, text: l10n.t('Not saved: {0}', error) };
}

/** A parsed, checked draft: the values, or the problems, each naming its field. */
function check(
  d: Draft,
  m: ModelView,
): { value?: Preprocessing; problems: { field: string; text: string }[] } {
  const problems: { field: string; text: string }[] = [];
  const num = (field: string, text: string, label: string): number => {
    const v = text.trim() === '' ? NaN : Number(text);
    if (!Number.isFinite(v)) problems.push({ field, text: l10n.t('{0} must be a number', label) });
    return v;
  };
  const whole = (field: string, text: string, label: string): number => {
    const v = num(field, text, label);
    if (Number.isFinite(v) && (!Number.isInteger(v) || v < 1 || v > 4096)) {
      problems.push({ field, text: l10n.t('{0} must be a whole number from 1 to 4096', label) });
    }
    return v;
  };
  const resize = whole('pp-resize', d.resize, l10n.t('Resize'));
  const crop = whole('pp-crop', d.crop, l10n.t('Crop'));
  if (m.fixedSize !== null && crop !== m.fixedSize) {
    problems.push({
      field: 'pp-crop',
      text: l10n.t('The model takes {0}×{0}: crop must be {0}', m.fixedSize),
    });
  }
  if (Number.isInteger(resize) && Number.isInteger(crop) && resize < crop) {
    problems.push({
      field: 'pp-resize',
      text: l10n.t('Resize ({0}) must be at least the crop ({1})', resize, crop),
    });
  }
  const scale = num('pp-scale', d.scale, l10n.t('Scale'));
  if (scale === 0) problems.push({ field: 'pp-scale', text: l10n.t('Scale must not be 0') });
  const mean = d.mean.map((t, i) => num(`pp-mean-${i}`, t, l10n.t('Mean {0}', channelName(d, i))));
  const std = d.std.map((t, i) => {
    const v = num(`pp-std-${i}`, t, l10n.t('Std {0}', channelName(d, i)));
    if (v === 0)
      problems.push({ field: `pp-std-${i}`, text: l10n.t('Std {0} must not be 0', channelName(d, i)) });
    return v;
  });
  if (problems.length > 0) return { problems };
  return {
    problems,
    value: {
      resize,
      crop,
      channelOrder: d.channelOrder,
      scale,
      mean: mean as [number, number, number],
      std: std as [number, number, number],
    },
  };
}

/** The tensor channel at position i: R, G, B in RGB order, B, G, R in BGR. */
function channelName(d: Draft, i: number): string {
  const name = d.channelOrder[i];
  if (name === undefined) throw new Error(`no channel ${i} in ${d.channelOrder}`);
  return name;
}

/** "= 1/255" beside a scale that is the reciprocal of a whole number. */
function scaleHint(text: string): string {
  const v = Number(text);
  if (!Number.isFinite(v) || v === 0) return '';
  const inv = 1 / v;
  const r = Math.round(inv * 10) / 10;
  if (Math.abs(inv - r) < 1e-6 && r !== 1) return `= 1/${r}`;
  return '';
}

/** The whole editor, rendered into `target` (its own host element, so the rest of the panel can re-render). */
export function renderPreprocessing(target: HTMLElement): void {
  host = target;
  if (!model || !draft) {
    target.replaceChildren();
    return;
  }
  const m = model;
  const d = draft;
  const readOnly = m.readOnly !== null;
  const details = h('details', { id: 'preprocessing', class: 'prep' });
  if (open) details.setAttribute('open', '');
  details.addEventListener('toggle', () => {
    open = (details as HTMLDetailsElement).open;
    if (open && !labelFiles && !readOnly) requests.send({ type: 'listLabelFiles' });
    if (open) drawPreview();
  });
  details.append(
    h(
      'summary',
      { id: 'preprocessing-summary' },
      h('strong', {}, l10n.t('Preprocessing')),
      ` · ${m.name} · `,
      summaryText(m.preprocessing),
    ),
  );

  const field = (
    id: string,
    label: string,
    value: string,
    onInput: (v: string) => void,
    attrs = {},
  ): HTMLElement => {
    const input = h('input', {
      id,
      type: 'text',
      inputmode: 'decimal',
      value,
      'aria-describedby': 'pp-problems',
      ...(readOnly ? { readonly: '' } : {}),
      ...attrs,
    }) as HTMLInputElement;
    input.addEventListener('input', () => {
      onInput(input.value);
      update();
    });
    return h('label', { class: 'pp-field', for: id }, h('span', {}, label), input);
  };

  const presets = h('div', { class: 'pp-presets', role: 'group', 'aria-label': l10n.t('Presets') });
  for (const id of PRESET_NAMES) {
    const b = h(
      'button',
      {
        type: 'button',
        id: `pp-preset-${id}`,
        'aria-pressed': 'false',
        ...(readOnly ? { disabled: '' } : {}),
      },
      PRESET_LABELS[id],
    );
    b.addEventListener('click', () => {
      const labels = d.labels;
      draft = { ...draftOf(m.presets[id]), labels };
      outcome = undefined;
      renderPreprocessing(target);
      document.getElementById(`pp-preset-${id}`)?.focus();
    });
    presets.append(b);
  }

  const order = h(
    'select',
    { id: 'pp-order', 'aria-describedby': 'pp-problems', ...(readOnly ? { disabled: '' } : {}) },
    h('option', { value: 'RGB' }, 'RGB'),
    h('option', { value: 'BGR' }, 'BGR'),
  ) as HTMLSelectElement;
  order.value = d.channelOrder;
  order.addEventListener('change', () => {
    d.channelOrder = order.value === 'BGR' ? 'BGR' : 'RGB';
    renderPreprocessing(target);
    document.getElementById('pp-order')?.focus();
  });

  const triple = (key: 'mean' | 'std', label: string): HTMLElement =>
    h(
      'div',
      { class: 'pp-triple', role: 'group', 'aria-label': label },
      h('span', { class: 'pp-triple-label' }, label),
      ...d[key].map((value, i) => field(`pp-${key}-${i}`, channelName(d, i), value, (v) => (d[key][i] = v))),
    );

  const layout = m.format.layout === 'NHWC' ? l10n.t('channels last') : l10n.t('channels first');
  const channels = m.format.channels === 1 ? l10n.t('grayscale') : l10n.t('colour');
  const input = m.input?.shape
    ? `"${m.input.name}" [${m.input.shape.join(', ')}] (${layout}, ${channels}, ${m.format.type})`
    : l10n.t('(shape unknown)');
  const OUTPUTS: Record<OutputKind, string> = {
    logits: l10n.t('Output: logits; CNN Lens applies softmax.'),
    probabilities: l10n.t('Output: probabilities (the graph ends in Softmax), shown as they are.'),
    'log-probabilities': l10n.t(
      'Output: log-probabilities (the graph ends in LogSoftmax); CNN Lens shows their exp.',
    ),
    sigmoid: l10n.t(
      'Output: per-class sigmoid scores (a multi-label head), shown as they are: they need not sum to 100 %.',
    ),
  };
  const size =
    m.fixedSize !== null
      ? l10n.t('the model fixes {0}×{0}, so the crop is {0}', m.fixedSize)
      : l10n.t('its height and width are symbolic: the crop sets the size');
  const labelsList = h(
    'datalist',
    { id: 'pp-label-files' },
    ...(labelFiles ?? []).map((f) => h('option', { value: f })),
  );
  const labels = h(
    'label',
    { class: 'pp-field pp-labels', for: 'pp-labels' },
    h('span', {}, l10n.t('Labels file')),
    h('input', {
      id: 'pp-labels',
      type: 'text',
      list: 'pp-label-files',
      value: d.labels,
      placeholder: l10n.t('a path, or pick a workspace .json'),
      'aria-describedby': 'pp-labels-note',
      ...(readOnly ? { readonly: '' } : {}),
    }),
  );
  labels.querySelector('input')!.addEventListener('input', (e) => {
    d.labels = (e.target as HTMLInputElement).value;
    update();
  });

  const save = h(
    'button',
    { type: 'button', id: 'pp-save', class: 'primary' },
    m.descriptor
      ? l10n.t('Save to {0}', m.descriptor)
      : l10n.t('Save as {0}', `${m.name.replace(/\.onnx$/i, '')}.json`),
  );
  save.addEventListener('click', () => {
    const checked = check(d, m);
    if (!checked.value || readOnly) return;
    saving = true;
    outcome = undefined;
    requests.send({ type: 'savePreprocessing', preprocessing: checked.value, labels: d.labels.trim() });
    update();
  });
  const revert = h('button', { type: 'button', id: 'pp-revert' }, l10n.t('Revert'));
  revert.addEventListener('click', () => {
    draft = draftOf(m.preprocessing);
    outcome = undefined;
    renderPreprocessing(target);
    document.getElementById('pp-revert')?.focus();
  });

  const body = h(
    'div',
    { class: 'pp-body' },
    h(
      'p',
      { id: 'pp-input', class: 'muted' },
      l10n.t('Input {0}: {1}.', input, size),
      ` ${m.descriptor ? l10n.t('Descriptor: {0}.', m.descriptor) : l10n.t('No descriptor beside the model yet.')}`,
    ),
    h('p', { id: 'pp-output', class: 'muted' }, OUTPUTS[m.outputKind]),
    m.assumed
      ? h('p', { id: 'pp-assumed', class: 'notice', role: 'note' }, l10n.t('Assumed: {0}.', m.assumed))
      : undefined,
    m.readOnly ? h('p', { id: 'pp-readonly', class: 'notice', role: 'note' }, m.readOnly) : undefined,
    presets,
    h(
      'div',
      { class: 'pp-grid' },
      field('pp-resize', l10n.t('Resize (shorter side)'), d.resize, (v) => (d.resize = v)),
      field(
        'pp-crop',
        l10n.t('Center crop'),
        d.crop,
        (v) => (d.crop = v),
        m.fixedSize !== null
          ? { readonly: '', title: l10n.t("fixed by the model's input ({0})", m.fixedSize) }
          : {},
      ),
      h('label', { class: 'pp-field', for: 'pp-order' }, h('span', {}, l10n.t('Channel order')), order),
      field('pp-scale', l10n.t('Scale (pixel × scale)'), d.scale, (v) => (d.scale = v)),
      h('span', { id: 'pp-scale-hint', class: 'muted' }, scaleHint(d.scale)),
    ),
    triple('mean', l10n.t('Mean (subtracted)')),
    triple('std', l10n.t('Std (divided by)')),
    labels,
    labelsList,
    h(
      'p',
      { id: 'pp-labels-note', class: 'muted' },
      l10n.t('Now: {0}, {1} classes. Leave empty to keep them.', m.labels.source, m.labels.count),
    ),
    h(
      'div',
      { class: 'pp-preview' },
      h('canvas', {
        id: 'pp-overview',
        width: '240',
        height: '240',
        role: 'img',
        'aria-label': l10n.t('The crop over the current image'),
      }),
      h('canvas', {
        id: 'pp-crop-canvas',
        width: '160',
        height: '160',
        role: 'img',
        'aria-label': l10n.t('The crop the model would see'),
      }),
      h('p', { id: 'pp-preview-note', class: 'muted' }),
    ),
    h('ul', { id: 'pp-problems', class: 'pp-problems', 'aria-live': 'polite' }),
    readOnly ? undefined : h('div', { class: 'pp-actions' }, save, revert),
    h('p', { id: 'pp-outcome', role: 'status' }),
  );
  details.append(body);
  // Re-rendering replaces the inputs: give focus and the caret back to the field that had them.
  const active = document.activeElement;
  const focusId = active instanceof HTMLElement && target.contains(active) ? active.id : '';
  const caret = active instanceof HTMLInputElement ? active.selectionStart : null;
  target.replaceChildren(details);
  const again = focusId ? document.getElementById(focusId) : null;
  if (again) {
    again.focus({ preventScroll: true });
    if (caret !== null && again instanceof HTMLInputElement) again.setSelectionRange(caret, caret);
  }
  update();
}

function summaryText(p: Preprocessing): string {
  return l10n.t(
    'resize {0}, crop {1}, {2}, ×{3}, mean [{4}], std [{5}]',
    p.resize,
    p.crop,
    p.channelOrder,
    +p.scale.toPrecision(6),
    p.mean.join(', '),
    p.std.join(', '),
  );
}

/** After an edit: problems, Save's state, preset buttons, the preview; the inputs themselves stay. */
function update(): void {
  if (!model || !draft) return;
  const { problems } = check(draft, model);
  const list = document.getElementById('pp-problems');
  list?.replaceChildren(...problems.map((p) => h('li', { class: 'error-text' }, p.text)));
  for (const el of document.querySelectorAll<HTMLInputElement>('#preprocessing input')) {
    if (problems.some((p) => p.field === el.id)) el.setAttribute('aria-invalid', 'true');
    else el.removeAttribute('aria-invalid');
  }
  const hint = document.getElementById('pp-scale-hint');
  if (hint) hint.textContent = scaleHint(draft.scale);
  const save = document.getElementById('pp-save') as HTMLButtonElement | null;
  const unchanged = same(draft, base);
  if (save) {
    save.disabled = problems.length > 0 || saving || unchanged;
    save.title = unchanged
      ? l10n.t('Nothing changed')
      : problems.length > 0
        ? l10n.t('Fix the problems listed first')
        : '';
  }
  for (const id of PRESET_NAMES) {
    const b = document.getElementById(`pp-preset-${id}`);
    const d = draftOf(model.presets[id]);
    const matches = same({ ...d, labels: '' }, { ...draft, labels: '' });
    b?.setAttribute('aria-pressed', String(matches));
  }
  const status = document.getElementById('pp-outcome');
  if (status) {
    status.textContent = saving ? l10n.t('Saving and reloading the model…') : (outcome?.text ?? '');
    status.className = outcome && !outcome.ok ? 'error-text' : 'muted';
  }
  drawPreview();
}

let image: HTMLImageElement | undefined;

/**
 * Draws where the crop falls on the current image (shorter side → resize, center crop) and the crop itself,
 * from the original file. The model's own crop (decoded and resized by sharp) is the one in the result.
 */
function drawPreview(): void {
  const overview = document.getElementById('pp-overview') as HTMLCanvasElement | null;
  const cropCanvas = document.getElementById('pp-crop-canvas') as HTMLCanvasElement | null;
  const note = document.getElementById('pp-preview-note');
  if (!overview || !cropCanvas || !note || !draft || !open) return;
  const src = source?.src;
  if (!src) {
    note.textContent = source
      ? l10n.t('No preview: {0} is outside the workspace folders.', source.file)
      : l10n.t('Classify or pick an image to preview the crop.');
    overview.hidden = cropCanvas.hidden = true;
    return;
  }
  if (!image || image.dataset.src !== src) {
    image = new Image();
    image.dataset.src = src;
    image.addEventListener('load', drawPreview);
    image.addEventListener('error', () => {
      if (note)
        note.textContent = l10n.t(
          'No preview: {0} could not be shown here.',
          source?.file ?? l10n.t('the image'),
        );
    });
    image.src = src;
  }
  if (!image.complete || !image.naturalWidth) return;
  const resize = Number(draft.resize);
  const crop = Number(draft.crop);
  if (!(resize >= crop && crop >= 1)) {
    note.textContent = l10n.t('No preview until resize and crop are valid.');
    overview.hidden = cropCanvas.hidden = true;
    return;
  }
  overview.hidden = cropCanvas.hidden = false;
  const w = image.naturalWidth;
  const hgt = image.naturalHeight;
  const side = (crop * Math.min(w, hgt)) / resize; // the crop in the original image's pixels
  const x = (w - side) / 2;
  const y = (hgt - side) / 2;
  const fit = 240 / Math.max(w, hgt);
  overview.width = Math.round(w * fit);
  overview.height = Math.round(hgt * fit);
  const css = getComputedStyle(document.body);
  const ctx = overview.getContext('2d')!;
  ctx.fillStyle = '#fff'; // transparent pixels are flattened onto white, as the model gets them
  ctx.fillRect(0, 0, overview.width, overview.height);
  ctx.drawImage(image, 0, 0, overview.width, overview.height);
  ctx.globalAlpha = 0.6;
  ctx.fillStyle = css.getPropertyValue('--vscode-editor-background') || '#000';
  ctx.beginPath();
  ctx.rect(0, 0, overview.width, overview.height);
  ctx.rect(x * fit, y * fit, side * fit, side * fit);
  ctx.fill('evenodd');
  ctx.globalAlpha = 1;
  ctx.strokeStyle = css.getPropertyValue('--vscode-focusBorder') || '#07f';
  ctx.lineWidth = 2;
  ctx.strokeRect(x * fit, y * fit, side * fit, side * fit);
  const c = cropCanvas.getContext('2d')!;
  c.fillStyle = '#fff';
  c.fillRect(0, 0, cropCanvas.width, cropCanvas.height);
  c.imageSmoothingQuality = 'high';
  c.drawImage(image, x, y, side, side, 0, 0, cropCanvas.width, cropCanvas.height);
  cropCanvas.dataset.crop = `${Math.round(x)},${Math.round(y)},${Math.round(side)}`;
  note.textContent = l10n.t(
    '{0} ({1}×{2}): shorter side {3} → {4}, center {5}×{5}, the central {6}×{6} pixels ({7} % of the shorter side). Drawn here from the original file; the crop in the result above is the model’s own.',
    String(source?.file),
    w,
    hgt,
    Math.min(w, hgt),
    resize,
    crop,
    Math.round(side),
    ((crop / resize) * 100).toFixed(1),
  );
}

/** Re-renders the editor where it is (after the host's model or labels arrive). */
export function refreshPreprocessing(): void {
  if (host) renderPreprocessing(host);
}
