// Something and its details side by side in VSCode Elements' vscode-split-layout: the details pane keeps its
// width when the panel is resized, and the width the user dragged it to is kept for the next table.
import '@vscode-elements/elements/dist/vscode-split-layout/index.js';
import { h } from './dom';

/** The details pane's width the user last dragged to (px); undefined: a share of the panel. */
let dragged: number | undefined;

/** The details pane's width for a split `width` px wide: what the user chose, else a third within bounds. */
function endWidth(width: number): number {
  return dragged ?? Math.min(360, Math.max(220, Math.round(width * 0.32)));
}

/**
 * `start` beside `end` (the details), which get the slots of the split layout; `width` is what the split will
 * measure (its container's width now, 0 when unknown), so that the first layout is already the final one.
 */
export function splitPane(start: HTMLElement, end: HTMLElement, id: string, width: number): HTMLElement {
  start.slot = 'start';
  end.slot = 'end';
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
  split.addEventListener('vsc-split-layout-change', (e) => {
    dragged = split.clientWidth - (e as CustomEvent<{ position: number }>).detail.position;
  });
  return split;
}
