// Reads onnxruntime's profile (Chrome trace JSON) and attributes each kernel to a layer-table row. After graph
// optimisation onnxruntime names fused kernels after one of the nodes or tensors they came from plus a suffix
// ('activation_nchwc', 'res2a_branch2a_token_2', '/features.1/Clip_output_0_nchwc', 'node_silu/QuickGeluFusion/'):
// the name without the suffix is a node or a tensor of the original graph, and so belongs to a row.
import type { LayerTable } from '../shared/layerTable';
import type { Profile, TimedRow, UntimedKernel } from '../shared/profile';
import type { Precision } from '../shared/quantization';
import type { OnnxGraph } from './onnxGraph';

/** One kernel execution from the trace. */
export interface KernelEvent {
  kernel: string;
  op: string;
  provider: string;
  /** Microseconds. */
  dur: number;
  /** Index of the run it belongs to. */
  run: number;
}

/** A parsed trace: kernel events and each run's duration in microseconds. */
export interface Trace {
  events: KernelEvent[];
  runs: number[];
}

// Suffixes onnxruntime appends to the names of the nodes it rewrites.
const SUFFIXES = [/_kernel_time$/, /_nchwc$/, /_token_\d+$/, /\/[A-Za-z0-9]*Fusion\/?$/, /_fused$/];

/** Parses the trace onnxruntime writes with `enableProfiling`; only `model_run` windows and kernel times count. */
export function parseTrace(trace: unknown): Trace {
  if (!Array.isArray(trace)) throw new Error('the profile is not a JSON array of trace events');
  type Raw = {
    cat?: string;
    name?: string;
    ts?: number;
    dur?: number;
    args?: { op_name?: string; provider?: string };
  };
  const all = trace as Raw[];
  const windows = all
    .filter((e) => e.cat === 'Session' && e.name === 'model_run')
    .map((e) => [e.ts ?? 0, (e.ts ?? 0) + (e.dur ?? 0)] as const)
    .sort((a, b) => a[0] - b[0]);
  const events: KernelEvent[] = [];
  for (const e of all) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time')) continue;
    const ts = e.ts ?? 0;
    const run = windows.findIndex(([a, b]) => ts >= a && ts <= b);
    if (run < 0) continue;
    events.push({
      kernel: e.name.slice(0, -'_kernel_time'.length),
      op: e.args?.op_name ?? '?',
      provider: e.args?.provider ?? '?',
      dur: e.dur ?? 0,
      run,
    });
  }
  return { events, runs: windows.map(([a, b]) => b - a) };
}

/** What the profile is of, besides the trace. */
export interface ProfileContext {
  model: string;
  provider: string;
  precision: Precision;
  batch: number;
  plainMs: number;
  peakGflops: number;
}

/** Attributes kernel times to rows, blocks and stages (medians over runs). */
export function attribute(trace: Trace, table: LayerTable, graph: OnnxGraph, ctx: ProfileContext): Profile {
  const rowOf = new Map<string, number>();
  table.rows.forEach((r, i) => {
    for (const n of r.onnx_nodes) rowOf.set(n, i);
  });
  for (const node of graph.nodes) {
    const i = rowOf.get(node.name || node.op);
    if (i !== undefined) for (const o of node.outputs) if (!rowOf.has(o)) rowOf.set(o, i);
  }
  const place = (kernel: string): number | undefined => {
    let name = kernel;
    for (let guard = 0; guard < 6; guard++) {
      const hit = rowOf.get(name);
      if (hit !== undefined) return hit;
      const next = SUFFIXES.reduce((n, re) => n.replace(re, ''), name);
      if (next === name) return undefined;
      name = next;
    }
    return undefined;
  };
  const runs = trace.runs.length;
  const perRow = table.rows.map(() => new Float64Array(runs));
  const kernels = table.rows.map(() => new Set<string>());
  const providers = table.rows.map(() => new Set<string>());
  const other = new Map<string, { op: string; times: Float64Array }>();
  for (const e of trace.events) {
    const i = place(e.kernel);
    if (i === undefined) {
      const o = other.get(e.kernel) ?? { op: e.op, times: new Float64Array(runs) };
      o.times[e.run]! += e.dur;
      other.set(e.kernel, o);
      continue;
    }
    perRow[i]![e.run]! += e.dur;
    kernels[i]!.add(e.kernel);
    providers[i]!.add(e.provider);
  }
  const total = median(Float64Array.from(trace.runs)) / 1000;
  const gpu = !/^cpu/i.test(ctx.provider);
  const timed = (
    name: string,
    stage: string | null,
    block: string | null,
    members: number[],
    macs: number,
  ): TimedRow => {
    const series = new Float64Array(runs);
    for (const i of members) for (let r = 0; r < runs; r++) series[r]! += perRow[i]![r]!;
    const ms = median(series) / 1000;
    const provs = new Set(members.flatMap((i) => [...providers[i]!]));
    const provider = provs.size === 0 ? '-' : provs.size === 1 ? [...provs][0]! : 'mixed';
    return {
      name,
      stage,
      block,
      ms,
      share: total > 0 ? ms / total : 0,
      gflops: macs > 0 && ms > 0 ? (2 * macs * ctx.batch) / (ms / 1000) / 1e9 : null,
      provider,
      fallback: gpu && [...provs].some((p) => /^CPU/i.test(p)),
      kernels: members.flatMap((i) => [...kernels[i]!]),
    };
  };
  const rows = table.rows.map((r, i) => timed(r.name, r.stage, r.block, [i], r.macs));
  const group = (key: (i: number) => string | null): TimedRow[] => {
    const names = [...new Set(table.rows.map((_, i) => key(i)).filter((k): k is string => k !== null))];
    return names.map((name) => {
      const members = table.rows.map((_, i) => i).filter((i) => key(i) === name);
      const first = table.rows[members[0]!]!;
      const macs = members.reduce((s, i) => s + table.rows[i]!.macs, 0);
      return timed(name, first.stage, key === blockKey ? name : null, members, macs);
    });
  };
  const blockKey = (i: number): string | null => table.rows[i]!.block;
  const stageKey = (i: number): string | null => table.rows[i]!.stage;
  const untimed: UntimedKernel[] = [...other].map(([name, o]) => ({
    name,
    op: o.op,
    ms: median(o.times) / 1000,
  }));
  return {
    model: ctx.model,
    provider: ctx.provider,
    precision: ctx.precision,
    batch: ctx.batch,
    runs,
    ms: total,
    plain_ms: ctx.plainMs,
    peak_gflops: ctx.peakGflops,
    rows,
    blocks: group(blockKey),
    stages: group(stageKey),
    other: untimed.sort((a, b) => b.ms - a.ms),
  };
}

function median(xs: Float64Array): number {
  if (xs.length === 0) return 0;
  const s = Array.from(xs).sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
