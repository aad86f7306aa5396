// One analysis of a Python model, as the CLI and the editor want it: the helper's answer, the layer table
// (full, or the rows that ran before an error) and the error, if any, in one place.
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readOnnxFile } from '../files/onnxFile';
import type { LayerTable } from '../shared/layerTable';
import type { AnalysisRequest, AnalysisResult, HelperErrorKind } from './protocol';
import { RunnerError, type PythonRunner, type RunnerErrorKind } from './runner';
import { callsTable, exportTable } from './tables';

/** Why an analysis failed, at the innermost line of the user's files where one is known. */
export interface PythonModelError {
  kind: HelperErrorKind | RunnerErrorKind;
  message: string;
  file: string | null;
  line: number | null;
  /** A failed forward: the path of the module that was running. */
  module: string | null;
}

/** The outcome of one analysis. */
export interface PythonAnalysis {
  /** The table of the export; after a failed forward or export, the rows that ran; null when none did. */
  table: LayerTable | null;
  /** The helper's answer; null when the helper itself could not run (no Python, crash, time limit). */
  result: AnalysisResult | null;
  error: PythonModelError | null;
}

const nowhere = { file: null, line: null, module: null };

/**
 * Analyses `request`'s class with `runner`: exports it to a temporary ONNX file, reads that through the
 * same structure and cost code as any model, and deletes it. Rejects only when `signal` aborts.
 */
export async function analysePython(
  runner: PythonRunner,
  request: Omit<AnalysisRequest, 'onnx'>,
  signal?: AbortSignal,
): Promise<PythonAnalysis> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'cnn-lens-py-'));
  try {
    let result: AnalysisResult;
    try {
      result = await runner.analyse({ ...request, onnx: path.join(dir, 'model.onnx') }, signal);
    } catch (err) {
      if (!(err instanceof RunnerError)) throw err;
      return { table: null, result: null, error: { kind: err.kind, message: err.message, ...nowhere } };
    }
    if (!result.ok || !result.onnx) return { table: callsTable(result), result, error: result.error };
    return { table: exportTable(await readOnnxFile(result.onnx), result), result, error: null };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
