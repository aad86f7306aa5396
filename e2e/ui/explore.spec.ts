// Exploring the current image: measured activations in the layer table, a layer's feature maps (click or
// Enter on its row), and the class activation map with its class buttons and opacity slider.
import { expect, test, type FrameLocator, type Locator } from '@playwright/test';
import {
  classifyFromExplorer,
  openSection,
  openWorkbench,
  panelArea,
  panelFrame,
  screenshot,
} from './workbench';

/** ResNet50's layer rows: 50 counted layers, 4 projection shortcuts, the max pool and the global average pool. */
const layerRows = 56;

/** Waits until the exploration of the current image has filled the layer table and drawn a CAM. */
async function expectExplored(panel: FrameLocator): Promise<void> {
  await expect(panel.locator('#layers tr.layer')).toHaveCount(layerRows);
  await expect(panel.locator('#layers tr.layer td.act .stats')).toHaveCount(layerRows);
  await expect(panel.locator('#cam-canvas')).toHaveAttribute('data-drawn', /./);
}

/** The part of a canvas element that the pixel checks use (the tests' tsconfig has no DOM types). */
interface Canvas2d {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}

/** Pixel statistics of a canvas inside the webview: the variance of its RGB values, and a hash of them. */
async function canvasStats(canvas: Locator): Promise<{ variance: number; hash: number }> {
  return canvas.evaluate((el) => {
    const c = el as unknown as Canvas2d;
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    let sq = 0;
    let n = 0;
    let hash = 0;
    for (const [i, v] of data.entries()) {
      if (i % 4 === 3) continue; // alpha
      sum += v;
      sq += v * v;
      n++;
      hash = (hash * 31 + v) | 0;
    }
    const mean = sum / n;
    return { variance: sq / n - mean * mean, hash };
  });
}

/** The feature-map tiles shown so far. */
function tiles(panel: FrameLocator): Locator {
  return panel.locator('#feature-maps .fm-grid figure');
}

/** Checks that every tile is labelled "ch N" and a value range "lo … hi" with lo ≤ hi. */
async function expectTileLabels(panel: FrameLocator, count: number): Promise<void> {
  await expect(tiles(panel)).toHaveCount(count);
  const captions = await tiles(panel).locator('figcaption').allInnerTexts();
  const channels = new Set<number>();
  for (const caption of captions) {
    const m = /^ch (\d+)\s+(-?\d+\.\d+) … (-?\d+\.\d+)$/.exec(caption.trim());
    expect(m, `tile caption "${caption}"`).not.toBeNull();
    channels.add(Number(m![1]));
    expect(Number(m![2])).toBeLessThanOrEqual(Number(m![3]));
  }
  expect(channels.size, 'every tile shows a different channel').toBe(count);
}

test('chelsea.png: measured activations in every layer row; feature maps by click and Enter, 16 more', async ({
  page,
}) => {
  await openWorkbench(page);
  await classifyFromExplorer(page, 'chelsea.png');
  const panel = panelFrame(page);
  await expect(panel.locator('ol#top5 > li').first().locator('.label')).toHaveText('Egyptian cat');
  await expectExplored(panel);
  // Room for the Activations column beside the others (and wider screenshots).
  await page.keyboard.press('Control+B');
  await expect(page.locator('.part.sidebar')).toBeHidden();
  await openSection(panel, 'Architecture');

  const conv41a = panel.locator('tr[data-name^="conv4_1 a"]');
  const act = conv41a.locator('td.act');
  await expect(act.locator('canvas.spark')).toHaveCount(1);
  await expect(act.locator('.stats')).toHaveText(/^μ \d+\.\d\d · max \d+\.\d · \d+% zero$/);
  // Every measured output shape equals the computed one.
  await expect(panel.locator('.badge.mismatch')).toHaveCount(0);
  // The card adds the measurements: conv4_1 a's output is 256×14×14 for one image.
  await conv41a.hover();
  const card = panel.locator('#layer-card');
  await expect(card.locator('h3')).toHaveText(/^conv4_1 a/);
  await expect(
    card.locator('dt', { hasText: /^measured output$/ }).locator('xpath=following-sibling::dd[1]'),
  ).toHaveText('1×256×14×14');
  await screenshot(panelArea(page), 'explore-activations');

  // A click on a layer row opens its feature maps: the 16 strongest channels.
  const maps = panel.locator('#feature-maps');
  await conv41a.click();
  await expect(maps.locator('#fm-title')).toHaveText(/^Feature maps · conv4_1 a/);
  await expectTileLabels(panel, 16);
  await expect(maps).toContainText('16 of 256 channels');
  await expect(maps.locator('.fm-tile').first()).toHaveJSProperty('width', 14);

  // The maps opened in Explain; back in Architecture, Enter on another (focused) row switches to that layer.
  await expect(panel.getByRole('tab', { name: 'Explain', exact: true })).toHaveAttribute(
    'aria-selected',
    'true',
  );
  await openSection(panel, 'Architecture');
  const conv51b = panel.locator('tr[data-name^="conv5_1 b"]');
  await conv51b.focus();
  await page.keyboard.press('Enter');
  await expect(maps.locator('#fm-title')).toHaveText(/^Feature maps · conv5_1 b/);
  await expectTileLabels(panel, 16);
  await expect(maps).toContainText('16 of 512 channels');
  await expect(maps.locator('.fm-tile').first()).toHaveJSProperty('width', 7);

  // "Show 16 more" appends the next page.
  await maps.locator('#fm-more').click();
  await expectTileLabels(panel, 32);
  await expect(maps).toContainText('32 of 512 channels');

  // The next and previous explored layers, in the table's order, without going back to the table; the
  // button keeps focus, so Enter steps on.
  const next = maps.locator('#fm-next');
  await expect(next).toHaveText(/^conv5_1 c .* →$/);
  await next.focus();
  await page.keyboard.press('Enter');
  await expect(maps.locator('#fm-title')).toHaveText(/^Feature maps · conv5_1 c/);
  await expect(next).toBeFocused();
  await expect(maps.locator('#fm-previous')).toHaveText(/^← conv5_1 b/);
  await maps.locator('#fm-previous').click();
  await expect(maps.locator('#fm-title')).toHaveText(/^Feature maps · conv5_1 b/);
  await expectTileLabels(panel, 16);

  // Hovering a tile enlarges it.
  const tile = tiles(panel).nth(5);
  await page.mouse.move(5, 795);
  await tile.hover();
  await expect(tile.locator('.fm-view')).toHaveCSS('transform', 'matrix(2.4, 0, 0, 2.4, 0, 0)');
  await screenshot(panelArea(page), 'explore-feature-maps');
});

test('chelsea.png: class activation map of "Egyptian cat", another class, opacity', async ({ page }) => {
  await openWorkbench(page);
  await classifyFromExplorer(page, 'chelsea.png');
  const panel = panelFrame(page);
  await expectExplored(panel);
  await openSection(panel, 'Explain');

  const cam = panel.locator('#cam');
  const canvas = cam.locator('#cam-canvas');
  await expect(canvas).toHaveAttribute('data-drawn', 'Egyptian cat');
  const classes = cam.locator('.cam-classes button[role=radio]');
  await expect(classes).toHaveCount(5);
  await expect(classes.first()).toHaveAttribute('aria-checked', 'true');
  await expect(classes.first()).toContainText('Egyptian cat');
  // The crop under a half-transparent heat map: far from blank (the preview loads asynchronously).
  await expect.poll(async () => (await canvasStats(canvas)).variance).toBeGreaterThan(200);
  const cat = await canvasStats(canvas);

  // Another class redraws the map.
  const other = classes.nth(2);
  const otherLabel = (await other.innerText()).replace(/\s+\d+(\.\d+)?%$/, '');
  await other.click();
  await expect(canvas).toHaveAttribute('data-drawn', otherLabel);
  await expect(other).toHaveAttribute('aria-checked', 'true');
  await expect(classes.first()).toHaveAttribute('aria-checked', 'false');
  expect((await canvasStats(canvas)).hash, `the ${otherLabel} map should differ`).not.toBe(cat.hash);
  await classes.first().click();
  await expect(canvas).toHaveAttribute('data-drawn', 'Egyptian cat');

  // The opacity slider (keyboard): Home shows the crop alone, End the heat map alone.
  const slider = cam.locator('#cam-opacity');
  await expect(slider).toHaveValue('0.5');
  await slider.focus();
  await page.keyboard.press('Home');
  await expect(slider).toHaveValue('0');
  const photo = await canvasStats(canvas);
  await page.keyboard.press('End');
  await expect(slider).toHaveValue('1');
  const heat = await canvasStats(canvas);
  expect(photo.hash).not.toBe(heat.hash);
  expect(photo.hash).not.toBe(cat.hash);
  expect(photo.variance).toBeGreaterThan(200);
  await page.keyboard.press('ArrowLeft');
  await expect(slider).toHaveValue(/^0\.95/);
  console.log(
    `CAM pixel variance: crop ${photo.variance.toFixed(0)}, 50% ${cat.variance.toFixed(0)}, heat ${heat.variance.toFixed(0)}`,
  );

  await slider.fill('0.6');
  await page.mouse.move(5, 795);
  await cam.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await screenshot(panelArea(page), 'explore-cam');
});
