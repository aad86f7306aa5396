// The webview's handle on VS Code, typed with our protocol: notifications go through `vscode`, requests
// (which get answers) through `requests`, which gives each an id.
import type {
  ArchitectureView,
  ExplorationView,
  PanelState,
  WebviewMessage,
  WebviewNotification,
} from '../src/shared/protocol';
import { Requests } from './requests';

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

// acquireVsCodeApi() may be called once per page.
const api = acquireVsCodeApi();

/** Notifications to the host, and the state kept across reloads. */
export const vscode: {
  postMessage(m: WebviewNotification): void;
  getState(): Persisted | undefined;
  setState(s: Persisted): void;
} = api;

/** Requests to the host, and which of their replies are current. */
export const requests = new Requests((m) => api.postMessage(m), Date.now());
