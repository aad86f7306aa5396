// A perceptual heat colour ramp (dark blue → teal → yellow) for activation values in 0…1.

const STOPS: [number, number, number][] = [
  [48, 18, 59],
  [40, 110, 200],
  [32, 180, 170],
  [130, 220, 80],
  [250, 230, 40],
  [240, 90, 20],
];

/** RGB for `t` in 0…1 (clamped). */
export function heat(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i];
  const b = STOPS[i + 1];
  if (!a || !b) throw new Error(`heat: ${t} is not a number`);
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** A canvas of `width`×`height` cells coloured by `values` scaled from [lo, hi] (row-major). */
export function heatCanvas(
  values: ArrayLike<number>,
  width: number,
  height: number,
  lo = 0,
  hi = 1,
): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(width, height);
  const span = hi - lo || 1;
  for (let i = 0; i < width * height; i++) {
    const v = values[i];
    if (v === undefined) throw new Error(`heatCanvas: ${values.length} values for ${width}×${height} cells`);
    const [r, g, b] = heat((v - lo) / span);
    img.data[i * 4] = r;
    img.data[i * 4 + 1] = g;
    img.data[i * 4 + 2] = b;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}
