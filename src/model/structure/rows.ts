// Graph nodes → layer rows, as papers draw layers: one row per convolution, fully connected layer,
// pooling or resize (the anchors), per join of several activations (Add, Concat, Mul, …) and per node that
// fits nowhere else. The nodes around an anchor fold into it: a zero Pad, a Flatten or a pre-activation
// (BN → ReLU → conv) before it; BatchNorm/LayerNorm, bias, layer scale and the activation after it.
// An activation written as several nodes (SiLU = x·sigmoid(x), GELU with Erf, hard-swish, Mish, a
// decomposed layer norm) is found as an "island" that reads one tensor, and folds as one activation.
import type { OnnxGraph } from '../onnxGraph';
import type { GraphShapes } from '../shapes';

/** How a unit takes part in rows. */
export type UnitKind = 'weighted' | 'pool' | 'resize' | 'join' | 'multi' | 'other' | Foldable;
/** Units that fold into a neighbouring row. */
export type Foldable = 'norm' | 'act' | 'layout' | 'constbin' | 'pad';

/** One node, or an island of nodes acting as one activation or normalisation. */
export interface Unit {
  ids: number[];
  kind: UnitKind;
  /** The op for display: the node's op, or the island's function ('silu', 'gelu', 'layer norm', …). */
  op: string;
  /** Activation tensors read. */
  inputs: string[];
  /** Activation tensors produced. */
  outputs: string[];
}

/** A layer row before it is named. */
export interface RowDraft {
  index: number;
  kind: 'weighted' | 'pool' | 'resize' | 'join' | 'multi' | 'other';
  /** The anchor unit (the row's own op). */
  anchor: Unit;
  /** Units folded before and after the anchor, in graph order. */
  before: Unit[];
  after: Unit[];
  /** Node ids of every node in the row (shape-only helpers included), in graph order. */
  ids: number[];
  /** Activation tensors the row reads from other rows or the graph input. */
  inputs: string[];
  /** The tensor the row outputs (its last folded unit's output). */
  tail: string;
  /** Activation tensors the row produces that other rows (or graph outputs) read. */
  outputs: string[];
}

/** Rows of a graph and the lookups structure analysis needs. */
export interface RowGraph {
  rows: RowDraft[];
  /** Tensors that carry no activations: initializers and what is computed from them alone. */
  constLike: ReadonlySet<string>;
  /** The row producing each activation tensor. */
  producer: Map<string, number>;
  /** Rows reading each activation tensor (a row once per tensor). */
  consumers: Map<string, number[]>;
  /** Tensors that are graph inputs (images). */
  inputs: string[];
  /** Tensors that are graph outputs. */
  outputs: string[];
}

const WEIGHTED = new Set([
  'Conv',
  'ConvTranspose',
  'Gemm',
  'MatMul',
  // Quantized models in operator form (onnxruntime's QOperator format, integer ops).
  'QLinearConv',
  'QLinearMatMul',
  'ConvInteger',
  'MatMulInteger',
  'QGemm',
]);
const POOLS = new Set([
  'MaxPool',
  'AveragePool',
  'LpPool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'GlobalLpPool',
  'QLinearAveragePool',
  'QLinearGlobalAveragePool',
]);
const RESIZE = new Set(['Resize', 'Upsample']);
const NORM = new Set([
  'BatchNormalization',
  'LayerNormalization',
  'InstanceNormalization',
  'GroupNormalization',
  'LRN',
  'MeanVarianceNormalization',
]);
const ACT = new Set([
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Elu',
  'Selu',
  'Celu',
  'Sigmoid',
  'HardSigmoid',
  'HardSwish',
  'Tanh',
  'Softplus',
  'Softsign',
  'Mish',
  'Gelu',
  'Clip',
  'ThresholdedRelu',
  'Softmax',
  'LogSoftmax',
]);
const LAYOUT = new Set([
  'Transpose',
  'Reshape',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Cast',
  'Identity',
  'Dropout',
  'Slice',
  'DepthToSpace',
  'SpaceToDepth',
  // Precision changes around quantized ops (QDQ models) belong to the layer they wrap.
  'QuantizeLinear',
  'DequantizeLinear',
  'DynamicQuantizeLinear',
]);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow']);
// Nodes an activation island may contain: anything that reads one activation and is not an anchor.
const ISLAND_STEPS = 10;

/** Builds the rows of a normalised graph. */
export function buildRowGraph(graph: OnnxGraph, shapes: GraphShapes): RowGraph {
  const constLike = constantTensors(graph, shapes);
  const isData = (t: string): boolean => t !== '' && !constLike.has(t);
  const units = makeUnits(graph, shapes, isData);
  const unitOf = new Map<string, Unit>();
  for (const u of units) for (const o of u.outputs) unitOf.set(o, u);
  const readers = new Map<string, Unit[]>();
  for (const u of units) {
    for (const t of new Set(u.inputs)) {
      const list = readers.get(t);
      if (list) list.push(u);
      else readers.set(t, [u]);
    }
  }
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const singleUse = (t: string): Unit | undefined => {
    const r = readers.get(t) ?? [];
    return r.length === 1 && !graphOutputs.has(t) ? r[0] : undefined;
  };

  const rowOf = new Map<Unit, RowDraft>();
  const rows: RowDraft[] = [];
  const seed = (u: Unit, kind: RowDraft['kind']): RowDraft => {
    const row: RowDraft = {
      index: -1,
      kind,
      anchor: u,
      before: [],
      after: [],
      ids: [],
      inputs: [],
      tail: u.outputs[0] ?? '',
      outputs: [],
    };
    rowOf.set(u, row);
    rows.push(row);
    return row;
  };
  for (const u of units) if (!isFoldable(u.kind)) seed(u, u.kind as RowDraft['kind']);

  // Chains of foldable units: each starts where its input is not the single-use output of another foldable.
  const foldablePred = (u: Unit): Unit | undefined => {
    const p = unitOf.get(u.inputs[0] ?? '');
    return p && isFoldable(p.kind) && singleUse(p.outputs[0]!) === u ? p : undefined;
  };
  for (const head of units) {
    if (!isFoldable(head.kind) || foldablePred(head)) continue;
    const chain = [head];
    for (;;) {
      const next = singleUse(chain.at(-1)!.outputs[0]!);
      if (!next || !isFoldable(next.kind)) break;
      chain.push(next);
    }
    placeChain(chain);
  }

  function placeChain(chain: Unit[]): void {
    const input = chain[0]!.inputs[0]!;
    const producer = unitOf.get(input);
    const prow = producer ? rowOf.get(producer) : undefined;
    const end = singleUse(chain.at(-1)!.outputs[0]!);
    const crow = end ? rowOf.get(end) : undefined;
    const consumer = crow && crow.anchor === end ? crow : undefined;
    // A forked tensor stays a row's output: nothing folds after a row whose tail others read too.
    const canAppend = prow !== undefined && prow.tail === input && singleUse(input) === chain[0];
    let k = 0;
    if (canAppend) {
      const state = foldState(prow);
      while (k < chain.length && accepts(prow, state, chain[k]!, consumer)) k++;
    }
    for (const u of chain.slice(0, k)) append(prow!, u);
    const rest = chain.slice(k);
    if (rest.length === 0) return;
    if (consumer && acceptsBefore(consumer, rest, shapes, graph)) {
      consumer.before.push(...rest);
      for (const u of rest) rowOf.set(u, consumer);
      return;
    }
    // No anchor to lean on: layout and activations still follow their producer when they can.
    if (canAppend && rest.every((u) => u.kind === 'layout' || u.kind === 'act')) {
      for (const u of rest) append(prow!, u);
      return;
    }
    const own = seed(rest[0]!, 'other');
    for (const u of rest.slice(1)) append(own, u);
  }

  function append(row: RowDraft, u: Unit): void {
    row.after.push(u);
    row.tail = u.outputs[0]!;
    rowOf.set(u, row);
  }

  // Rows in graph order of their anchors; tails and ids.
  rows.sort((a, b) => a.anchor.ids[0]! - b.anchor.ids[0]!);
  rows.forEach((r, i) => {
    r.index = i;
    if (!r.tail || r.after.length === 0) r.tail = r.after.at(-1)?.outputs[0] ?? r.anchor.outputs[0] ?? '';
    r.ids = [...r.before, r.anchor, ...r.after].flatMap((u) => u.ids);
  });
  attachShapeNodes(graph, units, rows, constLike);

  const producer = new Map<string, number>();
  for (const r of rows) {
    for (const u of [...r.before, r.anchor, ...r.after]) for (const o of u.outputs) producer.set(o, r.index);
  }
  const consumers = new Map<string, number[]>();
  for (const r of rows) {
    const inside = new Set([...r.before, r.anchor, ...r.after].flatMap((u) => u.outputs));
    const reads = [...r.before, r.anchor, ...r.after].flatMap((u) => u.inputs).filter((t) => !inside.has(t));
    r.inputs = [...new Set(reads)];
    for (const t of r.inputs) {
      const list = consumers.get(t);
      if (list) list.push(r.index);
      else consumers.set(t, [r.index]);
    }
  }
  for (const r of rows) {
    const all = [...r.before, r.anchor, ...r.after].flatMap((u) => u.outputs);
    r.outputs = all.filter((t) => consumers.has(t) || graphOutputs.has(t));
    if (r.outputs.length === 0) r.outputs = [r.tail];
  }
  const inputs = graph.inputs.map((i) => i.name).filter((n) => consumers.has(n));
  return { rows, constLike, producer, consumers, inputs, outputs: [...graphOutputs] };
}

/** Whether a unit folds into a neighbouring row rather than making one. */
export function isFoldable(kind: UnitKind): kind is Foldable {
  return kind === 'norm' || kind === 'act' || kind === 'layout' || kind === 'constbin' || kind === 'pad';
}

/** What a row has folded after its anchor so far. */
interface FoldState {
  norm: boolean;
  act: boolean;
}

function foldState(row: RowDraft): FoldState {
  return {
    norm: row.after.some((u) => u.kind === 'norm'),
    act: row.after.some((u) => u.kind === 'act'),
  };
}

/** Whether `u` may fold after the row: BN/LN, bias and layer scale, then one activation, after a layer. */
// Precision changes wrap the op before them: a QDQ pair after a layer is that layer's output as read.
const QUANT = new Set(['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear']);

function accepts(row: RowDraft, state: FoldState, u: Unit, consumer: RowDraft | undefined): boolean {
  if (QUANT.has(u.op)) return true;
  // A Flatten before a fully connected layer belongs to that layer, as the papers draw it.
  if (u.kind === 'layout' && consumer && consumer.kind === 'weighted' && /Flatten|Reshape/.test(u.op)) {
    return false;
  }
  let ok = false;
  if (row.kind === 'weighted') {
    if (u.kind === 'layout' || u.kind === 'constbin') ok = true;
    else if (u.kind === 'norm') ok = !state.norm && !state.act;
    else if (u.kind === 'act') ok = !state.act;
  } else if (row.kind === 'pool' || row.kind === 'join' || row.kind === 'resize') {
    ok = u.kind === 'act' && !state.act;
  }
  if (ok && u.kind === 'norm') state.norm = true;
  if (ok && u.kind === 'act') state.act = true;
  return ok;
}

/** Whether a run of units may fold before the consumer's anchor (pre-activation, Pad, Flatten, …). */
function acceptsBefore(consumer: RowDraft, units: Unit[], shapes: GraphShapes, graph: OnnxGraph): boolean {
  if (consumer.kind !== 'weighted' && consumer.kind !== 'pool' && consumer.kind !== 'resize') return false;
  const windowed = consumer.kind === 'pool' || /^Conv/.test(consumer.anchor.op);
  return units.every((u) => u.kind !== 'pad' || (windowed && spatialZeroPad(u, shapes, graph)));
}

// Only a constant pad of H and W is a convolution's padding; other pads keep a row of their own.
function spatialZeroPad(u: Unit, shapes: GraphShapes, graph: OnnxGraph): boolean {
  const node = graph.nodes[u.ids[0]!]!;
  const p = shapes.nodes[u.ids[0]!]!.padAmounts;
  const mode = node.attrs.mode;
  if (!p || (mode !== undefined && mode !== 'constant')) return false;
  const r = p.length / 2;
  return r === 4 && p[0] === 0 && p[1] === 0 && p[r] === 0 && p[r + 1] === 0;
}

/** Tensors that do not carry activations: initializers, constants and everything computed only from them. */
function constantTensors(graph: OnnxGraph, shapes: GraphShapes): Set<string> {
  const out = new Set<string>(graph.initializers.keys());
  for (const [name] of shapes.values) out.add(name);
  for (const node of graph.nodes) {
    const ins = node.inputs.filter((t) => t !== '');
    if (node.op === 'Shape' || node.op === 'Size' || ins.every((t) => out.has(t))) {
      for (const o of node.outputs) if (o) out.add(o);
    }
  }
  return out;
}

/** One unit per node, except activation islands, which become one unit each. */
function makeUnits(graph: OnnxGraph, shapes: GraphShapes, isData: (t: string) => boolean): Unit[] {
  const producer = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => producer.set(o, i)));
  const readers = new Map<string, number[]>();
  graph.nodes.forEach((n, i) => {
    for (const t of new Set(n.inputs)) {
      if (!isData(t)) continue;
      const list = readers.get(t);
      if (list) list.push(i);
      else readers.set(t, [i]);
    }
  });
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const dataIn = (i: number): string[] => graph.nodes[i]!.inputs.filter(isData);
  // Outputs nobody reads (MaxPool's indices, LayerNormalization's mean) do not make a node a fork.
  const dataOut = (i: number): string[] => {
    const outs = graph.nodes[i]!.outputs.filter((o) => o && isData(o));
    const used = outs.filter((o) => readers.has(o) || graphOutputs.has(o));
    return used.length > 0 ? used : outs.slice(0, 1);
  };
  const anchorLike = (i: number): boolean => {
    const k = baseKind(i);
    return k === 'weighted' || k === 'pool' || k === 'resize';
  };
  const baseKind = (i: number): UnitKind => nodeKind(graph, shapes, i, dataIn(i).length, dataOut(i).length);

  const islandOf = new Map<number, number[]>();
  graph.nodes.forEach((_, j) => {
    const ins = [...new Set(dataIn(j))];
    if (ins.length < 2 || anchorLike(j)) return;
    // Each input's way back through non-anchor single-input nodes; the first tensor all ways share is the root.
    const ways = ins.map((t) => walkBack(t));
    const root = ways[0]!.find((t) => ways.every((w) => w.includes(t)));
    if (root === undefined) return;
    const members = new Set<number>([j]);
    for (const w of ways) {
      for (const t of w.slice(0, w.indexOf(root))) members.add(producer.get(t)!);
    }
    if (members.size > ISLAND_STEPS + 1 || [...members].some((m) => islandOf.has(m) && m !== j)) return;
    // Nothing inside may be read from outside the island.
    for (const m of members) {
      if (m === j) continue;
      for (const o of dataOut(m)) if ((readers.get(o) ?? []).some((r) => !members.has(r))) return;
    }
    const ids = [...members].sort((a, b) => a - b);
    for (const m of ids) islandOf.set(m, ids);
  });

  function walkBack(t: string): string[] {
    const way = [t];
    let cur = t;
    for (let step = 0; step < ISLAND_STEPS; step++) {
      const p = producer.get(cur);
      if (p === undefined || anchorLike(p) || islandOf.has(p)) break;
      const ins = dataIn(p);
      if (ins.length !== 1 || dataOut(p).length !== 1) break;
      cur = ins[0]!;
      way.push(cur);
    }
    return way;
  }

  const units: Unit[] = [];
  const done = new Set<number>();
  graph.nodes.forEach((node, i) => {
    if (done.has(i)) return;
    const island = islandOf.get(i);
    if (island) {
      // An island appears at its last node's place: it is complete by then.
      if (i !== island.at(-1)) return;
      for (const m of island) done.add(m);
      const inside = new Set(island.flatMap((m) => dataOut(m)));
      const ins = [...new Set(island.flatMap((m) => dataIn(m)).filter((t) => !inside.has(t)))];
      const ops = island.map((m) => graph.nodes[m]!.op);
      units.push({
        ids: island,
        kind: islandKind(ops),
        op: islandName(ops),
        inputs: ins,
        outputs: dataOut(i),
      });
      return;
    }
    const outs = dataOut(i);
    if (outs.length === 0) return; // shape-only helpers attach to their consumers later
    units.push({ ids: [i], kind: baseKind(i), op: node.op, inputs: dataIn(i), outputs: outs });
  });
  // Islands are pushed at their last node; keep units in graph order of their first node.
  units.sort((a, b) => a.ids.at(-1)! - b.ids.at(-1)!);
  return mergeIslands(units, islandOf, graph);
}

/** A layer norm written out becomes two islands (mean, then variance): one unit when one feeds the other. */
function mergeIslands(units: Unit[], islandOf: Map<number, number[]>, graph: OnnxGraph): Unit[] {
  const out: Unit[] = [];
  for (const u of units) {
    const prev = out.at(-1);
    const chained =
      prev &&
      islandOf.has(prev.ids[0]!) &&
      islandOf.has(u.ids[0]!) &&
      u.inputs.length === 1 &&
      u.inputs[0] === prev.outputs[0] &&
      !units.some((o) => o !== u && o.inputs.includes(prev.outputs[0]!));
    if (!chained) {
      out.push(u);
      continue;
    }
    const ids = [...prev.ids, ...u.ids].sort((a, b) => a - b);
    const ops = ids.map((i) => graph.nodes[i]!.op);
    out[out.length - 1] = {
      ids,
      kind: islandKind(ops),
      op: islandName(ops),
      inputs: prev.inputs,
      outputs: u.outputs,
    };
  }
  return out;
}

function nodeKind(graph: OnnxGraph, shapes: GraphShapes, i: number, ins: number, outs: number): UnitKind {
  const node = graph.nodes[i]!;
  const op = node.op;
  if (WEIGHTED.has(op)) return 'weighted';
  if (POOLS.has(op)) return 'pool';
  if (LAYOUT.has(op)) return ins > 1 ? 'join' : 'layout';
  if (node.domain !== '' && node.domain !== 'ai.onnx') return ins > 1 ? 'join' : 'other';
  if (POOLS.has(op) || isGlobalReduce(shapes, i)) return 'pool';
  if (RESIZE.has(op)) return 'resize';
  if (outs > 1) return 'multi';
  if (ins > 1) return 'join';
  if (ins === 0) return 'other';
  if (NORM.has(op)) return 'norm';
  if (ACT.has(op)) return 'act';
  if (LAYOUT.has(op)) return 'layout';
  if (op === 'Pad') return 'pad';
  if (BINARY.has(op)) return 'constbin';
  return 'other';
}

/** ReduceMean/ReduceMax over H and W of a 4-D tensor: a global pool written as a reduction. */
export function isGlobalReduce(shapes: GraphShapes, i: number): boolean {
  const info = shapes.nodes[i]!;
  const op = info.node.op;
  if (op !== 'ReduceMean' && op !== 'ReduceMax') return false;
  const x = info.inShapes[0];
  const y = info.outShape;
  if (!x || x.length !== 4 || !y) return false;
  // Channels kept, every spatial dim reduced to 1 (or dropped).
  const perImage = y.slice(1).filter((d) => d !== 1);
  return perImage.length === 1 && perImage[0] === x[1] && x[2] !== 1;
}

function islandKind(ops: string[]): UnitKind {
  return ops.includes('ReduceMean') ? 'norm' : 'act';
}

/** The usual name of an activation written as several nodes. */
function islandName(ops: string[]): string {
  const has = (op: string): boolean => ops.includes(op);
  if (has('ReduceMean')) return 'layer norm';
  if (has('Erf') || (has('Tanh') && has('Pow'))) return 'gelu';
  if (has('Softplus') && has('Tanh')) return 'mish';
  if (has('HardSigmoid') || (has('Div') && (has('Clip') || has('Relu')))) return 'hardswish';
  if (has('Sigmoid')) return 'silu';
  return ops.join('·');
}

/** Shape-only nodes (Shape → Gather → Concat → Reshape target, …) join the row that uses their result. */
function attachShapeNodes(graph: OnnxGraph, units: Unit[], rows: RowDraft[], constLike: Set<string>): void {
  const rowOfNode = new Map<number, RowDraft>();
  for (const r of rows) for (const id of r.ids) rowOfNode.set(id, r);
  const inUnits = new Set(units.flatMap((u) => u.ids));
  const readers = new Map<string, number[]>();
  graph.nodes.forEach((n, i) => {
    for (const t of n.inputs) {
      const list = readers.get(t);
      if (list) list.push(i);
      else readers.set(t, [i]);
    }
  });
  // Latest first: a helper's consumer is placed (or is itself a placed helper) before the helper is.
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    if (inUnits.has(i) || rowOfNode.has(i)) continue;
    const outs = graph.nodes[i]!.outputs.filter((o) => o && constLike.has(o));
    const target = outs.flatMap((o) => readers.get(o) ?? []).find((c) => rowOfNode.has(c));
    if (target === undefined) continue;
    const row = rowOfNode.get(target)!;
    rowOfNode.set(i, row);
    row.ids.push(i);
  }
  for (const r of rows) r.ids.sort((a, b) => a - b);
}
