// The CNN Lens panel UI. State comes from the host; the webview renders it and reports user actions.
import type { HostMessage, PanelState, WebviewMessage } from '../src/shared/protocol';
import { architectureSection, focusArchitecture } from './architectureView';
import { h } from './dom';
import { resultsTable } from './resultsTable';
import { resultSection } from './resultView';
import { vscode, type Persisted } from './vscodeApi';

const top = document.getElementById('top')!;
const archHost = document.getElementById('arch')!;
let persisted: Persisted = vscode.getState() ?? {};
let state: PanelState = persisted.state ?? { results: [], total: 0, current: 0 };

function renderTop(): void {
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
    resultsTable(state, renderTop),
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

let frame = 0;

/** Results may arrive many per frame: render and persist once per animation frame. */
function setState(next: PanelState): void {
  state = next;
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    save({ state });
    renderTop();
  });
}

function save(patch: Persisted): void {
  persisted = { ...persisted, ...patch };
  vscode.setState(persisted);
}

window.addEventListener('message', (e: MessageEvent<HostMessage>) => {
  const m = e.data;
  switch (m.type) {
    case 'run':
      setState({ results: [], total: m.total, current: 0, busy: m.busy });
      return;
    case 'results': {
      const results = [...state.results];
      m.items.forEach((item, i) => (results[m.start + i] = item));
      setState({ ...state, results });
      return;
    }
    case 'status':
      setState({ ...state, busy: m.busy });
      return;
    case 'current':
      setState({ ...state, current: m.index });
      return;
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

renderTop();
if (persisted.architecture) archHost.replaceChildren(architectureSection(persisted.architecture));
vscode.postMessage({ type: 'ready' });
