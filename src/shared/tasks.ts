// What a model does with an image besides classifying it (detect, segment, estimate pose), how its outputs
// are laid out, and what CNN Lens makes of them. Shared by the model code, the worker, the CLI and the panel.
import type { Candidate } from './detections';

/** The tasks CNN Lens recognises; `classify` models have no Task (see ModelDescriptor.task). */
export type TaskKind = 'detect' | 'instances' | 'pose' | 'segment';

/**
 * How a model's outputs hold its answer:
 * - `anchors-last`: ultralytics v8/11, one output [1, 4 + C + extra, A]: box centre x, y, width, height in
 *   input pixels, C sigmoid class scores, then mask coefficients or keypoints per anchor;
 * - `anchors-first`: YOLOv5, [1, A, 5 + C]: box, objectness, class scores (score = objectness × class);
 * - `boxes`: NMS inside the graph (torchvision's detectors): boxes [K, 4] x1 y1 x2 y2, labels, scores;
 * - `pixels`: semantic segmentation, [N, C, h, w] class scores per pixel.
 */
export type TaskHead = 'anchors-last' | 'anchors-first' | 'boxes' | 'pixels';

/** How the whole image becomes the model's input: aspect kept and padded (ultralytics), or stretched. */
export type Fit = 'letterbox' | 'stretch';

/** A recognised task and where its numbers are. */
export interface Task {
  kind: TaskKind;
  head: TaskHead;
  /** The outputs read, in the head's order (anchors: [scores] or [scores, prototypes]; boxes: boxes, labels, scores). */
  outputs: string[];
  classes: number;
  /** Mask coefficients per anchor (instances: the prototypes' count). */
  masks?: number;
  /** Keypoints per detection and values per keypoint (pose: 17 × 3, x y visibility). */
  keypoints?: [number, number];
  /** The head's strides, finest first (ultralytics: 8, 16, 32): which scale an anchor belongs to. */
  strides?: number[];
  fit: Fit;
  /** Pad value of the letterbox's border, in 0–255 pixels (ultralytics: 114). */
  pad: number;
  /** Where the task was read from, for the panel ("ultralytics metadata: task=detect"). */
  evidence: string;
}

/** Thresholds of detection post-processing (ultralytics predict's defaults). */
export interface Thresholds {
  /** Lowest score kept, 0–1. */
  confidence: number;
  /** Boxes of one class overlapping more than this (intersection over union) are suppressed. */
  iou: number;
  /** Most detections kept, best first. */
  maxDetections: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { confidence: 0.25, iou: 0.7, maxDetections: 300 };

/** One detected object, in the original image's pixels. */
export interface Detection {
  index: number;
  label: string;
  score: number;
  /** x1, y1, x2, y2 in the original image's pixels (after EXIF orientation). */
  box: [number, number, number, number];
  /** Stride of the head scale whose anchor produced it (8 = P3 …), when the head says. */
  stride?: number;
  /** The anchor (or output row) it came from: which candidate of the panel's sliders it is. */
  anchor?: number;
  /** Instances: pixels of the original image inside the object's mask. */
  maskPixels?: number;
  /** Pose: x, y in the original image's pixels and the keypoint's visibility score. */
  keypoints?: [number, number, number][];
}

/** One class of a semantic segmentation: its share of the image's pixels. */
export interface ClassShare {
  index: number;
  label: string;
  fraction: number;
}

/** The answer of a detector, instance segmenter or pose model. */
export interface DetectionResult {
  task: 'detect' | 'instances' | 'pose';
  detections: Detection[];
  /** Anchors (or boxes) above the confidence threshold before NMS. */
  candidates: number;
  /** When asked for (the panel's sliders): those candidates in the image's pixels, best first, at most 5,000. */
  boxes?: Candidate[];
  thresholds: Thresholds;
  /** Instances: the label of each pixel of the class map (0 none, i + 1 detection i), map.width × map.height. */
  map?: ClassMap;
}

/** A class per pixel over the original image, at a resolution no finer than the model's output. */
export interface ClassMap {
  width: number;
  height: number;
  /** Row-major class index (segment) or detection index + 1 (instances), one byte each; 255: padding. */
  data: Uint8Array;
}

/** The answer of a semantic segmenter. */
export interface SegmentationResult {
  task: 'segment';
  /** Classes present, largest share first; shares of the image's pixels (the letterbox border excluded). */
  classes: ClassShare[];
  map: ClassMap;
}

/** What one image's run of a task model gave, with its timing. */
export type TaskAnswer = (DetectionResult | SegmentationResult) & {
  /** When asked for: the whole image, upright, at most 640 pixels a side, as a JPEG. */
  preview?: Uint8Array;
  provider: string;
  precision: 'fp32' | 'int8';
  ms: { decode: number; run: number; post: number; total: number };
  width: number;
  height: number;
};

/** One layer's class-agnostic map of where a detector or segmenter looks, over the image (0…1, row-major). */
export interface LayerMap {
  /** The layer-table row whose output it is made from. */
  layer: string;
  /** Its stage and block ("backbone", "neck" / "top-down P4"). */
  stage: string;
  block: string | null;
  /** Input pixels per map position. */
  stride: number | null;
  width: number;
  height: number;
  data: Float32Array;
}

/**
 * EigenCAM (Muhammad & Yeasin, 2020) of a detector's or segmenter's backbone and neck outputs: each map is
 * the activations' first principal component, needing no class and no gradient, cropped to the image (the
 * letterbox border left out).
 */
export interface TaskMaps {
  method: 'EigenCAM';
  maps: LayerMap[];
}

/** Grad-CAM of one detection: its class logit's gradient at the neck output its head scale reads. */
export interface BoxMap extends LayerMap {
  /** The head's class convolution whose logit is explained. */
  target: string;
}
