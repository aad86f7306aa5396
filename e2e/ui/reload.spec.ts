// Developer: Reload Window with the panel open: the panel comes back with its run, and the run works — the
// host rebuilt it from the state the page saved (the files' URIs), so selecting an entry explores it and
// two entries compare; the thumbnails, never saved, are made again. The last quantize report comes back too
// (the page keeps it: the host has no copy after a reload), and so does the tab that was open.
import { expect, test, type FrameLocator, type Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { fixtureBytes, runnable } from '../../test/unit/helpers/fixtures';
import {
  chooseContextMenuItem,
  openSection,
  openWorkbench,
  panelArea,
  panelFrame,
  panelTabs,
  runCommand,
  screenshot,
  workspaceDir,
} from './workbench';

/** A runnable SqueezeNet 1.1 (deterministic weights) that quantizes in seconds; ResNet50 takes minutes. */
const QUANTIZED = 'reloadquant.onnx';
const QUANTIZED_INT8 = 'reloadquant.int8.onnx';

test.beforeAll(() => {
  const file = path.join(workspaceDir, QUANTIZED);
  if (!fs.existsSync(file)) fs.writeFileSync(file, runnable(fixtureBytes('squeezenet1_1.ts')));
});

/** Developer: Reload Window, then the panel's document once the panel is back. */
async function reloadWindow(page: Page): Promise<FrameLocator> {
  await runCommand(page, 'Developer: Reload Window');
  await expect(page.locator('.monaco-workbench')).toBeVisible({ timeout: 60_000 });
  await expect(panelTabs(page)).toHaveCount(1, { timeout: 60_000 });
  return panelFrame(page);
}

/** ResNet50's layer rows: 50 counted layers, 4 projection shortcuts, the max pool and the global average pool. */
const layerRows = 56;

function row(panel: FrameLocator, file: string) {
  return panel
    .locator('#results-table tbody tr')
    .filter({ has: panel.locator('td.file', { hasText: file }) });
}

/** Waits until the current image's exploration fills the layer table and draws its CAM. */
async function expectExplored(panel: FrameLocator, file: string): Promise<void> {
  await expect(panel.locator('#result .result-file')).toHaveText(file);
  await expect(panel.locator('#layers tr.layer td.act .stats')).toHaveCount(layerRows, { timeout: 60_000 });
  await expect(panel.locator('#cam-canvas')).toHaveAttribute('data-drawn', /./);
}

test('Reload Window: the photos/ run comes back and works: select explores, compare compares, thumbnails', async ({
  page,
}) => {
  await openWorkbench(page);
  await chooseContextMenuItem(page, 'photos', 'Classify Images in Folder');
  let panel = panelFrame(page);
  await expect(panel.locator('#results h2')).toHaveText('Images: 6 classified, 1 failed');
  const current = await panel.locator('#result .result-file').innerText();
  await expectExplored(panel, current);

  panel = await reloadWindow(page);
  await expect(panel.locator('#results h2')).toHaveText('Images: 6 classified, 1 failed', {
    timeout: 60_000,
  });
  // The current image is explored again, and every classified image has its thumbnail back.
  await expectExplored(panel, current);
  await expect(panel.locator('#results-table tbody img')).toHaveCount(6);

  // Selecting another entry makes it current and explores it.
  const other = ['photos/cat.png', 'photos/espresso.png'].find((f) => f !== current)!;
  await row(panel, other).click();
  await expectExplored(panel, other);
  await expect(row(panel, other)).toHaveAttribute('aria-selected', 'true');

  // Two entries still compare side by side.
  const second = ['photos/fruit.jpg', 'photos/rocket.jpg'].find((f) => f !== current && f !== other)!;
  for (const file of [other, second]) {
    await row(panel, file)
      .getByRole('checkbox', { name: `Compare ${file}` })
      .check();
  }
  await panel.locator('#compare-button').click();
  await expect(panel.locator('#compare .compare-side h3')).toHaveText([other, second]);

  await runCommand(page, 'Notifications: Clear All Notifications');
  await page.mouse.move(5, 795);
  await openSection(panel, 'Result');
  await panel.locator('#results').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await screenshot(panelArea(page), 'reload-restored');

  // A second reload brings the comparison back too, not only the run (#19), and the tab that was open.
  await openSection(panel, 'Architecture');
  panel = await reloadWindow(page);
  await expect(panel.locator('#compare .compare-side h3')).toHaveText([other, second], { timeout: 60_000 });
  await expect(panel.locator('#compare-table tbody tr').first()).toBeAttached();
  await expect(panel.getByRole('tab', { name: 'Architecture', exact: true })).toHaveAttribute(
    'aria-selected',
    'true',
  );
  await expect(panel.locator('#layers')).toBeVisible();
});

test('Reload Window: the Quantization and Profile sections (the last quantize report, the profile) come back as they were', async ({
  page,
}) => {
  fs.rmSync(path.join(workspaceDir, QUANTIZED_INT8), { force: true });
  await openWorkbench(page);
  await chooseContextMenuItem(page, QUANTIZED, 'Open in CNN Lens');
  let panel = panelFrame(page);
  await expect(panel.locator('#model-name')).toHaveText(QUANTIZED);
  await chooseContextMenuItem(page, 'photos', 'Quantize with Images from this Folder');
  let section = panel.locator('#quantize');
  await expect(section.locator('#quantize-summary')).toContainText(`Wrote ${QUANTIZED_INT8}`, {
    timeout: 120_000,
  });
  const summary = await section.locator('#quantize-summary').innerText();
  const figures = await section.locator('.agreement-figures').innerText();
  expect(figures).toMatch(/kept fp32’s top-1 class/);
  await runCommand(page, 'CNN Lens: Profile Model');
  const profiled = panel.locator('#profile-summary');
  await expect(profiled).toContainText(/ms per run of batch 1/, { timeout: 90_000 });
  const profile = await profiled.innerText();
  const slowest = await panel.locator('#profile-table tbody tr').first().innerText();

  panel = await reloadWindow(page);
  await expect(panel.locator('#model-name')).toHaveText(QUANTIZED, { timeout: 60_000 });
  section = panel.locator('#quantize');
  await expect(section.locator('#quantize-summary')).toHaveText(summary, { timeout: 60_000 });
  await expect(section.locator('.agreement-figures')).toHaveText(figures);
  await expect(section).toContainText('Skipped (could not be decoded): photos/damaged.png');
  // The profile too, with its times in the layer table, as measured before the reload (not measured again).
  await expect(panel.locator('#profile-summary')).toHaveText(profile, { timeout: 60_000 });
  await expect(panel.locator('#profile-table tbody tr').first()).toHaveText(slowest, { useInnerText: true });
  await expect(panel.locator('#layers')).toHaveClass(/has-time/);
  // A closed section stays closed after the next reload.
  await openSection(panel, 'Profile');
  await panel.locator('#profile-close').click();
  await expect(panel.locator('#profile-summary')).toHaveCount(0);
  await openSection(panel, 'Quantization');
  await section.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await screenshot(panelArea(page), 'reload-quantize');

  panel = await reloadWindow(page);
  await expect(panel.locator('#quantize-summary')).toHaveText(summary, { timeout: 60_000 });
  await expect(panel.locator('#model-name')).toHaveText(QUANTIZED, { timeout: 60_000 });
  await expect(panel.locator('#layers tbody tr').first()).toBeAttached({ timeout: 60_000 });
  await expect(panel.locator('#profile-summary')).toHaveCount(0);
  await expect(panel.locator('#layers')).not.toHaveClass(/has-time/);
});
