// The layer table of a model (the Architecture panel's data, also printed by `cli layers`). Plain
// JSON-serialisable data; no 'vscode', no Node, so the webview may import it. Multi-word keys are
// snake_case because this is also the CLI's JSON output format.

/** A tensor shape: numbers, or symbolic names such as "N" for the batch; null when unknown. */
export type TableShape = (number | string)[] | null;

/** What a row does in the network. */
export type RowRole = 'stem' | 'main' | 'projection' | 'pool' | 'fc' | 'conv' | 'other';

/** The activation folded into a row, and where it sits. */
export type RowActivation = 'relu after BN' | 'relu' | 'relu after residual add' | null;

/** One row: a weighted or pooling op plus the nodes folded into it (Pad before; BN, Relu, Add after). */
export interface LayerRow {
  /** 'conv1', 'conv2_x' … or 'fc' for a ResNet; null in the plain per-node fallback. */
  stage: string | null;
  /** Residual block, e.g. 'conv3_1'; null outside blocks. */
  block: string | null;
  /** Readable label, e.g. 'conv3_1 a 1×1, 128'. */
  name: string;
  /** ONNX op of the row's main node (Conv, MaxPool, Gemm, …). */
  op: string;
  /** Names of every ONNX node folded into the row, in graph order, and their op types. */
  onnx_nodes: string[];
  onnx_ops: string[];
  /** [kh, kw] for Conv and pooling; null otherwise. */
  kernel: number[] | null;
  stride: number[] | null;
  /** ONNX order [top, left, bottom, right], including any Pad node folded into the row. */
  pads: number[] | null;
  dilations: number[] | null;
  group: number | null;
  in_shape: TableShape;
  out_shape: TableShape;
  /** Weights + biases, including folded_params. */
  params: number;
  /** BatchNormalization scale, bias, mean and variance (4×C) folded into this row. */
  folded_params: number;
  /** Multiply-adds per image (Conv and Gemm only; BN, Relu, Add and pooling count 0). */
  macs: number;
  /** Whether the row is one of the weighted layers a ResNet's depth counts (stem conv, main-path convs, fc). */
  counted: boolean;
  role: RowRole;
  activation: RowActivation;
  /** Whether any stride is above 1. */
  downsample: boolean;
}

/** One residual block. */
export interface BlockSummary {
  block: string;
  stage: string;
  /** 'bottleneck' (3 convs), 'basic' (2 convs) or e.g. '4-conv'. */
  kind: string;
  shortcut: 'identity' | 'projection';
  /** E.g. 'relu(F(x) + x)' or 'relu(F(x) + W_s·x)'. */
  residual: string;
  in_shape: TableShape;
  out_shape: TableShape;
  /** Name of the main-path row carrying the downsampling stride; null when the block keeps the size. */
  stride_on: string | null;
  params: number;
  macs: number;
}

/** One stage: the stem ('conv1'), a run of blocks at one output size and width, or the head ('fc'). */
export interface StageSummary {
  stage: string;
  /** Rows with `counted: true`. */
  counted: number;
  blocks: number;
  /** 'bottleneck', 'basic', 'mixed', or null for the stem and head. */
  block_kind: string | null;
  out_shape: TableShape;
  /** Output [H, W] ([1, 1] for the 2-D fc output). */
  out_size: (number | string)[] | null;
  /** Output channels (or features for fc). */
  width: number | string | null;
  /** Paper-style layout, e.g. '[1×1, 64; 3×3, 64; 1×1, 256] × 3'. */
  layout: string;
  params: number;
  macs: number;
}

/** The whole table. */
export interface LayerTable {
  /** Whether the ResNet structure was recognised; when false, rows are one per ONNX node. */
  resnet: boolean;
  /** Why the graph was not read as a ResNet; null when it was. */
  reason: string | null;
  model: {
    name: string;
    producer: string;
    opset: number;
    input: { name: string; shape: TableShape } | null;
    output: { name: string; shape: TableShape } | null;
  };
  rows: LayerRow[];
  stages: StageSummary[];
  blocks: BlockSummary[];
  totals: {
    /** Equals the sum of all weight initializers (configuration inputs such as Pad's pads excluded). */
    params: number;
    macs: number;
    counted: number;
    rows: number;
    projections: number;
  };
  /** Nodes whose shapes could not be inferred, one line each. */
  warnings: string[];
}
