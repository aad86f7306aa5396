// Saliency maps over the model's input crop: a layer-sized grid upsampled to the crop (bilinear, as the
// panel draws it), and images that keep or replace pixels by a map's order.

/** A grid of `rows`×`cols` values (row-major) laid over a square crop. */
export interface Grid {
  rows: number;
  cols: number;
  values: ArrayLike<number>;
}

/** Bilinear upsampling of a grid to crop×crop, each cell's value at its centre (as the panel draws it). */
export function upsample(grid: Grid, crop: number): Float32Array {
  const out = new Float32Array(crop * crop);
  const { rows, cols, values } = grid;
  for (let y = 0; y < crop; y++) {
    const gy = Math.min(Math.max(((y + 0.5) * rows) / crop - 0.5, 0), rows - 1);
    const y0 = Math.floor(gy);
    const y1 = Math.min(y0 + 1, rows - 1);
    const fy = gy - y0;
    for (let x = 0; x < crop; x++) {
      const gx = Math.min(Math.max(((x + 0.5) * cols) / crop - 0.5, 0), cols - 1);
      const x0 = Math.floor(gx);
      const x1 = Math.min(x0 + 1, cols - 1);
      const fx = gx - x0;
      const top = values[y0 * cols + x0]! * (1 - fx) + values[y0 * cols + x1]! * fx;
      const bottom = values[y1 * cols + x0]! * (1 - fx) + values[y1 * cols + x1]! * fx;
      out[y * crop + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** Pixel indices of the crop, most salient first (ties keep index order, so the order is reproducible). */
export function pixelOrder(saliency: Float32Array): Uint32Array {
  const idx = Uint32Array.from(saliency.keys());
  return idx.sort((a, b) => saliency[b]! - saliency[a]! || a - b);
}

/** The image (NCHW, one image) with each channel plane multiplied by the map (values 0…1). */
export function maskWith(image: Float32Array, map: Float32Array, baseline: Float32Array): Float32Array {
  const plane = map.length;
  const out = new Float32Array(image.length);
  for (let c = 0; c < image.length / plane; c++) {
    for (let i = 0; i < plane; i++) {
      const k = c * plane + i;
      out[k] = baseline[k]! + (image[k]! - baseline[k]!) * map[i]!;
    }
  }
  return out;
}

/** A blurred copy of an NCHW image (box blur of the given radius, three passes ≈ Gaussian): a baseline
 *  that removes detail but keeps colour, so removed pixels do not look like a new, sharp object. */
export function blurred(image: Float32Array, side: number, radius: number): Float32Array {
  const out = Float32Array.from(image);
  const plane = side * side;
  const tmp = new Float32Array(plane);
  for (let c = 0; c < image.length / plane; c++) {
    const p = out.subarray(c * plane, (c + 1) * plane);
    for (let pass = 0; pass < 3; pass++) {
      boxLine(p, tmp, side, radius, true);
      boxLine(tmp, p, side, radius, false);
    }
  }
  return out;
}

// One box-blur pass along rows (horizontal) or columns, from `src` into `dst`, edges clamped.
function boxLine(src: Float32Array, dst: Float32Array, side: number, r: number, horizontal: boolean): void {
  const at = (line: number, i: number): number => (horizontal ? line * side + i : i * side + line);
  for (let line = 0; line < side; line++) {
    let sum = 0;
    for (let i = -r; i <= r; i++) sum += src[at(line, Math.min(Math.max(i, 0), side - 1))]!;
    for (let i = 0; i < side; i++) {
      dst[at(line, i)] = sum / (2 * r + 1);
      sum += src[at(line, Math.min(i + r + 1, side - 1))]! - src[at(line, Math.max(i - r, 0))]!;
    }
  }
}

/** A reproducible random grid with values in 0…1 (the "random map" faithfulness scores are compared with). */
export function randomGrid(rows: number, cols: number, seed: number): Grid {
  let s = seed >>> 0 || 1;
  const values = Array.from({ length: rows * cols }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  });
  return { rows, cols, values };
}
