// The panel's model: its name and family in the toolbar, the model picker (the built-in ResNet50, models
// opened before, the workspace's .onnx files), and the line saying what happens to it (opening, errors).
import * as l10n from '@vscode/l10n';
import type { ModelChoice, ModelView } from '../src/shared/protocol';
import { h } from './dom';
import { ListPicker } from './listPicker';
import { requests, vscode } from './vscodeApi';

let model: ModelView | undefined;
let busy: string | undefined;
let error: { file: string; message: string } | undefined;

export const modelPicker = new ListPicker({
  prefix: 'model-picker',
  toggleId: 'pick-model',
  texts: () => ({
    toggle: l10n.t('Model…'),
    search: l10n.t('Search models'),
    list: l10n.t('models'),
    looking: l10n.t('Looking for models…'),
    count: (matches, total) => l10n.t('{0} of {1} models', matches, total),
  }),
  request: () => requests.send({ type: 'listModels' }),
  pick: (item) => {
    error = undefined;
    vscode.postMessage({ type: 'openModel', id: item.id });
  },
  selected: () => model?.id,
});

/** The model the host describes; returns whether it replaces another model (not the first one heard of). */
export function setModel(next: ModelView): boolean {
  const changed = model !== undefined && model.id !== next.id;
  if (model?.id !== next.id) {
    error = undefined;
    // The list marks the current model and offers the previous one: ask again next time.
    modelPicker.reset();
  }
  model = next;
  return changed;
}

/** The panel's model as last described, once the host has said. */
export function currentModel(): ModelView | undefined {
  return model;
}

export function setModelBusy(next: string | undefined): void {
  busy = next;
}

export function setModelError(file: string, message: string): void {
  error = { file, message };
}

/** Receives the picker's list from the host. */
export function setModels(models: ModelChoice[], truncated: boolean): void {
  modelPicker.setItems(
    models.map((m) => ({ id: m.id, label: m.label, detail: m.detail })),
    truncated,
  );
}

/** "mobilenet_v2.onnx [MobileNet V2]" for the toolbar. */
export function modelHeading(): HTMLElement | undefined {
  if (!model) return undefined;
  return h(
    'span',
    { id: 'model', class: 'model', title: `${model.name}: ${model.file}` },
    h('span', { id: 'model-name' }, model.name),
    model.family ? h('span', { id: 'model-family', class: 'badge' }, model.family) : undefined,
  );
}

/** Opening in progress, or why the last model could not be opened (the panel keeps its model). */
export function modelStatus(rerender: () => void): HTMLElement | undefined {
  if (busy) return h('p', { id: 'model-status', class: 'busy', role: 'status' }, busy);
  if (!error) return undefined;
  const log = h('button', { type: 'button', id: 'model-error-log' }, l10n.t('Show log'));
  log.addEventListener('click', () => vscode.postMessage({ type: 'command', command: 'showLog' }));
  const dismiss = h('button', { type: 'button', id: 'model-error-dismiss' }, l10n.t('Dismiss'));
  dismiss.addEventListener('click', () => {
    error = undefined;
    rerender();
    document.getElementById('pick-model')?.focus();
  });
  return h(
    'section',
    { id: 'model-error', class: 'error', role: 'alert' },
    h('h2', {}, l10n.t('Cannot open {0}', error.file)),
    h('p', {}, error.message),
    h(
      'p',
      { class: 'muted' },
      model ? `${l10n.t('The panel still uses {0}.', model.name)} ` : '',
      log,
      ' ',
      dismiss,
    ),
  );
}
