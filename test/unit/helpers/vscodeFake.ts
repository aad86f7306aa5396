// A fake of the part of the VS Code API that the extension host's code uses, so that unit tests can drive
// LensPanel and Lens through a fake webview without a workbench (the e2e suite runs the same code in a real
// one). Importing this module installs it as the module 'vscode' for everything loaded after it; `fake`
// is the tests' handle on what the extension did (messages posted, notifications, settings).
import Module from 'node:module';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Listener<T> = (e: T) => unknown;

export class Disposable {
  constructor(private readonly onDispose: () => void = () => undefined) {}
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((d) => d.dispose()));
  }
  dispose(): void {
    this.onDispose();
  }
}

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.push(listener);
    return new Disposable(() => (this.listeners = this.listeners.filter((l) => l !== listener)));
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
  ) {}
  static file(fsPath: string): Uri {
    return new Uri('file', '', pathToFileURL(fsPath).pathname);
  }
  static parse(text: string): Uri {
    const url = new URL(text);
    return new Uri(url.protocol.replace(/:$/, ''), url.host, url.pathname);
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, base.authority, path.posix.join(base.path, ...parts));
  }
  get fsPath(): string {
    return fileURLToPath(`file://${this.path}`);
  }
  toString(): string {
    return `${this.scheme}://${this.authority}${this.path}`;
  }
}

export const ViewColumn = { Active: -1, Beside: -2, One: 1 } as const;
export const ProgressLocation = { SourceControl: 1, Window: 10, Notification: 15 } as const;
export const StatusBarAlignment = { Left: 1, Right: 2 } as const;
export const ConfigurationTarget = { Global: 1, Workspace: 2, WorkspaceFolder: 3 } as const;
export const FileType = { Unknown: 0, File: 1, Directory: 2, SymbolicLink: 64 } as const;

export class TabInputCustom {
  constructor(
    readonly uri: Uri,
    readonly viewType: string,
  ) {}
}
export class TabInputText {
  constructor(readonly uri: Uri) {}
}
export class RelativePattern {
  constructor(
    readonly base: Uri | string,
    readonly pattern: string,
  ) {}
}

/** The webview of a fake panel: what the extension posts, and `receive` for what the page sends. */
export class FakeWebview {
  html = '';
  options: unknown = {};
  readonly cspSource = 'https://fake.vscode-resource.test';
  /** Messages the extension posted, as the page would receive them (structured clones). */
  readonly posted: unknown[] = [];
  private readonly received = new EventEmitter<unknown>();
  readonly onDidReceiveMessage = this.received.event;
  asWebviewUri(uri: Uri): Uri {
    return Uri.parse(`https://fake.vscode-resource.test${uri.path}`);
  }
  postMessage(m: unknown): Promise<boolean> {
    this.posted.push(structuredClone(m));
    return Promise.resolve(true);
  }
  /** The page sends a message to the extension. */
  receive(m: unknown): void {
    this.received.fire(m);
  }
}

/** A webview panel: created by the extension, or handed to its serializer as after a reload. */
export class FakeWebviewPanel {
  readonly webview = new FakeWebview();
  iconPath: unknown;
  visible = true;
  private readonly disposed = new EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;
  constructor(
    readonly viewType: string,
    public title: string,
  ) {}
  reveal(): void {
    this.visible = true;
  }
  dispose(): void {
    this.disposed.fire();
  }
}

interface Serializer {
  deserializeWebviewPanel(panel: FakeWebviewPanel, state: unknown): Promise<void>;
}

const configChanged = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();
const tabsChanged = new EventEmitter<unknown>();

/** The tests' handle on the fake. */
export const fake = {
  /** cnnLens.* settings by key without the prefix; absent keys read as their defaults. */
  settings: new Map<string, unknown>(),
  /** Panels the extension created. */
  panels: [] as FakeWebviewPanel[],
  serializer: undefined as Serializer | undefined,
  /** Notifications shown, as "info: …", "warning: …", "error: …". */
  notifications: [] as string[],
  /** Lines written to the log channel. */
  log: [] as string[],
  /** Commands the extension ran. */
  commands: [] as unknown[][],
  /** Sets a setting as the user would, firing the change event. */
  setSetting(key: string, value: unknown): void {
    if (value === undefined) this.settings.delete(key);
    else this.settings.set(key, value);
    configChanged.fire({ affectsConfiguration: (s) => `cnnLens.${key}`.startsWith(s) });
  },
  /** A reloaded window restoring a panel with the state its page saved. */
  async restorePanel(state: unknown): Promise<FakeWebviewPanel> {
    if (!this.serializer) throw new Error('no webview panel serializer was registered');
    const panel = new FakeWebviewPanel('cnnLens.panel', 'CNN Lens');
    await this.serializer.deserializeWebviewPanel(panel, state);
    return panel;
  },
};

let workspaceRoot = process.cwd();

/** Makes `root` the one workspace folder. */
export function setWorkspace(root: string): void {
  workspaceRoot = root;
}

function note(kind: string) {
  return (message: string): Promise<undefined> => {
    fake.notifications.push(`${kind}: ${message}`);
    return Promise.resolve(undefined);
  };
}

export const window = {
  createOutputChannel: () => ({
    info: (m: string) => fake.log.push(`info ${m}`),
    warn: (m: string) => fake.log.push(`warn ${m}`),
    error: (m: string) => fake.log.push(`error ${m}`),
    show: () => undefined,
    dispose: () => undefined,
  }),
  createWebviewPanel(viewType: string, title: string): FakeWebviewPanel {
    const panel = new FakeWebviewPanel(viewType, title);
    fake.panels.push(panel);
    return panel;
  },
  registerWebviewPanelSerializer(_viewType: string, serializer: Serializer): Disposable {
    fake.serializer = serializer;
    return new Disposable(() => (fake.serializer = undefined));
  },
  createStatusBarItem: () => ({
    text: '',
    tooltip: '',
    name: '',
    command: '',
    show: () => undefined,
    hide: () => undefined,
    dispose: () => undefined,
  }),
  withProgress<T>(
    _options: unknown,
    task: (
      progress: { report(value: unknown): void },
      token: { isCancellationRequested: boolean; onCancellationRequested(l: () => void): Disposable },
    ) => Promise<T>,
  ): Promise<T> {
    const token = { isCancellationRequested: false, onCancellationRequested: () => new Disposable() };
    return task({ report: () => undefined }, token);
  },
  showInformationMessage: note('info'),
  showWarningMessage: note('warning'),
  showErrorMessage: note('error'),
  setStatusBarMessage: () => new Disposable(),
  showQuickPick: () => Promise.resolve(undefined),
  showOpenDialog: () => Promise.resolve(undefined),
  showSaveDialog: () => Promise.resolve(undefined),
  tabGroups: { activeTabGroup: { activeTab: undefined }, onDidChangeTabs: tabsChanged.event },
};

export const workspace = {
  get workspaceFolders() {
    return [{ uri: Uri.file(workspaceRoot), name: path.basename(workspaceRoot), index: 0 }];
  },
  asRelativePath(target: Uri | string): string {
    const file = typeof target === 'string' ? target : target.fsPath;
    const relative = path.relative(workspaceRoot, file);
    return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative.split(path.sep).join('/');
  },
  getConfiguration: () => ({
    get: <T>(key: string, fallback: T): T =>
      fake.settings.has(key) ? (fake.settings.get(key) as T) : fallback,
    inspect: (key: string) => ({ globalValue: fake.settings.get(key) }),
    update: (key: string, value: unknown) => Promise.resolve(fake.setSetting(key, value)),
  }),
  onDidChangeConfiguration: configChanged.event,
  fs: {
    readFile: (uri: Uri) => fs.readFile(uri.fsPath),
    stat: async (uri: Uri) => ((await fs.stat(uri.fsPath)).isDirectory() ? { type: 2 } : { type: 1 }),
    writeFile: (uri: Uri, data: Uint8Array) => fs.writeFile(uri.fsPath, data),
  },
  findFiles: () => Promise.resolve([]),
  createFileSystemWatcher: () => ({ onDidChange: () => new Disposable(), dispose: () => undefined }),
};

export const commands = {
  executeCommand(...args: unknown[]): Promise<undefined> {
    fake.commands.push(args);
    return Promise.resolve(undefined);
  },
  registerCommand: () => new Disposable(),
};

export const l10n = {
  /** The message with `{0}`, `{1}`, … replaced by the arguments, as VS Code does without a bundle. */
  t(message: string, ...args: unknown[]): string {
    return message.replace(/\{(\d+)\}/g, (whole, i: string) =>
      args[Number(i)] === undefined ? whole : String(args[Number(i)]),
    );
  },
};

// Installs this module as 'vscode' for every module required after this one.
const loader = Module as unknown as {
  _resolveFilename(request: string, ...rest: unknown[]): string;
};
const resolve = loader._resolveFilename;
loader._resolveFilename = function (request: string, ...rest: unknown[]): string {
  return request === 'vscode' ? __filename : resolve.call(this, request, ...rest);
};
