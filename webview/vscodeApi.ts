// The webview's handle on VS Code, typed with our protocol: notifications go through `vscode`, requests
// (which get answers) through `requests`, which gives each an id.
import type { WebviewMessage, WebviewNotification } from '../src/shared/protocol';
import type { SavedPanel } from '../src/shared/savedPanel';
import { Requests } from './requests';

interface VsCodeApi {
  postMessage(m: WebviewMessage): void;
  /** What the page saved before a reload: whatever an older version saved, hence unknown. */
  getState(): unknown;
  setState(s: SavedPanel): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

// acquireVsCodeApi() may be called once per page.
const api = acquireVsCodeApi();

/** Notifications to the host, and the state kept across reloads. */
export const vscode: Omit<VsCodeApi, 'postMessage'> & { postMessage(m: WebviewNotification): void } = api;

/** Requests to the host, and which of their replies are current. */
export const requests = new Requests((m) => api.postMessage(m), Date.now());
