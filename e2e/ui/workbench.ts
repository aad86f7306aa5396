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

/** Runs "Classify with ResNet50" on a file through the Explorer's context menu. */
export async function classifyFromExplorer(page: Page, fileName: string): Promise<void> {
  await (await contextMenuItem(page, fileName, 'Classify with ResNet50')).click();
}

/** The CNN Lens panel's document: VS Code's webview host iframe, then its `#active-frame`. */
export function panelFrame(page: Page): FrameLocator {
  return page
    .frameLocator(`iframe.webview.ready[src*="extensionId=${extensionId}"]`)
    .last()
    .frameLocator('#active-frame');
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
