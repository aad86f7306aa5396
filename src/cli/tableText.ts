// Renders a LayerTable as an aligned text table or as Markdown with stage subtotals.
import * as path from 'node:path';
import { compact, int, nchwText, shapeText } from '../shared/format';
import type { LayerRow, LayerTable } from '../shared/layerTable';

const HEADERS = [
  '#',
  'stage',
  'block',
  'layer',
  'kernel',
  'stride',
  'pads',
  'input',
  'output',
  'params',
  'MACs',
];

/** The column headers: a 'source' column (file:line) for models read from Python code. */
function headers(table: LayerTable): string[] {
  return table.rows.some((r) => r.source) ? [...HEADERS, 'source'] : HEADERS;
}

/** Aligned plain-text table, then stage summaries and totals. */
export function renderText(table: LayerTable): string {
  const lines = [headline(table), ''];
  lines.push(...align([headers(table), ...cells(table.rows)], [0, 9, 10]));
  if (table.stages.length > 0) {
    lines.push('');
    const stageHeader = ['stage', 'layers', 'blocks', 'output', 'params', 'MACs', 'layout'];
    const stageRows = table.stages.map((s) => [
      s.stage,
      String(s.counted),
      s.blocks > 0 ? `${s.blocks} ${s.block_kind ?? ''}`.trim() : '',
      `${s.out_size ? s.out_size.join('×') : '?'}, ${String(s.width ?? '?')}`,
      int(s.params),
      int(s.macs),
      s.layout,
    ]);
    lines.push(...align([stageHeader, ...stageRows], [1, 4, 5]));
  }
  lines.push('', totalsLine(table));
  for (const w of table.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n') + '\n';
}

/** Markdown table with a subtotal row after each stage and a totals row. */
export function renderMarkdown(table: LayerTable): string {
  const lines = [`**${headline(table)}**`, ''];
  const head = headers(table);
  lines.push(mdRow(head), mdRow(head.map((_, i) => (i === 0 || i === 9 || i === 10 ? '---:' : '---'))));
  // Subtotal and total rows leave the source column empty.
  const tail = head.slice(HEADERS.length).map(() => '');
  const body = cells(table.rows);
  table.rows.forEach((row, i) => {
    lines.push(mdRow(body[i]!));
    const next = table.rows[i + 1];
    const stage = table.stages.find((s) => s.stage === row.stage);
    if (stage && next?.stage !== row.stage) {
      const size = `${stage.out_size ? stage.out_size.join('×') : '?'}, ${String(stage.width ?? '?')}`;
      const label = `**${stage.stage} subtotal** (${plural(stage.counted, 'layer')}, out ${size})`;
      lines.push(
        mdRow([
          '',
          '',
          '',
          label,
          '',
          '',
          '',
          '',
          '',
          `**${int(stage.params)}**`,
          `**${int(stage.macs)}**`,
          ...tail,
        ]),
      );
    }
  });
  const t = table.totals;
  lines.push(
    mdRow([
      '',
      '',
      '',
      `**total** (${plural(t.counted, 'layer')})`,
      '',
      '',
      '',
      '',
      '',
      `**${int(t.params)}**`,
      `**${int(t.macs)}**`,
      ...tail,
    ]),
  );
  lines.push('', totalsLine(table));
  for (const w of table.warnings) lines.push('', `> warning: ${w}`);
  return lines.join('\n') + '\n';
}

function headline(table: LayerTable): string {
  const input = table.model.input ? `, input ${shapeText(table.model.input.shape)}` : '';
  const assumed = table.model.assumed ? ` (${table.model.assumed})` : '';
  const perStage = table.stages
    .filter((s) => s.counted > 0)
    .map((s) => `${s.stage} ${s.counted}`)
    .join(' + ');
  const kinds = new Map<string, number>();
  for (const b of table.blocks) kinds.set(b.kind, (kinds.get(b.kind) ?? 0) + 1);
  const blocks = [...kinds].map(([k, n]) => `${n} ${kindPlural(n, k)}`).join(', ');
  const projections =
    table.totals.projections > 0 ? `, ${table.totals.projections} projection shortcuts` : '';
  return `${table.family}, ${table.totals.counted} weighted layers (${perStage})${blocks ? `, ${blocks}` : ''}${projections}${input}${assumed}`;
}

/** 'bottlenecks', 'dense layers', 'MBConv blocks': a block kind for a count. */
function kindPlural(n: number, kind: string): string {
  if (n === 1) return kind;
  return /(module|layer|unit|block|group|bottleneck|residual|transition|separable)$/.test(kind)
    ? `${kind}s`
    : `${kind} blocks`;
}

function totalsLine(table: LayerTable): string {
  const t = table.totals;
  const buffers = t.buffers > 0 ? ` + ${int(t.buffers)} buffers (BatchNorm running statistics)` : '';
  const constants = t.constants > 0 ? ` + ${int(t.constants)} constants (not parameters)` : '';
  const shared = t.shared > 0 ? `, ${t.shared} shared tensors counted once` : '';
  return `total: ${int(t.params)} params${buffers}${constants}, ${int(t.macs)} multiply-adds per image (${compact(t.macs)}), ${t.counted} counted layers, ${t.rows} rows${shared}`;
}

// Counted rows are numbered so the depth (e.g. 50) can be read off the table.
function cells(rows: LayerRow[]): string[][] {
  let n = 0;
  const sourced = rows.some((r) => r.source);
  return rows.map((r) => [
    r.counted ? String(++n) : '',
    r.stage ?? '',
    r.block ?? '',
    r.name + (r.activation ? ` + ${r.activation}` : ''),
    r.kernel ? r.kernel.join('×') : '',
    r.stride ? r.stride.join('×') : '',
    r.pads ? r.pads.join(',') : '',
    shapeText(r.in_shape),
    nchwText(r.out_shape, r.channels_last),
    int(r.params),
    int(r.macs),
    ...(sourced ? [r.source ? `${path.basename(r.source.file)}:${r.source.line}` : ''] : []),
  ]);
}

// Pads every column to its widest cell; `right` lists right-aligned (numeric) columns.
function align(table: string[][], right: number[]): string[] {
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => [...(row[c] ?? '')].length)));
  return table.map((row) =>
    row
      .map((cell, c) => {
        const pad = ' '.repeat(widths[c]! - [...cell].length);
        return right.includes(c) ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd(),
  );
}

function mdRow(cellsOfRow: string[]): string {
  return `| ${cellsOfRow.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
