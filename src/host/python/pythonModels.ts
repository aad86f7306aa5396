// PyTorch models in the Python editor: each model class of the files on screen is analysed in the
// background (one warm helper process per interpreter), and its layer table becomes inlay hints on the lines
// that built its layers, a hover card, a CodeLens with its totals, and diagnostics where it fails. Saving a
// .py file analyses again the models it may affect. Nothing runs in an untrusted workspace.
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { rowsAt } from './sourceLinks';
import { analysePython, type PythonAnalysis } from '../../python/analysis';
import { helperScript } from '../../python/interpreter';
import { PythonRunner } from '../../python/runner';
import type { ArchitectureView } from '../../shared/protocol';
import { Disposable } from '../disposable';
import { log, showError } from '../log';
import { errorOutcome, lineSpan } from './errorSites';
import { onPythonChanged, pythonFor } from './interpreter';
import { hintsForFile, hoverCard, totalsText } from './lineHints';
import { LiveRuns } from './liveRuns';
import { findModelClasses, type ModelClass } from './modelClasses';

/** A model class in a file (absolute path). */
export interface ModelRef {
  file: string;
  cls: string;
}

/** The last analysis of a model. */
interface Outcome {
  ref: ModelRef;
  /** 0-based line of the class when it was analysed. */
  line: number;
  analysis: PythonAnalysis;
  python: string;
  ms: number;
  /** The file's modification time when it was analysed: a file changed on disk since is analysed again. */
  mtimeMs: number;
}

/** Where the panel shows a Python model's table; `reveal` brings the panel forward. */
export type ShowTable = (view: ArchitectureView, reveal: boolean) => void;

const SELECTOR: vscode.DocumentSelector = { language: 'python', scheme: 'file' };
/** Saves in quick succession make one analysis. */
const DEBOUNCE_MS = 300;

const keyOf = (ref: ModelRef): string => `${ref.file}\n${ref.cls}`;

/** The editor side of Python models: providers, diagnostics, live analyses and the two commands. */
export class PythonModels
  extends Disposable
  implements vscode.CodeLensProvider, vscode.InlayHintsProvider, vscode.HoverProvider
{
  private readonly diagnostics = this._register(vscode.languages.createDiagnosticCollection('cnn-lens'));
  private readonly lensesChanged = this._register(new vscode.EventEmitter<void>());
  private readonly hintsChanged = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  readonly onDidChangeInlayHints = this.hintsChanged.event;
  private readonly runners = new Map<string, PythonRunner>();
  private readonly outcomes = new Map<string, Outcome>();
  /** Models someone asked for (command, CodeLens): their missing arguments are errors. */
  private readonly asked = new Set<string>();
  /** Interpreters already warned about (no torch, no Python): once each. */
  private readonly warned = new Set<string>();
  /** Called with each new outcome of a model, by key (the command waiting for its model). */
  private readonly waiting = new Map<string, ((o: Outcome) => void)[]>();
  private readonly live: LiveRuns<ModelRef>;
  /** The model whose table the panel shows, updated in place on each analysis. */
  private shown: string | undefined;
  private watchingPython = false;

  constructor(
    private readonly extensionPath: string,
    private readonly show: ShowTable,
  ) {
    super();
    this.live = new LiveRuns<ModelRef>({
      key: keyOf,
      run: (ref, signal) => this.analyse(ref, signal),
      debounceMs: DEBOUNCE_MS,
      onError: (ref, err) => log.error(`analysing ${ref.cls} (${ref.file}): ${(err as Error).message}`),
    });
    this._register({
      dispose: () => {
        this.live.dispose();
        this.disposeRunners();
      },
    });
    this._register(vscode.languages.registerCodeLensProvider(SELECTOR, this));
    this._register(vscode.languages.registerInlayHintsProvider(SELECTOR, this));
    this._register(vscode.languages.registerHoverProvider(SELECTOR, this));
    this._register(vscode.window.onDidChangeVisibleTextEditors((editors) => this.track(editors)));
    this._register(vscode.workspace.onDidSaveTextDocument((doc) => this.saved(doc)));
    this._register(
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.lensesChanged.fire();
        this.track(vscode.window.visibleTextEditors);
      }),
    );
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('cnnLens.pythonPath')) this.interpreterChanged();
      }),
    );
    this.track(vscode.window.visibleTextEditors);
  }

  /**
   * The rows of the table in the panel that `file`:`line` (1-based) constructed, or undefined when the panel
   * shows no model of that file (nothing to mark, nothing to clear).
   */
  rowsAt(file: string, line: number): string[] | undefined {
    const shown = this.shown === undefined ? undefined : this.outcomes.get(this.shown);
    const table = shown?.analysis.table;
    if (!table || !table.rows.some((r) => r.source?.file === file)) return undefined;
    return rowsAt(table, file, line);
  }

  /** Settles once no analysis waits or runs (for tests). */
  idle(): Promise<void> {
    return this.live.idle();
  }

  /**
   * "CNN Lens: Open Python Model": analyses the class (asked: missing arguments are errors) and shows its
   * layer table in the panel; the table follows later saves.
   */
  async open(uri?: vscode.Uri, cls?: string): Promise<void> {
    const ref = await this.pick(uri, cls);
    if (!ref) return;
    const key = keyOf(ref);
    this.asked.add(key);
    this.shown = key;
    const fresh = this.outcomes.get(key);
    const outcome =
      fresh && !this.live.busy(ref)
        ? fresh
        : await vscode.window.withProgress(
            {
              location: vscode.ProgressLocation.Notification,
              title: vscode.l10n.t('CNN Lens: analysing {0}…', ref.cls),
              cancellable: true,
            },
            (_, token) =>
              new Promise<Outcome | undefined>((resolve) => {
                token.onCancellationRequested(() => resolve(undefined));
                this.whenAnalysed(key, resolve);
                this.live.request([ref]);
              }),
          );
    if (!outcome) {
      if (this.shown === key) this.shown = undefined;
      return;
    }
    const { table, error } = outcome.analysis;
    if (table) this.show(this.view(outcome), true);
    else if (error && error.kind !== 'cancelled') {
      await showError(vscode.l10n.t('CNN Lens: cannot analyse {0}: {1}', ref.cls, error.message));
    }
  }

  /** The CodeLens "analyse": analyses a class now, as asked for. */
  analyseNow(uri: vscode.Uri, cls: string): void {
    const ref = { file: uri.fsPath, cls };
    this.asked.add(keyOf(ref));
    this.live.request([ref]);
    this.lensesChanged.fire();
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    return findModelClasses(doc.getText()).map((c) => {
      const range = new vscode.Range(c.line, 0, c.line, 0);
      return new vscode.CodeLens(range, this.lensCommand(doc.uri, c));
    });
  }

  provideInlayHints(doc: vscode.TextDocument, range: vscode.Range): vscode.InlayHint[] {
    const hints: vscode.InlayHint[] = [];
    for (const { hint, model } of this.hintsFor(doc.uri.fsPath)) {
      if (hint.line >= doc.lineCount || hint.line < range.start.line || hint.line > range.end.line) continue;
      const end = doc.lineAt(hint.line).range.end;
      const inlay = new vscode.InlayHint(end, hint.label);
      inlay.paddingLeft = true;
      inlay.tooltip = new vscode.MarkdownString(hoverCard(hint, model));
      hints.push(inlay);
    }
    return hints;
  }

  provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const found = this.hintsFor(doc.uri.fsPath).find(({ hint }) => hint.line === position.line);
    if (!found) return undefined;
    return new vscode.Hover(new vscode.MarkdownString(hoverCard(found.hint, found.model)));
  }

  /** The CodeLens of a class: its totals, or what stands in the way. */
  private lensCommand(uri: vscode.Uri, c: ModelClass): vscode.Command {
    const args = [uri, c.name];
    if (!vscode.workspace.isTrusted) {
      return {
        title: vscode.l10n.t('CNN Lens: Trust the workspace to analyse'),
        command: 'workbench.trust.manage',
      };
    }
    const ref = { file: uri.fsPath, cls: c.name };
    const outcome = this.outcomes.get(keyOf(ref));
    const open = { command: 'cnnLens.openPythonModel', arguments: args };
    const analyse = { command: 'cnnLens.analysePythonModel', arguments: args };
    if (!outcome) {
      return this.live.busy(ref)
        ? { title: vscode.l10n.t('CNN Lens: analysing…'), command: 'cnnLens.showLog' }
        : { title: vscode.l10n.t('CNN Lens: analyse'), ...analyse };
    }
    const { table, result, error } = outcome.analysis;
    if (!error && table) {
      const totals = totalsText(table, result?.parameters);
      return { title: vscode.l10n.t('CNN Lens: {0} · Open architecture', totals), ...open };
    }
    if (error?.kind === 'arguments') {
      return {
        title: vscode.l10n.t('CNN Lens: needs constructor arguments (# cnn-lens: args=…)'),
        ...analyse,
      };
    }
    if (table) {
      return {
        title: vscode.l10n.t('CNN Lens: ✗ fails at layer {0} · Open architecture', table.rows.length),
        ...open,
      };
    }
    return { title: vscode.l10n.t('CNN Lens: ✗ {0} error · analyse again', error?.kind ?? '?'), ...analyse };
  }

  /** Hints for a file from every analysis that built modules in it, the largest model first. */
  private hintsFor(file: string) {
    const tables = [...this.outcomes.values()]
      .filter((o) => o.analysis.table)
      .sort((a, b) => b.analysis.table!.totals.params - a.analysis.table!.totals.params)
      .map((o) => ({ table: o.analysis.table!, model: o.ref.cls }));
    return hintsForFile(file, tables);
  }

  /** Analyses the model classes of visible Python files that have not been analysed yet. */
  private track(editors: readonly vscode.TextEditor[]): void {
    if (!vscode.workspace.isTrusted) return;
    const refs: ModelRef[] = [];
    for (const { document: doc } of editors) {
      if (doc.languageId !== 'python' || doc.uri.scheme !== 'file') continue;
      for (const c of findModelClasses(doc.getText())) {
        const ref = { file: doc.uri.fsPath, cls: c.name };
        const outcome = this.outcomes.get(keyOf(ref));
        const stale = !outcome || (!doc.isDirty && outcome.mtimeMs !== mtime(ref.file));
        if (stale && !this.live.busy(ref)) refs.push(ref);
      }
    }
    if (refs.length > 0) {
      this.live.request(refs);
      this.lensesChanged.fire();
    }
  }

  /**
   * A Python file was saved: its own classes, and the models analysed before that may import it (in its
   * folder, or whose rows or error came from it), are analysed again. The helper does not report which
   * files a model imported, so its folder stands in for them.
   */
  private saved(doc: vscode.TextDocument): void {
    if (doc.languageId !== 'python' || doc.uri.scheme !== 'file' || !vscode.workspace.isTrusted) return;
    const file = doc.uri.fsPath;
    const refs = findModelClasses(doc.getText()).map((c) => ({ file, cls: c.name }));
    for (const o of this.outcomes.values()) {
      const touches =
        path.dirname(o.ref.file) === path.dirname(file) ||
        o.analysis.error?.file === file ||
        (o.analysis.table?.rows.some((r) => r.source?.file === file) ?? false);
      if (touches) refs.push(o.ref);
    }
    // Classes that are gone from the file: their results go.
    const present = new Set(refs.map(keyOf));
    for (const [key, o] of this.outcomes)
      if (o.ref.file === file && !present.has(key)) this.outcomes.delete(key);
    this.live.request(refs);
    this.refresh();
  }

  private async analyse(ref: ModelRef, signal: AbortSignal): Promise<void> {
    const uri = vscode.Uri.file(ref.file);
    const { python, from } = await pythonFor(uri);
    signal.throwIfAborted();
    this.watchPython();
    const runner = this.runner(python);
    const roots = (vscode.workspace.workspaceFolders ?? [])
      .filter((f) => f.uri.scheme === 'file')
      .map((f) => f.uri.fsPath);
    const mtimeMs = mtime(ref.file);
    const started = Date.now();
    const analysis = await analysePython(
      runner,
      { file: ref.file, class: ref.cls, ...(roots.length > 0 && { roots }) },
      signal,
    );
    const ms = Date.now() - started;
    if (signal.aborted) return;
    const key = keyOf(ref);
    const line = analysis.result?.line != null ? analysis.result.line - 1 : classLine(ref);
    const outcome: Outcome = { ref, line, analysis, python, ms, mtimeMs };
    this.outcomes.set(key, outcome);
    const { error, table } = analysis;
    log.info(
      `${ref.cls} (${path.basename(ref.file)}) analysed in ${ms} ms with ${python} (${from}): ` +
        (error ? `${error.kind}: ${error.message}` : `${table?.rows.length ?? 0} rows`),
    );
    if (error) {
      const what = errorOutcome(error, { file: ref.file, line, asked: this.asked.has(key) });
      if (what.kind === 'interpreter') this.warnInterpreter(python, from, what.message);
    }
    this.refresh();
    if (this.shown === key && table) this.show(this.view(outcome), false);
    for (const resolve of this.waiting.get(key)?.splice(0) ?? []) resolve(outcome);
  }

  /** Diagnostics from every model's error, hints and lenses redrawn. */
  private refresh(): void {
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const [key, o] of this.outcomes) {
      if (!o.analysis.error) continue;
      const what = errorOutcome(o.analysis.error, {
        file: o.ref.file,
        line: o.line,
        asked: this.asked.has(key),
      });
      if (what.kind !== 'diagnostic') continue;
      const { file, line, message, severity } = what.site;
      const span = lineSpan(lineText(file, line));
      const diagnostic = new vscode.Diagnostic(
        new vscode.Range(line, span.start, line, span.end),
        message,
        severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Information,
      );
      diagnostic.source = 'CNN Lens';
      diagnostic.code = o.analysis.error.kind;
      const list = byFile.get(file) ?? [];
      // One model failing where another (its building block) does: one diagnostic.
      if (!list.some((d) => d.range.start.line === line && d.message === message)) list.push(diagnostic);
      byFile.set(file, list);
    }
    this.diagnostics.clear();
    for (const [file, list] of byFile) this.diagnostics.set(vscode.Uri.file(file), list);
    this.hintsChanged.fire();
    this.lensesChanged.fire();
  }

  private view(o: Outcome): ArchitectureView {
    return { model: `${o.ref.cls} (${path.basename(o.ref.file)})`, table: o.analysis.table! };
  }

  /** The model class to open: the given one, the only one in the file, or the one the user picks. */
  private async pick(uri: vscode.Uri | undefined, cls: string | undefined): Promise<ModelRef | undefined> {
    const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
    if (!target || target.scheme !== 'file' || !target.fsPath.endsWith('.py')) {
      void vscode.window.showWarningMessage(
        vscode.l10n.t('CNN Lens: open a Python file with an nn.Module class'),
      );
      return undefined;
    }
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(
        vscode.l10n.t(
          'CNN Lens runs your Python code only in a trusted workspace: trust the workspace first.',
        ),
      );
      return undefined;
    }
    if (typeof cls === 'string') return { file: target.fsPath, cls };
    const classes = findModelClasses(fileText(target.fsPath));
    if (classes.length === 0) {
      void vscode.window.showWarningMessage(
        vscode.l10n.t('CNN Lens: {0} defines no nn.Module class', path.basename(target.fsPath)),
      );
      return undefined;
    }
    const name =
      classes.length === 1
        ? classes[0]!.name
        : await vscode.window.showQuickPick(
            classes.map((c) => c.name).reverse(), // the model usually comes after its blocks
            { placeHolder: vscode.l10n.t('Which model class?') },
          );
    return name ? { file: target.fsPath, cls: name } : undefined;
  }

  private whenAnalysed(key: string, resolve: (o: Outcome) => void): void {
    const list = this.waiting.get(key) ?? [];
    list.push(resolve);
    this.waiting.set(key, list);
  }

  private runner(python: string): PythonRunner {
    let runner = this.runners.get(python);
    if (!runner) {
      runner = new PythonRunner({
        python,
        helper: helperScript(this.extensionPath),
        onStderr: (text) => log.trace(`[python] ${text.trimEnd()}`),
      });
      this.runners.set(python, runner);
    }
    return runner;
  }

  private warnInterpreter(python: string, from: string, message: string): void {
    if (this.warned.has(python)) return;
    this.warned.add(python);
    log.warn(message);
    const text = vscode.l10n.t(
      'CNN Lens cannot analyse PyTorch models with {0} ({1}): {2}. Install them in that environment with "pip install torch onnx", or choose another interpreter (the Python extension, or the setting cnnLens.pythonPath).',
      python,
      from,
      message,
    );
    const showLog = vscode.l10n.t('Show Log');
    void vscode.window.showWarningMessage(text, showLog).then((choice) => {
      if (choice === showLog) log.show(true);
    });
  }

  /** Follows the Python extension's interpreter choice, from the first analysis on (it activates it). */
  private watchPython(): void {
    if (this.watchingPython) return;
    this.watchingPython = true;
    this._register(onPythonChanged(() => this.interpreterChanged()));
  }

  private interpreterChanged(): void {
    // The analysis in flight is cancelled before its runner goes, so that it is run again with the new
    // interpreter rather than recorded as the old one crashing.
    this.live.restart([...this.outcomes.values()].map((o) => o.ref));
    this.disposeRunners();
    this.warned.clear();
  }

  private disposeRunners(): void {
    for (const runner of this.runners.values()) runner.dispose();
    this.runners.clear();
  }
}

/** A file's text: the open document's (unsaved edits included), else the file on disk. */
function fileText(file: string): string {
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === file);
  if (doc) return doc.getText();
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function lineText(file: string, line: number): string {
  return fileText(file).split(/\r?\n/)[line] ?? '';
}

function classLine(ref: ModelRef): number {
  return findModelClasses(fileText(ref.file)).find((c) => c.name === ref.cls)?.line ?? 0;
}
