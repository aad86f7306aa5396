// The panel's long jobs on the panel's model: where the time goes (profile), the current image and the
// run's images at fp32 and int8, and quantizing the model with a folder's images. Each shows its progress
// in a notification with Cancel and in its panel section, and its outcome in that section.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Settings } from './config';
import { comparePrecisionsAll, inFlightFor } from '../inference/classifyAll';
import { InferenceClient, InferenceError } from '../inference/client';
import type { WorkerConfig } from '../inference/messages';
import { Disposable } from './disposable';
import { log, showError } from './log';
import { BUILT_IN_LABEL, displayPath, missingInt8, workerConfig, type Paths } from './models';
import type { LensPanel } from './panel/panel';
import { offerQuantize, setPrecision } from './precisionSetting';
import type { ExplainableLayer, ExplainMethod, Explanation } from '../shared/exploration';
import type { Profile } from '../shared/profile';
import { rowNameByNode } from '../shared/layerTable';
import {
  agreement,
  tooFewForAgreement,
  type QuantizeProgress,
  type QuantizationReport,
} from '../shared/quantization';
import type { ExplainRequestView, JobKind, JobProgress, JobStates } from '../shared/protocol';

/** The inference client the panel runs, the configuration it was made with, and its model file. */
export interface PanelRuntime {
  client: InferenceClient;
  config: WorkerConfig;
  /** Absolute path, '' for the built-in model. */
  file: string;
}

/** What the jobs need of the rest of the extension (the Lens implements it). */
export interface JobHost {
  readonly panel: LensPanel;
  readonly paths: Paths;
  runtime(): Promise<PanelRuntime>;
  settings(): Settings;
  /**
   * The panel's current image, once classified; `key` names it in the worker once it has been explored
   * (the caches use it), undefined while its exploration is under way.
   */
  currentImage(): { uri: vscode.Uri; file: string; key?: string } | undefined;
  /** The run's images that classified, in order, by display name. */
  runImages(): { file: string; uri: vscode.Uri }[];
  read(uri: vscode.Uri): Promise<Uint8Array>;
  /** Classifies images as a new run of the panel. */
  classify(uris: vscode.Uri[]): Promise<void>;
  /** The model's int8 file changed on disk: a runtime that runs it must load it again. */
  int8Written(): Promise<void>;
}

/** Profile options the panel used last (the Command Palette profiles with them too). */
const DEFAULT_PROFILE = { batch: 1, runs: 10 };

/** Quantization phases in words, and the share of the whole job each takes. */
const PHASES: Record<QuantizeProgress['phase'], { words: string; from: number; share: number }> = {
  ranges: { words: vscode.l10n.t('calibrating: activation ranges'), from: 0, share: 0.4 },
  histograms: { words: vscode.l10n.t('calibrating: histograms'), from: 0.4, share: 0.4 },
  writing: { words: vscode.l10n.t('writing the int8 model'), from: 0.8, share: 0.05 },
  evaluating: {
    words: vscode.l10n.t('checking fp32 against int8 on the held-back images'),
    from: 0.85,
    share: 0.15,
  },
};

/** Each explanation method's name in messages (the names of methods stay as their papers spell them). */
const METHOD_NAMES: Record<ExplainMethod, string> = {
  cam: 'CAM',
  gradcam: 'Grad-CAM',
  hirescam: 'HiResCAM',
  occlusion: vscode.l10n.t('occlusion'),
  scorecam: 'Score-CAM',
};

/** Explanations kept, by image and request, so that going back to a method or layer is instant. */
const EXPLANATIONS_KEPT = 16;

/** Owns the jobs in flight (one per kind) and what their sections show. */
export class PanelJobs extends Disposable {
  private readonly inFlight = new Map<JobKind, AbortController>();
  private profileOptions = DEFAULT_PROFILE;
  /** The last fp32/int8 report for the current image, by the exploration key of the image. */
  private quantized: { key: string; report: QuantizationReport } | undefined;
  /** Once the user compared precisions for an image, each new current image is compared too. */
  private followQuantization = false;
  /** The image the last comparison of precisions was asked for. */
  private quantizationFor: string | undefined;
  /** The panel's model's explainable layers, asked for once per model. */
  private layers: Promise<ExplainableLayer[]> | undefined;
  /** Recent explanations by image key and request. */
  private readonly explanations = new Map<string, Explanation>();

  constructor(private readonly host: JobHost) {
    super();
    this._register({ dispose: () => this.inFlight.forEach((abort) => abort.abort()) });
  }

  /** Stops a job in progress (the panel's Cancel); its section says so. */
  cancel(kind: JobKind): void {
    this.inFlight.get(kind)?.abort();
  }

  /** Stops a job in progress that a newer answer replaces; its section is left to the newer one. */
  private supersede(kind: JobKind): void {
    this.inFlight.get(kind)?.abort();
    this.inFlight.delete(kind);
  }

  /** The panel's model or precision changed: results of the old one no longer apply. */
  modelChanged(): void {
    for (const kind of ['profile', 'quantization', 'agreement', 'explain'] as const) {
      this.inFlight.get(kind)?.abort();
      this.host.panel.setJob(kind, null);
    }
    this.quantized = undefined;
    this.followQuantization = false;
    this.quantizationFor = undefined;
    this.layers = undefined;
    this.explanations.clear();
  }

  /**
   * The panel's model runs at another precision or on another provider: work in flight stops (it would
   * land labelled with the new one); what finished stays, each section saying what it ran at.
   */
  precisionChanged(): void {
    for (const kind of ['profile', 'quantization', 'agreement', 'explain'] as const) {
      const running = this.inFlight.get(kind);
      if (!running) continue;
      running.abort();
      this.host.panel.setJob(kind, null);
    }
    this.followQuantization = false;
  }

  /** The stages and blocks of the panel's model that explanations can use (asked for once per model). */
  explainableLayers(): Promise<ExplainableLayer[]> {
    const pending = (this.layers ??= this.host.runtime().then((r) => r.client.explainableLayers()));
    pending.catch(() => {
      if (this.layers === pending) this.layers = undefined;
    });
    return pending;
  }

  /**
   * Explains the current image's top classes with one method at one layer (and, on request, how faithful
   * each map is beside a random map's). Quick maps show a status-bar spinner; slow ones (occlusion,
   * Score-CAM, faithfulness) a notification; both with Cancel in the panel.
   */
  async explain(request: ExplainRequestView, requestId?: number): Promise<void> {
    const current = this.host.currentImage();
    if (!current) {
      const message = vscode.l10n.t('classify an image first: explanations are of the current image');
      this.host.panel.setJob('explain', { status: 'failed', file: '', request, message }, requestId);
      return;
    }
    const { file, uri, key } = current;
    const cacheKey = key && `${key}\n${JSON.stringify(request)}`;
    const kept = cacheKey ? this.explanations.get(cacheKey) : undefined;
    if (kept) {
      // An explanation still running would otherwise land after this one.
      this.supersede('explain');
      this.host.panel.setJob('explain', { status: 'done', file, request, explanation: kept }, requestId);
      return;
    }
    const runtime = await this.host.runtime();
    const method = METHOD_NAMES[request.method];
    // `where` is for the log, which stays English; `what` is the same in the user's language.
    const where = request.method === 'occlusion' ? '' : ` at ${request.layer ?? 'its default layer'}`;
    const what =
      request.method === 'occlusion'
        ? method
        : vscode.l10n.t('{0} at {1}', method, request.layer ?? vscode.l10n.t('its default layer'));
    const slow = request.metrics || request.method === 'occlusion' || request.method === 'scorecam';
    const explanation = await this.track(
      'explain',
      request.metrics
        ? vscode.l10n.t('CNN Lens: {0} for {1}, with faithfulness', method, file)
        : vscode.l10n.t('CNN Lens: {0} for {1}', method, file),
      async (signal, note) => {
        note(
          request.metrics
            ? vscode.l10n.t(
                '{0}, then deletion and insertion curves for each map and a random one (about 40 images per class)…',
                what,
              )
            : vscode.l10n.t('{0}…', what),
        );
        const bytes = await this.host.read(uri);
        return runtime.client.explain(
          { name: file, bytes },
          {
            method: request.method,
            ...(request.layer !== null && { layer: request.layer }),
            ...(request.patch !== undefined && { patch: request.patch }),
            ...(request.stride !== undefined && { stride: request.stride }),
            ...(request.channels !== undefined && { channels: request.channels }),
            classes: this.host.settings().topK,
            metrics: request.metrics,
            signal,
          },
        );
      },
      (p) => ({ ...p, file, request }),
      { location: slow ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window, requestId },
    );
    if (!explanation) return;
    if (cacheKey) {
      this.explanations.delete(cacheKey);
      this.explanations.set(cacheKey, explanation);
      if (this.explanations.size > EXPLANATIONS_KEPT) {
        this.explanations.delete(this.explanations.keys().next().value!);
      }
    }
    this.host.panel.setJob('explain', { status: 'done', file, request, explanation }, requestId);
    log.info(
      `${method} for ${file}${where}: ${explanation.classes.length} maps ${explanation.rows}×${explanation.cols}` +
        (explanation.reason ? ` (${explanation.reason})` : '') +
        `, ${explanation.scored} images scored, ${explanation.ms.total.toFixed(0)} ms`,
    );
  }

  /** Profiles the panel's model (onnxruntime's profiler in sessions of their own). */
  async profile(
    opts: { batch: number; runs: number } = this.profileOptions,
    requestId?: number,
  ): Promise<void> {
    this.profileOptions = opts;
    const { client, config } = await this.host.runtime();
    const model = config.descriptor.name;
    this.host.panel.show(true);
    const profile = await this.track(
      'profile',
      vscode.l10n.t('CNN Lens: profiling {0}', model),
      async (signal, report) => {
        report(
          vscode.l10n.t(
            'profiling {0}, batch {1}, {2} runs: creating a profiled and a plain session, then running them in turn…',
            model,
            opts.batch,
            opts.runs,
          ),
        );
        return client.profile({ ...opts, signal });
      },
      (p) => p,
      { requestId },
    );
    if (profile) this.host.panel.setJob('profile', { status: 'done', profile }, requestId);
    if (profile) log.info(profileSummary(profile));
  }

  /** The current image at fp32 and int8, row by row (two CPU exploration sessions). */
  async compareQuantized(requestId?: number): Promise<void> {
    const current = this.host.currentImage();
    if (!current) {
      const message = vscode.l10n.t('classify an image first: the comparison runs on the current image');
      this.host.panel.setJob('quantization', { status: 'failed', file: '', message }, requestId);
      return;
    }
    this.followQuantization = true;
    const { file, uri, key } = current;
    this.quantizationFor = file;
    if (key && this.quantized?.key === key) {
      this.supersede('quantization');
      this.host.panel.setJob(
        'quantization',
        { status: 'done', file, report: this.quantized.report },
        requestId,
      );
      return;
    }
    const runtime = await this.host.runtime();
    if (await this.refuseWithoutInt8(runtime, 'quantization', file, requestId)) return;
    const report = await this.track(
      'quantization',
      vscode.l10n.t('CNN Lens: {0} at fp32 and int8', file),
      async (signal, note) => {
        note(vscode.l10n.t('running {0} at fp32 and at int8 (CPU), comparing every layer…', file));
        const bytes = await this.host.read(uri);
        return runtime.client.compareQuantized(file, bytes, { topK: this.host.settings().topK, signal });
      },
      (p) => ({ ...p, file }),
      { location: vscode.ProgressLocation.Window, requestId },
    );
    if (!report) return;
    if (key) this.quantized = { key, report };
    this.host.panel.setJob('quantization', { status: 'done', file, report }, requestId);
  }

  /** A new current image was explored: compare it too when the user asked for the comparison before. */
  currentImageChanged(): void {
    const file = this.host.currentImage()?.file;
    if (this.followQuantization && file !== this.quantizationFor) void this.compareQuantized();
  }

  /** Stops following the current image with fp32/int8 comparisons (the section was closed). */
  closeQuantization(): void {
    this.followQuantization = false;
    this.cancel('quantization');
  }

  /** The run's images at fp32 and int8: top-1 agreement, mean |Δp|, the images that changed class. */
  async compareRunPrecisions(requestId?: number): Promise<void> {
    const images = this.host.runImages();
    if (images.length === 0) {
      const message = vscode.l10n.t('no classified images in this run to compare');
      this.host.panel.setJob('agreement', { status: 'failed', message }, requestId);
      return;
    }
    const runtime = await this.host.runtime();
    if (await this.refuseWithoutInt8(runtime, 'agreement', '', requestId)) return;
    const settings = this.host.settings();
    let cancelled = false;
    const outcomes = await this.track(
      'agreement',
      vscode.l10n.t('CNN Lens: {0} images at fp32 and int8', images.length),
      async (signal, report) => {
        report(vscode.l10n.t('{0} of {1} images', 0, images.length), 0);
        let done = 0;
        const found = await comparePrecisionsAll(
          runtime.client,
          images.map((i) => ({ name: i.file, read: () => this.host.read(i.uri) })),
          {
            topK: settings.topK,
            inFlight: inFlightFor(settings.batchSize),
            signal,
            onOutcome: () => {
              done++;
              report(vscode.l10n.t('{0} of {1} images', done, images.length), done / images.length);
            },
          },
        );
        // Cancelling keeps what finished: the report covers those images and says so.
        cancelled = signal.aborted;
        return found;
      },
      (p) => p,
      { keepCancelled: true, requestId },
    );
    if (!outcomes) return;
    const pairs = outcomes.flatMap((o) => (o.result ? [o.result] : []));
    const failed = outcomes.flatMap((o) => (o.error !== undefined ? [{ file: o.name, error: o.error }] : []));
    for (const f of failed) log.error(`fp32/int8 comparison of ${f.file}: ${f.error}`);
    const report = agreement(pairs);
    this.host.panel.setJob('agreement', { status: 'done', report, failed, cancelled }, requestId);
    log.info(
      `fp32 vs int8 on ${report.images} images: top-1 agreement ${pct(report.top1_agreement)}, ` +
        `${report.changed.length} changed class`,
    );
  }

  /**
   * Calibrates the panel's model on a folder's images in a client of its own (the panel keeps running),
   * writes `<model>.int8.onnx`, reports fp32 against int8 on the images held back from calibration and
   * offers to switch to int8. The built-in model has its int8 model already: it offers a comparison instead.
   */
  async quantizeFolder(folder: vscode.Uri, images: vscode.Uri[]): Promise<void> {
    const settings = this.host.settings();
    const runtime = await this.host.runtime();
    const { file, config: current } = runtime;
    const folderName = vscode.workspace.asRelativePath(folder, false);
    if (!file) {
      const compare = vscode.l10n.t('Compare fp32 and int8 on this Folder');
      const choice = await vscode.window.showInformationMessage(
        vscode.l10n.t(
          'CNN Lens: {0} comes with its int8 model (models/resnet50.int8.onnx, calibrated on the photos in models/calibration), so there is nothing to quantize. Open your own model to quantize it, or see how int8 does on {1}.',
          BUILT_IN_LABEL,
          folderName,
        ),
        compare,
      );
      if (choice === compare) {
        await this.host.classify(images);
        await this.compareRunPrecisions();
      }
      return;
    }
    if (current.descriptor.precision === 'int8') {
      void showError(
        vscode.l10n.t('CNN Lens: {0} is an int8 model already: quantize its float model.', displayPath(file)),
      );
      return;
    }
    const names = new Map(images.map((u) => [u.fsPath, vscode.workspace.asRelativePath(u, false)]));
    const label = displayPath(file);
    this.host.panel.show(true);
    let client: InferenceClient | undefined;
    const report = await this.track(
      'quantize',
      vscode.l10n.t('CNN Lens: quantizing {0} with {1}', label, folderName),
      async (signal, note) => {
        note(vscode.l10n.t('reading {0}…', label), 0);
        // fp32 whatever the setting: the float model is what gets calibrated.
        const config = await workerConfig(this.host.paths, { ...settings, precision: 'fp32' }, file);
        client = new InferenceClient(path.join(this.host.paths.bundleDir, 'worker.js'), config, (m) =>
          log.info(m),
        );
        return client.quantizeModel({
          images: images.map((u) => u.fsPath),
          signal,
          onProgress: (p) => {
            const phase = PHASES[p.phase];
            const within = p.total > 0 ? p.done / p.total : 0;
            const words =
              p.phase === 'writing'
                ? phase.words
                : vscode.l10n.t('{0}, {1} of {2} images', phase.words, p.done, p.total);
            note(words, phase.from + phase.share * within);
          },
        });
      },
      (p) => ({ ...p, folder: folderName }),
    ).finally(() => void client?.dispose());
    if (!report) return;
    const rename = (n: string): string => names.get(n) ?? path.basename(n);
    // The layers left in float by their table names (the model quantized, even if the panel moved on).
    const rows = await runtime.client.layers().then(rowNameByNode, (err: Error) => {
      log.info(`quantize report: ONNX node names kept, no layer table (${err.message})`);
      return new Map<string, string>();
    });
    const named = {
      ...report,
      float_nodes: report.float_nodes.map((n) => rows.get(n) ?? n),
      calibration: { ...report.calibration, images: report.calibration.images.map(rename) },
      held_out: report.held_out.map(rename),
      skipped: report.skipped.map((s) => ({ ...s, name: rename(s.name) })),
      agreement: {
        ...report.agreement,
        changed: report.agreement.changed.map((c) => ({ ...c, name: rename(c.name) })),
      },
    };
    const int8Active = this.host.settings().precision === 'int8';
    const out = displayPath(report.out);
    this.host.panel.setJob('quantize', {
      status: 'done',
      folder: folderName,
      out,
      model: label,
      report: named,
      int8Active,
    });
    this.quantized = undefined;
    await this.host.int8Written();
    const a = report.agreement;
    const kept = a.images - a.changed.length;
    const summary = tooFewForAgreement(a)
      ? vscode.l10n.t(
          'n = {0}: too few held-back images to measure agreement with fp32 ({1} of {0} kept the top-1 class)',
          a.images,
          kept,
        )
      : a.images > 0
        ? vscode.l10n.t(
            'top-1 agreement with fp32 {0} on {1} held-back images',
            pct(a.top1_agreement),
            a.images,
          )
        : vscode.l10n.t('no images were held back to check it');
    log.info(`quantized ${label} with ${folderName}: wrote ${report.out}; ${summary}`);
    const switchTo = vscode.l10n.t('Switch to int8');
    const choice = await vscode.window.showInformationMessage(
      vscode.l10n.t('CNN Lens: wrote {0} ({1}).', out, summary),
      ...(int8Active ? [] : [switchTo]),
    );
    if (choice === switchTo) await setPrecision('int8');
  }

  /**
   * Says so (in the section and a notification offering to quantize) when the panel's model has no int8
   * file to compare with; returns whether it had none.
   */
  private async refuseWithoutInt8(
    runtime: PanelRuntime,
    kind: 'quantization' | 'agreement',
    file: string,
    requestId: number | undefined,
  ): Promise<boolean> {
    const missing = await missingInt8({ ...this.host.settings(), precision: 'int8' }, runtime.file);
    if (!missing) return false;
    const message = vscode.l10n.t(
      '{0} has no int8 model yet ({1} beside it)',
      displayPath(runtime.file),
      path.basename(missing),
    );
    const failed = {
      status: 'failed',
      message: vscode.l10n.t('{0}: quantize it with a folder of your images first', message),
      offerQuantize: true,
    } as const;
    if (kind === 'quantization') this.host.panel.setJob(kind, { ...failed, file }, requestId);
    else this.host.panel.setJob(kind, failed, requestId);
    void offerQuantize(message);
    return true;
  }

  /**
   * Runs `work` with a notification (or a status-bar spinner) and the section's progress, both with Cancel.
   * Returns its result, or undefined when it was cancelled or failed (the section and a notification with
   * "Show Log" say why). `location`: a notification unless said; `keepCancelled`: a cancelled run's result
   * is kept (it says what finished); `requestId`: the webview request the section's states answer.
   */
  private async track<K extends JobKind, T>(
    kind: K,
    title: string,
    work: (signal: AbortSignal, report: (message: string, fraction?: number) => void) => Promise<T>,
    state: (p: JobProgress) => JobStates[K],
    opts: { location?: vscode.ProgressLocation; keepCancelled?: boolean; requestId?: number } = {},
  ): Promise<T | undefined> {
    const { location = vscode.ProgressLocation.Notification, keepCancelled = false, requestId } = opts;
    this.inFlight.get(kind)?.abort();
    const abort = new AbortController();
    this.inFlight.set(kind, abort);
    const mine = (): boolean => this.inFlight.get(kind) === abort;
    const section = (p: JobProgress): void => {
      if (mine()) this.host.panel.setJob(kind, state(p), requestId);
    };
    try {
      return await vscode.window.withProgress(
        { location, title, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => abort.abort());
          let shown = 0;
          const report = (message: string, fraction?: number): void => {
            const increment = fraction === undefined ? undefined : Math.max(0, fraction - shown) * 100;
            if (fraction !== undefined) shown = Math.max(shown, fraction);
            progress.report({ message, increment });
            section({ status: 'running', message, ...(fraction !== undefined && { fraction }) });
          };
          const result = await work(abort.signal, report);
          if (abort.signal.aborted && !keepCancelled) throw new InferenceError('cancelled', 'cancelled');
          return result;
        },
      );
    } catch (err) {
      if (abort.signal.aborted || (err instanceof InferenceError && err.kind === 'cancelled')) {
        section({ status: 'cancelled', message: vscode.l10n.t('Cancelled.') });
        log.info(`${title.replace(/^CNN Lens: /, '')}: cancelled`);
        return undefined;
      }
      const message = (err as Error).message;
      section({ status: 'failed', message });
      void showError(`${title}: ${message}`);
      return undefined;
    } finally {
      if (mine()) this.inFlight.delete(kind);
    }
  }
}

function pct(v: number | null): string {
  return v === null ? '–' : `${(v * 100).toFixed(1)}%`;
}

/** One log line: the total, the plain run and the three slowest rows. */
function profileSummary(p: Profile): string {
  const top = [...p.rows]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 3)
    .map((r) => `${r.name} ${r.ms.toFixed(2)} ms`);
  return (
    `profile of ${p.model} (${p.provider}, ${p.precision}, batch ${p.batch}, ${p.runs} runs): ` +
    `${p.ms.toFixed(1)} ms profiled, ${p.plain_ms.toFixed(1)} ms plain; slowest ${top.join(', ')}`
  );
}
