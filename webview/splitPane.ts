// Something and its details side by side in VSCode Elements' vscode-split-layout: the details pane keeps its
// width when the panel is resized, and the width the user dragged it to stays for the next table.
import '@vscode-elements/elements/dist/vscode-split-layout/index.js';
import { h } from './dom';

/** The details pane's width for a split `width` px wide: a third, within bounds. */
function endWidth(width: number): number {
  return Math.min(360, Math.max(220, Math.round(width * 0.32)));
}

/** The split layouts made so far, by id: a new table goes into the same one (its handle stays put). */
const splits = new Map<string, HTMLElement>();

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
    made.replaceChildren(start, end);
    return made;
  }
  const split = h(
    'vscode-split-layout',
    {
      id,
      class: 'split',
      'fixed-pane': 'end',
      'min-start': '200px',
      'min-end': '180px',
      ...(width > 0 && { 'handle-position': `${width - endWidth(width)}px` }),
    },
    start,
    end,
  ) as HTMLElement & { handlePosition: string };
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
