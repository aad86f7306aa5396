// The layer table of a Python model: from its ONNX export through the same structure and cost code as any
// model, with each row's source line; or, when the forward pass failed, the modules that ran, from hooks.
import type { OnnxGraph } from '../model/onnxGraph';
import { buildLayerTable } from '../model/structure/table';
import type { LayerRow, LayerTable } from '../shared/layerTable';
import type { AnalysisResult, CallRecord, ModuleRecord } from './protocol';
import { attachSources } from './sources';

/** The table of the exported graph, named after the class, with source lines and the helper's notes. */
export function exportTable(graph: OnnxGraph, result: AnalysisResult): LayerTable {
  const table = buildLayerTable(graph);
  attachSources(table, result.modules);
  table.model.name = result.class ?? table.model.name;
  table.model.producer = `PyTorch ${result.versions.torch ?? ''}`.trim();
  table.warnings.push(...result.notes);
  return table;
}

/**
 * The rows that ran before a failure: every call of a module without children in the order the calls
 * started, and the module that failed (its out_shape null, `unknown` saying why). Without the export there
 * are no ONNX nodes, stages, blocks or multiply-adds. Null when no module ran.
 */
export function callsTable(result: AnalysisResult): LayerTable | null {
  const modules = new Map(result.modules.map((m) => [m.path, m]));
  const error = result.error;
  const failedAt = error?.kind === 'forward' ? error.module : null;
  const seen = new Set<string>();
  const rows: LayerRow[] = [];
  result.calls.forEach((call, i) => {
    const module = modules.get(call.path);
    // The failed call is the last call of its module that never finished.
    const failed = call.path === failedAt && call.out_shape === null && !laterCall(result.calls, i);
    if (!module || (!module.leaf && !failed) || call.path === '') return;
    const first = !seen.has(call.path);
    seen.add(call.path);
    rows.push(callRow(call, module, first, failed ? `failed here: ${error?.message ?? ''}` : null));
  });
  if (rows.length === 0) return null;
  const params = rows.reduce((n, r) => n + r.params, 0);
  const weighted = rows.filter((r) => r.counted).length;
  return {
    family: 'CNN',
    depth: String(weighted),
    note:
      'The modules that ran before the error, from PyTorch forward hooks: without an export there are no stages, ' +
      'blocks or multiply-adds.',
    model: {
      name: result.class ?? '',
      producer: `PyTorch ${result.versions.torch ?? ''}`.trim(),
      opset: 0,
      input: result.input ? { name: 'input', shape: result.input } : null,
      output: null,
      assumed: null,
    },
    rows,
    stages: [],
    blocks: [],
    totals: {
      params,
      buffers: 0,
      constants: 0,
      macs: 0,
      counted: weighted,
      rows: rows.length,
      projections: 0,
      shared: rows.filter((r) => r.shared.length > 0).length,
      measured: 0,
    },
    warnings: [...(error ? [error.message] : []), ...result.notes],
  };
}

/** Whether module `calls[i].path` is called again after call i (a shared module's earlier call). */
function laterCall(calls: readonly CallRecord[], i: number): boolean {
  return calls.slice(i + 1).some((c) => c.path === calls[i]!.path);
}

/** A row for one call; a module called again keeps its parameters on its first row. */
function callRow(call: CallRecord, module: ModuleRecord, first: boolean, unknown: string | null): LayerRow {
  const channels = (s: number[] | null): number | null => (s && s.length >= 2 ? s[1]! : null);
  return {
    stage: null,
    block: null,
    name: call.path,
    op: call.type,
    onnx_nodes: [],
    onnx_ops: [],
    kernel: null,
    stride: null,
    pads: null,
    dilations: null,
    group: null,
    in_shape: call.in_shape,
    out_shape: call.out_shape,
    in_channels: channels(call.in_shape),
    out_channels: channels(call.out_shape),
    channels_last: false,
    params: first ? module.params : 0,
    buffers: 0,
    folded_params: 0,
    macs: 0,
    // Weighted layers, as the depth counts them: normalisation has parameters but is no layer of its own.
    counted: module.params > 0 && !/Norm/.test(module.type),
    role: 'other',
    activation: null,
    downsample: false,
    output: call.path,
    shared: first ? [] : [call.path],
    measured: false,
    unknown,
    receptive_field: null,
    effective_stride: null,
    rf_center: null,
    ...(module.source && { source: { ...module.source, module: call.path } }),
  };
}
