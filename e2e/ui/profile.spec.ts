// Where the time goes: "CNN Lens: Profile Model" from the Command Palette, the profile's view (rows slowest
// first, by layer, block and stage, shares and GFLOP/s against the reference convolution), the architecture table's
// Time column, the panel's batch and runs (validated), and Cancel (the last profile stays).
import { expect, test } from '@playwright/test';
import {
  openSection,
  openWorkbench,
  panelArea,
  panelFrame,
  recordToasts,
  runCommand,
  screenshot,
} from './workbench';

test('Profile Model: where the time goes, slowest first, and a Time column in the layer table', async ({
  page,
}) => {
  await openWorkbench(page);
  const seen = await recordToasts(page);
  await runCommand(page, 'CNN Lens: Profile Model');
  const panel = panelFrame(page);
  const section = panel.locator('#profile');
  const summary = section.locator('#profile-summary');
  await expect(summary).toContainText(/ms per run of batch 1 \(median of 10 profiled runs\)/, {
    timeout: 90_000,
  });
  await expect(summary).toContainText(
    /plain run \d+(\.\d+)? ms \(profiler [+−]\d+%\) · cpu · fp32 · reference \d+ GFLOP\/s/,
  );
  expect((await seen()).some((t) => t.includes('profiling ResNet50'))).toBe(true);

  // The 15 slowest layers first, then all 56 on request; times fall from row to row.
  const rows = section.locator('#profile-table tbody tr');
  await expect(rows).toHaveCount(15);
  const ms = (await rows.locator('td:nth-child(3)').allInnerTexts()).map(Number);
  expect(
    ms.every((v, i) => {
      const previous = ms[i - 1];
      return previous === undefined || v <= previous;
    }),
    `slowest first: ${ms.join(', ')}`,
  ).toBe(true);
  await expect(rows.first().locator('td.share').nth(1)).toContainText(/\d+\.\d \((\d+% of ref|≥ ref)\)/);
  // Against a named reference, never over 100 % of it.
  for (const t of await rows.locator('td.share').allInnerTexts()) expect(t).not.toMatch(/\d{3,}% of|peak/);
  await expect(rows.first().locator('td').last()).toHaveText('CPU');
  await section.locator('#profile-more').click();
  await expect(rows).toHaveCount(56);
  await expect(section.locator('#profile-more')).toHaveText('Show the top 15');

  // By stage (arrow keys move between the options): six stages, conv1 … fc.
  await section.locator('#profile-level-rows').focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(section.locator('#profile-level-stages')).toHaveAttribute('aria-checked', 'true');
  await expect(section.locator('#profile-level-stages')).toBeFocused();
  await expect(rows).toHaveCount(6);
  const stages = await rows.locator('td:nth-child(2)').allInnerTexts();
  expect([...stages].sort()).toEqual(['conv1', 'conv2_x', 'conv3_x', 'conv4_x', 'conv5_x', 'fc']);

  // The layer table shows the times too, per layer, block and stage; a name in the profile finds its row.
  const table = panel.locator('#layers');
  await expect(table).toHaveClass(/has-time/);
  await expect(table.locator('tr.stage[data-stage="conv4_x"] td.time')).toHaveText(/^\d+(\.\d+)? ms$/);
  await expect(table.locator('tr.block[data-block="conv4_1"] td.time')).toHaveText(/^\d+(\.\d+)? ms/);
  await expect(table.locator('tr.layer td.time').filter({ hasText: / ms/ })).toHaveCount(56);
  // The name opens the Architecture tab on its row.
  await rows.filter({ hasText: 'conv4_x' }).getByRole('button').click();
  await expect(table.locator('tr.stage[data-stage="conv4_x"]')).toBeFocused();

  // The form: a bad batch is refused with the reason and kept as typed; a good one profiles again.
  await openSection(panel, 'Profile');
  await section.locator('#profile-level-rows').click();
  const batch = section.locator('#profile-batch');
  await batch.fill('0');
  await expect(section.locator('#profile-problems li')).toHaveText([
    'Batch must be a whole number from 1 to 64',
  ]);
  await expect(batch).toHaveAttribute('aria-invalid', 'true');
  await expect(section.locator('#profile-run')).toBeDisabled();
  await expect(batch).toHaveValue('0');
  await batch.fill('2');
  await section.locator('#profile-runs').fill('3');
  await section.locator('#profile-run').click();
  await expect(summary).toContainText('per run of batch 2 (median of 3 profiled runs)', { timeout: 90_000 });
  const fillMs = Number(await table.getAttribute('data-times-ms'));
  console.log(
    `Time column of the ResNet50 layer table (56 rows, 16 blocks, 6 stages) filled in ${fillMs} ms`,
  );
  expect(fillMs, 'the page measured the fill').toBeGreaterThanOrEqual(0);

  await page.keyboard.press('Control+B');
  await section.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.mouse.move(5, 795);
  await screenshot(panelArea(page), 'profile');
  await openSection(panel, 'Architecture');
  await table
    .locator('tr.stage[data-stage="conv4_x"]')
    .evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await screenshot(panelArea(page), 'profile-table');
  await openSection(panel, 'Profile');

  // A long profile (batch 8, 200 runs) cancelled from the panel: it says so, and the last one stays.
  await batch.fill('8');
  await section.locator('#profile-runs').fill('200');
  await section.locator('#profile-run').click();
  await section.locator('#profile-cancel').click();
  await expect(section.locator('p[role=status]')).toHaveText('Cancelled.');
  await expect(summary).toContainText('per run of batch 2 (median of 3 profiled runs)');
  await expect(table).toHaveClass(/has-time/);
});
