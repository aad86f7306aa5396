// Classifying an image from the Explorer's context menu, end to end in the workbench.
import { expect, test } from '@playwright/test';
import {
  classifyFromExplorer,
  expectNoContextMenuItem,
  openWorkbench,
  panelFrame,
  panelTabs,
  parsePercent,
  screenshot,
  summaries,
} from './workbench';

test('Explorer → Classify with CNN Lens shows the top-5 for chelsea.png; notes.txt has no such entry', async ({
  page,
}) => {
  await openWorkbench(page);
  await classifyFromExplorer(page, 'chelsea.png');

  await expect(panelTabs(page)).toHaveCount(1);
  const panel = panelFrame(page);
  await expect(panel.locator('#result .result-file')).toContainText('chelsea.png');
  const rows = panel.locator('ol#top5 > li');
  await expect(rows).toHaveCount(5);
  await expect(rows.first().locator('.label')).toHaveText('Egyptian cat');
  // Reference (Keras, bilinear resize): 75.4%; other resize kernels move it by a few points.
  const top1 = parsePercent(await rows.first().locator('.prob').innerText());
  expect(top1).toBeGreaterThan(60);
  expect(top1).toBeLessThan(90);
  const second = parsePercent(await rows.nth(1).locator('.prob').innerText());
  expect(second).toBeLessThanOrEqual(top1);
  await expect(panel.locator('#runinfo')).toHaveText(/[a-z].*\d+(\.\d+)?\s*ms/i);
  await expect(summaries(page, 'chelsea.png', 'Egyptian cat').first()).toBeVisible();

  await screenshot(page, 'classify-chelsea');
  await screenshot(panel.locator('body'), 'classify-chelsea-panel');

  // The menu entry is there for images only; this runs after the positive check above, so the extension's
  // menu contributions are known to be loaded.
  await expectNoContextMenuItem(page, 'notes.txt', 'Classify with CNN Lens');
});
