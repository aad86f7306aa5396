// fp32 against int8 for one image, layer by layer: both exploration models run on the CPU and every
// layer-table row's output is compared (SQNR and cosine), so that the rows where the error grows show.
import type { LayerRow, LayerTable } from '../shared/layerTable';
import { cosine, JUMP_DB, sqnrDb, type QuantizationReport, type QuantizedRow } from '../shared/quantization';
import type { Explorer } from './exploration';
import { topK } from './postprocess';
import { ModelError } from './session';

// Rows beside the main path: their SQNR is not compared with the row before them.
const SIDE_ROLES = new Set<LayerRow['role']>(['projection', 'se', 'branch']);

/** The two precisions' explorers (CPU) and the float model's table, whose rows name the comparison's. */
export interface QuantCompareInput {
  fp32: Explorer;
  int8: Explorer;
  table: LayerTable;
  labels: readonly string[];
}

/** Runs one image through both exploration models and compares every row's output. */
export async function compareQuantized(
  x: QuantCompareInput,
  bytes: Uint8Array,
  k: number,
): Promise<QuantizationReport> {
  const started = performance.now();
  const a = await x.fp32.rowOutputs(bytes);
  const b = await x.int8.rowOutputs(bytes);
  if (a.precision !== 'fp32' || b.precision !== 'int8') {
    throw new ModelError(
      'this model file is quantized already: open its float model to compare fp32 with int8',
    );
  }
  return {
    rows: compareRows(x.table, a.rows, b.rows),
    top_fp32: topK(a.probabilities, k, x.labels),
    top_int8: topK(b.probabilities, k, x.labels),
    provider: a.provider,
    ms: { fp32: a.runMs, int8: b.runMs, total: performance.now() - started },
  };
}

/** Row by row in table order; rows of the int8 model's table the float one lacks come last. */
export function compareRows(
  table: LayerTable,
  fp32: ReadonlyMap<string, Float32Array>,
  int8: ReadonlyMap<string, Float32Array>,
): QuantizedRow[] {
  const out: QuantizedRow[] = [];
  let previous: number | null = null;
  for (const row of table.rows) {
    const x = fp32.get(row.name);
    const y = int8.get(row.name);
    if (!x || !y) {
      out.push({ name: row.name, sqnr_db: null, cosine: null, jump: false, missing: x ? 'int8' : 'fp32' });
      continue;
    }
    if (x.length !== y.length) {
      throw new Error(`layer "${row.name}": fp32 output has ${x.length} values, int8 ${y.length}`);
    }
    const sqnr = sqnrDb(x, y);
    const main = !SIDE_ROLES.has(row.role);
    // Identical outputs (null) have no error to jump from or to.
    const jump = main && sqnr !== null && previous !== null && previous - sqnr > JUMP_DB;
    if (main && sqnr !== null) previous = sqnr;
    out.push({ name: row.name, sqnr_db: sqnr, cosine: cosine(x, y), jump });
  }
  const named = new Set(table.rows.map((r) => r.name));
  for (const name of int8.keys()) {
    if (!named.has(name)) out.push({ name, sqnr_db: null, cosine: null, jump: false, missing: 'fp32' });
  }
  return out;
}
