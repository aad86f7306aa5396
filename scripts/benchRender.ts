// Benchmark rows for the webview's layer table (issues #10 and #19: a 600-node graph's table is shown —
// rendered, styled and laid out — in ≤ 50 ms), measured in a real browser: the built panel bundle
// (dist/webview.js, media/panel.css) in headless Chromium, its Architecture tab open, sent the host's
// `architecture` message with real tables — ResNet50's as the worker serves it, and a 608-row ResNet-shaped
// graph (e2e/ui/models.spec.ts builds the same) — run after run.
// Used by scripts/bench.ts; alone: npx tsx scripts/benchRender.ts [--runs N] (after npm run -s build:bundles).
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveDescriptor } from '../src/files/modelPaths';
import { pageHtml } from '../src/host/panel/page';
import { analyseModel } from '../src/inference/modelAnalysis';
import { median } from '../src/inference/timing';
import { parseOnnx } from '../src/model/onnxGraph';
import { analyseGraph } from '../src/model/structure/table';
import type { ArchitectureView } from '../src/shared/protocol';
import { buildResNet, DEEP_RESNET } from '../test/unit/helpers/onnxBuilder';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const CHROMIUM = '/usr/bin/chromium';
/** A made-up origin the page is served from (through request interception), as a webview's is its own. */
const ORIGIN = 'https://cnn-lens.bench';
/** The e2e tests' viewport. */
const VIEWPORT = { width: 1280, height: 800 };
/** Issue #19's bound on the 600-row table's time to be shown (render, style and layout), in ms. */
export const RENDER_TARGET_MS = 50;

/** One row of the bench table (the shape of scripts/bench.ts's rows); samples in ms. */
export interface RenderRow {
  key: string;
  measurement: string;
  provider: string;
  samples: number[];
}

/** The measured rows, or none and a note saying why they were skipped; notes add what the rows do not show. */
export interface RenderRows {
  rows: RenderRow[];
  notes: string[];
}

/** How many recorded runs per case, after how many unrecorded ones; where Chromium is. */
export interface RenderOptions {
  runs: number;
  warmUp?: number;
  chromium?: string;
}

/** One table to render. */
interface Case {
  key: string;
  label: string;
  view: ArchitectureView;
}

/** What the page reports for one `architecture` message. */
interface Sample {
  /** The webview's own measurement: `section.dataset.renderMs` (building the section's DOM). */
  renderMs: number;
  /**
   * From the page's first look at the message to the end of the frame that paints the new table: decoding
   * its data, the panel's handler, then the rest below. The wait for that frame (the page idle until the
   * display asks for one) is left out.
   */
  shownMs: number;
  /** The panel's message handler, which includes the render. */
  handlerMs: number;
  /** After the handler: style and layout (forced, as the frame would do them), then the frame's paint. */
  layoutMs: number;
  /**
   * From the render's start until the table holds every row (`#layers`' data-complete-ms): the first groups
   * of rows are made before the first frame, the others a few per task after it.
   */
  completeMs: number;
  /** Whether the message put a section in the emptied host. */
  rendered: boolean;
  /** `tr.layer` rows in the new table. */
  layerRows: number;
}

// The few Playwright calls used here, typed locally: playwright-core is e2e/'s dependency, not the root's,
// so the type check must not need it installed.
interface Route {
  request(): { url(): string };
  fulfill(r: { status?: number; contentType?: string; body?: string | Buffer }): Promise<void>;
}
interface Page {
  route(url: string, handler: (route: Route) => Promise<void>): Promise<void>;
  addInitScript(script: { content: string }): Promise<void>;
  goto(url: string): Promise<unknown>;
  waitForFunction(expression: string): Promise<unknown>;
  /** The value of a JavaScript expression (a promise's, awaited). */
  evaluate<R>(expression: string): Promise<R>;
  on(event: 'pageerror', listener: (err: Error) => void): void;
}
interface Browser {
  version(): string;
  newPage(opts: { viewport: { width: number; height: number } }): Promise<Page>;
  close(): Promise<void>;
}
interface PlaywrightCore {
  chromium: { launch(opts: { executablePath: string; headless: boolean }): Promise<Browser> };
}

/** Renders each case's table `runs` times in headless Chromium, interleaved; rows for the bench table. */
export async function measureRender(opts: RenderOptions): Promise<RenderRows> {
  const executable = opts.chromium ?? CHROMIUM;
  const missing = await whyNot(executable);
  if (missing) return { rows: [], notes: [`webview render rows skipped: ${missing}`] };
  const pw = loadPlaywright();
  if (typeof pw === 'string') return { rows: [], notes: [`webview render rows skipped: ${pw}`] };

  const cases = await tables();
  const browser = await pw.chromium.launch({ executablePath: executable, headless: true });
  try {
    const panel = await openPanel(browser);
    const provider = `chromium ${browser.version()}`;
    const byCase = new Map<string, Sample[]>(cases.map((c) => [c.key, []]));
    const first = new Map<string, Sample>();
    // Sent once: each run then posts the page's copy, which the browser clones as it does the host's.
    for (const c of cases)
      await panel.page.evaluate(
        `window.__bench.views[${JSON.stringify(c.key)}] = ${JSON.stringify(c.view)}; 0`,
      );
    const warmUp = opts.warmUp ?? 2;
    for (let i = 0; i < warmUp + opts.runs; i++) {
      // Interleaved, so that load from elsewhere on the machine falls on both cases alike.
      for (const c of cases) {
        const s = await renderOnce(panel, c);
        if (!first.has(c.key)) first.set(c.key, s);
        if (i >= warmUp) byCase.get(c.key)!.push(s);
      }
    }
    const rows: RenderRow[] = [];
    for (const c of cases) {
      const samples = byCase.get(c.key)!;
      const r = (suffix: string, measurement: string, f: (s: Sample) => number): RenderRow => ({
        key: `render-${c.key}${suffix}`,
        measurement,
        provider,
        samples: samples.map(f),
      });
      rows.push(
        r(
          '',
          `webview architecture table, ${c.label}: render before the first frame (the page's data-render-ms)`,
          (s) => s.renderMs,
        ),
        r(
          '-shown',
          '  message to table shown: decode + the panel’s handler + style, layout and paint',
          (s) => s.shownMs,
        ),
        r('-handler', '  of which the panel’s handler (the render and the rest)', (s) => s.handlerMs),
        r('-layout', '  of which style, layout and paint', (s) => s.layoutMs),
        r(
          '-complete',
          '  render to every row in the table (the rest built after the first frame)',
          (s) => s.completeMs,
        ),
      );
    }
    const firsts = cases.map((c) => {
      const s = first.get(c.key)!;
      return `${c.label} ${s.renderMs.toFixed(1)} ms (laid out ${s.shownMs.toFixed(1)} ms)`;
    });
    return {
      rows,
      notes: [
        `Webview tables in headless ${provider} at ${VIEWPORT.width}×${VIEWPORT.height}, without VS Code's theme ` +
          `variables; first render in a fresh page (not in the rows): ${firsts.join(', ')}`,
      ],
    };
  } finally {
    await browser.close();
  }
}

/** Why the page cannot be measured here (no browser, no bundle), or undefined when it can. */
async function whyNot(executable: string): Promise<string | undefined> {
  const exists = (f: string): Promise<boolean> =>
    fs.access(f).then(
      () => true,
      () => false,
    );
  if (!(await exists(executable))) return `no Chromium at ${executable}`;
  for (const f of ['dist/webview.js', 'media/panel.css']) {
    if (!(await exists(path.join(ROOT, f)))) return `no ${f} (npm run -s build:bundles builds it)`;
  }
  return undefined;
}

/** playwright-core as e2e/ installs it (the root does not depend on it), or why it cannot be loaded. */
function loadPlaywright(): PlaywrightCore | string {
  try {
    return createRequire(path.join(ROOT, 'e2e', 'package.json'))('playwright-core') as PlaywrightCore;
  } catch {
    return 'playwright-core is not installed in e2e/ (cd e2e && npm ci)';
  }
}

/** ResNet50's table as the worker serves it, and the 608-row graph of the e2e render check. */
async function tables(): Promise<Case[]> {
  const descriptor = await resolveDescriptor(DIST, '', 'caffe');
  const resnet = await analyseModel(descriptor, () => undefined);
  // The graph e2e/ui/models.spec.ts writes as deep600.onnx.
  const deep = buildResNet(DEEP_RESNET).build();
  const deepTable = analyseGraph(parseOnnx(deep), { spatial: [64, 64] }).table;
  return [
    {
      key: 'resnet50',
      label: `ResNet50 (${resnet.table.rows.length} rows)`,
      view: { model: descriptor.name, table: resnet.table },
    },
    {
      key: 'deep600',
      label: `ResNet-shaped 4 × 50 bottlenecks (${deepTable.rows.length} rows)`,
      view: { model: 'deep600.onnx', table: deepTable },
    },
  ];
}

// Page code is kept as plain JavaScript text: functions passed from here would carry the helpers tsx adds.
// INIT runs before the bundle: the stand-in for VS Code's API, and a message listener registered before the
// panel's own, so that it notes when the page starts handling a message. `render` empties the section,
// posts one `architecture` message as the host does (the panel renders the table anew on every one), and
// measures it with a listener registered after the panel's (the components' microtasks have run by then): it
// forces the style and layout the next frame would do, then times that frame from its
// requestAnimationFrame to a task queued from it, which runs once the frame is painted.
const INIT = `
window.__bench = {
  posted: [],
  views: {},
  start: 0,
  decoded: 0,
  async render(key) {
    // Each table starts from an empty section, not from the other case's table, and a quiet frame.
    document.getElementById('arch').replaceChildren();
    void document.body.offsetHeight;
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    return new Promise((resolve) => {
      const after = () => {
        window.removeEventListener('message', after);
        const handled = performance.now();
        void document.body.offsetHeight;
        const laidOut = performance.now();
        requestAnimationFrame(() => {
          const frame = performance.now();
          setTimeout(async () => {
            // Waiting for the frame is not work: the time between the layout and the frame is left out.
            const painted = performance.now() - frame;
            const section = document.getElementById('architecture');
            const table = document.getElementById('layers');
            while (table && table.dataset.completeMs === undefined) await new Promise((w) => setTimeout(w, 5));
            resolve({
              renderMs: Number(section?.dataset.renderMs),
              shownMs: laidOut - window.__bench.start + painted,
              handlerMs: handled - window.__bench.decoded,
              layoutMs: laidOut - handled + painted,
              completeMs: Number(table?.dataset.completeMs),
              rendered: section !== null,
              layerRows: section?.querySelectorAll('#layers tr.layer').length ?? 0,
            });
          }, 0);
        });
      };
      window.addEventListener('message', after);
      window.postMessage({ type: 'architecture', architecture: window.__bench.views[key] }, '*');
    });
  },
};
window.acquireVsCodeApi = () => ({
  postMessage: (m) => window.__bench.posted.push(m),
  getState: () => undefined,
  setState: () => {},
});
window.addEventListener('message', (e) => {
  window.__bench.start = performance.now();
  // Reading the data decodes it (once): timed apart from the panel's handler.
  void e.data;
  window.__bench.decoded = performance.now();
});
`;

/** The panel's page (src/host/panel/page.ts), served from ORIGIN. */
async function openPanel(browser: Browser): Promise<Panel> {
  const page = await browser.newPage({ viewport: VIEWPORT });
  const errors: Error[] = [];
  page.on('pageerror', (err) => errors.push(err));
  const files: Record<string, [string, string]> = {
    '/dist/webview.js': [path.join(DIST, 'webview.js'), 'text/javascript'],
    '/media/panel.css': [path.join(ROOT, 'media', 'panel.css'), 'text/css'],
  };
  await page.route(`${ORIGIN}/**`, async (route) => {
    const { pathname } = new URL(route.request().url());
    if (pathname === '/')
      return route.fulfill({
        contentType: 'text/html',
        body: pageHtml({
          cspSource: ORIGIN,
          script: `${ORIGIN}/dist/webview.js`,
          style: `${ORIGIN}/media/panel.css`,
        }),
      });
    const file = files[pathname];
    if (!file) return route.fulfill({ status: 404 });
    return route.fulfill({ contentType: file[1], body: await fs.readFile(file[0]) });
  });
  await page.addInitScript({ content: INIT });
  await page.goto(`${ORIGIN}/`);
  // main.ts announces itself last thing on start.
  await page.waitForFunction(`window.__bench.posted.some((m) => m.type === 'ready')`);
  // "Open Architecture" as the host sends it: the table's tab opens (a table in a hidden tab is not laid out).
  await page.evaluate(`window.postMessage({ type: 'focusArchitecture' }, '*'); 0`);
  await page.waitForFunction(
    `document.querySelector('vscode-tab-panel[data-section="architecture"]:not([hidden])') !== null`,
  );
  const panel = { page, errors };
  throwPageErrors(panel, 'starting');
  return panel;
}

/** The page and the uncaught errors it has thrown so far. */
interface Panel {
  page: Page;
  errors: Error[];
}

/** Fails on the page's first uncaught error, if it threw any. */
function throwPageErrors(panel: Panel, doing: string): void {
  const [err] = panel.errors;
  if (err) throw new Error(`the panel page threw while ${doing}: ${err.message}`);
}

/** One `architecture` message for the case, checked: the page rendered the whole table and timed it. */
async function renderOnce(panel: Panel, c: Case): Promise<Sample> {
  const s = await panel.page.evaluate<Sample>(`window.__bench.render(${JSON.stringify(c.key)})`);
  throwPageErrors(panel, `rendering ${c.label}`);
  if (!s.rendered) throw new Error(`the page did not render the ${c.label} table`);
  if (s.layerRows !== c.view.table.rows.length) {
    throw new Error(`the page shows ${s.layerRows} of the ${c.view.table.rows.length} rows of ${c.label}`);
  }
  if (!Number.isFinite(s.renderMs)) throw new Error(`the page did not set data-render-ms for ${c.label}`);
  return s;
}

/** Median, min and max of a row, for printing alone. */
function line(r: RenderRow): string {
  const f = (ms: number): string => ms.toFixed(1);
  return (
    `| ${r.measurement} | ${r.provider} | ${f(median(r.samples))} | ${f(Math.min(...r.samples))} | ` +
    `${f(Math.max(...r.samples))} | ${r.samples.length} |`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  const { rows, notes } = await measureRender({ runs });
  const out = [
    '| measurement | provider | median ms | min | max | runs |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  out.push(...rows.map(line), '', ...notes);
  const deep = rows.find((r) => r.key === 'render-deep600-shown');
  if (deep) {
    const m = median(deep.samples);
    out.push(
      `Target: 600-row table shown (render, style, layout) ≤ ${RENDER_TARGET_MS} ms: ${m.toFixed(1)} ms — ${m <= RENDER_TARGET_MS ? 'MET' : 'MISSED'}`,
    );
  }
  process.stdout.write(out.join('\n') + '\n');
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.stack ?? err.message);
    process.exitCode = 1;
  });
}
