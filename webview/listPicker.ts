// A searchable list toggled from the toolbar (workspace images, models): type to filter, arrows to move,
// Enter to pick, Escape to close. The list comes from the host the first time the picker opens.
import * as l10n from '@vscode/l10n';
import { h } from './dom';

const MAX_SHOWN = 200;

/** One entry of the list. */
export interface PickerItem {
  id: string;
  label: string;
  detail?: string;
}

/** A picker's words, whole (a translation may need another word order than "Search " + noun). */
export interface PickerTexts {
  /** The toolbar button: "Model…". */
  toggle: string;
  /** The search box's placeholder and label: "Search models". */
  search: string;
  /** The list's label: "models". */
  list: string;
  /** Before the host has answered: "Looking for models…". */
  looking: string;
  /** "3 of 120 models"; `total` ends in "+" when the host's list was cut short. */
  count(matches: number, total: string): string;
}

/** What makes one picker differ from another. */
export interface PickerOptions {
  /** Element ids: `${prefix}` (the section), `${prefix}-search`, `${prefix}-list`. */
  prefix: string;
  /** Id of the toolbar button. */
  toggleId: string;
  /** The picker's words, asked for at each render (after the page's translations have loaded). */
  texts(): PickerTexts;
  /** Asks the host for the list. */
  request(): void;
  pick(item: PickerItem): void;
  /** The item to mark as chosen, if any. */
  selected?(): string | undefined;
}

/** A picker's state, kept across the panel's re-renders. */
export class ListPicker {
  private items: PickerItem[] | undefined;
  private truncated = false;
  private query = '';
  open = false;

  constructor(private readonly o: PickerOptions) {}

  /** The toolbar button that opens and closes the picker. */
  button(rerender: () => void, onOpen?: () => void): HTMLElement {
    const b = h(
      'button',
      { type: 'button', id: this.o.toggleId, 'aria-expanded': String(this.open) },
      this.o.texts().toggle,
    );
    b.addEventListener('click', () => {
      this.open = !this.open;
      if (this.open) {
        onOpen?.();
        if (!this.items) this.o.request();
      }
      rerender();
      if (this.open) document.getElementById(`${this.o.prefix}-search`)?.focus();
    });
    return b;
  }

  /** Receives the list from the host. */
  setItems(items: PickerItem[], truncated: boolean): void {
    this.items = items;
    this.truncated = truncated;
  }

  /** Forgets the list, so that the next opening asks again (the workspace changed). */
  reset(): void {
    this.items = undefined;
  }

  /** The open picker (search box + list), or nothing when closed. */
  section(rerender: () => void): HTMLElement | undefined {
    if (!this.open) return undefined;
    const { prefix } = this.o;
    const texts = this.o.texts();
    const search = h('input', {
      type: 'search',
      id: `${prefix}-search`,
      placeholder: texts.search,
      'aria-label': texts.search,
      'aria-controls': `${prefix}-list`,
      value: this.query,
    }) as HTMLInputElement;
    const needle = this.query.trim().toLowerCase();
    const matches = (this.items ?? []).filter((f) =>
      `${f.label} ${f.detail ?? ''}`.toLowerCase().includes(needle),
    );
    const list = h('ul', { id: `${prefix}-list`, role: 'listbox', 'aria-label': texts.list });
    const chosen = this.o.selected?.();
    const close = (): void => {
      this.open = false;
      rerender();
      document.getElementById(this.o.toggleId)?.focus();
    };
    const pick = (item: PickerItem): void => {
      this.open = false;
      this.o.pick(item);
      rerender();
    };
    for (const item of matches.slice(0, MAX_SHOWN)) {
      const li = h(
        'li',
        {
          role: 'option',
          tabindex: '-1',
          'aria-selected': String(item.id === chosen),
          'data-id': item.id,
        },
        item.label,
        item.detail ? h('span', { class: 'muted detail' }, ` · ${item.detail}`) : undefined,
      );
      li.addEventListener('click', () => pick(item));
      li.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') pick(item);
        else if (e.key === 'ArrowDown') (li.nextElementSibling as HTMLElement | null)?.focus();
        else if (e.key === 'ArrowUp') ((li.previousElementSibling as HTMLElement | null) ?? search).focus();
        else if (e.key === 'Escape') close();
        else return;
        e.preventDefault();
      });
      list.append(li);
    }
    search.addEventListener('input', () => {
      this.query = search.value;
      rerender();
    });
    search.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown') (list.firstElementChild as HTMLElement | null)?.focus();
      else if (e.key === 'Enter' && matches[0]) pick(matches[0]);
      else if (e.key === 'Escape') close();
      else return;
      e.preventDefault();
    });
    const note = !this.items
      ? texts.looking
      : texts.count(matches.length, `${this.items.length}${this.truncated ? '+' : ''}`) +
        (matches.length > MAX_SHOWN ? l10n.t(', first {0} shown', MAX_SHOWN) : '');
    return h('section', { id: prefix, class: 'picker' }, search, h('p', { class: 'muted' }, note), list);
  }
}
