// The webview's handle on VS Code, typed with our protocol.
import type { WebviewMessage } from '../src/shared/protocol';

/** What the webview persists across reloads. */
export interface Persisted {
  state?: import('../src/shared/protocol').PanelState;
  architecture?: import('../src/shared/protocol').ArchitectureView;
}

interface VsCodeApi {
  postMessage(m: WebviewMessage): void;
  getState(): Persisted | undefined;
  setState(s: Persisted): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** acquireVsCodeApi() may be called once per page. */
export const vscode = acquireVsCodeApi();
