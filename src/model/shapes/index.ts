// Static shape inference over an OnnxGraph: every tensor's shape from the graph input, with the small
// shape tensors exporters compute at run time folded to values on the way. A node whose shape cannot be
// decided gets an error (a root cause, listed in `warnings` and `unresolved`) and the nodes downstream of
// it are `blocked`; nothing here throws for a bad graph.
import type { Dim, OnnxGraph, OnnxNode } from '../onnxGraph';
import { shapeText } from '../../shared/format';
import { axesOf, layoutOf } from '../imageLayout';
import { OpContext, tensorValues } from './context';
import { UNKNOWN } from './dims';
import { castElem, FOLDERS } from './fold';
import { MS_RULES, outputTypes, RULES } from './ops';
import { smallNumeric } from './tensor';
import type { GraphShapes, NodeInfo, Shape, ShapeOptions, Value } from './types';

export type { GraphShapes, NodeInfo, Shape, ShapeOptions, Value, Window } from './types';
export { broadcast, perImage } from './dims';
export { windowOutput } from './window';

// Graphs that declare no default opset are read with the newest rules.
const LATEST_OPSET = 21;
// Tensors up to this many elements are folded to values.
const MAX_FOLDED = 1024;

interface Tables {
  shapes: Map<string, Shape>;
  values: Map<string, Value>;
  types: Map<string, number>;
}

/** Infers every tensor's shape (and folds small shape tensors) from the graph input. */
export function inferShapes(graph: OnnxGraph, opts: ShapeOptions = {}): GraphShapes {
  const opset = graph.opset || LATEST_OPSET;
  const t: Tables = { shapes: new Map(), values: new Map(), types: new Map() };
  for (const init of graph.initializers.values()) {
    t.shapes.set(init.name, [...init.dims]);
    t.types.set(init.name, init.dataType);
    const v = tensorValues(init);
    if (v && v.length <= MAX_FOLDED) t.values.set(init.name, v);
  }
  const assumed = setInputs(graph, opts, t);
  // A measuring run feeds one image: its batch axis of 1 is the graph's symbolic batch.
  const image = graph.inputs.find((i) => i.shape?.length === 4) ?? graph.inputs[0];
  const first = image ? t.shapes.get(image.name)?.[0] : undefined;
  const batch = typeof first === 'string' ? first : undefined;
  const nodes: NodeInfo[] = [];
  const warnings: string[] = [];
  const unresolved: string[] = [];
  for (const node of graph.nodes) {
    const info = inferNode(node, opset, t, opts.measured, batch);
    if (info.error && !info.blocked) {
      warnings.push(`${node.name || node.op}: ${info.error}`);
      if (!info.outShape && node.outputs[0]) unresolved.push(node.outputs[0]);
    }
    nodes.push(info);
  }
  return { nodes, shapes: t.shapes, values: t.values, warnings, assumed, unresolved };
}

function inferNode(
  node: OnnxNode,
  opset: number,
  t: Tables,
  measured: ReadonlyMap<string, number[]> | undefined,
  batch: string | undefined,
): NodeInfo {
  const inShapes = node.inputs.map((n) => (n === '' ? null : (t.shapes.get(n) ?? null)));
  const info: NodeInfo = { node, inShapes, outShapes: node.outputs.map(() => null), outShape: null };
  const values = node.inputs.map((n) => t.values.get(n));
  const c = new OpContext(
    node,
    opset,
    info,
    values,
    node.inputs.map((n) => t.types.get(n) ?? 0),
  );
  let folded: (Value | undefined)[] = [];
  let types: number[] = [];
  try {
    types = outputTypes(c);
    const out = shapesOf(c, t);
    info.outShapes = node.outputs.map((_, i) => out[i] ?? null);
    const folder = FOLDERS[node.op];
    if (folder) {
      const small = info.outShapes.map((s) => (smallNumeric(s, MAX_FOLDED) ? s : undefined));
      folded = folder(c, small) ?? [];
      folded = folded.map((v, i) => (v && v.length === product(small[i]) ? v : undefined));
    }
  } catch (err) {
    info.outShapes = node.outputs.map(() => null);
    info.error = err instanceof Error ? err.message : String(err);
    folded = [];
  }
  if (measured) useMeasured(info, measured, batch);
  info.outShape = info.outShapes[0] ?? null;
  node.outputs.forEach((o, i) => {
    if (!o) return;
    t.shapes.set(o, info.outShapes[i] ?? null);
    const type = types[i] ?? 0;
    if (type) t.types.set(o, type);
    const v = folded[i];
    if (v)
      t.values.set(
        o,
        v.map((e) => castElem(e, type)),
      );
  });
  return info;
}

function shapesOf(c: OpContext, t: Tables): Shape[] {
  const { node } = c;
  const microsoft = node.domain === 'com.microsoft';
  if (node.domain !== '' && node.domain !== 'ai.onnx' && !microsoft) {
    throw new Error(`unsupported op ${node.op} (domain ${node.domain})`);
  }
  const rule = microsoft ? MS_RULES[node.op] : RULES[node.op];
  if (!rule && microsoft) throw new Error(`unsupported op ${node.op} (domain ${node.domain})`);
  if (!rule) throw new Error(`unsupported op ${node.op}`);
  const missing = node.inputs.find((n) => n !== '' && !t.shapes.has(n));
  if (missing !== undefined) throw new Error(`input '${missing}' is not produced by any node or initializer`);
  const unknown = node.inputs.find((n, i) => n !== '' && !c.info.inShapes[i]);
  if (unknown !== undefined) {
    c.info.blocked = true;
    throw new Error(`shape of input '${unknown}' unknown`);
  }
  return rule(c);
}

// Fills what static inference left open (null shapes, '?' dims) from a measuring run.
function useMeasured(
  info: NodeInfo,
  measured: ReadonlyMap<string, number[]>,
  batch: string | undefined,
): void {
  let used = false;
  info.outShapes = info.outShapes.map((s, i) => {
    const m = measured.get(info.node.outputs[i] ?? '');
    if (!m) return s;
    if (s === null) {
      used = true;
      return batch !== undefined && m.length >= 2 && m[0] === 1 ? [batch, ...m.slice(1)] : [...m];
    }
    if (s.length !== m.length || !s.includes(UNKNOWN)) return s;
    used = true;
    return s.map((d, k) => (d === UNKNOWN ? m[k]! : d));
  });
  if (!used) return;
  info.measured = true;
  if (info.outShapes[0]) {
    delete info.error;
    delete info.blocked;
  }
}

function product(s: number[] | undefined): number {
  return s ? s.reduce((a, b) => a * b, 1) : -1;
}

/**
 * Sets the graph inputs' shapes: the image input's symbolic batch becomes `opts.batch` and its symbolic
 * height and width `opts.spatial`, everywhere the same symbols appear. Returns what was assumed.
 */
function setInputs(graph: OnnxGraph, opts: ShapeOptions, t: Tables): string | null {
  const batch = opts.batch ?? 'N';
  const [height, width] = opts.spatial ?? [224, 224];
  const image = graph.inputs.find((i) => i.shape?.length === 4) ?? graph.inputs[0];
  const rename = new Map<string, Dim>();
  let assumed: string | null = null;
  let imageShape: Shape = null;
  if (image?.shape) {
    const s = [...image.shape];
    const name = `input "${image.name}"`;
    const sym = (d: Dim | undefined): d is string => typeof d === 'string';
    const swap = (i: number, to: Dim): void => {
      if (s[i] !== UNKNOWN) rename.set(s[i] as string, to);
      s[i] = to;
    };
    if (sym(s[0])) swap(0, batch);
    const axes = s.length === 4 ? axesOf(layoutOf(s)) : undefined;
    if (axes && !sym(s[axes.c])) {
      const [h, w] = [sym(s[axes.h]), sym(s[axes.w])];
      if (h) swap(axes.h, height);
      if (w) swap(axes.w, width);
      if (h && w) assumed = `${name} has symbolic height and width; assumed ${height}×${width}`;
      else if (h) assumed = `${name} has a symbolic height; assumed ${height}`;
      else if (w) assumed = `${name} has a symbolic width; assumed ${width}`;
    } else if (s.length === 4) {
      assumed = `${name} has an unknown channel count (${shapeText(image.shape)}); its size is left as it is`;
    } else if (s.slice(1).some(sym)) {
      assumed = `${name} is ${s.length}-D with symbolic dims (${shapeText(image.shape)}); they are left symbolic`;
    }
    imageShape = s;
  } else if (image) {
    assumed = `input "${image.name}" has no shape; nothing downstream of it can be inferred`;
  }
  for (const input of graph.inputs) {
    const s =
      input === image
        ? imageShape
        : (input.shape?.map((d) => (typeof d === 'string' ? (rename.get(d) ?? d) : d)) ?? null);
    t.shapes.set(input.name, s);
    if (input.elemType) t.types.set(input.name, input.elemType);
  }
  return assumed;
}
