// The CNN Lens panel UI. State comes from the host; the webview renders it and reports user actions.
import * as l10n from '@vscode/l10n';
import type { FeatureMaps } from '../src/shared/exploration';
import { headFields } from '../src/shared/layerTable';
import type {
  ArchitectureView,
  ExplorationView,
  ComparisonView,
  HostMessage,
  JobKind,
  PanelState,
  WebviewMessage,
} from '../src/shared/protocol';
import { parseSavedPanel, savedPanel } from '../src/shared/savedPanel';
import type { QuantizationReport } from '../src/shared/quantization';
import {
  architectureSection,
  focusArchitecture,
  markRows,
  showActivations,
  showQuantization,
  showTimes,
} from './architectureView';
import {
  camSection,
  explanationsConnected,
  followExplanation,
  resetExplanations,
  setExplainableLayers,
  setExplanation,
} from './camView';
import { h } from './dom';
import { featureMapsSection, focusFeatureMaps, type FieldContext } from './featureMapsView';
import { imagePicker, setImages } from './imagePicker';
import { loadTranslations } from './l10n';
import { compareSection } from './compareView';
import { architectureCompareSection } from './architectureCompareView';
import {
  currentModel,
  modelHeading,
  modelPicker,
  modelStatus,
  setModel,
  setModelBusy,
  setModelError,
  setModels,
} from './modelPicker';
import {
  refreshPreprocessing,
  renderPreprocessing,
  setImageSource,
  setLabelFiles,
  setPreprocessingModel,
  setSaveOutcome,
} from './preprocessingView';
import {
  currentProfile,
  currentQuantization,
  finishedJobs,
  hasJob,
  jobSections,
  setJobState,
} from './jobsView';
import { resetResultsTable, resultsTable } from './resultsTable';
import { setBoxMap, setTaskMaps } from './foundView';
import { resultSection } from './resultView';
import { compareIntro, explainIntro, profileIntro, quantizationIntro } from './sectionIntros';
import { openSection, sectionTabs, showSection, type Section } from './sections';
import { requests, vscode } from './vscodeApi';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';

// Before anything renders: the display language's translations, when the host put them on the page.
loadTranslations(document.documentElement.dataset.l10n);

/** Above the tabs: the toolbar, the pickers, the model's status and what is running. */
const top = document.getElementById('top')!;
const { tabs, panels } = sectionTabs(() => save());
top.after(tabs);
/** Where each part of the panel goes: a host element in its section's tab. */
const host = (section: Section, id: string): HTMLElement => {
  const el = h('div', { id });
  panels[section].append(el);
  return el;
};
const resultHost = host('result', 'result-host');
const prepHost = host('result', 'prep');
const archHost = host('architecture', 'arch');
const explainHost = host('explain', 'explain-host');
const mapsHost = host('explain', 'maps');
panels.compare.append(compareIntro());
const imageCompareHost = host('compare', 'images-compare');
const modelsCompareHost = host('compare', 'models-compare');
const profileHost = host('profile', 'profile-host');
panels.quantization.append(quantizationIntro());
const quantizationHost = host('quantization', 'quantization-host');
/** The jobs shown in each section. */
const JOB_SECTIONS: Record<Exclude<JobKind, 'explain'>, Section> = {
  profile: 'profile',
  quantization: 'quantization',
  agreement: 'quantization',
  quantize: 'quantization',
};
const EMPTY: PanelState = { results: [], total: 0, current: 0 };
/** The run as saved before a reload (an older or broken state is not used: the host sends what it has). */
const saved = parseSavedPanel(vscode.getState());
let state: PanelState = saved
  ? { results: saved.results, total: saved.results.length, current: saved.current }
  : EMPTY;
/** The panel's own model choice, saved so that the host can restore it after a reload. */
let chosenModel: string | undefined = saved?.model;
/** The layer table of the panel's model. */
let architecture: ArchitectureView | undefined;
/** The exploration of the current image, and the file it belongs to. */
let exploration: { file: string; view: ExplorationView } | undefined;
let explorationError: string | undefined;
let mapPages: FeatureMaps[] = [];
let comparison: ComparisonView | string | undefined;

/** Renders what follows the run: the top, the result, the explanations and the image comparison. */
function renderTop(): void {
  const current = state.results[state.current];
  const explored = exploration && current && exploration.file === current.file ? exploration.view : undefined;
  const focused = rememberFocus();
  const parts = [
    h(
      'header',
      { class: 'toolbar' },
      h('h1', {}, l10n.t('CNN Lens')),
      modelHeading(),
      current && 'provider' in current
        ? h(
            'span',
            {
              id: 'provider',
              class: 'badge',
              title: l10n.t('Execution provider and precision that ran the model'),
            },
            `${current.provider} · ${current.precision ?? 'fp32'}`,
          )
        : undefined,
      h('span', { class: 'spacer' }),
      precisionSelect(),
      modelPicker.button(renderTop, () => (imagePicker.open = false)),
      imagePicker.button(renderTop, () => (modelPicker.open = false)),
      button(l10n.t('Runtime info'), 'showRuntimeInfo'),
      button(l10n.t('Log'), 'showLog'),
    ),
    modelPicker.section(renderTop),
    imagePicker.section(renderTop),
    modelStatus(renderTop),
    precisionNote(),
    state.busy
      ? h(
          'p',
          { id: 'status', class: 'busy', role: 'status' },
          h('vscode-progress-ring', { 'aria-hidden': 'true' }),
          state.busy,
        )
      : undefined,
  ];
  top.replaceChildren(...present(parts));
  resultHost.replaceChildren(
    ...present([
      resultSection(
        state,
        currentModel()?.outputKind,
        architecture ? headFields(architecture.table) : undefined,
      ),
      rerunNote(),
      resultsTable(state, renderTop),
    ]),
  );
  explainHost.replaceChildren(
    ...present([
      explored && current ? camSection(explored, current.file, renderTop) : explainIntro(),
      explorationError ? h('p', { class: 'error-text', role: 'alert' }, explorationError) : undefined,
    ]),
  );
  imageCompareHost.replaceChildren(
    ...present([
      typeof comparison === 'string'
        ? h('p', { class: 'error-text', role: 'alert' }, l10n.t('Cannot compare: {0}', comparison))
        : comparison && compareSection(comparison, architecture?.table),
    ]),
  );
  focused();
  showActivations(explored?.layers);
  showQuantization(quantizationShown());
}

/** The fp32/int8 report of the current image, when there is one. */
function quantizationShown(): QuantizationReport | null {
  const current = state.results[state.current];
  const q = currentQuantization(current?.file);
  return q?.status === 'done' ? q.report : null;
}

/** The elements of a list of parts that are there. */
function present(parts: (HTMLElement | undefined)[]): HTMLElement[] {
  return parts.filter((p): p is HTMLElement => p !== undefined);
}

/** The job sections, and the table columns they fill. */
function renderJobs(): void {
  const focused = rememberFocus();
  // A section closed or its view changed: drawn again, and saved (a closed report does not come back).
  const rerender = (): void => {
    renderJobs();
    save();
  };
  const profile = jobSections(['profile'], rerender, selectFile);
  profileHost.replaceChildren(...(profile.length > 0 ? profile : [profileIntro()]));
  quantizationHost.replaceChildren(
    ...jobSections(['quantize', 'agreement', 'quantization'], rerender, selectFile),
  );
  focused();
  showTimes(currentProfile());
  showQuantization(quantizationShown());
}

/** Makes the run's entry for `file` current (a changed image in the agreement report). */
function selectFile(file: string): void {
  const index = state.results.findIndex((e) => e.file === file);
  if (index >= 0) vscode.postMessage({ type: 'select', index });
}

/** The precision setting, as a select in the toolbar. */
function precisionSelect(): HTMLElement | undefined {
  const model = currentModel();
  if (!model) return undefined;
  const select = h(
    'vscode-single-select',
    {
      id: 'precision',
      label: l10n.t('Precision'),
      title: l10n.t('cnnLens.precision: int8 runs the model’s int8 (QDQ) file on the CPU'),
    },
    ...(['fp32', 'int8'] as const).map((p) =>
      h('vscode-option', { value: p, ...(model.precision.setting === p && { selected: '' }) }, p),
    ),
  ) as HTMLElement & { value: string };
  select.addEventListener('change', () =>
    vscode.postMessage({ type: 'setPrecision', precision: select.value === 'int8' ? 'int8' : 'fp32' }),
  );
  return h('label', { class: 'precision' }, h('span', {}, l10n.t('Precision')), select);
}

/** Why the model runs fp32 though int8 was asked for, with the action that fixes it. */
function precisionNote(): HTMLElement | undefined {
  const note = currentModel()?.precision.note;
  if (!note) return undefined;
  const quantize = h(
    'button',
    { type: 'button', id: 'precision-quantize' },
    l10n.t('Quantize with Images from a Folder…'),
  );
  quantize.addEventListener('click', () =>
    vscode.postMessage({ type: 'command', command: 'quantizeFolder' }),
  );
  return h('p', { id: 'precision-note', class: 'notice', role: 'note' }, `${note}. `, quantize);
}

/**
 * The run's results ran at another precision than the panel's model runs now (the user switched): they
 * stay, labelled, and the panel offers to classify them again rather than doing it unasked.
 */
function rerunNote(): HTMLElement | undefined {
  const now = currentModel()?.precision.model;
  const ran = [...new Set(state.results.flatMap((r) => ('error' in r ? [] : [r.precision ?? 'fp32'])))];
  if (!now || state.busy || ran.length === 0 || ran.every((p) => p === now)) return undefined;
  const rerun = h('button', { type: 'button', id: 'rerun' }, l10n.t('Re-run at {0}', now));
  rerun.addEventListener('click', () => vscode.postMessage({ type: 'rerun' }));
  return h(
    'p',
    { id: 'rerun-note', class: 'notice', role: 'note' },
    `${l10n.t('These results, the comparison and the explanations ran at {0}; the panel now runs {1}.', ran.join(', '), now)} `,
    rerun,
  );
}

/** Re-rendering replaces elements: give focus (and the caret) back to the element with the same id. */
function rememberFocus(): () => void {
  const el = document.activeElement;
  if (!(el instanceof HTMLElement) || !el.id) return () => undefined;
  const caret = el instanceof HTMLInputElement ? el.selectionStart : null;
  return () => {
    const again = document.getElementById(el.id);
    if (!again || again === el) return;
    again.focus({ preventScroll: true });
    if (caret !== null && again instanceof HTMLInputElement && again.type !== 'checkbox') {
      again.setSelectionRange(caret, caret);
    }
  };
}

function button(
  label: string,
  command: Extract<WebviewMessage, { type: 'command' }>['command'],
): HTMLElement {
  const b = h('button', { type: 'button' }, label);
  b.addEventListener('click', () => vscode.postMessage({ type: 'command', command }));
  return b;
}

/** The two entries the comparison shows: a reload brings them back. */
let compared: [number, number] | undefined = saved?.compare;
/** The last quantize report comes back as it was (no message from the host would draw it again). */
if (saved?.quantize) setJobState('quantize', saved.quantize);
/** The finished profile and fp32/int8 reports come back once the host says the model is still theirs. */
let jobsToRestore = saved?.jobs;

/**
 * Saves what a reload needs: the run without its previews, the current entry, the model chosen, the
 * comparison, the finished jobs and the open tab.
 */
function save(): void {
  const { quantize, ...jobs } = finishedJobs();
  const model = currentModel();
  vscode.setState(
    savedPanel(state.results, state.current, chosenModel, {
      compare: compared,
      quantize,
      jobs: model && Object.keys(jobs).length > 0 ? { model: model.id, ...jobs } : undefined,
      section: openSection(),
    }),
  );
}

/** The saved jobs, drawn again when the first model the host names after a reload is the one they ran on. */
function restoreJobs(model: string): void {
  if (!jobsToRestore) return;
  const { model: ranOn, profile, quantization, agreement } = jobsToRestore;
  jobsToRestore = undefined;
  if (ranOn !== model) return;
  if (profile) setJobState('profile', profile);
  if (quantization) setJobState('quantization', quantization);
  if (agreement) setJobState('agreement', agreement);
  try {
    renderJobs();
  } catch {
    // What was saved cannot be drawn (a state from another version): the sections start empty instead.
    for (const kind of ['profile', 'quantization', 'agreement'] as const) setJobState(kind, null);
    renderJobs();
  }
}

/**
 * After a reload the tab that was open opens again: now, and once more after the host's replay of the saved
 * run and comparison (which would otherwise open Result and Compare).
 */
if (saved?.section) showSection(saved.section);
let replaying = (saved?.results.length ?? 0) > 0;

/** After a reload, the comparison is asked for again once the host has both entries back. */
let compareAgain = compared !== undefined;
/** Whether the comparison awaited is the one asked for again (its tab need not open). */
let comparisonRestored = false;
function restoreComparison(): void {
  if (!compareAgain || !compared) return;
  const [a, b] = compared.map((i) => state.results[i]);
  if (!a || !b) return;
  compareAgain = false;
  comparisonRestored = true;
  requests.send({ type: 'compare', indices: compared });
}

let frame = 0;

/** Results may arrive many per frame: render and persist once per animation frame. */
function setState(next: PanelState): void {
  state = next;
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    save();
    renderTop();
  });
}

/** The architecture comparison, while it fills in and after; undefined once closed. */
let archComparison: Extract<HostMessage, { type: 'architectureComparison' }> | undefined;

function renderArchComparison(): void {
  const c = archComparison;
  modelsCompareHost.replaceChildren(
    ...(c
      ? [
          architectureCompareSection(c.comparison, c.busy, () => {
            archComparison = undefined;
            renderArchComparison();
            document.getElementById('compare-models')?.focus();
          }),
        ]
      : []),
  );
}

/** The current image as the webview may load it, for the receptive field on the original. */
let imageSource: { file: string; src?: string } | undefined;

function renderMaps(): void {
  const [first] = mapPages;
  mapsHost.replaceChildren(...(first ? [featureMapsSection(mapPages, fieldContext(first))] : []));
}

/** What the receptive field of a feature-map position is drawn from. */
function fieldContext(maps: FeatureMaps): FieldContext {
  const x = exploration?.view;
  const p = currentModel()?.preprocessing;
  const file = exploration?.file ?? '';
  return {
    row: architecture?.table.rows.find((r) => r.name === maps.layer),
    preview: x?.preview,
    source: imageSource?.file === file ? imageSource.src : undefined,
    file,
    width: x?.width ?? p?.crop ?? 224,
    height: x?.height ?? p?.crop ?? 224,
    resize: p?.resize ?? 256,
    crop: p?.crop ?? 224,
    neighbours: neighbours(maps.layer),
  };
}

/** The explored layers (those with activations) before and after `layer`, in the layer table's order. */
function neighbours(layer: string): FieldContext['neighbours'] {
  const explored = new Set(exploration?.view.layers.map((l) => l.name));
  const names = (architecture?.table.rows ?? []).map((r) => r.name).filter((n) => explored.has(n));
  const at = names.indexOf(layer);
  return at < 0 ? {} : { previous: names[at - 1], next: names[at + 1] };
}

window.addEventListener('message', (e: MessageEvent<HostMessage>) => {
  const m = e.data;
  // A reply to a request that a newer one of its type replaced (another layer's feature maps, an earlier
  // explanation) would show what the user moved away from.
  if (!requests.isCurrent(m)) return;
  switch (m.type) {
    case 'run': {
      const replay = replaying && m.total === saved?.results.length;
      replaying = false;
      mapPages = [];
      comparison = undefined;
      // The host's replay of the saved run keeps the comparison to ask for again; a new run ends it.
      if (!(compareAgain && m.total === saved?.results.length)) {
        compared = undefined;
        compareAgain = false;
      }
      resetResultsTable();
      renderMaps();
      setState({ results: [], total: m.total, current: 0, busy: m.busy });
      showSection(replay ? (saved?.section ?? 'result') : 'result');
      return;
    }
    case 'results': {
      // Entries beyond the end belong to a run this panel has not seen start; the host replays on `ready`.
      if (m.start > state.results.length) return;
      const results = [...state.results];
      m.items.forEach((item, i) => (results[m.start + i] = item));
      setState({ ...state, results });
      restoreComparison();
      return;
    }
    case 'status':
      setState({ ...state, busy: m.busy });
      return;
    case 'current':
      setState({ ...state, current: m.index });
      return;
    case 'architecture':
      architecture = m.architecture;
      // Measured before the old table goes: the new one is laid out once, at its final width.
      archHost.replaceChildren(architectureSection(m.architecture, archHost.clientWidth));
      showActivations(exploration?.view.layers);
      return;
    case 'highlightRows':
      markRows(m.names);
      return;
    case 'architectureError':
      archHost.replaceChildren(
        h('p', { class: 'error', role: 'alert' }, l10n.t('Cannot show the architecture: {0}', m.message)),
      );
      return;
    case 'focusArchitecture': {
      // A table that arrives late must not take focus from a control the user went to meanwhile.
      const active = document.activeElement;
      const idle = !active || active === document.body || archHost.contains(active);
      if (!m.unlessBusy || idle) focusArchitecture();
      return;
    }
    case 'exploration':
      exploration = { file: m.file, view: m.exploration };
      explorationError = undefined;
      mapPages = [];
      renderMaps();
      renderTop();
      followExplanation();
      return;
    case 'explainableLayers':
    case 'explainableLayersError':
      setExplainableLayers(m.type === 'explainableLayers' ? m.layers : m.message);
      renderTop();
      return;
    case 'explorationError':
      explorationError = l10n.t('Per-layer results for {0} failed: {1}', m.file, m.message);
      renderTop();
      return;
    case 'taskMaps':
    case 'taskMapsError':
      setTaskMaps(
        m.type === 'taskMaps'
          ? { file: m.file, maps: m.maps }
          : { file: state.results[state.current]?.file ?? '', error: m.message },
      );
      renderTop();
      return;
    case 'boxMap':
    case 'boxMapError':
      setBoxMap(
        m.type === 'boxMap'
          ? { file: m.file, map: m.map }
          : { file: state.results[state.current]?.file ?? '', error: m.message },
      );
      renderTop();
      return;
    case 'featureMaps': {
      const same = mapPages[0]?.layer === m.maps.layer && mapPages[0]?.key === m.maps.key;
      mapPages = same && m.maps.offset > 0 ? [...mapPages, m.maps] : [m.maps];
      renderMaps();
      if (m.maps.offset === 0) {
        showSection('explain');
        mapsHost.scrollIntoView({ block: 'nearest' });
        focusFeatureMaps();
      }
      return;
    }
    case 'featureMapsError':
      mapsHost.replaceChildren(
        h(
          'p',
          { class: 'error-text', role: 'alert' },
          l10n.t('Feature maps of {0}: {1}', m.layer, m.message),
        ),
      );
      return;
    case 'comparison':
    case 'comparisonError':
      comparison = m.type === 'comparison' ? m.comparison : m.message;
      if (m.type === 'comparison') {
        const [a, b] = m.comparison.items.map((i) => state.results.findIndex((e) => e.file === i.file));
        compared = a !== undefined && b !== undefined && a >= 0 && b >= 0 ? [a, b] : undefined;
        save();
      }
      renderTop();
      if (!comparisonRestored) showSection('compare');
      comparisonRestored = false;
      return;
    case 'images':
      setImages(m.files, m.truncated);
      renderTop();
      return;
    case 'model':
      if (setModel(m.model)) {
        // Another model: the old one's exploration, feature maps and explanations no longer apply.
        resetExplanations();
        exploration = undefined;
        mapPages = [];
        renderMaps();
      }
      chosenModel = m.model.chosen ? m.model.id : undefined;
      restoreJobs(m.model.id);
      save();
      setPreprocessingModel(m.model);
      renderPreprocessing(prepHost);
      renderTop();
      return;
    case 'models':
      setModels(m.models, m.truncated);
      renderTop();
      return;
    case 'modelBusy':
      setModelBusy(m.busy);
      renderTop();
      return;
    case 'modelError':
      setModelError(m.file, m.message);
      renderTop();
      document.getElementById('model-error')?.scrollIntoView({ block: 'nearest' });
      return;
    case 'imageSource':
      imageSource = { file: m.file, src: m.src };
      setImageSource(m.file, m.src);
      refreshPreprocessing();
      return;
    case 'labelFiles':
      setLabelFiles(m.files);
      refreshPreprocessing();
      return;
    case 'preprocessingSaved':
    case 'preprocessingError':
      setSaveOutcome(
        m.type === 'preprocessingError' ? m.message : undefined,
        m.type === 'preprocessingSaved' ? m.file : undefined,
      );
      refreshPreprocessing();
      return;
    case 'job':
      if (m.job === 'explain') {
        setExplanation(m.state);
        renderTop();
        return;
      }
      // A job's section that appears opens its tab (a job may be done before the panel is ready, when a
      // command opened it); one that only follows the current image, its section already there, does not.
      if (m.state && !hasJob(m.job)) showSection(JOB_SECTIONS[m.job]);
      setJobState(m.job, m.state);
      if (m.state === null || m.state.status === 'done') save();
      renderJobs();
      return;
    case 'architectureComparison': {
      const first = !archComparison;
      archComparison = m;
      renderArchComparison();
      if (first) showSection('compare');
      return;
    }
    default:
      m satisfies never;
  }
});

try {
  renderTop();
  // The quantize report a reload kept: no message from the host will draw it.
  renderJobs();
} catch {
  // What was saved cannot be shown: start empty rather than blank; the host sends what it has.
  state = EMPTY;
  setJobState('quantize', null);
  renderTop();
  renderJobs();
}
renderJobs();
vscode.postMessage({ type: 'ready' });
explanationsConnected();
