// The extension's one context object: owns the inference client, the panel and the status bar.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readSettings, type Settings } from './config';
import { classifyAll, type Outcome } from './inference/classifyAll';
import { InferenceClient } from './inference/client';
import type { WorkerConfig } from './inference/messages';
import { resolveDescriptor } from './model/loadModel';
import { log, showError } from './log';
import { LensPanel } from './panel/panel';
import { exportResults } from './panel/exportResults';
import type { ArchitectureView, ExplorationView, ImageEntry } from './shared/protocol';
import { CurrentImage, explorationView } from './currentImage';
import { isImagePath, readImageFile } from './model/imageFiles';
import { listWorkspaceImages, resolvePickedImage } from './workspaceImages';

/** The inference client and the configuration it was made with. */
interface Runtime {
  client: InferenceClient;
  config: WorkerConfig;
}

/** CNN Lens, as one object with a lifetime: created at activation, nothing heavy until first use. */
export class Lens implements vscode.Disposable {
  readonly panel: LensPanel;
  private runtime: Promise<Runtime> | undefined;
  private started: Runtime | undefined;
  private modelLoaded = false;
  private readonly currentImage: CurrentImage;
  /** Reports a worker status line into the progress notification of the run in flight. */
  private progressNote: ((message: string) => void) | undefined;
  /** The image tab that was active at the last tab event, to react to changes only. */
  private lastActiveImage: string | undefined;
  /** The classify run in flight, if any; aborting it cancels it. */
  private currentRun: AbortController | undefined;
  /** The files of the panel's run, by their display name. */
  private runUris = new Map<string, vscode.Uri>();
  private readonly status: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly context: vscode.ExtensionContext) {
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
    });
    this.currentImage = new CurrentImage(this.panel, readUri);
    this.status = vscode.window.createStatusBarItem('cnnLens.runtime', vscode.StatusBarAlignment.Right, 100);
    this.status.name = 'CNN Lens runtime';
    this.status.command = 'cnnLens.showRuntimeInfo';
    this.disposables.push(
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
    const { client } = await this.getRuntime();
    if (run.signal.aborted) return;
    const names = uris.map((u) => vscode.workspace.asRelativePath(u, false));
    const cold = !this.modelLoaded;
    const many = uris.length > 1;
    this.panel.show(true);
    this.runUris = new Map(names.map((n, i) => [n, uris[i]]));
    this.panel.beginRun(
      uris.length,
      cold ? 'Loading ResNet50…' : `Classifying ${many ? `${uris.length} images` : names[0]}…`,
    );
    const { outcomes, cancelled } = await vscode.window.withProgress(
      {
        location: cold || many ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window,
        title: many ? `CNN Lens: classifying ${uris.length} images` : `CNN Lens: classifying ${names[0]}`,
        cancellable: true,
      },
      async (progress, token) => {
        if (cold) progress.report({ message: 'loading the model…' });
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
    if (!uri || 'error' in entry) return;
    const { client, config } = await this.getRuntime();
    await this.currentImage.explore(
      client,
      config.descriptor.modelPath,
      uri,
      entry.file,
      readSettings().topK,
    );
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
        const x = await this.currentImage.lookup(client, config.descriptor.modelPath, uri, e.file, topK);
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
    this.showProvider(info.provider);
    const tried = info.attempts.map((a) => `  ${a.provider}: ${a.ok ? 'ok' : `unavailable — ${a.reason}`}`);
    return [
      `onnxruntime-node ${info.onnxruntime}`,
      `backends compiled in: ${info.available.map((b) => `${b.name}${b.bundled ? '' : ' (needs install)'}`).join(', ')}`,
      `execution provider: ${info.provider}`,
      'providers tried:',
      ...tried,
      `threads: ${info.threads}`,
      `session created in ${info.ms.create.toFixed(0)} ms, warm-up ${info.ms.warmup.toFixed(0)} ms`,
      `model: ${info.model}`,
    ].join('\n');
  }

  /** The layer table of the configured model, for the panel. */
  private async architecture(): Promise<ArchitectureView> {
    const { client, config } = await this.getRuntime();
    return { model: config.descriptor.name, table: await client.layers() };
  }

  /** Test hook: whether the inference worker has been started. */
  get inferenceStarted(): boolean {
    return this.started?.client.started ?? false;
  }

  dispose(): void {
    void this.started?.client.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private report(outcomes: Outcome[], requested: number, cancelled: boolean): void {
    const ok = outcomes.filter((o) => o.error === undefined);
    const failed = outcomes.filter((o) => o.error !== undefined);
    for (const f of failed) log.error(`cannot classify ${f.name}: ${f.error}`);
    if (ok[0]?.result) {
      const top = ok[0].result.top[0];
      this.showProvider(ok[0].result.provider);
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

  /** The client and its configuration, made on first use; a failed attempt is retried next time. */
  private getRuntime(): Promise<Runtime> {
    this.runtime ??= this.workerConfig(readSettings()).then(
      (config) => {
        const workerPath = path.join(this.context.extensionPath, 'dist', 'worker.js');
        const client = new InferenceClient(
          workerPath,
          config,
          (m) => log.info(m),
          (m) => {
            this.progressNote?.(m);
            this.panel.setBusy(m);
          },
        );
        this.started = { client, config };
        return this.started;
      },
      (err: Error) => {
        this.runtime = undefined;
        throw err;
      },
    );
    return this.runtime;
  }

  private async workerConfig(s: Settings): Promise<WorkerConfig> {
    const descriptor = await resolveDescriptor(
      path.join(this.context.extensionPath, 'dist'),
      s.modelPath,
      s.modelPreprocessing,
    );
    return {
      descriptor,
      provider: s.executionProvider,
      threads: s.threads,
      batchSize: s.batchSize,
      maxPixels: s.maxPixels,
    };
  }

  private async applySettings(): Promise<void> {
    const started = this.started;
    if (!started) return;
    try {
      const config = await this.workerConfig(readSettings());
      started.client.reconfigure(config);
      this.started = { client: started.client, config };
      this.runtime = Promise.resolve(this.started);
      this.modelLoaded = false;
      this.status.hide();
      this.currentImage.clear();
      this.panel.invalidateArchitecture();
      log.info('settings changed: the model will be reloaded on next use');
    } catch (err) {
      void showError(`CNN Lens: ${(err as Error).message}`);
    }
  }

  private showProvider(provider: string): void {
    this.status.text = `$(circuit-board) ResNet50: ${provider}`;
    this.status.tooltip = `CNN Lens runs ResNet50 on ${provider}. Click for runtime info.`;
    this.status.show();
  }
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
    ms: r.ms,
    width: r.width,
    height: r.height,
    preview: r.preview ? `data:image/jpeg;base64,${Buffer.from(r.preview).toString('base64')}` : undefined,
  };
}
