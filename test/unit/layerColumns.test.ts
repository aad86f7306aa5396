// Which columns of the layer table a pane shows (webview/layerColumns.ts): the collapse steps' widths, the
// order in which columns go, and the stylesheet (container queries) made from them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  COLLAPSE_ORDER,
  COLUMN_KEYS,
  collapseSteps,
  columnStyles,
  type ColumnKey,
  type Filled,
} from '../../webview/layerColumns';

const NONE: Filled = { time: false, quant: false, act: false };
const ALL: Filled = { time: true, quant: true, act: true };

/** The columns a pane `em` wide shows, as the container queries decide: a step is taken below its width. */
function shown(em: number, filled: Filled): ColumnKey[] {
  const gone = new Set<string>(
    collapseSteps(filled)
      .filter((s) => em < s.needs)
      .map((s) => s.step),
  );
  const present = COLUMN_KEYS.filter((k) => !(k === 'time' || k === 'quant' || k === 'act') || filled[k]);
  return present.filter((k) => !gone.has(k));
}

test('each collapse step needs less room than the one before; the layer column never goes', () => {
  for (const filled of [NONE, ALL, { time: true, quant: false, act: false }]) {
    const steps = collapseSteps(filled);
    for (let i = 1; i < steps.length; i++) {
      assert.ok(steps[i]!.needs < steps[i - 1]!.needs, `${steps[i]!.step} after ${steps[i - 1]!.step}`);
    }
    assert.deepEqual(
      steps.map((s) => s.step),
      COLLAPSE_ORDER.filter((s) => shown(1000, filled).includes(s === 'act-stats' ? 'act' : s)),
      'the steps follow the order, only for columns there are',
    );
    assert.ok(!steps.some((s) => (s.step as string) === 'name'), 'the layer column never goes');
  }
  // Nothing filled: the widest step is the whole table; the table's own figures go last.
  const plain = collapseSteps(NONE);
  assert.equal(plain[0]!.step, 'kernel');
  assert.deepEqual(
    plain.slice(-2).map((s) => s.step),
    ['output', 'params'],
  );
});

test('panes as wide as the panel at 1024 and 1280 px keep the model’s figures and drop detail first', () => {
  // A 13 px font: the 465 px table pane beside the card at 1024 px (Explorer open) is 35.8 em.
  assert.deepEqual(shown(35.8, NONE), ['name', 'output', 'params', 'macs']);
  // Everything filled: a profile's times outlast the output size.
  assert.deepEqual(shown(35.8, ALL), ['name', 'params', 'macs', 'time']);
  // At 1280 px the pane is 610 px (46.9 em): the channels come back, and an explored image's histogram.
  assert.deepEqual(shown(46.9, NONE), ['name', 'channels', 'output', 'params', 'macs']);
  assert.deepEqual(shown(46.9, { time: false, quant: false, act: true }), [
    'name',
    'output',
    'params',
    'macs',
    'act',
  ]);
  // Wide enough for everything.
  assert.deepEqual(shown(1000, ALL), [...COLUMN_KEYS]);
  // Narrower than anything: the layer column and the multiply-adds stay (the pane scrolls).
  assert.deepEqual(shown(5, ALL), ['name', 'macs']);
});

test('the stylesheet hides unfilled columns and has one container query per step, at its width', () => {
  const css = columnStyles(NONE);
  for (const key of ['time', 'quant', 'act'])
    assert.match(css, new RegExp(`#layers \\.c-${key} \\{ display: none; \\}`));
  const queries = [...css.matchAll(/@container layers \(width < ([\d.]+)em\) \{ (.*) \}/g)];
  const steps = collapseSteps(NONE);
  assert.equal(queries.length, steps.length);
  queries.forEach((q, i) => {
    assert.equal(Number(q[1]), Number(steps[i]!.needs.toFixed(2)));
    assert.match(
      q[2]!,
      new RegExp(`--w-${steps[i]!.step}: 0em; \\} #layers \\.c-${steps[i]!.step} \\{ display: none;`),
    );
  });
  // Every column has its width (the stage rows' labels add up those before Params), 0 when not shown.
  for (const key of COLUMN_KEYS) assert.match(css, new RegExp(`--w-${key}: [\\d.]+em;`));
  assert.match(css, /--w-time: 0em;/);
  assert.match(columnStyles(ALL), /--w-time: 8\.5em;/);
  // With activations, the first step keeps their histogram and drops their statistics.
  assert.match(
    columnStyles(ALL),
    /@container layers \(width < [\d.]+em\) \{ #layers \{ --w-act: [\d.]+em; \} #layers \.act \.stats \{ display: none; \} \}/,
  );
});
