// PyTorch models in the Python editor (#20): open a model file and the layers' shapes appear at the end of the
// lines that built them, with a hover card and the totals above the class; a shape bug saved from the
// keyboard becomes an error at the line where the forward pass fails; fixing it clears it. The extension
// runs the repository's .venv-torch/bin/python (CPU torch), through the cnnLens.pythonPath workspace setting.
import { expect, test, type Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import {
  chooseContextMenuItem,
  explorerItem,
  openWorkbench,
  panelFrame,
  screenshot,
  workspaceDir,
} from './workbench';

const PYTHON = path.resolve(__dirname, '../../.venv-torch/bin/python');
const MODEL = 'tinynet.py';
const SOURCE = [
  'from torch import nn',
  '',
  '',
  '# cnn-lens: input=1,3,32,32',
  'class TinyNet(nn.Module):',
  '    def __init__(self):',
  '        super().__init__()',
  '        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)',
  '        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)',
  '        self.fc = nn.Linear(32, 10)',
  '',
  '    def forward(self, x):',
  '        x = self.conv2(self.conv1(x))',
  '        return self.fc(x.mean((2, 3)))',
  '',
].join('\n');
const CONV2 = 9; // 1-based line of conv2's construction

test.skip(!fs.existsSync(PYTHON), `no ${PYTHON}: run node scripts/torchVenv.mjs`);

// The interpreter as a workspace setting, which each window reads from the workspace when it loads: twice in
// a full run, a window loaded right after earlier specs never saw it as a user setting written just before
// (the extension log shows the first analysis with the default python3 and no configuration change after).
const WORKSPACE_SETTINGS = path.join(workspaceDir, '.vscode', 'settings.json');

test.beforeAll(() => {
  fs.writeFileSync(path.join(workspaceDir, MODEL), SOURCE);
  fs.mkdirSync(path.dirname(WORKSPACE_SETTINGS), { recursive: true });
  fs.writeFileSync(WORKSPACE_SETTINGS, JSON.stringify({ 'cnnLens.pythonPath': PYTHON }, null, 2) + '\n');
});

test.afterAll(() => {
  fs.rmSync(path.dirname(WORKSPACE_SETTINGS), { recursive: true, force: true });
  fs.rmSync(path.join(workspaceDir, MODEL), { force: true });
});

/** The editor's rendered line holding `text`. */
function viewLine(page: Page, text: string) {
  return page.locator('.monaco-editor .view-lines .view-line', { hasText: text });
}

/** Replaces the text of line `line` (1-based) of the active editor, after its indentation, and saves. */
async function replaceLine(page: Page, line: number, text: string): Promise<void> {
  await page.keyboard.press('Control+G');
  await expect(page.locator('.quick-input-widget input')).toBeFocused();
  await page.keyboard.insertText(String(line));
  await page.keyboard.press('Enter');
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+Home'); // to the first character after the indentation
  await page.keyboard.insertText(text);
  await page.keyboard.press('Control+S');
}

/** Whether an error squiggle lies on the rendered line holding `text`. */
async function squiggleOn(page: Page, text: string): Promise<boolean> {
  const line = await viewLine(page, text).boundingBox();
  const squiggles = await page.locator('.monaco-editor .squiggly-error').evaluateAll((els) =>
    els.map((e) => {
      const r = e.getBoundingClientRect();
      return r.top + r.height / 2;
    }),
  );
  return line !== null && squiggles.some((y) => y >= line.y && y <= line.y + line.height);
}

test('a PyTorch model file: shapes on its layer lines, a hover card, totals, and a shape bug where it happens', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await openWorkbench(page);
  await explorerItem(page, MODEL).dblclick();
  const editor = page.locator('.monaco-editor').first();
  await expect(viewLine(page, 'class TinyNet')).toBeVisible();

  // First analysis: Python starts, imports torch, exports the model.
  const opened = Date.now();
  const conv1Hint = '→ N×16×32×32 · 448 params · 442.4 k MACs';
  await expect(viewLine(page, 'self.conv1 =')).toContainText(conv1Hint, { timeout: 90_000 });
  const firstMs = Date.now() - opened;
  await expect(viewLine(page, 'self.conv2 =')).toContainText('→ N×32×16×16 · 4.6 k params · 1.2 M MACs');
  await expect(viewLine(page, 'self.fc =')).toContainText('→ N×10 · 330 params · 320 MACs');
  await expect(editor.locator('.codelens-decoration')).toContainText(
    'CNN Lens: 5.4 k params · 1.6 M MACs · Open architecture',
  );
  await screenshot(editor, 'python-hints');

  // The hover card of conv2's line: kernel, stride, channels, output shape, parameters, MACs.
  await viewLine(page, 'self.conv2 =').getByText('Conv2d').first().hover();
  const hover = page.locator('.monaco-hover').filter({ hasText: 'TinyNet' });
  await expect(hover).toBeVisible({ timeout: 10_000 });
  const card = hover.locator('table tr', { hasText: 'conv2' });
  await expect(card).toContainText('3×3');
  await expect(card).toContainText('2×2');
  await expect(card).toContainText('16 → 32');
  await expect(card).toContainText('N×32×16×16');
  await screenshot(hover, 'python-hover');
  await page.keyboard.press('Escape');

  // A shape bug, typed and saved: conv2 expects 8 channels and gets 16; the error is where forward fails.
  await editor.locator('.view-lines').click();
  const broken = Date.now();
  await replaceLine(page, CONV2, 'self.conv2 = nn.Conv2d(8, 32, 3, stride=2, padding=1)');
  await expect.poll(() => squiggleOn(page, 'x = self.conv2(self.conv1(x))'), { timeout: 30_000 }).toBe(true);
  const brokenMs = Date.now() - broken;
  await expect(page.locator('.monaco-editor .squiggly-error')).toHaveCount(1);
  // The layers that ran keep their shapes; the one that failed says so.
  await expect(viewLine(page, 'self.conv1 =')).toContainText('→ N×16×32×32 · 448 params');
  await expect(viewLine(page, 'self.conv2 =')).toContainText('✗ failed here');
  await expect(editor.locator('.codelens-decoration')).toContainText('✗ fails at layer 2');
  await screenshot(editor, 'python-shape-bug');
  // Its message, in the hover of the failing line.
  await viewLine(page, 'x = self.conv2(self.conv1(x))').getByText('conv1').first().hover();
  await expect(page.locator('.monaco-hover').filter({ hasText: 'to have 8 channels' })).toBeVisible({
    timeout: 10_000,
  });
  await page.keyboard.press('Escape');

  // Fixed and saved: the error goes, the hints come back.
  await editor.locator('.view-lines').click();
  const fixed = Date.now();
  await replaceLine(page, CONV2, 'self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)');
  await expect(page.locator('.monaco-editor .squiggly-error')).toHaveCount(0, { timeout: 30_000 });
  await expect(viewLine(page, 'self.conv2 =')).toContainText('→ N×32×16×16 · 4.6 k params · 1.2 M MACs');
  const fixedMs = Date.now() - fixed;
  test.info().annotations.push({
    type: 'timing',
    description: `first analysis ${firstMs} ms; shape bug shown ${brokenMs} ms after save; fix shown ${fixedMs} ms after save`,
  });
  console.log(`python editor timings: first ${firstMs} ms, bug ${brokenMs} ms, fix ${fixedMs} ms`);

  // Open Python Model from the Explorer: the model's table in the panel.
  await chooseContextMenuItem(page, MODEL, 'Open Python Model');
  const panel = panelFrame(page);
  const section = panel.locator('#architecture');
  await expect(section).toContainText('TinyNet (tinynet.py)', { timeout: 30_000 });
  await expect(section).toContainText('5,418 parameters');
  await screenshot(page, 'python-panel');

  // Rows and lines, linked both ways: a row's source opens its line; the cursor's line marks its row.
  const conv2Row = section.locator('tr.layer', {
    has: panel.locator('.source-link', { hasText: `${MODEL}:${CONV2}` }),
  });
  await expect(conv2Row).toHaveCount(1);
  await conv2Row.locator('.source-link').click();
  await expect(page.locator('.monaco-editor .current-line').first()).toBeVisible();
  await expect
    .poll(() => page.locator('.monaco-editor .line-numbers.active-line-number').first().textContent())
    .toBe(String(CONV2));
  await page.keyboard.press('ArrowUp'); // onto conv1's line
  await expect(section.locator('tr.layer.from-source')).toHaveCount(1);
  await expect(section.locator('tr.layer.from-source')).toContainText(`${MODEL}:${CONV2 - 1}`);
});
