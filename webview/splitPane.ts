// Something and its details in VSCode Elements' vscode-split-layout: side by side, or the details under it
// when the panel is narrow. The details pane keeps its size when the panel is resized, and the size the user
// dragged it to stays for the next table. The component's handle takes the mouse only: a separator at the top
// of the details pane takes the keyboard.
import '@vscode-elements/elements/dist/vscode-split-layout/index.js';
import * as l10n from '@vscode/l10n';
import { h } from './dom';

/** Pixels an arrow key moves the split by. */
const STEP = 24;
/**
 * Below this width the details go under the table: beside it they would leave the table ~200 px (at 1024 px
 * with the Explorer open the split is ~690 px wide, the table ~470 px, room for its four main columns).
 */
const NARROW = 640;

type Orientation = 'vertical' | 'horizontal';
type Split = HTMLElement & { handlePosition: string; split: Orientation };

/** Side by side ('vertical', the component's name for a vertical handle) unless the split is narrow. */
function orientationFor(width: number): Orientation {
  return width > 0 && width < NARROW ? 'horizontal' : 'vertical';
}

/** The details pane's size: a third of the width beside, 40 % of the height under, within bounds. */
function detailsSize(orientation: Orientation, size: number): number {
  return orientation === 'vertical'
    ? Math.min(360, Math.max(220, Math.round(size * 0.32)))
    : Math.min(320, Math.max(180, Math.round(size * 0.4)));
}

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
  const orientation = orientationFor(width);
  const placedNow = width > 0 && orientation === 'vertical';
  const split = h('vscode-split-layout', {
    id,
    class: 'split',
    split: orientation,
    'fixed-pane': 'end',
    'min-start': '200px',
    'min-end': '180px',
    ...(placedNow && { 'handle-position': `${width - detailsSize('vertical', width)}px` }),
  }) as Split;
  split.append(start, keyboardHandle(split), end);
  // The layout measures itself once: in a tab that is not shown it measures 0 and would keep a 0-wide
  // details pane, and the details sit under the table only below NARROW. So the handle is placed when the
  // split first has a size, and again when the panel's width crosses NARROW.
  let placed = placedNow;
  new ResizeObserver(() => {
    const { clientWidth: w, clientHeight: ht } = split;
    if (w === 0) return;
    const wanted = orientationFor(w);
    if (wanted !== split.split) {
      split.split = wanted;
      placed = false;
    }
    const size = wanted === 'vertical' ? w : ht;
    if (placed || size === 0) return;
    split.handlePosition = `${size - detailsSize(wanted, size)}px`;
    placed = true;
  }).observe(split);
  splits.set(id, split);
  return split;
}

/** Each split's keyboard separator, made once. */
const handles = new WeakMap<Split, HTMLElement>();

/**
 * A focusable separator (the ARIA window-splitter pattern) above the details: the arrow keys along the split
 * move it by STEP px, Home and End to either side's minimum. Hidden until it has focus; then it says what its
 * keys do.
 */
function keyboardHandle(split: Split): HTMLElement {
  const made = handles.get(split);
  if (made) return made;
  const handle = h('div', {
    slot: 'end',
    class: 'split-keys',
    role: 'separator',
    tabindex: '0',
    'aria-valuemin': '0',
    'aria-valuemax': '100',
    'aria-label': l10n.t('Size of the details pane'),
  });
  const beside = (): boolean => split.split !== 'horizontal';
  /** The split's length along its handle's axis, and where the handle is: the start pane's size, px. */
  const length = (): number => {
    const r = split.getBoundingClientRect();
    return beside() ? r.width : r.height;
  };
  const position = (): number => {
    const r = split.querySelector('[slot="start"]')?.getBoundingClientRect();
    return (beside() ? r?.width : r?.height) ?? 0;
  };
  const report = (): void =>
    handle.setAttribute('aria-valuenow', String(Math.round((100 * position()) / Math.max(1, length()))));
  const describe = (): void => {
    // A vertical separator between panes side by side, a horizontal one between panes one above the other.
    handle.setAttribute('aria-orientation', beside() ? 'vertical' : 'horizontal');
    handle.textContent = beside()
      ? l10n.t('← → resize the details · Home: widest, End: narrowest')
      : l10n.t('↑ ↓ resize the details · Home: tallest, End: shortest');
    report();
  };
  describe();
  handle.addEventListener('focus', describe);
  handle.addEventListener('keydown', (e) => {
    const [smaller, larger] = beside() ? ['ArrowLeft', 'ArrowRight'] : ['ArrowUp', 'ArrowDown'];
    const at = position();
    // Keys move the handle; the details pane is what lies after it.
    const to =
      e.key === smaller
        ? at - STEP
        : e.key === larger
          ? at + STEP
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? length()
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
