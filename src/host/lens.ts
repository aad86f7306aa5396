// The extension's one context object: owns the panel, the runtime, classify runs, the current image and the
// panel's jobs, and answers what the panel asks.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BoxMap, TaskMaps } from '../shared/tasks';
import { loadLabels, writeDescriptorFile } from '../files/descriptorFile';
import { descriptorPathFor } from '../model/descriptor';
import type { Preprocessing } from '../shared/preprocessing';
import type { ArchitectureView, ComparisonView, ImageEntry, ModelChoice } from '../shared/protocol';
import { layerSimilarity } from '../shared/exploration';
import type { SavedPanel } from '../shared/savedPanel';
import { ClassifyRuns, uriOf } from './classifyRuns';
import { readSettings } from './config';
import { CurrentImage, explorationView, modelKey } from './currentImage';
import { Disposable } from './disposable';
import { ActiveImageFollower } from './followActiveImage';
import { log, showError } from './log';
import {
  BUILT_IN_LABEL,
  Cancelled,
  compareArchitectures,
  displayPath,
  loadModel,
  type LoadedModel,
} from './models';
import { jpegDataUrl } from './panel/dataUrl';
import { exportResults } from './panel/exportResults';
import { LensPanel } from './panel/panel';
import { PanelJobs } from './panelJobs';
import { setPrecision } from './precisionSetting';
import { LensRuntime } from './runtime';
import { openSource } from './python/sourceLinks';
import {
  listLabelFiles,
  listWorkspaceImages,
  listWorkspaceModels,
  readUri,
  resolveLabelsPath,
  resolvePickedImage,
} from './workspaceImages';

/** CNN Lens, as one object with a lifetime: created at activation, nothing heavy until first use. */
export class Lens extends Disposable {
  readonly panel: LensPanel;
  private readonly runtime: LensRuntime;
  private readonly runs: ClassifyRuns;
  private readonly currentImage: CurrentImage;
  private readonly jobs: PanelJobs;
  /** Models the pickers offered (ids are absolute paths, '' the built-in): the webview can only pick these. */
  private readonly offeredModels = new Set<string>();
  /** The model load in flight, if any; aborting it cancels it. */
  private opening: AbortController | undefined;
  /** Settles when the model load in flight does, whatever its outcome. */
  private openingDone: Promise<unknown> | undefined;
  /** The architecture comparison in flight, if any. */
  private comparing: AbortController | undefined;
  /** Settles when the last settings change has been applied. */
  private settingsApplied: Promise<void> = Promise.resolve();

  constructor(context: Pick<vscode.ExtensionContext, 'extensionPath' | 'extensionUri'>) {
    super();
    this.panel = this._register(
      new LensPanel(context.extensionUri, {
        command: (command) => void vscode.commands.executeCommand(`cnnLens.${command}`),
        architecture: () => this.architecture(),
        export: (format, entries) => void exportResults(format, entries),
        selected: (entry) => void this.exploreEntry(entry),
        featureMaps: async (layer, count, offset) =>
          this.currentImage.featureMaps((await this.runtime.get()).client, layer, count, offset),
        taskMaps: () => this.taskMaps(),
        boxMap: (anchor, index) => this.boxMap(anchor, index),
        listImages: () => listWorkspaceImages(),
        pick: (file) => void this.pick(file),
        openSource: (file, line) => void openSource(file, line),
        compare: (entries) => this.compare(entries),
        rerun: () => void this.rerun().catch(reportError),
        listModels: () => this.listModels(),
        openModel: (id) => void this.openOffered(id),
        listLabelFiles: () => listLabelFiles(),
        savePreprocessing: (p, labels) => this.savePreprocessing(p, labels),
        cancelComparison: () => this.comparing?.abort(),
        profile: (batch, runs, requestId) =>
          void this.jobs.profile({ batch, runs }, requestId).catch(reportError),
        compareQuantized: (requestId) => void this.jobs.compareQuantized(requestId).catch(reportError),
        compareRunPrecisions: (requestId) =>
          void this.jobs.compareRunPrecisions(requestId).catch(reportError),
        setPrecision: (precision) => void setPrecision(precision).catch(reportError),
        cancelJob: (job) => (job === 'quantization' ? this.jobs.closeQuantization() : this.jobs.cancel(job)),
        explainableLayers: () => this.jobs.explainableLayers(),
        explain: (request, requestId) => void this.jobs.explain(request, requestId).catch(reportError),
        restored: (saved) => void this.restore(saved).catch(reportError),
      }),
    );
    this.runtime = this._register(
      new LensRuntime({ bundleDir: path.join(context.extensionPath, 'dist') }, (m) => {
        this.runs.note(m);
        this.panel.setBusy(m);
      }),
    );
    this.runs = this._register(new ClassifyRuns(this.panel, this.runtime));
    this.currentImage = this._register(new CurrentImage(this.panel, readUri));
    this.jobs = this._register(
      new PanelJobs({
        panel: this.panel,
        paths: this.runtime.paths,
        runtime: () => this.runtime.get(),
        settings: readSettings,
        currentImage: () => this.currentTarget(),
        runImages: () => this.runs.images(),
        read: readUri,
        classify: (uris) => this.classify(uris),
        int8Written: () => this.applySettings(true),
      }),
    );
    this._register(
      new ActiveImageFollower({
        panelOpen: () => this.panel.isOpen,
        running: () => this.runs.busy,
        holds: (uri) => this.runs.holds(uri),
        classify: (uri) => this.classify([uri]),
      }),
    );
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('cnnLens')) this.settingsApplied = this.applySettings().catch(reportError);
      }),
    );
    this._register({
      dispose: () => {
        this.opening?.abort();
        this.comparing?.abort();
      },
    });
  }

  /** Classifies images as a new run of the panel, then explores its current image. */
  async classify(uris: vscode.Uri[]): Promise<void> {
    const finished = await this.runs.classify(uris);
    const current = this.panel.currentEntry;
    if (finished && current) await this.exploreEntry(current);
  }

  /** Profiles the panel's model (the Command Palette's "Profile Model"). */
  profile(): Promise<void> {
    return this.jobs.profile();
  }

  /** Quantizes the panel's model with a folder's images. */
  quantizeFolder(folder: vscode.Uri, images: vscode.Uri[]): Promise<void> {
    return this.jobs.quantizeFolder(folder, images);
  }

  /** Runtime facts for the "Show Runtime Info" command (loads the model if needed). */
  async runtimeInfo(): Promise<string> {
    const { client } = await this.runtime.get();
    const info = await client.runtimeInfo();
    this.runtime.markLoaded();
    this.runtime.showProvider(info.provider, info.precision);
    const tried = info.attempts.map((a) => `  ${a.provider}: ${a.ok ? 'ok' : `unavailable — ${a.reason}`}`);
    const why = info.precisionReason ?? this.runtime.precisionNote();
    return [
      `onnxruntime-node ${info.onnxruntime}`,
      `backends compiled in: ${info.available.map((b) => `${b.name}${b.bundled ? '' : ' (needs install)'}`).join(', ')}`,
      `execution provider: ${info.provider}`,
      `precision: ${info.precision}${why ? ` (${why})` : ''}`,
      'providers tried:',
      ...tried,
      `threads: ${info.threads} (intra-op; 0 in the settings means every CPU this process may use)`,
      `CPU: ${info.cpu}`,
      `session created in ${info.ms.create.toFixed(0)} ms, warm-up ${info.ms.warmup.toFixed(0)} ms`,
      `model: ${info.model}`,
    ].join('\n');
  }

  /**
   * Makes `file` (absolute path, '' for the built-in model) the panel's model. It is loaded and checked in
   * a client of its own first (progress with Cancel); only then does it replace the current model, whose
   * cached explorations go. A model that fails leaves everything as it was and says why, in the panel and
   * in a notification. Returns whether the model was opened.
   */
  async openModel(file: string): Promise<boolean> {
    const label = file ? displayPath(file) : BUILT_IN_LABEL;
    this.opening?.abort();
    const abort = new AbortController();
    this.opening = abort;
    this.panel.show(true);
    this.panel.setModelBusy(vscode.l10n.t('Opening {0}…', label));
    let loaded: LoadedModel | undefined;
    try {
      const loading = vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: vscode.l10n.t('CNN Lens: opening {0}', label),
          cancellable: true,
        },
        (progress, token) => {
          token.onCancellationRequested(() => abort.abort());
          return loadModel(this.runtime.paths, readSettings(), file, {
            signal: abort.signal,
            report: (message) => progress.report({ message }),
            log: (m) => log.info(m),
            status: (m) => progress.report({ message: m }),
          });
        },
      );
      this.openingDone = Promise.resolve(loading).catch(() => undefined);
      loaded = await loading;
    } catch (err) {
      if (this.opening === abort) this.panel.setModelBusy(undefined);
      if (err instanceof Cancelled) {
        log.info(`opening ${label} was cancelled; the panel keeps its model`);
        return false;
      }
      const message = (err as Error).message;
      this.panel.showModelError(label, message);
      void showError(vscode.l10n.t('CNN Lens: cannot open {0}: {1}', label, message));
      return false;
    } finally {
      if (this.opening === abort) this.opening = undefined;
    }
    if (abort.signal.aborted) {
      void loaded.client.dispose();
      return false;
    }
    await this.adopt(loaded);
    this.panel.setModelBusy(undefined);
    log.info(`opened ${label} (${loaded.table.family}, ${loaded.table.depth}) on ${loaded.provider}`);
    const { unread } = loaded.config.descriptor;
    if (unread !== undefined) {
      void vscode.window.showWarningMessage(
        vscode.l10n.t('CNN Lens: {0} opened for its layer table and profile only: {1}', label, unread),
      );
    }
    await this.reclassifyCurrent();
    return true;
  }

  /**
   * The window reloaded with the panel open, and the panel has its run back: the model it had chosen is
   * chosen again, the current image explored again, and the thumbnails (never saved) made again.
   */
  private async restore(saved: SavedPanel): Promise<void> {
    if (saved.model !== undefined) {
      // The layer table waits for the model, as for a model being opened.
      this.openingDone = this.runtime.restoreChoice(saved.model);
      await this.openingDone;
    }
    const current = this.panel.currentEntry;
    if (current) await this.exploreEntry(current);
    const { client } = await this.runtime.get();
    for (const [index, entry] of [...this.panel.entries].entries()) {
      if ('error' in entry || entry.preview) continue;
      try {
        const preview = jpegDataUrl(await client.preview(entry.file, await readUri(uriOf(entry))));
        if (!this.panel.updateEntry(index, entry, { ...entry, preview })) return; // a new run replaced it
      } catch (err) {
        log.info(`no thumbnail for ${entry.file}: ${(err as Error).message}`);
      }
    }
  }

  /** A loaded model becomes the panel's: the old client goes, cached explorations are forgotten. */
  private async adopt(loaded: LoadedModel): Promise<void> {
    this.runs.cancel();
    const runtime = await this.runtime.adopt(loaded);
    this.currentImage.clear();
    this.jobs.modelChanged();
    this.panel.setModel(await this.runtime.describe(runtime, loaded.table));
    this.panel.setArchitecture({ model: loaded.config.descriptor.name, table: loaded.table });
  }

  /** The panel's current image, classified again (with the model just opened or re-configured). */
  private async reclassifyCurrent(): Promise<void> {
    const current = this.panel.currentEntry;
    const uri = current && uriOf(current);
    if (uri) await this.classify([uri]);
  }

  /** A model the panel's picker offered. */
  private async openOffered(id: string): Promise<void> {
    if (!this.offeredModels.has(id)) {
      log.warn(`refused a panel request for model ${JSON.stringify(id).slice(0, 300)}: not offered`);
      return;
    }
    await this.openModel(id);
  }

  /** The built-in model, the models opened before, and the workspace's .onnx files. */
  async listModels(): Promise<{ models: ModelChoice[]; truncated: boolean }> {
    const { files, truncated } = await listWorkspaceModels();
    const choices: ModelChoice[] = [
      { id: '', label: BUILT_IN_LABEL, detail: vscode.l10n.t('bundled with CNN Lens') },
    ];
    const workspace = new Set(files.map((f) => f.uri.fsPath));
    const current = this.runtime.modelInUse;
    for (const file of this.runtime.opened) {
      if (file && !workspace.has(file)) {
        choices.push({
          id: file,
          label: displayPath(file),
          detail: vscode.l10n.t('opened before, outside the workspace'),
        });
      }
    }
    if (current && !workspace.has(current) && !this.runtime.opened.has(current)) {
      choices.push({
        id: current,
        label: displayPath(current),
        detail: vscode.l10n.t('from the cnnLens.modelPath setting'),
      });
    }
    const inWorkspace = vscode.l10n.t('workspace');
    for (const f of files) choices.push({ id: f.uri.fsPath, label: f.relative, detail: inWorkspace });
    // Every model ever offered stays pickable: a panel may still show an older list.
    for (const c of choices) this.offeredModels.add(c.id);
    return { models: choices, truncated };
  }

  /**
   * Saves the panel's preprocessing (and labels file) as `<model>.json` beside the model, then reloads the
   * model and re-classifies the current image. Labels are checked first; if the model no longer loads
   * with the new file, the previous file is put back.
   */
  private async savePreprocessing(
    p: Preprocessing,
    labels: string,
  ): Promise<{ saved: string } | { error: string }> {
    const file = this.runtime.current?.file;
    if (!file) {
      return {
        error:
          file === undefined
            ? vscode.l10n.t('the model is not loaded yet')
            : vscode.l10n.t('the built-in model’s preprocessing is part of CNN Lens and cannot be changed'),
      };
    }
    const target = descriptorPathFor(file);
    let written = false;
    try {
      let labelsFile: string | undefined;
      if (labels) {
        labelsFile = await resolveLabelsPath(labels);
        if (!labelsFile) {
          throw new Error(
            vscode.l10n.t('labels file {0} does not exist (a workspace path or an absolute one)', labels),
          );
        }
        const names = await loadLabels(labelsFile);
        const classes = this.runtime.model?.labels.count;
        if (classes && names.length !== classes) {
          throw new Error(
            vscode.l10n.t('{0} names {1} classes, but the model outputs {2}', labels, names.length, classes),
          );
        }
      }
      const previous = await fs.readFile(target).catch(() => undefined);
      await writeDescriptorFile(file, { preprocessing: p, ...(labelsFile !== undefined && { labelsFile }) });
      written = true;
      log.info(`saved ${target}`);
      if (!(await this.openModel(file))) {
        // The model did not load with it (openModel said why): put the previous descriptor back.
        if (previous) await fs.writeFile(target, previous);
        else await fs.rm(target, { force: true });
        log.info(`restored the previous state of ${target}`);
        return {
          error: vscode.l10n.t(
            'the model did not load with the new {0}, so it was not kept',
            path.basename(target),
          ),
        };
      }
      return { saved: displayPath(target) };
    } catch (err) {
      const message = (err as Error).message;
      void showError(
        written
          ? vscode.l10n.t('CNN Lens: cannot reload {0} after saving: {1}', displayPath(file), message)
          : vscode.l10n.t('CNN Lens: cannot save the preprocessing of {0}: {1}', displayPath(file), message),
      );
      return { error: message };
    }
  }

  /**
   * Side by side: each model's layer table and its ms/image at batch 1 and 8 on this machine, each in a
   * temporary client (progress with Cancel, in a notification and in the panel).
   */
  async compareArchitectures(files: string[]): Promise<void> {
    this.comparing?.abort();
    const abort = new AbortController();
    this.comparing = abort;
    this.panel.show(true);
    const settings = readSettings();
    await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('CNN Lens: comparing {0} models', files.length),
        cancellable: true,
      },
      async (progress, token) => {
        token.onCancellationRequested(() => abort.abort());
        const result = await compareArchitectures(this.runtime.paths, settings, files, {
          signal: abort.signal,
          log: (m) => log.info(m),
          update: (comparison, busy) => {
            if (this.comparing !== abort) return;
            if (busy) progress.report({ message: busy });
            this.panel.showComparison(comparison, busy);
          },
        });
        for (const m of result.models) {
          if (m.error) log.error(`comparing ${m.file}: ${m.error}`);
          if (m.timingError) log.error(`timing ${m.file}: ${m.timingError}`);
        }
        const failed = result.models.filter((m) => m.error);
        const [first] = failed;
        if (first && this.comparing === abort) {
          void showError(
            vscode.l10n.t(
              'CNN Lens: {0} could not be read: {1}',
              failed.map((m) => m.file).join(', '),
              first.error ?? '',
            ),
          );
        }
      },
    );
    if (this.comparing === abort) this.comparing = undefined;
  }

  /** The panel's model file (absolute path, '' for the built-in one), once it is known. */
  get modelInUse(): string | undefined {
    return this.runtime.modelInUse;
  }

  /** Test hook: whether the inference worker has been started. */
  get inferenceStarted(): boolean {
    return this.runtime.workerStarted;
  }

  /** Test hook: how many inference workers the panel's client has started. */
  get workersStarted(): number {
    return this.runtime.workersStarted;
  }

  /** Test hook: settles when the last settings change has been applied. */
  settled(): Promise<void> {
    return this.settingsApplied;
  }

  /** Per-layer results and class activation maps for an entry of the run (not for failures). */
  private async exploreEntry(entry: ImageEntry): Promise<void> {
    const uri = uriOf(entry);
    if (!uri) return;
    this.panel.setImageSource(entry.file, uri);
    // A detector's or segmenter's answer is its result; per-layer exploration is for classifiers.
    if ('error' in entry || entry.found) return;
    const { client, config } = await this.runtime.get();
    await this.currentImage.explore(client, modelKey(config), uri, entry.file, readSettings().topK);
    if (this.currentImage.active?.file === entry.file) this.jobs.currentImageChanged();
  }

  /** EigenCAM of the panel's detector or segmenter for its current image. */
  private async taskMaps(): Promise<{ file: string; maps: TaskMaps }> {
    const target = this.currentTarget();
    if (!target) throw new Error(vscode.l10n.t('no image is shown: classify one first'));
    const { client } = await this.runtime.get();
    return { file: target.file, maps: await client.taskMaps(target.file, await readUri(target.uri)) };
  }

  /** Grad-CAM of one detection of the panel's current image. */
  private async boxMap(anchor: number, index: number): Promise<{ file: string; map: BoxMap }> {
    const target = this.currentTarget();
    if (!target) throw new Error(vscode.l10n.t('no image is shown: classify one first'));
    const { client } = await this.runtime.get();
    return {
      file: target.file,
      map: await client.boxMap(target.file, await readUri(target.uri), { anchor, index }),
    };
  }

  /** The panel's current image when it classified, with its exploration key once explored. */
  private currentTarget(): { uri: vscode.Uri; file: string; key?: string } | undefined {
    const entry = this.panel.currentEntry;
    const uri = entry && !('error' in entry) ? uriOf(entry) : undefined;
    if (!entry || !uri) return undefined;
    const active = this.currentImage.active;
    return { uri, file: entry.file, key: active?.file === entry.file ? active.key : undefined };
  }

  /** Explorations of two entries of the run, for the side-by-side view. */
  private async compare(entries: [ImageEntry, ImageEntry]): Promise<ComparisonView> {
    const { client, config } = await this.runtime.get();
    const topK = readSettings().topK;
    const [a, b] = await Promise.all(
      entries.map(async (e) => {
        const uri = uriOf(e);
        if (!uri || 'error' in e)
          throw new Error(vscode.l10n.t('{0} could not be classified, so it cannot be compared', e.file));
        return {
          file: e.file,
          x: await this.currentImage.lookup(client, modelKey(config), uri, e.file, topK),
        };
      }),
    );
    return {
      items: [a!, b!].map((i) => ({ file: i.file, exploration: explorationView(i.x) })),
      similarity: layerSimilarity(a!.x.layers, b!.x.layers),
    };
  }

  /** A workspace image picked in the panel; the webview's path is checked before anything is read. */
  private async pick(file: string): Promise<void> {
    const uri = await resolvePickedImage(file);
    if (!uri) {
      log.warn(
        `refused a panel request for ${JSON.stringify(file).slice(0, 300)}: not an image inside the workspace`,
      );
      void showError(vscode.l10n.t('CNN Lens: {0} is not an image inside the workspace folders.', file));
      return;
    }
    await this.classify([uri]);
  }

  /** The layer table of the panel's model; also describes the model to the panel once its table is read. */
  private async architecture(): Promise<ArchitectureView> {
    // The panel opening for "Open in CNN Lens" asks before the model is loaded: wait for it rather than
    // loading the previous model for nothing.
    await this.openingDone;
    const runtime = await this.runtime.get();
    const table = await runtime.client.layers();
    if (this.runtime.current === runtime) this.panel.setModel(await this.runtime.describe(runtime, table));
    return { model: runtime.config.descriptor.name, table };
  }

  /**
   * Settings changed (or the model's int8 file was written): the runtime restarts; when the model, its
   * precision or what runs it changed, what ran before goes and the current image is classified again.
   */
  private async applySettings(int8Written = false): Promise<void> {
    const restart = await this.runtime.applySettings(int8Written);
    if (!restart) return;
    this.panel.invalidateArchitecture();
    if (!restart.modelChanged) return;
    this.currentImage.clear();
    if (!restart.fileChanged) {
      // The same model at another precision or on another provider: the results, the comparison and the
      // explanations stay, labelled with the precision they ran at, and the panel offers to re-run (#19).
      this.jobs.precisionChanged();
      return;
    }
    this.jobs.modelChanged();
    await this.reclassifyCurrent();
  }

  /** Classifies the run's images again with the panel's model as it now runs (the panel's "Re-run"). */
  private async rerun(): Promise<void> {
    const uris = this.panel.entries.flatMap((e) => uriOf(e) ?? []);
    if (uris.length > 0) await this.classify(uris);
  }
}

/** A panel request that failed before its job could say so itself. */
function reportError(err: Error): void {
  void showError(vscode.l10n.t('CNN Lens: {0}', err.message));
}
