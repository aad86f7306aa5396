// The CNN Lens panel UI. State comes from the host; the webview only renders it and reports clicks.
import {
  isFailure,
  type HostMessage,
  type ImageFailure,
  type ImageResult,
  type PanelState,
  type WebviewMessage,
} from '../src/shared/protocol';

interface VsCodeApi {
  postMessage(m: WebviewMessage): void;
  getState(): PanelState | undefined;
  setState(s: PanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;

/** Builds an element with attributes and children; text is always set as text, never as HTML. */
function h(
  tag: string,
  attrs: Record<string, string> = {},
  ...children: (Node | string | undefined)[]
): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) if (c !== undefined) el.append(c);
  return el;
}

const percent = (p: number): string => `${(p * 100).toFixed(1)}%`;

function render(state: PanelState): void {
  const current = state.results[state.current];
  const parts = [
    h(
      'header',
      { class: 'toolbar' },
      h('h1', {}, 'CNN Lens · ResNet50'),
      button('Architecture', 'openArchitecture'),
      button('Runtime info', 'showRuntimeInfo'),
      button('Log', 'showLog'),
    ),
    state.busy ? h('p', { id: 'status', class: 'busy', role: 'status' }, state.busy) : undefined,
    current ? (isFailure(current) ? failureView(current) : resultView(current)) : emptyView(state),
    state.results.length > 1 ? listView(state) : undefined,
  ];
  app.replaceChildren(...parts.filter((p): p is HTMLElement => p !== undefined));
}

function button(
  label: string,
  command: Extract<WebviewMessage, { type: 'command' }>['command'],
): HTMLElement {
  const b = h('button', { type: 'button' }, label);
  b.addEventListener('click', () => vscode.postMessage({ type: 'command', command }));
  return b;
}

function emptyView(state: PanelState): HTMLElement | undefined {
  if (state.busy) return undefined;
  return h(
    'p',
    { class: 'hint' },
    'Right-click an image in the Explorer and choose “Classify with ResNet50”, or run it from the Command Palette.',
  );
}

function failureView(f: ImageFailure): HTMLElement {
  return h(
    'section',
    { id: 'error', class: 'error', role: 'alert' },
    h('h2', {}, `Cannot classify ${f.file}`),
    h('p', {}, f.error),
  );
}

function resultView(r: ImageResult): HTMLElement {
  const list = h('ol', { id: 'top5', 'aria-label': 'Top classes' });
  for (const p of r.top) {
    const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
    bar.style.setProperty('--p', String(p.probability));
    list.append(
      h(
        'li',
        { title: `ImageNet class ${p.index}` },
        h('span', { class: 'label' }, p.label),
        h('span', { class: 'prob' }, percent(p.probability)),
        bar,
      ),
    );
  }
  return h(
    'section',
    { id: 'result' },
    h('h2', { class: 'result-file' }, r.file),
    h(
      'div',
      { class: 'result-body' },
      r.preview
        ? h('img', { src: r.preview, alt: `${r.file}, center crop seen by the model`, width: '224' })
        : undefined,
      list,
    ),
    h(
      'p',
      { id: 'runinfo', class: 'muted' },
      `${r.provider} · ${Math.round(r.ms.total)} ms (decode ${Math.round(r.ms.decode)} ms, run ${Math.round(r.ms.run)} ms) · ${r.width}×${r.height}`,
    ),
  );
}

function listView(state: PanelState): HTMLElement {
  const rows = state.results.map((r, i) => {
    const row = h(
      'li',
      { tabindex: '0', role: 'option', 'aria-selected': String(i === state.current) },
      h('span', { class: 'file' }, r.file),
      isFailure(r)
        ? h('span', { class: 'error-text' }, r.error)
        : h('span', {}, `${r.top[0].label} ${percent(r.top[0].probability)}`),
    );
    const select = (): void => vscode.postMessage({ type: 'select', index: i });
    row.addEventListener('click', select);
    row.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') select();
    });
    return row;
  });
  return h('section', {}, h('h2', {}, 'All images'), h('ul', { class: 'results', role: 'listbox' }, ...rows));
}

window.addEventListener('message', (e: MessageEvent<HostMessage>) => {
  const m = e.data;
  switch (m.type) {
    case 'state': {
      // After a window reload the host starts empty; keep what the panel showed before.
      const restored = vscode.getState();
      const state = m.state.results.length === 0 && !m.state.busy && restored ? restored : m.state;
      vscode.setState(state);
      render(state);
      return;
    }
  }
});

const saved = vscode.getState();
render(saved ?? { results: [], current: 0 });
vscode.postMessage({ type: 'ready' });
