// The CNN Lens panel UI. State comes from the host; the webview renders it and reports user actions.
import type { HostMessage, PanelState, WebviewMessage } from '../src/shared/protocol';
import { architectureSection, focusArchitecture } from './architectureView';
import { h } from './dom';
import { resultList, resultSection } from './resultView';
import { vscode, type Persisted } from './vscodeApi';

const top = document.getElementById('top')!;
const archHost = document.getElementById('arch')!;
let persisted: Persisted = vscode.getState() ?? {};

function renderTop(state: PanelState): void {
  const parts = [
    h(
      'header',
      { class: 'toolbar' },
      h('h1', {}, 'CNN Lens'),
      button('Architecture', 'openArchitecture'),
      button('Runtime info', 'showRuntimeInfo'),
      button('Log', 'showLog'),
    ),
    state.busy ? h('p', { id: 'status', class: 'busy', role: 'status' }, state.busy) : undefined,
    resultSection(state),
    resultList(state),
  ];
  top.replaceChildren(...parts.filter((p): p is HTMLElement => p !== undefined));
}

function button(
  label: string,
  command: Extract<WebviewMessage, { type: 'command' }>['command'],
): HTMLElement {
  const b = h('button', { type: 'button' }, label);
  b.addEventListener('click', () => vscode.postMessage({ type: 'command', command }));
  return b;
}

function save(patch: Persisted): void {
  persisted = { ...persisted, ...patch };
  vscode.setState(persisted);
}

window.addEventListener('message', (e: MessageEvent<HostMessage>) => {
  const m = e.data;
  switch (m.type) {
    case 'state': {
      // After a window reload the host starts empty; keep what the panel showed before.
      const keep = m.state.results.length === 0 && !m.state.busy && persisted.state;
      const state = keep ? persisted.state! : m.state;
      save({ state });
      renderTop(state);
      return;
    }
    case 'architecture':
      save({ architecture: m.architecture });
      archHost.replaceChildren(architectureSection(m.architecture));
      return;
    case 'architectureError':
      archHost.replaceChildren(
        h('p', { class: 'error', role: 'alert' }, `Cannot show the architecture: ${m.message}`),
      );
      return;
    case 'focusArchitecture':
      focusArchitecture();
      return;
  }
});

renderTop(persisted.state ?? { results: [], current: 0 });
if (persisted.architecture) archHost.replaceChildren(architectureSection(persisted.architecture));
vscode.postMessage({ type: 'ready' });
