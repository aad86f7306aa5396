// The extension's one context object: owns the inference client, the panel's model, the panel and the
// status bar.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readSettings, type Settings } from './config';
import { classifyAll, type Outcome } from './inference/classifyAll';
import { InferenceClient } from './inference/client';
import type { WorkerConfig } from './inference/messages';
import { descriptorPathFor, loadLabels, writeDescriptorFile } from './model/descriptor';
import { log, showError } from './log';
import { LensPanel } from './panel/panel';
import { exportResults } from './panel/exportResults';
import type {
  ArchitectureView,
  ExplorationView,
  ImageEntry,
  ModelChoice,
  ModelView,
  PreprocessingView,
} from './shared/protocol';
import type { LayerTable } from './shared/layerTable';
import { CurrentImage, explorationView } from './currentImage';
import { isImagePath, readImageFile } from './model/imageFiles';
import {
  BUILT_IN_LABEL,
  Cancelled,
  compareArchitectures,
  displayPath,
  loadModel,
  missingInt8,
  modelView,
  workerConfig,
  type LoadedModel,
  type Paths,
} from './models';
import { offerQuantize, PanelJobs, setPrecision, type PanelRuntime } from './panelJobs';
import type { Precision } from './shared/quantization';
import {
  listLabelFiles,
  listWorkspaceImages,
  listWorkspaceModels,
  resolveLabelsPath,
  resolvePickedImage,
} from './workspaceImages';

/** The inference client, the configuration it was made with, and its model file. */
interface Runtime extends PanelRuntime {
  /** Where the int8 file would be when the setting asks for int8 and there is none (it runs fp32). */
  int8Missing?: string;
}

/** CNN Lens, as one object with a lifetime: created at activation, nothing heavy until first use. */
export class Lens implements vscode.Disposable {
  readonly panel: LensPanel;
  private runtime: Promise<Runtime> | undefined;
  private started: Runtime | undefined;
  private modelLoaded = false;
  /** The model the panel chose (absolute path, '' for the built-in one); undefined: the setting's. */
  private modelChoice: string | undefined;
  /** Models opened in this session, so that the picker keeps offering them (absolute paths, '' built-in). */
  private readonly openedModels = new Set<string>();
  /** Models the pickers offered (ids are absolute paths, '' the built-in): the webview can only pick these. */
  private readonly offeredModels = new Set<string>();
  /** The panel's model as last described, for the status bar. */
  private described: ModelView | undefined;
  /** The model load in flight, if any; aborting it cancels it. */
  private opening: AbortController | undefined;
  /** Settles when the model load in flight does, whatever its outcome. */
  private openingDone: Promise<unknown> | undefined;
  /** The precision setting last applied, to notice when it changes. */
  private askedPrecision: Precision = readSettings().precision;
  /** The architecture comparison in flight, if any. */
  private comparing: AbortController | undefined;
  /** The provider and precision that ran last, once known. */
  private provider: { name: string; precision: Precision } | undefined;
  private readonly currentImage: CurrentImage;
  private readonly jobs: PanelJobs;
  /** Models whose missing int8 file was pointed out already (until the precision setting changes). */
  private readonly warnedInt8 = new Set<string>();
  /** Reports a worker status line into the progress notification of the run in flight. */
  private progressNote: ((message: string) => void) | undefined;
  /** The image tab that was active at the last tab event, to react to changes only. */
  private lastActiveImage: string | undefined;
  /** The classify run in flight, if any; aborting it cancels it. */
  private currentRun: AbortController | undefined;
  /** The files of the panel's run, by their display name. */
  private runUris = new Map<string, vscode.Uri>();
  readonly paths: Paths;
  private readonly status: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(context: vscode.ExtensionContext) {
    this.paths = { bundleDir: path.join(context.extensionPath, 'dist') };
    this.panel = new LensPanel(context.extensionUri, {
      command: (command) => void vscode.commands.executeCommand(`cnnLens.${command}`),
      architecture: () => this.architecture(),
      export: (format, entries) => void exportResults(format, entries),
      selected: (entry) => void this.exploreEntry(entry),
      featureMaps: async (layer, count, offset) =>
        this.currentImage.featureMaps((await this.getRuntime()).client, layer, count, offset),
      listImages: () => listWorkspaceImages(),
      pick: (file) => void this.pick(file),
      compare: (entries) => this.compare(entries),
      listModels: () => this.listModels(),
      openModel: (id) => void this.openOffered(id),
      listLabelFiles: () => listLabelFiles(),
      savePreprocessing: (p, labels) => void this.savePreprocessing(p, labels),
      cancelComparison: () => this.comparing?.abort(),
      profile: (batch, runs) => void this.jobs.profile({ batch, runs }).catch(reportError),
      compareQuantized: () => void this.jobs.compareQuantized().catch(reportError),
      compareRunPrecisions: () => void this.jobs.compareRunPrecisions().catch(reportError),
      setPrecision: (precision) => void setPrecision(precision).catch(reportError),
      cancelJob: (job) => (job === 'quantization' ? this.jobs.closeQuantization() : this.jobs.cancel(job)),
      explainableLayers: () => this.jobs.explainableLayers(),
      explain: (request) => void this.jobs.explain(request).catch(reportError),
    });
    this.currentImage = new CurrentImage(this.panel, readUri);
    this.jobs = new PanelJobs({
      panel: this.panel,
      paths: this.paths,
      runtime: () => this.getRuntime(),
      settings: readSettings,
      currentImage: () => this.currentTarget(),
      runImages: () => this.runImages(),
      read: readUri,
      classify: (uris) => this.classify(uris),
      int8Written: () => this.applySettings(true),
    });
    this.status = vscode.window.createStatusBarItem('cnnLens.runtime', vscode.StatusBarAlignment.Right, 100);
    this.status.name = 'CNN Lens model';
    this.status.command = 'cnnLens.showRuntimeInfo';
    this.disposables.push(
      this.jobs,
      this.panel,
      this.currentImage,
      this.status,
      vscode.window.tabGroups.onDidChangeTabs(() => this.followActiveImage()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('cnnLens')) void this.applySettings();
      }),
    );
  }

  /** Classifies images and shows them in the panel; failures are listed, the others still finish. */
  async classify(uris: vscode.Uri[]): Promise<void> {
    // A new run replaces the one in flight: the panel shows one run at a time.
    this.currentRun?.abort();
    const run = new AbortController();
    this.currentRun = run;
    try {
      await this.classifyRun(uris, run);
    } finally {
      if (this.currentRun === run) this.currentRun = undefined;
    }
    const current = this.panel.currentEntry;
    if (!run.signal.aborted && current) await this.exploreEntry(current);
  }

  private async classifyRun(uris: vscode.Uri[], run: AbortController): Promise<void> {
    const settings = readSettings();
    const { client, config } = await this.getRuntime();
    if (run.signal.aborted) return;
    const names = uris.map((u) => vscode.workspace.asRelativePath(u, false));
    const cold = !this.modelLoaded;
    const many = uris.length > 1;
    const model = config.descriptor.name;
    this.panel.show(true);
    this.runUris = new Map(names.map((n, i) => [n, uris[i]]));
    this.panel.beginRun(
      uris.length,
      cold ? `Loading ${model}…` : `Classifying ${many ? `${uris.length} images` : names[0]}…`,
    );
    const { outcomes, cancelled } = await vscode.window.withProgress(
      {
        location: cold || many ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window,
        title: many ? `CNN Lens: classifying ${uris.length} images` : `CNN Lens: classifying ${names[0]}`,
        cancellable: true,
      },
      async (progress, token) => {
        if (cold) progress.report({ message: `loading ${model}…` });
        this.progressNote = (message) => progress.report({ message });
        token.onCancellationRequested(() => run.abort());
        let done = 0;
        let shown = false;
        const found = await classifyAll(
          client,
          uris.map((uri, i) => ({ name: names[i], read: () => readUri(uri) })),
          {
            topK: settings.topK,
            preview: true,
            inFlight: settings.batchSize * 2,
            signal: run.signal,
            onOutcome: (o) => {
              this.modelLoaded ||= o.error === undefined;
              if (this.currentRun !== run) return;
              done++;
              progress.report({ increment: 100 / uris.length, message: `${done} of ${uris.length}` });
              this.panel.addResults([entryOf(o)]);
              if (!shown && o.error === undefined) {
                // The first success becomes the current image; a failure only if nothing succeeds.
                shown = true;
                this.panel.setCurrent(done - 1);
              }
              if (many) this.panel.setBusy(`Classified ${done} of ${uris.length}…`);
            },
          },
        );
        this.progressNote = undefined;
        return { outcomes: found, cancelled: token.isCancellationRequested };
      },
    );
    if (this.currentRun !== run) return; // superseded by a newer run, which owns the panel now
    if (!outcomes.some((o) => o.error === undefined)) this.panel.setCurrent(0);
    this.panel.setBusy(undefined);
    this.report(outcomes, uris.length, cancelled);
  }

  /** Per-layer results and class activation maps for an entry of the run (not for failures). */
  private async exploreEntry(entry: ImageEntry): Promise<void> {
    const uri = this.runUris.get(entry.file);
    if (!uri) return;
    this.panel.setImageSource(entry.file, uri);
    if ('error' in entry) return;
    const { client, config } = await this.getRuntime();
    await this.currentImage.explore(client, modelKey(config), uri, entry.file, readSettings().topK);
    if (this.currentImage.active?.file === entry.file) this.jobs.currentImageChanged();
  }

  /** The panel's current image when it classified, with its exploration key once explored. */
  private currentTarget(): { uri: vscode.Uri; file: string; key?: string } | undefined {
    const entry = this.panel.currentEntry;
    const uri = entry && !('error' in entry) ? this.runUris.get(entry.file) : undefined;
    if (!entry || !uri) return undefined;
    const active = this.currentImage.active;
    return { uri, file: entry.file, key: active?.file === entry.file ? active.key : undefined };
  }

  /** The run's images that classified, by display name. */
  private runImages(): { file: string; uri: vscode.Uri }[] {
    return this.panel.entries.flatMap((e) => {
      const uri = this.runUris.get(e.file);
      return uri && !('error' in e) ? [{ file: e.file, uri }] : [];
    });
  }

  /** Profiles the panel's model (the Command Palette's "Profile Model"). */
  profile(): Promise<void> {
    return this.jobs.profile();
  }

  /** Quantizes the panel's model with a folder's images. */
  quantizeFolder(folder: vscode.Uri, images: vscode.Uri[]): Promise<void> {
    return this.jobs.quantizeFolder(folder, images);
  }

  /** Explorations of two entries of the run, for the side-by-side view. */
  private async compare(
    entries: [ImageEntry, ImageEntry],
  ): Promise<{ file: string; exploration: ExplorationView }[]> {
    const { client, config } = await this.getRuntime();
    const topK = readSettings().topK;
    return Promise.all(
      entries.map(async (e) => {
        const uri = this.runUris.get(e.file);
        if (!uri || 'error' in e)
          throw new Error(`${e.file} could not be classified, so it cannot be compared`);
        const x = await this.currentImage.lookup(client, modelKey(config), uri, e.file, topK);
        return { file: e.file, exploration: explorationView(x) };
      }),
    );
  }

  /** A workspace image picked in the panel; the webview's path is checked before anything is read. */
  private async pick(file: string): Promise<void> {
    const uri = await resolvePickedImage(file);
    if (!uri) {
      log.warn(
        `refused a panel request for ${JSON.stringify(file).slice(0, 300)}: not an image inside the workspace`,
      );
      void showError(`CNN Lens: ${file} is not an image inside the workspace folders.`);
      return;
    }
    await this.classify([uri]);
  }

  /** With the panel open, an image opened in an editor becomes the current image. */
  private followActiveImage(): void {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const uri = input instanceof vscode.TabInputCustom && isImagePath(input.uri.path) ? input.uri : undefined;
    // Tab events fire for many reasons (the panel opening, a tab moving): act only when the active
    // image changes, never during a run, and not for an image the run already holds.
    const key = uri?.toString();
    if (key === this.lastActiveImage || this.currentRun) return;
    this.lastActiveImage = key;
    if (!uri || !this.panel.isOpen || !readSettings().followActiveImage) return;
    if ([...this.runUris.values()].some((u) => u.toString() === key)) return;
    void this.classify([uri]).catch((err: Error) => log.error(`following the active image: ${err.message}`));
  }

  /** Runtime facts for the "Show Runtime Info" command (loads the model if needed). */
  async runtimeInfo(): Promise<string> {
    const { client } = await this.getRuntime();
    const info = await client.runtimeInfo();
    this.modelLoaded = true;
    this.showProvider(info.provider, info.precision);
    const tried = info.attempts.map((a) => `  ${a.provider}: ${a.ok ? 'ok' : `unavailable — ${a.reason}`}`);
    const why = info.precisionReason ?? this.precisionNote(this.started);
    return [
      `onnxruntime-node ${info.onnxruntime}`,
      `backends compiled in: ${info.available.map((b) => `${b.name}${b.bundled ? '' : ' (needs install)'}`).join(', ')}`,
      `execution provider: ${info.provider}`,
      `precision: ${info.precision}${why ? ` (${why})` : ''}`,
      'providers tried:',
      ...tried,
      `threads: ${info.threads}`,
      `session created in ${info.ms.create.toFixed(0)} ms, warm-up ${info.ms.warmup.toFixed(0)} ms`,
      `model: ${info.model}`,
    ].join('\n');
  }

  /** The layer table of the panel's model; also describes the model to the panel once its table is read. */
  private async architecture(): Promise<ArchitectureView> {
    // The panel opening for "Open in CNN Lens" asks before the model is loaded: wait for it rather than
    // loading the previous model for nothing.
    await this.openingDone;
    const runtime = await this.getRuntime();
    const table = await runtime.client.layers();
    if (this.started === runtime) await this.describe(runtime, table);
    return { model: runtime.config.descriptor.name, table };
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
    this.panel.setModelBusy(`Opening ${label}…`);
    let loaded: LoadedModel | undefined;
    try {
      const loading = vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `CNN Lens: opening ${label}`,
          cancellable: true,
        },
        (progress, token) => {
          token.onCancellationRequested(() => abort.abort());
          return loadModel(this.paths, readSettings(), file, {
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
      void showError(`CNN Lens: cannot open ${label}: ${message}`);
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
    await this.reclassifyCurrent();
    return true;
  }

  /** A loaded model becomes the panel's: the old client goes, cached explorations are forgotten. */
  private async adopt(loaded: LoadedModel): Promise<void> {
    this.currentRun?.abort();
    const old = this.started;
    const int8Missing = await missingInt8(readSettings(), loaded.file);
    const runtime: Runtime = { client: loaded.client, config: loaded.config, file: loaded.file, int8Missing };
    this.started = runtime;
    this.runtime = Promise.resolve(runtime);
    void old?.client.dispose();
    this.modelChoice = loaded.file;
    this.openedModels.add(loaded.file);
    this.modelLoaded = true;
    this.provider = { name: loaded.provider, precision: loaded.config.precision ?? 'fp32' };
    this.currentImage.clear();
    this.jobs.modelChanged();
    this.warnMissingInt8(runtime);
    await this.describe(runtime, loaded.table);
    this.panel.setArchitecture({ model: loaded.config.descriptor.name, table: loaded.table });
  }

  /** The panel's current image, classified again (with the model just opened or re-configured). */
  private async reclassifyCurrent(): Promise<void> {
    const current = this.panel.currentEntry;
    const uri = current && this.runUris.get(current.file);
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
    const choices: ModelChoice[] = [{ id: '', label: BUILT_IN_LABEL, detail: 'bundled with CNN Lens' }];
    const workspace = new Set(files.map((f) => f.uri.fsPath));
    const current = this.started?.file ?? this.modelChoice;
    for (const file of this.openedModels) {
      if (file && !workspace.has(file)) {
        choices.push({ id: file, label: displayPath(file), detail: 'opened before, outside the workspace' });
      }
    }
    if (current && !workspace.has(current) && !this.openedModels.has(current)) {
      choices.push({
        id: current,
        label: displayPath(current),
        detail: 'from the cnnLens.modelPath setting',
      });
    }
    for (const f of files) choices.push({ id: f.uri.fsPath, label: f.relative, detail: 'workspace' });
    // Every model ever offered stays pickable: a panel may still show an older list.
    for (const c of choices) this.offeredModels.add(c.id);
    return { models: choices, truncated };
  }

  /**
   * Saves the panel's preprocessing (and labels file) as `<model>.json` beside the model, then reloads the
   * model and re-classifies the current image. Labels are checked first; if the model no longer loads
   * with the new file, the previous file is put back.
   */
  private async savePreprocessing(p: PreprocessingView, labels: string): Promise<void> {
    const file = this.started?.file;
    if (!file) {
      this.panel.preprocessingResult(
        file === undefined
          ? 'the model is not loaded yet'
          : 'the built-in model’s preprocessing is part of CNN Lens and cannot be changed',
      );
      return;
    }
    const target = descriptorPathFor(file);
    let written = false;
    try {
      let labelsFile: string | undefined;
      if (labels) {
        labelsFile = await resolveLabelsPath(labels);
        if (!labelsFile) {
          throw new Error(`labels file ${labels} does not exist (a workspace path or an absolute one)`);
        }
        const names = await loadLabels(labelsFile);
        const classes = this.described?.labels.count;
        if (classes && names.length !== classes) {
          throw new Error(`${labels} names ${names.length} classes, but the model outputs ${classes}`);
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
        this.panel.preprocessingResult(
          `the model did not load with the new ${path.basename(target)}, so it was not kept`,
        );
        return;
      }
      this.panel.preprocessingResult(undefined, displayPath(target));
    } catch (err) {
      const message = (err as Error).message;
      this.panel.preprocessingResult(message);
      const what = written
        ? `reload ${displayPath(file)} after saving`
        : `save the preprocessing of ${displayPath(file)}`;
      void showError(`CNN Lens: cannot ${what}: ${message}`);
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
        title: `CNN Lens: comparing ${files.length} models`,
        cancellable: true,
      },
      async (progress, token) => {
        token.onCancellationRequested(() => abort.abort());
        const result = await compareArchitectures(this.paths, settings, files, {
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
        if (failed.length > 0 && this.comparing === abort) {
          void showError(
            `CNN Lens: ${failed.map((m) => m.file).join(', ')} could not be read: ${failed[0].error}`,
          );
        }
      },
    );
    if (this.comparing === abort) this.comparing = undefined;
  }

  /** The panel's model file (absolute path, '' for the built-in one), once it is known. */
  get modelInUse(): string | undefined {
    return this.started?.file ?? this.modelChoice;
  }

  /** Test hook: whether the inference worker has been started. */
  get inferenceStarted(): boolean {
    return this.started?.client.started ?? false;
  }

  dispose(): void {
    this.opening?.abort();
    this.jobs.dispose();
    this.comparing?.abort();
    void this.started?.client.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private report(outcomes: Outcome[], requested: number, cancelled: boolean): void {
    const ok = outcomes.filter((o) => o.error === undefined);
    const failed = outcomes.filter((o) => o.error !== undefined);
    for (const f of failed) log.error(`cannot classify ${f.name}: ${f.error}`);
    if (ok[0]?.result) {
      const top = ok[0].result.top[0];
      this.showProvider(ok[0].result.provider, ok[0].result.precision);
      const summary = `${path.basename(ok[0].name)}: ${top.label} (${(top.probability * 100).toFixed(1)}%)`;
      vscode.window.setStatusBarMessage(`$(check) CNN Lens: ${summary}`, 15_000);
      log.info(`classified ${ok.map((o) => o.name).join(', ')}`);
    }
    if (cancelled) {
      void vscode.window.showInformationMessage(
        `CNN Lens: cancelled; ${outcomes.length} of ${requested} images were classified and are shown.`,
      );
    }
    if (failed.length === 1)
      void showError(`CNN Lens: cannot classify ${failed[0].name}: ${failed[0].error}`);
    else if (failed.length > 1)
      void showError(`CNN Lens: ${failed.length} of ${requested} images could not be classified.`);
  }

  /** The model file the panel runs: its own choice, else the setting ('' is the built-in model). */
  private modelFile(settings: Settings): string {
    return this.modelChoice ?? (settings.modelPath ? path.resolve(settings.modelPath) : '');
  }

  /**
   * The client and its configuration, made on first use; a failed attempt is retried next time. A model
   * opened meanwhile wins: its runtime is returned instead.
   */
  private getRuntime(): Promise<Runtime> {
    if (this.runtime) return this.runtime;
    const settings = readSettings();
    const file = this.modelFile(settings);
    const pending: Promise<Runtime> = Promise.all([
      workerConfig(this.paths, settings, file),
      missingInt8(settings, file),
    ]).then(
      ([config, int8Missing]) => {
        if (this.runtime !== pending && this.runtime) return this.runtime;
        const workerPath = path.join(this.paths.bundleDir, 'worker.js');
        const client = new InferenceClient(
          workerPath,
          config,
          (m) => log.info(m),
          (m) => {
            this.progressNote?.(m);
            this.panel.setBusy(m);
          },
        );
        this.started = { client, config, file, int8Missing };
        this.warnMissingInt8(this.started);
        return this.started;
      },
      (err: Error) => {
        if (this.runtime === pending) this.runtime = undefined;
        throw err;
      },
    );
    this.runtime = pending;
    return pending;
  }

  /**
   * Settings changed (or the model's int8 file was written): the client restarts with the new
   * configuration; when the model, its precision or its provider changed (or the int8 file it runs was
   * rewritten), the current image is classified again.
   */
  private async applySettings(int8Written = false): Promise<void> {
    const started = this.started;
    const settings = readSettings();
    if (settings.precision !== this.askedPrecision) this.warnedInt8.clear();
    this.askedPrecision = settings.precision;
    if (!started) return;
    try {
      const file = this.modelFile(settings);
      const [config, int8Missing] = await Promise.all([
        workerConfig(this.paths, settings, file),
        missingInt8(settings, file),
      ]);
      if (this.started !== started) return; // a model was opened meanwhile, with these settings
      started.client.reconfigure(config);
      this.started = { client: started.client, config, file, int8Missing };
      this.runtime = Promise.resolve(this.started);
      this.modelLoaded = false;
      this.provider = undefined;
      this.panel.invalidateArchitecture();
      log.info('settings changed: the model will be reloaded on next use');
      this.warnMissingInt8(this.started);
      // What ran before no longer applies when the model, its precision or what runs it changed: the
      // explorations, profile and comparisons go, and the current image is classified again.
      const changed =
        (int8Written && config.precision === 'int8') ||
        file !== started.file ||
        config.precision !== started.config.precision ||
        config.provider !== started.config.provider ||
        config.threads !== started.config.threads;
      if (changed) {
        this.currentImage.clear();
        this.jobs.modelChanged();
        await this.reclassifyCurrent();
      }
    } catch (err) {
      void showError(`CNN Lens: ${(err as Error).message}`);
    }
  }

  /** Why the panel's model runs fp32 though int8 was asked for (no int8 file); null when it does not. */
  private precisionNote(runtime: Runtime | undefined): string | null {
    if (!runtime?.int8Missing) return null;
    return (
      `int8 was asked for, but ${path.basename(runtime.int8Missing)} does not exist beside the model, so it ` +
      'runs fp32; "Quantize with Images from this Folder" makes one'
    );
  }

  /** Points out, once per model, that the int8 model asked for is missing, offering to make it. */
  private warnMissingInt8(runtime: Runtime): void {
    if (!runtime.int8Missing || this.warnedInt8.has(runtime.file)) return;
    this.warnedInt8.add(runtime.file);
    log.warn(`${this.precisionNote(runtime)}`);
    void offerQuantize(
      `${displayPath(runtime.file)} has no int8 model (${path.basename(runtime.int8Missing)}), so it runs fp32`,
    );
  }

  /** Tells the panel (and the status bar) what the model is. */
  private async describe(runtime: Runtime, table: LayerTable): Promise<void> {
    this.described = await modelView(
      runtime.file,
      runtime.config,
      table,
      readSettings().precision,
      this.precisionNote(runtime),
    );
    this.panel.setModel(this.described);
    this.showStatus();
  }

  private showProvider(name: string, precision: Precision | undefined): void {
    this.provider = { name, precision: precision ?? 'fp32' };
    this.showStatus();
  }

  /** "$(circuit-board) mobilenet_v2.onnx · MobileNet V2: cpu · int8" once the model or its provider is known. */
  private showStatus(): void {
    const name = this.described?.name ?? this.started?.config.descriptor.name;
    if (!name) return;
    const family = this.described?.family;
    const what = family ? `${name} · ${family}` : name;
    const ran = this.provider ? `${this.provider.name} · ${this.provider.precision}` : undefined;
    this.status.text = `$(circuit-board) ${what}${ran ? `: ${ran}` : ''}`;
    this.status.tooltip =
      `CNN Lens runs ${name}${family ? ` (${family}${this.described?.depth ? `, ${this.described.depth}` : ''})` : ''}` +
      `${this.provider ? ` on ${this.provider.name} at ${this.provider.precision}` : ''}. Click for runtime info.`;
    this.status.show();
  }
}

/** Names a model and the precision it runs at, for the current image's cache. */
function modelKey(config: WorkerConfig): { path: string; precision: Precision } {
  return { path: config.descriptor.modelPath, precision: config.precision ?? 'fp32' };
}

/** A panel request that failed before its job could say so itself. */
function reportError(err: Error): void {
  void showError(`CNN Lens: ${err.message}`);
}

/** Local files through Node (its errors name the cause); other schemes through VS Code's file system. */
async function readUri(uri: vscode.Uri): Promise<Uint8Array> {
  return uri.scheme === 'file' ? readImageFile(uri.fsPath) : vscode.workspace.fs.readFile(uri);
}

function entryOf(o: Outcome): ImageEntry {
  if (o.error !== undefined) return { file: o.name, error: o.error };
  const r = o.result;
  return {
    file: o.name,
    top: r.top,
    provider: r.provider,
    precision: r.precision,
    ms: r.ms,
    width: r.width,
    height: r.height,
    preview: r.preview ? `data:image/jpeg;base64,${Buffer.from(r.preview).toString('base64')}` : undefined,
  };
}
