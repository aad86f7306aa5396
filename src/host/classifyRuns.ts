// Classify runs: one run of images at a time in the panel, with progress (and Cancel) in a notification or
// the status bar, results streamed to the panel as they finish, and failures listed and reported.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { analyseAll, classifyAll, inFlightFor, type Outcome } from '../inference/classifyAll';
import type { Classification } from '../inference/messages';
import type { Prediction } from '../inference/postprocess';
import { DEFAULT_THRESHOLDS, type TaskAnswer, type Thresholds } from '../shared/tasks';
import type { ImageEntry } from '../shared/protocol';
import { readSettings, type Settings } from './config';
import { foundView } from './panel/found';
import { Disposable } from './disposable';
import { log, showError } from './log';
import { jpegDataUrl } from './panel/dataUrl';
import type { LensPanel } from './panel/panel';
import type { LensRuntime } from './runtime';
import { readUri } from './workspaceImages';

/** The panel's classify runs: the one in flight, and the files of the run the panel shows. */
export class ClassifyRuns extends Disposable {
  /** The run in flight, if any; aborting it cancels it. */
  private inFlight: AbortController | undefined;
  /** Reports a worker status line into the progress notification of the run in flight. */
  private progressNote: ((message: string) => void) | undefined;

  constructor(
    private readonly panel: LensPanel,
    private readonly runtime: LensRuntime,
  ) {
    super();
    this._register({ dispose: () => this.inFlight?.abort() });
  }

  /**
   * Classifies images as a new run of the panel (replacing the one in flight); failures are listed, the
   * others still finish. Returns whether the run finished without being replaced or cancelled.
   */
  async classify(uris: vscode.Uri[]): Promise<boolean> {
    this.inFlight?.abort();
    const run = new AbortController();
    this.inFlight = run;
    try {
      await this.classifyRun(uris, run);
    } finally {
      if (this.inFlight === run) this.inFlight = undefined;
    }
    return !run.signal.aborted;
  }

  /** Cancels the run in flight. */
  cancel(): void {
    this.inFlight?.abort();
  }

  /** Whether a run is in flight. */
  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  /** A worker status line, shown in the progress of the run in flight. */
  note(message: string): void {
    this.progressNote?.(message);
  }

  /** Whether the panel's run holds this file. */
  holds(uri: vscode.Uri): boolean {
    const key = uri.toString();
    return this.panel.entries.some((e) => e.uri === key);
  }

  /** The run's images that classified, with their display names. */
  images(): { file: string; uri: vscode.Uri }[] {
    return this.panel.entries.flatMap((e) => ('error' in e ? [] : [{ file: e.file, uri: uriOf(e) }]));
  }

  private async classifyRun(uris: vscode.Uri[], run: AbortController): Promise<void> {
    const settings = readSettings();
    const { client, config } = await this.runtime.get();
    if (run.signal.aborted) return;
    const images = uris.map((uri) => ({ uri, name: vscode.workspace.asRelativePath(uri, false) }));
    const first = images[0]?.name ?? '';
    const cold = !this.runtime.warm;
    const many = uris.length > 1;
    const model = config.descriptor.name;
    this.panel.show(true);
    this.panel.beginRun(
      uris.length,
      cold
        ? vscode.l10n.t('Loading {0}…', model)
        : many
          ? vscode.l10n.t('Classifying {0} images…', uris.length)
          : vscode.l10n.t('Classifying {0}…', first),
    );
    const { outcomes, cancelled } = await vscode.window.withProgress(
      {
        location: cold || many ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window,
        title: many
          ? vscode.l10n.t('CNN Lens: classifying {0} images', uris.length)
          : vscode.l10n.t('CNN Lens: classifying {0}', first),
        cancellable: true,
      },
      async (progress, token) => {
        if (cold) progress.report({ message: vscode.l10n.t('loading {0}…', model) });
        this.progressNote = (message) => progress.report({ message });
        token.onCancellationRequested(() => run.abort());
        let done = 0;
        let shown = false;
        const sources = images.map(({ uri, name }) => ({ name, read: () => readUri(uri) }));
        const labels = config.descriptor.labels;
        const each = {
          signal: run.signal,
          onOutcome: (o: Outcome<Classification | TaskAnswer>, index: number) => {
            if (o.error === undefined) this.runtime.markLoaded();
            const image = images[index];
            if (this.inFlight !== run || !image) return;
            done++;
            progress.report({
              increment: 100 / uris.length,
              message: vscode.l10n.t('{0} of {1}', done, uris.length),
            });
            this.panel.addResults([entryOf(o, image.uri, labels)]);
            if (!shown && o.error === undefined) {
              // The first success becomes the current image; a failure only if nothing succeeds.
              shown = true;
              this.panel.setCurrent(done - 1);
            }
            if (many) this.panel.setBusy(vscode.l10n.t('Classified {0} of {1}…', done, uris.length));
          },
        };
        // A detector or segmenter sees each whole image, one run each; a classifier's crops are batched.
        const found: Outcome<Classification | TaskAnswer>[] = client.task
          ? await analyseAll(client, sources, thresholdsOf(settings), { ...each, preview: true, inFlight: 2 })
          : await classifyAll(client, sources, {
              ...each,
              topK: settings.topK,
              preview: true,
              inFlight: inFlightFor(settings.batchSize),
            });
        this.progressNote = undefined;
        return { outcomes: found, cancelled: token.isCancellationRequested };
      },
    );
    if (this.inFlight !== run) return; // superseded by a newer run, which owns the panel now
    if (!outcomes.some((o) => o.error === undefined)) this.panel.setCurrent(0);
    this.panel.setBusy(undefined);
    this.report(outcomes, uris.length, cancelled);
  }

  private report(
    outcomes: Outcome<Classification | TaskAnswer>[],
    requested: number,
    cancelled: boolean,
  ): void {
    const ok = outcomes.filter((o) => o.error === undefined);
    const failed = outcomes.filter((o) => o.error !== undefined);
    for (const f of failed) log.error(`cannot classify ${f.name}: ${f.error}`);
    const [shown] = ok;
    const best = shown?.result ? bestOf(shown.result) : undefined;
    if (shown?.result && best) {
      this.runtime.showProvider(shown.result.provider, shown.result.precision);
      const summary = vscode.l10n.t(
        'CNN Lens: {0}: {1} ({2}%)',
        path.basename(shown.name),
        best.label,
        (best.share * 100).toFixed(1),
      );
      vscode.window.setStatusBarMessage(`$(check) ${summary}`, 15_000);
      log.info(`classified ${ok.map((o) => o.name).join(', ')}`);
    }
    if (cancelled) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t(
          'CNN Lens: cancelled; {0} of {1} images were classified and are shown.',
          outcomes.length,
          requested,
        ),
      );
    }
    const [one] = failed;
    if (one && failed.length === 1)
      void showError(vscode.l10n.t('CNN Lens: cannot classify {0}: {1}', one.name, one.error));
    else if (failed.length > 1)
      void showError(
        vscode.l10n.t('CNN Lens: {0} of {1} images could not be classified.', failed.length, requested),
      );
  }
}

/** The file an entry of the run stands for. */
export function uriOf(entry: ImageEntry): vscode.Uri {
  return vscode.Uri.parse(entry.uri);
}

/** The detections' thresholds the settings give (the panel's sliders start from them). */
function thresholdsOf(settings: Settings): Thresholds {
  return {
    ...DEFAULT_THRESHOLDS,
    confidence: settings['detection.confidence'],
    iou: settings['detection.iou'],
  };
}

/** What the status bar names for an image: its top class, best detection, or largest segment. */
function bestOf(r: Classification | TaskAnswer): { label: string; share: number } | undefined {
  const best = ('task' in r ? summaryOf(r) : r.top)[0];
  return best && { label: best.label, share: best.probability };
}

function entryOf(o: Outcome<Classification | TaskAnswer>, file: vscode.Uri, labels: string[]): ImageEntry {
  const uri = file.toString();
  if (o.error !== undefined) return { file: o.name, uri, error: o.error };
  const r = o.result;
  const common = {
    file: o.name,
    uri,
    provider: r.provider,
    precision: r.precision,
    ms: { decode: r.ms.decode, run: r.ms.run, total: r.ms.total },
    ...('loadMs' in r && r.loadMs !== undefined && { loadMs: r.loadMs }),
    width: r.width,
    height: r.height,
    preview: r.preview ? jpegDataUrl(r.preview) : undefined,
  };
  return 'task' in r
    ? { ...common, top: summaryOf(r), found: foundView(r, labels) }
    : { ...common, top: r.top };
}

/**
 * A detector's or segmenter's answer as the run's list shows it: each class found with its best score
 * (detections) or its share of the image (segments), highest first.
 */
function summaryOf(r: TaskAnswer): Prediction[] {
  if (r.task === 'segment')
    return r.classes.map((c) => ({ index: c.index, label: c.label, probability: c.fraction }));
  const best = new Map<number, Prediction>();
  for (const d of r.detections) {
    if (!best.has(d.index)) best.set(d.index, { index: d.index, label: d.label, probability: d.score });
  }
  return [...best.values()];
}
