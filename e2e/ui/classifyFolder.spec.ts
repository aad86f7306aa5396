// "Classify Images in Folder" from the Explorer: progress, the results table (failures listed, filter,
// sort, selection), and cancelling a long run part-way.
import { expect, test, type FrameLocator } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import {
  chooseContextMenuItem,
  openWorkbench,
  panelArea,
  panelFrame,
  panelTabs,
  parsePercent,
  recordToasts,
  runCommand,
  screenshot,
  toasts,
  workspaceDir,
} from './workbench';

const menuItem = 'Classify Images in Folder';

/** The images e2e/codeServer.mjs put in a workspace folder, as the panel names them ("photos/x.png"). */
function imagesIn(folder: string): string[] {
  return fs
    .readdirSync(path.join(workspaceDir, folder))
    .filter((name) => /\.(png|jpe?g)$/i.test(name))
    .map((name) => `${folder}/${name}`)
    .sort((a, b) => a.localeCompare(b));
}

/**
 * The top-1 label each photo in photos/ gets (test/fixtures/photos/README.md), by its name; `damaged` is a
 * corrupt PNG.
 */
function expectedTop1(file: string): string | undefined {
  const stem = path.basename(file).replace(/\.\w+$/, '');
  return {
    cat: 'Egyptian cat',
    espresso: 'espresso',
    fruit: 'orange',
    camera: 'tripod',
    hopper: 'military uniform',
    rocket: 'drilling platform',
  }[stem];
}

function resultRows(panel: FrameLocator) {
  return panel.locator('#results-table tbody tr');
}

test('photos/ → Classify Images in Folder: progress, every image listed (failure too), filter, sort, select', async ({
  page,
}) => {
  const images = imagesIn('photos');
  const total = images.length;
  const failing = images.filter((f) => expectedTop1(f) === undefined);
  expect(failing).toEqual(['photos/damaged.png']);

  await openWorkbench(page);
  const seenToasts = await recordToasts(page);
  await chooseContextMenuItem(page, 'photos', menuItem);

  const panel = panelFrame(page);
  const heading = panel.locator('#results h2');
  await expect(heading).toHaveText(`Images: ${total - 1} classified, 1 failed`);
  await expect(panel.locator('#status')).toBeHidden();

  // The progress notification: the title names the count, the message counts up ("N of 7").
  const seen = await seenToasts();
  test.info().annotations.push({ type: 'toasts seen', description: seen.join('\n') });
  const progress = seen.filter((t) => t.includes(`classifying ${total} images`));
  expect(progress.length, `progress toasts among:\n${seen.join('\n')}`).toBeGreaterThan(0);
  // "N of 7" comes with a determinate bar at N/7 (recorded together, so allow one step of lag).
  const steps = progress
    .map((t) => new RegExp(`\\b(\\d+) of ${total}\\b.*\\[progress bar ([\\d.]+)%\\]`).exec(t))
    .filter((m) => m !== null)
    .map((m) => ({ done: Number(m[1]), bar: Number(m[2]) }));
  expect(steps.length, `"N of ${total}" progress among:\n${seen.join('\n')}`).toBeGreaterThan(0);
  for (const { done, bar } of steps) {
    expect(Math.abs(bar - (100 * done) / total), `bar ${bar}% at ${done} of ${total}`).toBeLessThanOrEqual(
      100 / total + 0.01,
    );
  }
  await expect(toasts(page, 'cannot classify photos/damaged.png').first()).toBeVisible();

  // Every image has a row, sorted by file name; the corrupt one shows its error instead of a label.
  const rows = resultRows(panel);
  await expect(rows).toHaveCount(total);
  await expect(rows.locator('td.file')).toHaveText(images);
  for (const file of images) {
    const row = rows.filter({ has: panel.locator('td.file', { hasText: file }) });
    const top1 = expectedTop1(file);
    if (top1 === undefined) {
      await expect(row).toHaveClass(/\bfailed\b/);
      await expect(row.locator('td.error-text')).not.toBeEmpty();
    } else {
      await expect(row.locator('td').nth(2)).toHaveText(top1);
      const p = parsePercent(await row.locator('td.num').innerText());
      expect(p, `${file} top-1 probability`).toBeGreaterThan(30);
    }
  }
  await screenshot(page, 'classify-folder');

  // The filter matches label text (the whole top-5 list of each image).
  const filter = panel.locator('#results-filter');
  await filter.fill('cat');
  const cats = images.filter((f) => expectedTop1(f) === 'Egyptian cat');
  await expect(rows.locator('td.file')).toHaveText(cats);
  await filter.fill('');
  await expect(rows).toHaveCount(total);

  // Header buttons sort: Top-1 ascending (the failure's empty label first), Probability descending.
  await panel.getByRole('button', { name: 'Top-1' }).click();
  await expect(panel.locator('th[aria-sort="ascending"]')).toContainText('Top-1');
  await expect(rows.first()).toHaveClass(/\bfailed\b/);
  const labels = await rows.locator('td:nth-child(3):not(.error-text)').allInnerTexts();
  expect(labels).toEqual([...labels].sort((a, b) => a.localeCompare(b)));
  await panel.getByRole('button', { name: 'Probability' }).click();
  await expect(panel.locator('th[aria-sort="descending"]')).toContainText('Probability');
  await expect(rows.last()).toHaveClass(/\bfailed\b/);
  const probs = (await rows.locator('td.num').allInnerTexts()).map(parsePercent);
  expect(probs).toEqual([...probs].sort((a, b) => b - a));

  // A click on a row makes it the panel's current image. The first image to finish became current (which
  // one varies with how the decodes overlap): pick another.
  const current = await panel.locator('#result .result-file').innerText();
  const pick = ['photos/fruit.jpg', 'photos/espresso.png'].find((f) => f !== current)!;
  const pickRow = rows.filter({ has: panel.locator('td.file', { hasText: pick }) });
  await pickRow.click();
  await expect(panel.locator('#result .result-file')).toHaveText(pick);
  await expect(panel.locator('ol#top5 > li').first().locator('.label')).toHaveText(expectedTop1(pick)!);
  await expect(pickRow).toHaveAttribute('aria-selected', 'true');
  await expect(panelTabs(page)).toHaveText(
    new RegExp(`CNN Lens: ${path.basename(pick).replace('.', '\\.')}`),
  );
  // The failed row shows its error as the current entry.
  await rows.filter({ has: panel.locator('td.file', { hasText: 'photos/damaged.png' }) }).click();
  await expect(panel.locator('#error')).toContainText('damaged.png');
  await pickRow.click();
  await expect(panel.locator('#result .result-file')).toHaveText(pick);
  await runCommand(page, 'Notifications: Clear All Notifications');
  await page.mouse.move(5, 795);
  await panel.locator('#result').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await screenshot(panelArea(page), 'classify-folder-panel');
  await panel.locator('#results').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await screenshot(panelArea(page), 'classify-folder-table');
});

test('repeat-set/ → Cancel in the progress notification stops the run; the table keeps what finished', async ({
  page,
}) => {
  const total = imagesIn('repeat-set').length;
  expect(total).toBeGreaterThanOrEqual(60);

  await openWorkbench(page);
  await chooseContextMenuItem(page, 'repeat-set', menuItem);

  // Cancel once the first images are in.
  const progress = toasts(page, `classifying ${total} images`);
  await expect(progress).toContainText(new RegExp(`\\b[1-9]\\d* of ${total}\\b`));
  await progress.getByRole('button', { name: 'Cancel' }).click();

  const cancelled = toasts(page, 'cancelled;');
  await expect(cancelled).toContainText(new RegExp(`cancelled; \\d+ of ${total} images were classified`));
  const k = Number(new RegExp(`(\\d+) of ${total}`).exec(await cancelled.innerText())![1]);
  console.log(`cancelled after ${k} of ${total} images`);
  test.info().annotations.push({ type: 'cancelled after', description: `${k} of ${total}` });
  expect(k).toBeGreaterThan(0);
  expect(k).toBeLessThan(total);
  await expect(progress).toHaveCount(0);

  const panel = panelFrame(page);
  await expect(panel.locator('#status')).toBeHidden();
  await expect(resultRows(panel)).toHaveCount(k);
  await expect(panel.locator('#results h2')).toContainText(`(${k} of ${total})`);
  await screenshot(page, 'classify-folder-cancelled');
});
