// The layer table of any CNN: normalise the graph, infer shapes, cost every node, fold nodes into rows,
// find blocks and the family, split stages, name everything, and add up.
import type {
  BlockSummary,
  LayerRow,
  LayerTable,
  RowRole,
  StageSummary,
  TableShape,
} from '../../shared/layerTable';
import { graphCost, WEIGHTED_OPS, type GraphCost } from '../cost';
import { normaliseGraph } from '../normalise';
import type { OnnxGraph } from '../onnxGraph';
import { inferShapes, type GraphShapes } from '../shapes';
import { findBlocks, spatialOutput, type FoundBlock, type Part, type RowFacts, type Unit } from './blocks';
import { layoutOf as imageLayoutOf, type Layout } from '../imageLayout';
import { channelsLastTensors } from './layouts';
import { detectFamily, kindIn, refineKinds, type Family } from './family';
import {
  blockName,
  blockNotation,
  desc,
  looseRow,
  poolText,
  postRow,
  rowInBlock,
  stageNames,
} from './naming';
import { decompose } from './regions';
import { denseParts, isUNet } from './dense';
import { densePlans } from './denseStages';
import { buildRowGraph, type RowDraft, type RowGraph, type Unit as NodeUnit } from './rows';
import { receptiveFields, type Field } from './receptive';
import { planStages, type StagePlan } from './stages';

/** What the table is built with besides the graph. */
export interface TableOptions {
  /** Height and width for a graph input whose spatial size is symbolic (default 224×224). */
  spatial?: [number, number];
  /** Shapes measured by an onnxruntime run, for tensors static inference cannot decide. */
  measured?: ReadonlyMap<string, number[]>;
}

/** The layout of the graph's image input, from its declared shape (channels first when it says nothing). */
function inputLayoutOf(g: OnnxGraph): Layout {
  const shape = g.inputs.find((i) => i.shape?.length === 4)?.shape;
  return shape ? imageLayoutOf(shape) : 'NCHW';
}

/** A built table plus what the exploration needs to map rows back to tensors. */
export interface TableBuild {
  table: LayerTable;
  shapes: GraphShapes;
}

/** Builds the layer table of a graph. */
export function buildLayerTable(graph: OnnxGraph, opts: TableOptions = {}): LayerTable {
  return analyseGraph(graph, opts).table;
}

/**
 * A dense-prediction model's family: its backbone's, unless that is a plain conv stack (VGG-like or none)
 * under a U-Net's decoder, whose encoder is no VGG.
 */
function denseFamily(backbone: Family, unet: () => boolean): Family {
  const plain = backbone === 'VGG' || backbone === 'CNN';
  return plain && unet() ? 'U-Net' : backbone;
}

/**
 * A plain stack of 3×3 convolutions without VGG's poolings between its groups (strided convolutions, a
 * couple of layers before a global pool) is no VGG: it is named no family rather than a wrong one.
 */
function withoutPoolsNoVgg(family: Family, rows: readonly number[], facts: readonly RowFacts[]): Family {
  const spatialPool = rows.some((r) => facts[r]!.row.kind === 'pool' && spatialOutput(facts[r]!));
  return family === 'VGG' && !spatialPool ? 'CNN' : family;
}

/** Builds the layer table and keeps the inferred shapes. */
export function analyseGraph(graph: OnnxGraph, opts: TableOptions = {}): TableBuild {
  const net = normaliseGraph(graph);
  const g = net.graph;
  const shapes = inferShapes(g, { batch: 'N', spatial: opts.spatial, measured: opts.measured });
  const cost = graphCost(net, shapes);
  const rg = buildRowGraph(g, shapes);
  const facts = rg.rows.map((r) => rowFacts(r, g, shapes, rg.constLike));
  const fields = receptiveFields(g, shapes, rg.constLike);
  // A pyramid level's stride is its layers' (SSD's 3×3 and 2×2 extra maps are strides 128 and 256).
  const strideOf = (t: string): number | null => {
    const field = fields.get(t);
    return field && !field.global ? Math.max(...field.stride) : null;
  };
  const dense = denseParts(g, shapes, rg, facts, strideOf);
  const plans = dense
    ? densePlans(dense, rg, facts, (r) => strideOf(facts[r]!.row.tail))
    : planStages(findBlocks(decompose(rg), rg, facts), facts);
  const blocksIn = (ps: StagePlan[]): FoundBlock[] =>
    ps.flatMap((p) => p.units.flatMap((u) => (u.kind === 'block' ? [u.block] : [])));
  const found = blocksIn(plans);
  const rowMacs = rg.rows.map((r) => r.ids.reduce((sum, id) => sum + cost.nodes[id]!.macs, 0));
  // A detector's family is its backbone's: the neck and head are no family's blocks.
  const [familyBlocks, familyRows, familyMacs] = dense
    ? [
        blocksIn(plans.filter((p) => p.name === 'backbone')),
        dense.backbone,
        maskedTo(rowMacs, dense.backbone),
      ]
    : [found, rg.rows.map((r) => r.index), rowMacs];
  const detected = withoutPoolsNoVgg(detectFamily(familyBlocks, facts, familyMacs), familyRows, facts);
  const family = dense ? denseFamily(detected, () => isUNet(g, shapes, rg, dense)) : detected;
  refineKinds(family, found, facts);
  const counted = countedRows(rg, facts, found);
  // Box decoding and NMS are no layers.
  for (const r of dense?.post ?? []) counted.delete(r);
  const nhwc = channelsLastTensors(g, shapes, inputLayoutOf(g));
  const rows = rg.rows.map((r) =>
    layerRow(r, g, shapes, cost, facts[r.index]!, counted.has(r.index), fields.get(r.tail), nhwc),
  );

  const names = stageNames(plans, family);
  const blocks: BlockSummary[] = [];
  const merged = new Set<number>();
  let inceptionStage = 2;
  plans.forEach((plan, s) => {
    const stage = names[s]!;
    const hasInception = plan.units.some((u) => u.kind === 'block' && u.block.kind === 'inception module');
    if (hasInception) inceptionStage++;
    let b = 0;
    let loose = 0;
    const stemConvs = plan.units.filter((u) => u.kind === 'row' && facts[u.row]!.weighted).length;
    for (const u of plan.units) {
      if (u.kind === 'row') {
        const row = rows[u.row]!;
        row.stage = stage;
        const f = facts[u.row]!;
        if (plan.place === 'post') {
          row.name = postRow(stage, f);
          continue;
        }
        const nth = plan.place !== 'head' && f.weighted && stemConvs > 1 ? ++loose : 0;
        row.name = looseRow(family, stage, plan.place, f, nth);
        row.role = looseRole(f, plan.place);
        continue;
      }
      const name = u.block.name ?? blockName(family, stage, b++, hasInception ? inceptionStage : 0);
      blocks.push(placeBlock(u.block, name, stage, family, rows, facts, merged));
    }
  });
  // A detector's neck and head rows interleave in graph order: shown stage by stage, block by block.
  const order = dense
    ? plans.flatMap((p) => p.units.flatMap((u) => (u.kind === 'row' ? [u.row] : u.block.rows)))
    : rows.map((_, i) => i);
  const kept = order.filter((i) => !merged.has(i)).map((i) => rows[i]!);
  uniqueNames(kept);
  const stages = plans.map((plan, s) => summariseStage(names[s]!, plan, kept, blocks, facts));
  const countedStages = stages.filter((s) => s.counted > 0);
  const total = kept.filter((r) => r.counted).length;
  const input = g.inputs[0];
  const output = g.outputs[0];
  const warnings = [...shapes.warnings, ...cost.warnings];
  return {
    shapes,
    table: {
      family,
      depth: `${countedStages.map((s) => s.counted).join(' + ')} = ${total}`,
      note:
        family === 'CNN'
          ? 'no known family: blocks are the single-entry, single-exit regions of the graph'
          : null,
      model: {
        name: graph.name,
        producer: graph.producer,
        opset: graph.opset,
        input: input ? { name: input.name, shape: shapes.shapes.get(input.name) ?? input.shape } : null,
        output: output ? { name: output.name, shape: shapes.shapes.get(output.name) ?? output.shape } : null,
        assumed: shapes.assumed,
      },
      rows: kept,
      stages,
      blocks,
      totals: {
        params: cost.params,
        buffers: cost.buffers,
        constants: cost.constants,
        macs: kept.reduce((a, r) => a + r.macs, 0),
        counted: total,
        rows: kept.length,
        projections: kept.filter((r) => r.role === 'projection').length,
        shared: cost.shared.size,
        measured: kept.filter((r) => r.measured).length,
      },
      warnings,
    },
  };
}

/** The facts about a row that recognition and naming use. */
function rowFacts(r: RowDraft, g: OnnxGraph, shapes: GraphShapes, constLike: ReadonlySet<string>): RowFacts {
  const id = r.anchor.ids[0]!;
  const info = shapes.nodes[id]!;
  const node = g.nodes[id]!;
  const op = r.anchor.op;
  const w = info.window;
  const x = info.inShapes[0] ?? null;
  const y = info.outShape;
  // A weight may be an initializer or computed from one (a DequantizeLinear of int8 weights).
  const weighted = WEIGHTED_OPS.has(op) && node.inputs.some((t) => t !== '' && constLike.has(t));
  const num = (d: unknown): number | null => (typeof d === 'number' ? d : null);
  const matmul = /MatMul|Gemm/.test(op);
  // A fully connected layer's widths are its weight's when shapes are unknown (a RoI head after NMS).
  const fc = matmul ? fcWidths(node, g) : undefined;
  const cin = num(x?.[matmul ? x.length - 1 : 1]) ?? fc?.[0] ?? null;
  const cout = num(y?.[/MatMul/.test(op) ? y.length - 1 : 1]) ?? fc?.[1] ?? null;
  const group = w?.group ?? 1;
  return {
    row: r,
    op,
    kernel: w ? w.kernel : null,
    stride: w ? Math.max(...w.strides) : 1,
    group,
    cin,
    cout,
    depthwise: /Conv/.test(op) && group > 1 && cin === group,
    ...(w && { dilation: Math.max(...w.dilations) }),
    weighted,
    activation: activationOf(r.after, g),
    out: shapes.shapes.get(r.tail) ?? null,
  };
}

/** [in, out] of a Gemm or MatMul from its weight's dims ([K, N], or [N, K] under Gemm's transB). */
function fcWidths(node: OnnxGraph['nodes'][number], g: OnnxGraph): [number, number] | undefined {
  const dims = g.initializers.get(node.inputs[1] ?? '')?.dims;
  if (dims?.length !== 2) return undefined;
  return node.op === 'Gemm' && node.attrs.transB === 1 ? [dims[1]!, dims[0]!] : [dims[0]!, dims[1]!];
}

/** The name of the activation folded after a row: 'relu', 'relu6', 'silu', 'hardswish', 'gelu', … */
function activationOf(after: NodeUnit[], g: OnnxGraph): string | null {
  const act = after.find((u) => u.kind === 'act');
  if (!act) return null;
  if (act.ids.length > 1) return act.op;
  const node = g.nodes[act.ids[0]!]!;
  switch (node.op) {
    case 'Clip': {
      const bound = (i: number, attr: string): number | undefined => {
        const a = node.attrs[attr];
        if (typeof a === 'number') return a;
        return g.initializers.get(node.inputs[i] ?? '')?.floats?.[0];
      };
      return bound(1, 'min') === 0 && bound(2, 'max') === 6 ? 'relu6' : 'clip';
    }
    case 'HardSigmoid':
      return 'hard sigmoid';
    case 'LeakyRelu':
      return 'leaky relu';
    default:
      return node.op.toLowerCase();
  }
}

/** A row as the table shows it, before its stage, block and name are known. */
function layerRow(
  r: RowDraft,
  g: OnnxGraph,
  shapes: GraphShapes,
  cost: GraphCost,
  f: RowFacts,
  counted: boolean,
  field: Field | undefined,
  nhwc: ReadonlySet<string>,
): LayerRow {
  const anchor = shapes.nodes[r.anchor.ids[0]!]!;
  const w = anchor.window;
  const pads = w ? [...w.pads] : null;
  if (pads) {
    const rank = pads.length / 2;
    for (const u of r.before) {
      const p = u.kind === 'pad' ? shapes.nodes[u.ids[0]!]!.padAmounts : undefined;
      if (!p) continue;
      const all = p.length / 2;
      for (let i = 0; i < rank; i++) {
        pads[i]! += p[i + 2] ?? 0;
        pads[i + rank]! += p[all + i + 2] ?? 0;
      }
    }
  }
  const costs = r.ids.map((id) => cost.nodes[id]!);
  const norms = [...r.before, ...r.after].filter((u) => u.kind === 'norm').flatMap((u) => u.ids);
  const infos = r.ids.map((id) => shapes.nodes[id]!);
  const firstUnit = r.before[0] ?? r.anchor;
  const inTensor = firstUnit.inputs[0];
  const unknownInfo = infos.find((i) => i.error && !i.blocked) ?? infos.find((i) => i.error);
  const unknownCost = r.ids.find((id) => cost.nodes[id]!.macsUnknown);
  return {
    stage: null,
    block: null,
    name: g.nodes[r.anchor.ids[0]!]!.name || r.anchor.op,
    op: r.anchor.op,
    onnx_nodes: r.ids.map((id) => g.nodes[id]!.name || g.nodes[id]!.op),
    onnx_ops: r.ids.map((id) => g.nodes[id]!.op),
    kernel: w && f.kernel ? w.kernel : null,
    stride: w ? w.strides : null,
    pads,
    dilations: w ? w.dilations : null,
    group: w && r.anchor.op.startsWith('Conv') ? w.group : null,
    in_shape: inTensor ? (shapes.shapes.get(inTensor) ?? null) : null,
    out_shape: f.out,
    in_channels: f.weighted
      ? f.cin
      : channelsOf(inTensor ? shapes.shapes.get(inTensor) : null, inTensor, nhwc),
    out_channels: f.weighted ? f.cout : channelsOf(f.out, r.tail, nhwc),
    channels_last: nhwc.has(r.tail),
    params: sum(costs, (c) => c.params),
    buffers: sum(costs, (c) => c.buffers),
    folded_params: sum(
      norms.map((id) => cost.nodes[id]!),
      (c) => c.params,
    ),
    macs: sum(costs, (c) => c.macs),
    counted,
    role: 'other',
    activation: activationText(r, f),
    downsample: w ? w.strides.some((s) => s > 1) : false,
    output: r.tail,
    shared: [...new Set(costs.flatMap((c) => c.shared))],
    measured: infos.some((i) => i.measured === true),
    receptive_field: field && !field.global ? field.size : null,
    effective_stride: field && !field.global ? field.stride : null,
    rf_center: field && !field.global ? field.center : null,
    unknown: unknownInfo?.error
      ? `shape unknown: ${unknownInfo.error}`
      : unknownCost !== undefined
        ? `multiply-adds unknown: ${cost.nodes[unknownCost]!.macsUnknown!}`
        : null,
  };
}

/** The channel count of a tensor: its last axis where it is channels-last, else axis 1. */
function channelsOf(
  shape: (number | string)[] | null | undefined,
  tensor: string | undefined,
  nhwc: ReadonlySet<string>,
): number | null {
  if (!shape || shape.length < 2) return null;
  const c = tensor !== undefined && nhwc.has(tensor) ? shape[shape.length - 1] : shape[1];
  return typeof c === 'number' ? c : null;
}

/** 'relu after BN', 'silu', 'pre-activation: BN, relu', … */
function activationText(r: RowDraft, f: RowFacts): string | null {
  let after: string | null = null;
  if (f.activation) {
    const actAt = r.after.findIndex((u) => u.kind === 'act');
    const normAt = r.after.findIndex((u) => u.kind === 'norm');
    after =
      normAt >= 0 && normAt < actAt
        ? `${f.activation} after ${normShort(r.after[normAt]!.op)}`
        : f.activation;
  }
  const pre = r.before.filter((u) => u.kind === 'norm' || u.kind === 'act');
  if (pre.length === 0) return after;
  const text = `pre-activation: ${pre.map((u) => (u.kind === 'norm' ? normShort(u.op) : u.op.toLowerCase())).join(', ')}`;
  return after ? `${after}; ${text}` : text;
}

function normShort(op: string): string {
  if (op === 'BatchNormalization') return 'BN';
  if (op === 'LayerNormalization' || op === 'layer norm') return 'LN';
  if (op === 'InstanceNormalization') return 'IN';
  if (op === 'GroupNormalization') return 'GN';
  return op;
}

function looseRole(f: RowFacts, place: StagePlan['place']): RowRole {
  if (f.row.kind === 'pool') return 'pool';
  if (f.weighted && (f.op === 'Gemm' || f.op === 'MatMul')) return 'fc';
  if (f.weighted) return place === 'stem' ? 'stem' : 'conv';
  if (f.row.kind === 'join') return 'join';
  return 'other';
}

function partRole(part: Part, f: RowFacts): RowRole {
  if (f.row.kind === 'pool' && part.part !== 'se') return 'pool';
  switch (part.part) {
    case 'projection':
      return 'projection';
    case 'se':
      return 'se';
    case 'join':
      return 'join';
    case 'branch':
      return f.weighted ? 'branch' : f.row.kind === 'join' ? 'join' : 'other';
    default:
      return f.weighted ? 'main' : 'other';
  }
}

/** Names a block's rows, folds a residual Add into its main path's last row, and summarises the block. */
function placeBlock(
  b: FoundBlock,
  name: string,
  stage: string,
  family: Family,
  rows: LayerRow[],
  facts: RowFacts[],
  merged: Set<number>,
): BlockSummary {
  const convnext = b.kind === 'ConvNeXt block';
  for (const r of b.rows) {
    const row = rows[r]!;
    const part = b.parts.get(r)!;
    row.stage = stage;
    row.block = name;
    row.role = partRole(part, facts[r]!);
    row.name = rowInBlock(name, facts[r]!, part, convnext);
  }
  let last = b.last;
  let relu = false;
  if (b.join !== null && b.shortcut !== null) {
    // The residual Add (and the ReLU after it) belongs to the main path's last layer, as the papers draw it.
    const mainRows = b.rows.filter((r) => {
      const p = b.parts.get(r)!.part;
      return p === 'main' || p === 'project' || p === 'dw' || p === 'expand';
    });
    const lastMain = mainRows.at(-1);
    const join = facts[b.join]!;
    if (lastMain !== undefined && join.row.inputs.includes(facts[lastMain]!.row.tail)) {
      foldJoin(rows[lastMain]!, rows[b.join]!);
      merged.add(b.join);
      last = lastMain;
      relu = join.activation !== null;
    }
  }
  const members = b.rows.filter((r) => !merged.has(r)).map((r) => rows[r]!);
  const first = members.find((r) => r.role === 'main' || r.role === 'branch') ?? members[0]!;
  const strided = members.find((r) => r.downsample && r.role !== 'projection' && r.role !== 'se');
  const f = `F(x) + ${b.shortcut === 'projection' ? 'W_s·x' : 'x'}`;
  return {
    block: name,
    stage,
    kind: kindIn(family, b.kind),
    shortcut: b.shortcut,
    residual: b.shortcut === null ? null : relu ? `relu(${f})` : f,
    notation: blockNotation(family, b, facts),
    in_shape: first.in_shape,
    out_shape: rows[last]!.out_shape,
    stride_on: strided ? strided.name : null,
    counted: members.filter((r) => r.counted).length,
    params: sum(members, (r) => r.params),
    buffers: sum(members, (r) => r.buffers),
    macs: sum(members, (r) => r.macs),
  };
}

function foldJoin(main: LayerRow, join: LayerRow): void {
  main.onnx_nodes.push(...join.onnx_nodes);
  main.onnx_ops.push(...join.onnx_ops);
  main.params += join.params;
  main.buffers += join.buffers;
  main.macs += join.macs;
  main.out_shape = join.out_shape;
  main.output = join.output;
  main.shared = [...new Set([...main.shared, ...join.shared])];
  main.measured ||= join.measured;
  main.unknown ??= join.unknown;
  main.receptive_field = join.receptive_field;
  main.effective_stride = join.effective_stride;
  main.rf_center = join.rf_center;
  if (join.activation) main.activation = `${join.activation} after residual add`;
}

function summariseStage(
  stage: string,
  plan: StagePlan,
  rows: LayerRow[],
  blocks: BlockSummary[],
  facts: RowFacts[],
): StageSummary {
  const inStage = rows.filter((r) => r.stage === stage);
  const stageBlocks = blocks.filter((b) => b.stage === stage);
  const kinds = [...new Set(stageBlocks.map((b) => b.kind))];
  const out = inStage.at(-1)?.out_shape ?? null;
  return {
    stage,
    counted: inStage.filter((r) => r.counted).length,
    blocks: stageBlocks.length,
    block_kind: kinds.length === 0 ? null : kinds.length === 1 ? kinds[0]! : 'mixed',
    out_shape: out,
    out_size: out ? (out.length > 2 ? out.slice(2) : [1, 1]) : null,
    width: out?.[1] ?? null,
    layout: layoutOf(plan, stageBlocks, facts),
    params: sum(inStage, (r) => r.params),
    buffers: sum(inStage, (r) => r.buffers),
    macs: sum(inStage, (r) => r.macs),
  };
}

/** Paper-style layout of a stage: rows outside blocks, then runs of alike blocks as 'notation × n'. */
function layoutOf(plan: StagePlan, blocks: BlockSummary[], facts: RowFacts[]): string {
  const parts: string[] = [];
  let k = 0;
  let run: { notation: string; n: number; kind: string } | undefined;
  const flush = (): void => {
    // A conv group carries its own count; a lone transition is not a repetition.
    const once = run && (run.kind === 'conv group' || (run.kind === 'transition' && run.n === 1));
    if (run) parts.push(once ? run.notation : `${run.notation} × ${run.n}`);
    run = undefined;
  };
  for (const u of plan.units) {
    if (u.kind === 'row') {
      flush();
      parts.push(describeLoose(facts[u.row]!));
      continue;
    }
    const b = blocks[k++]!;
    if (run && run.notation === b.notation) run.n++;
    else {
      flush();
      run = { notation: b.notation, n: 1, kind: b.kind };
    }
  }
  flush();
  return parts.join('; ');
}

function describeLoose(f: RowFacts): string {
  const s = f.stride > 1 ? `, stride ${f.stride}` : '';
  if (f.row.kind === 'pool')
    return f.kernel && !/Global|Reduce/.test(f.op)
      ? `${f.kernel.join('×')} ${poolText(f).split(' pool')[0]} pool${s}`
      : poolText(f);
  if (f.weighted && (f.op === 'Gemm' || f.op === 'MatMul') && !f.kernel)
    return `${String(f.cout ?? '?')}-d fc`;
  if (f.weighted) return `${desc(f)}${s}`;
  return f.op.toLowerCase();
}

/** Rows on the longest path of weighted layers from input to output (SE branches and shortcuts off it). */
function countedRows(rg: RowGraph, facts: RowFacts[], blocks: FoundBlock[]): Set<number> {
  // Squeeze-and-excitation gates are side computations: their layers never count (their scale does pass).
  const gate = new Set<number>();
  for (const b of blocks) {
    for (const [r, p] of b.parts) if (p.part === 'se' && p.step !== 'scale') gate.add(r);
  }
  const best = new Array<number>(rg.rows.length).fill(0);
  const pred = new Array<number>(rg.rows.length).fill(-1);
  for (const r of rg.rows) {
    const i = r.index;
    let top = 0;
    if (!gate.has(i)) {
      for (const t of r.inputs) {
        const p = rg.producer.get(t);
        if (p === undefined || gate.has(p)) continue;
        // Ties keep the first input: the main path of a residual Add, the first branch of a concat.
        if (pred[i] === -1 || best[p]! > top) {
          top = best[p]!;
          pred[i] = p;
        }
      }
    }
    best[i] = top + (facts[i]!.weighted && !gate.has(i) ? 1 : 0);
  }
  const out = rg.outputs.map((t) => rg.producer.get(t)).find((p) => p !== undefined);
  const path = new Set<number>();
  for (let r = out ?? -1; r >= 0; r = pred[r]!) if (facts[r]!.weighted) path.add(r);
  return path;
}

/** Row names must be unique: they key activations and feature maps. */
function uniqueNames(rows: LayerRow[]): void {
  const seen = new Map<string, number>();
  for (const r of rows) {
    const n = (seen.get(r.name) ?? 0) + 1;
    seen.set(r.name, n);
    if (n > 1) r.name = `${r.name} #${n}`;
  }
}

/** Each row's multiply-adds, zero outside `rows`. */
function maskedTo(macs: number[], rows: number[]): number[] {
  const keep = new Set(rows);
  return macs.map((m, r) => (keep.has(r) ? m : 0));
}

function sum<T>(xs: T[], f: (x: T) => number): number {
  return xs.reduce((s, x) => s + f(x), 0);
}

export type { TableShape, Unit };
