// The webview's handle on VS Code, typed with our protocol.
import type { ArchitectureView, ExplorationView, PanelState, WebviewMessage } from '../src/shared/protocol';

/** What the webview persists across reloads. */
export interface Persisted {
  state?: PanelState;
  architecture?: ArchitectureView;
  exploration?: { file: string; view: ExplorationView };
}

interface VsCodeApi {
  postMessage(m: WebviewMessage): void;
  getState(): Persisted | undefined;
  setState(s: Persisted): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** acquireVsCodeApi() may be called once per page. */
export const vscode = acquireVsCodeApi();
