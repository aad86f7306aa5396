// The panel's layout (#19): at 1024 and 1280 px wide nothing scrolls sideways and the layer table's header and
// last column are in view; the detail card sits beside the table, never over the row it describes or a
// column; it follows keyboard focus before the pointer and waits for the user after a model loads; every
// section is one tab away. Also writes the panel's screenshots in a light and a dark theme.
import { expect, test, type FrameLocator, type Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { fixtureBytes, runnable } from '../../test/unit/helpers/fixtures';
import {
  classifyFromExplorer,
  openSection,
  openWorkbench,
  panelArea,
  panelFrame,
  quickInput,
  resetColorTheme,
  runCommand,
  screenshot,
  setUserSetting,
  workspaceDir,
} from './workbench';

/** A second model to load while the pointer rests on the table: a runnable SqueezeNet 1.1. */
const MODEL = 'layoutnet.onnx';

test.beforeAll(() => {
  const file = path.join(workspaceDir, MODEL);
  if (!fs.existsSync(file)) fs.writeFileSync(file, runnable(fixtureBytes('squeezenet1_1.ts')));
});

/** A box as getBoundingClientRect gives it, in the panel's coordinates. */
interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** What the panel's layout looks like right now, measured in its document. */
interface Geometry {
  /** document.scrollingElement's scrollWidth and clientWidth. */
  scrollWidth: number;
  clientWidth: number;
  viewport: { width: number; height: number };
  /** The part of the table's scroll container that shows (its client area). */
  pane: Box;
  header: Box;
  /** The header cells that are rendered, left to right. */
  columns: (Box & { name: string })[];
  card: Box;
}

/**
 * Measures the layout; `#layers`' scroll container is its nearest ancestor that scrolls. (Evaluated as text in
 * the panel's frame: the tests' tsconfig has no DOM types.)
 */
async function geometry(panel: FrameLocator): Promise<Geometry> {
  const frame = await (await panel.locator('body').elementHandle())!.ownerFrame();
  return (await frame!.evaluate(`(() => {
    const table = document.getElementById('layers');
    const box = (el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    };
    let scroller = table.parentElement;
    while (scroller && !/(auto|scroll)/.test(getComputedStyle(scroller).overflowX))
      scroller = scroller.parentElement;
    scroller = scroller || document.documentElement;
    const s = scroller.getBoundingClientRect();
    const left = s.left + scroller.clientLeft;
    const top = s.top + scroller.clientTop;
    return {
      scrollWidth: document.scrollingElement.scrollWidth,
      clientWidth: document.scrollingElement.clientWidth,
      viewport: { width: innerWidth, height: innerHeight },
      pane: { left, top, right: left + scroller.clientWidth, bottom: top + scroller.clientHeight },
      header: box(table.querySelector('thead')),
      columns: [...table.querySelectorAll('thead th')]
        .filter((th) => getComputedStyle(th).display !== 'none')
        .map((th) => ({ ...box(th), name: th.textContent })),
      card: box(document.getElementById('layer-card')),
    };
  })()`)) as Geometry;
}

/** The part of `a` inside `clip`, or undefined when none is. */
function clipTo(a: Box, clip: Box): Box | undefined {
  const c = {
    left: Math.max(a.left, clip.left),
    top: Math.max(a.top, clip.top),
    right: Math.min(a.right, clip.right),
    bottom: Math.min(a.bottom, clip.bottom),
  };
  return c.left < c.right && c.top < c.bottom ? c : undefined;
}

/** Whether two boxes overlap by more than a rounding error. */
function overlaps(a: Box, b: Box): boolean {
  const across = Math.min(a.right, b.right) - Math.max(a.left, b.left);
  const down = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
  return across > 0.5 && down > 0.5;
}

/** The row's box, as the page shows it. */
async function rowBox(panel: FrameLocator, selector: string): Promise<Box> {
  return panel.locator(selector).evaluate((el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
  });
}

/** The `data-name` (or stage) of the element focused in the panel. */
async function focusedRow(panel: FrameLocator): Promise<string | undefined> {
  return panel.locator('body').evaluate((body) => {
    const el = body.ownerDocument.activeElement;
    return el?.getAttribute('data-name') ?? el?.getAttribute('data-stage') ?? el?.tagName;
  });
}

/** Classifies chelsea.png (every column of the table gets filled) and opens the Architecture tab. */
async function exploredTable(page: Page): Promise<FrameLocator> {
  await openWorkbench(page);
  await classifyFromExplorer(page, 'chelsea.png');
  const panel = panelFrame(page);
  await expect(panel.locator('#layers tr.layer td.act canvas.spark')).toHaveCount(56);
  await openSection(panel, 'Architecture');
  return panel;
}

// At 800 px (the Explorer open, the panel ~430 px) the card goes under the table; from 1024 px it sits beside.
for (const width of [800, 1024, 1280]) {
  test.describe(`${width} px wide`, () => {
    test.use({ viewport: { width, height: 800 } });
    const under = width < 1024;

    test(`the table fits without sideways scrolling and the card sits ${under ? 'under' : 'beside'} it (${width} px)`, async ({
      page,
    }) => {
      const panel = await exploredTable(page);
      const row = 'tr[data-name^="conv4_1 a"]';
      await panel.locator(row).hover();
      await expect(panel.locator('#layer-card h3')).toHaveText(/^conv4_1 a/);
      const g = await geometry(panel);
      console.log(
        `${width} px: panel ${g.viewport.width} px, table pane ${Math.round(g.pane.right - g.pane.left)} px, ` +
          `columns ${g.columns.map((c) => c.name).join(', ')}`,
      );
      expect(g.scrollWidth, 'the page scrolls sideways').toBeLessThanOrEqual(g.clientWidth);
      // The header is in view, and so is the last column the table shows (not cut off by its pane).
      expect(g.header.top).toBeGreaterThanOrEqual(g.pane.top - 0.5);
      expect(g.header.bottom).toBeLessThanOrEqual(g.viewport.height);
      const last = g.columns.at(-1)!;
      expect(last.right, `${last.name} is cut off`).toBeLessThanOrEqual(
        Math.min(g.pane.right, g.viewport.width) + 0.5,
      );
      expect(g.columns.map((c) => c.name)).toEqual(
        expect.arrayContaining(under ? ['Layer', 'Mult-adds'] : ['Layer', 'Params', 'Mult-adds']),
      );
      await expect(panel.locator('#arch-split')).toHaveAttribute('split', under ? 'horizontal' : 'vertical');
      // A column whose header is hidden has no cell shown either (the activations' sparks once peeked out).
      const peeking = await panel.locator('#layers').evaluate((table) => {
        const getComputedStyle = (el: typeof table) => table.ownerDocument.defaultView!.getComputedStyle(el);
        const hidden = [...table.querySelectorAll('thead th')]
          .filter((th) => getComputedStyle(th).display === 'none')
          .flatMap((th) => [...th.classList].filter((c) => c.startsWith('c-')));
        return [...table.querySelectorAll('tbody td')]
          .filter(
            (td) => hidden.some((c) => td.classList.contains(c)) && getComputedStyle(td).display !== 'none',
          )
          .map((td) => td.className);
      });
      expect(peeking).toEqual([]);
      if (under) expect(g.card.top).toBeGreaterThanOrEqual(g.pane.bottom - 0.5);
      else expect(g.card.left).toBeGreaterThanOrEqual(g.pane.right - 0.5);
      // The card covers neither the row it describes nor any column the table shows.
      const described = clipTo(await rowBox(panel, row), g.pane);
      expect(described, 'the row is in view').toBeDefined();
      expect(overlaps(g.card, described!), 'the card covers its row').toBe(false);
      for (const c of g.columns) {
        const column = clipTo({ ...c, top: g.pane.top, bottom: g.pane.bottom }, g.pane);
        if (column) expect(overlaps(g.card, column), `the card covers ${c.name}`).toBe(false);
      }
      // Scrolled to the end, the header still heads the table.
      await panel.locator('.table-pane').evaluate((el) => (el.scrollTop = el.scrollHeight));
      const scrolled = await geometry(panel);
      expect(Math.abs(scrolled.header.top - scrolled.pane.top)).toBeLessThanOrEqual(1);
      await screenshot(panelArea(page), `layout-${width}`);
    });
  });
}

/** The workbench with ResNet50's 56 layer rows open ("Open Architecture"). */
async function openArchitecture(page: Page): Promise<FrameLocator> {
  await openWorkbench(page);
  await runCommand(page, 'CNN Lens: Open Architecture');
  const panel = panelFrame(page);
  await expect(panel.locator('#layers tr.layer')).toHaveCount(56);
  return panel;
}

test('the card waits for the user after a model loads, then follows keyboard focus before the pointer', async ({
  page,
}) => {
  const panel = await openArchitecture(page);
  // The panel put keyboard focus in the table; the user has not moved to a row yet.
  const card = panel.locator('#layer-card');
  await expect(card.locator('h3')).toHaveCount(0);
  await expect(card.locator('#layer-card-hint')).toBeVisible();

  // Pointing at a row shows it.
  const conv21a = panel.locator('tr[data-name^="conv2_1 a"]');
  await conv21a.hover();
  await expect(card.locator('h3')).toHaveText(/^conv2_1 a/);

  // Keyboard focus leads: End goes to the last row, and the card says so, whatever the pointer is over.
  await conv21a.click();
  await page.keyboard.press('End');
  const last = await focusedRow(panel);
  expect(last).toMatch(/^fc/);
  await expect(card.locator('h3')).toHaveText(new RegExp(`^${last}`));
  const over = (await panel.locator('tr[data-name^="conv2_2 a"]').boundingBox())!;
  await page.mouse.move(over.x + 20, over.y + over.height / 2);
  await page.mouse.move(over.x + 40, over.y + over.height / 2);
  await expect(card.locator('h3')).toHaveText(new RegExp(`^${last}`));

  // Once no row has focus, the pointer leads again.
  await panel.locator('#totals').click();
  await panel.locator('tr[data-name^="conv3_1 b"]').scrollIntoViewIfNeeded();
  const conv31b = (await panel.locator('tr[data-name^="conv3_1 b"]').boundingBox())!;
  const rest = { x: conv31b.x + 40, y: conv31b.y + conv31b.height / 2 };
  await page.mouse.move(rest.x, rest.y);
  await expect(card.locator('h3')).toHaveText(/^conv3_1 b/);

  // Another model loads (from the keyboard) under the resting pointer: its card waits for the user too.
  await runCommand(page, 'CNN Lens: Open in CNN Lens');
  await quickInput(page).locator('input').fill(MODEL);
  await expect(quickInput(page).getByRole('option', { name: new RegExp(`^${MODEL}`) })).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(panel.locator('#family')).toHaveText('SqueezeNet', { timeout: 60_000 });
  // What Chromium sends when content moves under a resting pointer: a move to the same place.
  await page.mouse.move(rest.x, rest.y);
  await expect(card.locator('h3')).toHaveCount(0);
  await expect(card.locator('#layer-card-hint')).toBeVisible();
});

test('the details pane resizes from the keyboard: a separator after the table, arrow keys, Home and End', async ({
  page,
}) => {
  const panel = await openArchitecture(page);
  const card = panel.locator('#layer-card');
  const width = async (): Promise<number> => (await card.boundingBox())!.width;
  const before = await width();
  // Tab from the table reaches the separator, which says what its keys do.
  await panel.locator('tr[data-name^="conv2_1 a"]').click();
  await page.keyboard.press('Tab');
  const separator = panel.getByRole('separator', { name: 'Size of the details pane' });
  await expect(separator).toBeFocused();
  await expect(separator).toBeVisible();
  await expect(separator).toContainText('← →');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await expect.poll(width).toBeGreaterThan(before + 40);
  await screenshot(panelArea(page), 'layout-split-keys');
  await page.keyboard.press('ArrowRight');
  await expect.poll(width).toBeLessThan(before + 40);
  // Home: the details as wide as the table's minimum allows; End: the details at their narrowest.
  await page.keyboard.press('Home');
  await expect.poll(width).toBeGreaterThan(before + 100);
  await page.keyboard.press('End');
  await expect.poll(width).toBeLessThan(before);
  await expect(separator).toHaveAttribute('aria-valuenow', /^\d+$/);
});

test('every section is one tab away, by pointer and by keyboard; the tab bar stays in view; nothing blocked', async ({
  page,
}) => {
  // What the page's Content-Security-Policy refuses is reported on the console (the workbench's and the
  // webview's frames alike).
  const refused: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text());
  });
  await openWorkbench(page);
  await runCommand(page, 'CNN Lens: Open Architecture');
  const panel = panelFrame(page);
  // The components' own styles (constructed stylesheets) apply: a tab's pointer cursor comes from them.
  await expect(panel.getByRole('tab', { name: 'Result', exact: true })).toHaveCSS('cursor', 'pointer');
  await expect(panel.getByRole('tab', { name: 'Architecture', exact: true })).toHaveAttribute(
    'aria-selected',
    'true',
  );
  const sections: [tab: string, content: string][] = [
    ['Result', '#section-result .hint'],
    ['Architecture', '#architecture #depth'],
    ['Explain', '#explain-intro'],
    ['Compare', '#compare-models'],
    ['Profile', '#profile-button'],
    ['Quantization', '#compare-precisions'],
  ];
  for (const [tab, content] of sections) {
    await openSection(panel, tab);
    await expect(panel.locator(content)).toBeVisible();
    for (const [other, elsewhere] of sections)
      if (other !== tab) await expect(panel.locator(elsewhere)).toBeHidden();
  }
  // Keyboard: the arrow keys move between the tabs, Enter opens one.
  await openSection(panel, 'Result');
  await expect(panel.getByRole('tab', { name: 'Result', exact: true })).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  await expect(panel.getByRole('tab', { name: 'Explain', exact: true })).toHaveAttribute(
    'aria-selected',
    'true',
  );
  await expect(panel.locator('#explain-intro')).toBeVisible();
  // Deep in the table, the tabs are still there.
  await openSection(panel, 'Architecture');
  await panel.locator('tr.stage').first().click();
  await page.keyboard.press('End');
  const bar = (await panel.getByRole('tablist').first().boundingBox())!;
  expect(bar.y).toBeGreaterThanOrEqual(0);
  await expect(panel.getByRole('tab', { name: 'Profile', exact: true })).toBeInViewport();
  expect(refused, 'the Content-Security-Policy refused something').toEqual([]);
});

// Screenshots of the panel at 1280×800 in a light and a dark theme, for the README. They go to
// test-results/e2e/ as every test's do; with DOCS_SCREENSHOTS=1 also to docs/screenshots/ (palette PNGs).
test.describe('screenshots', () => {
  test.use({ viewport: { width: 1280, height: 800 } });
  // The theme goes into the user settings file that later tests share.
  test.afterEach(async ({ page }) => {
    await page.close();
    resetColorTheme();
  });

  for (const [theme, kind, suffix] of [
    ['Default Light Modern', 'vscode-light', 'light'],
    ['Default Dark Modern', 'vscode-dark', 'dark'],
  ] as const) {
    test(`the panel in ${theme}`, async ({ page }) => {
      setUserSetting('workbench.colorTheme', theme);
      const panel = await exploredTable(page);
      await expect(panel.locator('body')).toHaveAttribute('data-vscode-theme-kind', kind);
      // Pointed at (a click would open its feature maps, in Explain).
      await panel.locator('tr[data-name^="conv4_1 a"]').hover();
      await expect(panel.locator('#layer-card h3')).toHaveText(/^conv4_1 a/);
      await page.mouse.move(5, 795);
      await shot(page, `architecture-${suffix}`);
      await openSection(panel, 'Result');
      await expect(panel.locator('ol#top5 > li')).toHaveCount(5);
      await shot(page, `panel-${suffix}`);
    });
  }
});

/** The workbench as it is now, as test-results/e2e/`name`.png, and for the docs when asked. */
async function shot(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  if (!process.env.DOCS_SCREENSHOTS) return;
  const dir = path.resolve(__dirname, '../../docs/screenshots');
  fs.mkdirSync(dir, { recursive: true });
  const png = await page.screenshot();
  await sharp(png)
    .png({ palette: true, compressionLevel: 9 })
    .toFile(path.join(dir, `${name}.png`));
}
