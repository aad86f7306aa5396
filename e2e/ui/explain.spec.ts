// Explanations you can check: Grad-CAM at any stage (chelsea at conv4_x: a 14×14 map) with its faithfulness
// beside a random map's, occlusion and Score-CAM with their settings (bad values refused, long runs
// cancelled), and a feature-map position's receptive field on the crop and on the original image.
import { expect, test, type FrameLocator, type Page } from '@playwright/test';
import {
  classifyFromExplorer,
  openSection,
  openWorkbench,
  panelArea,
  panelFrame,
  screenshot,
} from './workbench';

/** Classifies chelsea.png and waits for its exploration (the CAM of the last stage) and the layer list. */
async function exploreChelsea(page: Page): Promise<FrameLocator> {
  await openWorkbench(page);
  await classifyFromExplorer(page, 'chelsea.png');
  const panel = panelFrame(page);
  await expect(panel.locator('#layers tr.layer td.act .stats')).toHaveCount(56);
  await expect(panel.locator('#cam-canvas')).toHaveAttribute('data-drawn', 'Egyptian cat');
  await expect(panel.locator('#explain-layer option[value="conv4_x"]')).toHaveCount(1);
  // Room for the map and its figures beside each other.
  await page.keyboard.press('Control+B');
  await openSection(panel, 'Explain');
  return panel;
}

test('Grad-CAM at conv4_x: a 14×14 map for chelsea.png, and its faithfulness beside a random map', async ({
  page,
}) => {
  const panel = await exploreChelsea(page);
  const cam = panel.locator('#cam');
  // The exploration's CAM first: CAM reads only conv5_x, so the other layers are not available to it.
  await expect(panel.locator('#explain-method')).toHaveValue('cam');
  await expect(panel.locator('#explain-layer')).toHaveValue('conv5_x');
  await expect(panel.locator('#explain-layer option[value="conv4_x"]')).toBeDisabled();
  await expect(cam.locator('#explain-unsupported summary')).toContainText('layers not available for CAM');

  await panel.locator('#explain-method').selectOption('gradcam');
  await panel.locator('#explain-layer').selectOption('conv4_x');
  await expect(cam.locator('#cam-title')).toHaveText('Why: Grad-CAM at conv4_x');
  const canvas = cam.locator('#cam-canvas');
  await expect(canvas).toHaveAttribute('data-grid', '14×14');
  await expect(canvas).toHaveAttribute('data-drawn', 'Egyptian cat');
  await expect(cam.locator('#cam-grid')).toHaveText(
    '14×14 map, upsampled over the 224×224 crop of chelsea.png',
  );
  await expect(cam.locator('.cam-classes button[role=radio]')).toHaveCount(5);
  await cam.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.mouse.move(5, 795);
  await screenshot(panelArea(page), 'explain-gradcam');

  // Check faithfulness: deletion and insertion curves, their areas, Average Drop and Increase in Confidence,
  // for the map and for a random map, and in words whether the map beats chance.
  await cam.locator('#check-faithfulness').click();
  const table = cam.locator('#faithfulness-table');
  await expect(table.locator('tbody tr')).toHaveCount(2, { timeout: 90_000 });
  await expect(table.locator('tbody tr[data-map="map"] th')).toHaveText('this map');
  await expect(table.locator('tbody tr[data-map="random"] th')).toHaveText('random map');
  for (const row of ['map', 'random']) {
    const cells = table.locator(`tbody tr[data-map="${row}"] td`);
    await expect(cells).toHaveCount(4);
    await expect(cells.nth(0)).toHaveText(/^0\.\d{3}$/);
    await expect(cells.nth(1)).toHaveText(/^0\.\d{3}$/);
    await expect(cells.nth(2)).toHaveText(/^\d+\.\d%$/);
    await expect(cells.nth(3)).toHaveText(/^(0|100)% of 1 image$/);
    await expect(cells.locator('canvas.curve')).toHaveCount(2);
  }
  await expect(cam.locator('#faithfulness-verdict')).toHaveText(
    /^Grad-CAM at conv4_x for Egyptian cat: (beats random at insertion and at deletion|beats random at insertion, not at deletion|beats random at deletion, not at insertion|does not beat random at insertion or at deletion)\.$/,
  );
  await expect(table.locator('thead th').last()).toHaveText('Increase in Confidence (% of images) ↑');
  // Where the random map wins at deletion, the panel says so in words beside the numbers.
  const areas = await table.locator('tbody tr td:nth-child(3)').allInnerTexts();
  const [mapDeletion, randomDeletion] = areas.map((t) => Number(t.trim()));
  const note = cam.locator('#faithfulness-deletion-note');
  if (mapDeletion! >= randomDeletion!) await expect(note).toContainText('The random map wins at deletion');
  else await expect(note).toHaveCount(0);
  // Another class's figures are there too.
  await cam.locator('.cam-classes button[role=radio]').nth(1).click();
  await expect(table.locator('tbody tr')).toHaveCount(2);
  await cam.locator('.cam-classes button[role=radio]').first().click();
  await cam.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.mouse.move(5, 795);
  await screenshot(panelArea(page), 'explain-faithfulness');
});

test('Occlusion and Score-CAM: settings checked as typed, maps of the size they imply; a long occlusion cancelled', async ({
  page,
}) => {
  const panel = await exploreChelsea(page);
  const cam = panel.locator('#cam');
  const canvas = cam.locator('#cam-canvas');
  await panel.locator('#explain-method').selectOption('occlusion');
  // Occlusion reads no layer: the Layer list gives way to why.
  await expect(panel.locator('#explain-layer')).toHaveCount(0);
  await expect(panel.locator('#explain-layer-note')).toContainText('perturbs the input image');
  // A patch of 0 is refused with the reason, and nothing is asked of the model.
  const patch = panel.locator('#explain-patch');
  await patch.fill('0');
  await expect(panel.locator('#explain-problems li')).toHaveText([
    'Patch must be a whole number of pixels from 1 to 224',
  ]);
  await expect(patch).toHaveAttribute('aria-invalid', 'true');
  // 64-pixel patches every 32 pixels: (224 − 64) / 32 + 1 = 6 positions down and across.
  await patch.fill('64');
  await panel.locator('#explain-stride').fill('32');
  await panel.locator('#explain-stride').press('Enter');
  await expect(cam.locator('#cam-title')).toHaveText('Why: occlusion sensitivity', { timeout: 60_000 });
  await expect(canvas).toHaveAttribute('data-grid', '6×6', { timeout: 60_000 });

  // Score-CAM with 8 channels of conv5_x: a 7×7 map.
  await panel.locator('#explain-method').selectOption('scorecam');
  await panel.locator('#explain-layer').selectOption('conv5_x');
  await panel.locator('#explain-channels').fill('8');
  await panel.locator('#explain-channels').press('Enter');
  await expect(cam.locator('#cam-title')).toHaveText('Why: Score-CAM at conv5_x', { timeout: 60_000 });
  await expect(canvas).toHaveAttribute('data-grid', '7×7');
  await expect(cam).toContainText('8 of conv5_x');

  // Occlusion with 8-pixel patches every 2 pixels (109² positions) runs long: Cancel stops it.
  await panel.locator('#explain-method').selectOption('occlusion');
  await patch.fill('8');
  await panel.locator('#explain-stride').fill('2');
  await panel.locator('#explain-stride').press('Enter');
  await cam.locator('#explain-cancel').click();
  await expect(cam.locator('#explain-status')).toHaveText('Cancelled.');
});

test('A feature-map position (click, or arrows and Enter) shows its receptive field on the crop and on chelsea.png', async ({
  page,
}) => {
  const panel = await exploreChelsea(page);
  // conv4_1 a: 14×14 positions, each seeing 99×99 pixels, 16 pixels apart.
  await openSection(panel, 'Architecture');
  await panel.locator('tr[data-name^="conv4_1 a"]').click();
  const maps = panel.locator('#feature-maps');
  await expect(maps.locator('.fm-grid figure')).toHaveCount(16);
  await expect(maps.locator('#rf-hint')).toBeVisible();

  // Keyboard: focus a tile (the cursor starts at its centre, 7, 7), move it, Enter.
  const tile = maps.locator('.fm-grid figure').first();
  await tile.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  const channel = await tile.getAttribute('data-channel');
  await expect(maps.locator('#rf-title')).toHaveText(`Receptive field · channel ${channel}, y 8, x 9`);
  await expect(maps.locator('#rf-text')).toContainText('99×99 input pixels');
  await expect(maps.locator('#rf-text')).toContainText('neighbouring positions are 16×16 pixels apart');
  await expect(maps.locator('#rf-crop')).toHaveAttribute('data-box', /^\d+,\d+,99,99$/);
  // On the original (451×300): the crop is its central 263×263 pixels, so the field is ~1.17× larger there.
  await expect(maps.locator('#rf-original')).toHaveAttribute('data-box', /^\d+,\d+,116,116$/);
  await expect(tile.locator('.fm-cursor.picked')).toBeVisible();
  await page.mouse.move(5, 795);
  await maps.locator('#fm-title').focus();
  await maps.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await screenshot(panelArea(page), 'receptive-field');

  // The first tile enlarged stays inside the grid: not over the text above it, not clipped at the left.
  const first = maps.locator('.fm-grid figure').first();
  await first.hover();
  await expect(first.locator('.fm-view')).toHaveCSS('transform', 'matrix(2.4, 0, 0, 2.4, 0, 0)');
  const grown = (await first.locator('.fm-view').boundingBox())!;
  const gridBox = (await maps.locator('.fm-grid').boundingBox())!;
  const above = (await maps.locator('.section-head + p').boundingBox())!;
  expect(grown.x).toBeGreaterThanOrEqual(gridBox.x - 0.5);
  expect(grown.y).toBeGreaterThanOrEqual(above.y + above.height - 0.5);

  // A click on the top-left corner of another tile: position 0, 0, whose field reaches into the padding.
  const other = maps.locator('.fm-grid figure').nth(1);
  // Hovering enlarges the tile: click once it has grown, so the position is taken on the enlarged tile.
  await other.hover();
  await expect(other.locator('.fm-view')).toHaveCSS('transform', 'matrix(2.4, 0, 0, 2.4, 0, 0)');
  await other.locator('canvas.fm-tile').click({ position: { x: 3, y: 3 } });
  const otherChannel = await other.getAttribute('data-channel');
  await expect(maps.locator('#rf-title')).toHaveText(`Receptive field · channel ${otherChannel}, y 0, x 0`);
  await expect(maps.locator('#rf-text')).toContainText('of them inside it (the rest is padding)');
  await page.mouse.move(5, 795);
  await maps.locator('#fm-title').focus();
  await screenshot(panelArea(page), 'receptive-field-corner');
});
