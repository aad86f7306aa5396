// What the Python editor shows on a model's lines: the rows of its layer table grouped by the line that
// constructed their modules, as inlay-hint text, a hover card, and the class's totals. Pure: no 'vscode'.
import type { LayerRow, LayerTable, TableShape } from '../../shared/layerTable';

/** The rows one line of the user's code constructed. */
export interface LineHint {
  /** Absolute path of the Python file. */
  file: string;
  /** 0-based line. */
  line: number;
  rows: LayerRow[];
  /** How many distinct modules the line built (a loop or comprehension builds several). */
  modules: number;
  /** The inlay hint: `→ N×128×28×28 · 73.9 k params · 57.8 M MACs`, `×7 → … ` for several modules. */
  label: string;
}

/** 23.5 M, 4.1 G, 73.9 k, 512: one decimal, as the editor's hints are read at a glance. */
export function short(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

/** A shape with its batch dimension written N: `N×128×28×28`; `?` when unknown. */
export function batchShape(shape: TableShape): string {
  if (!shape) return '?';
  return shape.map((d, i) => (i === 0 && shape.length > 1 ? 'N' : String(d))).join('×');
}

/** Whether a row is the module a failed forward pass stopped in. */
export function failedRow(row: LayerRow): boolean {
  return row.unknown?.startsWith('failed here') ?? false;
}

/** The table's rows grouped by their source line, in line order (rows without a source are left out). */
export function lineHints(table: LayerTable): LineHint[] {
  const byLine = new Map<string, LayerRow[]>();
  for (const row of table.rows) {
    if (!row.source) continue;
    const key = `${row.source.file}\n${row.source.line}`;
    const rows = byLine.get(key);
    if (rows) rows.push(row);
    else byLine.set(key, [row]);
  }
  const hints = [...byLine.values()].map((rows): LineHint => {
    const { file, line } = rows[0]!.source!;
    const modules = new Set(rows.map((r) => r.source!.module)).size;
    return { file, line: line - 1, rows, modules, label: hintLabel(rows, modules) };
  });
  return hints.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

function hintLabel(rows: readonly LayerRow[], modules: number): string {
  const failed = rows.find(failedRow);
  const shapes = [...new Set(rows.filter((r) => !failedRow(r)).map((r) => batchShape(r.out_shape)))];
  const count = modules > 1 ? `×${modules} ` : '';
  if (failed && shapes.length === 0) return `${count}→ ✗ failed here`;
  const shape = shapes.length > 1 ? `${shapes[0]} … ${shapes[shapes.length - 1]}` : (shapes[0] ?? '?');
  const params = rows.reduce((n, r) => n + r.params, 0);
  const macs = rows.reduce((n, r) => n + r.macs, 0);
  const parts = [`${count}→ ${shape}`];
  if (params > 0) parts.push(`${short(params)} params`);
  if (macs > 0) parts.push(`${short(macs)} MACs`);
  if (failed) parts.push('✗ failed here');
  return parts.join(' · ');
}

/** The hover card of a line: one table row per layer (kernel, stride, channels, output, params, MACs). */
export function hoverCard(hint: LineHint, model: string): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  const pair = (v: number[] | null): string => (v ? v.join('×') : '—');
  const channels = (r: LayerRow): string =>
    r.in_channels === null && r.out_channels === null
      ? '—'
      : `${r.in_channels ?? '?'} → ${r.out_channels ?? '?'}`;
  const built = hint.modules > 1 ? `, ${hint.modules} modules built on this line` : '';
  const lines = [
    `**${cell(model)}**${built}`,
    '',
    '| module | layer | kernel | stride | channels | output | params | MACs |',
    '|---|---|---|---|---|---|--:|--:|',
    ...hint.rows.map((r) =>
      [
        '',
        `\`${cell(r.source?.module ?? r.name)}\``,
        cell(r.op),
        pair(r.kernel),
        pair(r.stride),
        channels(r),
        failedRow(r) ? '✗ failed here' : batchShape(r.out_shape),
        r.params > 0 ? short(r.params) : r.shared.length > 0 ? 'shared' : '0',
        r.macs > 0 ? short(r.macs) : '—',
        '',
      ]
        .join(' | ')
        .trim(),
    ),
  ];
  const failed = hint.rows.find(failedRow);
  if (failed?.unknown) lines.push('', cell(failed.unknown));
  return lines.join('\n');
}

/** The class's CodeLens figures: `23.5 M params · 4.1 G MACs` (MACs only when the export ran). */
export function totalsText(table: LayerTable, parameters: number | undefined): string {
  const params = parameters ?? table.totals.params;
  const parts = [`${short(params)} params`];
  if (table.totals.macs > 0) parts.push(`${short(table.totals.macs)} MACs`);
  return parts.join(' · ');
}

/**
 * Hints for one file from several analyses (a model and its building blocks, or models in other files that
 * import it): where two analyses built modules on the same line, the one listed first wins, so callers
 * list the largest model first.
 */
export function hintsForFile(file: string, tables: readonly { table: LayerTable; model: string }[]) {
  const chosen = new Map<number, { hint: LineHint; model: string }>();
  for (const { table, model } of tables) {
    for (const hint of lineHints(table)) {
      if (hint.file === file && !chosen.has(hint.line)) chosen.set(hint.line, { hint, model });
    }
  }
  return [...chosen.values()].sort((a, b) => a.hint.line - b.hint.line);
}
