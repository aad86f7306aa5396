// Turns runs of ONNX nodes into layer rows: one row per weighted or pooling op, with the zero-Pad or
// Flatten before it and the BatchNormalization / Relu after it folded in, as papers draw layers.
import type { LayerRow, RowRole } from '../shared/layerTable';
import type { GraphIndex } from './graphIndex';
import type { NodeInfo } from './shapes';

/** A row under construction plus the tensor its last folded node produces. */
export interface RowDraft {
  row: LayerRow;
  tail: string;
}

const WINDOWED = new Set(['Conv', 'MaxPool', 'AveragePool']);
const WEIGHTED = new Set(['Conv', 'Gemm', 'MatMul']);
const RESHAPES = new Set(['Flatten', 'Reshape']);

/** Builds rows over a run of node ids (graph order); `role` names each row's part in the network. */
export function buildRows(
  ids: number[],
  infos: NodeInfo[],
  index: GraphIndex,
  role: (info: NodeInfo) => RowRole,
): RowDraft[] {
  const drafts: RowDraft[] = [];
  let pending: NodeInfo[] = [];
  const live = ids.filter((id) => infos[id]!.node.op !== 'Constant');
  live.forEach((id, k) => {
    const info = infos[id]!;
    const next = k + 1 < live.length ? infos[live[k + 1]!] : undefined;
    if (foldsBefore(info, next, index)) {
      pending.push(info);
      return;
    }
    const last = drafts.at(-1);
    if (last && pending.length === 0 && foldsAfter(last, info, index)) {
      foldInto(last, info);
      return;
    }
    drafts.push(startRow(info, pending, role(info)));
    pending = [];
  });
  return drafts;
}

/** One row per node (the fallback table for graphs that are not ResNets). */
export function plainRows(infos: NodeInfo[]): LayerRow[] {
  return infos
    .filter((info) => info.node.op !== 'Constant')
    .map((info) => {
      const { row } = startRow(info, [], plainRole(info.node.op));
      row.counted = WEIGHTED.has(info.node.op) && info.params > 0;
      return row;
    });
}

/** Folds a node that follows the row (BN, Relu, or a residual Add) into it. */
export function foldInto(draft: RowDraft, info: NodeInfo): void {
  const row = draft.row;
  row.onnx_nodes.push(nodeName(info));
  row.onnx_ops.push(info.node.op);
  row.params += info.params;
  row.macs += info.macs;
  if (info.node.op === 'BatchNormalization') row.folded_params += info.params;
  if (info.node.op === 'Relu') {
    const after = row.onnx_ops.at(-2);
    row.activation =
      after === 'Add' ? 'relu after residual add' : after === 'BatchNormalization' ? 'relu after BN' : 'relu';
  }
  row.out_shape = info.outShape;
  draft.tail = info.node.outputs[0] ?? draft.tail;
}

/** A node's display name: its ONNX name, or its op when unnamed. */
export function nodeName(info: NodeInfo): string {
  return info.node.name || info.node.op;
}

function foldsBefore(info: NodeInfo, next: NodeInfo | undefined, index: GraphIndex): boolean {
  const out = info.node.outputs[0];
  if (!next || !out || !index.singleUse(out) || !index.dataInputs(next.node).includes(out)) return false;
  if (info.node.op === 'Pad') return WINDOWED.has(next.node.op) && spatialZeroPad(info);
  return RESHAPES.has(info.node.op) && (next.node.op === 'Gemm' || next.node.op === 'MatMul');
}

function foldsAfter(last: RowDraft, info: NodeInfo, index: GraphIndex): boolean {
  const data = index.dataInputs(info.node);
  if (data.length !== 1 || data[0] !== last.tail || !index.singleUse(last.tail)) return false;
  const row = last.row;
  if (!WEIGHTED.has(row.op) || row.activation !== null) return false;
  if (info.node.op === 'BatchNormalization') return !row.onnx_ops.includes('BatchNormalization');
  return info.node.op === 'Relu';
}

// Only a constant pad of H and W is a convolution's padding; other pads keep a row of their own.
function spatialZeroPad(info: NodeInfo): boolean {
  const p = info.padAmounts;
  const mode = info.node.attrs.mode;
  if (!p || (mode !== undefined && mode !== 'constant')) return false;
  const r = p.length / 2;
  return p[0] === 0 && p[1] === 0 && p[r] === 0 && p[r + 1] === 0;
}

function startRow(info: NodeInfo, before: NodeInfo[], role: RowRole): RowDraft {
  const w = info.window;
  const pads = w ? [...w.pads] : null;
  if (pads) {
    const r = pads.length / 2;
    for (const pad of before) {
      const p = pad.padAmounts ?? [];
      const rank = p.length / 2;
      for (let i = 0; i < r; i++) {
        pads[i] += p[i + 2] ?? 0;
        pads[i + r] += p[rank + i + 2] ?? 0;
      }
    }
  }
  const all = [...before, info];
  const row: LayerRow = {
    stage: null,
    block: null,
    name: nodeName(info),
    op: info.node.op,
    onnx_nodes: all.map(nodeName),
    onnx_ops: all.map((i) => i.node.op),
    kernel: w ? w.kernel : null,
    stride: w ? w.strides : null,
    pads,
    dilations: w ? w.dilations : null,
    group: w && info.node.op === 'Conv' ? w.group : null,
    in_shape: all[0]!.inShapes[0] ?? null,
    out_shape: info.outShape,
    params: all.reduce((s, i) => s + i.params, 0),
    folded_params: 0,
    macs: all.reduce((s, i) => s + i.macs, 0),
    counted: false,
    role,
    activation: null,
    downsample: w ? w.strides.some((s) => s > 1) : false,
  };
  return { row, tail: info.node.outputs[0] ?? '' };
}

function plainRole(op: string): RowRole {
  if (op === 'Conv') return 'conv';
  if (op === 'Gemm' || op === 'MatMul') return 'fc';
  if (WINDOWED.has(op) || op.startsWith('Global')) return 'pool';
  return 'other';
}
