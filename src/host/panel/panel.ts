// The CNN Lens webview panel: one instance, revealed when open, revived after a reload.
import * as vscode from 'vscode';
import { Disposable } from '../disposable';
import { log } from '../log';
import type { ExplainableLayer, FeatureMaps } from '../../shared/exploration';
import type { BoxMap, TaskMaps } from '../../shared/tasks';
import {
  isWebviewMessage,
  type ArchitectureComparison,
  type ArchitectureView,
  type ExplainRequestView,
  type ComparisonView,
  type ExplorationView,
  type HostMessage,
  type ImageEntry,
  type JobKind,
  type JobStates,
  type ModelChoice,
  type ModelView,
  type PanelState,
  type Replies,
  type RequestType,
  type WebviewMessage,
  type WebviewRequest,
} from '../../shared/protocol';
import type { Preprocessing } from '../../shared/preprocessing';
import type { Precision } from '../../shared/quantization';
import { parseSavedPanel, type SavedPanel } from '../../shared/savedPanel';
import { panelHtml } from './html';

export const VIEW_TYPE = 'cnnLens.panel';

/** A host message that answers a request of type `T`. */
type ReplyTo<T extends RequestType> = Extract<HostMessage, { type: Replies[T] }>;

/** What the panel asks of the rest of the extension. */
export interface PanelHandlers {
  command(command: Extract<WebviewMessage, { type: 'command' }>['command']): void;
  architecture(): Promise<ArchitectureView>;
  export(format: 'csv' | 'json', entries: readonly ImageEntry[]): void;
  /** The user made an entry of the run current. */
  selected(entry: ImageEntry): void;
  featureMaps(layer: string, count: number, offset: number): Promise<FeatureMaps>;
  /** EigenCAM of the panel's detector or segmenter for the current image. */
  taskMaps(): Promise<{ file: string; maps: TaskMaps }>;
  /** Grad-CAM of one detection of the current image. */
  boxMap(anchor: number, index: number): Promise<{ file: string; map: BoxMap }>;
  listImages(): Promise<{ files: string[]; truncated: boolean }>;
  /** The user picked a workspace image (unvalidated webview input). */
  pick(file: string): void;
  /** Open a Python model's source at a row's line (unvalidated webview input). */
  openSource(file: string, line: number): void;
  /** Explorations of two entries, for the side-by-side view. */
  compare(entries: [ImageEntry, ImageEntry]): Promise<ComparisonView>;
  listModels(): Promise<{ models: ModelChoice[]; truncated: boolean }>;
  /** The user picked a model the picker offered (unvalidated webview input). */
  openModel(id: string): void;
  listLabelFiles(): Promise<string[]>;
  /**
   * Save the preprocessing editor's values (checked for shape by the protocol, not for sense): the file
   * written (display path), or why nothing was saved.
   */
  savePreprocessing(
    preprocessing: Preprocessing,
    labels: string,
  ): Promise<{ saved: string } | { error: string }>;
  cancelComparison(): void;
  /** The jobs below report through `setJob` with the `requestId` they were given. */
  profile(batch: number, runs: number, requestId: number): void;
  compareQuantized(requestId: number): void;
  compareRunPrecisions(requestId: number): void;
  setPrecision(precision: Precision): void;
  /** Classify the run's images again at the panel's current precision. */
  rerun(): void;
  cancelJob(job: JobKind): void;
  explainableLayers(): Promise<ExplainableLayer[]>;
  explain(request: ExplainRequestView, requestId: number): void;
  /** The window was reloaded with the panel open: its run (and model choice) came back from `saved`. */
  restored(saved: SavedPanel): void;
}

/**
 * Where a reveal puts the panel: where it is, except that a reveal in the background never covers the
 * active editor: behind another tab of the active group (an image just opened from the Explorer, #19),
 * the panel moves to the column beside. The tab API, not `panel.visible`, says what is in front: it is
 * up to date when the tab event that started this fires.
 */
function revealColumn(panel: vscode.WebviewPanel, preserveFocus: boolean): vscode.ViewColumn | undefined {
  if (!preserveFocus) return undefined;
  const group = vscode.window.tabGroups.activeTabGroup;
  const front = group.activeTab?.input;
  const panelInFront = front instanceof vscode.TabInputWebview && front.viewType.endsWith(VIEW_TYPE);
  return !panelInFront && panel.viewColumn !== undefined && panel.viewColumn === group.viewColumn
    ? vscode.ViewColumn.Beside
    : undefined;
}

/** Owns the panel and its state; the webview pulls the state when it says `ready`. */
export class LensPanel extends Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private state: PanelState = { results: [], total: 0, current: 0 };
  private architecture: Promise<ArchitectureView> | undefined;
  private ready = false;
  private focusPending = false;

  private exploration: Extract<HostMessage, { type: 'exploration' }> | undefined;
  /** What a reloaded webview gets again: the model, the current image's source, the comparison. */
  private model: ModelView | undefined;
  private modelBusy: string | undefined;
  private source: { file: string; uri: vscode.Uri } | undefined;
  private comparison: Extract<HostMessage, { type: 'architectureComparison' }> | undefined;
  /** Each job section's last state, for a reloaded webview. */
  private readonly jobs = new Map<JobKind, HostMessage>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly handlers: PanelHandlers,
  ) {
    super();
    this._register(
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => this.revive(panel, state),
      }),
    );
    this._register({ dispose: () => this.panel?.dispose() });
  }

  /** Opens the panel beside the editor, or reveals it, without stealing focus when `preserveFocus`. */
  show(preserveFocus = false): void {
    if (this.panel) {
      this.panel.reveal(revealColumn(this.panel, preserveFocus), preserveFocus);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      vscode.l10n.t('CNN Lens'),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
      { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: this.resourceRoots() },
    );
    this.attach(panel);
  }

  /** Opens the panel and moves keyboard focus into the layer table. */
  /** Marks the rows the Python editor's cursor line built (none: clears the mark). */
  highlightRows(names: string[]): void {
    if (this.ready) this.post({ type: 'highlightRows', names });
  }

  showArchitecture(): void {
    this.show(false);
    if (this.ready) this.post({ type: 'focusArchitecture' });
    else this.focusPending = true;
  }

  /** The model changed: the layer table is loaded again and sent to an open panel. */
  invalidateArchitecture(): void {
    this.architecture = undefined;
    if (this.ready) void this.sendArchitecture();
  }

  /** The layer table is known already (a model was just opened): no need to ask for it. */
  setArchitecture(view: ArchitectureView): void {
    this.architecture = Promise.resolve(view);
    this.post({ type: 'architecture', architecture: view });
  }

  /** The panel's model changed or became better known. */
  setModel(model: ModelView): void {
    // Another model: the exploration of the previous one must not come back with a reloaded webview.
    if (this.model && this.model.id !== model.id) this.exploration = undefined;
    this.model = model;
    if (this.panel) this.panel.title = this.title();
    this.post({ type: 'model', model });
  }

  /** Shows or clears the line about work on the model (opening, saving). */
  setModelBusy(busy: string | undefined): void {
    this.modelBusy = busy;
    this.post({ type: 'modelBusy', busy });
  }

  /** A model could not be opened (the panel keeps the one it has). */
  showModelError(file: string, message: string): void {
    this.post({ type: 'modelError', file, message });
  }

  /** The current image's file, for the preprocessing editor's crop preview. */
  setImageSource(file: string, uri: vscode.Uri): void {
    this.source = { file, uri };
    this.postSource();
  }

  /** Architectures side by side, while they are read and timed and when done. */
  showComparison(comparison: ArchitectureComparison, busy: string | undefined): void {
    this.comparison = { type: 'architectureComparison', comparison, busy };
    this.post(this.comparison);
  }

  /**
   * A job section's state (progress, outcome); null clears the section. `requestId` is the webview request
   * that started the job (none when the host did).
   */
  setJob<K extends JobKind>(job: K, state: JobStates[K] | null, requestId?: number): void {
    const m = { type: 'job', job, state } as Extract<HostMessage, { type: 'job'; job: K }>;
    // A reloaded webview gets the state again without the id, which its requests never had.
    if (state === null) this.jobs.delete(job);
    else this.jobs.set(job, m);
    this.post(requestId === undefined ? m : { ...m, requestId });
  }

  /** Starts a new run of `total` images: the panel's results are cleared. */
  beginRun(total: number, busy: string): void {
    this.state = { results: [], total, current: 0, busy };
    this.exploration = undefined;
    // The agreement report was about the previous run's images.
    this.setJob('agreement', null);
    this.post({ type: 'run', total, busy });
  }

  /**
   * Replaces entry `index` of the run with `next` (its thumbnail, made again after a reload), unless the
   * run no longer holds `entry` (a new run began); returns whether it did.
   */
  updateEntry(index: number, entry: ImageEntry, next: ImageEntry): boolean {
    if (this.state.results[index] !== entry) return false;
    this.state.results[index] = next;
    this.post({ type: 'results', start: index, items: [next] });
    return true;
  }

  /** Appends finished entries to the run, in the order they finished. */
  addResults(items: ImageEntry[]): void {
    const start = this.state.results.length;
    this.state.results.push(...items);
    this.post({ type: 'results', start, items });
  }

  /** Shows or clears the busy line. */
  setBusy(busy: string | undefined): void {
    this.state.busy = busy;
    this.post({ type: 'status', busy });
  }

  /** Whether the panel exists (open in some tab group). */
  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  /** The run's entries so far. */
  get entries(): readonly ImageEntry[] {
    return this.state.results;
  }

  /** The current entry of the run, if any. */
  get currentEntry(): ImageEntry | undefined {
    return this.state.results[this.state.current];
  }

  /** Per-layer results for `file` (which should be the current entry). */
  showExploration(file: string, exploration: ExplorationView): void {
    this.exploration = { type: 'exploration', file, exploration };
    this.post(this.exploration);
  }

  /** Per-layer results for `file` could not be computed. */
  showExplorationError(file: string, message: string): void {
    this.post({ type: 'explorationError', file, message });
  }

  /** Makes an entry the panel's current image. */
  setCurrent(index: number): void {
    if (index < 0 || index >= this.state.results.length) return;
    this.state.current = index;
    if (this.panel) this.panel.title = this.title();
    this.post({ type: 'current', index });
  }

  /** "CNN Lens: chelsea.png", with the model's name when it is not the built-in one. */
  private title(): string {
    const entry = this.state.results[this.state.current];
    const image = entry?.file.split('/').pop();
    const model = this.model && !this.model.builtIn ? this.model.name : undefined;
    const parts = [image, model].filter(Boolean);
    return parts.length > 0 ? vscode.l10n.t('CNN Lens: {0}', parts.join(' · ')) : vscode.l10n.t('CNN Lens');
  }

  /**
   * A panel that was open before the window reloaded: the run comes back from the state its page saved
   * (checked: it is stored data), so that the restored results work as they did.
   */
  private revive(panel: vscode.WebviewPanel, state: unknown): void {
    const saved = parseSavedPanel(state);
    if (saved) {
      this.state = { results: saved.results, total: saved.results.length, current: saved.current };
    } else if (state !== undefined && state !== null) {
      log.warn('the panel’s saved state could not be read: it starts empty');
    }
    this.attach(panel);
    if (saved) this.handlers.restored(saved);
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.svg');
    panel.webview.options = { enableScripts: true, localResourceRoots: this.resourceRoots() };
    panel.webview.html = panelHtml(panel.webview, this.extensionUri);
    panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m));
    panel.onDidDispose(() => {
      if (this.panel !== panel) return;
      this.panel = undefined;
      this.ready = false;
    });
  }

  private onMessage(m: unknown): void {
    if (!isWebviewMessage(m)) {
      log.warn(`ignored malformed message from the webview: ${JSON.stringify(m)?.slice(0, 200)}`);
      return;
    }
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.replay();
        void this.sendArchitecture();
        return;
      case 'select': {
        this.setCurrent(m.index);
        const entry = this.state.results[m.index];
        if (entry) this.handlers.selected(entry);
        return;
      }
      case 'export':
        this.handlers.export(m.format, this.state.results);
        return;
      case 'command':
        this.handlers.command(m.command);
        return;
      case 'featureMaps':
        this.answer(
          m,
          this.handlers.featureMaps(m.layer, m.count, m.offset),
          // Structured clone carries the Float32Array to the webview as binary, not as JSON numbers.
          (maps) => ({ type: 'featureMaps', maps }),
          (message) => ({ type: 'featureMapsError', layer: m.layer, message }),
        );
        return;
      case 'taskMaps':
        this.answer(
          m,
          this.handlers.taskMaps(),
          ({ file, maps }) => ({ type: 'taskMaps', file, maps }),
          (message) => ({ type: 'taskMapsError', message }),
        );
        return;
      case 'boxMap':
        this.answer(
          m,
          this.handlers.boxMap(m.anchor, m.index),
          ({ file, map }) => ({ type: 'boxMap', file, map }),
          (message) => ({ type: 'boxMapError', message }),
        );
        return;
      case 'listImages':
        this.answer(m, this.handlers.listImages(), ({ files, truncated }) => ({
          type: 'images',
          files,
          truncated,
        }));
        return;
      case 'pick':
        this.handlers.pick(m.file);
        return;
      case 'openSource':
        this.handlers.openSource(m.file, m.line);
        return;
      case 'listModels':
        this.answer(m, this.handlers.listModels(), ({ models, truncated }) => ({
          type: 'models',
          models,
          truncated,
        }));
        return;
      case 'openModel':
        this.handlers.openModel(m.id);
        return;
      case 'listLabelFiles':
        this.answer(m, this.handlers.listLabelFiles(), (files) => ({ type: 'labelFiles', files }));
        return;
      case 'savePreprocessing':
        this.answer(m, this.handlers.savePreprocessing(m.preprocessing, m.labels), (outcome) =>
          'saved' in outcome
            ? { type: 'preprocessingSaved', file: outcome.saved }
            : { type: 'preprocessingError', message: outcome.error },
        );
        return;
      case 'cancelComparison':
        this.handlers.cancelComparison();
        return;
      case 'profile':
        this.handlers.profile(m.batch, m.runs, m.requestId);
        return;
      case 'compareQuantized':
        this.handlers.compareQuantized(m.requestId);
        return;
      case 'compareRunPrecisions':
        this.handlers.compareRunPrecisions(m.requestId);
        return;
      case 'setPrecision':
        this.handlers.setPrecision(m.precision);
        return;
      case 'rerun':
        this.handlers.rerun();
        return;
      case 'cancelJob':
        this.handlers.cancelJob(m.job);
        return;
      case 'listExplainableLayers':
        this.answer(
          m,
          this.handlers.explainableLayers(),
          (layers) => ({ type: 'explainableLayers', layers }),
          (message) => ({ type: 'explainableLayersError', message }),
        );
        return;
      case 'explain': {
        const { method, layer, patch, stride, channels, metrics } = m;
        this.handlers.explain({ method, layer, patch, stride, channels, metrics }, m.requestId);
        return;
      }
      case 'compare': {
        const [a, b] = m.indices.map((i) => this.state.results[i]);
        if (!a || !b) return;
        this.answer(
          m,
          this.handlers.compare([a, b]),
          (comparison) => ({ type: 'comparison', comparison }),
          (message) => ({ type: 'comparisonError', message }),
        );
        return;
      }
      default:
        m satisfies never;
    }
  }

  /**
   * Answers a request with what `work` settles with, echoing its id; a failure is answered by `failed`, or,
   * for requests that have no error reply, only logged.
   */
  private answer<T extends RequestType, V>(
    request: Extract<WebviewRequest, { type: T }>,
    work: Promise<V>,
    done: (value: V) => ReplyTo<T>,
    failed?: (message: string) => ReplyTo<T>,
  ): void {
    const { requestId } = request;
    work.then(
      (value) => this.post({ ...done(value), requestId }),
      (err: Error) => {
        if (failed) this.post({ ...failed(err.message), requestId });
        else log.error(`${request.type}: ${err.message}`);
      },
    );
  }

  /** A (re)loaded webview gets the run so far and the job sections; an empty run leaves its restored view alone. */
  private replay(): void {
    if (this.model) this.post({ type: 'model', model: this.model });
    if (this.modelBusy) this.post({ type: 'modelBusy', busy: this.modelBusy });
    if (this.comparison) this.post(this.comparison);
    this.postSource();
    const { results, total, current, busy } = this.state;
    if (total > 0) {
      this.post({ type: 'run', total, busy });
      this.post({ type: 'results', start: 0, items: results });
      this.post({ type: 'current', index: current });
      if (this.exploration) this.post(this.exploration);
    }
    // After the run: a new run clears the run's sections in the webview.
    for (const m of this.jobs.values()) this.post(m);
  }

  private async sendArchitecture(): Promise<void> {
    const pending = (this.architecture ??= this.handlers.architecture());
    try {
      const view = await pending;
      // Another model's table replaced this one meanwhile (setArchitecture): it was sent already.
      if (this.architecture === pending) this.post({ type: 'architecture', architecture: view });
    } catch (err) {
      if (this.architecture === pending) {
        this.architecture = undefined;
        log.error(`layer table: ${(err as Error).message}`);
        this.post({ type: 'architectureError', message: (err as Error).message });
      }
    }
    if (this.focusPending) {
      this.focusPending = false;
      this.post({ type: 'focusArchitecture', unlessBusy: true });
    }
  }

  /** Until the webview says `ready`, nothing is sent: `replay` then brings it up to date in one go. */
  private post(m: HostMessage): void {
    if (this.ready) void this.panel?.webview.postMessage(m);
  }

  /** The current image as a webview URL when the webview may load it (inside a workspace folder). */
  private postSource(): void {
    if (!this.source || !this.panel) return;
    const { file, uri } = this.source;
    const inside = (vscode.workspace.workspaceFolders ?? []).some((f) =>
      uri.toString().startsWith(f.uri.toString() + '/'),
    );
    this.post({
      type: 'imageSource',
      file,
      src: inside ? this.panel.webview.asWebviewUri(uri).toString() : undefined,
    });
  }

  /** The bundles and styles, and the workspace folders (for the crop preview of the current image). */
  private resourceRoots(): vscode.Uri[] {
    return [
      vscode.Uri.joinPath(this.extensionUri, 'dist'),
      vscode.Uri.joinPath(this.extensionUri, 'media'),
      ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri),
    ];
  }
}
