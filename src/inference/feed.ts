// Between CNN Lens's own image tensors and the model's: images are prepared as planar 3-channel float32
// [3, crop, crop] (what the explanation methods mask, blur and perturb), and laid out and typed as the
// model's input takes them only when fed: channels last, one channel, float16 or uint8. Outputs come back
// as float32 whatever the model computes in.
import type * as Ort from 'onnxruntime-node';
import { formatOf, type ModelDescriptor } from '../model/descriptor';

type OrtModule = typeof Ort;

// Rec. 601 luma weights, as libvips and PIL convert colour to grayscale.
const LUMA = [0.299, 0.587, 0.114] as const;

/**
 * `planes` holds `batch` images of [3, crop, crop] one after another, in the descriptor's channel order;
 * returns the tensor the model takes. A one-channel model gets their luma: with the same mean and std on
 * every channel (as grayscale models are set up) it equals normalising the grayscale image.
 */
export function imageTensor(
  ort: OrtModule,
  d: ModelDescriptor,
  planes: Float32Array,
  batch: number,
): Ort.Tensor {
  const { crop, channelOrder } = d.preprocessing;
  const format = formatOf(d);
  const plane = crop * crop;
  const channels = format.channels;
  let values = planes;
  if (channels === 1) {
    const weights = channelOrder === 'RGB' ? LUMA : ([...LUMA].reverse() as number[]);
    values = new Float32Array(batch * plane);
    for (let b = 0; b < batch; b++) {
      const src = b * 3 * plane;
      const dst = b * plane;
      for (let i = 0; i < plane; i++) {
        values[dst + i] =
          weights[0]! * planes[src + i]! +
          weights[1]! * planes[src + plane + i]! +
          weights[2]! * planes[src + 2 * plane + i]!;
      }
    }
  }
  if (format.layout === 'NHWC') values = channelsLast(values, batch, channels, plane);
  const batched = format.layout === 'NCHW' ? [batch, channels, crop, crop] : [batch, crop, crop, channels];
  const dims = format.unbatched ? batched.slice(1) : batched;
  switch (format.type) {
    case 'float32':
      return new ort.Tensor('float32', values, dims);
    case 'float16':
      return new ort.Tensor('float16', toFloat16(values), dims);
    case 'uint8':
      return new ort.Tensor('uint8', Uint8Array.from(values, toByte), dims);
  }
}

/** The values of an output tensor as float32 (float16 outputs widened). */
export function floatData(tensor: Ort.Tensor): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') return fromFloat16(tensor.data as Uint16Array);
  return Float32Array.from(tensor.data as ArrayLike<number>, Number);
}

/** A pixel value as uint8: rounded, and clamped rather than wrapped. */
function toByte(v: number): number {
  return Math.min(255, Math.max(0, Math.round(v)));
}

function channelsLast(planar: Float32Array, batch: number, channels: number, plane: number): Float32Array {
  const out = new Float32Array(planar.length);
  for (let b = 0; b < batch; b++) {
    const base = b * channels * plane;
    for (let c = 0; c < channels; c++) {
      for (let i = 0; i < plane; i++) out[base + i * channels + c] = planar[base + c * plane + i]!;
    }
  }
  return out;
}

/** IEEE 754 binary32 → binary16 bits, rounding to nearest even; overflow to ±Inf, NaN kept. */
export function toFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = bits[i]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      let m = mant >>> shift;
      const rest = mant & ((1 << shift) - 1);
      if (rest > half || (rest === half && (m & 1) === 1)) m++;
      out[i] = sign | m;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // a carry into the exponent is right
    out[i] = sign | h;
  }
  return out;
}

/** IEEE 754 binary16 bits → float32 values. */
export function fromFloat16(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) out[i] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) out[i] = mant === 0 ? sign * Infinity : NaN;
    else out[i] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return out;
}
