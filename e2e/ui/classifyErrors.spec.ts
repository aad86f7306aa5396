// A corrupt image: the failure is reported (panel and toast) and does not break the next classification.
import { expect, test } from '@playwright/test';
import {
  classifyFromExplorer,
  openWorkbench,
  panelFrame,
  panelTabs,
  screenshot,
  summaries,
  toasts,
} from './workbench';

test('broken.png reports "cannot classify", then coffee.png classifies as espresso', async ({ page }) => {
  await openWorkbench(page);

  await classifyFromExplorer(page, 'broken.png');
  const panel = panelFrame(page);
  await expect(panel.locator('#error')).toBeVisible();
  await expect(panel.locator('#error')).toContainText('broken.png');
  await expect(toasts(page, 'broken.png').first()).toContainText(/cannot classify/i);
  await screenshot(page, 'classify-broken');

  await classifyFromExplorer(page, 'coffee.png');
  await expect(panel.locator('#result .result-file')).toContainText('coffee.png');
  await expect(panel.locator('ol#top5 > li').first().locator('.label')).toHaveText('espresso');
  await expect(panel.locator('#error')).toBeHidden();
  await expect(summaries(page, 'coffee.png', 'espresso').first()).toBeVisible();
  // Classify reveals the one panel rather than opening another.
  await expect(panelTabs(page)).toHaveCount(1);
  await screenshot(page, 'classify-coffee-after-broken');
});
