// "CNN Lens: Open Architecture": the layer table's depth equation, stage counts, detail card, keyboard
// navigation, and how it looks in a dark, a light and a high-contrast theme.
import { expect, test, type FrameLocator } from '@playwright/test';
import {
  openWorkbench,
  panelArea,
  panelFrame,
  resetColorTheme,
  runCommand,
  screenshot,
  setColorTheme,
} from './workbench';

/** ResNet50's weighted layers per stage (the "50"). */
const stageCounts: [stage: string, text: string][] = [
  ['conv1', '1 layer'],
  ['conv2_x', '9 layers'],
  ['conv3_x', '12 layers'],
  ['conv4_x', '18 layers'],
  ['conv5_x', '9 layers'],
  ['fc', '1 layer'],
];

/** The `data-name` (or, for stage rows, `data-stage`) of the element focused inside the webview. */
async function focusedRow(panel: FrameLocator): Promise<string | undefined> {
  return panel.locator('body').evaluate((body) => {
    const el = body.ownerDocument.activeElement;
    const stage = el?.getAttribute('data-stage');
    return el?.getAttribute('data-name') ?? (stage ? `stage ${stage}` : el?.tagName);
  });
}

/** A value of the detail card: the `dd` after the `dt` named `term`. */
function cardValue(panel: FrameLocator, term: string) {
  return panel
    .locator('#layer-card dt', { hasText: new RegExp(`^${term}$`) })
    .locator('xpath=following-sibling::dd[1]');
}

// The theme goes into the user settings file that later tests share. Close the page first so the workbench
// cannot write to it any more; the test also ends on the default theme in case a write is still in flight.
test.afterEach(async ({ page }) => {
  await page.close();
  resetColorTheme();
});

test('Open Architecture: depth 50 by stage, conv4_1 card, arrow keys, collapse; dark, light and high contrast', async ({
  page,
}) => {
  await openWorkbench(page);
  // More room for the table beside the detail card (and wider screenshots).
  await page.keyboard.press('Control+B');
  await expect(page.locator('.part.sidebar')).toBeHidden();
  await runCommand(page, 'CNN Lens: Open Architecture');

  const panel = panelFrame(page);
  const section = panel.locator('#architecture');
  await expect(section.locator('#depth')).toContainText('1 + 9 + 12 + 18 + 9 + 1 = 50 weighted layers');
  for (const [stage, text] of stageCounts) {
    await expect(section.locator(`tr.stage[data-stage="${stage}"] .stage-count`)).toHaveText(text);
  }
  // Recorded for the benchmark notes only: it depends on the machine.
  const renderMs = await section.getAttribute('data-render-ms');
  test.info().annotations.push({ type: 'architecture render ms', description: String(renderMs) });
  console.log(`architecture table rendered in ${renderMs} ms`);

  // The first conv of conv4_1 halves the spatial size: 28×28 → 14×14 with stride 2.
  const conv41a = section.locator('tr[data-name^="conv4_1 a"]');
  await conv41a.hover();
  await expect(panel.locator('#layer-card h3')).toHaveText(/^conv4_1 a/);
  await expect(cardValue(panel, 'input')).toHaveText('N×512×28×28');
  await expect(cardValue(panel, 'output')).toHaveText('N×256×14×14');
  await expect(cardValue(panel, 'stride')).toContainText('2×2');

  // Roving focus: ArrowDown/ArrowUp move between visible rows.
  await conv41a.click();
  await expect.poll(() => focusedRow(panel)).toMatch(/^conv4_1 a/);
  await page.keyboard.press('ArrowDown');
  await expect.poll(() => focusedRow(panel)).toMatch(/^conv4_1 b/);
  await expect(panel.locator('#layer-card h3')).toHaveText(/^conv4_1 b/);
  await page.keyboard.press('ArrowUp');
  await expect.poll(() => focusedRow(panel)).toMatch(/^conv4_1 a/);

  // ArrowLeft on a layer goes to its stage row; on an expanded stage row it collapses the stage.
  const conv4 = section.locator('tr.stage[data-stage="conv4_x"]');
  await page.keyboard.press('ArrowLeft');
  await expect.poll(() => focusedRow(panel)).toBe('stage conv4_x');
  await expect(conv4).toHaveAttribute('aria-expanded', 'true');
  await page.keyboard.press('ArrowLeft');
  await expect(conv4).toHaveAttribute('aria-expanded', 'false');
  await expect(conv41a).toBeHidden();
  await expect(section.locator('tr[data-block="conv4_1"]')).toBeHidden();
  await expect(section.locator('tr.stage[data-stage="conv5_x"]')).toBeVisible();
  // ArrowDown now skips the hidden rows.
  await page.keyboard.press('ArrowDown');
  await expect.poll(() => focusedRow(panel)).toBe('stage conv5_x');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowRight');
  await expect(conv4).toHaveAttribute('aria-expanded', 'true');
  await expect(conv41a).toBeVisible();

  // A click toggles a stage too. With conv2_x and conv3_x folded, the screenshots show the section's
  // header and conv4_x together.
  for (const stage of ['conv2_x', 'conv3_x']) {
    const row = section.locator(`tr.stage[data-stage="${stage}"]`);
    await row.click();
    await expect(row).toHaveAttribute('aria-expanded', 'false');
  }
  await conv41a.click();
  await panel.locator('body').evaluate((body) => body.ownerDocument.defaultView?.scrollTo(0, 0));
  await screenshot(page, 'architecture-workbench');

  // The same view in other themes: the webview follows the workbench theme (it uses theme colours only).
  // Light Modern, the default of VS Code for the web, comes last: see afterEach.
  const body = panel.locator('body');
  for (const [theme, kind, name] of [
    ['Dark Modern', 'vscode-dark', 'architecture-dark'],
    ['Dark High Contrast', 'vscode-high-contrast', 'architecture-high-contrast'],
    ['Light Modern', 'vscode-light', 'architecture-light'],
  ] as const) {
    await setColorTheme(page, theme);
    await expect(body).toHaveAttribute('data-vscode-theme-kind', kind);
    await conv41a.hover();
    await expect(panel.locator('#layer-card h3')).toHaveText(/^conv4_1 a/);
    await screenshot(panelArea(page), name);
  }
});
