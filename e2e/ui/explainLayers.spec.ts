// The explanation's Layer list agrees with the map drawn, on models whose CAM reads a layer no stage or block
// ends at (#19, item 3): MobileNet V2's 'head 1×1, 1280' is listed and selected (the panel said "24 of 24
// layers not available for CAM" beside a CAM drawn there), DenseNet-121's title names a layer of the table
// (it said "CAM at /Relu_output_0"); occlusion says why it has no Layer list; Enter on the 1×1 'fc 1000' row
// shows its values, not 16 one-pixel maps. Runnable copies of the graph-only fixtures are written into the
// workspace (their classes mean nothing; the runs are real).
import { expect, test, type FrameLocator, type Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { fixtureBytes, runnable } from '../../test/unit/helpers/fixtures';
import {
  chooseContextMenuItem,
  classifyFromExplorer,
  openSection,
  openWorkbench,
  panelArea,
  panelFrame,
  screenshot,
  workspaceDir,
} from './workbench';

const MOBILENET = 'mobilenet_v2.onnx';
const DENSENET = 'densenet121.onnx';

test.beforeAll(() => {
  for (const [name, fixture] of [
    [MOBILENET, 'mobilenet_v2.ts'],
    [DENSENET, 'densenet121.ts'],
  ] as const) {
    const file = path.join(workspaceDir, name);
    if (!fs.existsSync(file)) fs.writeFileSync(file, runnable(fixtureBytes(fixture)));
  }
});

/** Opens `model` in the panel, classifies chelsea.png with it and waits for its exploration's map. */
async function exploreWith(page: Page, model: string, family: string): Promise<FrameLocator> {
  await openWorkbench(page);
  await chooseContextMenuItem(page, model, 'Open in CNN Lens');
  const panel = panelFrame(page);
  await expect(panel.locator('#model-name')).toHaveText(model);
  await expect(panel.locator('#model-family')).toHaveText(family);
  await classifyFromExplorer(page, 'chelsea.png');
  await expect(panel.locator('#result .result-file')).toHaveText('chelsea.png');
  await expect(panel.locator('#cam-canvas')).toHaveAttribute('data-drawn', /.+/, { timeout: 90_000 });
  // The list has arrived once it offers more than its placeholder.
  await expect(panel.locator('#explain-layer option[value="stage2"]')).toHaveCount(1, { timeout: 60_000 });
  await page.keyboard.press('Control+B');
  await openSection(panel, 'Explain');
  return panel;
}

test('MobileNet V2: CAM at head 1×1, 1280 is listed and selected; occlusion has no Layer list; fc 1000 shows its values', async ({
  page,
}) => {
  const panel = await exploreWith(page, MOBILENET, 'MobileNet V2');
  const cam = panel.locator('#cam');
  await expect(cam.locator('#cam-title')).toHaveText('Why: class activation map (CAM) at head 1×1, 1280');
  const layer = panel.locator('#explain-layer');
  await expect(layer).toHaveValue('head 1×1, 1280');
  await expect(layer.locator('option[value="head 1×1, 1280"]')).toBeEnabled();
  // Six stages, seventeen blocks and CAM's own layer; CAM reads only the last.
  await expect(layer.locator('option')).toHaveCount(24);
  await expect(cam.locator('#explain-unsupported summary')).toHaveText(
    '23 of 24 layers not available for CAM',
  );
  // Nothing 1×1 is offered: no pooled output, no classifier.
  await expect(layer.locator('option', { hasText: /global avg pool|fc 1000|\bhead \(/ })).toHaveCount(0);
  await cam.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.mouse.move(5, 795);
  await screenshot(panelArea(page), 'explain-layers-mobilenet');

  // Occlusion covers patches of the image: no Layer list, and why.
  await panel.locator('#explain-method').selectOption('occlusion');
  await expect(panel.locator('#explain-layer')).toHaveCount(0);
  await expect(panel.locator('#explain-layer-note')).toHaveText(
    'Occlusion perturbs the input image (it covers one patch at a time) and reads no layer.',
  );
  // Grad-CAM brings the list back, at its own default: the last stage.
  await panel.locator('#explain-method').selectOption('gradcam');
  await expect(panel.locator('#explain-layer')).toHaveValue('stage5');

  // Enter on the fully connected layer (1×1 per class): its values, ranked, not one-pixel maps (in Explain).
  await openSection(panel, 'Architecture');
  const fc = panel.locator('#layers tr[data-name="fc 1000"]');
  await fc.focus();
  await page.keyboard.press('Enter');
  const maps = panel.locator('#feature-maps');
  await expect(maps).toHaveAttribute('data-kind', 'vector');
  await expect(maps.locator('#fm-title')).toHaveText('Values · fc 1000');
  await expect(maps.locator('#fm-vector-note')).toContainText(
    'fc 1000 outputs 1×1000: one value per channel',
  );
  await expect(maps.locator('.fm-tile')).toHaveCount(0);
  const values = maps.locator('#fm-vector tbody tr');
  await expect(values).toHaveCount(16);
  const numbers = (await values.locator('td.num').allInnerTexts()).map(Number);
  expect(numbers.every(Number.isFinite), numbers.join(', ')).toBe(true);
  expect(
    [...numbers].sort((a, b) => b - a),
    'largest first',
  ).toEqual(numbers);
  await maps.locator('#fm-more').click();
  await expect(values).toHaveCount(32);
  await maps.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await screenshot(panelArea(page), 'explain-layers-fc-values');
});

test('DenseNet-121: CAM is titled with a layer of the table (global avg pool input), selected in the list', async ({
  page,
}) => {
  const panel = await exploreWith(page, DENSENET, 'DenseNet');
  const cam = panel.locator('#cam');
  await expect(cam.locator('#cam-title')).toHaveText(
    'Why: class activation map (CAM) at global avg pool input',
  );
  await expect(cam.locator('#cam-title')).not.toContainText('/');
  await expect(panel.locator('#explain-layer')).toHaveValue('global avg pool input');
});
