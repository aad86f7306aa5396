// The panel's sections as tabs (VSCode Elements' vscode-tabs): each one click or a few keys away, the tab bar
// always in view above them. Arrow keys move between the tabs, Enter opens one.
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import * as l10n from '@vscode/l10n';
import { SECTIONS, type Section } from '../src/shared/savedPanel';
import { h } from './dom';

export type { Section };

/** A section's tab label. */
function label(section: Section): string {
  switch (section) {
    case 'result':
      return l10n.t('Result');
    case 'architecture':
      return l10n.t('Architecture');
    case 'explain':
      return l10n.t('Explain');
    case 'compare':
      return l10n.t('Compare');
    case 'profile':
      return l10n.t('Profile');
    case 'quantization':
      return l10n.t('Quantization');
  }
}

/** The tab bar, its headers and panels, made once by `sectionTabs`. */
let tabs:
  | { bar: HTMLElement & { selectedIndex: number }; headers: HTMLElement[]; panels: HTMLElement[] }
  | undefined;
/** The section whose tab is open. */
let open: Section = 'result';
/** Told when another tab opens, by the user or by `showSection`. */
let changed: (section: Section) => void = () => undefined;

/** The section whose tab is open. */
export function openSection(): Section {
  return open;
}

/**
 * The tab bar with one panel per section; each panel holds a `div#section-<name>` for its content (vscode-tabs
 * gives its panels and headers ids of its own).
 */
export function sectionTabs(onChange: (section: Section) => void): {
  tabs: HTMLElement;
  panels: Record<Section, HTMLElement>;
} {
  changed = onChange;
  const panels = {} as Record<Section, HTMLElement>;
  const element = h('vscode-tabs', { id: 'sections', 'aria-label': l10n.t('Sections') }) as HTMLElement & {
    selectedIndex: number;
  };
  const headers = SECTIONS.map((section) =>
    h('vscode-tab-header', { slot: 'header', 'data-section': section }, label(section)),
  );
  const tabPanels = SECTIONS.map((section) => {
    panels[section] = h('div', { id: `section-${section}`, class: 'section-body' });
    return h('vscode-tab-panel', { 'data-section': section }, panels[section]);
  });
  element.append(...headers, ...tabPanels);
  element.addEventListener('vsc-tabs-select', () => opened(SECTIONS[element.selectedIndex] ?? 'result'));
  tabs = { bar: element, headers, panels: tabPanels };
  return { tabs: element, panels };
}

/** Opens a section's tab (what the user just asked for lives there). */
export function showSection(section: Section): void {
  if (!tabs) return;
  const index = SECTIONS.indexOf(section);
  tabs.bar.selectedIndex = index;
  // The component shows the panel at its next update; focus may move into it right away, so show it now.
  tabs.panels.forEach((p, i) => p.toggleAttribute('hidden', i !== index));
  tabs.headers.forEach((t, i) => t.toggleAttribute('active', i === index));
  opened(section);
}

function opened(section: Section): void {
  if (section === open) return;
  open = section;
  changed(section);
}
