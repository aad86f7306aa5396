// A fake of the part of the VS Code API that the extension host's code uses (src/host/lens.ts, its panel and
// what they import), so that unit tests can drive LensPanel and Lens through a fake webview without a
// workbench; the e2e suite runs the same code in a real one. Importing this module installs it as the
// module 'vscode' for everything loaded after it, so a test imports it first and may then
// `import * as vscode from 'vscode'` to write against the real API's types. `fake` is the tests' handle on
// what the extension did (messages posted, notifications, log lines) and on what the user does (settings,
// a reloaded window). Where the fake behaves, it behaves as VS Code documents or implements it; what the
// code under test does not use is left out, so that a new use fails loudly instead of meeting a guess.
import Module from 'node:module';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { ROOT } from './paths';

type Listener<T> = (e: T) => unknown;

/** vscode.Disposable: the function runs on the first `dispose` only. */
export class Disposable {
  private onDispose: (() => void) | undefined;
  constructor(onDispose: () => void) {
    this.onDispose = onDispose;
  }
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((d) => d.dispose()));
  }
  dispose(): void {
    const f = this.onDispose;
    this.onDispose = undefined;
    f?.();
  }
}

/**
 * vscode.EventEmitter. As in VS Code, a listener that throws does not stop the others nor reach `fire`'s
 * caller: the error is kept in `fake.listenerErrors`, which tests check is empty.
 */
export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  readonly event = (listener: Listener<T>, thisArgs?: unknown, disposables?: Disposable[]): Disposable => {
    const bound: Listener<T> = (e) => listener.call(thisArgs, e);
    this.listeners.push(bound);
    const d = new Disposable(() => (this.listeners = this.listeners.filter((l) => l !== bound)));
    disposables?.push(d);
    return d;
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        fake.listenerErrors.push(err);
      }
    }
  }
  dispose(): void {
    this.listeners = [];
  }
}

/** vscode.Uri for POSIX paths: `path` is decoded, `toString()` percent-encodes each path segment. */
export class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query = '',
    readonly fragment = '',
  ) {}
  static file(fsPath: string): Uri {
    return new Uri('file', '', fsPath.startsWith('/') ? fsPath : `/${fsPath}`);
  }
  static from(c: {
    scheme: string;
    authority?: string;
    path?: string;
    query?: string;
    fragment?: string;
  }): Uri {
    return new Uri(c.scheme, c.authority ?? '', c.path ?? '', c.query ?? '', c.fragment ?? '');
  }
  static parse(text: string): Uri {
    const url = new URL(text);
    const decoded = url.pathname.split('/').map(decodeURIComponent).join('/');
    return new Uri(url.protocol.slice(0, -1), url.host, decoded, url.search.slice(1), url.hash.slice(1));
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(
      base.scheme,
      base.authority,
      path.posix.join(base.path, ...parts),
      base.query,
      base.fragment,
    );
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    const encoded = this.path.split('/').map(encodeURIComponent).join('/');
    const query = this.query ? `?${this.query}` : '';
    const fragment = this.fragment ? `#${this.fragment}` : '';
    return `${this.scheme}://${this.authority}${encoded}${query}${fragment}`;
  }
}

export const ViewColumn = { Active: -1, Beside: -2, One: 1, Two: 2, Three: 3 } as const;
export const ProgressLocation = { SourceControl: 1, Window: 10, Notification: 15 } as const;
export const StatusBarAlignment = { Left: 1, Right: 2 } as const;
export const ConfigurationTarget = { Global: 1, Workspace: 2, WorkspaceFolder: 3 } as const;

export class TabInputCustom {
  constructor(
    readonly uri: Uri,
    readonly viewType: string,
  ) {}
}

export class TabInputWebview {
  constructor(readonly viewType: string) {}
}

export class RelativePattern {
  constructor(
    readonly base: Uri | string,
    readonly pattern: string,
  ) {}
}

/**
 * A message as it reaches the other side: VS Code sends JSON, with ArrayBuffers and typed arrays carried
 * beside it as binary (extHostWebviewMessaging), so `undefined` fields vanish and a Float32Array stays one.
 */
function overTheWire(m: unknown): unknown {
  const buffers: unknown[] = [];
  const text = JSON.stringify(m, (_key, value: unknown) => {
    if (!(value instanceof ArrayBuffer) && !ArrayBuffer.isView(value)) return value;
    buffers.push(structuredClone(value));
    return { $$buffer: buffers.length - 1 };
  });
  if (text === undefined) return undefined;
  return JSON.parse(text, (_key, value: unknown) =>
    typeof value === 'object' && value !== null && '$$buffer' in value
      ? buffers[(value as { $$buffer: number }).$$buffer]
      : value,
  );
}

/** The webview of a fake panel: what the extension posts, and `receive` for what the page sends. */
export class FakeWebview {
  readonly cspSource = 'https://fake.vscode-resource.test';
  /** Messages the extension posted, as the page receives them. */
  readonly posted: unknown[] = [];
  /** postMessage calls after the panel was disposed of (VS Code drops them and answers false). */
  postsAfterDispose = 0;
  private _html = '';
  private _options: vscode.WebviewOptions = {};
  private disposed = false;
  private readonly received = new EventEmitter<unknown>();
  private readonly postedEvent = new EventEmitter<unknown>();
  readonly onDidReceiveMessage = this.received.event;

  get html(): string {
    return this._html;
  }
  set html(value: string) {
    this.assertNotDisposed();
    this._html = value;
  }
  get options(): vscode.WebviewOptions {
    this.assertNotDisposed();
    return this._options;
  }
  set options(value: vscode.WebviewOptions) {
    this.assertNotDisposed();
    this._options = value;
  }
  asWebviewUri(uri: Uri): Uri {
    return Uri.from({ scheme: 'https', authority: 'fake.vscode-resource.test', path: uri.path });
  }
  postMessage(m: unknown): Promise<boolean> {
    if (this.disposed) {
      this.postsAfterDispose++;
      return Promise.resolve(false);
    }
    const delivered = overTheWire(m);
    this.posted.push(delivered);
    this.postedEvent.fire(delivered);
    return Promise.resolve(true);
  }

  /** The page sends a message to the extension (as given: tests may send what no real page could). */
  receive(m: unknown): void {
    this.received.fire(m);
  }

  /**
   * The first message posted from index `from` of `posted` on that `test` accepts, now or when it is
   * posted; rejects after `timeoutMs`.
   */
  async waitFor<M = unknown>(test: (m: unknown) => boolean, from = 0, timeoutMs = 30_000): Promise<M> {
    const found = this.posted.slice(from).find(test);
    if (found !== undefined) return found as M;
    return new Promise<M>((resolve, reject) => {
      const timer = setTimeout(() => {
        listening.dispose();
        reject(new Error(`no such message was posted within ${timeoutMs} ms`));
      }, timeoutMs);
      const listening = this.postedEvent.event((m) => {
        if (!test(m)) return;
        clearTimeout(timer);
        listening.dispose();
        resolve(m as M);
      });
    });
  }

  /** The panel was disposed of. */
  markDisposed(): void {
    this.disposed = true;
  }

  private assertNotDisposed(): void {
    if (this.disposed) throw new Error('Webview is disposed');
  }
}

/** A webview panel: created by the extension, or handed to its serializer as after a reload. */
export class FakeWebviewPanel {
  readonly webview = new FakeWebview();
  iconPath: unknown;
  visible = true;
  /** How often the extension revealed it, and where the last reveal asked it to go. */
  reveals = 0;
  revealedTo: { column: number | undefined; preserveFocus: boolean | undefined } | undefined;
  /** The editor group it is in. */
  viewColumn: number | undefined = 2;
  private disposed = false;
  private readonly disposedEvent = new EventEmitter<void>();
  readonly onDidDispose = this.disposedEvent.event;
  constructor(
    readonly viewType: string,
    public title: string,
    readonly options: vscode.WebviewPanelOptions & vscode.WebviewOptions = {},
  ) {}
  reveal(column?: number, preserveFocus?: boolean): void {
    if (this.disposed) throw new Error('Webview is disposed');
    this.reveals++;
    this.revealedTo = { column, preserveFocus };
  }
  /** The user closes the panel, or the extension disposes of it: onDidDispose fires once, then the webview goes. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.visible = false;
    this.disposedEvent.fire();
    this.webview.markDisposed();
  }
}

/** A status bar item: what the extension set on it. */
export class FakeStatusBarItem {
  text = '';
  tooltip: string | undefined;
  name: string | undefined;
  command: string | undefined;
  visible = false;
  constructor(
    readonly id: string,
    readonly alignment: number,
    readonly priority: number | undefined,
  ) {}
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  dispose(): void {
    this.visible = false;
  }
}

interface Serializer {
  deserializeWebviewPanel(panel: FakeWebviewPanel, state: unknown): Thenable<void>;
}

/** Defaults of the settings package.json declares, by full key ("cnnLens.topK"). */
const DEFAULTS: ReadonlyMap<string, unknown> = new Map(
  Object.entries(
    (
      JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
        contributes: { configuration: { properties: Record<string, { default?: unknown }> } };
      }
    ).contributes.configuration.properties,
  ).map(([key, p]) => [key, p.default]),
);

const configChanged = new EventEmitter<vscode.ConfigurationChangeEvent>();
const tabsChanged = new EventEmitter<unknown>();
const serializers = new Map<string, Serializer>();
let workspaceRoot = ROOT;

/** The tests' handle on the fake. */
export const fake = {
  /** User settings by full key ("cnnLens.topK"); absent keys read as package.json's defaults. */
  settings: new Map<string, unknown>(),
  /** Panels the extension created or a reload revived, oldest first. */
  panels: [] as FakeWebviewPanel[],
  statusBarItems: [] as FakeStatusBarItem[],
  /** Notifications shown, as "info: …", "warning: …", "error: …" (dismissed: no item is chosen). */
  notifications: [] as string[],
  /** Messages set with window.setStatusBarMessage. */
  statusMessages: [] as string[],
  /** Lines written to the log channel, as "info …", "warn …", "error …". */
  log: [] as string[],
  /** Commands the extension ran, with their arguments. */
  commands: [] as unknown[][],
  /** Errors thrown by event listeners (VS Code logs and swallows them). */
  listenerErrors: [] as unknown[],

  /** Sets (or, with undefined, removes) a user setting, firing the change event as VS Code does. */
  setSetting(key: string, value: unknown): void {
    if (value === undefined) this.settings.delete(key);
    else this.settings.set(key, value);
    configChanged.fire({
      affectsConfiguration: (section: string) => key === section || key.startsWith(`${section}.`),
    });
  },

  /**
   * A reloaded window reviving a panel of `viewType` with the state its page saved (JSON, as VS Code stores
   * it; undefined when the page saved none) through the serializer the extension registered.
   */
  async restorePanel(
    state: unknown,
    viewType = 'cnnLens.panel',
    title = 'CNN Lens',
  ): Promise<FakeWebviewPanel> {
    const serializer = serializers.get(viewType);
    if (!serializer) throw new Error(`no webview panel serializer is registered for ${viewType}`);
    const panel = new FakeWebviewPanel(viewType, title);
    this.panels.push(panel);
    await serializer.deserializeWebviewPanel(panel, state === undefined ? undefined : overTheWire(state));
    return panel;
  },

  /** Makes `root` the one workspace folder (the repository root until then). */
  setWorkspace(root: string): void {
    workspaceRoot = root;
  },

  /** Forgets what was recorded (panels, notifications, log, commands, errors); settings stay. */
  clearRecords(): void {
    for (const list of [
      this.panels,
      this.statusBarItems,
      this.notifications,
      this.statusMessages,
      this.log,
      this.commands,
      this.listenerErrors,
    ]) {
      list.length = 0;
    }
  },
};

function notify(kind: string) {
  return (message: string): Promise<undefined> => {
    fake.notifications.push(`${kind}: ${message}`);
    return Promise.resolve(undefined);
  };
}

const cancellation = {
  isCancellationRequested: false,
  onCancellationRequested: new EventEmitter<void>().event,
};

export const window = {
  createOutputChannel: (name: string) => {
    const line = (level: string) => (message: string) => void fake.log.push(`${level} ${message}`);
    return {
      name,
      trace: line('trace'),
      debug: line('debug'),
      info: line('info'),
      warn: line('warn'),
      error: line('error'),
      appendLine: line('info'),
      show: () => undefined,
      dispose: () => undefined,
    };
  },
  createWebviewPanel(
    viewType: string,
    title: string,
    _showOptions: unknown,
    options?: vscode.WebviewPanelOptions & vscode.WebviewOptions,
  ): FakeWebviewPanel {
    const panel = new FakeWebviewPanel(viewType, title, options);
    panel.webview.options = options ?? {};
    fake.panels.push(panel);
    return panel;
  },
  registerWebviewPanelSerializer(viewType: string, serializer: Serializer): Disposable {
    // As in VS Code's extHostWebviewPanels: one serializer per view type.
    if (serializers.has(viewType)) throw new Error(`Serializer for '${viewType}' already registered`);
    serializers.set(viewType, serializer);
    return new Disposable(() => serializers.delete(viewType));
  },
  createStatusBarItem(id: string, alignment = StatusBarAlignment.Left, priority?: number): FakeStatusBarItem {
    const item = new FakeStatusBarItem(id, alignment, priority);
    fake.statusBarItems.push(item);
    return item;
  },
  withProgress<T>(
    _options: vscode.ProgressOptions,
    task: (progress: { report(value: unknown): void }, token: typeof cancellation) => Thenable<T>,
  ): Thenable<T> {
    return task({ report: () => undefined }, cancellation);
  },
  showInformationMessage: notify('info'),
  showWarningMessage: notify('warning'),
  showErrorMessage: notify('error'),
  setStatusBarMessage(text: string): Disposable {
    fake.statusMessages.push(text);
    return new Disposable(() => undefined);
  },
  /** The user cancels the dialog. */
  showSaveDialog: () => Promise.resolve(undefined),
  tabGroups: {
    activeTabGroup: { activeTab: undefined, viewColumn: 1 } as { activeTab: unknown; viewColumn: number },
    onDidChangeTabs: tabsChanged.event,
  },
};

export const workspace = {
  get workspaceFolders(): { uri: Uri; name: string; index: number }[] {
    return [{ uri: Uri.file(workspaceRoot), name: path.basename(workspaceRoot), index: 0 }];
  },
  /** As VS Code: relative to the workspace folder holding it, else the path as given. */
  asRelativePath(pathOrUri: string | Uri, includeWorkspaceFolder?: boolean): string {
    const file = typeof pathOrUri === 'string' ? pathOrUri : pathOrUri.fsPath;
    const relative = path.relative(workspaceRoot, file);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return file;
    return includeWorkspaceFolder ? `${path.basename(workspaceRoot)}/${relative}` : relative;
  },
  getConfiguration(section?: string) {
    const full = (key: string): string => (section ? `${section}.${key}` : key);
    const value = (key: string): unknown =>
      fake.settings.has(full(key)) ? fake.settings.get(full(key)) : DEFAULTS.get(full(key));
    return {
      get: <T>(key: string, defaultValue?: T): T | undefined => (value(key) as T | undefined) ?? defaultValue,
      has: (key: string) => value(key) !== undefined,
      inspect: (key: string) => ({
        key: full(key),
        defaultValue: DEFAULTS.get(full(key)),
        globalValue: fake.settings.get(full(key)),
      }),
      update: (key: string, value: unknown) => Promise.resolve(fake.setSetting(full(key), value)),
    };
  },
  onDidChangeConfiguration: configChanged.event,
  fs: {
    readFile: async (uri: Uri): Promise<Uint8Array> => new Uint8Array(await fs.readFile(uri.fsPath)),
    writeFile: (uri: Uri, content: Uint8Array): Promise<void> => fs.writeFile(uri.fsPath, content),
  },
  /** A watcher that never sees a change. */
  createFileSystemWatcher: () => ({
    onDidChange: new EventEmitter<Uri>().event,
    dispose: () => undefined,
  }),
};

export const commands = {
  executeCommand(...args: unknown[]): Promise<undefined> {
    fake.commands.push(args);
    return Promise.resolve(undefined);
  },
};

const placeholders = /{([^}]+)}/g;

/**
 * vscode.l10n with the default language: no bundle, and the message formatted as VS Code's format2 does —
 * `{0}`, `{1}` … from the arguments after the message, or `{name}` from one object of arguments; a
 * placeholder without a value (undefined or null) stays as written.
 */
export const l10n = {
  t(...params: unknown[]): string {
    const [first, ...rest] = params;
    const { message, args } =
      typeof first === 'string'
        ? { message: first, args: typeof rest[0] !== 'object' ? rest : rest[0] }
        : (first as { message: string; args?: unknown });
    const values = (args ?? {}) as Record<string, unknown>;
    if (Object.keys(values).length === 0) return message;
    return message.replace(placeholders, (whole, name: string) => String(values[name] ?? whole));
  },
  bundle: undefined,
  uri: undefined,
} satisfies Pick<typeof vscode.l10n, 't' | 'bundle' | 'uri'>;

// Installs this module as 'vscode' for every module required after this one.
const loader = Module as unknown as { _resolveFilename(request: string, ...rest: unknown[]): string };
const resolve = loader._resolveFilename;
loader._resolveFilename = function (request: string, ...rest: unknown[]): string {
  return request === 'vscode' ? __filename : resolve.call(this, request, ...rest);
};
