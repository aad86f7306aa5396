// Something and its details side by side in VSCode Elements' vscode-split-layout: the details pane keeps its
// width when the panel is resized, and the width the user dragged it to stays for the next table. The
// component's handle takes the mouse only: a separator at the top of the details pane takes the keyboard.
import '@vscode-elements/elements/dist/vscode-split-layout/index.js';
import * as l10n from '@vscode/l10n';
import { h } from './dom';

/** Pixels an arrow key moves the split by. */
const STEP = 24;

/** The details pane's width for a split `width` px wide: a third, within bounds. */
function endWidth(width: number): number {
  return Math.min(360, Math.max(220, Math.round(width * 0.32)));
}

type Split = HTMLElement & { handlePosition: string };

/** The split layouts made so far, by id: a new table goes into the same one (its handle stays put). */
const splits = new Map<string, Split>();

/**
 * `start` beside `end` (the details), which get the slots of the split layout; `width` is what the split will
 * measure (its container's width now, 0 when unknown), so that the first layout is already the final one.
 * The split with this id is made once: later contents replace the old, and the layout does not measure
 * itself (a forced layout of the new table) again.
 */
export function splitPane(start: HTMLElement, end: HTMLElement, id: string, width: number): HTMLElement {
  start.slot = 'start';
  end.slot = 'end';
  const made = splits.get(id);
  if (made) {
    made.replaceChildren(start, keyboardHandle(made), end);
    return made;
  }
  const split = h('vscode-split-layout', {
    id,
    class: 'split',
    'fixed-pane': 'end',
    'min-start': '200px',
    'min-end': '180px',
    ...(width > 0 && { 'handle-position': `${width - endWidth(width)}px` }),
  }) as Split;
  split.append(start, keyboardHandle(split), end);
  // The layout measures itself once; in a tab that is not shown it measures 0 and would keep a 0-wide
  // details pane, so then the handle is placed when the split first has a width.
  if (width === 0) {
    const sized = new ResizeObserver(() => {
      const now = split.clientWidth;
      if (now === 0) return;
      sized.disconnect();
      split.handlePosition = `${now - endWidth(now)}px`;
    });
    sized.observe(split);
  }
  splits.set(id, split);
  return split;
}

/** Each split's keyboard separator, made once. */
const handles = new WeakMap<Split, HTMLElement>();

/**
 * A focusable separator (the ARIA window-splitter pattern) above the details: ← and → move the split by
 * STEP px, Home and End to either side's minimum. Hidden until it has focus; then it says what the keys do.
 */
function keyboardHandle(split: Split): HTMLElement {
  const made = handles.get(split);
  if (made) return made;
  const handle = h(
    'div',
    {
      slot: 'end',
      class: 'split-keys',
      role: 'separator',
      tabindex: '0',
      'aria-orientation': 'vertical',
      'aria-valuemin': '0',
      'aria-valuemax': '100',
      'aria-label': l10n.t('Width of the details pane'),
    },
    l10n.t('← → resize the details · Home: widest, End: narrowest'),
  );
  /** Where the split's handle is now: the start pane's width, px. */
  const position = (): number => split.querySelector('[slot="start"]')?.getBoundingClientRect().width ?? 0;
  const report = (): void =>
    handle.setAttribute(
      'aria-valuenow',
      String(Math.round((100 * position()) / Math.max(1, split.getBoundingClientRect().width))),
    );
  handle.addEventListener('focus', report);
  handle.addEventListener('keydown', (e) => {
    const at = position();
    const to =
      e.key === 'ArrowLeft'
        ? at - STEP
        : e.key === 'ArrowRight'
          ? at + STEP
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? split.getBoundingClientRect().width
              : undefined;
    if (to === undefined) return;
    e.preventDefault();
    // The component keeps the handle within min-start and min-end.
    split.handlePosition = `${Math.round(to)}px`;
    requestAnimationFrame(report);
  });
  handles.set(split, handle);
  return handle;
}
