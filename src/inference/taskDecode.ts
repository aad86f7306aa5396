// A task model's raw outputs → what it found, in the original image's pixels: YOLO anchors decoded and
// suppressed, instance masks and keypoints, torchvision's boxes, a segmenter's class map and shares.
// Pure functions of numbers; the worker runs the model and calls them.
import { suppress, type Candidate } from '../shared/detections';
import type {
  ClassMap,
  ClassShare,
  Detection,
  DetectionResult,
  SegmentationResult,
  Task,
  Thresholds,
} from '../shared/tasks';

/** Where the image lies in the model's input: input = image × scale + pad, per axis. */
export interface Frame {
  /** The image's size (after EXIF orientation). */
  width: number;
  height: number;
  /** The model input's size. */
  inputWidth: number;
  inputHeight: number;
  scaleX: number;
  scaleY: number;
  padX: number;
  padY: number;
}

/**
 * The positions of a `width`×`height` map over the input that cover the image (the letterbox border out): every
 * position the image reaches, partly covered edges included.
 */
export function imageRegion(
  f: Frame,
  width: number,
  height: number,
): { x: number; y: number; width: number; height: number } {
  const [sx, sy] = [width / f.inputWidth, height / f.inputHeight];
  const x = Math.min(width - 1, Math.max(0, Math.floor(f.padX * sx)));
  const y = Math.min(height - 1, Math.max(0, Math.floor(f.padY * sy)));
  const right = Math.min(width, Math.max(x + 1, Math.ceil((f.padX + f.width * f.scaleX) * sx)));
  const bottom = Math.min(height, Math.max(y + 1, Math.ceil((f.padY + f.height * f.scaleY) * sy)));
  return { x, y, width: right - x, height: bottom - y };
}

/** One output as float32 (integer labels too: class ids are far below 2^24) with its dims. */
export interface RawOutput {
  data: Float32Array;
  dims: readonly number[];
}

/** The anchors above the threshold, best class each (YOLOv8: [4 + C + extra, A]). */
export function anchorsLastCandidates(
  out: Float32Array,
  rows: number,
  classes: number,
  floor: number,
): Candidate[] {
  const anchors = out.length / rows;
  const best = new Float32Array(anchors).fill(-Infinity);
  const cls = new Int32Array(anchors);
  for (let c = 0; c < classes; c++) {
    const base = (4 + c) * anchors;
    for (let a = 0; a < anchors; a++) {
      const s = out[base + a]!;
      if (s > best[a]!) {
        best[a] = s;
        cls[a] = c;
      }
    }
  }
  const found: Candidate[] = [];
  for (let a = 0; a < anchors; a++) {
    if (!(best[a]! > floor)) continue;
    const [cx, cy, w, h] = [out[a]!, out[anchors + a]!, out[2 * anchors + a]!, out[3 * anchors + a]!];
    found.push({
      box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2],
      score: best[a]!,
      cls: cls[a]!,
      anchor: a,
    });
  }
  return found;
}

/** YOLOv5's rows [A, 5 + C]: score = objectness × best class score. */
export function anchorsFirstCandidates(out: Float32Array, cols: number, floor: number): Candidate[] {
  const found: Candidate[] = [];
  for (let a = 0, base = 0; base < out.length; a++, base += cols) {
    const objectness = out[base + 4]!;
    if (!(objectness > floor)) continue;
    let [score, cls] = [-Infinity, 0];
    for (let c = 5; c < cols; c++) {
      const s = objectness * out[base + c]!;
      if (s > score) [score, cls] = [s, c - 5];
    }
    if (!(score > floor)) continue;
    const [cx, cy, w, h] = [out[base]!, out[base + 1]!, out[base + 2]!, out[base + 3]!];
    found.push({ box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], score, cls, anchor: a });
  }
  return found;
}

/** A box from input pixels to the image's, clipped to the image. */
export function toImage(box: readonly number[], f: Frame): [number, number, number, number] {
  const x = (v: number): number => clamp((v - f.padX) / f.scaleX, 0, f.width);
  const y = (v: number): number => clamp((v - f.padY) / f.scaleY, 0, f.height);
  return [x(box[0]!), y(box[1]!), x(box[2]!), y(box[3]!)];
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/**
 * The head scale an anchor belongs to and its cell there: anchors come scale by scale, finest first, with
 * `perCell` anchors per cell at every scale (1 for YOLOv8, 3 for YOLOv5, anchor-major within a scale).
 */
export function anchorCell(
  anchor: number,
  strides: readonly number[],
  input: number,
  perCell = 1,
): { stride: number; x: number; y: number; side: number } | undefined {
  let start = 0;
  for (const stride of strides) {
    const side = input / stride;
    const cells = side * side;
    if (anchor < start + perCell * cells) {
      const at = (anchor - start) % cells;
      return { stride, x: at % side, y: Math.floor(at / side), side };
    }
    start += perCell * cells;
  }
  return undefined;
}

/** The stride of the head scale an anchor belongs to, `anchors` being the head's total. */
export function strideOf(
  anchor: number,
  anchors: number,
  strides: readonly number[] | undefined,
  f: Frame,
): number | undefined {
  if (!strides) return undefined;
  const cells = strides.reduce((n, s) => n + (f.inputWidth / s) ** 2, 0);
  return anchorCell(anchor, strides, f.inputWidth, anchors / cells)?.stride;
}

/**
 * Decodes a detector's outputs into detections in the image's pixels. Instance masks are counted in the
 * image's pixels and drawn into one label map (detection i → i + 1, the better detection on top).
 */
export function decodeDetections(
  task: Task,
  outputs: RawOutput[],
  t: Thresholds,
  f: Frame,
  labels: readonly string[],
  /** Also return the candidates above this score (≤ t.confidence) in the image's pixels, for the panel. */
  floor?: number,
): DetectionResult {
  const kind = task.kind === 'segment' ? 'detect' : task.kind;
  const label = (c: number): string => labels[c] ?? `class ${c}`;
  const main = outputs[0]!;
  if (task.head === 'boxes') {
    const [boxes, ids, scores] = outputs as [RawOutput, RawOutput, RawOutput];
    const all: Detection[] = [];
    for (let k = 0; k < scores.data.length; k++) {
      const score = scores.data[k]!;
      if (!(score > t.confidence)) continue;
      const index = ids.data[k]!;
      const box = Array.from(boxes.data.subarray(4 * k, 4 * k + 4));
      all.push({ index, label: label(index), score, box: toImage(box, f) });
    }
    all.sort((a, b) => b.score - a.score);
    return { task: kind, detections: all.slice(0, t.maxDetections), candidates: all.length, thresholds: t };
  }
  const data = main.data;
  const firstLayout = task.head === 'anchors-first';
  const rows = main.dims[1]!;
  const lowest = Math.min(floor ?? t.confidence, t.confidence);
  const found = firstLayout
    ? anchorsFirstCandidates(data, main.dims[2]!, lowest)
    : anchorsLastCandidates(data, rows, task.classes, lowest);
  const candidates = found.filter((c) => c.score > t.confidence);
  const kept = suppress(candidates, t.confidence, t.iou, t.maxDetections);
  const anchors = firstLayout ? main.dims[1]! : main.dims[2]!;
  const extra = (row: number, a: number): number => data[row * anchors + a]!;
  const detections = kept.map((c): Detection => {
    const d: Detection = {
      index: c.cls,
      label: label(c.cls),
      score: c.score,
      box: toImage(c.box, f),
      anchor: c.anchor,
    };
    const stride = strideOf(c.anchor, anchors, task.strides, f);
    if (stride !== undefined) d.stride = stride;
    if (task.keypoints) {
      const [count, dims] = task.keypoints;
      const first = 4 + task.classes;
      d.keypoints = Array.from({ length: count }, (_, k) => {
        const at = (j: number): number => extra(first + k * dims + j, c.anchor);
        const [x, y] = toImage([at(0), at(1), at(0), at(1)], f);
        return [x, y, dims > 2 ? at(2) : 1];
      });
    }
    return d;
  });
  const result: DetectionResult = { task: kind, detections, candidates: candidates.length, thresholds: t };
  if (floor !== undefined) {
    result.boxes = found
      .sort((a, b) => b.score - a.score || a.anchor - b.anchor)
      .slice(0, MAX_BOXES)
      .map((c) => ({ ...c, box: toImage(c.box, f) }));
  }
  if (task.masks !== undefined && outputs[1]) {
    const coefficients = kept.map((c) =>
      Float32Array.from({ length: task.masks! }, (_, m) => extra(4 + task.classes + m, c.anchor)),
    );
    const masks = instanceMasks(kept, coefficients, outputs[1], f);
    detections.forEach((d, i) => (d.maskPixels = masks.pixels[i]));
    result.map = masks.map;
  }
  return result;
}

/** Most candidates sent to the panel's sliders: far more than any threshold there keeps. */
const MAX_BOXES = 5000;

/** The longest side of a class map made for display: fine enough to see, small enough to send. */
const MAP_SIDE = 320;

/**
 * Instance masks as ultralytics' `process_mask` makes them: coefficients × prototypes at the prototypes'
 * resolution, zeroed outside the box (scaled to that resolution), upsampled bilinearly (here straight to the
 * image's pixels), kept where the logit is above 0. Returns each mask's pixel count in the image and a label
 * map at display resolution.
 */
export function instanceMasks(
  kept: readonly Candidate[],
  coefficients: readonly Float32Array[],
  protos: RawOutput,
  f: Frame,
): { pixels: number[]; map: ClassMap } {
  const [m, ph, pw] = [protos.dims[1]!, protos.dims[2]!, protos.dims[3]!];
  const proto = protos.data;
  const plane = ph * pw;
  const [sx, sy] = [pw / f.inputWidth, ph / f.inputHeight];
  // Mask logits at prototype resolution, one plane per detection, cropped to its box.
  const logits = coefficients.map((coef, i) => {
    const out = new Float32Array(plane);
    const [x1, y1, x2, y2] = kept[i]!.box;
    for (let y = 0; y < ph; y++) {
      if (y < y1 * sy || y >= y2 * sy) continue;
      for (let x = 0; x < pw; x++) {
        if (x < x1 * sx || x >= x2 * sx) continue;
        let v = 0;
        for (let k = 0; k < m; k++) v += coef[k]! * proto[k * plane + y * pw + x]!;
        out[y * pw + x] = v;
      }
    }
    return out;
  });
  // The input-pixel region outside which a mask's upsampled logit is 0: a cropped plane's last prototype
  // pixel still reaches 1.5 pixels beyond the box at prototype resolution; two are allowed.
  const reach = kept.map(({ box }) => [box[0] - 2 / sx, box[1] - 2 / sy, box[2] + 2 / sx, box[3] + 2 / sy]);
  const inside = (i: number, ix: number, iy: number): boolean => {
    const r = reach[i]!;
    if (ix < r[0]! || ix >= r[2]! || iy < r[1]! || iy >= r[3]!) return false;
    return bilinear(logits[i]!, pw, ph, ix * sx - 0.5, iy * sy - 0.5) > 0;
  };
  const pixels = reach.map((r, i) => {
    const [x1, y1, x2, y2] = toImage(r, f).map(Math.floor) as [number, number, number, number];
    let count = 0;
    for (let y = y1; y < Math.min(y2 + 1, f.height); y++) {
      const iy = (y + 0.5) * f.scaleY + f.padY;
      for (let x = x1; x < Math.min(x2 + 1, f.width); x++) {
        if (inside(i, (x + 0.5) * f.scaleX + f.padX, iy)) count++;
      }
    }
    return count;
  });
  const shrink = Math.min(1, MAP_SIDE / Math.max(f.width, f.height));
  const [mw, mh] = [Math.max(1, Math.round(f.width * shrink)), Math.max(1, Math.round(f.height * shrink))];
  const data = new Uint8Array(mw * mh);
  for (let y = 0; y < mh; y++) {
    const iy = (((y + 0.5) * f.height) / mh) * f.scaleY + f.padY;
    for (let x = 0; x < mw; x++) {
      const ix = (((x + 0.5) * f.width) / mw) * f.scaleX + f.padX;
      const hit = kept.findIndex((_, i) => inside(i, ix, iy));
      data[y * mw + x] = hit < 0 || hit > 253 ? 0 : hit + 1;
    }
  }
  return { pixels, map: { width: mw, height: mh, data } };
}

/** Bilinear sample of a plane at (x, y), edges clamped (as F.interpolate's align_corners=False). */
function bilinear(plane: Float32Array, w: number, h: number, x: number, y: number): number {
  const cx = clamp(x, 0, w - 1);
  const cy = clamp(y, 0, h - 1);
  const [x0, y0] = [Math.floor(cx), Math.floor(cy)];
  const [x1, y1] = [Math.min(x0 + 1, w - 1), Math.min(y0 + 1, h - 1)];
  const [fx, fy] = [cx - x0, cy - y0];
  const top = plane[y0 * w + x0]! * (1 - fx) + plane[y0 * w + x1]! * fx;
  const bottom = plane[y1 * w + x0]! * (1 - fx) + plane[y1 * w + x1]! * fx;
  return top * (1 - fy) + bottom * fy;
}

/**
 * A segmenter's [1, C, h, w] scores → the class of each output pixel over the image (the letterbox border
 * left out) and each class's share of those pixels, largest first.
 */
export function decodeSegmentation(out: RawOutput, f: Frame, labels: readonly string[]): SegmentationResult {
  const [classes, h, w] = [out.dims[1]!, out.dims[2]!, out.dims[3]!];
  const data = out.data;
  const plane = h * w;
  // The output pixels that cover the image: the input's image region at the output's resolution.
  const region = imageRegion(f, w, h);
  const [x0, y0, mw, mh] = [region.x, region.y, region.width, region.height];
  const [x1, y1] = [x0 + mw, y0 + mh];
  const map = new Uint8Array(mw * mh);
  const counts = new Float64Array(classes);
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const at = y * w + x;
      let [best, cls] = [-Infinity, 0];
      for (let c = 0; c < classes; c++) {
        const v = data[c * plane + at]!;
        if (v > best) [best, cls] = [v, c];
      }
      counts[cls] = counts[cls]! + 1;
      map[(y - y0) * mw + (x - x0)] = Math.min(cls, 254);
    }
  }
  const total = mw * mh;
  const shares: ClassShare[] = [];
  counts.forEach((n, index) => {
    if (n > 0) shares.push({ index, label: labels[index] ?? `class ${index}`, fraction: n / total });
  });
  shares.sort((a, b) => b.fraction - a.fraction || a.index - b.index);
  return { task: 'segment', classes: shares, map: { width: mw, height: mh, data: map } };
}
