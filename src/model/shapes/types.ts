// The result types of shape inference (re-exported by ./index).
import type { Dim, OnnxNode } from '../onnxGraph';

/** A tensor shape; null when it could not be inferred. */
export type Shape = Dim[] | null;

/** Statically known contents of a small tensor (constant folding); strings are symbolic dims such as 'N'. */
export type Value = (number | string)[];

/** Kernel geometry of a Conv or pooling node, with auto_pad resolved into explicit pads. */
export interface Window {
  kernel: number[];
  strides: number[];
  /** ONNX order: all begins, then all ends ([top, left, bottom, right] in 2-D). */
  pads: number[];
  dilations: number[];
  group: number;
  ceilMode: boolean;
}

/** What inference learned about one node. */
export interface NodeInfo {
  node: OnnxNode;
  /** Shapes of the node's inputs, in input order (initializers included; '' inputs are null). */
  inShapes: Shape[];
  /** Shapes of the node's outputs, in output order. */
  outShapes: Shape[];
  /** Shape of the first output (= outShapes[0]). */
  outShape: Shape;
  /** Resolved geometry for Conv, ConvTranspose and pooling nodes. */
  window?: Window;
  /** Pad nodes: the explicit pads in ONNX order over all axes. */
  padAmounts?: number[];
  /** Why a shape is unknown (unsupported op, bad attributes, unknown input, data-dependent size). */
  error?: string;
  /** Set when the shape is unknown only because an input's shape was: not a root cause. */
  blocked?: boolean;
  /** Set when the output shapes came from `ShapeOptions.measured`. */
  measured?: boolean;
}

/** How to treat what the file leaves open. */
export interface ShapeOptions {
  /** What a symbolic batch axis (axis 0 of the image input) is called or fixed to; default 'N'. */
  batch?: Dim;
  /** H, W used where the image input's spatial dims are symbolic; default [224, 224]. */
  spatial?: [number, number];
  /** Shapes from an onnxruntime run, for tensors static inference cannot decide. */
  measured?: ReadonlyMap<string, number[]>;
}

/** Shapes (and folded small values) for a whole graph. */
export interface GraphShapes {
  /** One per graph node, in the same order. */
  nodes: NodeInfo[];
  /** Every tensor's inferred shape, by name. */
  shapes: Map<string, Shape>;
  /** Tensors whose contents are known: small initializers, Constants and what was folded from them. */
  values: Map<string, Value>;
  /** One line per root-cause node: `${node.name || node.op}: ${error}`. */
  warnings: string[];
  /** What was assumed about the image input (e.g. its spatial size); null when nothing was. */
  assumed: string | null;
  /** First outputs of root-cause nodes whose shape is unknown: what a measuring run should fetch. */
  unresolved: string[];
}
