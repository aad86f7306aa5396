// Image file bytes → the model's input tensor, following the model descriptor's preprocessing.
// Runs in the inference worker; sharp does its decoding on libuv's thread pool.
import type { Preprocessing } from '../shared/preprocessing';
import type { Fit } from '../shared/tasks';
import type { Frame } from './taskDecode';

type Sharp = typeof import('sharp');
let sharpModule: Sharp | undefined;

/**
 * sharp, loaded on first use so that nothing native loads before it is needed, with one libvips thread per
 * image: JPEG decoding is sequential, and more threads per image only contend with onnxruntime's (a 12 MP
 * JPEG to a 224 crop took 19 ms with one, 28 ms with libvips' default of one per CPU, on 2 CPUs). Images
 * decode side by side instead, as many as ./decodePacer allows.
 */
function loadSharp(): Sharp {
  if (!sharpModule) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    sharpModule = require('sharp') as Sharp;
    sharpModule.concurrency(1);
  }
  return sharpModule;
}

// A side beyond any picture: libpng refuses one over 1,000,000 pixels.
const MAX_SIDE = 1_000_000;

/** A preprocessed image: one NCHW float32 tensor of shape [3, crop, crop] and what it came from. */
export interface Prepared {
  tensor: Float32Array;
  /** The crop as a JPEG, when asked for (for display). */
  preview?: Uint8Array;
  /** Size of the image as displayed (after EXIF orientation), in pixels. */
  width: number;
  height: number;
  format: string;
}

/** An error with a message fit to show the user as is (the caller adds the file name). */
export class ImageError extends Error {}

/** An image's size as displayed, checked against the limits before anything is decoded. */
async function inspect(
  bytes: Uint8Array,
  maxPixels: number,
): Promise<{ width: number; height: number; format: string }> {
  if (bytes.length === 0) throw new ImageError('the file is empty (0 bytes)');
  const sharp = loadSharp();
  const meta = await decodeReliably(() => sharp(bytes, { limitInputPixels: false }).metadata()).catch(
    (err: Error) => {
      throw new ImageError(describeDecodeError(err));
    },
  );
  if (!meta.width || !meta.height || !meta.format) throw new ImageError('the image has no readable size');
  if (meta.format === 'svg')
    throw new ImageError('SVG images are not supported (vector graphics, not pixels)');
  // Animated images report the whole strip's height; only the first frame is decoded.
  const frameHeight = meta.pageHeight ?? meta.height;
  const pixels = meta.width * frameHeight;
  if (pixels > maxPixels) {
    const [size, limit] = formatSizes(pixels, maxPixels);
    throw new ImageError(
      `the image is ${meta.width}×${frameHeight} pixels (${size}), over the limit of ${limit} ` +
        '(setting cnnLens.maxPixels)',
    );
  }
  // A header that claims a side the decoders refuse (libpng stops at a million pixels) is corrupt; say so
  // rather than pass on a resampler's complaint about coordinates.
  if (Math.max(meta.width, frameHeight) > MAX_SIDE) {
    throw new ImageError(
      `the image header claims ${meta.width}×${frameHeight} pixels, which no decodable picture has: the file is corrupt`,
    );
  }
  const swap = (meta.orientation ?? 1) >= 5; // EXIF orientations 5–8 turn the image by 90°
  return {
    width: swap ? frameHeight : meta.width,
    height: swap ? meta.width : frameHeight,
    format: meta.format,
  };
}

/** The decoder, upright, on white, in sRGB, with `shape` applied, as raw RGB bytes of `side`×`side`. */
async function decodeTo(
  bytes: Uint8Array,
  maxPixels: number,
  side: number,
  shape: (image: import('sharp').Sharp) => import('sharp').Sharp,
): Promise<Buffer> {
  const sharp = loadSharp();
  let raw: Buffer;
  try {
    raw = await decodeReliably(() =>
      shape(
        sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' })
          .rotate()
          .flatten({ background: '#ffffff' })
          .toColourspace('srgb'),
      )
        .removeAlpha()
        .raw({ depth: 'uchar' })
        .toBuffer(),
    );
  } catch (err) {
    throw new ImageError(describeDecodeError(err as Error));
  }
  const expected = side * side * 3;
  if (raw.length !== expected) {
    throw new ImageError(
      `decoder returned ${raw.length} bytes, expected ${expected} for a ${side}² RGB image`,
    );
  }
  return raw;
}

/** The RGB bytes of a `side`² image as a JPEG, for display. */
function jpegOf(raw: Buffer, side: number): Promise<Buffer> {
  return loadSharp()(raw, { raw: { width: side, height: side, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** Decodes `bytes` and returns the model input for it; throws ImageError with a specific reason. */
export async function prepareImage(
  bytes: Uint8Array,
  p: Preprocessing,
  maxPixels: number,
  preview = false,
): Promise<Prepared> {
  const { width, height, format } = await inspect(bytes, maxPixels);
  const scale = p.resize / Math.min(width, height);
  const rw = Math.max(p.crop, Math.round(width * scale));
  const rh = Math.max(p.crop, Math.round(height * scale));
  const raw = await decodeTo(bytes, maxPixels, p.crop, (image) =>
    image
      .resize(rw, rh, { kernel: 'linear', fit: 'fill' })
      .extract({ left: (rw - p.crop) >> 1, top: (rh - p.crop) >> 1, width: p.crop, height: p.crop }),
  );
  const jpeg = preview ? await jpegOf(raw, p.crop) : undefined;
  return { tensor: toTensor(raw, p), preview: jpeg, width, height, format };
}

/** The whole image, upright, at most `side` pixels a side, as a JPEG: what a detector's boxes are drawn on. */
export async function wholePreview(bytes: Uint8Array, side: number, maxPixels: number): Promise<Uint8Array> {
  await inspect(bytes, maxPixels);
  const sharp = loadSharp();
  try {
    return await decodeReliably(() =>
      sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' })
        .rotate()
        .flatten({ background: '#ffffff' })
        .toColourspace('srgb')
        .resize(side, side, { fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality: 85 })
        .toBuffer(),
    );
  } catch (err) {
    throw new ImageError(describeDecodeError(err as Error));
  }
}

/** A whole image prepared for a detector or segmenter, with where it lies in the input. */
export interface PreparedWhole extends Prepared {
  frame: Frame;
}

/**
 * Decodes `bytes` into the model's `crop`×`crop` input whole, never cropped: letterboxed as ultralytics does
 * (the longer side fits, the rest is padded with `pad` evenly on both sides) or stretched to the square.
 */
export async function prepareWhole(
  bytes: Uint8Array,
  p: Preprocessing,
  fit: Fit,
  pad: number,
  maxPixels: number,
  preview = false,
): Promise<PreparedWhole> {
  const { width, height, format } = await inspect(bytes, maxPixels);
  const side = p.crop;
  let frame: Frame;
  let shape: (image: import('sharp').Sharp) => import('sharp').Sharp;
  if (fit === 'letterbox') {
    const gain = Math.min(side / width, side / height);
    const [rw, rh] = [Math.max(1, Math.round(width * gain)), Math.max(1, Math.round(height * gain))];
    const [dw, dh] = [(side - rw) / 2, (side - rh) / 2];
    const [left, top] = [Math.round(dw - 0.1), Math.round(dh - 0.1)];
    const extend = { left, top, right: side - rw - left, bottom: side - rh - top };
    const background = { r: pad, g: pad, b: pad };
    shape = (image) =>
      image.resize(rw, rh, { kernel: 'linear', fit: 'fill' }).extend({ ...extend, background });
    frame = {
      width,
      height,
      inputWidth: side,
      inputHeight: side,
      scaleX: gain,
      scaleY: gain,
      padX: left,
      padY: top,
    };
  } else {
    shape = (image) => image.resize(side, side, { kernel: 'linear', fit: 'fill' });
    frame = {
      width,
      height,
      inputWidth: side,
      inputHeight: side,
      scaleX: side / width,
      scaleY: side / height,
      padX: 0,
      padY: 0,
    };
  }
  const raw = await decodeTo(bytes, maxPixels, side, shape);
  const jpeg = preview ? await jpegOf(raw, side) : undefined;
  return { tensor: toTensor(raw, p), preview: jpeg, width, height, format, frame };
}

/** Decodes running on sharp's threads, failed ones waiting to run alone, and who waits for either. */
let running = 0;
let solos = 0;
let soloChain: Promise<unknown> = Promise.resolve();
const wakeSolo: (() => void)[] = [];
const wakeDecodes: (() => void)[] = [];

/**
 * Runs one sharp operation. libvips keeps its error text in one buffer for all threads, so two decodes
 * failing at once can lose ("Unknown error") or swap their messages; a failed one is run again alone
 * (others wait), so that its error names this image's problem.
 */
async function decodeReliably<T>(decode: () => Promise<T>): Promise<T> {
  while (solos > 0) await new Promise<void>((wake) => wakeDecodes.push(wake));
  running++;
  try {
    return await decode();
  } catch {
    // Repeated alone below.
  } finally {
    if (--running === 0) for (const wake of wakeSolo.splice(0)) wake();
  }
  solos++;
  const result = soloChain.then(async () => {
    while (running > 0) await new Promise<void>((wake) => wakeSolo.push(wake));
    return decode();
  });
  soloChain = result.catch(() => undefined);
  try {
    return await result;
  } finally {
    if (--solos === 0) for (const wake of wakeDecodes.splice(0)) wake();
  }
}

/** Interleaved RGB bytes → planar float32 with the descriptor's channel order and normalisation. */
export function toTensor(rgb: Uint8Array, p: Preprocessing): Float32Array {
  const plane = rgb.length / 3;
  const out = new Float32Array(rgb.length);
  for (const c of [0, 1, 2] as const) {
    const src = p.channelOrder === 'RGB' ? c : 2 - c;
    const mul = p.scale / p.std[c];
    const add = -p.mean[c] / p.std[c];
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = rgb[i * 3 + src]! * mul + add;
  }
  return out;
}

function formatMp(pixels: number): string {
  return `${(pixels / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1 })} MP`;
}

/** Size and limit in MP, or exact pixel counts where rounding would make them look equal ("0.1 MP, over
 *  the limit of 0.1 MP") or hide a small limit ("0 MP"). */
function formatSizes(pixels: number, limit: number): [string, string] {
  const [a, b] = [formatMp(pixels), formatMp(limit)];
  if (limit >= 1e6 && a !== b) return [a, b];
  const exact = (n: number): string => `${n.toLocaleString('en-US')} pixels`;
  return [exact(pixels), exact(limit)];
}

/** Turns libvips' wording into a reason a user can act on. */
function describeDecodeError(err: Error): string {
  const m = err.message;
  if (/unsupported image format/i.test(m)) return 'not a supported image (unrecognised file format)';
  if (/pixel limit/i.test(m)) return 'the image is larger than the pixel limit (setting cnnLens.maxPixels)';
  if (/exceeds user limit/i.test(m))
    return `the image header claims a size no picture has: the file is corrupt (${firstLine(m)})`;
  if (/premature end|truncated|unexpected end|end of (file|stream)|Read error/i.test(m)) {
    return `the image data is truncated or corrupt (${firstLine(m)})`;
  }
  return `the image could not be decoded (${firstLine(m)})`;
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? s).trim();
}
