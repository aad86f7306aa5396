// The model's graph and layer table as the worker serves them: static shape inference at the descriptor's
// crop size, and where that cannot decide a shape (an op it does not know, a data-dependent size), the
// shapes measured by one onnxruntime run. Both `layers` and the exploration use this one table, so that
// the rows the panel shows are the rows whose activations it gets.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import type { ModelDescriptor } from '../model/descriptor';
import { withOutputs } from '../model/explorationModel';
import { readModelGraph } from '../files/onnxFile';
import { ModelFileError, type OnnxGraph } from '../model/onnxGraph';
import type { GraphShapes } from '../model/shapes';
import { analyseGraph } from '../model/structure/table';
import type { LayerTable } from '../shared/layerTable';
import { ModelError } from './session';
import { imageTensor } from './feed';

/** A model's graph and layer table, with the shapes a run measured (empty when none were needed). */
export interface ModelAnalysis {
  graph: OnnxGraph;
  table: LayerTable;
  measured: ReadonlyMap<string, number[]>;
}

/** Reads and analyses the descriptor's model; measures open shapes with one run, if there are any. */
export async function analyseModel(d: ModelDescriptor, log: (m: string) => void): Promise<ModelAnalysis> {
  let graph: OnnxGraph;
  try {
    graph = await readModelGraph(d.modelPath);
  } catch (err) {
    throw err instanceof ModelFileError ? new ModelError(err.message) : err;
  }
  const spatial: [number, number] = [d.preprocessing.crop, d.preprocessing.crop];
  const first = analyseGraph(graph, { spatial });
  if (first.shapes.unresolved.length === 0) return { graph, table: first.table, measured: new Map() };
  // One run answers every open shape at once, also those downstream of the first unknown op.
  const open = openTensors(first.shapes);
  let measured: Map<string, number[]>;
  try {
    measured = await measureShapes(d, open);
  } catch (err) {
    log(`shapes static inference left open could not be measured: ${(err as Error).message.split('\n')[0]}`);
    return { graph, table: first.table, measured: new Map() };
  }
  log(
    `measured ${measured.size} tensor shapes by a run (unknown to static inference: ${first.shapes.unresolved.join(', ')})`,
  );
  return { graph, table: analyseGraph(graph, { spatial, measured }).table, measured };
}

/** Node outputs whose shape is unknown, or has an unknown dim. */
function openTensors(shapes: GraphShapes): string[] {
  const open: string[] = [];
  for (const info of shapes.nodes) {
    info.node.outputs.forEach((name, i) => {
      const s = info.outShapes[i];
      if (name && (!s || s.includes('?'))) open.push(name);
    });
  }
  return open;
}

/**
 * Runs the model once on a zero image of the descriptor's size (batch 1) in a short-lived CPU session with
 * `tensors` as extra outputs, and returns their dims.
 */
async function measureShapes(d: ModelDescriptor, tensors: string[]): Promise<Map<string, number[]>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof Ort;
  const bytes = withOutputs(await fs.readFile(d.modelPath), tensors);
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    logSeverityLevel: 3,
    extra: {
      session: {
        // Model bytes have no folder of their own to find external data in.
        model_external_initializers_file_folder_path: path.dirname(d.modelPath),
        intra_op: { allow_spinning: '0' },
      },
    },
  });
  try {
    const crop = d.preprocessing.crop;
    const input = d.input ?? session.inputNames[0]!;
    const image = imageTensor(ort, d, new Float32Array(3 * crop * crop), 1);
    const out = await session.run({ [input]: image }, tensors);
    const dims = new Map<string, number[]>();
    for (const t of tensors) if (out[t]) dims.set(t, out[t].dims.map(Number));
    return dims;
  } finally {
    await session.release();
  }
}
