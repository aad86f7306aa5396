// Number and shape formatting shared by the CLI tables and the webview.
import type { TableShape } from './layerTable';

/** "N×3×224×224" style rendering of a shape; "?" when unknown. */
export function shapeText(shape: TableShape): string {
  return shape ? shape.join('×') : '?';
}

/**
 * A row's tensor in N×C×H×W order whatever its layout, marked where the graph holds it channels-last:
 * `N×384×56×56 (NHWC)` for ConvNeXt's [N, 56, 56, 384].
 */
export function nchwText(shape: TableShape, channelsLast: boolean): string {
  if (!shape || !channelsLast || shape.length !== 4) return shapeText(shape);
  return `${shapeText([shape[0]!, shape[3]!, shape[1]!, shape[2]!])} (NHWC)`;
}

/** 25,636,712 */
export function int(n: number): string {
  return n.toLocaleString('en-US');
}

/** 3.86 G, 118.01 M, 512 */
export function compact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

/** 75.4% */
export function percent(p: number, digits = 1): string {
  return `${(p * 100).toFixed(digits)}%`;
}

/** `v` rounded to `digits` decimals, for JSON answers that should not carry float noise. */
export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
