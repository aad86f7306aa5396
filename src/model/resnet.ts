// Reads a graph as a ResNet — stem, residual blocks between Add joins, stages, head — and lays it out
// as the layer table. Nothing here knows ResNet50's sizes: blocks are found from the graph's forks and
// joins, stages from where the block output size or width changes. Other graphs get a per-node table.
import type {
  BlockSummary,
  LayerRow,
  LayerTable,
  RowRole,
  StageSummary,
  TableShape,
} from '../shared/layerTable';
import { GraphIndex } from './graphIndex';
import { buildRows, foldInto, plainRows, type RowDraft } from './layerRows';
import type { OnnxGraph } from './onnxGraph';
import { inferShapes, type GraphShapes, type NodeInfo } from './shapes';

export type {
  BlockSummary,
  LayerRow,
  LayerTable,
  RowActivation,
  RowRole,
  StageSummary,
  TableShape,
} from '../shared/layerTable';

/** A residual block as found in the graph (node ids index `graph.nodes`). */
interface FoundBlock {
  input: string;
  output: string;
  main: number[];
  shortcut: number[];
  /** The Add join and the Relu after it, when there is one. */
  join: number[];
}

/** A row list for one block plus what the summaries need. */
interface BlockRows {
  found: FoundBlock;
  main: RowDraft[];
  shortcut: RowDraft[];
}

// Raised while grouping; its message becomes the fallback's reason.
class NotResNet extends Error {}

/** Builds the layer table of a graph: ResNet rows when the structure is recognised, else one row per node. */
export function buildLayerTable(graph: OnnxGraph, shapes: GraphShapes = inferShapes(graph)): LayerTable {
  const index = new GraphIndex(graph);
  let rows: LayerRow[];
  let stages: StageSummary[] = [];
  let blocks: BlockSummary[] = [];
  let reason: string | null = null;
  try {
    ({ rows, stages, blocks } = groupResNet(graph, shapes.nodes, index));
  } catch (err) {
    if (!(err instanceof NotResNet)) throw err;
    reason = err.message;
    rows = plainRows(shapes.nodes);
  }
  const input = graph.inputs[0];
  const output = graph.outputs[0];
  return {
    resnet: reason === null,
    reason,
    model: {
      name: graph.name,
      producer: graph.producer,
      opset: graph.opset,
      input: input ? { name: input.name, shape: shapes.shapes.get(input.name) ?? input.shape } : null,
      output: output ? { name: output.name, shape: shapes.shapes.get(output.name) ?? output.shape } : null,
    },
    rows,
    stages,
    blocks,
    totals: {
      params: sum(rows, (r) => r.params),
      macs: sum(rows, (r) => r.macs),
      counted: rows.filter((r) => r.counted).length,
      rows: rows.length,
      projections: rows.filter((r) => r.role === 'projection').length,
    },
    warnings: shapes.warnings,
  };
}

function groupResNet(
  graph: OnnxGraph,
  infos: NodeInfo[],
  index: GraphIndex,
): { rows: LayerRow[]; stages: StageSummary[]; blocks: BlockSummary[] } {
  if (graph.inputs.length !== 1) throw new NotResNet(`graph has ${graph.inputs.length} inputs, expected 1`);
  const found = findBlocks(graph, index);
  const claimed = new Set(found.flatMap((b) => [...b.main, ...b.shortcut, ...b.join]));
  const stemIds = ancestors(found[0]!.input, index).filter((id) => !claimed.has(id));
  const headIds = descendants(found.at(-1)!.output, index).filter((id) => !claimed.has(id));
  for (const id of [...stemIds, ...headIds]) claimed.add(id);
  const stray = graph.nodes.findIndex((n, id) => !claimed.has(id) && n.op !== 'Constant');
  if (stray >= 0) {
    throw new NotResNet(
      `node ${graph.nodes[stray]!.name || stray} is outside the stem, the residual blocks and the head`,
    );
  }
  if (!stemIds.some((id) => graph.nodes[id]!.op === 'Conv')) {
    throw new NotResNet('no convolution before the first residual block (no stem)');
  }

  const stem = buildRows(stemIds, infos, index, (i) => (i.node.op === 'Conv' ? 'stem' : roleOf(i, 'other')));
  const head = buildRows(headIds, infos, index, (i) => roleOf(i, 'conv'));
  const blockRows = found.map((b) => rowsOfBlock(b, infos, index));
  const stageOf = stagesOfBlocks(blockRows, infos);
  const firstStage = stageOf[0]!.name;

  const rows: LayerRow[] = [];
  const stemConvs = stem.filter((d) => d.row.op === 'Conv');
  let pooled = false;
  for (const d of stem) {
    // As in the ResNet paper, the stem's max pool opens conv2_x; conv1 ends at the stem conv.
    pooled ||= d.row.role === 'pool';
    d.row.stage = pooled ? firstStage : 'conv1';
    d.row.name =
      d.row.op === 'Conv'
        ? convLabel('conv1', stemConvs.length > 1 ? letter(stemConvs.indexOf(d)) : '', d)
        : poolLabel(d);
    rows.push(d.row);
  }
  const blocks: BlockSummary[] = [];
  blockRows.forEach((b, i) => {
    const { name: stage, block } = stageOf[i]!;
    b.main.forEach((d, k) => {
      d.row.name = d.row.op === 'Conv' ? convLabel(block, letter(k), d) : `${block} ${d.row.name}`;
    });
    for (const d of b.shortcut)
      d.row.name = d.row.op === 'Conv' ? convLabel(block, 'proj', d) : `${block} ${poolLabel(d)}`;
    for (const d of [...b.main, ...b.shortcut]) {
      d.row.stage = stage;
      d.row.block = block;
      rows.push(d.row);
    }
    blocks.push(summariseBlock(b, stage, block, infos));
  });
  for (const d of head) {
    d.row.stage = 'fc';
    d.row.name = d.row.role === 'fc' ? `fc ${String(d.row.out_shape?.at(-1) ?? '')}`.trim() : poolLabel(d);
    rows.push(d.row);
  }
  for (const r of rows)
    r.counted = r.role === 'stem' || r.role === 'main' || r.role === 'fc' || r.role === 'conv';
  return { rows, stages: summariseStages(rows, blocks), blocks };
}

// Every Add of two activations is a residual join; each block runs from the fork its two branches share.
function findBlocks(graph: OnnxGraph, index: GraphIndex): FoundBlock[] {
  const blocks: FoundBlock[] = [];
  graph.nodes.forEach((node, id) => {
    const data = index.dataInputs(node);
    if (node.op !== 'Add' || data.length !== 2) return;
    const [a, b] = data.map((t) => walkBranch(t, index, graph));
    if (a!.fork === null || a!.fork !== b!.fork) {
      throw new NotResNet(`the two inputs of Add ${node.name || id} do not branch from one tensor`);
    }
    const [main, shortcut] = branchWeight(a!.ids, graph) >= branchWeight(b!.ids, graph) ? [a!, b!] : [b!, a!];
    const join = [id];
    let output = node.outputs[0]!;
    const after = index.consumersOf(output);
    if (after.length === 1 && graph.nodes[after[0]!]!.op === 'Relu') {
      join.push(after[0]!);
      output = graph.nodes[after[0]!]!.outputs[0]!;
    }
    blocks.push({ input: a!.fork, output, main: main.ids, shortcut: shortcut.ids, join });
  });
  if (blocks.length === 0) throw new NotResNet('no residual Add joins (Add of two activations) found');
  blocks.forEach((b, i) => {
    if (b.main.length === 0) throw new NotResNet(`residual block ${i + 1} has no layers on either branch`);
    if (i > 0 && b.input !== blocks[i - 1]!.output) {
      throw new NotResNet(`residual block ${i + 1} does not start where block ${i} ends`);
    }
  });
  return blocks;
}

// Walks back from a tensor through single-input nodes to the first tensor with several consumers.
// A null fork means the walk met a node joining several activations before any fork.
function walkBranch(
  tensor: string,
  index: GraphIndex,
  graph: OnnxGraph,
): { fork: string | null; ids: number[] } {
  const ids: number[] = [];
  let t = tensor;
  for (;;) {
    const p = index.producerOf(t);
    if (index.consumersOf(t).length >= 2 || p === undefined) return { fork: t, ids: ids.reverse() };
    const data = index.dataInputs(graph.nodes[p]!);
    if (data.length !== 1) return { fork: null, ids };
    ids.push(p);
    t = data[0]!;
  }
}

function rowsOfBlock(found: FoundBlock, infos: NodeInfo[], index: GraphIndex): BlockRows {
  const main = buildRows(found.main, infos, index, (i) => roleOf(i, 'main'));
  const shortcut = buildRows(found.shortcut, infos, index, (i) => roleOf(i, 'projection'));
  const last = main.at(-1)!;
  for (const id of found.join) foldInto(last, infos[id]!);
  return { found, main, shortcut };
}

// Consecutive blocks with the same output size and width form a stage: conv2_x, conv3_x, …
function stagesOfBlocks(blocks: BlockRows[], infos: NodeInfo[]): { name: string; block: string }[] {
  const out: { name: string; block: string }[] = [];
  let stage = 1;
  let inStage = 0;
  let key = '';
  for (const b of blocks) {
    const shape = outShapeOf(b, infos);
    const k = JSON.stringify(shape?.slice(1) ?? null);
    if (k !== key || shape === null) {
      stage++;
      inStage = 0;
      key = k;
    }
    inStage++;
    out.push({ name: `conv${stage}_x`, block: `conv${stage}_${inStage}` });
  }
  return out;
}

function summariseBlock(b: BlockRows, stage: string, block: string, infos: NodeInfo[]): BlockSummary {
  const convs = b.main.filter((d) => d.row.op === 'Conv').length;
  const projection = b.found.shortcut.length > 0;
  const relu = b.found.join.length > 1;
  const f = `F(x) + ${projection ? 'W_s·x' : 'x'}`;
  const strided = b.main.find((d) => d.row.downsample);
  const all = [...b.main, ...b.shortcut].map((d) => d.row);
  return {
    block,
    stage,
    kind: convs === 3 ? 'bottleneck' : convs === 2 ? 'basic' : `${convs}-conv`,
    shortcut: projection ? 'projection' : 'identity',
    residual: relu ? `relu(${f})` : f,
    in_shape: b.main[0]!.row.in_shape,
    out_shape: outShapeOf(b, infos),
    stride_on: strided ? strided.row.name : null,
    params: sum(all, (r) => r.params),
    macs: sum(all, (r) => r.macs),
  };
}

function summariseStages(rows: LayerRow[], blocks: BlockSummary[]): StageSummary[] {
  const names = [...new Set(rows.map((r) => r.stage!))];
  return names.map((stage) => {
    const inStage = rows.filter((r) => r.stage === stage);
    const stageBlocks = blocks.filter((b) => b.stage === stage);
    const kinds = [...new Set(stageBlocks.map((b) => b.kind))];
    const out = inStage.at(-1)!.out_shape;
    return {
      stage,
      counted: inStage.filter((r) => r.counted).length,
      blocks: stageBlocks.length,
      block_kind: kinds.length === 0 ? null : kinds.length === 1 ? kinds[0]! : 'mixed',
      out_shape: out,
      out_size: out ? (out.length > 2 ? out.slice(2) : [1, 1]) : null,
      width: out?.[1] ?? null,
      layout: layoutOf(inStage, stageBlocks.length),
      params: sum(inStage, (r) => r.params),
      macs: sum(inStage, (r) => r.macs),
    };
  });
}

// Paper-style description: rows outside blocks, then the first block's main path × block count.
function layoutOf(rows: LayerRow[], blockCount: number): string {
  const parts = rows.filter((r) => r.block === null).map(describe);
  const first = rows.find((r) => r.block !== null)?.block;
  if (first) {
    const main = rows.filter((r) => r.block === first && r.role === 'main').map(describe);
    parts.push(`[${main.join('; ')}] × ${blockCount}`);
  }
  return parts.join('; ');
}

function describe(r: LayerRow): string {
  const k = r.kernel ? r.kernel.join('×') : '';
  const s = r.downsample && r.stride ? `, stride ${sameOrAll(r.stride)}` : '';
  if (r.role === 'pool')
    return r.kernel ? `${k} ${poolKind(r.op)} pool${s}` : `global ${poolKind(r.op)} pool`;
  if (r.role === 'fc') return `${String(r.out_shape?.at(-1) ?? '?')}-d fc`;
  if (r.block !== null) return `${k}, ${String(r.out_shape?.[1] ?? '?')}`;
  return `${k}, ${String(r.out_shape?.[1] ?? '?')}${s}`;
}

// "2" for [2, 2], "2×1" otherwise.
function sameOrAll(xs: number[]): string {
  return xs.every((x) => x === xs[0]) ? String(xs[0]) : xs.join('×');
}

function convLabel(prefix: string, part: string, d: RowDraft): string {
  const k = d.row.kernel ? d.row.kernel.join('×') : '?';
  return `${prefix}${part ? ' ' + part : ''} ${k}, ${String(d.row.out_shape?.[1] ?? '?')}`;
}

function poolLabel(d: RowDraft): string {
  const r = d.row;
  if (r.role !== 'pool') return r.name;
  return r.kernel ? `${poolKind(r.op)} pool ${r.kernel.join('×')}` : `global ${poolKind(r.op)} pool`;
}

function poolKind(op: string): string {
  return op.includes('Max') ? 'max' : 'avg';
}

function roleOf(info: NodeInfo, convRole: RowRole): RowRole {
  const op = info.node.op;
  if (op === 'Conv') return convRole;
  if (op === 'Gemm' || op === 'MatMul') return 'fc';
  if (op.includes('Pool')) return 'pool';
  return 'other';
}

function outShapeOf(b: BlockRows, infos: NodeInfo[]): TableShape {
  return infos[b.found.join.at(-1)!]!.outShape;
}

// The main path is the branch with more convolutions (then more nodes); the shortcut is the other.
function branchWeight(ids: number[], graph: OnnxGraph): number {
  return ids.filter((id) => graph.nodes[id]!.op === 'Conv').length * 1000 + ids.length;
}

function ancestors(tensor: string, index: GraphIndex): number[] {
  const seen = new Set<number>();
  const stack = [tensor];
  while (stack.length > 0) {
    const p = index.producerOf(stack.pop()!);
    if (p === undefined || seen.has(p)) continue;
    seen.add(p);
    stack.push(...index.graph.nodes[p]!.inputs.filter((t) => t !== ''));
  }
  return [...seen].sort((a, b) => a - b);
}

function descendants(tensor: string, index: GraphIndex): number[] {
  const seen = new Set<number>();
  const stack = [tensor];
  while (stack.length > 0) {
    for (const c of index.consumersOf(stack.pop()!)) {
      if (seen.has(c)) continue;
      seen.add(c);
      stack.push(...index.graph.nodes[c]!.outputs);
    }
  }
  return [...seen].sort((a, b) => a - b);
}

function letter(i: number): string {
  return String.fromCharCode(97 + i);
}

function sum<T>(xs: T[], f: (x: T) => number): number {
  return xs.reduce((s, x) => s + f(x), 0);
}
