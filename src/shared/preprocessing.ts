// How an image becomes a model's input: the model descriptor's preprocessing, which the panel's editor
// shows and edits. Shared by the model code, the host and the webview.

/** How an image becomes the model's input tensor (computed as NCHW float32, then laid out and typed as the
 *  model's input is: see src/model/imageLayout.ts). */
export interface Preprocessing {
  /** Shorter side is resized to this (bilinear), then a center crop of `crop`×`crop` is taken. */
  resize: number;
  crop: number;
  /** Channel order of the tensor's C axis. */
  channelOrder: 'RGB' | 'BGR';
  /** Pixel values (0…255) are multiplied by `scale`, then `(v - mean[c]) / std[c]` per tensor channel. */
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
}

/** The preprocessing presets a user can pick (setting, CLI flag, the panel's editor). */
export const PRESET_NAMES = ['torchvision', 'caffe', 'tf', 'raw', 'raw255'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];
