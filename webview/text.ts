// Text of the panel's tables: numbers and block counts. No DOM here, so unit tests can import it.
// `toLocaleString` resolves its locale on every call (20 ms of a 600-row layer table); one Intl.NumberFormat
// gives the same text as src/shared/format's int().
import * as l10n from '@vscode/l10n';
import type { BlockSummary } from '../src/shared/layerTable';

const GROUPED = new Intl.NumberFormat('en-US');

/** 25,636,712 */
export function int(n: number): string {
  return GROUPED.format(n);
}

/** "3 bottleneck blocks", "6 dense layers", "1 transition + 12 dense layers", "9 inception modules". */
export function blockCounts(blocks: readonly BlockSummary[]): string {
  // Kinds in order of first appearance, each counted over the stage.
  const counts = new Map<string, number>();
  for (const b of blocks) counts.set(b.kind, (counts.get(b.kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => countOf(n, kind)).join(' + ');
}

/**
 * "1 bottleneck block", "2 ShuffleNet V2 units", "4 fire modules". A kind is the model's vocabulary, as layer
 * and op names are: it stays as it is, and a kind that is a noun already keeps its English plural.
 */
export function countOf(n: number, kind: string): string {
  if (kind === 'branches') return n === 1 ? l10n.t('{0} branch block', n) : l10n.t('{0} branch blocks', n);
  // Kinds that are nouns already ("dense layer", "inception module", "ShuffleNet V2 unit", "transition").
  if (/(block|module|unit|layer|group|transition)$/.test(kind)) return `${n} ${kind}${n === 1 ? '' : 's'}`;
  return n === 1 ? l10n.t('{0} {1} block', n, kind) : l10n.t('{0} {1} blocks', n, kind);
}
