// A searchable list of the workspace's images; picking one makes it the panel's current image.
import { h } from './dom';
import { vscode } from './vscodeApi';

const MAX_SHOWN = 200;
let files: string[] | undefined;
let truncated = false;
let query = '';
let open = false;

/** The picker's toggle button for the toolbar. */
export function pickerButton(rerender: () => void): HTMLElement {
  const b = h('button', { type: 'button', id: 'pick-image', 'aria-expanded': String(open) }, 'Pick image…');
  b.addEventListener('click', () => {
    open = !open;
    if (open && !files) vscode.postMessage({ type: 'listImages' });
    rerender();
    if (open) document.getElementById('picker-search')?.focus();
  });
  return b;
}

/** Receives the workspace's image list from the host. */
export function setImages(list: string[], more: boolean): void {
  files = list;
  truncated = more;
}

/** The open picker (search box + list), or nothing when closed. */
export function pickerSection(rerender: () => void): HTMLElement | undefined {
  if (!open) return undefined;
  const search = h('input', {
    type: 'search',
    id: 'picker-search',
    placeholder: 'Search workspace images',
    'aria-label': 'Search workspace images',
    'aria-controls': 'picker-list',
    value: query,
  }) as HTMLInputElement;
  const needle = query.trim().toLowerCase();
  const matches = (files ?? []).filter((f) => f.toLowerCase().includes(needle));
  const list = h('ul', { id: 'picker-list', role: 'listbox', 'aria-label': 'Workspace images' });
  const pick = (file: string): void => {
    open = false;
    vscode.postMessage({ type: 'pick', file });
    rerender();
  };
  for (const f of matches.slice(0, MAX_SHOWN)) {
    const li = h('li', { role: 'option', tabindex: '-1', 'aria-selected': 'false' }, f);
    li.addEventListener('click', () => pick(f));
    li.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') pick(f);
      else if (e.key === 'ArrowDown') (li.nextElementSibling as HTMLElement | null)?.focus();
      else if (e.key === 'ArrowUp') ((li.previousElementSibling as HTMLElement | null) ?? search).focus();
      else if (e.key === 'Escape') close();
      else return;
      e.preventDefault();
    });
    list.append(li);
  }
  const close = (): void => {
    open = false;
    rerender();
    document.getElementById('pick-image')?.focus();
  };
  search.addEventListener('input', () => {
    query = search.value;
    rerender();
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') (list.firstElementChild as HTMLElement | null)?.focus();
    else if (e.key === 'Enter' && matches[0]) pick(matches[0]);
    else if (e.key === 'Escape') close();
    else return;
    e.preventDefault();
  });
  const note = !files
    ? 'Looking for images…'
    : `${matches.length} of ${files.length}${truncated ? '+' : ''} images` +
      (matches.length > MAX_SHOWN ? `, first ${MAX_SHOWN} shown` : '');
  return h('section', { id: 'picker', class: 'picker' }, search, h('p', { class: 'muted' }, note), list);
}
