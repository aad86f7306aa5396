// The CNN Lens webview panel: one instance, revealed when open, revived after a reload.
import * as vscode from 'vscode';
import { log } from '../log';
import {
  isWebviewMessage,
  type ArchitectureView,
  type HostMessage,
  type PanelState,
  type WebviewMessage,
} from '../shared/protocol';
import { panelHtml } from './html';

export const VIEW_TYPE = 'cnnLens.panel';

/** Owns the panel and its state; the webview pulls the state when it says `ready`. */
export class LensPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private state: PanelState = { results: [], current: 0 };
  private architecture: Promise<ArchitectureView> | undefined;
  private ready = false;
  private focusPending = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly onCommand: (command: Extract<WebviewMessage, { type: 'command' }>['command']) => void,
    private readonly loadArchitecture: () => Promise<ArchitectureView>,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
        deserializeWebviewPanel: async (panel) => this.attach(panel),
      }),
    );
  }

  /** Opens the panel beside the editor, or reveals it, without stealing focus when `preserveFocus`. */
  show(preserveFocus = false): void {
    if (this.panel) {
      this.panel.reveal(undefined, preserveFocus);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      'CNN Lens',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
      { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: this.resourceRoots() },
    );
    this.attach(panel);
  }

  /** Opens the panel and moves keyboard focus into the layer table. */
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

  /** Replaces part of the state and pushes it to the webview. */
  update(patch: Partial<PanelState>): void {
    this.state = { ...this.state, ...patch };
    if (this.panel) {
      const current = this.state.results[this.state.current];
      this.panel.title = current ? `CNN Lens: ${current.file.split('/').pop()}` : 'CNN Lens';
    }
    this.post({ type: 'state', state: this.state });
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
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
        this.update({});
        void this.sendArchitecture();
        return;
      case 'select':
        if (m.index < this.state.results.length) this.update({ current: m.index });
        return;
      case 'command':
        this.onCommand(m.command);
        return;
    }
  }

  private async sendArchitecture(): Promise<void> {
    this.architecture ??= this.loadArchitecture();
    try {
      this.post({ type: 'architecture', architecture: await this.architecture });
    } catch (err) {
      this.architecture = undefined;
      log.error(`layer table: ${(err as Error).message}`);
      this.post({ type: 'architectureError', message: (err as Error).message });
    }
    if (this.focusPending) {
      this.focusPending = false;
      this.post({ type: 'focusArchitecture' });
    }
  }

  private post(m: HostMessage): void {
    void this.panel?.webview.postMessage(m);
  }

  private resourceRoots(): vscode.Uri[] {
    return [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')];
  }
}
