// The layer table of a model (the Architecture panel's data, also printed by `cli layers`). Plain
// JSON-serialisable data; no 'vscode', no Node, so the webview may import it. Multi-word keys are
// snake_case because this is also the CLI's JSON output format.

/** A tensor shape: numbers, or symbolic names such as "N" for the batch; null when unknown. */
export type TableShape = (number | string)[] | null;

/**
 * What a row does in the network: the stem's convolutions, a block's main path, its projection shortcut,
 * another branch, squeeze-and-excitation, the join of branches (concat, add, scale), a pooling, the
 * classifier, a convolution outside blocks, or anything else.
 */
export type RowRole =
  | 'stem'
  | 'main'
  | 'projection'
  | 'branch'
  | 'se'
  | 'join'
  | 'pool'
  | 'fc'
  | 'conv'
  | 'other';

/** The activation folded into a row and where it sits, e.g. 'relu after BN', 'silu', 'relu after residual add'. */
export type RowActivation = string | null;

/** Where the PyTorch module behind a row was constructed: the innermost line of the user's own code. */
export interface RowSource {
  /** Absolute path of the Python file. */
  file: string;
  /** 1-based line of the call that constructed the module. */
  line: number;
  /** The module's path in the model ('layer1.0.conv1'). */
  module: string;
}

/** One row: a weighted, pooling or joining op plus the nodes folded into it (Pad before; BN, activation after). */
export interface LayerRow {
  /** 'conv1', 'conv2_x' … 'fc' for a ResNet; 'stem', 'stage1' … 'head' for other families. */
  stage: string | null;
  /** The block, e.g. 'conv3_1' or 'stage2.3'; null outside blocks. */
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
  /** The tensors' shapes as the graph has them (see channels_last). */
  in_shape: TableShape;
  out_shape: TableShape;
  /** The layer's own channels: a convolution's or linear layer's weight says them (ConvNeXt's `b`: 96 →
   *  384), other rows read them off the tensor's channel axis. */
  in_channels: number | null;
  out_channels: number | null;
  /** Whether the output tensor is channels-last [N, H, W, C] (Keras exports, ConvNeXt's linear layers). */
  channels_last: boolean;
  /** Learnable tensors (float initializers) first used by this row, including folded_params. */
  params: number;
  /** BatchNormalization running mean and variance first used by this row. */
  buffers: number;
  /** Parameters of a normalisation (BatchNorm/LayerNorm scale and bias) folded into this row. */
  folded_params: number;
  /** Multiply-adds per image (Conv, ConvTranspose, Gemm, MatMul; normalisation, activations, pooling count 0). */
  macs: number;
  /** Whether the row is on the path of weighted layers the depth counts (shortcuts and SE excluded). */
  counted: boolean;
  role: RowRole;
  activation: RowActivation;
  /** Whether any stride is above 1. */
  downsample: boolean;
  /** The tensor the row outputs (its last folded node's output). */
  output: string;
  /** Weight tensors this row reads that other rows read too (counted once, at their first reader). */
  shared: string[];
  /** Whether the output shape came from an onnxruntime run rather than static inference. */
  measured: boolean;
  /** Why the row's shape or multiply-adds are unknown (the op neither inference nor a run could handle). */
  unknown: string | null;
  /**
   * What one output position sees of the input image, [height, width] in input pixels (the largest over the
   * branches into the row); null for rows past global pooling, which see the whole image.
   */
  receptive_field: number[] | null;
  /** Input pixels between neighbouring output positions, [height, width]; null past global pooling. */
  effective_stride: number[] | null;
  /** Centre of output position (0, 0) in input pixel coordinates (pixel i spans [i, i + 1)); null past global pooling. */
  rf_center: number[] | null;
  /** Models read from Python code only: where the row's module was constructed (absent for functional
   *  ops in the model's own forward). */
  source?: RowSource;
}

/** One block, e.g. a bottleneck, an MBConv, an Inception module, a dense layer. */
export interface BlockSummary {
  block: string;
  stage: string;
  /** As the family's paper names it: 'bottleneck', 'basic', 'MBConv', 'inverted residual', 'dense layer', … */
  kind: string;
  /** Residual blocks: whether the shortcut has layers; null for blocks without a residual connection. */
  shortcut: 'identity' | 'projection' | null;
  /** E.g. 'relu(F(x) + x)' or 'F(x) + W_s·x'; null for blocks without a residual connection. */
  residual: string | null;
  /** Compact notation, e.g. '[1×1, 64; 3×3, 64; 1×1, 256]' or 'MBConv6, k5×5, SE 0.25, 40 ch'. */
  notation: string;
  in_shape: TableShape;
  out_shape: TableShape;
  /** Name of the row carrying the downsampling stride; null when the block keeps the size. */
  stride_on: string | null;
  /** Rows on the counted path. */
  counted: number;
  params: number;
  buffers: number;
  macs: number;
}

/** One stage: the stem ('conv1'), a run of blocks at one output size and width, or the head ('fc'). */
export interface StageSummary {
  stage: string;
  /** Rows with `counted: true`. */
  counted: number;
  blocks: number;
  /** The kind of its blocks, 'mixed' when they differ, or null for stages without blocks. */
  block_kind: string | null;
  out_shape: TableShape;
  /** Output [H, W] ([1, 1] for the 2-D fc output). */
  out_size: (number | string)[] | null;
  /** Output channels (or features for fc). */
  width: number | string | null;
  /** Paper-style layout, e.g. '[1×1, 64; 3×3, 64; 1×1, 256] × 3'. */
  layout: string;
  params: number;
  buffers: number;
  macs: number;
}

/** The whole table. */
export interface LayerTable {
  /** The family recognised from the blocks, e.g. 'ResNet', 'MobileNet V2', 'DenseNet'; 'CNN' when none. */
  family: string;
  /** The depth as a sum over stages, e.g. '1 + 9 + 12 + 18 + 9 + 1 = 50'. */
  depth: string;
  /** How the structure was read when no family matched; null when one did. */
  note: string | null;
  model: {
    name: string;
    producer: string;
    opset: number;
    input: { name: string; shape: TableShape } | null;
    output: { name: string; shape: TableShape } | null;
    /** What was assumed about the input (symbolic height and width), or null. */
    assumed: string | null;
  };
  rows: LayerRow[];
  stages: StageSummary[];
  blocks: BlockSummary[];
  totals: {
    /** Weights and biases of layers, each once (src/model/roles.ts). */
    params: number;
    /** BatchNormalization running mean and variance. */
    buffers: number;
    /** Float tensors that are neither (anchor grids, strides, resize scales, bounds), in elements. */
    constants: number;
    macs: number;
    counted: number;
    rows: number;
    projections: number;
    /** Weight tensors read by more than one row. */
    shared: number;
    /** Rows whose output shape was measured by an onnxruntime run. */
    measured: number;
  };
  /** What could not be inferred or counted, one line each. */
  warnings: string[];
}

/**
 * The receptive field (input pixels, the larger side) of each head scale of a detector, by stride: the widest
 * field among the rows of its head blocks ("P3 (stride 8)" …), which is what one anchor's prediction sees.
 */
export function headFields(table: LayerTable): Map<number, number> {
  const fields = new Map<number, number>();
  for (const row of table.rows) {
    const stride = /\(stride (\d+)\)/.exec(row.block ?? '')?.[1];
    const rf = row.receptive_field;
    if (row.stage !== 'head' || stride === undefined || !rf) continue;
    const s = Number(stride);
    fields.set(s, Math.max(fields.get(s) ?? 0, ...rf));
  }
  return fields;
}

/** The row name of each ONNX node of the table (what `layers` and the panel call the node). */
export function rowNameByNode(table: LayerTable): Map<string, string> {
  return new Map(table.rows.flatMap((r) => r.onnx_nodes.map((n) => [n, r.name] as const)));
}
