// Helpers for driving the VS Code workbench served by code-server. Selectors and the context-menu race are
// explained in shared/notes/e2e-code-server.md.
import { expect, type FrameLocator, type Locator, type Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';

export const extensionId = 'cnn-lens.cnn-lens';
/** The per-run workspace that e2e/codeServer.mjs lays out for the UI suite. */
export const workspaceDir = path.resolve(__dirname, '../.run/ui/workspace');
const screenshotDir = path.resolve(__dirname, '../../test-results/e2e');

/** Opens the workbench on the test workspace and waits until the Explorer lists its files. */
export async function openWorkbench(page: Page): Promise<void> {
  await page.goto(`/?folder=${encodeURIComponent(workspaceDir)}`);
  await expect(page.locator('.monaco-workbench')).toBeVisible({ timeout: 60_000 });
  await expect(explorerItem(page, 'chelsea.png')).toBeVisible({ timeout: 60_000 });
}

/** The Explorer row of a workspace file. */
export function explorerItem(page: Page, fileName: string): Locator {
  return page.getByRole('treeitem', { name: fileName });
}

/**
 * Right-clicks `fileName` in the Explorer until the context menu shows `itemName`, and returns that item.
 * The Explorer can render before the extension host has registered its menu contributions, and an open
 * menu never updates, so close and reopen it until the item appears.
 */
export async function contextMenuItem(page: Page, fileName: string, itemName: string): Promise<Locator> {
  const item = page.getByRole('menuitem', { name: itemName });
  await expect(async () => {
    await page.keyboard.press('Escape');
    await explorerItem(page, fileName).click({ button: 'right' });
    await expect(item).toBeVisible({ timeout: 1_500 });
  }).toPass({ timeout: 60_000 });
  return item;
}

/**
 * Right-clicks `fileName` and asserts that its context menu has no `itemName`. Only meaningful after a
 * positive `contextMenuItem` check has shown that the extension's contributions are loaded.
 */
export async function expectNoContextMenuItem(page: Page, fileName: string, itemName: string): Promise<void> {
  await page.keyboard.press('Escape');
  await explorerItem(page, fileName).click({ button: 'right' });
  const menu = page.getByRole('menu');
  await expect(menu.getByRole('menuitem').first()).toBeVisible();
  await expect(menu.getByRole('menuitem', { name: itemName })).toHaveCount(0);
  await page.keyboard.press('Escape');
}

/**
 * Right-clicks `fileName` and clicks the context menu's `itemName`. A click can land while the fresh menu
 * still ignores it (the menu stays open, nothing runs), so reopen and click again until the menu closes.
 */
export async function chooseContextMenuItem(page: Page, fileName: string, itemName: string): Promise<void> {
  const item = page.getByRole('menuitem', { name: itemName });
  await expect(async () => {
    await page.keyboard.press('Escape');
    await explorerItem(page, fileName).click({ button: 'right' });
    await expect(item).toBeVisible({ timeout: 1_500 });
    await item.click({ timeout: 1_500 });
    await expect(page.getByRole('menu')).toHaveCount(0, { timeout: 1_500 });
  }).toPass({ timeout: 60_000 });
}

/** Runs "Classify with CNN Lens" on a file through the Explorer's context menu. */
export async function classifyFromExplorer(page: Page, fileName: string): Promise<void> {
  await chooseContextMenuItem(page, fileName, 'Classify with CNN Lens');
}

/**
 * Runs a command from the Command Palette (F1) by its full title, e.g. "CNN Lens: Open Architecture".
 * The palette can open before the extension host has registered the extension's commands, and an open
 * palette does not refresh its list, so reopen it until the command is listed.
 */
export async function runCommand(page: Page, title: string): Promise<void> {
  const input = quickInput(page).locator('input');
  const option = quickInput(page).getByRole('option', { name: title });
  await expect(async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    await expect(input).toBeFocused({ timeout: 1_500 });
    await input.fill(`>${title}`);
    await expect(option.first()).toBeVisible({ timeout: 1_500 });
  }).toPass({ timeout: 60_000 });
  await option.first().click();
  // The palette closes, or a command such as "Preferences: Color Theme" puts its own pick in its place.
  await expect(option).toHaveCount(0);
}

/** The Command Palette and other quick picks. */
export function quickInput(page: Page): Locator {
  return page.locator('.quick-input-widget');
}

/**
 * Picks a colour theme by its label ("Dark Modern") with "Preferences: Color Theme". The workbench saves
 * the choice in the user settings file, which every test of this code-server shares: see
 * `resetColorTheme`. (With no setting, VS Code for the web starts in Light Modern.)
 */
export async function setColorTheme(page: Page, theme: string): Promise<void> {
  await runCommand(page, 'Preferences: Color Theme');
  await quickInput(page).locator('input').fill(theme);
  // Options are named "<theme>" or "<theme>, <description>".
  await quickInput(page)
    .getByRole('option', { name: new RegExp(`^${theme.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(,|$)`) })
    .first()
    .click();
  await expect(quickInput(page)).toBeHidden();
}

/** The user settings file that e2e/codeServer.mjs writes for the UI suite. */
const userSettingsFile = path.resolve(__dirname, '../.run/ui/ud/User/settings.json');

/** Removes a colour theme that `setColorTheme` saved, so the tests after this one start in the default. */
export function resetColorTheme(): void {
  resetUserSetting('workbench.colorTheme');
}

/**
 * Removes a user setting that a test changed (e.g. `cnnLens.precision` through the panel), so the tests
 * after it start with the default.
 */
export function resetUserSetting(key: string): void {
  const settings = JSON.parse(fs.readFileSync(userSettingsFile, 'utf8')) as Record<string, unknown>;
  if (!(key in settings)) return;
  delete settings[key];
  fs.writeFileSync(userSettingsFile, JSON.stringify(settings, null, 2) + '\n');
}

/** Sets a user setting in the settings file, as the Settings editor would. */
export function setUserSetting(key: string, value: unknown): void {
  const settings = JSON.parse(fs.readFileSync(userSettingsFile, 'utf8')) as Record<string, unknown>;
  settings[key] = value;
  fs.writeFileSync(userSettingsFile, JSON.stringify(settings, null, 2) + '\n');
}

/** The CNN Lens panel's document: VS Code's webview host iframe, then its `#active-frame`. */
export function panelFrame(page: Page): FrameLocator {
  return page
    .frameLocator(`iframe.webview.ready[src*="extensionId=${extensionId}"]`)
    .last()
    .frameLocator('#active-frame');
}

/**
 * Opens a section of the panel by clicking its tab ("Result", "Architecture", "Explain", "Compare", "Profile",
 * "Quantization"), as a user would; the panel opens some by itself (a job that starts, feature maps asked for).
 */
export async function openSection(panel: FrameLocator, name: string): Promise<void> {
  const tab = panel.getByRole('tab', { name, exact: true });
  await tab.click();
  await expect(tab).toHaveAttribute('aria-selected', 'true');
}

/** Chooses the panel's precision in its toolbar select (a VSCode Elements single select). */
export async function choosePrecision(panel: FrameLocator, precision: 'fp32' | 'int8'): Promise<void> {
  const select = panel.locator('#precision');
  // A click can land while the toolbar is redrawn (the exploration arriving) and the list close with it: once
  // in a full run the option never showed. Open it again until the option can be chosen.
  await expect(async () => {
    await select.click();
    await select.getByRole('option', { name: precision, exact: true }).click({ timeout: 3_000 });
  }).toPass({ timeout: 60_000 });
}

/** The CNN Lens panel's area in the workbench (the webview's outer iframe), for cropped screenshots. */
export function panelArea(page: Page): Locator {
  return page.locator(`iframe.webview.ready[src*="extensionId=${extensionId}"]`).last();
}

/** Editor tabs of CNN Lens panels. */
export function panelTabs(page: Page): Locator {
  return page.getByRole('tab', { name: /^CNN Lens/ });
}

/** Notification toasts whose text contains every one of `parts`. */
export function toasts(page: Page, ...parts: string[]): Locator {
  return parts.reduce(
    (loc, part) => loc.filter({ hasText: part }),
    page.locator('.notifications-toasts .notification-toast'),
  );
}

/** Toasts and status-bar items whose text contains every one of `parts`. */
export function summaries(page: Page, ...parts: string[]): Locator {
  return parts.reduce(
    (loc, part) => loc.filter({ hasText: part }),
    page.locator('.notifications-toasts .notification-toast, .part.statusbar .statusbar-item'),
  );
}

/** Parses a percentage such as "75.4%" into 75.4; fails the test on anything else. */
export function parsePercent(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  expect(match, `"${text}" should be a percentage`).not.toBeNull();
  return Number(match![1]);
}

/** Saves a screenshot of `target` (page or element) as test-results/e2e/`name`.png. */
export async function screenshot(target: Page | Locator, name: string): Promise<void> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await target.screenshot({ path: path.join(screenshotDir, `${name}.png`) });
}

/**
 * Starts recording every text that notification toasts show (progress messages change faster than a
 * test can poll them); the returned function reads what was seen so far, in order, without repeats.
 */
export async function recordToasts(page: Page): Promise<() => Promise<string[]>> {
  // A string, not a function: this project's tsconfig for the tests has no DOM types.
  await page.evaluate(`(() => {
    const seen = (window.__toastLog = []);
    const read = () => {
      for (const toast of document.querySelectorAll('.notifications-toasts .notification-toast')) {
        const bar = toast.querySelector('.monaco-progress-container:not(.done) .progress-bit');
        const width = bar && bar.style.width ? \` [progress bar \${bar.style.width}]\` : '';
        const text = toast.innerText.replace(/\\s+/g, ' ').trim() + width;
        if (text && !seen.includes(text)) seen.push(text);
      }
    };
    new MutationObserver(read).observe(document.body, { childList: true, subtree: true, characterData: true, attributes: true });
  })()`);
  return async () => (await page.evaluate('window.__toastLog')) as string[];
}
