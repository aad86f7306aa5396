// Detectors and segmenters in the real workbench (#18): open a YOLO instance segmenter and a U-Net from the
// Explorer, classify a photo, and see boxes, masks, the sliders and the detections table. The models are
// the real-weight fixtures of test/fixtures/tasks (random weights: the boxes mean nothing, the run is real).
import { expect, test } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  chooseContextMenuItem,
  classifyFromExplorer,
  openWorkbench,
  panelFrame,
  screenshot,
  workspaceDir,
} from './workbench';

const TASKS = path.resolve(__dirname, '../../test/fixtures/tasks');

test.beforeAll(() => {
  for (const name of ['yolov8t-seg', 'unet-seg']) {
    const file = path.join(workspaceDir, `${name}.onnx`);
    if (!fs.existsSync(file))
      fs.writeFileSync(file, gunzipSync(fs.readFileSync(path.join(TASKS, `${name}.onnx.gz`))));
  }
});

test('a YOLO instance segmenter: boxes and masks on the whole image, sliders that filter again, a keyboard table', async ({
  page,
}) => {
  await openWorkbench(page);
  await chooseContextMenuItem(page, 'yolov8t-seg.onnx', 'Open in CNN Lens');
  const panel = panelFrame(page);
  await expect(panel.locator('#model-name')).toHaveText('yolov8t-seg.onnx');
  await classifyFromExplorer(page, 'chelsea.png');
  const found = panel.locator('#found');
  await expect(found.locator('.result-file')).toHaveText('chelsea.png');
  const rows = found.locator('#detections tbody tr');
  await expect(rows.first()).toBeVisible();
  const count = await rows.count();
  // One box per row, drawn over the image, and the instance masks under them.
  await expect(found.locator('svg.found-boxes g')).toHaveCount(count);
  await expect(found.locator('canvas.found-mask')).toBeVisible();
  await expect(found.locator('#found-summary')).toContainText(`${count} detections with score above 0.25`);
  // Each detection says which head scale found it and what that scale sees (from the layer table).
  await expect(rows.first()).toHaveAttribute(
    'title',
    /head scale of stride (8|16|32), receptive field \d+ px/,
  );
  await screenshot(found, 'detect-instances');

  // Where it looks: EigenCAM of the backbone's and the neck levels' outputs, with a colour legend.
  await found.locator('#found-eigencam').click();
  const layer = found.locator('#found-eigencam-layer');
  await expect(layer.locator('option').first()).toContainText('backbone');
  expect(await layer.locator('option').count()).toBeGreaterThanOrEqual(3);
  await expect(found.locator('canvas.found-heat')).toBeVisible();
  await expect(found.locator('canvas.found-heat')).toHaveAttribute('width', '10');
  await expect(found.locator('.heat-legend')).toBeVisible();
  // The stride-8 level: 40 positions across the 320-pixel input.
  const fine = await layer.locator('option', { hasText: 'stride 8)' }).first().getAttribute('value');
  await layer.selectOption(fine!);
  await expect(found.locator('canvas.found-heat')).toHaveAttribute('width', '40');
  await screenshot(found, 'detect-eigencam');

  // Keyboard: the first row takes focus, ↓ moves to the next and outlines its box.
  await rows.first().focus();
  await page.keyboard.press('ArrowDown');
  await expect(rows.nth(1)).toBeFocused();
  await expect(found.locator('svg.found-boxes g.active')).toHaveAttribute('data-index', '1');

  // Grad-CAM of the focused box: its class logit's gradient at the neck output its head scale reads.
  await found.locator('#found-gradcam').click();
  await expect(found.locator('#found-gradcam-title')).toContainText(
    /Grad-CAM of person \d+% \(stride (8|16|32)\) at /,
  );
  await expect(found.locator('canvas.found-heat')).toBeVisible();

  // A stricter NMS keeps fewer boxes; a score threshold above every score keeps none. No model run.
  await found.locator('#found-iou').fill('0.1');
  await expect.poll(() => rows.count()).toBeLessThan(count);
  await found.locator('#found-confidence').fill('0.99');
  await expect(found.locator('#found-summary')).toContainText('0 detections with score above 0.99');
  await expect(found.locator('#detections')).toHaveCount(0);

  // A folder through the detector: every image listed with its best detection, a damaged one as a failure.
  await chooseContextMenuItem(page, 'photos', 'Classify Images in Folder');
  const results = panel.locator('#results tbody tr');
  await expect(panel.locator('#results h2')).toContainText('failed', { timeout: 60_000 });
  await expect(
    results.filter({ has: panel.locator('td.file', { hasText: 'photos/damaged.png' }) }),
  ).toHaveClass(/failed/);
  const ok = results.filter({ hasNot: panel.locator('td.error-text') });
  await expect(ok.first().locator('td').nth(2)).toHaveText(/person|car|dog|nothing found/);
});

test('a U-Net: the class map over the image and each class’s share', async ({ page }) => {
  await openWorkbench(page);
  await chooseContextMenuItem(page, 'unet-seg.onnx', 'Open in CNN Lens');
  const panel = panelFrame(page);
  await expect(panel.locator('#model-name')).toHaveText('unet-seg.onnx');
  await classifyFromExplorer(page, 'chelsea.png');
  const found = panel.locator('#found');
  await expect(found.locator('canvas.found-mask')).toBeVisible();
  const shares = found.locator('#segments tbody tr');
  await expect(shares.first()).toBeVisible();
  const total = (await shares.locator('td.num').allTextContents())
    .map((t) => Number(t.replace(/[^\d.]/g, '')))
    .reduce((a, b) => a + b, 0);
  expect(Math.abs(total - 100)).toBeLessThan(0.5);
  await screenshot(found, 'segment');
});
