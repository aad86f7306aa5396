// Classification results as CSV or JSON files (the panel's Export buttons).
import type { ImageEntry } from '../../shared/protocol';

/** JSON in the CLI's classify format: `{file, top, provider, ms}` or `{file, error}`. */
export function resultsJson(entries: readonly ImageEntry[]): string {
  const rows = entries.map((e) =>
    'error' in e
      ? { file: e.file, error: e.error }
      : { file: e.file, top: e.top, provider: e.provider, ms: e.ms },
  );
  return JSON.stringify(rows, null, 2) + '\n';
}

/** CSV with one row per image: the top-1 class, the top-5 as `label (p)` list, or the error. */
export function resultsCsv(entries: readonly ImageEntry[]): string {
  const lines = [['file', 'top1_index', 'top1_label', 'top1_probability', 'top5', 'error'].join(',')];
  for (const e of entries) {
    if ('error' in e) {
      lines.push([cell(e.file), '', '', '', '', cell(e.error)].join(','));
      continue;
    }
    const [t] = e.top;
    const top5 = e.top.map((p) => `${p.label} (${p.probability.toFixed(4)})`).join('; ');
    const top1 = t ? [String(t.index), cell(t.label), t.probability.toFixed(6)] : ['', '', ''];
    lines.push([cell(e.file), ...top1, cell(top5), ''].join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** RFC 4180 quoting; a leading =, +, - or @ is prefixed with ' so spreadsheets do not run it as a formula. */
function cell(text: string): string {
  const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
