// Compare two images of a folder run: tick them in the results table, then see their top classes side by
// side and, stage by stage, how their activations differ.
import { expect, test, type FrameLocator } from '@playwright/test';
import {
  chooseContextMenuItem,
  choosePrecision,
  openSection,
  openWorkbench,
  panelArea,
  panelFrame,
  parsePercent,
  resetUserSetting,
  runCommand,
  screenshot,
} from './workbench';

test.afterEach(() => resetUserSetting('cnnLens.precision'));

function row(panel: FrameLocator, file: string) {
  return panel
    .locator('#results-table tbody tr')
    .filter({ has: panel.locator('td.file', { hasText: file }) });
}

test('photos/: tick a cat and an espresso → Compare shows both top-1s and conv1 … fc stage rows', async ({
  page,
}) => {
  await openWorkbench(page);
  await chooseContextMenuItem(page, 'photos', 'Classify Images in Folder');
  const panel = panelFrame(page);
  await expect(panel.locator('#results h2')).toHaveText('Images: 6 classified, 1 failed');

  const button = panel.locator('#compare-button');
  await expect(button).toHaveText('Compare 0/2');
  await expect(button).toBeDisabled();
  // The corrupt file cannot be compared: its row has no checkbox.
  await expect(row(panel, 'photos/damaged.png').getByRole('checkbox')).toHaveCount(0);

  // The current image is the first to finish (any of them): make a third photo current, so that a tick
  // that selected its row would show.
  const current = 'photos/fruit.jpg';
  await row(panel, current).click();
  await expect(panel.locator('#result .result-file')).toHaveText(current);
  const cat = 'photos/cat.png';
  const espresso = 'photos/espresso.png';
  await row(panel, cat)
    .getByRole('checkbox', { name: `Compare ${cat}` })
    .check();
  await expect(button).toHaveText('Compare 1/2');
  await expect(button).toBeDisabled();
  await row(panel, espresso)
    .getByRole('checkbox', { name: `Compare ${espresso}` })
    .check();
  // Ticking a box does not select its row.
  for (const file of [cat, espresso])
    await expect(row(panel, file)).toHaveAttribute('aria-selected', 'false');
  await expect(panel.locator('#result .result-file')).toHaveText(current);
  await expect(button).toHaveText('Compare 2/2');
  await expect(button).toBeEnabled();
  await button.click();

  const compare = panel.locator('#compare');
  await expect(compare).toBeVisible();
  const sides = compare.locator('.compare-side');
  await expect(sides.locator('h3')).toHaveText([cat, espresso]);
  await expect(sides.nth(0).locator('ol > li').first()).toContainText('Egyptian cat');
  await expect(sides.nth(1).locator('ol > li').first()).toContainText('espresso');
  await expect(sides.locator('img')).toHaveCount(2);

  const table = compare.locator('#compare-table');
  await expect(table.locator('tbody th')).toHaveText([
    'conv1',
    'conv2_x',
    'conv3_x',
    'conv4_x',
    'conv5_x',
    'fc',
  ]);
  for (const tr of await table.locator('tbody tr').all()) {
    const cells = await tr.locator('td').allInnerTexts();
    expect(cells).toHaveLength(5);
    const [aMean, aZeros, bMean, bZeros, similarity] = cells;
    for (const mean of [aMean, bMean]) expect(Number(mean)).not.toBeNaN();
    for (const zeros of [aZeros, bZeros]) expect(parsePercent(zeros!)).toBeLessThanOrEqual(100);
    const s = Number(similarity!.trim());
    expect(s).toBeGreaterThanOrEqual(-1);
    expect(s).toBeLessThanOrEqual(1);
  }
  // The metric is named, with the vectors it compares.
  await expect(table.locator('thead th').last()).toHaveText('similarity (cosine)');
  await expect(compare.locator('#compare-metric')).toContainText('per-channel mean activations');
  // Each side says what produced it.
  await expect(sides.locator('.compare-model')).toHaveText(['fp32', 'fp32']);
  // A cat and an espresso: alike in the first layers' channels, far apart at fc (whole-layer means called
  // fc alike: 0.02 apart).
  const similarities = (await table.locator('td.similarity').allInnerTexts()).map((t) => Number(t.trim()));
  expect(similarities[0]).toBeGreaterThan(0.9);
  expect(similarities.at(-1)).toBeLessThan(0.5);
  console.log(`similarity by stage: ${similarities.join(', ')}`);

  // The toast about damaged.png would cover part of the panel.
  await runCommand(page, 'Notifications: Clear All Notifications');
  await page.mouse.move(5, 795);
  await compare.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await screenshot(panelArea(page), 'compare');

  // Switching precision keeps the folder's results and the comparison, labelled fp32, and offers a re-run
  // (in the Result tab).
  await choosePrecision(panel, 'int8');
  await openSection(panel, 'Result');
  await expect(panel.locator('#rerun-note')).toContainText('ran at fp32; the panel now runs int8');
  await expect(panel.locator('#results h2')).toHaveText('Images: 6 classified, 1 failed');
  await expect(panel.locator('#results .run-precision')).toHaveText('ran at fp32');
  await expect(sides.locator('h3')).toHaveText([cat, espresso]);
  await expect(sides.locator('.compare-model')).toHaveText(['fp32', 'fp32']);
  await panel.locator('#rerun').click();
  await expect(panel.locator('#results .run-precision')).toHaveText('ran at int8', { timeout: 60_000 });
  await expect(panel.locator('#results h2')).toHaveText('Images: 6 classified, 1 failed');
});
