// Which row the layer table's detail card describes. The card has a pane of its own beside the table, so it
// never covers a row; it follows keyboard focus first, the pointer only while no row has the user's focus,
// and shows nothing until the user points at or moves to a row (not after a model loads, not because the
// table scrolled under a resting pointer).
import * as l10n from '@vscode/l10n';
import { h } from './dom';

/** The card's content for a row, or undefined for a row without one. */
export type Describe = (tr: HTMLElement) => HTMLElement[] | undefined;

/** The table whose body rows the card follows (one table at a time: a new model's replaces it). */
let live: { table: HTMLElement; card: HTMLElement; describe: Describe } | undefined;
/** The row the user moved focus to (keyboard or click); null while none has it. */
let focused: HTMLElement | null = null;
/** Focus that the panel moved itself (after Open Architecture): it does not open the card. */
let quiet = false;
/** Where the pointer last was in the page (kept while it is outside: a quick pick may pass over it). */
let pointer: { x: number; y: number } | undefined;

// Chromium also sends mouse moves when content moves under a resting pointer (a table that loads or
// scrolls, an overlay that closes): only a pointer that moved points at a row.
document.addEventListener('mousemove', (e) => {
  const moved = !pointer || pointer.x !== e.clientX || pointer.y !== e.clientY;
  pointer = { x: e.clientX, y: e.clientY };
  if (!moved || !live || focused) return;
  const tr = (e.target as Element).closest('tbody tr');
  if (tr instanceof HTMLElement && live.table.contains(tr)) show(tr);
});

/** The card's pane for a table's body rows, empty until a row is pointed at or focused. */
export function detailCard(table: HTMLElement, describe: Describe): HTMLElement {
  const card = h(
    'aside',
    { id: 'layer-card', class: 'card', 'aria-live': 'polite' },
    h('p', { class: 'muted', id: 'layer-card-hint' }, l10n.t('Hover or focus a layer to see its shapes.')),
  );
  live = { table, card, describe };
  focused = null;
  table.addEventListener('focusin', (e) => {
    const tr = (e.target as HTMLElement).closest('tbody tr');
    if (!(tr instanceof HTMLElement) || quiet) return;
    focused = tr;
    show(tr);
  });
  table.addEventListener('focusout', (e) => {
    if (!table.contains(e.relatedTarget as Node | null)) focused = null;
  });
  return card;
}

/** Moves focus to a row without opening the card (the panel's own doing, not the user's). */
export function focusQuietly(tr: HTMLElement): void {
  quiet = true;
  try {
    tr.focus({ preventScroll: true });
  } finally {
    quiet = false;
  }
}

/** The card now describes `tr`. */
function show(tr: HTMLElement): void {
  const content = live?.describe(tr);
  if (live && content) live.card.replaceChildren(...content);
}
