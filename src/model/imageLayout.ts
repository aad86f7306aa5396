// How a model lays out its image input: channels first [N, C, H, W] (PyTorch and most ONNX exports) or
// channels last [N, H, W, C] (Keras/TensorFlow through tf2onnx), with one (grayscale) or three channels.
import type { Dim } from './onnxGraph';

export type Layout = 'NCHW' | 'NHWC';

/** The element types CNN Lens can feed an image as. */
export type InputType = 'float32' | 'float16' | 'uint8';

/** What the model's image input takes, besides its size. */
export interface InputFormat {
  layout: Layout;
  channels: 1 | 3;
  type: InputType;
  /** The input has no batch axis: [C, H, W] (torchvision's detectors take a list of such images). */
  unbatched?: true;
}

/** The format of models that declare nothing else: torchvision's. */
export const NCHW_RGB: InputFormat = { layout: 'NCHW', channels: 3, type: 'float32' };

const IMAGE_CHANNELS: readonly Dim[] = [1, 3];

/**
 * The layout of a 4-D image shape: channels first when axis 1 holds 1 or 3, else channels last when axis 3
 * does; otherwise channels first (a symbolic or other count, which the caller judges).
 */
export function layoutOf(shape: readonly Dim[]): Layout {
  if (IMAGE_CHANNELS.includes(shape[1] ?? '?')) return 'NCHW';
  return IMAGE_CHANNELS.includes(shape[3] ?? '?') ? 'NHWC' : 'NCHW';
}

/** The axes of channels, height and width in a layout. */
export function axesOf(layout: Layout): { c: number; h: number; w: number } {
  return layout === 'NCHW' ? { c: 1, h: 2, w: 3 } : { c: 3, h: 1, w: 2 };
}
