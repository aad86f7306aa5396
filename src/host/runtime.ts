// The panel's inference runtime: the client for the panel's model, made on first use, restarted when the
// settings it was made with change, replaced when another model is opened; and the status bar item that
// says which model runs, where and at what precision.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { InferenceClient } from '../inference/client';
import type { WorkerConfig } from '../inference/messages';
import type { LayerTable } from '../shared/layerTable';
import type { ModelView } from '../shared/protocol';
import type { Precision } from '../shared/quantization';
import { readSettings, type Settings } from './config';
import { Disposable } from './disposable';
import { log, showError } from './log';
import { displayPath, missingInt8, modelView, workerConfig, type LoadedModel, type Paths } from './models';
import type { PanelRuntime } from './panelJobs';
import { offerQuantize } from './precisionSetting';

/** The inference client, the configuration it was made with, and its model file. */
export interface Runtime extends PanelRuntime {
  /** Where the int8 file would be when the setting asks for int8 and there is none (it runs fp32). */
  int8Missing?: string;
}

/** What changed when the runtime restarted. */
export interface Restart {
  /** The model, its precision or what runs it changed: what ran before no longer applies. */
  modelChanged: boolean;
  /** The model file itself changed (not only its precision or what runs it). */
  fileChanged: boolean;
}

/** The panel's runtime and the status bar item that describes it. */
export class LensRuntime extends Disposable {
  private pending: Promise<Runtime> | undefined;
  private started: Runtime | undefined;
  private loaded = false;
  /** The model the panel chose (absolute path, '' for the built-in one); undefined: the setting's. */
  private choice: string | undefined;
  /** Models opened in this session, so that the picker keeps offering them (absolute paths, '' built-in). */
  readonly opened = new Set<string>();
  /** The precision setting last applied, to notice when it changes. */
  private askedPrecision: Precision = readSettings().precision;
  /** Models whose missing int8 file was pointed out already (until the precision setting changes). */
  private readonly warnedInt8 = new Set<string>();
  /** The panel's model as last described, and the provider and precision that ran last, once known. */
  private described: ModelView | undefined;
  private provider: { name: string; precision: Precision } | undefined;
  private readonly status: vscode.StatusBarItem;

  constructor(
    readonly paths: Paths,
    /** A worker status line ("Preparing the GPU…"), for the progress displays. */
    private readonly onStatus: (message: string) => void,
  ) {
    super();
    this.status = this._register(
      vscode.window.createStatusBarItem('cnnLens.runtime', vscode.StatusBarAlignment.Right, 100),
    );
    this.status.name = vscode.l10n.t('CNN Lens model');
    this.status.command = 'cnnLens.showRuntimeInfo';
    this._register({ dispose: () => void this.started?.client.dispose() });
  }

  /**
   * The client and its configuration, made on first use; a failed attempt is retried next time. A model
   * opened meanwhile wins: its runtime is returned instead.
   */
  get(): Promise<Runtime> {
    if (this.pending) return this.pending;
    const settings = readSettings();
    const file = this.modelFile(settings);
    const pending: Promise<Runtime> = Promise.all([
      workerConfig(this.paths, settings, file),
      missingInt8(settings, file),
    ]).then(
      ([config, int8Missing]) => {
        if (this.pending !== pending && this.pending) return this.pending;
        const workerPath = path.join(this.paths.bundleDir, 'worker.js');
        const client = new InferenceClient(workerPath, config, (m) => log.info(m), this.onStatus);
        this.started = { client, config, file, int8Missing };
        this.warnMissingInt8(this.started);
        return this.started;
      },
      (err: Error) => {
        if (this.pending === pending) this.pending = undefined;
        throw err;
      },
    );
    this.pending = pending;
    return pending;
  }

  /** The runtime once made, if it has been. */
  get current(): Runtime | undefined {
    return this.started;
  }

  /** The panel's model file (absolute path, '' for the built-in one), once it is known. */
  get modelInUse(): string | undefined {
    return this.started?.file ?? this.choice;
  }

  /** Whether the model has run once (later runs are not cold). */
  get warm(): boolean {
    return this.loaded;
  }

  /** The model ran: later runs are not cold. */
  markLoaded(): void {
    this.loaded = true;
  }

  /** Whether the inference worker has been started. */
  get workerStarted(): boolean {
    return this.started?.client.started ?? false;
  }

  /** How many workers the client has started (a restart starts another on next use). */
  get workersStarted(): number {
    return this.started?.client.workersStarted ?? 0;
  }

  /**
   * The model the panel had chosen before the window reloaded ('' for the built-in one) becomes its choice
   * again, unless the runtime is made already or the file has gone (the setting's model runs then).
   */
  async restoreChoice(file: string): Promise<void> {
    const found =
      file === '' ||
      (await fs.stat(file).then(
        (s) => s.isFile(),
        () => false,
      ));
    if (this.pending || this.choice !== undefined) return;
    if (!found) {
      log.warn(`the panel's model ${file} is gone: the panel runs the setting's model`);
      return;
    }
    this.choice = file;
    this.opened.add(file);
  }

  /** A model loaded and checked in a client of its own becomes the panel's; the old client goes. */
  async adopt(model: LoadedModel): Promise<Runtime> {
    const old = this.started;
    const int8Missing = await missingInt8(readSettings(), model.file);
    const runtime: Runtime = { client: model.client, config: model.config, file: model.file, int8Missing };
    this.started = runtime;
    this.pending = Promise.resolve(runtime);
    void old?.client.dispose();
    this.choice = model.file;
    this.opened.add(model.file);
    this.loaded = true;
    this.provider = { name: model.provider, precision: model.config.precision ?? 'fp32' };
    this.warnMissingInt8(runtime);
    return runtime;
  }

  /**
   * Settings changed (or the model's int8 file was written). The client restarts only when the worker was
   * made with something that changed (provider, threads, batch size, the model, its preprocessing or
   * precision, or the int8 file it runs); a new pixel limit applies to the running worker, and settings
   * read per request (topK, followActiveImage) need nothing. Returns what changed when it restarted.
   */
  async applySettings(int8Written = false): Promise<Restart | undefined> {
    const started = this.started;
    const settings = readSettings();
    if (settings.precision !== this.askedPrecision) this.warnedInt8.clear();
    this.askedPrecision = settings.precision;
    if (!started) return undefined;
    try {
      const file = this.modelFile(settings);
      const [config, int8Missing] = await Promise.all([
        workerConfig(this.paths, settings, file),
        missingInt8(settings, file),
      ]);
      if (this.started !== started) return undefined; // a model was opened meanwhile, with these settings
      if (!int8Written && sameWorker(config, started.config)) {
        if (config.maxPixels !== started.config.maxPixels) started.client.setMaxPixels(config.maxPixels);
        this.started = { ...started, config, int8Missing };
        this.pending = Promise.resolve(this.started);
        // int8 asked for a model without an int8 file (or asked no more): the same fp32 worker runs, but the
        // panel's precision note and the offer to quantize must follow (#19).
        if (int8Missing === started.int8Missing) return undefined;
        this.warnMissingInt8(this.started);
        return { modelChanged: false, fileChanged: false };
      }
      started.client.reconfigure(config);
      this.started = { client: started.client, config, file, int8Missing };
      this.pending = Promise.resolve(this.started);
      this.loaded = false;
      this.provider = undefined;
      log.info('settings changed: the model will be reloaded on next use');
      this.warnMissingInt8(this.started);
      const modelChanged =
        (int8Written && config.precision === 'int8') ||
        file !== started.file ||
        config.precision !== started.config.precision ||
        config.provider !== started.config.provider ||
        config.threads !== started.config.threads;
      return { modelChanged, fileChanged: file !== started.file };
    } catch (err) {
      void showError(vscode.l10n.t('CNN Lens: {0}', (err as Error).message));
      return undefined;
    }
  }

  /** Describes the panel's model (with its layer table once read) and shows it in the status bar. */
  async describe(runtime: Runtime, table: LayerTable): Promise<ModelView> {
    this.described = await modelView(
      runtime.file,
      runtime.config,
      table,
      readSettings().precision,
      this.precisionNote(runtime),
      this.choice !== undefined,
    );
    this.showStatus();
    return this.described;
  }

  /** The panel's model as last described. */
  get model(): ModelView | undefined {
    return this.described;
  }

  /** The provider and precision that ran. */
  showProvider(name: string, precision: Precision | undefined): void {
    this.provider = { name, precision: precision ?? 'fp32' };
    this.showStatus();
  }

  /** Why the panel's model runs fp32 though int8 was asked for (no int8 file); null when it does not. */
  precisionNote(runtime: Runtime | undefined = this.started): string | null {
    if (!runtime?.int8Missing) return null;
    return vscode.l10n.t(
      'int8 was asked for, but {0} does not exist beside the model, so it runs fp32; "Quantize with Images from this Folder" makes one',
      path.basename(runtime.int8Missing),
    );
  }

  /** The model file the panel runs: its own choice, else the setting ('' is the built-in model). */
  private modelFile(settings: Settings): string {
    return this.choice ?? (settings.modelPath ? path.resolve(settings.modelPath) : '');
  }

  /** Points out, once per model, that the int8 model asked for is missing, offering to make it. */
  private warnMissingInt8(runtime: Runtime): void {
    if (!runtime.int8Missing || this.warnedInt8.has(runtime.file)) return;
    this.warnedInt8.add(runtime.file);
    log.warn(`${this.precisionNote(runtime)}`);
    void offerQuantize(
      vscode.l10n.t(
        '{0} has no int8 model ({1}), so it runs fp32',
        displayPath(runtime.file),
        path.basename(runtime.int8Missing),
      ),
    );
  }

  /** "$(circuit-board) mobilenet_v2.onnx · MobileNet V2: cpu · int8" once the model or its provider is known. */
  private showStatus(): void {
    const name = this.described?.name ?? this.started?.config.descriptor.name;
    if (!name) return;
    const family = this.described?.family;
    const what = family ? `${name} · ${family}` : name;
    const ran = this.provider ? `${this.provider.name} · ${this.provider.precision}` : undefined;
    this.status.text = `$(circuit-board) ${what}${ran ? `: ${ran}` : ''}`;
    const depth = this.described?.depth;
    const model = family ? `${name} (${family}${depth ? `, ${depth}` : ''})` : name;
    this.status.tooltip = this.provider
      ? vscode.l10n.t(
          'CNN Lens runs {0} on {1} at {2}. Click for runtime info.',
          model,
          this.provider.name,
          this.provider.precision,
        )
      : vscode.l10n.t('CNN Lens runs {0}. Click for runtime info.', model);
    this.status.show();
  }
}

/** Whether a worker made with `a` runs as one made with `b` would: they differ in the pixel limit at most. */
function sameWorker(a: WorkerConfig, b: WorkerConfig): boolean {
  return JSON.stringify({ ...a, maxPixels: 0 }) === JSON.stringify({ ...b, maxPixels: 0 });
}
