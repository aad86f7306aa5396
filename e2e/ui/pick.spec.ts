// "Pick image…" in the panel: search the workspace's images and make one the current image; the
// classification and the exploration follow the pick.
import { expect, test } from '@playwright/test';
import {
  classifyFromExplorer,
  openWorkbench,
  panelArea,
  panelFrame,
  panelTabs,
  runCommand,
  screenshot,
} from './workbench';

test('Pick image… → search "coffee" → coffee.png replaces chelsea.png (espresso, explored); Enter picks too', async ({
  page,
}) => {
  await openWorkbench(page);
  await classifyFromExplorer(page, 'chelsea.png');
  const panel = panelFrame(page);
  const cam = panel.locator('#cam-canvas');
  const stats = panel.locator('tr[data-name^="conv4_1 a"] td.act .stats');
  await expect(cam).toHaveAttribute('data-drawn', 'Egyptian cat');
  const catStats = await stats.innerText();

  const toggle = panel.locator('#pick-image');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  const search = panel.locator('#picker-search');
  // Every image of the workspace, folders included (photos/ and repeat-set/), sorted; no text files.
  const list = panel.locator('#picker-list li');
  await expect(panel.locator('#picker p')).toHaveText(/^(\d+) of \1 images$/);
  const all = await list.allInnerTexts();
  expect(all).toContain('chelsea.png');
  expect(all).toContain('photos/damaged.png');
  expect(all.filter((f) => f.startsWith('repeat-set/'))).toHaveLength(120);
  expect(all.some((f) => f.endsWith('.txt'))).toBe(false);

  await search.fill('coffee');
  await expect(list).toHaveText(['coffee.png']);
  await expect(panel.locator('#picker p')).toHaveText(`1 of ${all.length} images`);
  await screenshot(panelArea(page), 'pick-search');
  await list.first().click();
  await expect(panel.locator('#picker')).toHaveCount(0);
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');

  await expect(panel.locator('#result .result-file')).toHaveText('coffee.png');
  await expect(panel.locator('ol#top5 > li').first().locator('.label')).toHaveText('espresso');
  await expect(panelTabs(page)).toHaveText(/CNN Lens: coffee\.png/);
  // The exploration follows: the CAM and the activations column are coffee.png's now.
  await expect(cam).toHaveAttribute('data-drawn', 'espresso');
  await expect(panel.locator('.cam-classes button[role=radio]').first()).toContainText('espresso');
  await expect(stats).not.toHaveText(catStats);
  await page.mouse.move(5, 795);
  await screenshot(panelArea(page), 'pick-coffee');

  // Keyboard: Enter in the search box picks the first match.
  await toggle.click();
  await search.fill('orange');
  await expect(list).toHaveText(['orange.jpg']);
  await page.keyboard.press('Enter');
  await expect(panel.locator('#result .result-file')).toHaveText('orange.jpg');
  await expect(panel.locator('ol#top5 > li').first().locator('.label')).toHaveText('orange');
  await expect(cam).toHaveAttribute('data-drawn', 'orange');
});

// Re-renders (the image list arriving, an exploration) must not take focus away from the search box.
test('Pick image…: typing right after the image list arrives goes into the search box', async ({ page }) => {
  await openWorkbench(page);
  await runCommand(page, 'CNN Lens: Open Architecture');
  const panel = panelFrame(page);
  await panel.locator('#pick-image').click();
  await expect(panel.locator('#picker p')).toHaveText(/^\d+ of \d+ images$/);
  await expect(panel.locator('#picker-search')).toBeFocused();
  await page.keyboard.type('coffee');
  await expect(panel.locator('#picker-search')).toHaveValue('coffee');
  await expect(panel.locator('#picker-list li')).toHaveText(['coffee.png']);
});
